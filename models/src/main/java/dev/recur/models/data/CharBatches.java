package dev.recur.models.data;

/**
 * Batches for truncated back-propagation through time over one sequence of ids, as char-rnn and
 * PyTorch's word_language_model ({@code batchify}) make them.
 *
 * <h2>Layout</h2>
 * The {@code n} ids are cut into B stripes of {@code L = n / B} ids each (the last {@code n % B}
 * ids are dropped); batch row {@code b} walks stripe {@code b}, ids {@code [b*L, (b+1)*L)}, from
 * its start. Batch {@code k} of an epoch holds, for every row, the {@code T + 1} ids from
 * {@code b*L + k*T}: inputs are the first T, targets the last T (each input's next id). So batch
 * {@code k + 1} continues exactly where batch {@code k} stopped, row by row, and a trainer may
 * carry each row's hidden state from one batch to the next. An epoch has
 * {@code (L - 1) / T} batches; the ids of a last, shorter window are not used, so every batch
 * has the same shape. After an epoch the stripes start again from their beginnings, and the
 * trainer should reset the carried state ({@link CharBatch#startsEpoch()}).
 *
 * <h2>Position</h2>
 * {@link #position()} counts batches handed out since the start of training, across epochs:
 * batch {@code p} is batch {@code p % batchesPerEpoch()} of epoch {@code p / batchesPerEpoch()}.
 * Saving it in a checkpoint and calling {@link #seek} on resume makes the resumed run see the
 * same batches as an uninterrupted one. (The hidden state carried between batches is the
 * trainer's to save, if it wants the resumed run to match bit for bit.)
 *
 * <p>Mutable (the position) and not thread-safe; {@link #batch(int)} is a pure function of the
 * position.
 */
public final class CharBatches {

    private final String source;
    private final int[] ids;          // [n]
    private final int batchSize;      // B
    private final int steps;          // T
    private final int stripeLength;   // L = n / B
    private final int batchesPerEpoch;
    private int position;

    /**
     * @param source    what messages call the ids (a file and its part)
     * @param ids       the sequence; not copied, must not change afterwards
     * @param batchSize B {@code >= 1}
     * @param steps     T {@code >= 1}
     * @throws IllegalArgumentException when B or T is below 1
     * @throws DataException            when there are fewer than {@code B * (T + 1)} ids, too few
     *                                  for one batch
     */
    public CharBatches(String source, int[] ids, int batchSize, int steps) throws DataException {
        if (batchSize < 1 || steps < 1) {
            throw new IllegalArgumentException("batch size and steps must be >= 1, got " + batchSize + " and " + steps);
        }
        this.source = source;
        this.ids = ids;
        this.batchSize = batchSize;
        this.steps = steps;
        this.stripeLength = ids.length / batchSize;
        this.batchesPerEpoch = stripeLength < 1 ? 0 : (stripeLength - 1) / steps;
        if (batchesPerEpoch < 1) {
            throw new DataException(source, "has " + ids.length + " characters, too few for one batch of "
                    + batchSize + " sequences of " + steps + " steps (needs " + batchSize + " x (" + steps
                    + " + 1) = " + ((long) batchSize * (steps + 1)) + "); use a smaller batch size or fewer steps");
        }
    }

    /** B, sequences per batch. */
    public int batchSize() {
        return batchSize;
    }

    /** T, time steps per batch. */
    public int steps() {
        return steps;
    }

    /** L = n / B, the length of each row's stripe. */
    public int stripeLength() {
        return stripeLength;
    }

    /** Batches per epoch, {@code (L - 1) / T}, at least 1. */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** Batches handed out so far (the position of the next one), across epochs. */
    public int position() {
        return position;
    }

    /**
     * Makes {@code position} the next batch; {@code seek(saved)} resumes where a run stopped.
     *
     * @throws IllegalArgumentException when negative
     */
    public void seek(int position) {
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
        this.position = position;
    }

    /** The next batch; advances the position by one. */
    public CharBatch next() {
        CharBatch b = batch(position);
        position++;
        return b;
    }

    /**
     * The batch at a position, without moving.
     *
     * @throws IllegalArgumentException when negative
     */
    public CharBatch batch(int position) {
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
        int k = position % batchesPerEpoch;
        int[] tokens = new int[(steps + 1) * batchSize]; // [T+1, B]
        for (int b = 0; b < batchSize; b++) {
            int start = b * stripeLength + k * steps;
            for (int t = 0; t <= steps; t++) {
                tokens[t * batchSize + b] = ids[start + t];
            }
        }
        return new CharBatch(tokens, batchSize, steps, position, position / batchesPerEpoch, k);
    }

    @Override
    public String toString() {
        return "CharBatches{" + source + ", n=" + ids.length + ", B=" + batchSize + ", T=" + steps
                + ", stripe=" + stripeLength + ", batchesPerEpoch=" + batchesPerEpoch + ", position=" + position + "}";
    }
}
