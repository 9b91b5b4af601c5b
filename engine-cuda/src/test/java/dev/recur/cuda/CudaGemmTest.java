package dev.recur.cuda;

import dev.recur.api.Tensor;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.Random;

import static dev.recur.cuda.RowMajorGemmTest.assertExact;
import static dev.recur.cuda.RowMajorGemmTest.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cuBLAS GEMMs through {@link CudaBackend} against the CPU engine, on the GPU (skipped, with the
 * reason, without one). Inputs are small integers, so every product and partial sum is an
 * integer below 2^24 that float32 holds exactly, whatever order cuBLAS sums in: the results must
 * be equal, and any layout mistake shows as a mismatch rather than as rounding.
 */
class CudaGemmTest {

    private static final int[] SIZES = {1, 7, 33, 65};
    /** CPU engine (2 threads), CUDA engine (default options) where a GPU is; each test skipped without one. */
    @RegisterExtension
    static final CudaTestEngines engines = new CudaTestEngines(2, CudaOptions.defaults());
    private static CudaBackend gpu;
    private static CpuBackend cpu;

    @BeforeAll
    static void start() {
        cpu = engines.cpu();
        gpu = engines.gpu();
    }

    @Test
    void everyTransposeAndOddSizeMatchesTheCpuEngine() {
        // The backend holds blocks of its own (the finiteness check's scratch): count from here.
        int live = gpu.allocator().stats().liveBlocks();
        Random r = new Random(21);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int m : SIZES) {
                    for (int n : SIZES) {
                        for (int k : SIZES) {
                            int[] aShape = ta ? new int[] {k, m} : new int[] {m, k};
                            int[] bShape = tb ? new int[] {n, k} : new int[] {k, n};
                            float[] a = ints(r, m * k);
                            float[] b = ints(r, k * n);
                            float[] c = ints(r, m * n);
                            String what = "transA=" + ta + " transB=" + tb + " m=" + m + " n=" + n + " k=" + k;
                            assertExact(run(cpu, ta, tb, 2, a, aShape, b, bShape, -1, c, m, n),
                                    run(gpu, ta, tb, 2, a, aShape, b, bShape, -1, c, m, n), what);
                        }
                    }
                }
            }
        }
        assertEquals(live, gpu.allocator().stats().liveBlocks(), "every tensor of the test was closed");
    }

    @Test
    void stridedBatchedMatchesTheCpuEngine() {
        Random r = new Random(22);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int batch : new int[] {1, 3}) {
                    for (int[] mnk : new int[][] {{1, 1, 1}, {7, 33, 1}, {33, 7, 65}, {65, 65, 7}}) {
                        int m = mnk[0];
                        int n = mnk[1];
                        int k = mnk[2];
                        int[] aShape = ta ? new int[] {batch, k, m} : new int[] {batch, m, k};
                        int[] bShape = tb ? new int[] {batch, n, k} : new int[] {batch, k, n};
                        float[] a = ints(r, batch * m * k);
                        float[] b = ints(r, batch * k * n);
                        float[] c = ints(r, batch * m * n);
                        String what = "batch=" + batch + " transA=" + ta + " transB=" + tb + " m=" + m + " n=" + n
                                + " k=" + k;
                        assertExact(runBatched(cpu, ta, tb, a, aShape, b, bShape, c, batch, m, n),
                                runBatched(gpu, ta, tb, a, aShape, b, bShape, c, batch, m, n), what);
                    }
                }
            }
        }
    }

    @Test
    void withBetaZeroTheOutputIsNotRead() {
        Random r = new Random(23);
        float[] a = ints(r, 33 * 7);
        float[] b = ints(r, 7 * 65);
        float[] nan = new float[33 * 65];
        Arrays.fill(nan, Float.NaN);
        float[] want = run(cpu, false, false, 1, a, new int[] {33, 7}, b, new int[] {7, 65}, 0, new float[33 * 65], 33, 65);
        assertExact(want, run(gpu, false, false, 1, a, new int[] {33, 7}, b, new int[] {7, 65}, 0, nan, 33, 65),
                "NaN in C with beta = 0");
    }

    @Test
    void theSecondStreamsHandleComputesTheSameAndJoinsBack() {
        Random r = new Random(24);
        int m = 33;
        int n = 65;
        int k = 7;
        float[] a = ints(r, m * k);
        float[] b = ints(r, n * k);
        float[] want = run(cpu, false, true, 1, a, new int[] {m, k}, b, new int[] {n, k}, 0, new float[m * n], m, n);
        try (Tensor ta = gpu.tensor(a, m, k); Tensor tb = gpu.tensor(b, n, k); Tensor tc = gpu.tensor(m, n)) {
            gpu.secondWaitsForMain(); // the uploads above ran on the main stream
            gpu.blas().gemm(gpu.secondStream(), false, true, m, n, k, 1, CudaBackend.address(ta), k,
                    CudaBackend.address(tb), k, 0, CudaBackend.address(tc), n);
            gpu.mainWaitsForSecond(); // so the download below, on the main stream, sees the product
            assertExact(want, tc.toArray(), "gemm on the second stream");
        }
    }

    @Test
    void aSliceOfABiggerBufferIsMultipliedInPlace() {
        // One time step of a [T, B, G·H] buffer times a weight, written into step 2 of [T, B, H]:
        // the per-step pattern of the layer code, through element offsets.
        Random r = new Random(25);
        int steps = 4;
        int batch = 3;
        int hidden = 5;
        float[] h = ints(r, steps * batch * hidden);
        float[] w = ints(r, 2 * hidden * hidden);
        try (Tensor th = gpu.tensor(h, steps, batch, hidden); Tensor tw = gpu.tensor(w, 2 * hidden, hidden);
             Tensor out = gpu.tensor(steps, batch, 2 * hidden)) {
            CudaTensor ch = CudaBackend.cuda(th);
            CudaTensor co = CudaBackend.cuda(out);
            gpu.blas().gemm(gpu.mainStream(), false, true, batch, 2 * hidden, hidden, 1, ch.address(1L * batch * hidden),
                    hidden, CudaBackend.address(tw), hidden, 0, co.address(2L * batch * 2 * hidden), 2 * hidden);
            float[] step1 = Arrays.copyOfRange(h, batch * hidden, 2 * batch * hidden);
            float[] want = run(cpu, false, true, 1, step1, new int[] {batch, hidden}, w, new int[] {2 * hidden, hidden},
                    0, new float[batch * 2 * hidden], batch, 2 * hidden);
            float[] got = out.toArray();
            assertExact(want, Arrays.copyOfRange(got, 2 * batch * 2 * hidden, 3 * batch * 2 * hidden), "step 2 of out");
            for (int i = 0; i < got.length; i++) {
                if (i < 2 * batch * 2 * hidden || i >= 3 * batch * 2 * hidden) {
                    assertEquals(0f, got[i], "element " + i + " outside the written step");
                }
            }
        }
    }

    @Test
    void aTf32BackendMultipliesSmallIntegersExactlyToo() {
        // Integers in [-4, 4] are exact in TF32's 10-bit mantissa and sums are kept in float32,
        // so even with tensor cores allowed the product is exact.
        Random r = new Random(26);
        float[] a = ints(r, 65 * 33);
        float[] b = ints(r, 33 * 7);
        float[] want = run(cpu, false, false, 1, a, new int[] {65, 33}, b, new int[] {33, 7}, 0, new float[65 * 7], 65, 7);
        try (CudaBackend tf32 = new CudaBackend(new CudaOptions(0, true, false))) {
            assertTrue(tf32.options().tf32() && tf32.describe().endsWith("TF32 allowed"), tf32.describe());
            assertExact(want, run(tf32, false, false, 1, a, new int[] {65, 33}, b, new int[] {33, 7}, 0,
                    new float[65 * 7], 65, 7), "TF32");
        }
    }

    @Test
    void aCpuTensorIsRefusedByName() {
        try (Tensor a = gpu.tensor(2, 3); Tensor b = cpu.tensor(3, 4); Tensor c = gpu.tensor(2, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.gemm(false, false, 1, a, b, 0, c));
            assertTrue(e.getMessage().contains("gemm: b belongs to backend cpu"), e.getMessage());
        }
    }

    private static float[] run(dev.recur.api.Backend be, boolean ta, boolean tb, float alpha, float[] a, int[] aShape,
                               float[] b, int[] bShape, float beta, float[] c, int m, int n) {
        try (Tensor at = be.tensor(a, aShape); Tensor bt = be.tensor(b, bShape); Tensor ct = be.tensor(c, m, n)) {
            be.gemm(ta, tb, alpha, at, bt, beta, ct);
            return ct.toArray();
        }
    }

    private static float[] runBatched(dev.recur.api.Backend be, boolean ta, boolean tb, float[] a, int[] aShape,
                                      float[] b, int[] bShape, float[] c, int batch, int m, int n) {
        try (Tensor at = be.tensor(a, aShape); Tensor bt = be.tensor(b, bShape); Tensor ct = be.tensor(c, batch, m, n)) {
            be.gemmStridedBatched(ta, tb, 3, at, bt, -2, ct);
            return ct.toArray();
        }
    }
}
