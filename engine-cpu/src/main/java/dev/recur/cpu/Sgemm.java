package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Row-major single-precision GEMM, {@code C = alpha·op(A)·op(B) + beta·C}, with the Vector API
 * on {@link Workers}: packed panels, register and cache blocking, in the GotoBLAS manner.
 *
 * <p>C is cut into tiles of {@value #MC} rows x {@value #NC} columns, one task each (wider or
 * shorter tiles where the shape calls for it: see callPhase and fewRowsTile). A task
 * walks K in blocks of {@value #KC}; for each block it packs {@code alpha·op(A)} into strips of
 * {@value #MR} rows, each value already repeated across a vector's lanes, and {@code op(B)} into
 * strips of {@code NR = 2 x lanes} columns, then runs the register kernel: MR x NR accumulators
 * (12 vector registers), and per step of k two loads of B, six loads of A and twelve fused
 * multiply-adds. Repeating A in the panel costs memory but turns six broadcasts per step into
 * plain loads: measured here (AVX2), the kernel went from about 40 to 61 GFLOP/s on one core.
 * Panels are padded with zeros to whole strips, so edges run the same kernel.
 *
 * <p>Determinism: each element of C gets, for each K block in ascending order, the partial sum of
 * that block accumulated from zero in ascending k and then added to C. That order depends on
 * neither the thread count nor where the element sits in its tile, so results are bitwise the
 * same at any thread count and for a row whatever the other rows of the batch.
 *
 * <p>Element {@code (i, k)} of A is {@code a[aOff + i*lda + k]}, or {@code a[aOff + k*lda + i]}
 * when {@code transA}; likewise B. One instance per backend; calls are serialized.
 */
final class Sgemm implements Workers.Task {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    static final int MR = 6;           // packA unrolls the six rows of a strip
    static final int NR = 2 * LANES;
    static final int MC = 8 * MR;    // 48 rows of C per task
    static final int NC = 256;       // a multiple of NR for every species up to 512 bits
    static final int KC = 128;
    /** Most bytes of op(B) packed for one pass over C; see phaseLength. */
    private static final long PHASE_BYTES = 2L << 20;
    /** Below this many multiply-adds a call runs on the caller alone. */
    private static final long PARALLEL_MIN_WORK = 1L << 17;

    /** Per-thread packing buffers, made once per thread. */
    private static final class Panels {
        final float[] a = new float[MC * KC * LANES];  // [MC/MR strips][KC][MR][LANES]
        final float[] b = new float[KC * NC];          // [NC/NR strips][KC][NR]
        final float[] out = new float[MR * NR];        // one kernel's result
    }

    private final Workers workers;
    private final ThreadLocal<Panels> panels = ThreadLocal.withInitial(Panels::new);

    // The current call, read by run(int); written under the monitor before the workers start.
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
    /** When not null, C starts as this row repeated instead of beta·C (see gemmPlusRow). */
    private float[] rowInit;
    private float[] c;
    private int cOff;
    private int ldc;
    private int tilesN;
    private int tileCols;
    /** Rows of C per tile: {@value #MC}, or fewer for a per-step GEMM of few rows (see callPhase). */
    private int tileRows;
    private PackedB packed;
    /** op(B) of the current call packed whole, shared by every task, when M spans several tiles. */
    private final PackedB whole = new PackedB();
    /**
     * alpha·op(A) of the current call packed whole ({@code [K/KC][M/MR strips][KC][MR][LANES]}),
     * when more than two column tiles would otherwise each pack the same rows: the per-step GEMMs
     * of a recurrence with few rows and many columns (the LSTM forward's h·W_hhᵀ, N = 4H).
     * With two column tiles each task packs its own rows instead, into its cache-resident panel:
     * the LSTM backward's dG_s·W_hh (K = 4H, N = H = 512) packed 4 MB per step into this shared
     * array and read it back from the last-level cache; packing twice in L2 ran 15% faster
     * (100 steps, 2 threads, 0.85 of the time in two interleaved runs of 11 rounds).
     */
    private float[] wholeA = new float[0];
    private int wholeAStrips;
    private boolean useWholeA;
    /** Packs one (K block, row tile) of {@link #wholeA}; a task per pair. */
    private final Workers.Task packABlock = task -> {
        int tilesM = (m + MC - 1) / MC;
        int q = task / tilesM;
        int i0 = (task % tilesM) * MC;
        int k0 = q * KC;
        int mc = Math.min(MC, m - i0);
        packA(wholeA, (q * wholeAStrips + i0 / MR) * KC * MR * LANES, i0, mc, (mc + MR - 1) / MR, k0,
                Math.min(KC, k - k0));
    };

    /** Packs one K block of {@link #whole}; a task per block. */
    private final Workers.Task packBlock = q -> {
        int k0 = q * KC;
        packB(whole.data, q * whole.strips * KC * NR, 0, whole.n, whole.strips, k0, Math.min(KC, whole.k - k0));
    };

    /**
     * {@code op(B) [K, N]} packed once into the kernel's layout, for many GEMMs with the same B:
     * the recurrent weights, used at every step. Layout {@code [K/KC][N/NR][KC][NR]}, zero-padded.
     */
    static final class PackedB {
        private float[] data = new float[0];
        private int k;
        private int n;
        private int strips;

        int k() {
            return k;
        }

        int n() {
            return n;
        }
    }

    Sgemm(Workers workers) {
        this.workers = workers;
    }

    synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        this.packed = null;
        try {
            call(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } finally {
            this.packed = null;
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + r}, the row vector {@code r [n]} added to every row of C: a
     * bias. Each task writes r into its tile just before summing into it, which saves a separate
     * pass over C; the bits are those of filling C with r and calling {@link #gemm} with beta 1.
     */
    synchronized void gemmPlusRow(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] r, float[] c, int cOff, int ldc) {
        this.packed = null;
        this.rowInit = r;
        try {
            call(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, 1f, c, cOff, ldc);
        } finally {
            this.packed = null;
            this.rowInit = null;
        }
    }

    /** {@link #gemm} with {@code op(B)} taken from {@code pb} (made by {@link #pack}). */
    synchronized void gemm(boolean transA, int m, float alpha, float[] a, int aOff, int lda, PackedB pb,
                           float beta, float[] c, int cOff, int ldc) {
        this.packed = pb;
        try {
            call(transA, false, m, pb.n, pb.k, alpha, a, aOff, lda, null, 0, 0, beta, c, cOff, ldc);
        } finally {
            this.packed = null;
        }
    }

    /** Packs {@code op(B) [k, n]} into {@code into}, growing it when needed. Allocates only then. */
    synchronized void pack(boolean transB, int k, int n, float[] b, int bOff, int ldb, PackedB into) {
        int blocks = shape(into, k, n);
        int strips = into.strips;
        this.tb = transB;
        this.b = b;
        this.bOff = bOff;
        this.ldb = ldb;
        try {
            for (int q = 0; q < blocks; q++) {
                int k0 = q * KC;
                packB(into.data, q * strips * KC * NR, 0, n, strips, k0, Math.min(KC, k - k0));
            }
        } finally {
            this.b = null;
        }
    }

    /** Sizes {@code into} for {@code op(B) [k, n]} (growing its array only when needed); returns the K blocks. */
    private static int shape(PackedB into, int k, int n) {
        int strips = (n + NR - 1) / NR;
        int blocks = (k + KC - 1) / KC;
        int size = blocks * strips * KC * NR;
        if (into.data.length < size) {
            into.data = new float[size];
        }
        into.k = k;
        into.n = n;
        into.strips = strips;
        return blocks;
    }

    private void call(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        int phase = packed == null ? phaseLength(n) : k;
        if (k <= phase) {
            callPhase(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        // K in phases of whole K blocks, one after the other over all of C: see phaseLength.
        for (int k0 = 0; k0 < k; k0 += phase) {
            packed = null; // the previous phase left its own packing of op(B) here
            if (k0 > 0) {
                rowInit = null; // C was initialised by the first phase
            }
            callPhase(transA, transB, m, n, Math.min(phase, k - k0), alpha,
                    a, aOff + (transA ? k0 * lda : k0), lda, b, bOff + (transB ? k0 : k0 * ldb), ldb,
                    k0 == 0 ? beta : 1f, c, cOff, ldc);
        }
    }

    /**
     * The K range one pass over C takes when op(B) is packed by the call: the whole of K, or, when
     * op(B) packed whole would pass {@value #PHASE_BYTES} bytes, the most whole K blocks that fit.
     *
     * <p>Every task streams the shared packed op(B) from the last-level cache; for the dW GEMMs
     * (K = N·T = 6400, op(B) = X packed, 13 MB) it no longer stayed there, beside the 52 MB gate
     * gradient that the same tasks read. Measured: six phases of K = 1024 ran 17-18% faster than
     * one call (1 and 2 threads). The bits are the same: an element of C still gets its K blocks'
     * partial sums added in ascending order, only beta is applied once, before the first phase.
     */
    private static int phaseLength(int n) {
        long blocks = PHASE_BYTES / ((long) Float.BYTES * KC * ((n + NR - 1) / NR * NR));
        return (int) Math.max(1, Math.min(blocks, Integer.MAX_VALUE / KC)) * KC;
    }

    private void callPhase(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
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
        boolean parallel = (long) m * n * k >= PARALLEL_MIN_WORK;
        tileRows = fewRowsTile(m, parallel && packed != null, workers.threads());
        int tilesM = (m + tileRows - 1) / tileRows;
        // Work split (none of it changes the order in which an element of C is summed):
        // - with several row tiles, op(B) is packed once, whole, and shared by all tasks; when
        //   there are enough row tiles to keep every thread busy, a task takes all columns of
        //   its rows, so its (lane-repeated, hence costly) A panel is packed only once;
        // - with one row tile, tasks split the columns, and share one packing of A when there are
        //   more than two column tiles (see wholeA);
        // - a per-step recurrent GEMM of few rows (op(B) packed by the caller, at most MC rows per
        //   thread) gets one task per thread, each all columns of an equal share of the rows: see
        //   fewRowsTile.
        boolean fewRows = tileRows != MC;
        if (packed == null && tilesM > 1 && k > 0) {
            int blocks = shape(whole, k, n);
            if (parallel) {
                workers.forEach(blocks, packBlock);
            } else {
                for (int q = 0; q < blocks; q++) {
                    packBlock.run(q);
                }
            }
            packed = whole;
        }
        tileCols = fewRows || (packed != null && tilesM >= 4 * workers.threads()) ? n : NC;
        tilesN = (n + tileCols - 1) / tileCols;
        int tiles = tilesM * tilesN;
        useWholeA = tilesN > 2 && k > 0;
        if (useWholeA) {
            wholeAStrips = (m + MR - 1) / MR;
            int blocks = (k + KC - 1) / KC;
            int size = blocks * wholeAStrips * KC * MR * LANES;
            if (wholeA.length < size) {
                wholeA = new float[size];
            }
            if (parallel) {
                workers.forEach(blocks * tilesM, packABlock);
            } else {
                for (int t = 0; t < blocks * tilesM; t++) {
                    packABlock.run(t);
                }
            }
        }
        try {
            if (!parallel) {
                for (int t = 0; t < tiles; t++) {
                    run(t);
                }
            } else {
                workers.forEach(tiles, this);
            }
        } finally {
            this.a = null;
            this.b = null;
            this.c = null;
        }
    }

    /**
     * The rows of C per tile: {@value #MC}, or, for a GEMM on op(B) packed by the caller (the
     * per-step recurrent GEMMs) whose rows fit in one tile per thread, an equal share of the rows
     * per thread (whole strips of {@value #MR}), so that {@code threads} tasks each take all the
     * columns of their rows. Only where each share is at least 4 strips, so that whole strips
     * leave the tasks within a quarter of each other, and where that gives a task per thread.
     *
     * <p>Measured on the LSTM's per-step GEMMs at B = 64 on 2 threads (the 2-core EPYC VM), five
     * runs per shape of 40 interleaved rounds against the old tiling in one JVM, results bitwise
     * the same: [64, 512] x [512, 2048] took 0.85-1.01 (median 0.96) of
     * the time of the 48-row tiles split into 256-column tasks, [64, 2048] x [2048, 512] 0.86-1.00
     * (median 0.94). Those split the columns, so each task packed the same rows of A again (or,
     * with more than two column tiles, all packed it into wholeA in a pass of its own first).
     */
    static int fewRowsTile(int m, boolean packedB, int threads) {
        if (!packedB || threads < 2 || m > MC * threads) {
            return MC;
        }
        int rows = ((m + threads - 1) / threads + MR - 1) / MR * MR;
        boolean enough = rows >= 4 * MR && (m + rows - 1) / rows == threads;
        return enough ? Math.min(MC, rows) : MC;
    }

    @Override
    public void run(int tile) {
        int i0 = (tile / tilesN) * tileRows;
        int j0 = (tile % tilesN) * tileCols;
        int mc = Math.min(tileRows, m - i0);
        int nc = Math.min(tileCols, n - j0);
        // C tile *= beta (beta = 0 overwrites without reading, so NaN garbage in C does not leak),
        // or C tile = the initial row.
        for (int i = 0; i < mc; i++) {
            int row = cOff + (i0 + i) * ldc + j0;
            if (rowInit != null) {
                System.arraycopy(rowInit, j0, c, row, nc);
            } else if (beta == 0f) {
                Arrays.fill(c, row, row + nc, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < nc; j++) {
                    c[row + j] *= beta;
                }
            }
        }
        if (k == 0 || alpha == 0f) {
            return;
        }
        Panels p = panels.get();
        int stripsM = (mc + MR - 1) / MR;
        int stripsN = (nc + NR - 1) / NR;
        PackedB pb = packed;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            float[] aPanel;
            int aBase;
            if (useWholeA) {
                aPanel = wholeA;
                aBase = ((k0 / KC) * wholeAStrips + i0 / MR) * KC * MR * LANES;
            } else {
                packA(p.a, 0, i0, mc, stripsM, k0, kc);
                aPanel = p.a;
                aBase = 0;
            }
            float[] bPanel;
            int bBase;
            if (pb != null) {
                bPanel = pb.data;
                bBase = ((k0 / KC) * pb.strips + j0 / NR) * KC * NR;
            } else {
                packB(p.b, 0, j0, nc, stripsN, k0, kc);
                bPanel = p.b;
                bBase = 0;
            }
            // Columns in chunks of NC, so the chunk's B strips stay in cache while every A strip
            // of the tile passes over them.
            int chunk = NC / NR;
            for (int sc = 0; sc < stripsN; sc += chunk) {
                int scEnd = Math.min(stripsN, sc + chunk);
                for (int sm = 0; sm < stripsM; sm++) {
                    int rows = Math.min(MR, mc - sm * MR);
                    for (int sn = sc; sn < scEnd; sn++) {
                        int cols = Math.min(NR, nc - sn * NR);
                        kernel(aPanel, aBase + sm * KC * MR * LANES, bPanel, bBase + sn * KC * NR, kc, p.out);
                        addToC(p.out, i0 + sm * MR, rows, j0 + sn * NR, cols);
                    }
                }
            }
        }
    }

    /**
     * {@code dst[dstOff + (strip*KC + kk)*MR*LANES + r*LANES + lane] = alpha·op(A)[i0 + strip*MR + r, k0 + kk]} for every lane,
     * zero past the last row.
     *
     * <p>The destination is written in order, a whole step of k (MR vectors) at a time, with the
     * MR reads unrolled; {@code (i, k)} of op(A) lies at {@code src + r*rowStep + kk*kStep}.
     * Measured on the dW GEMMs' transposed A (a 6400 x 2048 gate gradient), this is four times
     * faster than walking each row of a strip down k, which wrote with a stride and, transposed,
     * read a new page at every step.
     */
    private void packA(float[] dst, int dstOff, int i0, int mc, int strips, int k0, int kc) {
        float[] a = this.a;
        float alpha = this.alpha;
        int rowStep = ta ? 1 : lda;
        int kStep = ta ? lda : 1;
        for (int s = 0; s < strips; s++) {
            int rows = Math.min(MR, mc - s * MR);
            int src = aOff + (i0 + s * MR) * rowStep + k0 * kStep;
            int d = dstOff + s * KC * MR * LANES;
            if (rows == MR) {
                for (int kk = 0; kk < kc; kk++, src += kStep, d += MR * LANES) {
                    FloatVector.broadcast(SPECIES, alpha * a[src]).intoArray(dst, d);
                    FloatVector.broadcast(SPECIES, alpha * a[src + rowStep]).intoArray(dst, d + LANES);
                    FloatVector.broadcast(SPECIES, alpha * a[src + 2 * rowStep]).intoArray(dst, d + 2 * LANES);
                    FloatVector.broadcast(SPECIES, alpha * a[src + 3 * rowStep]).intoArray(dst, d + 3 * LANES);
                    FloatVector.broadcast(SPECIES, alpha * a[src + 4 * rowStep]).intoArray(dst, d + 4 * LANES);
                    FloatVector.broadcast(SPECIES, alpha * a[src + 5 * rowStep]).intoArray(dst, d + 5 * LANES);
                }
            } else {
                for (int kk = 0; kk < kc; kk++, src += kStep, d += MR * LANES) {
                    for (int r = 0; r < MR; r++) {
                        float v = r < rows ? alpha * a[src + r * rowStep] : 0f;
                        FloatVector.broadcast(SPECIES, v).intoArray(dst, d + r * LANES);
                    }
                }
            }
        }
    }

    /** {@code dst[dstOff + strip*KC*NR + kk*NR + j] = op(B)[k0 + kk, j0 + strip*NR + j]}, zero past the last column. */
    private void packB(float[] dst, int dstOff, int j0, int nc, int strips, int k0, int kc) {
        for (int s = 0; s < strips; s++) {
            int base = dstOff + s * KC * NR;
            int cols = Math.min(NR, nc - s * NR);
            if (!tb) {
                for (int kk = 0; kk < kc; kk++) {
                    int d = base + kk * NR;
                    System.arraycopy(b, bOff + (k0 + kk) * ldb + j0 + s * NR, dst, d, cols);
                    if (cols < NR) {
                        Arrays.fill(dst, d + cols, d + NR, 0f);
                    }
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    if (j >= cols) {
                        for (int kk = 0; kk < kc; kk++) {
                            dst[base + kk * NR + j] = 0f;
                        }
                    } else {
                        int src = bOff + (j0 + s * NR + j) * ldb + k0;
                        for (int kk = 0; kk < kc; kk++) {
                            dst[base + kk * NR + j] = b[src + kk];
                        }
                    }
                }
            }
        }
    }

    /** {@code out[MR][NR] = Σ_kk pa[kk][r] · pb[kk][j]}, from zero, kk ascending; A pre-broadcast. */
    private static void kernel(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        VectorSpecies<Float> sp = SPECIES;
        FloatVector c00 = FloatVector.zero(sp);
        FloatVector c01 = FloatVector.zero(sp);
        FloatVector c10 = FloatVector.zero(sp);
        FloatVector c11 = FloatVector.zero(sp);
        FloatVector c20 = FloatVector.zero(sp);
        FloatVector c21 = FloatVector.zero(sp);
        FloatVector c30 = FloatVector.zero(sp);
        FloatVector c31 = FloatVector.zero(sp);
        FloatVector c40 = FloatVector.zero(sp);
        FloatVector c41 = FloatVector.zero(sp);
        FloatVector c50 = FloatVector.zero(sp);
        FloatVector c51 = FloatVector.zero(sp);
        int bi = bo;
        int ai = ao;
        for (int kk = 0; kk < kc; kk++, bi += NR, ai += MR * LANES) {
            FloatVector b0 = FloatVector.fromArray(sp, pb, bi);
            FloatVector b1 = FloatVector.fromArray(sp, pb, bi + LANES);
            FloatVector a0 = FloatVector.fromArray(sp, pa, ai);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.fromArray(sp, pa, ai + LANES);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.fromArray(sp, pa, ai + 2 * LANES);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.fromArray(sp, pa, ai + 3 * LANES);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.fromArray(sp, pa, ai + 4 * LANES);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.fromArray(sp, pa, ai + 5 * LANES);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
        c20.intoArray(out, 2 * NR);
        c21.intoArray(out, 2 * NR + LANES);
        c30.intoArray(out, 3 * NR);
        c31.intoArray(out, 3 * NR + LANES);
        c40.intoArray(out, 4 * NR);
        c41.intoArray(out, 4 * NR + LANES);
        c50.intoArray(out, 5 * NR);
        c51.intoArray(out, 5 * NR + LANES);
    }

    /** {@code C[i0.., j0..] += out} for the valid {@code rows x cols}. */
    private void addToC(float[] out, int i0, int rows, int j0, int cols) {
        for (int r = 0; r < rows; r++) {
            int dst = cOff + (i0 + r) * ldc + j0;
            int src = r * NR;
            int j = 0;
            if (cols == NR) {
                for (; j < NR; j += LANES) {
                    FloatVector.fromArray(SPECIES, c, dst + j)
                            .add(FloatVector.fromArray(SPECIES, out, src + j))
                            .intoArray(c, dst + j);
                }
            }
            for (; j < cols; j++) {
                c[dst + j] += out[src + j];
            }
        }
    }
}
