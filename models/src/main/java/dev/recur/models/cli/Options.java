package dev.recur.models.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options and positional arguments of one subcommand, parsed against a declaration:
 * <pre>{@code
 * Options o = Options.declare().flag("--verbose").value("--hidden").parse(args);
 * int hidden = o.intValue("--hidden", 512);
 * }</pre>
 * Accepted forms: {@code --name}, {@code --name VALUE}, {@code --name=VALUE}; {@code --} ends the
 * options. Anything undeclared that starts with {@code -} is an unknown option. Every problem is
 * a {@link UsageException} naming the argument. Immutable once parsed.
 */
public final class Options {

    /** The declared options of a subcommand: which are flags and which take a value. */
    public static final class Declaration {
        private final Map<String, Boolean> takesValue = new LinkedHashMap<>();

        private Declaration() {
        }

        /** Declares an option without a value, e.g. {@code --verbose}. */
        public Declaration flag(String name) {
            return add(name, false);
        }

        /** Declares an option with a value, e.g. {@code --hidden 512}. */
        public Declaration value(String name) {
            return add(name, true);
        }

        private Declaration add(String name, boolean value) {
            if (!name.startsWith("-") || name.contains("=")) {
                throw new IllegalArgumentException("option name must start with '-' and hold no '=': " + name);
            }
            if (takesValue.putIfAbsent(name, value) != null) {
                throw new IllegalArgumentException("option declared twice: " + name);
            }
            return this;
        }

        /**
         * Parses {@code args}.
         *
         * @throws UsageException on an unknown option, a missing value, a value given to a flag,
         *                        or an option given twice
         */
        public Options parse(List<String> args) {
            Map<String, String> values = new LinkedHashMap<>();
            List<String> positional = new ArrayList<>();
            boolean optionsEnded = false;
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                    positional.add(arg);
                    continue;
                }
                if (arg.equals("--")) {
                    optionsEnded = true;
                    continue;
                }
                int eq = arg.indexOf('=');
                String name = eq < 0 ? arg : arg.substring(0, eq);
                Boolean hasValue = takesValue.get(name);
                if (hasValue == null) {
                    throw new UsageException("unknown option '" + name + "'");
                }
                String value;
                if (!hasValue) {
                    if (eq >= 0) {
                        throw new UsageException("option '" + name + "' takes no value, got '" + arg.substring(eq + 1) + "'");
                    }
                    value = "";
                } else if (eq >= 0) {
                    value = arg.substring(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new UsageException("option '" + name + "' needs a value");
                }
                if (values.put(name, value) != null) {
                    throw new UsageException("option '" + name + "' given twice");
                }
            }
            return new Options(values, positional);
        }
    }

    private final Map<String, String> values; // flag -> "", valued option -> its value
    private final List<String> positional;

    private Options(Map<String, String> values, List<String> positional) {
        this.values = Collections.unmodifiableMap(values);
        this.positional = List.copyOf(positional);
    }

    /** Starts a declaration. */
    public static Declaration declare() {
        return new Declaration();
    }

    /** Whether the option was given. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** The option's value, or {@code fallback} when it was not given. */
    public String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /**
     * The option's value as an int, or {@code fallback} when it was not given.
     *
     * @throws UsageException when the value is not an integer
     */
    public int intValue(String name, int fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option '" + name + "' needs an integer, got '" + v + "'");
        }
    }

    /**
     * The option's value as a finite float, or {@code fallback} when it was not given.
     *
     * @throws UsageException when the value is not a finite number
     */
    public float floatValue(String name, float fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            float f = Float.parseFloat(v.trim());
            if (Float.isFinite(f)) {
                return f;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new UsageException("option '" + name + "' needs a number, got '" + v + "'");
    }

    /**
     * The option's value as a long, or {@code fallback} when it was not given.
     *
     * @throws UsageException when the value is not an integer
     */
    public long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option '" + name + "' needs an integer, got '" + v + "'");
        }
    }

    /** The arguments that are not options, in order. */
    public List<String> positional() {
        return positional;
    }

    /**
     * Fails unless there are no positional arguments, for subcommands that take none.
     *
     * @throws UsageException naming the first unexpected argument
     */
    public Options noPositional() {
        if (!positional.isEmpty()) {
            throw new UsageException("unexpected argument '" + positional.get(0) + "'");
        }
        return this;
    }

    @Override
    public String toString() {
        return "Options" + values + " positional=" + positional;
    }
}
