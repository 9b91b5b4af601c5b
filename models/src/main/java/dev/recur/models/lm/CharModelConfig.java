package dev.recur.models.lm;

import dev.recur.api.Cell;
import dev.recur.models.io.FlatJson;

/**
 * The shape of a {@link CharLanguageModel}. Immutable; {@code toString} shows every setting and
 * {@link #toJson()} / {@link #fromJson(String)} store it in checkpoints.
 */
public record CharModelConfig(int vocabulary, int embedding, Cell cell, int hidden, int layers, float dropout) {

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
    }

    /** A flat JSON object of the settings. */
    public String toJson() {
        return "{\"model\":\"char-lm\",\"vocabulary\":" + vocabulary + ",\"embedding\":" + embedding + ",\"cell\":\""
                + cell.id() + "\",\"hidden\":" + hidden + ",\"layers\":" + layers + ",\"dropout\":" + dropout + "}";
    }

    /** Reads what {@link #toJson()} wrote; a missing or malformed field is named in the error. */
    public static CharModelConfig fromJson(String json) {
        return new CharModelConfig(FlatJson.integer(json, "vocabulary"), FlatJson.integer(json, "embedding"),
                Cell.byId(FlatJson.string(json, "cell")), FlatJson.integer(json, "hidden"),
                FlatJson.integer(json, "layers"), (float) FlatJson.number(json, "dropout"));
    }
}
