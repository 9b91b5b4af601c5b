package dev.recur.models.train;

import dev.recur.models.nn.Model;
import dev.recur.models.nn.Optimizer;

import java.util.Random;

/**
 * A {@link TrainingTask} over a fixed set of examples in shuffled batches: what a classifier, a
 * forecaster or a translator trains on. It owns the model, the optimizer, the batch count and the
 * progress unit, and the order of each epoch, a shuffle drawn from the seed and the epoch alone,
 * so that a resumed run sees the batches an uninterrupted one sees. Subclasses load the examples
 * that {@link #batchOrder} names and run the model's step.
 */
public abstract class ShuffledTask implements TrainingTask {

    private final Model model;
    private final Optimizer optimizer;
    private final int examples;
    private final int batch;
    private final long seed;
    private final String unit;
    private final int[] order;
    private int orderEpoch = -1;
    private int shardRank;
    private int shardCount = 1;
    private double lastShare = 1;

    /**
     * @param examples training examples, {@code >= 1}
     * @param batch    examples per step, {@code >= 1}; the last batch of an epoch may hold fewer
     * @param unit     what the progress rate counts, e.g. {@code "samples"}
     */
    protected ShuffledTask(Model model, Optimizer optimizer, int examples, int batch, long seed, String unit) {
        if (examples < 1 || batch < 1) {
            throw new IllegalArgumentException("a task needs at least one example and a batch of at least one, got "
                    + examples + " and " + batch);
        }
        this.model = model;
        this.optimizer = optimizer;
        this.examples = examples;
        this.batch = batch;
        this.seed = seed;
        this.unit = unit;
        this.order = new int[examples];
    }

    @Override
    public Model model() {
        return model;
    }

    @Override
    public Optimizer optimizer() {
        return optimizer;
    }

    @Override
    public int batchesPerEpoch() {
        return (examples + batch - 1) / batch;
    }

    @Override
    public long itemsPerStep() {
        return batch;
    }

    @Override
    public String unit() {
        return unit;
    }

    /** Examples per step. */
    protected int batch() {
        return batch;
    }

    /**
     * The whole shuffled order of {@code epoch} (0-based): a Fisher-Yates shuffle of 0..N-1 with
     * {@code new Random(seed * 1_000_003 + epoch)}, the same as {@code Collections.shuffle} of
     * that list with that generator. Owned by the task; valid until another epoch is asked for.
     */
    protected int[] epochOrder(int epoch) {
        if (epoch != orderEpoch) {
            for (int i = 0; i < examples; i++) {
                order[i] = i;
            }
            Random random = new Random(seed * 1_000_003L + epoch);
            for (int i = examples - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            orderEpoch = epoch;
        }
        return order;
    }

    /**
     * The examples of batch {@code b} of {@code epoch}, in order; the last batch may be shorter.
     * Sharded ({@link #shard}), this rank's contiguous part of it: rank r of W takes
     * {@code [r·n/W, (r+1)·n/W)} of the batch's n examples, and {@link #shardShare()} becomes its
     * share of n (the loss being a mean over examples).
     *
     * @throws IllegalStateException when the batch holds fewer examples than there are ranks
     */
    protected int[] batchOrder(int epoch, int b) {
        int[] all = epochOrder(epoch);
        int from = b * batch;
        int n = Math.min(examples, from + batch) - from;
        if (shardCount == 1) {
            lastShare = 1;
            return java.util.Arrays.copyOfRange(all, from, from + n);
        }
        if (n < shardCount) {
            throw new IllegalStateException("batch " + b + " of epoch " + epoch + " holds " + n + " examples, fewer"
                    + " than the " + shardCount + " ranks; choose a batch size and example count that give every"
                    + " rank at least one (the last batch holds examples % batch)");
        }
        int lo = (int) ((long) shardRank * n / shardCount);
        int hi = (int) ((long) (shardRank + 1) * n / shardCount);
        lastShare = (double) (hi - lo) / n;
        return java.util.Arrays.copyOfRange(all, from + lo, from + hi);
    }

    /** The whole batch {@code b} of {@code epoch}, every rank's part (what one process would train on). */
    protected int[] wholeBatchOrder(int epoch, int b) {
        int[] all = epochOrder(epoch);
        int from = b * batch;
        return java.util.Arrays.copyOfRange(all, from, Math.min(examples, from + batch));
    }

    /** Trains on rank {@code rank}'s part of every batch ({@link #batchOrder}); validation stays whole. */
    @Override
    public void shard(int rank, int worldSize) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " of " + worldSize + " is no shard");
        }
        if (batch < worldSize) {
            throw new IllegalArgumentException("a batch of " + batch + " cannot be shared by " + worldSize
                    + " ranks; the batch size is the global one, at least one example per rank");
        }
        int last = examples % batch;
        if (last != 0 && last < worldSize) {
            throw new IllegalArgumentException("the last batch of each epoch would hold " + last + " of the " + examples
                    + " training examples (" + examples + " % " + batch + "), fewer than the " + worldSize
                    + " ranks; choose a batch size that leaves none or at least " + worldSize);
        }
        this.shardRank = rank;
        this.shardCount = worldSize;
    }

    @Override
    public double shardShare() {
        return lastShare;
    }
}
