package dev.recur.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One flat JSON object on one line, fields in the order they were put: what {@code recur bench}
 * prints per measurement, so that {@code jq} or a spreadsheet can read a run. Doubles are
 * written with {@link #DIGITS} significant digits in plain notation (a tiny shape's 0.000123
 * GFLOP/s keeps its digits, a big one's 1234.57 ms drops noise); numbers that are not finite are
 * written as {@code null} (JSON has no NaN).
 */
public final class JsonLine {

    /** Significant digits of a double: more than any timing here can claim. */
    public static final int DIGITS = 6;

    private final Map<String, Object> fields = new LinkedHashMap<>();

    public JsonLine put(String key, String value) {
        fields.put(key, value);
        return this;
    }

    public JsonLine put(String key, long value) {
        fields.put(key, value);
        return this;
    }

    public JsonLine put(String key, boolean value) {
        fields.put(key, value);
        return this;
    }

    /** A double, written with {@link #DIGITS} significant digits; null when it is not finite. */
    public JsonLine put(String key, double value) {
        fields.put(key, Double.isFinite(value) ? new Rounded(value) : null);
        return this;
    }

    /** The value put under {@code key} (a {@link Number}, {@link String}, {@link Boolean} or null). */
    public Object get(String key) {
        Object v = fields.get(key);
        return v instanceof Rounded r ? (Object) r.value : v;
    }

    /** A double field, or NaN when it is absent or null. */
    public double number(String key) {
        return get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private record Rounded(double value) {
        @Override
        public String toString() {
            String plain = new BigDecimal(value).round(new MathContext(DIGITS)).stripTrailingZeros().toPlainString();
            return plain.equals("-0") ? "0" : plain;
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            quote(sb, e.getKey());
            sb.append(':');
            Object v = e.getValue();
            if (v instanceof String s) {
                quote(sb, s);
            } else {
                sb.append(v); // null, Long, Boolean, Fixed
            }
        }
        return sb.append('}').toString();
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
