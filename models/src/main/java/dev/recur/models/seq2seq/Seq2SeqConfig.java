package dev.recur.models.seq2seq;

import dev.recur.api.Cell;
import dev.recur.models.io.FlatJson;

/**
 * The settings of an encoder-decoder ({@link Seq2SeqModel}): word embeddings of {@code embedding}
 * values for both vocabularies, and an encoder and a decoder of the same shape ({@code layers}
 * stacked, unidirectional, {@code hidden} units, the same cell), so that each encoder layer's
 * final state can start the same decoder layer. Immutable; checked when made;
 * {@link #toJson()} / {@link #fromJson(String)} store it in checkpoints.
 *
 * @param sourceVocabulary ids of the source language, {@code >= 2}
 * @param targetVocabulary ids of the target language, including its BOS and EOS tokens, {@code >= 4}
 * @param dropout          between stacked layers of both, while training; in {@code [0, 1)}
 * @param bidirectionalEncoder the encoder reads each sentence both ways; each decoder layer
 *                         then starts from the sum of that encoder layer's two final states
 */
public record Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden,
                            int layers, float dropout, boolean bidirectionalEncoder) {

    /** A configuration with a one-directional encoder. */
    public Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden, int layers,
                         float dropout) {
        this(cell, sourceVocabulary, targetVocabulary, embedding, hidden, layers, dropout, false);
    }

    public Seq2SeqConfig {
        if (cell == null) {
            throw new IllegalArgumentException("seq2seq: cell is null");
        }
        positive("sourceVocabulary", sourceVocabulary, 2);
        positive("targetVocabulary", targetVocabulary, 4);
        positive("embedding", embedding, 1);
        positive("hidden", hidden, 1);
        positive("layers", layers, 1);
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("seq2seq: dropout must be in [0, 1), got " + dropout);
        }
    }

    private static void positive(String name, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException("seq2seq: " + name + " must be >= " + least + ", got " + value);
        }
    }

    /** A flat JSON object of the settings, {@code "model":"seq2seq"} first. */
    public String toJson() {
        return "{\"model\":\"seq2seq\",\"cell\":\"" + cell.id() + "\",\"source_vocabulary\":" + sourceVocabulary
                + ",\"target_vocabulary\":" + targetVocabulary + ",\"embedding\":" + embedding + ",\"hidden\":"
                + hidden + ",\"layers\":" + layers + ",\"dropout\":" + dropout + ",\"bidirectional_encoder\":"
                + (bidirectionalEncoder ? 1 : 0) + "}";
    }

    /**
     * The configuration {@link #toJson()} wrote.
     *
     * @throws IllegalArgumentException when it is not a seq2seq configuration, lacks a field or
     *                                  holds a value out of range
     */
    public static Seq2SeqConfig fromJson(String json) {
        String model = FlatJson.string(json, "model");
        if (!model.equals("seq2seq")) {
            throw new IllegalArgumentException("model configuration: a '" + model + "' model, not a seq2seq one");
        }
        return new Seq2SeqConfig(Cell.byId(FlatJson.string(json, "cell")), FlatJson.integer(json, "source_vocabulary"),
                FlatJson.integer(json, "target_vocabulary"), FlatJson.integer(json, "embedding"),
                FlatJson.integer(json, "hidden"), FlatJson.integer(json, "layers"),
                (float) FlatJson.number(json, "dropout"), FlatJson.integer(json, "bidirectional_encoder") == 1);
    }

    @Override
    public String toString() {
        return "Seq2SeqConfig{cell=" + cell.id() + ", sourceVocabulary=" + sourceVocabulary + ", targetVocabulary="
                + targetVocabulary + ", embedding=" + embedding + ", hidden=" + hidden + ", layers=" + layers
                + ", dropout=" + dropout + ", bidirectionalEncoder=" + bidirectionalEncoder + "}";
    }
}
