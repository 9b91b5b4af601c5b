package dev.recur.bench;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the one-line flat JSON objects {@code recur bench} prints, with Jackson, strictly: one
 * object, string keys, no duplicate key, values that are strings, numbers, true, false or null.
 * Anything else, nesting or text after the object included, is an error, so a malformed line
 * fails the test that reads it.
 */
final class FlatJson {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private FlatJson() {
    }

    /** The fields in order: String, Double, Boolean or null values. */
    static Map<String, Object> parse(String line) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(e.getOriginalMessage() + " in: " + line, e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not one JSON object: " + line);
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            Object value;
            if (v.isTextual()) {
                value = v.textValue();
            } else if (v.isNumber()) {
                value = v.doubleValue();
            } else if (v.isBoolean()) {
                value = v.booleanValue();
            } else if (v.isNull()) {
                value = null;
            } else {
                throw new IllegalArgumentException("field '" + e.getKey() + "' is a " + v.getNodeType()
                        + ", not a flat value, in: " + line);
            }
            fields.put(e.getKey(), value);
        }
        return fields;
    }
}
