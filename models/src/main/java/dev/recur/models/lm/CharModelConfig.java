package dev.recur.models.lm;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.models.io.Json;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.RecurrentConfig;

/**
 * The shape of a {@link CharLanguageModel}. Immutable; {@code toString} shows every setting and
 * {@link #toJson()} / {@link #fromJson(String)} store it in checkpoints. {@code options} are the
 * stack's cell options ({@link CellOptions}; {@link CellOptions#NONE} for the plain cell).
 */
public record CharModelConfig(int vocabulary, int embedding, Cell cell, int hidden, int layers, float dropout,
                              CellOptions options) {

    /** The {@code "model"} field of its JSON. */
    public static final String KIND = ModelKinds.CHAR_LM;

    public CharModelConfig {
        if (vocabulary < 2) {
            throw new IllegalArgumentException("vocabulary must hold at least 2 characters, got " + vocabulary);
        }
        if (embedding < 1 || hidden < 1 || layers < 1) {
            throw new IllegalArgumentException("embedding, hidden and layers must be >= 1, got " + embedding + ", "
                    + hidden + ", " + layers);
        }
        if (cell == null) {
            throw new IllegalArgumentException("cell is null");
        }
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
        if (options == null) {
            options = CellOptions.NONE;
        }
        options.check(cell, hidden);
    }

    /** A model of plain cells. */
    public CharModelConfig(int vocabulary, int embedding, Cell cell, int hidden, int layers, float dropout) {
        this(vocabulary, embedding, cell, hidden, layers, dropout, CellOptions.NONE);
    }

    /** The stack's settings: this model's cell, sizes, dropout and options, one direction. */
    public RecurrentConfig recurrentConfig() {
        return RecurrentConfig.builder(cell, embedding, hidden).numLayers(layers).dropout(dropout)
                .cellOptions(options).build();
    }

    /** Trainable values of the model: embedding, stack, head. */
    public long parameterCount() {
        return (long) vocabulary * embedding + RecurrentConfig.parameterCount(cell, options, embedding, hidden, layers,
                1) + (long) options.recurrentWidth(hidden) * vocabulary + vocabulary;
    }

    /**
     * A flat JSON object of the settings, written by Jackson: {@code "model":"char-lm"} first,
     * then {@code vocabulary, embedding, cell, hidden, layers, dropout}, as every Recur so far
     * has written it, then the cell options that are on ({@link Json#putCellOptions}).
     */
    public String toJson() {
        ObjectNode o = Json.configObject(KIND).put("vocabulary", vocabulary).put("embedding", embedding)
                .put("cell", cell.id()).put("hidden", hidden).put("layers", layers).put("dropout", dropout);
        return Json.write(Json.putCellOptions(o, options));
    }

    /**
     * Reads what {@link #toJson()} wrote; fields it does not know are ignored.
     *
     * @throws IllegalArgumentException naming a missing or malformed field, or
     *                                  {@code "this is a seq2seq model config, not a char-lm one"}
     */
    public static CharModelConfig fromJson(String json) {
        ObjectNode o = Json.readConfig(json, KIND);
        return new CharModelConfig(Json.integer(o, "vocabulary"), Json.integer(o, "embedding"), Json.cell(o, "cell"),
                Json.integer(o, "hidden"), Json.integer(o, "layers"), (float) Json.number(o, "dropout"),
                Json.cellOptions(o));
    }
}
