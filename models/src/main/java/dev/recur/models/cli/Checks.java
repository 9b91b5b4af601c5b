package dev.recur.models.cli;

import dev.recur.api.Cell;
import dev.recur.models.nn.Optimizer;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The checks of option values, as picocli converters: an option names its check once, beside its
 * default, e.g. {@code @Option(names = "--hidden", defaultValue = "128", converter = Checks.Size.class)}.
 * A refused value reads {@code "invalid value for option '--hidden': must be between 1 and 16384, got 0"}.
 */
public final class Checks {

    /** The largest layer width, embedding or vocabulary an option may ask for. */
    public static final int MAX_SIZE = 16384;

    private Checks() {
    }

    private static int integer(String s) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("not an integer: '" + s + "'");
        }
    }

    private static int atLeast(String s, int min) {
        int v = integer(s);
        if (v < min) {
            throw new TypeConversionException("must be >= " + min + ", got " + v);
        }
        return v;
    }

    private static int between(String s, int min, int max) {
        int v = integer(s);
        if (v < min || v > max) {
            throw new TypeConversionException("must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    private static float number(String s) {
        try {
            float f = Float.parseFloat(s.strip());
            if (Float.isFinite(f)) {
                return f;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new TypeConversionException("not a finite number: '" + s + "'");
    }

    /** An integer >= 1 (steps, epochs, batch, every-N settings that cannot be 0). */
    public static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return atLeast(value, 1);
        }
    }

    /** An integer >= 0 (0 usually meaning "never" or "off"). */
    public static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return atLeast(value, 0);
        }
    }

    /** A width, an embedding size, a layer count: 1 to {@link #MAX_SIZE}. */
    public static final class Size implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return between(value, 1, MAX_SIZE);
        }
    }

    /** A length of generated text: 1 to 10,000,000. */
    public static final class Length implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return between(value, 1, 10_000_000);
        }
    }

    /** A finite number > 0 (a learning rate, a temperature). */
    public static final class PositiveNumber implements ITypeConverter<Float> {
        @Override
        public Float convert(String value) {
            float v = number(value);
            if (!(v > 0f)) {
                throw new TypeConversionException("must be > 0, got " + value.strip());
            }
            return v;
        }
    }

    /** A finite number >= 0 (a clipping norm, 0 = off). */
    public static final class NonNegativeNumber implements ITypeConverter<Float> {
        @Override
        public Float convert(String value) {
            float v = number(value);
            if (v < 0f) {
                throw new TypeConversionException("must be >= 0, got " + value.strip());
            }
            return v;
        }
    }

    /** A dropout probability, in [0, 1). */
    public static final class Dropout implements ITypeConverter<Float> {
        @Override
        public Float convert(String value) {
            float v = number(value);
            if (!(v >= 0f && v < 1f)) {
                throw new TypeConversionException("must be in [0, 1), got " + value.strip());
            }
            return v;
        }
    }

    /** A share of the data, in (0, 1). */
    public static final class Fraction implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            float v = number(value);
            if (!(v > 0f && v < 1f)) {
                throw new TypeConversionException("must be between 0 and 1 (exclusive), got " + value.strip());
            }
            return (double) v;
        }
    }

    /** A cell by its id: lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu. */
    public static final class CellName implements ITypeConverter<Cell> {
        @Override
        public Cell convert(String value) {
            try {
                return Cell.byId(value.strip().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** An optimizer by name: sgd, rmsprop, adam, adamw. */
    public static final class OptimizerName implements ITypeConverter<Optimizer.Kind> {
        @Override
        public Optimizer.Kind convert(String value) {
            try {
                return Optimizer.kind(value.strip());
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A file name. */
    public static final class FileName implements ITypeConverter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                throw new TypeConversionException("an empty file name");
            }
            try {
                return Path.of(value);
            } catch (InvalidPathException e) {
                throw new TypeConversionException("not a file name: " + e.getMessage());
            }
        }
    }
}
