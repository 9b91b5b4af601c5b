package dev.recur.cpu;

import dev.recur.api.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * GEMM and layout checks with small integers: every product and partial sum is an integer below
 * 2^24, which float32 holds exactly, so the engine must match a plain triple loop bit for bit,
 * and any indexing mistake shows as a mismatch rather than as rounding.
 */
class GemmTest {

    private static CpuBackend backend;

    @BeforeAll
    static void start() {
        backend = new CpuBackend(3);
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    /** Integers in [-4, 4]. */
    static float[] ints(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(9) - 4;
        }
        return v;
    }

    /** The reference: C = alpha·op(A)·op(B) + beta·C with plain loops, row-major. */
    static float[] reference(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta,
                             float[] c) {
        float[] out = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    float av = ta ? a[p * m + i] : a[i * k + p];
                    float bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                out[i * n + j] = alpha * s + beta * c[i * n + j];
            }
        }
        return out;
    }

    /** Numerical equality ({@code ==}, so 0 equals -0, whose sign depends on the order of sums). */
    static void assertExact(float[] want, float[] got, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (!(want[i] == got[i])) {
                org.junit.jupiter.api.Assertions.fail(what + ": element " + i + " = " + got[i] + ", expected " + want[i]);
            }
        }
    }

    /**
     * One {@code gemm} on small integers drawn from {@code r} (A, then B, then C), with
     * {@code ab = {alpha, beta}}, against the reference, demanding equality.
     */
    private static void checkExact(Random r, int m, int n, int k, boolean ta, boolean tb, float[] ab, String what) {
        float[] a = ints(r, m * k);
        float[] b = ints(r, k * n);
        float[] c = ints(r, m * n);
        try (Tensor tA = backend.tensor(a, ta ? k : m, ta ? m : k);
             Tensor tB = backend.tensor(b, tb ? n : k, tb ? k : n);
             Tensor tC = backend.tensor(c, m, n)) {
            backend.gemm(ta, tb, ab[0], tA, tB, ab[1], tC);
            assertExact(reference(ta, tb, m, n, k, ab[0], a, b, ab[1], c), tC.toArray(),
                    what + " transA=" + ta + " transB=" + tb + " alpha=" + ab[0] + " beta=" + ab[1]);
        }
    }

    @Test
    void everyTransposeAndOddSizesMatchExactly() {
        // Sizes that straddle the engine's tiles (64 x 256, K blocks of 256) and odd ones.
        int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {65, 257, 3}, {70, 300, 260}, {129, 17, 513}, {1, 600, 40}};
        float[][] scalars = {{1, 0}, {1, 1}, {2, -3}, {-1, 0.5f}};
        Random r = new Random(7);
        for (int[] s : sizes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (float[] ab : scalars) {
                        checkExact(r, m, n, k, ta, tb, ab, "gemm m=" + m + " n=" + n + " k=" + k);
                    }
                }
            }
        }
    }

    /**
     * GEMMs on op(B) packed once (the per-step recurrent ones), on 2 threads, for row counts around
     * those where each thread takes an equal share of the rows and all the columns (Sgemm's
     * fewRowsTile: 48 < M <= 96 on 2 threads) and on either side of them: exact, and the same bits
     * as on 1 thread.
     */
    @Test
    void packedBOnFewRowsMatchesExactlyAtAnyThreadCount() {
        Random r = new Random(11);
        int k = 300;
        int n = 530;
        float[] b = ints(r, k * n);
        try (Workers one = new Workers(1); Workers two = new Workers(2)) {
            Sgemm serial = new Sgemm(one);
            Sgemm parallel = new Sgemm(two);
            Sgemm.PackedB pb1 = new Sgemm.PackedB();
            Sgemm.PackedB pb2 = new Sgemm.PackedB();
            Sgemm.pack(false, k, n, b, 0, n, pb1);
            Sgemm.pack(false, k, n, b, 0, n, pb2);
            for (int m : new int[] {5, 13, 48, 49, 64, 70, 95, 96, 97, 200}) {
                float[] a = ints(r, m * k);
                float[] c = ints(r, m * n);
                float[] want = reference(false, false, m, n, k, 1f, a, b, 1f, c);
                float[] c1 = c.clone();
                float[] c2 = c.clone();
                serial.gemm(new Sgemm.Call(), false, m, 1f, a, 0, k, pb1, 1f, c1, 0, n);
                parallel.gemm(new Sgemm.Call(), false, m, 1f, a, 0, k, pb2, 1f, c2, 0, n);
                assertExact(want, c2, "packed gemm m=" + m + " on 2 threads");
                org.junit.jupiter.api.Assertions.assertArrayEquals(c1, c2, "m=" + m + ": 2 threads vs 1, bitwise");
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals((32 + Sgemm.MR - 1) / Sgemm.MR * Sgemm.MR, Sgemm.fewRowsTile(64, true, 2),
                "64 rows on 2 threads: 32 each, rounded up to whole strips");
        org.junit.jupiter.api.Assertions.assertEquals(Sgemm.MC, Sgemm.fewRowsTile(64, false, 2), "B not packed");
        org.junit.jupiter.api.Assertions.assertEquals(Sgemm.MC, Sgemm.fewRowsTile(64, true, 4), "shares under 4 strips");
        org.junit.jupiter.api.Assertions.assertEquals(Sgemm.MC, Sgemm.fewRowsTile(200, true, 2), "more rows than 2 tiles");
    }

    /**
     * Every kernel shape Sgemm runs (1, 2, 4 and MR rows, 1 and NV vectors, and the row counts
     * between them, which round up to the next kernel): exact on small integers; and on random
     * floats, where the sum order shows in the bits, each row of C is bitwise the same whether it is
     * computed alone (the one-row kernel) or inside a batch (the MR-row kernel), at 1 and 2 threads.
     */
    @Test
    void everyKernelShapeIsExactAndARowsBitsDoNotDependOnTheBatch() {
        Random r = new Random(17);
        int k = 2 * Sgemm.KC + 9;
        try (Workers one = new Workers(1); Workers two = new Workers(2)) {
            Sgemm serial = new Sgemm(one);
            Sgemm parallel = new Sgemm(two);
            for (int n : new int[] {1, Sgemm.LANES - 1, Sgemm.LANES, Sgemm.LANES + 3, Sgemm.NR, Sgemm.NR + 1,
                    3 * Sgemm.NR + Sgemm.LANES + 2}) {
                for (int m = 1; m <= 2 * Sgemm.MR + 1; m++) {
                    float[] a = ints(r, m * k);
                    float[] b = ints(r, k * n);
                    float[] c = new float[m * n];
                    serial.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                    assertExact(reference(false, false, m, n, k, 1f, a, b, 0f, new float[m * n]), c,
                            "m=" + m + " n=" + n);
                }
                int m = 4 * Sgemm.MR + 3;
                float[] a = new float[m * k];
                float[] b = new float[k * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) r.nextGaussian();
                }
                float[] batch1 = new float[m * n];
                float[] batch2 = new float[m * n];
                serial.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, batch1, 0, n);
                parallel.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, batch2, 0, n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(batch1, batch2, "n=" + n + ": 2 threads vs 1, bitwise");
                for (int row = 0; row < m; row++) {
                    float[] alone = new float[n];
                    serial.gemm(false, false, 1, n, k, 1f, a, row * k, k, b, 0, n, 0f, alone, 0, n);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(
                            java.util.Arrays.copyOfRange(batch1, row * n, (row + 1) * n), alone,
                            "n=" + n + " row " + row + ": alone vs in a batch of " + m + ", bitwise");
                }
            }
        }
    }

    /**
     * The per-step GEMMs on a caller's packed op(B) read A unpacked (GemmKernels' d kernels, A
     * row-major, alpha 1): on random floats, where the sum order shows in the bits, every row
     * count 1..2·MR+1 (one row on 4 strips at once as well) and column edge gives the bits of the same GEMM with A packed (op(B) not
     * packed by the caller), through {@code gemm} at 1 and 2
     * threads and through {@code columns}; A is a sub-matrix (lda > K, an offset) that ends
     * where its array ends, so a kernel reading past its last valid row would throw.
     */
    @Test
    void unpackedAOnPackedBGivesThePackedBits() {
        Random r = new Random(23);
        int k = 2 * Sgemm.KC + 5;
        int lda = k + 7;
        try (Workers one = new Workers(1); Workers two = new Workers(2)) {
            Sgemm serial = new Sgemm(one);
            Sgemm parallel = new Sgemm(two);
            // 4 and 9 strips and a bit: one row runs whole strips four at a time (GemmKernels.d1s4).
            for (int n : new int[] {Sgemm.LANES - 1, Sgemm.NR, Sgemm.NR + 3, 3 * Sgemm.NR + Sgemm.LANES + 2,
                    4 * Sgemm.NR, 9 * Sgemm.NR + 5}) {
                float[] b = gaussian(r, k * n);
                Sgemm.PackedB pb = new Sgemm.PackedB();
                Sgemm.pack(false, k, n, b, 0, n, pb);
                for (int m = 1; m <= 2 * Sgemm.MR + 1; m++) {
                    int aOff = 3;
                    float[] a = gaussian(r, aOff + (m - 1) * lda + k);
                    float[] want = new float[m * n];
                    serial.gemm(false, false, m, n, k, 1f, a, aOff, lda, b, 0, n, 0f, want, 0, n);
                    float[] c1 = new float[m * n];
                    float[] c2 = new float[m * n];
                    serial.gemm(new Sgemm.Call(), false, m, 1f, a, aOff, lda, pb, 0f, c1, 0, n);
                    parallel.gemm(new Sgemm.Call(), false, m, 1f, a, aOff, lda, pb, 0f, c2, 0, n);
                    String what = "m=" + m + " n=" + n;
                    org.junit.jupiter.api.Assertions.assertArrayEquals(want, c1, what + ": unpacked A vs packed, bitwise");
                    org.junit.jupiter.api.Assertions.assertArrayEquals(want, c2, what + ": on 2 threads");
                    if (n % Sgemm.NR == 0) {
                        float[] c3 = new float[m * n];
                        serial.columns(new Sgemm.Call(), false, m, 1f, a, aOff, lda, pb, 0, n, 0f, c3, 0, n);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(want, c3, what + ": columns");
                    }
                }
            }
        }
    }

    private static float[] gaussian(Random r, int size) {
        float[] v = new float[size];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void longKInPhasesMatchesExactly() {
        // op(B) packed whole would pass Sgemm's 2 MB phase budget (K = 700, N = 1030: about 2.9 MB),
        // so K runs in two passes over C; beta must be applied once, and the integer sums exactly.
        int m = 50;
        int n = 1030;
        int k = 700;
        Random r = new Random(13);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (float[] ab : new float[][] {{1, 0}, {2, -3}}) {
                    checkExact(r, m, n, k, ta, tb, ab, "gemm in phases");
                }
            }
        }
    }

    @Test
    void plusRowMatchesBetaOneOnRepeatedRowExactly() {
        // gemmPlusRow writes the row into each tile instead of C being filled first; with K in
        // two phases the row must be written once, before the first. NaN in C must not leak.
        Random r = new Random(17);
        try (Workers workers = new Workers(3)) {
            Sgemm sgemm = new Sgemm(workers);
            for (int[] s : new int[][] {{50, 1030, 700}, {70, 300, 260}, {3, 5, 7}, {5, 9, 0}}) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                for (boolean ta : new boolean[] {false, true}) {
                    for (boolean tb : new boolean[] {false, true}) {
                        float[] a = ints(r, m * k);
                        float[] b = ints(r, k * n);
                        float[] row = ints(r, n);
                        float[] filled = new float[m * n];
                        for (int i = 0; i < m; i++) {
                            System.arraycopy(row, 0, filled, i * n, n);
                        }
                        float[] c = new float[m * n];
                        java.util.Arrays.fill(c, Float.NaN);
                        sgemm.gemmPlusRow(new Sgemm.Call(), ta, tb, m, n, k, 2f, a, 0, ta ? m : k, b, 0, tb ? k : n, row, c, 0, n);
                        assertExact(reference(ta, tb, m, n, k, 2f, a, b, 1f, filled), c,
                                "gemmPlusRow m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb);
                    }
                }
            }
        }
    }

    /**
     * With beta = 0 the first K block stores its sums straight into C (full blocks in the kernel,
     * edges through the block buffer) instead of adding them to a zeroed C; the bits must be those
     * of 0 + sum, the sign of zero included, whatever C held (NaN here). Rows of A alternate 0 and
     * -1 against B with zero columns so that many sums are products of -0 alone; a later K block
     * (K > KC) adds onto what the first stored.
     */
    @Test
    void betaZeroStoresTheBitsOfZeroPlusTheSums() {
        Random r = new Random(19);
        try (Workers workers = new Workers(2)) {
            Sgemm sgemm = new Sgemm(workers);
            int[][] sizes = {{2 * Sgemm.MR, 3 * Sgemm.NR, Sgemm.KC + 3}, {3 * Sgemm.MR + 1, 3 * Sgemm.NR + 5, 5},
                    {Sgemm.MC * 5 + 2, 2 * Sgemm.NR + 1, 9}};
            for (int[] s : sizes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                float[] a = ints(r, m * k);
                float[] b = ints(r, k * n);
                for (int i = 0; i < m; i += 2) {
                    for (int kk = 0; kk < k; kk++) {
                        a[i * k + kk] = kk % 2 == 0 ? 0f : -1f;
                    }
                }
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < n; j += 3) {
                        b[kk * n + j] = 0f;
                    }
                }
                float[] want = reference(false, false, m, n, k, 1f, a, b, 0f, new float[m * n]);
                for (int i = 0; i < want.length; i++) {
                    want[i] = 0f + want[i];
                }
                float[] c = new float[m * n];
                java.util.Arrays.fill(c, Float.NaN);
                sgemm.gemm(new Sgemm.Call(), false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(c[i])) {
                        org.junit.jupiter.api.Assertions.fail("m=" + m + " n=" + n + " k=" + k + ": element " + i
                                + " = " + c[i] + ", expected " + want[i]);
                    }
                }
            }
        }
    }

    /**
     * GEMMs of many row tiles on 2 threads take tiles sized to share out evenly (Sgemm's
     * balancedTileRows): whole strips, no more than a round of the MC-row tiles would give a
     * thread, 128 rows for 1024 at MR = 8; and the results exact and bitwise those of 1 thread.
     */
    @Test
    void balancedRowTilesAreEvenAndExact() {
        for (int m : new int[] {100, 389, 1000, 1024, 6400}) {
            int rows = Sgemm.balancedTileRows(m, 2);
            org.junit.jupiter.api.Assertions.assertEquals(0, rows % Sgemm.MR, "m=" + m + ": whole strips");
            int strips = (m + Sgemm.MR - 1) / Sgemm.MR;
            int ts = rows / Sgemm.MR;
            int mcStrips = Sgemm.MC / Sgemm.MR;
            long chosen = ((strips + ts - 1) / ts + 1) / 2 * (long) ts;
            long plain = ((strips + mcStrips - 1) / mcStrips + 1) / 2 * (long) mcStrips;
            org.junit.jupiter.api.Assertions.assertTrue(chosen <= plain, "m=" + m + ": " + rows + " rows a tile");
        }
        if (Sgemm.MR == 8) {
            org.junit.jupiter.api.Assertions.assertEquals(128, Sgemm.balancedTileRows(1024, 2));
        }
        Random r = new Random(23);
        int m = 8 * Sgemm.MC + 5;
        int n = 2 * Sgemm.NR + 7;
        int k = 40;
        try (Workers one = new Workers(1); Workers two = new Workers(2)) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = ints(r, m * k);
                float[] b = ints(r, k * n);
                float[] c = ints(r, m * n);
                float[] c1 = c.clone();
                float[] c2 = c.clone();
                new Sgemm(one).gemm(new Sgemm.Call(), false, tb, m, n, k, 1f, a, 0, k, b, 0, tb ? k : n, 1f, c1, 0, n);
                new Sgemm(two).gemm(new Sgemm.Call(), false, tb, m, n, k, 1f, a, 0, k, b, 0, tb ? k : n, 1f, c2, 0, n);
                assertExact(reference(false, tb, m, n, k, 1f, a, b, 1f, c), c2, "balanced tiles transB=" + tb);
                assertArrayEquals(c1, c2, "2 threads vs 1, bitwise");
            }
        }
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        // BLAS semantics: with beta = 0, C is written without being read.
        try (Tensor a = backend.tensor(new float[] {1, 2, 3, 4}, 2, 2);
             Tensor b = backend.tensor(new float[] {1, 0, 0, 1}, 2, 2);
             Tensor c = backend.tensor(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 2, 2)) {
            backend.gemm(false, false, 1f, a, b, 0f, c);
            assertArrayEquals(new float[] {1, 2, 3, 4}, c.toArray());
        }
    }

    @Test
    void stridedBatchedMatchesEachMatrix() {
        Random r = new Random(11);
        int batch = 5;
        int m = 6;
        int n = 9;
        int k = 70;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = ints(r, batch * m * k);
                float[] b = ints(r, batch * k * n);
                float[] c = ints(r, batch * m * n);
                try (Tensor tA = backend.tensor(a, batch, ta ? k : m, ta ? m : k);
                     Tensor tB = backend.tensor(b, batch, tb ? n : k, tb ? k : n);
                     Tensor tC = backend.tensor(c, batch, m, n)) {
                    backend.gemmStridedBatched(ta, tb, 1f, tA, tB, 2f, tC);
                    float[] got = tC.toArray();
                    for (int i = 0; i < batch; i++) {
                        float[] ai = java.util.Arrays.copyOfRange(a, i * m * k, (i + 1) * m * k);
                        float[] bi = java.util.Arrays.copyOfRange(b, i * k * n, (i + 1) * k * n);
                        float[] ci = java.util.Arrays.copyOfRange(c, i * m * n, (i + 1) * m * n);
                        assertExact(reference(ta, tb, m, n, k, 1f, ai, bi, 2f, ci),
                                java.util.Arrays.copyOfRange(got, i * m * n, (i + 1) * m * n),
                                "batch " + i + " transA=" + ta + " transB=" + tb);
                    }
                }
            }
        }
    }

    @Test
    void layerLayoutWithIntegerWeightsIsExact() {
        // A relu RNN whose inputs and weights are small non-negative integers: pre-activations are
        // exact integers, relu keeps them, so y, hT and the packed/unpacked layouts must be exact.
        int t = 3;
        int b = 2;
        int in = 2;
        int hs = 2;
        float[] x = {1, 0, 0, 1, 2, 1, 1, 2, 0, 0, 1, 1}; // [T, B, I]
        float[] wIh = {1, 0, 0, 1};  // identity
        float[] wHh = {1, 1, 0, 1};  // h1' = h1 + h2, h2' = h2
        float[] bIh = {0, 1};
        float[] bHh = {1, 0};
        try (var ws = backend.workspace(dev.recur.api.Cell.RNN_RELU, t, b, in, hs, false)) {
            var p = new dev.recur.api.LayerParams(backend.tensor(wIh, hs, in), backend.tensor(wHh, hs, hs),
                    backend.tensor(bIh, hs), backend.tensor(bHh, hs));
            Tensor y = backend.tensor(t, b, hs);
            var fin = dev.recur.api.State.of(backend.tensor(b, hs));
            backend.layerForward(dev.recur.api.Cell.RNN_RELU, dev.recur.api.Direction.FORWARD,
                    backend.tensor(x, t, b, in), new int[] {3, 2}, null, p, y, fin, ws);
            // By hand, a = W_ih x + b_ih + W_hh h + b_hh, h = max(a, 0):
            // seq 0: x = (1,0), (2,1), (0,0) -> h = (2,1), (2+1+2+1, 1+1+1) = (6,3), (1+9, 1+3) = (10,4)
            // seq 1 (length 2): x = (0,1), (1,2) -> h = (1,2), (1+1+3, 2+1+2) = (5,5); padding -> 0
            assertArrayEquals(new float[] {2, 1, 1, 2, 6, 3, 5, 5, 10, 4, 0, 0}, y.toArray());
            assertArrayEquals(new float[] {10, 4, 5, 5}, fin.h().toArray());
        }
    }
}
