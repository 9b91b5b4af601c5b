package dev.recur.models.train;

import java.nio.file.Path;

/**
 * Hooks into a {@link Trainer}'s loop for callers who want their own reports (samples of a
 * language model, a custom metric). Every method does nothing by default; an exception thrown by
 * one ends the run.
 */
public interface TrainingListener {

    /** After step {@code step} (from 1) of epoch {@code epoch} (from 1); {@code last} on the run's final step. */
    default void onStep(long step, int epoch, float lr, float loss, boolean last) {
    }

    /** After a validation at {@code step}; {@code best} when it is the lowest loss so far. */
    default void onValidation(long step, int epoch, double loss, boolean best) {
    }

    /** After a checkpoint was written. */
    default void onCheckpoint(long step, Path file) {
    }
}
