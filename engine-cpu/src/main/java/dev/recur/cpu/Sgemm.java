package dev.recur.cpu;

/**
 * Row-major single-precision GEMM, {@code C = alpha·op(A)·op(B) + beta·C}, on {@link Workers}.
 *
 * <p>C is cut into fixed tiles of {@value #MB} x {@value #NB}; a tile is one task, and it walks K
 * in fixed blocks of {@value #KB} in ascending order, so every element of C is summed in the same
 * order whatever the number of threads (bitwise-deterministic results). Each task packs its block
 * of {@code op(B)} into a contiguous row-major panel so that the inner loop runs over contiguous
 * columns, which the JIT vectorises; four rows of C are updated per pass over the panel.
 *
 * <p>Element {@code (i, k)} of A is {@code a[aOff + i*lda + k]}, or {@code a[aOff + k*lda + i]} when
 * {@code transA}; likewise B. One instance per backend; calls are serialized.
 */
final class Sgemm implements Workers.Task {

    static final int MB = 64;
    static final int NB = 256;
    static final int KB = 256;
    /** Below this many multiply-adds a call runs on the caller alone. */
    private static final long PARALLEL_MIN_WORK = 1L << 16;

    private final Workers workers;
    private final ThreadLocal<float[]> panels = ThreadLocal.withInitial(() -> new float[KB * NB]);

    // The current call, read by run(int); written under the monitor before workers start.
    private boolean ta;
    private boolean tb;
    private int m;
    private int n;
    private int k;
    private float alpha;
    private float[] a;
    private int aOff;
    private int lda;
    private float[] b;
    private int bOff;
    private int ldb;
    private float beta;
    private float[] c;
    private int cOff;
    private int ldc;
    private int tilesN;

    Sgemm(Workers workers) {
        this.workers = workers;
    }

    synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        this.ta = transA;
        this.tb = transB;
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.a = a;
        this.aOff = aOff;
        this.lda = lda;
        this.b = b;
        this.bOff = bOff;
        this.ldb = ldb;
        this.beta = beta;
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
        int tilesM = (m + MB - 1) / MB;
        tilesN = (n + NB - 1) / NB;
        int tiles = tilesM * tilesN;
        if ((long) m * n * k < PARALLEL_MIN_WORK) {
            for (int t = 0; t < tiles; t++) {
                run(t);
            }
        } else {
            workers.forEach(tiles, this);
        }
        this.a = null;
        this.b = null;
        this.c = null;
    }

    @Override
    public void run(int tile) {
        int i0 = (tile / tilesN) * MB;
        int j0 = (tile % tilesN) * NB;
        int mb = Math.min(MB, m - i0);
        int nb = Math.min(NB, n - j0);
        // C tile *= beta (beta = 0 overwrites without reading, so NaN garbage in C does not leak).
        for (int i = 0; i < mb; i++) {
            int row = cOff + (i0 + i) * ldc + j0;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + nb, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < nb; j++) {
                    c[row + j] *= beta;
                }
            }
        }
        if (k == 0 || alpha == 0f) {
            return;
        }
        float[] panel = panels.get(); // [kb, nb] of op(B), row-major
        for (int k0 = 0; k0 < k; k0 += KB) {
            int kb = Math.min(KB, k - k0);
            packB(panel, k0, kb, j0, nb);
            int i = 0;
            for (; i + 4 <= mb; i += 4) {
                rows4(panel, i0 + i, k0, kb, j0, nb);
            }
            for (; i < mb; i++) {
                row1(panel, i0 + i, k0, kb, j0, nb);
            }
        }
    }

    private void packB(float[] panel, int k0, int kb, int j0, int nb) {
        if (!tb) {
            for (int kk = 0; kk < kb; kk++) {
                System.arraycopy(b, bOff + (k0 + kk) * ldb + j0, panel, kk * nb, nb);
            }
        } else {
            for (int j = 0; j < nb; j++) {
                int src = bOff + (j0 + j) * ldb + k0;
                for (int kk = 0; kk < kb; kk++) {
                    panel[kk * nb + j] = b[src + kk];
                }
            }
        }
    }

    private float aAt(int i, int kk) {
        return ta ? a[aOff + kk * lda + i] : a[aOff + i * lda + kk];
    }

    private void rows4(float[] panel, int i, int k0, int kb, int j0, int nb) {
        float[] cc = c;
        int c0 = cOff + i * ldc + j0;
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        for (int kk = 0; kk < kb; kk++) {
            float a0 = alpha * aAt(i, k0 + kk);
            float a1 = alpha * aAt(i + 1, k0 + kk);
            float a2 = alpha * aAt(i + 2, k0 + kk);
            float a3 = alpha * aAt(i + 3, k0 + kk);
            int p = kk * nb;
            for (int j = 0; j < nb; j++) {
                float bv = panel[p + j];
                cc[c0 + j] += a0 * bv;
                cc[c1 + j] += a1 * bv;
                cc[c2 + j] += a2 * bv;
                cc[c3 + j] += a3 * bv;
            }
        }
    }

    private void row1(float[] panel, int i, int k0, int kb, int j0, int nb) {
        float[] cc = c;
        int c0 = cOff + i * ldc + j0;
        for (int kk = 0; kk < kb; kk++) {
            float a0 = alpha * aAt(i, k0 + kk);
            int p = kk * nb;
            for (int j = 0; j < nb; j++) {
                cc[c0 + j] += a0 * panel[p + j];
            }
        }
    }
}
