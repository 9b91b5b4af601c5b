package dev.recur.cuda;

import dev.recur.api.Tensor;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudaGemm}'s row-major to column-major mapping, without a GPU: the column-major calls it
 * makes are run by {@link ReferenceBlas}, a plain-Java twin of cuBLAS's {@code sgemm} contract
 * working on native memory, and the results must equal the CPU engine's bit for bit (small
 * integers, so float32 is exact and any indexing mistake shows).
 */
class RowMajorGemmTest {

    private static final int[] SIZES = {1, 7, 33, 65};
    private static CpuBackend cpu;

    @BeforeAll
    static void start() {
        cpu = new CpuBackend(1);
    }

    @AfterAll
    static void stop() {
        cpu.close();
    }

    /**
     * cuBLAS's column-major GEMM written out as loops over raw addresses: element (i, j) of a
     * column-major matrix with leading dimension ld is at {@code base + 4·(i + j·ld)}.
     */
    static final class ReferenceBlas implements ColumnMajorSgemm {
        int calls;

        @Override
        public void sgemm(int opA, int opB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                          float beta, long c, int ldc) {
            calls++;
            MemorySegment all = MemorySegment.ofAddress(0).reinterpret(Long.MAX_VALUE);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0;
                    for (int p = 0; p < k; p++) {
                        // op(A)(i, p): A is m×k (N) or k×m (T)
                        long ai = opA == OP_N ? i + (long) p * lda : p + (long) i * lda;
                        long bi = opB == OP_N ? p + (long) j * ldb : j + (long) p * ldb;
                        s += all.get(JAVA_FLOAT, a + 4 * ai) * all.get(JAVA_FLOAT, b + 4 * bi);
                    }
                    long ci = c + 4 * (i + (long) j * ldc);
                    float old = beta == 0 ? 0 : all.get(JAVA_FLOAT, ci);
                    all.set(JAVA_FLOAT, ci, alpha * s + beta * old);
                }
            }
        }

        @Override
        public void sgemmStridedBatched(int opA, int opB, int m, int n, int k, float alpha, long a, int lda,
                                        long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                                        long strideC, int batch) {
            for (int i = 0; i < batch; i++) {
                sgemm(opA, opB, m, n, k, alpha, a + 4 * i * strideA, lda, b + 4 * i * strideB, ldb, beta,
                        c + 4 * i * strideC, ldc);
            }
        }
    }

    static float[] ints(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(9) - 4;
        }
        return v;
    }

    private static MemorySegment copy(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(JAVA_FLOAT, Math.max(1, v.length));
        MemorySegment.copy(v, 0, s, JAVA_FLOAT, 0, v.length);
        return s;
    }

    private static float[] read(MemorySegment s, int n) {
        float[] v = new float[n];
        MemorySegment.copy(s, JAVA_FLOAT, 0, v, 0, n);
        return v;
    }

    @Test
    void everyTransposeAndOddSizeMatchesTheCpuEngineExactly() {
        Random r = new Random(11);
        ReferenceBlas blas = new ReferenceBlas();
        int cases = 0;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int m : SIZES) {
                    for (int n : SIZES) {
                        for (int k : SIZES) {
                            float[] a = ints(r, m * k);
                            float[] b = ints(r, k * n);
                            float[] c = ints(r, m * n);
                            float alpha = 2;
                            float beta = -1;
                            float[] want = cpuGemm(ta, tb, m, n, k, alpha, a, b, beta, c);
                            try (Arena arena = Arena.ofConfined()) {
                                MemorySegment da = copy(arena, a);
                                MemorySegment db = copy(arena, b);
                                MemorySegment dc = copy(arena, c);
                                CudaGemm.rowMajor(blas, ta, tb, m, n, k, alpha, da.address(), ta ? m : k,
                                        db.address(), tb ? k : n, beta, dc.address(), n);
                                assertExact(want, read(dc, m * n), "transA=" + ta + " transB=" + tb + " m=" + m
                                        + " n=" + n + " k=" + k);
                            }
                            cases++;
                        }
                    }
                }
            }
        }
        assertEquals(4 * SIZES.length * SIZES.length * SIZES.length, cases);
        assertEquals(cases, blas.calls, "one column-major call per GEMM");
    }

    @Test
    void rowStridesLargerThanTheRowsAddressSubMatrices() {
        // A [3, 4] inside rows of 10, B [4, 5] inside rows of 6, C [3, 5] inside rows of 7: the
        // padding must be neither read into the product nor written.
        Random r = new Random(5);
        int m = 3;
        int n = 5;
        int k = 4;
        float[] aWide = ints(r, m * 10);
        float[] bWide = ints(r, k * 6);
        float[] cWide = ints(r, m * 7);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            System.arraycopy(aWide, i * 10, a, i * k, k);
            System.arraycopy(cWide, i * 7, c, i * n, n);
        }
        for (int p = 0; p < k; p++) {
            System.arraycopy(bWide, p * 6, b, p * n, n);
        }
        float[] want = cpuGemm(false, false, m, n, k, 1, a, b, 1, c);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dc = copy(arena, cWide);
            CudaGemm.rowMajor(new ReferenceBlas(), false, false, m, n, k, 1, copy(arena, aWide).address(), 10,
                    copy(arena, bWide).address(), 6, 1, dc.address(), 7);
            float[] got = read(dc, cWide.length);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < 7; j++) {
                    float expected = j < n ? want[i * n + j] : cWide[i * 7 + j];
                    assertEquals(expected, got[i * 7 + j], "C[" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void stridedBatchedMatchesTheCpuEngineExactly() {
        Random r = new Random(12);
        int batch = 3;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] mnk : new int[][] {{1, 1, 1}, {7, 33, 1}, {33, 7, 65}, {65, 1, 7}}) {
                    int m = mnk[0];
                    int n = mnk[1];
                    int k = mnk[2];
                    float[] a = ints(r, batch * m * k);
                    float[] b = ints(r, batch * k * n);
                    float[] c = ints(r, batch * m * n);
                    float[] want;
                    try (Tensor ta3 = cpu.tensor(a, ta ? new int[] {batch, k, m} : new int[] {batch, m, k});
                         Tensor tb3 = cpu.tensor(b, tb ? new int[] {batch, n, k} : new int[] {batch, k, n});
                         Tensor tc3 = cpu.tensor(c, batch, m, n)) {
                        cpu.gemmStridedBatched(ta, tb, 3, ta3, tb3, 0.5f, tc3);
                        want = tc3.toArray();
                    }
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment dc = copy(arena, c);
                        CudaGemm.rowMajorStridedBatched(new ReferenceBlas(), ta, tb, m, n, k, 3,
                                copy(arena, a).address(), ta ? m : k, (long) m * k, copy(arena, b).address(),
                                tb ? k : n, (long) k * n, 0.5f, dc.address(), n, (long) m * n, batch);
                        assertExact(want, read(dc, c.length), "transA=" + ta + " transB=" + tb + " m=" + m
                                + " n=" + n + " k=" + k);
                    }
                }
            }
        }
    }

    @Test
    void badLeadingDimensionsAndSizesAreRefusedWithTheirNames() {
        ReferenceBlas blas = new ReferenceBlas();
        IllegalArgumentException lda = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajor(blas, false, false, 2, 3, 4, 1, 256, 3, 512, 3, 0, 768, 3));
        assertTrue(lda.getMessage().contains("lda = 3") && lda.getMessage().contains("4 columns of the stored A [m, k]"),
                lda.getMessage());
        IllegalArgumentException ldbT = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajor(blas, false, true, 2, 3, 4, 1, 256, 4, 512, 3, 0, 768, 3));
        assertTrue(ldbT.getMessage().contains("ldb = 3") && ldbT.getMessage().contains("[n, k]"), ldbT.getMessage());
        IllegalArgumentException ldc = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajor(blas, false, false, 2, 3, 4, 1, 256, 4, 512, 3, 0, 768, 2));
        assertTrue(ldc.getMessage().contains("ldc = 2"), ldc.getMessage());
        IllegalArgumentException k0 = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajor(blas, false, false, 2, 3, 0, 1, 256, 4, 512, 3, 0, 768, 3));
        assertTrue(k0.getMessage().contains("k = 0"), k0.getMessage());
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajor(blas, false, false, 2, 3, 4, 1, 0, 4, 512, 3, 0, 768, 3));
        assertTrue(nul.getMessage().contains("null device address"), nul.getMessage());
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajorStridedBatched(blas, false, false, 2, 3, 4, 1, 256, 4, 8, 512, 3, 12, 0, 768,
                        3, 5, 2));
        assertTrue(overlap.getMessage().contains("strideC = 5"), overlap.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> CudaGemm.rowMajorStridedBatched(blas, false, false, 2, 3, 4, 1, 256, 4, 8, 512, 3, 12, 0, 768,
                        3, 6, 0));
        assertTrue(batch.getMessage().contains("batch must be >= 1, got 0"), batch.getMessage());
        assertEquals(0, blas.calls, "nothing reached cuBLAS");
    }

    /** Numerical equality ({@code ==}: 0 equals -0, whose sign depends on the order of sums). */
    static void assertExact(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }

    private static float[] cpuGemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b,
                                   float beta, float[] c) {
        try (Tensor at = cpu.tensor(a, ta ? new int[] {k, m} : new int[] {m, k});
             Tensor bt = cpu.tensor(b, tb ? new int[] {n, k} : new int[] {k, n});
             Tensor ct = cpu.tensor(c, m, n)) {
            cpu.gemm(ta, tb, alpha, at, bt, beta, ct);
            return ct.toArray();
        }
    }
}
