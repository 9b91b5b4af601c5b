package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static dev.recur.cuda.Twins.assertSameBits;
import static dev.recur.cuda.Twins.assertWithin;
import static dev.recur.cuda.Twins.assertWithinUlps;
import static dev.recur.cuda.Twins.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link TensorOps} op of the CUDA engine against the CPU engine on fresh random inputs, on
 * the GPU (skipped, with the reason, without one). Where the kernel does the CPU's float32
 * operations in the CPU's order the test demands the same bits; where it sums in another order
 * the bound is written beside the assertion.
 */
class CudaTensorOpsTest {

    /** Odd sizes: one element, just past a warp, not a multiple of a block, past a grid-stride wrap. */
    private static final int[] SIZES = {1, 33, 1000, 70_000};
    /** CPU engine (2 threads), CUDA engine (default options) where a GPU is; each test skipped without one. */
    @RegisterExtension
    static final CudaTestEngines engines = new CudaTestEngines(2, CudaOptions.defaults());
    private static CpuBackend cpu;
    private static CudaBackend gpu;

    @BeforeAll
    static void start() {
        cpu = engines.cpu();
        gpu = engines.gpu();
    }

    @Test
    void attentionOpsAgreeWithTheCpuEngine() {
        Random r = new Random(120);
        // {N, R, L}: B = 1, one valid position, odd sizes, many rows (more than a grid-stride pass).
        int[][] shapes = {{1, 1, 1}, {1, 11, 10}, {64, 11, 10}, {7, 3, 33}, {300, 300, 5}};
        for (int[] shape : shapes) {
            int n = shape[0], rows = shape[1], cols = shape[2], size = n * rows * cols;
            int[] len = new int[n];
            for (int b = 0; b < n; b++) {
                len[b] = b == 0 ? cols : 1 + r.nextInt(cols);
            }
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Ids lengths = t.indices(len, n);
                Twins.Pair scores = t.tensor(gaussian(r, size, 3), shape);
                Twins.Pair probs = t.zeros(shape);
                String what = "maskedSoftmax " + java.util.Arrays.toString(shape);
                engines.both(be -> be.tensorOps().maskedSoftmax(scores.on(be), lengths.on(be), probs.on(be)));
                // expf (CUDA, <= 2 ulp) against the rounded double exp, a float32 sum of at most 33
                // terms in the same order and one division: within a few ulp of values <= 1.
                Twins.assertClose(probs.cpuValues(), probs.gpuValues(), 1e-6, 1e-5, what);
                float[] g = probs.gpuValues();
                for (int i = 0; i < size; i++) {
                    if (i % cols >= len[i / (rows * cols)]) {
                        assertEquals(0, Float.floatToIntBits(g[i]), what + ": masked probs[" + i + "] is +0");
                    }
                }
                // The backward from the same probabilities: no transcendental, the CPU's order: exact.
                Twins.Pair p = t.tensor(probs.cpuValues(), shape);
                Twins.Pair dProbs = t.tensor(gaussian(r, size, 1), shape);
                Twins.Pair dScores = t.zeros(shape);
                engines.both(be -> be.tensorOps().maskedSoftmaxBackward(p.on(be), dProbs.on(be), lengths.on(be),
                        dScores.on(be)));
                assertSameBits(dScores.cpuValues(), dScores.gpuValues(), "maskedSoftmaxBackward "
                        + java.util.Arrays.toString(shape));
            }
        }
        for (int n : SIZES) {
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair x = t.tensor(gaussian(r, n, 3), n);
                Twins.Pair y = t.zeros(n);
                engines.both(be -> be.tensorOps().tanh(x.on(be), y.on(be)));
                // tanhf (<= 2 ulp) against the correctly rounded double tanh: within 4 ulp, 2^-21 relative.
                Twins.assertClose(y.cpuValues(), y.gpuValues(), 1e-38, 4.8e-7, "tanh n=" + n);
                Twins.Pair dy = t.tensor(gaussian(r, n, 1), n);
                Twins.Pair dx = t.zeros(n);
                Twins.Pair yc = t.tensor(y.cpuValues(), n);
                engines.both(be -> be.tensorOps().tanhBackward(yc.on(be), dy.on(be), dx.on(be)));
                assertSameBits(dx.cpuValues(), dx.gpuValues(), "tanhBackward n=" + n);
            }
        }
        try (IndexTensor bad = gpu.indices(new int[] {3, 0}, 2); Tensor s = gpu.tensor(2, 1, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.tensorOps().maskedSoftmax(s, bad, s));
            assertTrue(e.getMessage().startsWith("maskedSoftmax: lengths[1] = 0 is outside 1..3"), e.getMessage());
        }
    }

    @Test
    void theOpsObjectIsMadeOnce() {
        assertSame(gpu.tensorOps(), gpu.tensorOps());
        assertTrue(gpu.tensorOps() instanceof CudaTensorOps);
    }

    @Test
    void elementWiseOpsAreTheCpuEnginesBitForBit() {
        Random r = new Random(101);
        for (int n : SIZES) {
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair x = t.tensor(gaussian(r, n, 1), n);
                Twins.Pair y = t.tensor(gaussian(r, n, 1), n);
                Twins.Pair z = t.zeros(n);
                // Exact: each element is one float32 product then one sum, rounded as Java rounds
                // them (the kernels are built with -fmad=false, so no fused multiply-add).
                engines.both(be -> be.tensorOps().axpy(0.37f, x.on(be), y.on(be)));
                assertSameBits(y.cpuValues(), y.gpuValues(), "axpy n=" + n);
                engines.both(be -> be.tensorOps().scale(y.on(be), -1.7f));
                assertSameBits(y.cpuValues(), y.gpuValues(), "scale n=" + n);
                engines.both(be -> be.tensorOps().multiply(x.on(be), y.on(be), z.on(be)));
                assertSameBits(z.cpuValues(), z.gpuValues(), "multiply n=" + n);
                engines.both(be -> be.tensorOps().multiply(x.on(be), y.on(be), x.on(be))); // out is a
                assertSameBits(x.cpuValues(), x.gpuValues(), "multiply in place n=" + n);
                // Exact: a copy.
                engines.both(be -> be.tensorOps().copy(y.on(be), z.on(be)));
                assertSameBits(y.gpuValues(), z.gpuValues(), "copy n=" + n);
                float[] before = z.gpuValues();
                gpu.tensorOps().copy(z.g(), z.g());
                assertSameBits(before, z.gpuValues(), "copy onto itself changes nothing, n=" + n);
            }
        }
    }

    @Test
    void biasRowsAreTheCpuEnginesBitForBit() {
        Random r = new Random(102);
        int[][] shapes = {{1, 1}, {33, 7}, {1000, 33}, {70, 1000}, {3, 11, 33}};
        for (int[] shape : shapes) {
            int f = shape[shape.length - 1];
            int size = 1;
            for (int d : shape) {
                size *= d;
            }
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair x = t.tensor(gaussian(r, size, 1), shape);
                Twins.Pair v = t.tensor(gaussian(r, f, 1), f);
                // Exact: one float32 sum per element, as on the CPU.
                engines.both(be -> be.tensorOps().addRowVector(x.on(be), v.on(be)));
                assertSameBits(x.cpuValues(), x.gpuValues(), "addRowVector " + java.util.Arrays.toString(shape));
            }
        }
    }

    @Test
    void columnSumsAgreeWithinTheRoundingBoundOfTheirOrder() {
        Random r = new Random(103);
        int[][] shapes = {{1, 1}, {33, 7}, {1000, 33}, {70_000, 3}, {7, 1000}, {9, 4, 33}};
        for (int[] shape : shapes) {
            int cols = shape[shape.length - 1];
            int size = 1;
            for (int d : shape) {
                size *= d;
            }
            int rows = size / cols;
            float[] xs = gaussian(r, size, 1);
            float[] start = gaussian(r, cols, 1);
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair x = t.tensor(xs, shape);
                Twins.Pair out = t.tensor(start, cols);
                engines.both(be -> be.tensorOps().addColumnSums(x.on(be), out.on(be)));
                // The CPU adds rows in order, the GPU in 8 row lanes then the lanes; each float32
                // sum of m terms is within (m - 1)·2^-24·Σ|terms| of the exact sum, so the two
                // differ by at most (2·rows + 10)·2^-24·(Σ_r |x[r, c]| + |out[c]|) (rows + 1 terms
                // on the CPU, rows/8 + 8 + 1 on the GPU, both bounds added).
                double[] bound = new double[cols];
                for (int c = 0; c < cols; c++) {
                    double abs = Math.abs(start[c]);
                    for (int row = 0; row < rows; row++) {
                        abs += Math.abs(xs[row * cols + c]);
                    }
                    bound[c] = (2.0 * rows + 10) * 0x1p-24 * abs;
                }
                assertWithin(out.cpuValues(), out.gpuValues(), bound, "addColumnSums " + java.util.Arrays.toString(shape));
            }
        }
    }

    /** Ids {@code [t, b]} in [0, vocab), half of them from the first few ids so that ids repeat a lot. */
    private static int[] ids(Random r, int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextBoolean() ? r.nextInt(Math.min(vocab, 5)) : r.nextInt(vocab);
        }
        return ids;
    }

    /** (T, B) of the ids, vocabulary, width: 1 to 70000 positions, 1 to 3 radix passes (V < 256, < 65536, more). */
    private static final int[][] EMBEDDINGS = {{1, 1, 1, 1}, {5, 7, 7, 33}, {100, 10, 256, 33}, {20, 50, 300, 1},
            {700, 100, 70_000, 33}, {70, 1000, 65_536, 2}, {3, 11, 1, 5}};

    @Test
    void embeddingLookupIsExact() {
        Random r = new Random(104);
        for (int[] e : EMBEDDINGS) {
            int steps = e[0];
            int batch = e[1];
            int vocab = e[2];
            int dim = e[3];
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair table = t.tensor(gaussian(r, vocab * dim, 1), vocab, dim);
                Twins.Ids ids = t.indices(ids(r, steps * batch, vocab), steps, batch);
                Twins.Pair out = t.zeros(steps, batch, dim);
                engines.both(be -> be.tensorOps().embeddingForward(table.on(be), ids.on(be), out.on(be)));
                // Exact: a gather of table rows.
                assertSameBits(out.cpuValues(), out.gpuValues(), "embeddingForward " + java.util.Arrays.toString(e));
            }
        }
    }

    @Test
    void embeddingGradientWithRepeatedIdsIsTheCpuEnginesAndRepeats() {
        Random r = new Random(105);
        for (int[] e : EMBEDDINGS) {
            int steps = e[0];
            int batch = e[1];
            int vocab = e[2];
            int dim = e[3];
            int n = steps * batch;
            float[] start = gaussian(r, vocab * dim, 1);
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Ids ids = t.indices(ids(r, n, vocab), steps, batch);
                Twins.Pair dOut = t.tensor(gaussian(r, n * dim, 1), steps, batch, dim);
                Twins.Pair dTable = t.tensor(start, vocab, dim);
                engines.both(be -> be.tensorOps().embeddingBackward(ids.on(be), dOut.on(be), dTable.on(be)));
                // Exact: the GPU sorts the positions stably by id and adds each id's rows in
                // ascending position onto the existing gradient, the CPU engine's float32 sums in
                // the CPU engine's order.
                float[] first = dTable.gpuValues();
                assertSameBits(dTable.cpuValues(), first, "embeddingBackward " + java.util.Arrays.toString(e));
                // Deterministic: the same inputs again give the same bits (no atomics, fixed shapes).
                dTable.g().copyFrom(start);
                gpu.tensorOps().embeddingBackward(ids.g(), dOut.g(), dTable.g());
                assertSameBits(first, dTable.gpuValues(), "embeddingBackward again " + java.util.Arrays.toString(e));
            }
        }
    }

    @Test
    void badIdsAreRefusedWithTheCpuEnginesMessage() {
        try (Twins t = new Twins(cpu, gpu)) {
            Twins.Pair table = t.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
            Twins.Ids ids = t.indices(new int[] {0, 2, 1, 3, 2, -1}, 2, 3);
            Twins.Pair out = t.zeros(2, 3, 2);
            Twins.Pair dOut = t.tensor(new float[12], 2, 3, 2);
            for (boolean forward : new boolean[] {true, false}) {
                String[] messages = new String[2];
                for (Backend be : new Backend[] {cpu, gpu}) {
                    Consumer<Backend> op = forward
                            ? b -> b.tensorOps().embeddingForward(table.on(b), ids.on(b), out.on(b))
                            : b -> b.tensorOps().embeddingBackward(ids.on(b), dOut.on(b), table.on(b));
                    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> op.accept(be));
                    messages[be == cpu ? 0 : 1] = x.getMessage();
                }
                assertEquals(messages[0], messages[1], "the same words on both engines");
                assertTrue(messages[1].contains("ids[3] = 3 is outside the vocabulary [0, 3)"), messages[1]);
            }
            ids.copyFrom(new int[] {0, 2, 1, 1, 2, -7});
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> gpu.tensorOps().embeddingForward(table.g(), ids.g(), out.g()));
            assertEquals("embeddingForward: ids[5] = -7 is outside the vocabulary [0, 3)", negative.getMessage());
            // Good ids uploaded over bad ones are accepted: the bounds follow the last upload.
            ids.copyFrom(new int[] {0, 2, 1, 1, 2, 0});
            engines.both(be -> be.tensorOps().embeddingForward(table.on(be), ids.on(be), out.on(be)));
            assertSameBits(out.cpuValues(), out.gpuValues(), "after a good upload");
        }
        try (IndexTensor zeros = gpu.indices(4); Tensor table = gpu.tensor(1, 3); Tensor out = gpu.tensor(4, 3)) {
            gpu.tensorOps().embeddingForward(table, zeros, out); // a new index tensor is zeros: id 0 of 1
        }
    }

    @Test
    void columnBlocksAndTransposeAreExact() {
        Random r = new Random(106);
        // (rows, a, w, offset): a one-column table, an odd block mid-row, a block at the right edge.
        int[][] blocks = {{1, 1, 1, 0}, {33, 7, 20, 13}, {1000, 33, 100, 50}, {2000, 35, 70, 35}, {5, 3, 3, 0}};
        for (int[] k : blocks) {
            int rows = k[0];
            int a = k[1];
            int w = k[2];
            int offset = k[3];
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair narrow = t.tensor(gaussian(r, rows * a, 1), rows, a);
                Twins.Pair wide = t.tensor(gaussian(r, rows * w, 1), rows, w);
                Twins.Pair back = t.zeros(rows, a);
                // Exact: copies.
                engines.both(be -> be.tensorOps().copyIntoColumns(narrow.on(be), wide.on(be), offset));
                assertSameBits(wide.cpuValues(), wide.gpuValues(), "copyIntoColumns " + java.util.Arrays.toString(k));
                engines.both(be -> be.tensorOps().copyFromColumns(wide.on(be), offset, back.on(be)));
                assertSameBits(back.cpuValues(), back.gpuValues(), "copyFromColumns " + java.util.Arrays.toString(k));
                assertSameBits(narrow.gpuValues(), back.gpuValues(), "into and back " + java.util.Arrays.toString(k));
            }
        }
        int[][] cubes = {{1, 1, 1}, {3, 5, 7}, {33, 2, 1}, {10, 100, 70}, {1, 9, 4}};
        for (int[] s : cubes) {
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair x = t.tensor(gaussian(r, s[0] * s[1] * s[2], 1), s);
                Twins.Pair out = t.zeros(s[1], s[0], s[2]);
                engines.both(be -> be.tensorOps().transpose01(x.on(be), out.on(be)));
                assertSameBits(out.cpuValues(), out.gpuValues(), "transpose01 " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void dropoutMasksAreTheCpuEnginesBitForBit() {
        Random r = new Random(107);
        long[][] streams = {{0, 0}, {-7, 3}, {1L << 50, 12_345_678_901L}};
        for (int n : SIZES) {
            for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f}) {
                for (long[] s : streams) {
                    try (Twins t = new Twins(cpu, gpu)) {
                        Twins.Pair x = t.tensor(gaussian(r, n, 1), n);
                        Twins.Pair y = t.zeros(n);
                        Twins.Pair mask = t.zeros(n);
                        engines.both(be -> be.tensorOps().dropout(x.on(be), y.on(be), mask.on(be), p, s[0], s[1]));
                        // Exact: the same SplitMix64 numbers, the same 1/(1-p), one float32 product.
                        String what = "dropout n=" + n + " p=" + p + " seed=" + s[0] + " counter=" + s[1];
                        assertSameBits(mask.cpuValues(), mask.gpuValues(), what + " mask");
                        assertSameBits(y.cpuValues(), y.gpuValues(), what + " y");
                    }
                }
            }
        }
    }

    @Test
    void clipGlobalNormMatchesTheCpuEngine() {
        Random r = new Random(108);
        for (float maxNorm : new float[] {0.5f, 1e6f}) {
            for (int count : new int[] {1, SIZES.length}) {
                try (Twins t = new Twins(cpu, gpu)) {
                    Twins.Pair[] grads = new Twins.Pair[count];
                    for (int i = 0; i < count; i++) {
                        int n = count == 1 ? 33 : SIZES[i];
                        grads[i] = t.tensor(gaussian(r, n, 1), n); // norm about sqrt(Σn) >= 5: above 0.5, far below 1e6
                    }
                    float[][] before = new float[count][];
                    for (int i = 0; i < count; i++) {
                        before[i] = grads[i].gpuValues();
                    }
                    Twins.Pair norm = t.tensor(new float[] {-1f}, 1);
                    engines.both(be -> {
                        List<Tensor> list = new java.util.ArrayList<>();
                        for (Twins.Pair g : grads) {
                            list.add(g.on(be));
                        }
                        be.tensorOps().clipGlobalNorm(list, maxNorm, norm.on(be));
                    });
                    String what = "clipGlobalNorm maxNorm=" + maxNorm + " tensors=" + count;
                    // Both engines square each float exactly in float64 and sum in float64, in
                    // different orders: the sums differ by about n·2^-53 relatively, so the float32
                    // norms are equal or, next to a rounding boundary, one ulp apart.
                    float[] cpuNorm = norm.cpuValues();
                    assertWithinUlps(cpuNorm, norm.gpuValues(), 1, what + " norm");
                    boolean scaled = cpuNorm[0] > maxNorm;
                    assertEquals(maxNorm < 1f, scaled, what + ": the case tested (norm " + cpuNorm[0] + ")");
                    for (int i = 0; i < count; i++) {
                        if (scaled) {
                            // Scale maxNorm / (norm + 1e-6) from norms at most one ulp apart: within
                            // about one ulp, and one more for the product.
                            assertWithinUlps(grads[i].cpuValues(), grads[i].gpuValues(), 2, what + " grads[" + i + "]");
                        } else {
                            // Exact: below maxNorm nothing is scaled on either engine.
                            assertSameBits(before[i], grads[i].gpuValues(), what + " grads[" + i + "] unchanged");
                            assertSameBits(grads[i].cpuValues(), grads[i].gpuValues(), what + " grads[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    @Test
    void reductionsRepeatBitForBit() {
        Random r = new Random(109);
        int rows = 3000;
        int cols = 77;
        float[] xs = gaussian(r, rows * cols, 1);
        float[][] gs = {gaussian(r, 70_000, 0.1), gaussian(r, 33, 0.1)};
        float[] firstSums = null;
        float[][] firstGrads = null;
        float[] firstNorm = null;
        for (int round = 0; round < 3; round++) {
            try (Tensor x = gpu.tensor(xs, rows, cols); Tensor sums = gpu.tensor(cols);
                 Tensor g0 = gpu.tensor(gs[0], gs[0].length); Tensor g1 = gpu.tensor(gs[1], gs[1].length);
                 Tensor norm = gpu.tensor(1)) {
                gpu.tensorOps().addColumnSums(x, sums);
                gpu.tensorOps().clipGlobalNorm(List.of(g0, g1), 0.5f, norm);
                if (round == 0) {
                    firstSums = sums.toArray();
                    firstGrads = new float[][] {g0.toArray(), g1.toArray()};
                    firstNorm = norm.toArray();
                } else {
                    // Exact: the sums have a fixed shape and no atomics (Note [Deterministic reductions]).
                    assertSameBits(firstSums, sums.toArray(), "addColumnSums round " + round);
                    assertSameBits(firstNorm, norm.toArray(), "norm round " + round);
                    assertSameBits(firstGrads[0], g0.toArray(), "clipped grads[0] round " + round);
                    assertSameBits(firstGrads[1], g1.toArray(), "clipped grads[1] round " + round);
                }
            }
        }
    }
}
