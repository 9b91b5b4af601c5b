package dev.recur.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One flat JSON object on one line, fields in the order they were put: what {@code recur bench}
 * prints per measurement, so that {@code jq} or a spreadsheet can read a run. Doubles are
 * written with {@link #DIGITS} significant digits in plain notation (a tiny shape's 0.000123
 * GFLOP/s keeps its digits, a big one's 1234.57 ms drops noise); numbers that are not finite are
 * written as {@code null} (JSON has no NaN). Written by Jackson, which also escapes the strings.
 */
public final class JsonLine {

    /** Significant digits of a double: more than any timing here can claim. */
    public static final int DIGITS = 6;

    /** Writes a rounded double as {@code 10000000}, not {@code 1E+7}. Thread-safe. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();

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

    /** A finite double as put; written rounded to {@link #DIGITS} significant digits. */
    private record Rounded(double value) {
        BigDecimal rounded() {
            BigDecimal r = new BigDecimal(value).round(new MathContext(DIGITS)).stripTrailingZeros();
            return r.signum() == 0 ? BigDecimal.ZERO : r;
        }
    }

    @Override
    public String toString() {
        ObjectNode o = JSON.createObjectNode();
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            switch (e.getValue()) {
                case null -> o.putNull(e.getKey());
                case String s -> o.put(e.getKey(), s);
                case Long l -> o.put(e.getKey(), l);
                case Boolean b -> o.put(e.getKey(), b);
                case Rounded r -> o.put(e.getKey(), r.rounded());
                default -> throw new IllegalStateException("field '" + e.getKey() + "' holds a "
                        + e.getValue().getClass().getName()); // put(...) stores only the types above
            }
        }
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            // A tree of strings, numbers, booleans and nulls always serialises.
            throw new IllegalStateException("cannot write a JSON line: " + e.getOriginalMessage(), e);
        }
    }
}
