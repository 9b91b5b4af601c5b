package dev.recur.models.io;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads fields of the flat JSON objects that the model configurations write into checkpoints
 * (no nesting, no escapes). Each method throws {@link IllegalArgumentException} naming the
 * field when it is missing or of the wrong kind.
 */
public final class FlatJson {

    private FlatJson() {
    }

    public static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalArgumentException("model configuration: no string field '" + key + "' in " + json);
        }
        return m.group(1);
    }

    public static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?[0-9.eE+-]+)").matcher(json);
        if (!m.find()) {
            throw new IllegalArgumentException("model configuration: no number field '" + key + "' in " + json);
        }
        try {
            return Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model configuration: field '" + key + "' is not a number: " + m.group(1));
        }
    }

    public static int integer(String json, String key) {
        double v = number(json, key);
        if (v != Math.rint(v)) {
            throw new IllegalArgumentException("model configuration: field '" + key + "' must be a whole number, got " + v);
        }
        return (int) v;
    }
}
