package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.LossOps;
import dev.recur.api.Tensor;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.Random;

import static dev.recur.cuda.Twins.assertClose;
import static dev.recur.cuda.Twins.assertSameBits;
import static dev.recur.cuda.Twins.assertWithinUlps;
import static dev.recur.cuda.Twins.gaussian;
import static dev.recur.cuda.Twins.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link LossOps} loss of the CUDA engine, value and gradient, against the CPU engine on
 * fresh random inputs, on the GPU (skipped, with the reason, without one). Tolerances, each with
 * its reason, are beside the assertions.
 */
class CudaLossOpsTest {

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
    void theOpsObjectIsMadeOnce() {
        assertSame(gpu.lossOps(), gpu.lossOps());
        assertTrue(gpu.lossOps() instanceof CudaLossOps);
    }

    /** Targets in [0, c), about a fifth of them {@code ignore}. */
    private static int[] targets(Random r, int n, int c, int ignore) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(5) == 0 ? ignore : r.nextInt(c);
        }
        return t;
    }

    /** (rows N, classes C): one row, one class, a warp's worth, C above and below the 256-thread cap. */
    private static final int[][] CROSS_ENTROPY = {{1, 1}, {1, 33}, {33, 2}, {33, 1000}, {1000, 33}, {70_000, 3},
            {2000, 300}};

    @Test
    void softmaxCrossEntropyMatchesTheCpuEngine() {
        Random r = new Random(201);
        for (int ignore : new int[] {-1, 0}) { // an index outside the classes, and one inside (class 0 ignored)
            for (int[] s : CROSS_ENTROPY) {
                int n = s[0];
                int c = s[1];
                int[] t = targets(r, n, c, ignore);
                int counted = 0;
                for (int v : t) {
                    counted += v == ignore ? 0 : 1;
                }
                String what = "softmaxCrossEntropy N=" + n + " C=" + c + " ignore=" + ignore + " counted=" + counted;
                try (Twins tw = new Twins(cpu, gpu)) {
                    Twins.Pair logits = tw.tensor(gaussian(r, n * c, 3), n, c);
                    Twins.Ids targets = tw.indices(t, n);
                    Twins.Pair loss = tw.zeros(1);
                    Twins.Pair d = tw.tensor(gaussian(r, n * c, 1), n, c); // stale values must be overwritten
                    engines.both(be -> be.lossOps().softmaxCrossEntropy(logits.on(be), targets.on(be), ignore,
                            loss.on(be), d.on(be)));
                    // The GPU takes each e^{x - max} in float32 (expf, within 2 ulp) where the CPU
                    // takes it in float64; both sum in float64. So log Σ differs by at most about
                    // 2.4e-7, the mean loss likewise, plus float32 rounding: 1e-6 leaves a margin of 3.
                    assertClose(loss.cpuValues(), loss.gpuValues(), 1e-6, 1e-6, what + " loss");
                    // Gradient p/count (minus 1/count at the target). The GPU's p = expf of x - logZ
                    // rounded to float32 carries relative errors of expf's 2 ulp (2.4e-7), logZ's
                    // 2.4e-7 and the argument's rounding (6e-8 where p is near 1, more only where p
                    // is tiny), so |gpu - cpu| <= about 6e-7·p/count: 3e-6/count holds with a margin
                    // of 5, also at the target column, where p/count - 1/count cancels.
                    double inv = counted == 0 ? 0 : 1.0 / counted;
                    assertClose(d.cpuValues(), d.gpuValues(), 3e-6 * inv, 3e-6, what + " dLogits");
                    // Without a gradient the loss is the same on the GPU, bit for bit (the same kernels).
                    float withGradient = loss.gpuValues()[0];
                    gpu.lossOps().softmaxCrossEntropy(logits.g(), targets.g(), ignore, loss.g(), null);
                    assertEquals(Float.floatToIntBits(withGradient), Float.floatToIntBits(loss.gpuValues()[0]),
                            what + " loss without dLogits");
                }
            }
        }
    }

    @Test
    void softmaxCrossEntropyWithEveryRowIgnoredIsZero() {
        Random r = new Random(202);
        for (int n : new int[] {1, 33, 1000}) {
            int c = 7;
            int[] t = new int[n];
            Arrays.fill(t, -100);
            try (Twins tw = new Twins(cpu, gpu)) {
                Twins.Pair logits = tw.tensor(gaussian(r, n * c, 3), n, c);
                Twins.Ids targets = tw.indices(t, n);
                Twins.Pair loss = tw.tensor(new float[] {42f}, 1);
                Twins.Pair d = tw.tensor(gaussian(r, n * c, 1), n, c);
                engines.both(be -> be.lossOps().softmaxCrossEntropy(logits.on(be), targets.on(be), -100, loss.on(be),
                        d.on(be)));
                // Exact: with no counted row the loss is 0 and the gradient is zero on both engines.
                assertSameBits(new float[] {0f}, loss.gpuValues(), "loss, n=" + n);
                assertSameBits(loss.cpuValues(), loss.gpuValues(), "loss like the CPU's, n=" + n);
                assertSameBits(new float[n * c], d.gpuValues(), "dLogits, n=" + n);
            }
        }
    }

    @Test
    void badTargetsAreRefusedWithTheCpuEnginesMessage() {
        try (Twins tw = new Twins(cpu, gpu)) {
            Twins.Pair logits = tw.tensor(new float[12], 4, 3);
            Twins.Ids targets = tw.indices(new int[] {0, -1, 3, 2}, 4);
            Twins.Pair loss = tw.zeros(1);
            String[] messages = new String[2];
            for (Backend be : new Backend[] {cpu, gpu}) {
                IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                        () -> be.lossOps().softmaxCrossEntropy(logits.on(be), targets.on(be), -1, loss.on(be), null));
                messages[be == cpu ? 0 : 1] = x.getMessage();
            }
            assertEquals(messages[0], messages[1], "the same words on both engines");
            assertEquals("softmaxCrossEntropy: targets[2] = 3 is outside [0, 3) and is not the ignore index -1",
                    messages[1]);
            // -1 is bad when the ignore index is another value.
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> gpu.lossOps().softmaxCrossEntropy(logits.g(), targets.g(), -100, loss.g(), null));
            assertTrue(x.getMessage().contains("targets[1] = -1"), x.getMessage());
            targets.copyFrom(new int[] {0, -1, 2, 2});
            engines.both(be -> be.lossOps().softmaxCrossEntropy(logits.on(be), targets.on(be), -1, loss.on(be), null));
            // ln 3 for uniform logits; the CPU and GPU values agree as in the test above.
            assertClose(loss.cpuValues(), loss.gpuValues(), 1e-6, 1e-6, "after a good upload");
        }
    }

    @Test
    void nonFiniteLogitsAreRefusedWithTheCpuEnginesMessage() {
        try (Twins tw = new Twins(cpu, gpu)) {
            float[] x = new float[6];
            x[4] = Float.NaN;
            Twins.Pair logits = tw.tensor(x, 2, 3);
            Twins.Ids targets = tw.indices(new int[] {0, 1}, 2);
            Twins.Pair loss = tw.zeros(1);
            String[] messages = new String[2];
            for (Backend be : new Backend[] {cpu, gpu}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> be.lossOps().softmaxCrossEntropy(logits.on(be), targets.on(be), -1, loss.on(be), null));
                messages[be == cpu ? 0 : 1] = e.getMessage();
            }
            assertEquals(messages[0], messages[1]);
        }
    }

    @Test
    void meanSquaredErrorMatchesTheCpuEngine() {
        Random r = new Random(203);
        for (int n : SIZES) {
            for (int[] shape : new int[][] {{n}, {1, n}}) {
                try (Twins tw = new Twins(cpu, gpu)) {
                    Twins.Pair pred = tw.tensor(gaussian(r, n, 1), shape);
                    Twins.Pair target = tw.tensor(gaussian(r, n, 1), shape);
                    Twins.Pair loss = tw.zeros(1);
                    Twins.Pair d = tw.tensor(gaussian(r, n, 1), shape);
                    engines.both(be -> be.lossOps().meanSquaredError(pred.on(be), target.on(be), loss.on(be),
                            d.on(be)));
                    String what = "meanSquaredError n=" + n + " shape " + Arrays.toString(shape);
                    // Non-negative float64 terms (exact squares of float32 differences) summed in
                    // two orders differ relatively by about n·2^-53: the float32 means are equal or
                    // one ulp apart.
                    assertWithinUlps(loss.cpuValues(), loss.gpuValues(), 1, what + " loss");
                    // Exact: (2/n)·(pred - target), the same two float32 operations.
                    assertSameBits(d.cpuValues(), d.gpuValues(), what + " dPred");
                    float withGradient = loss.gpuValues()[0];
                    gpu.lossOps().meanSquaredError(pred.g(), target.g(), loss.g(), null);
                    assertEquals(Float.floatToIntBits(withGradient), Float.floatToIntBits(loss.gpuValues()[0]),
                            what + " loss without dPred");
                }
            }
        }
    }

    @Test
    void binaryCrossEntropyWithLogitsMatchesTheCpuEngine() {
        Random r = new Random(204);
        for (int n : SIZES) {
            float[] t = uniform(r, n, 0, 1);
            for (int i = 0; i < n; i += 3) {
                t[i] = i % 2 == 0 ? 0f : 1f; // hard labels too
            }
            try (Twins tw = new Twins(cpu, gpu)) {
                Twins.Pair logits = tw.tensor(gaussian(r, n, 4), n);
                Twins.Pair target = tw.tensor(t, n);
                Twins.Pair loss = tw.zeros(1);
                Twins.Pair d = tw.tensor(gaussian(r, n, 1), n);
                engines.both(be -> be.lossOps().binaryCrossEntropyWithLogits(logits.on(be), target.on(be), loss.on(be),
                        d.on(be)));
                String what = "binaryCrossEntropyWithLogits n=" + n;
                // Each term is non-negative and computed in float64 on both engines (exp and log1p
                // within an ulp or two of float64 on each); the sums differ relatively by about
                // n·2^-53: the float32 means are equal or one ulp apart.
                assertWithinUlps(loss.cpuValues(), loss.gpuValues(), 1, what + " loss");
                // (σ(x) - t)/n in float64 from float64 exp on both engines, then rounded to
                // float32: equal or one ulp apart.
                assertWithinUlps(d.cpuValues(), d.gpuValues(), 1, what + " dLogits");
                float withGradient = loss.gpuValues()[0];
                gpu.lossOps().binaryCrossEntropyWithLogits(logits.g(), target.g(), loss.g(), null);
                assertEquals(Float.floatToIntBits(withGradient), Float.floatToIntBits(loss.gpuValues()[0]),
                        what + " loss without dLogits");
            }
        }
    }

    @Test
    void lossesRepeatBitForBit() {
        Random r = new Random(205);
        int n = 5000;
        int c = 97;
        float[] x = gaussian(r, n * c, 3);
        int[] t = targets(r, n, c, -1);
        float[] p = gaussian(r, 70_000, 1);
        float[] q = uniform(r, 70_000, 0, 1);
        float[][] first = null;
        for (int round = 0; round < 3; round++) {
            try (Tensor logits = gpu.tensor(x, n, c); dev.recur.api.IndexTensor targets = gpu.indices(t, n);
                 Tensor d = gpu.tensor(n, c); Tensor pred = gpu.tensor(p, p.length); Tensor target = gpu.tensor(q, q.length);
                 Tensor dp = gpu.tensor(p.length); Tensor l1 = gpu.tensor(1); Tensor l2 = gpu.tensor(1);
                 Tensor l3 = gpu.tensor(1)) {
                gpu.lossOps().softmaxCrossEntropy(logits, targets, -1, l1, d);
                gpu.lossOps().meanSquaredError(pred, target, l2, null);
                gpu.lossOps().binaryCrossEntropyWithLogits(pred, target, l3, dp);
                float[][] now = {l1.toArray(), d.toArray(), l2.toArray(), l3.toArray(), dp.toArray()};
                if (first == null) {
                    first = now;
                } else {
                    // Exact: fixed-shape float64 sums, no atomics (Note [Deterministic reductions]).
                    for (int i = 0; i < now.length; i++) {
                        assertSameBits(first[i], now[i], "round " + round + " result " + i);
                    }
                }
            }
        }
    }
}
