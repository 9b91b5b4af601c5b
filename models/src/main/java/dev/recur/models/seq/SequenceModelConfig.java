package dev.recur.models.seq;

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
}
