package dev.recur.models.train;

import java.util.Locale;

/**
 * Training diverged: a loss that is not finite, a NaN or infinity found by an engine's check
 * inside a step ({@link dev.recur.api.NonFiniteException}), or a loss grown far past where it
 * started. The run stops; checkpoints written before this step are kept as they were.
 */
public final class TrainingDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long step;
    private final int epoch;

    TrainingDivergedException(long step, int epoch, float lr, String why, Throwable cause) {
        super(String.format(Locale.ROOT, "training diverged at step %d (epoch %d): %s; try a lower learning rate"
                + " (it was %s) or clipping", step, epoch, why, lr), cause);
        this.step = step;
        this.epoch = epoch;
    }

    /** The step (from 1) that diverged. */
    public long step() {
        return step;
    }

    /** The epoch (from 1) of that step. */
    public int epoch() {
        return epoch;
    }
}
