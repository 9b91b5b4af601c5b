package dev.recur.models.seq;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.models.io.Json;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.RecurrentConfig;

/**
 * A many-to-one sequence model: token ids through an embedding ({@code vocabulary > 0}) or
 * numeric features ({@code vocabulary == 0}, {@code inputSize} per step), a recurrent stack, and
 * a linear head on the last layer's final hidden states (both directions concatenated). With
 * {@code classes > 0} it classifies (softmax cross-entropy); with {@code classes == 0} it predicts
 * {@code outputs} numbers (mean squared error); a classifier's {@code outputs} is its
 * {@code classes}, whatever was passed. Immutable; {@code toString} shows every setting;
 * {@link #toJson()} / {@link #fromJson(String)} store it in checkpoints. {@code options} are the
 * stack's cell options ({@link CellOptions}, {@link CellOptions#NONE} for the plain cell); the
 * head then reads each direction's final {@code h}, S = {@link CellOptions#stateWidth} wide.
 */
public record SequenceModelConfig(int vocabulary, int inputSize, Cell cell, int hidden, int layers,
                                  boolean bidirectional, float dropout, int classes, int outputs,
                                  CellOptions options) {

    /** The {@code "model"} field of a classifier's JSON. */
    public static final String CLASSIFIER_KIND = ModelKinds.CLASSIFIER;
    /** The {@code "model"} field of a regressor's JSON. */
    public static final String REGRESSOR_KIND = ModelKinds.REGRESSOR;

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
        if (classes > 0) {
            outputs = classes; // the head has one output per class; so that equal models are equal configs
        }
        if (options == null) {
            options = CellOptions.NONE;
        }
        options.check(cell, hidden);
    }

    /** A model of plain cells. */
    public SequenceModelConfig(int vocabulary, int inputSize, Cell cell, int hidden, int layers, boolean bidirectional,
                               float dropout, int classes, int outputs) {
        this(vocabulary, inputSize, cell, hidden, layers, bidirectional, dropout, classes, outputs, CellOptions.NONE);
    }

    /** This configuration with the stack's cells run with {@code cellOptions}. */
    public SequenceModelConfig withOptions(CellOptions cellOptions) {
        return new SequenceModelConfig(vocabulary, inputSize, cell, hidden, layers, bidirectional, dropout, classes,
                outputs, cellOptions);
    }

    /** The stack's settings: cell, sizes, directions, dropout and options. */
    public RecurrentConfig recurrentConfig() {
        return RecurrentConfig.builder(cell, inputSize, hidden).numLayers(layers).bidirectional(bidirectional)
                .dropout(dropout).cellOptions(options).build();
    }

    /** The width of the head's input: each direction's final h, S wide ({@link CellOptions#stateWidth}). */
    public int featureSize() {
        return (bidirectional ? 2 : 1) * options.stateWidth(cell, hidden);
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

    /** {@link #CLASSIFIER_KIND} or {@link #REGRESSOR_KIND}: the {@code "model"} field of its JSON. */
    public String kind() {
        return classifies() ? CLASSIFIER_KIND : REGRESSOR_KIND;
    }

    /**
     * The settings as a Jackson object, {@code "model"} first: {@code vocabulary}, the input
     * width as {@code embedding} (with a vocabulary) or {@code features} (numeric input, vocabulary
     * 0), {@code cell, hidden, layers, bidirectional, dropout}, then {@code classes} for a
     * classifier or {@code outputs} for a regressor; the cell options that are on come before
     * these ({@link Json#putCellOptions}). A caller may add fields of its own (the
     * classify command adds {@code max_length}); {@link #fromJson(String)} ignores them.
     */
    public ObjectNode toJsonObject() {
        ObjectNode o = Json.configObject(kind()).put("vocabulary", vocabulary)
                .put(vocabulary > 0 ? "embedding" : "features", inputSize).put("cell", cell.id()).put("hidden", hidden)
                .put("layers", layers).put("bidirectional", bidirectional).put("dropout", dropout);
        Json.putCellOptions(o, options);
        return classifies() ? o.put("classes", classes) : o.put("outputs", outputs);
    }

    /** Trainable values of the model: embedding (when it reads ids), stack, head. */
    public long parameterCount() {
        int dirs = bidirectional ? 2 : 1;
        return (long) vocabulary * inputSize + RecurrentConfig.parameterCount(cell, options, inputSize, hidden, layers,
                dirs) + (long) featureSize() * headSize() + headSize();
    }

    /** {@link #toJsonObject()} as compact JSON text. */
    public String toJson() {
        return Json.write(toJsonObject());
    }

    /**
     * Reads what {@link #toJson()} wrote, a classifier's or a regressor's; fields it does not
     * know are ignored.
     *
     * @throws IllegalArgumentException naming a missing or malformed field, or when the JSON is
     *                                  of another kind of model
     *                                  ({@code "this is a char-lm model config, not a sequence-classifier or sequence-regressor one"})
     */
    public static SequenceModelConfig fromJson(String json) {
        ObjectNode o = Json.readConfig(json, CLASSIFIER_KIND, REGRESSOR_KIND);
        boolean classifier = Json.string(o, Json.KIND_FIELD).equals(CLASSIFIER_KIND);
        int vocabulary = Json.integer(o, "vocabulary");
        int inputSize = Json.integer(o, vocabulary > 0 ? "embedding" : "features");
        int classes = classifier ? Json.integer(o, "classes") : 0;
        int outputs = classifier ? classes : Json.integer(o, "outputs");
        if (classifier && classes < 2) {
            throw new IllegalArgumentException("model configuration: field 'classes' of a " + CLASSIFIER_KIND
                    + " must be >= 2, got " + classes);
        }
        return new SequenceModelConfig(vocabulary, inputSize, Json.cell(o, "cell"), Json.integer(o, "hidden"),
                Json.integer(o, "layers"), Json.bool(o, "bidirectional"), (float) Json.number(o, "dropout"), classes,
                outputs, Json.cellOptions(o));
    }
}
