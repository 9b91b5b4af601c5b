package dev.recur.models.train;

import dev.recur.api.Collective;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * What the {@link Trainer} does on each rank of a data-parallel job (PyTorch DDP's recipe): every
 * rank starts from rank 0's weights, runs the forward and backward on its shard of the global
 * batch, and before the update the gradients are made the global batch's,
 * {@code g = Σ over ranks of share_r · g_r} (a mean loss over the global batch is the
 * share-weighted sum of the shards' mean losses, and so is its gradient); then clipping by global
 * norm and the update run identically on every rank, so the weights stay equal without being sent
 * again.
 *
 * <p>Buckets: gradients are copied, scaled by this rank's share, into host buckets of at most
 * {@code bucketBytes}, in reverse parameter order (the order the backward finishes them: the head
 * first, the embedding last), and each bucket is one all-reduce. The all-reduces start after the
 * whole backward is done: the model's backward is one call that gives no hook per layer, so
 * they do not yet overlap it as DDP's do.
 *
 * <p>Exactness: with two ranks and even shards the share is 1/2, a power of two, so scaling is
 * exact and the all-reduce adds two float32 values once; what differs from one process is the
 * order in which the backward's GEMMs sum over the batch (B/2 rows twice, then one addition,
 * instead of B rows), a rounding difference of a few ulps per step.
 */
final class DataParallel implements AutoCloseable {

    /** Default bucket size, PyTorch DDP's {@code bucket_cap_mb}. */
    static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final Collective collective;
    /** The engine's collective for tensors: {@link #collective} itself, or NCCL on the CUDA engine. */
    private final Collective device;
    private final int bucketFloats;
    private Tensor norm; // [1], for clipping
    private long reduceNanos;
    private long reduceCalls;
    private long reducedFloats;

    /**
     * @param backend the engine of the model's tensors, asked for its device collective
     *                ({@link dev.recur.api.Backend#deviceCollective}) when there are several ranks
     */
    DataParallel(Collective collective, dev.recur.api.Backend backend, long bucketBytes) {
        this.collective = collective;
        this.device = collective.worldSize() > 1 && backend != null ? backend.deviceCollective(collective) : collective;
        this.bucketFloats = (int) Math.max(1, Math.min(Integer.MAX_VALUE - 8, bucketBytes / Float.BYTES));
    }

    int rank() {
        return collective.rank();
    }

    int worldSize() {
        return collective.worldSize();
    }

    boolean distributed() {
        return collective.worldSize() > 1;
    }

    /** What reduces the gradients: the host collective, or the engine's (NCCL). */
    String description() {
        return device == collective ? collective.description() : device.description();
    }

    /** Every rank takes rank 0's weights. */
    void broadcastWeights(Model model) {
        for (Parameter p : model.parameters()) {
            device.broadcast(p.value(), 0);
        }
    }

    /**
     * Makes each gradient the global batch's, {@code Σ_r share_r · g_r}, bucket by bucket in
     * reverse parameter order; then clips by global norm when {@code clip > 0}.
     */
    void reduceGradients(List<Parameter> params, double share, float clip) {
        long started = System.nanoTime();
        float scale = (float) share;
        List<Parameter> reversed = new ArrayList<>(params);
        java.util.Collections.reverse(reversed);
        if (device.readsDeviceMemory()) {
            // NCCL: each gradient in place on the engine's stream, scaled there first; no host copy.
            for (Parameter p : reversed) {
                p.grad().backend().tensorOps().scale(p.grad(), scale);
                device.allReduce(p.grad(), Collective.Reduction.SUM);
                reducedFloats += p.grad().shape().size();
            }
            reduceNanos += System.nanoTime() - started;
            reduceCalls++;
            clip(params, clip);
            return;
        }
        int total = 0;
        for (Parameter p : reversed) {
            total = Math.max(total, p.grad().shape().size());
        }
        float[] bucket = new float[Math.min(bucketFloats, Math.max(total, sum(reversed)))];
        List<Parameter> members = new ArrayList<>();
        List<float[]> grads = new ArrayList<>();
        int fill = 0;
        for (Parameter p : reversed) {
            float[] g = p.grad().toArray();
            for (int i = 0; i < g.length; i++) {
                g[i] *= scale;
            }
            if (g.length > bucket.length) { // larger than a bucket: on its own, after the open one
                flush(bucket, fill, members, grads);
                fill = 0;
                collective.allReduce(g, Collective.Reduction.SUM);
                reducedFloats += g.length;
                p.grad().copyFrom(g);
                continue;
            }
            if (fill + g.length > bucket.length) {
                flush(bucket, fill, members, grads);
                fill = 0;
            }
            System.arraycopy(g, 0, bucket, fill, g.length);
            fill += g.length;
            members.add(p);
            grads.add(g);
        }
        flush(bucket, fill, members, grads);
        reduceNanos += System.nanoTime() - started;
        reduceCalls++;
        clip(params, clip);
    }

    private void clip(List<Parameter> params, float clip) {
        if (clip > 0f && !params.isEmpty()) {
            Tensor first = params.get(0).grad();
            if (norm == null) {
                norm = first.backend().tensor(1);
            }
            first.backend().tensorOps().clipGlobalNorm(Parameter.gradients(params), clip, norm);
        }
    }

    private static int sum(List<Parameter> params) {
        long n = 0;
        for (Parameter p : params) {
            n += p.grad().shape().size();
        }
        return (int) Math.min(Integer.MAX_VALUE - 8, n);
    }

    private void flush(float[] bucket, int fill, List<Parameter> members, List<float[]> grads) {
        if (fill == 0) {
            return;
        }
        collective.allReduce(bucket, 0, fill, Collective.Reduction.SUM);
        reducedFloats += fill;
        int at = 0;
        for (int i = 0; i < members.size(); i++) {
            float[] g = grads.get(i);
            System.arraycopy(bucket, at, g, 0, g.length);
            at += g.length;
            members.get(i).grad().copyFrom(g);
        }
        members.clear();
        grads.clear();
    }

    /**
     * The global batch's loss from this rank's: {@code Σ_r share_r · loss_r}. The shares travel
     * with it and must sum to 1: a task whose shards miss part of the batch, or cover it twice,
     * is stopped at its first step rather than training on a wrong gradient.
     *
     * @throws IllegalStateException when the ranks' shares do not sum to 1
     */
    float reduceLoss(float loss, double share) {
        float[] v = {(float) (share * loss), (float) share};
        collective.allReduce(v, Collective.Reduction.SUM);
        if (Math.abs(v[1] - 1f) > 1e-5f) {
            throw new IllegalStateException("the ranks' shards of this step cover " + v[1] + " of the batch, not"
                    + " all of it once: the task does not shard its batches (TrainingTask.shard, shardShare)");
        }
        return v[0];
    }

    /** The mean over ranks of a validation loss (each rank's over its shard, or all of it). */
    double average(double value) {
        if (!distributed()) {
            return value;
        }
        // A double as two floats, hi + lo, so that the float32 collective keeps about 48 bits of it.
        float hi = (float) value;
        float[] v = {hi, (float) (value - hi)};
        collective.allReduce(v, Collective.Reduction.SUM);
        return ((double) v[0] + v[1]) / worldSize();
    }

    /** Seconds spent in gradient all-reduce so far (copies to and from host buckets included). */
    double reduceSeconds() {
        return reduceNanos / 1e9;
    }

    /** Gradient all-reduces so far (one per step). */
    long reduceCalls() {
        return reduceCalls;
    }

    /** float32 values all-reduced so far. */
    long reducedFloats() {
        return reducedFloats;
    }

    @Override
    public void close() {
        if (device != collective) {
            device.close();
        }
        if (norm != null) {
            norm.close();
            norm = null;
        }
    }
}
