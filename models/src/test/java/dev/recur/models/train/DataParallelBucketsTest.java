package dev.recur.models.train;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Collective;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link DataParallel}'s gradient reduction, in one process, against a collective that plays a
 * world of two identical ranks (a sum doubles every value) and records each call's size: the
 * buckets' order and sizes, and that {@code Σ_r share_r · g_r} with share 1/2 gives back each
 * gradient exactly (small integers; halving and doubling are exact in float32). Both paths: host
 * buckets (MPI) and tensor by tensor (a collective that reads the engine's memory, as NCCL does).
 */
class DataParallelBucketsTest {

    static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** Rank 0 of 2, whose peer holds the same values: SUM doubles, AVERAGE keeps. */
    static final class MirrorWorld implements Collective {
        final boolean device;
        final List<Integer> calls = new ArrayList<>();

        MirrorWorld(boolean device) {
            this.device = device;
        }

        public String description() {
            return "mirror";
        }

        public int rank() {
            return 0;
        }

        public int worldSize() {
            return 2;
        }

        public boolean readsDeviceMemory() {
            return device;
        }

        public void allReduce(float[] data, int offset, int count, Reduction op) {
            calls.add(count);
            for (int i = offset; i < offset + count; i++) {
                data[i] = op == Reduction.SUM ? data[i] * 2 : data[i];
            }
        }

        public void allReduce(Tensor t, Reduction op) {
            if (!device) {
                Collective.super.allReduce(t, op);
                return;
            }
            calls.add(-t.shape().size()); // negative: a tensor call, not a host bucket
            float[] h = t.toArray();
            for (int i = 0; i < h.length; i++) {
                h[i] *= op == Reduction.SUM ? 2 : 1;
            }
            t.copyFrom(h);
        }

        public void broadcast(float[] data, int offset, int count, int root) {
        }

        public void broadcast(byte[] data, int root) {
        }

        public void barrier() {
        }

        public void abort(int exitCode) {
            throw new AssertionError("abort");
        }

        public void close() {
        }
    }

    /** Parameters of these sizes, gradient i filled with small integers. */
    static List<Parameter> params(int... sizes) {
        List<Parameter> out = new ArrayList<>();
        for (int p = 0; p < sizes.length; p++) {
            float[] g = new float[sizes[p]];
            for (int i = 0; i < g.length; i++) {
                g[i] = (p + 1) * 10 + i - 3;
            }
            out.add(new Parameter("p" + p, be.tensor(sizes[p]), be.tensor(g, sizes[p])));
        }
        return out;
    }

    @Test
    void hostBucketsGoInReverseParameterOrderAndGiveTheGlobalGradient() {
        // Buckets of 8 floats; parameters of 3, 5, 10, 2 in model order. Reverse: 2 opens a
        // bucket; 10 fits no bucket, so the open one goes, then 10 alone; 5 opens a bucket and 3
        // fills it to 8, sent at the end.
        List<Parameter> ps = params(3, 5, 10, 2);
        List<float[]> before = ps.stream().map(p -> p.grad().toArray()).toList();
        MirrorWorld world = new MirrorWorld(false);
        try (DataParallel dp = new DataParallel(world, be, 8 * Float.BYTES)) {
            dp.reduceGradients(ps, 0.5, 0f);
            assertEquals(List.of(2, 10, 8), world.calls);
            assertEquals(20, dp.reducedFloats());
            assertEquals(1, dp.reduceCalls());
        }
        for (int i = 0; i < ps.size(); i++) {
            assertArrayEquals(before.get(i), ps.get(i).grad().toArray(), ps.get(i).name());
        }
    }

    @Test
    void aDeviceCollectiveReducesTensorByTensorInReverseOrder() {
        List<Parameter> ps = params(3, 5, 10, 2);
        List<float[]> before = ps.stream().map(p -> p.grad().toArray()).toList();
        MirrorWorld world = new MirrorWorld(true);
        try (DataParallel dp = new DataParallel(world, be, 8 * Float.BYTES)) {
            dp.reduceGradients(ps, 0.5, 0f);
            assertEquals(List.of(-2, -10, -5, -3), world.calls);
        }
        for (int i = 0; i < ps.size(); i++) {
            assertArrayEquals(before.get(i), ps.get(i).grad().toArray(), ps.get(i).name());
        }
    }

    @Test
    void sharesThatDoNotCoverTheBatchOnceAreRefused() {
        try (DataParallel dp = new DataParallel(new MirrorWorld(false), be, 1 << 20)) {
            assertEquals(3f, dp.reduceLoss(3f, 0.5), 0f); // two halves: the whole batch
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> dp.reduceLoss(3f, 1.0)); // each rank claims the whole batch
            assertEquals("the ranks' shards of this step cover 2.0 of the batch, not all of it once: the task does not"
                    + " shard its batches (TrainingTask.shard, shardShare)", e.getMessage());
        }
    }

    @Test
    void unevenSharesWeightEachRanksGradient() {
        // A share of 1/4 (this rank held 1 of 4 examples): the mirrored peer holds the same, so the
        // global gradient is 2 · g / 4 = g / 2.
        List<Parameter> ps = params(4);
        float[] g = ps.get(0).grad().toArray();
        try (DataParallel dp = new DataParallel(new MirrorWorld(false), be, 1 << 20)) {
            dp.reduceGradients(ps, 0.25, 0f);
        }
        float[] got = ps.get(0).grad().toArray();
        for (int i = 0; i < g.length; i++) {
            assertEquals(g[i] / 2, got[i], 0f);
        }
    }
}
