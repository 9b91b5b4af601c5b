package dev.recur.models.seq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.models.nn.ModelKinds;

import dev.recur.api.Cell;

/**
 * A many-to-one sequence model: token ids through an embedding ({@code vocabulary > 0}) or
 * numeric features ({@code vocabulary == 0}, {@code inputSize} per step), a recurrent stack, and
 * a linear head on the last layer's final hidden states (both directions concatenated). With
 * {@code classes > 0} it classifies (softmax cross-entropy); with {@code classes == 0} it predicts
 * {@code outputs} numbers (mean squared error). Immutable; {@code toString} shows every setting.
 */
public record SequenceModelConfig(int vocabulary, int inputSize, Cell cell, int hidden, int layers,
                                  boolean bidirectional, float dropout, int classes, int outputs) {

    public SequenceModelConfig {
        if (vocabulary < 0 || inputSize < 1 || hidden < 1 || layers < 1) {
            throw new IllegalArgumentException("sequence model: vocabulary >= 0 and inputSize, hidden, layers >= 1, got "
                    + vocabulary + ", " + inputSize + ", " + hidden + ", " + layers);
        }
        if (cell == null) {
            throw new IllegalArgumentException("sequence model: cell is null");
        }
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("sequence model: dropout must be in [0, 1), got " + dropout);
        }
        if (classes == 1 || classes < 0 || (classes == 0 && outputs < 1)) {
            throw new IllegalArgumentException("sequence model: classes must be 0 (regression with outputs >= 1) or"
                    + " >= 2, got classes " + classes + ", outputs " + outputs);
        }
    }

    /** A classifier of token sequences. */
    public static SequenceModelConfig classifier(int vocabulary, int embedding, Cell cell, int hidden, int layers,
                                                 boolean bidirectional, float dropout, int classes) {
        return new SequenceModelConfig(vocabulary, embedding, cell, hidden, layers, bidirectional, dropout, classes,
                classes);
    }

    /** A regressor of numeric sequences ({@code features} per step) onto {@code outputs} numbers. */
    public static SequenceModelConfig regressor(int features, Cell cell, int hidden, int layers, float dropout,
                                                int outputs) {
        return new SequenceModelConfig(0, features, cell, hidden, layers, false, dropout, 0, outputs);
    }

    public boolean classifies() {
        return classes > 0;
    }

    /** Width of the head's output: the number of classes, or of predicted numbers. */
    public int headSize() {
        return classes > 0 ? classes : outputs;
    }

    /** The kind written in {@link #toJson()}: {@code sequence-classifier} or {@code sequence-regressor}. */
    public String kind() {
        return classifies() ? ModelKinds.CLASSIFIER : ModelKinds.REGRESSOR;
    }

    /** One JSON object of the settings, {@code "model": kind()} first. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode().put("model", kind()).put("vocabulary", vocabulary)
                .put("input_size", inputSize).put("cell", cell.id()).put("hidden", hidden).put("layers", layers)
                .put("bidirectional", bidirectional).put("dropout", dropout).put("classes", classes)
                .put("outputs", outputs);
        return o.toString();
    }

    /**
     * Reads what {@link #toJson()} wrote.
     *
     * @throws IllegalArgumentException naming a missing or malformed field, or another kind of model
     */
    public static SequenceModelConfig fromJson(String json) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("sequence model configuration is not JSON: " + e.getOriginalMessage());
        }
        String kind = ModelKinds.of(json);
        if (!ModelKinds.CLASSIFIER.equals(kind) && !ModelKinds.REGRESSOR.equals(kind)) {
            throw new IllegalArgumentException("model configuration: a '" + kind + "' model, not a sequence model");
        }
        return new SequenceModelConfig(integer(o, "vocabulary"), integer(o, "input_size"),
                Cell.byId(field(o, "cell").asText()), integer(o, "hidden"), integer(o, "layers"),
                field(o, "bidirectional").asBoolean(), (float) field(o, "dropout").asDouble(), integer(o, "classes"),
                integer(o, "outputs"));
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode field(JsonNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("sequence model configuration lacks '" + name + "'");
        }
        return v;
    }

    private static int integer(JsonNode o, String name) {
        JsonNode v = field(o, name);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("sequence model configuration: '" + name + "' is not an integer: " + v);
        }
        return v.asInt();
    }
}
