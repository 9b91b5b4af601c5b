package dev.recur.models.data;

import java.util.Arrays;

/**
 * One batch of {@link CharBatches}: B rows of T + 1 consecutive ids, time-major.
 *
 * <p>{@code tokens()[t * B + b]} is id {@code t} of row {@code b}, for {@code t} in
 * {@code 0..T}. The inputs are times {@code 0..T-1} and the targets times {@code 1..T}: the
 * target at {@code (t, b)} is the id that follows input {@code (t, b)}. Immutable.
 */
public final class CharBatch {

    private final int[] tokens; // [T+1, B]
    private final int batchSize;
    private final int steps;
    private final int position;
    private final int epoch;
    private final int indexInEpoch;

    CharBatch(int[] tokens, int batchSize, int steps, int position, int epoch, int indexInEpoch) {
        this.tokens = tokens;
        this.batchSize = batchSize;
        this.steps = steps;
        this.position = position;
        this.epoch = epoch;
        this.indexInEpoch = indexInEpoch;
    }

    /** All T + 1 time steps, {@code [T+1, B]} time-major (a copy). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** The inputs, times {@code 0..T-1}: {@code [T, B]} time-major. */
    public int[] inputs() {
        return Arrays.copyOfRange(tokens, 0, steps * batchSize);
    }

    /** The targets, times {@code 1..T}: {@code [T, B]} time-major. */
    public int[] targets() {
        return Arrays.copyOfRange(tokens, batchSize, (steps + 1) * batchSize);
    }

    /** Id at time {@code t} (0..T) of row {@code b}. */
    public int token(int t, int b) {
        return tokens[t * batchSize + b];
    }

    /** B. */
    public int batchSize() {
        return batchSize;
    }

    /** T. */
    public int steps() {
        return steps;
    }

    /** This batch's position (see {@link CharBatches#position()}). */
    public int position() {
        return position;
    }

    /** The epoch, from 0. */
    public int epoch() {
        return epoch;
    }

    /** The index of this batch within its epoch, from 0. */
    public int indexInEpoch() {
        return indexInEpoch;
    }

    /** Whether the rows start again at their stripes' beginnings: reset carried hidden state. */
    public boolean startsEpoch() {
        return indexInEpoch == 0;
    }

    @Override
    public String toString() {
        return "CharBatch{position=" + position + ", epoch=" + epoch + ", index=" + indexInEpoch
                + ", B=" + batchSize + ", T=" + steps + "}";
    }
}
