package dev.recur.models.data;

/**
 * Token sequences of different lengths in one time-major block, padded with
 * {@link WordVocabulary#PAD_ID} after each sequence's end, with their lengths and labels.
 *
 * <p>{@code tokens()[t * B + b]} is token {@code t} of sequence {@code b} for
 * {@code t < lengths()[b]}, and {@link WordVocabulary#PAD_ID} for
 * {@code lengths()[b] <= t < L}; L, {@link #maxLength()}, is the longest length in the batch.
 * A classifier reads each sequence's output at step {@code lengths()[b] - 1}. Every length is
 * at least 1. Immutable.
 */
public final class PaddedBatch {

    private final int[] tokens;  // [L, B]
    private final int[] lengths; // [B], each in 1..L
    private final int[] labels;  // [B], class ids
    private final int batchSize;
    private final int maxLength;

    PaddedBatch(int[] tokens, int[] lengths, int[] labels, int batchSize, int maxLength) {
        this.tokens = tokens;
        this.lengths = lengths;
        this.labels = labels;
        this.batchSize = batchSize;
        this.maxLength = maxLength;
    }

    /** {@code [L, B]} time-major (a copy). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** Token {@code t} of sequence {@code b}. */
    public int token(int t, int b) {
        return tokens[t * batchSize + b];
    }

    /** {@code [B]}: the real length of each sequence (a copy). */
    public int[] lengths() {
        return lengths.clone();
    }

    /** {@code [B]}: each sequence's class id (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** B. */
    public int batchSize() {
        return batchSize;
    }

    /** L, the longest sequence of the batch. */
    public int maxLength() {
        return maxLength;
    }

    @Override
    public String toString() {
        return "PaddedBatch{B=" + batchSize + ", L=" + maxLength + "}";
    }
}
