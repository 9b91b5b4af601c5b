package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.OptimizerOps;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Random;

import static dev.recur.cuda.Twins.assertSameBits;
import static dev.recur.cuda.Twins.gaussian;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link OptimizerOps} update of the CUDA engine against the CPU engine over several steps
 * with fresh gradients, on the GPU (skipped, with the reason, without one). The test demands the
 * same bits: each kernel does the CPU engine's float32 operations in the same order, with
 * {@code -fmad=false} (no fused multiply-add), IEEE division and square root (nvcc's default,
 * which {@code sqrtf} and {@code /} then give correctly rounded, as Java's {@code (float)
 * Math.sqrt} of a float and float division are), and Adam's bias corrections computed on the host
 * by the same expressions. A difference of one bit in step 1 would grow over the steps.
 */
class CudaOptimizerOpsTest {

    private static final int[] SIZES = {1, 33, 1000, 70_000};
    private static final int STEPS = 5;
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
        assertSame(gpu.optimizerOps(), gpu.optimizerOps());
        assertTrue(gpu.optimizerOps() instanceof CudaOptimizerOps);
    }

    /** One optimizer's update of param from grad and two state tensors, on one engine. */
    @FunctionalInterface
    private interface Update {
        void apply(Backend be, Twins.Pair param, Twins.Pair grad, Twins.Pair s1, Twins.Pair s2, int step);
    }

    /** Runs {@code update} for STEPS steps on both engines and demands the same bits after each. */
    private static void compare(String what, Update update) {
        Random r = new Random(what.hashCode());
        for (int n : SIZES) {
            try (Twins t = new Twins(cpu, gpu)) {
                Twins.Pair param = t.tensor(gaussian(r, n, 1), n);
                Twins.Pair s1 = t.zeros(n);
                Twins.Pair s2 = t.zeros(n);
                for (int step = 1; step <= STEPS; step++) {
                    Twins.Pair grad = t.tensor(gaussian(r, n, 0.5), n);
                    for (Backend be : new Backend[] {cpu, gpu}) {
                        update.apply(be, param, grad, s1, s2, step);
                    }
                    String at = what + " n=" + n + " step " + step;
                    // Exact: see the class comment.
                    assertSameBits(param.cpuValues(), param.gpuValues(), at + " param");
                    assertSameBits(s1.cpuValues(), s1.gpuValues(), at + " state 1");
                    assertSameBits(s2.cpuValues(), s2.gpuValues(), at + " state 2");
                }
            }
        }
    }

    @Test
    void sgdInEveryFormIsTheCpuEnginesBitForBit() {
        compare("sgd", (be, p, g, v, unused, step) -> be.optimizerOps().sgd(p.on(be), g.on(be), null, 0.1f, 0f, 0f,
                false));
        compare("sgd weight decay", (be, p, g, v, unused, step) -> be.optimizerOps().sgd(p.on(be), g.on(be), null,
                0.1f, 0f, 1e-2f, false));
        compare("sgd momentum", (be, p, g, v, unused, step) -> be.optimizerOps().sgd(p.on(be), g.on(be), v.on(be),
                0.05f, 0.9f, 0f, false));
        compare("sgd nesterov weight decay", (be, p, g, v, unused, step) -> be.optimizerOps().sgd(p.on(be), g.on(be),
                v.on(be), 0.05f, 0.9f, 1e-2f, true));
    }

    @Test
    void rmspropIsTheCpuEnginesBitForBit() {
        compare("rmsprop", (be, p, g, s, unused, step) -> be.optimizerOps().rmsprop(p.on(be), g.on(be), s.on(be),
                0.01f, 0.99f, 1e-8f, 0f));
        compare("rmsprop weight decay", (be, p, g, s, unused, step) -> be.optimizerOps().rmsprop(p.on(be), g.on(be),
                s.on(be), 0.01f, 0.9f, 1e-6f, 1e-2f));
    }

    @Test
    void adamAndAdamWAreTheCpuEnginesBitForBit() {
        compare("adam", (be, p, g, m, v, step) -> be.optimizerOps().adam(p.on(be), g.on(be), m.on(be), v.on(be), step,
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false));
        compare("adam weight decay", (be, p, g, m, v, step) -> be.optimizerOps().adam(p.on(be), g.on(be), m.on(be),
                v.on(be), step, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, false));
        compare("adamw", (be, p, g, m, v, step) -> be.optimizerOps().adam(p.on(be), g.on(be), m.on(be), v.on(be), step,
                1e-2f, 0.8f, 0.99f, 1e-6f, 0.1f, true));
    }
}
