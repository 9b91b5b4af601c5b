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

    /**
     * Data parallelism: from now on, {@link #trainStep} trains on shard {@code rank} of
     * {@code worldSize} of every global batch (the batch that one process would train on), and
     * {@link #validationLoss()} measures this rank's shard of the validation data or all of it.
     * Called by the {@link Trainer} once, before the first step (and before a resume's
     * {@link #restore}), on every rank. A task that cannot be sharded refuses a world above 1.
     *
     * @throws UnsupportedOperationException when the task cannot train on shards
     */
    default void shard(int rank, int worldSize) {
        if (worldSize != 1) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be trained data-parallel");
        }
    }

    /**
     * This rank's share of the last {@link #trainStep}'s global batch, in what its loss is a mean
     * over (examples, tokens): the weight of this rank's loss and gradients in the global ones,
     * which are {@code Σ over ranks of share · local}. The shares of one step sum to 1 over the
     * ranks. 1 without sharding.
     */
    default double shardShare() {
        return 1;
    }

    /**
     * Before rank 0 saves a checkpoint, every rank calls this with the job's collective: a task
     * whose state differs between ranks (the carried hidden states of each rank's sequences)
     * collects it so that {@link #save} on rank 0 writes the whole. No-op by default.
     */
    default void gatherShards(dev.recur.api.Collective collective) {
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
