package dev.recur.models.seq2seq;

import dev.recur.api.Cell;

/**
 * The settings of an encoder-decoder ({@link Seq2SeqModel}): word embeddings of {@code embedding}
 * values for both vocabularies, and an encoder and a decoder of the same shape ({@code layers}
 * stacked, unidirectional, {@code hidden} units, the same cell), so that each encoder layer's
 * final state can start the same decoder layer. Immutable; checked when made.
 *
 * @param sourceVocabulary ids of the source language, {@code >= 2}
 * @param targetVocabulary ids of the target language, including its BOS and EOS tokens, {@code >= 4}
 * @param dropout          between stacked layers of both, while training; in {@code [0, 1)}
 */
public record Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden,
                            int layers, float dropout) {

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

    @Override
    public String toString() {
        return "Seq2SeqConfig{cell=" + cell.id() + ", sourceVocabulary=" + sourceVocabulary + ", targetVocabulary="
                + targetVocabulary + ", embedding=" + embedding + ", hidden=" + hidden + ", layers=" + layers
                + ", dropout=" + dropout + "}";
    }
}
