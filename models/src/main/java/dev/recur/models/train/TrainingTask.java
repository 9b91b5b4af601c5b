package dev.recur.models.train;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.Optimizer;

/**
 * What a {@link Trainer} trains: a model, its optimizer, and the data cut into batches. The
 * trainer owns the loop (steps, learning rate, validation, early stopping, checkpoints); the task
 * owns the batches and the model's step.
 *
 * <p>Determinism: step {@code s} of a run is batch {@code s % batchesPerEpoch()} of epoch
 * {@code s / batchesPerEpoch()}; a task that shuffles derives an epoch's order from its seed and
 * the epoch number alone, so that a resumed run sees the batches an uninterrupted one sees.
 */
public interface TrainingTask {

    /** The model being trained. */
    Model model();

    /** The optimizer of {@link #model()}'s parameters. */
    Optimizer optimizer();

    /** Optimizer steps per pass over the training data, {@code >= 1}. */
    int batchesPerEpoch();

    /** What one step consumes, for the progress rate: this many {@link #unit()}s. */
    long itemsPerStep();

    /** What the progress rate counts, e.g. {@code "tok"} or {@code "samples"}. */
    String unit();

    /**
     * One optimizer step: forward, loss, backward, clipping to global norm {@code clip} (0: off),
     * an update with learning rate {@code lr}. Called in training mode.
     *
     * @param epoch 0-based
     * @param batch 0-based, below {@link #batchesPerEpoch()}
     * @return the step's loss
     */
    float trainStep(int epoch, int batch, float lr, float clip);

    /** Whether {@link #validationLoss()} measures anything. */
    default boolean validates() {
        return false;
    }

    /**
     * The loss on a validation split kept apart from training and testing. Called in eval mode; it
     * must leave whatever training carries from step to step as it found it.
     */
    default double validationLoss() {
        return Double.NaN;
    }

    /**
     * The task's settings that decide what training does (batch size, window, a fingerprint of the
     * data), saved with each checkpoint; resuming with any of them changed is refused, naming it.
     */
    default java.util.Map<String, String> settings() {
        return java.util.Map.of();
    }

    /** Adds what the task needs to carry on (carried states, vocabularies) to a checkpoint. */
    default void save(Checkpoint.Builder checkpoint) {
    }

    /**
     * Restores what {@link #save} wrote, after the trainer restored the model and optimizer.
     *
     * @throws CheckpointException when the checkpoint does not fit this task's data or settings
     */
    default void restore(Checkpoint checkpoint) throws CheckpointException {
    }
}
