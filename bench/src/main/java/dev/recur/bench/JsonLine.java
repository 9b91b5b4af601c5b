package dev.recur.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One flat JSON object on one line, fields in the order they were put: what {@code recur bench}
 * prints per measurement, so that {@code jq} or a spreadsheet can read a run. Numbers that are
 * not finite are written as {@code null} (JSON has no NaN).
 */
public final class JsonLine {

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

    /** A double, written with {@code decimals} digits after the point. */
    public JsonLine put(String key, double value, int decimals) {
        fields.put(key, Double.isFinite(value) ? new Fixed(value, decimals) : null);
        return this;
    }

    /** The value put under {@code key}, as put (a {@link Number}, {@link String}, {@link Boolean} or null). */
    public Object get(String key) {
        Object v = fields.get(key);
        return v instanceof Fixed f ? (Object) f.value : v;
    }

    /** A double field, or NaN when it is absent or null. */
    public double number(String key) {
        return get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private record Fixed(double value, int decimals) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%." + decimals + "f", value);
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
