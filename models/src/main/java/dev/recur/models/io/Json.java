package dev.recur.models.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;

import java.util.List;

/**
 * The model configurations that checkpoints carry, read and written with Jackson: one shared
 * {@link JsonMapper} and the field readers that name what is wrong.
 *
 * <p>A configuration is one JSON object whose {@code "model"} field says what kind of model it
 * describes ({@code "char-lm"}, {@code "seq2seq"}, {@code "sequence-classifier"},
 * {@code "sequence-regressor"}). Readers ignore fields they do not know, so a newer Recur may
 * add fields and an older one still loads the file; a missing or malformed field is an
 * {@link IllegalArgumentException} that names the field and shows the JSON.
 */
public final class Json {

    /**
     * The mapper: thread-safe once built. Duplicate keys and text after the value are errors,
     * as in the safetensors header ({@link SafeTensors}), so a hand-edited file that says two
     * things is refused instead of silently taking one.
     */
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The field that names the kind of model. */
    public static final String KIND_FIELD = "model";

    private Json() {
    }

    /** A new, empty object whose first field is {@code "model": kind}. */
    public static ObjectNode configObject(String kind) {
        return MAPPER.createObjectNode().put(KIND_FIELD, kind);
    }

    /** {@code node} as compact JSON text, fields in insertion order. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            // A tree of plain nodes always serialises; this would be a Jackson bug.
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The {@code "model"} field of a configuration, or null when {@code json} is not a JSON
     * object or has no such text field: lets a command say "this is a seq2seq model, not a
     * char-lm one" before reading any other field.
     */
    public static String kindOf(String json) {
        if (json == null) {
            return null;
        }
        try {
            JsonNode n = MAPPER.readTree(json);
            JsonNode kind = n == null ? null : n.get(KIND_FIELD);
            return kind != null && kind.isTextual() ? kind.textValue() : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    /**
     * Parses a model configuration of kind {@code expected} (or of any of them, when several).
     *
     * @throws IllegalArgumentException when {@code json} is not one JSON object, has no
     *                                  {@code "model"} text field, or names another kind:
     *                                  {@code "this is a seq2seq model config, not a char-lm one"}
     */
    public static ObjectNode readConfig(String json, String... expected) {
        if (json == null) {
            throw new IllegalArgumentException("model configuration: null, expected a JSON object");
        }
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("model configuration: not valid JSON ("
                    + e.getOriginalMessage().replaceAll("\\s*\\R\\s*", " ") + "): " + json, e);
        }
        if (!(n instanceof ObjectNode object)) {
            throw new IllegalArgumentException("model configuration: expected a JSON object, found "
                    + (n == null || n.isMissingNode() ? "nothing" : n.getNodeType().toString().toLowerCase()) + ": "
                    + json);
        }
        String found = string(object, KIND_FIELD);
        if (!List.of(expected).contains(found)) {
            throw new IllegalArgumentException("this is a " + found + " model config, not a "
                    + String.join(" or ", expected) + " one");
        }
        return object;
    }

    /** A text field. */
    public static String string(ObjectNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null) {
            throw missing(o, key, "string");
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("model configuration: field '" + key + "' must be a string, got " + v
                    + " in " + o);
        }
        return v.textValue();
    }

    /** A number field. */
    public static double number(ObjectNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null) {
            throw missing(o, key, "number");
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("model configuration: field '" + key + "' is not a number: " + v
                    + " in " + o);
        }
        return v.doubleValue();
    }

    /** A whole number field that fits an int ({@code 3} or {@code 3.0}, not {@code 3.5}). */
    public static int integer(ObjectNode o, String key) {
        double v = number(o, key);
        if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model configuration: field '" + key + "' must be a whole number, got "
                    + o.get(key) + " in " + o);
        }
        return (int) v;
    }

    /** A yes/no field: {@code true}/{@code false}, or {@code 1}/{@code 0} as older files write it. */
    public static boolean bool(ObjectNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null) {
            throw missing(o, key, "boolean");
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isNumber() && (v.doubleValue() == 0 || v.doubleValue() == 1)) {
            return v.doubleValue() == 1;
        }
        throw new IllegalArgumentException("model configuration: field '" + key + "' must be true, false, 1 or 0, got "
                + v + " in " + o);
    }

    /** A recurrent cell, by its id ({@code "lstm"}, {@code "gru"}, {@code "rnn_tanh"}, ...). */
    public static Cell cell(ObjectNode o, String key) {
        String id = string(o, key);
        try {
            return Cell.byId(id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model configuration: field '" + key + "': " + e.getMessage(), e);
        }
    }

    /**
     * Adds the cell's options to a configuration object, only those that are on: {@code layer_norm}
     * (true), {@code recurrent_dropout}, {@code zoneout_h}, {@code zoneout_c} (numbers) and
     * {@code proj_size} (a whole number), so a plain model's JSON is what it always was.
     */
    public static ObjectNode putCellOptions(ObjectNode o, CellOptions options) {
        if (options.layerNorm()) {
            o.put("layer_norm", true);
        }
        if (options.recurrentDropout() > 0f) {
            o.put("recurrent_dropout", options.recurrentDropout());
        }
        if (options.zoneoutH() > 0f) {
            o.put("zoneout_h", options.zoneoutH());
        }
        if (options.zoneoutC() > 0f) {
            o.put("zoneout_c", options.zoneoutC());
        }
        if (options.projectionSize() > 0) {
            o.put("proj_size", options.projectionSize());
        }
        return o;
    }

    /**
     * The cell's options that {@link #putCellOptions} wrote; each missing field is off, so a
     * configuration written before the options existed reads as {@link CellOptions#NONE}.
     *
     * @throws IllegalArgumentException naming a malformed field or value
     */
    public static CellOptions cellOptions(ObjectNode o) {
        boolean layerNorm = o.has("layer_norm") && bool(o, "layer_norm");
        float recurrentDropout = o.has("recurrent_dropout") ? (float) number(o, "recurrent_dropout") : 0f;
        float zoneoutH = o.has("zoneout_h") ? (float) number(o, "zoneout_h") : 0f;
        float zoneoutC = o.has("zoneout_c") ? (float) number(o, "zoneout_c") : 0f;
        int projection = o.has("proj_size") ? integer(o, "proj_size") : 0;
        try {
            return new CellOptions(layerNorm, recurrentDropout, zoneoutH, zoneoutC, projection);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model configuration: " + e.getMessage() + " in " + o, e);
        }
    }

    private static IllegalArgumentException missing(ObjectNode o, String key, String type) {
        return new IllegalArgumentException("model configuration: no " + type + " field '" + key + "' in " + o);
    }
}
