package dev.recur.models.data;

import java.util.Locale;

/**
 * An affine map {@code x -> (x - shift) / scale} fitted on training values, and its inverse.
 *
 * <p>{@link Kind#MIN_MAX}: shift = min, scale = max - min, so training values land in [0, 1].
 * {@link Kind#Z_SCORE}: shift = mean, scale = population standard deviation, so training values
 * have mean 0 and variance 1. When the training values are all equal, the scale would be 0; it
 * is 1 instead (the map only shifts). {@link Kind#NONE}: shift 0, scale 1.
 *
 * <p>Fit it on the training part only, so nothing of the test part leaks into training, and
 * store it in the checkpoint ({@link #toStorageString()}) to turn predictions back into the
 * data's units. Immutable.
 */
public final class Normalization {

    /** How the map is fitted. */
    public enum Kind {
        /** To [0, 1] over the training values. */
        MIN_MAX("min-max"),
        /** To mean 0, standard deviation 1 over the training values. */
        Z_SCORE("z-score"),
        /** The identity. */
        NONE("none");

        private final String id;

        Kind(String id) {
            this.id = id;
        }

        /** The name used on the command line and in storage: {@code min-max}, {@code z-score}, {@code none}. */
        public String id() {
            return id;
        }

        /**
         * The kind of an {@link #id()}.
         *
         * @throws IllegalArgumentException naming the choices
         */
        public static Kind of(String id) {
            for (Kind k : values()) {
                if (k.id.equals(id)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown normalisation '" + id + "'; choose min-max, z-score or none");
        }
    }

    private final Kind kind;
    private final double shift;
    private final double scale;

    private Normalization(Kind kind, double shift, double scale) {
        this.kind = kind;
        this.shift = shift;
        this.scale = scale;
    }

    /**
     * Fits on {@code values[from, to)}.
     *
     * @throws IllegalArgumentException for an empty range
     */
    public static Normalization fit(Kind kind, double[] values, int from, int to) {
        if (from < 0 || to > values.length || to <= from) {
            throw new IllegalArgumentException("cannot fit on values [" + from + ", " + to + ") of " + values.length);
        }
        return switch (kind) {
            case NONE -> new Normalization(kind, 0, 1);
            case MIN_MAX -> {
                double min = Double.POSITIVE_INFINITY;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    min = Math.min(min, values[i]);
                    max = Math.max(max, values[i]);
                }
                yield new Normalization(kind, min, max > min ? max - min : 1);
            }
            case Z_SCORE -> {
                double sum = 0;
                for (int i = from; i < to; i++) {
                    sum += values[i];
                }
                double mean = sum / (to - from);
                double sq = 0;
                for (int i = from; i < to; i++) {
                    sq += (values[i] - mean) * (values[i] - mean);
                }
                double std = Math.sqrt(sq / (to - from));
                yield new Normalization(kind, mean, std > 0 ? std : 1);
            }
        };
    }

    /**
     * The map {@link #toStorageString()} wrote.
     *
     * @throws IllegalArgumentException when malformed
     */
    public static Normalization fromStorageString(String stored) {
        String[] parts = stored.split(" ");
        try {
            if (parts.length == 3 && parts[1].startsWith("shift=") && parts[2].startsWith("scale=")) {
                double shift = Double.parseDouble(parts[1].substring(6));
                double scale = Double.parseDouble(parts[2].substring(6));
                if (Double.isFinite(shift) && Double.isFinite(scale) && scale > 0) {
                    return new Normalization(Kind.of(parts[0]), shift, scale);
                }
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("malformed normalisation '" + stored + "', expected '<kind> shift=<x> scale=<y>'");
    }

    /** {@code "<kind> shift=<x> scale=<y>"}, the doubles written so that they read back exactly. */
    public String toStorageString() {
        return kind.id + " shift=" + shift + " scale=" + scale;
    }

    public Kind kind() {
        return kind;
    }

    /** Subtracted first. */
    public double shift() {
        return shift;
    }

    /** Divided by second; never 0. */
    public double scale() {
        return scale;
    }

    /** {@code (x - shift) / scale}. */
    public double apply(double x) {
        return (x - shift) / scale;
    }

    /** {@code y * scale + shift}, the inverse of {@link #apply}. */
    public double invert(double y) {
        return y * scale + shift;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Normalization{%s, shift=%s, scale=%s}", kind.id, shift, scale);
    }
}
