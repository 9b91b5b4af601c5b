package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Row-major single-precision GEMM, {@code C = alpha·op(A)·op(B) + beta·C}, with the Vector API
 * on {@link Workers}: packed panels, register and cache blocking, in the GotoBLAS manner.
 *
 * <p>C is cut into tiles of {@value #MC} rows x {@link #NC} columns, one task each (wider or
 * shorter tiles where the shape calls for it: see {@link Call#phase}, {@link #fewRowsTile} and
 * {@link #balancedTileRows}). A task walks K in blocks of {@value #KC}; for each block it packs
 * {@code alpha·op(A)} into strips of {@link #MR} rows ({@code [KC][MR]}, plain floats) and
 * {@code op(B)} into strips of {@link #NR} columns ({@code [kc][NR]}), then runs a register kernel
 * ({@link GemmKernels}) on each pair of strips: MR x NV vectors of C in registers, and per step of
 * k NV loads of B, MR broadcasts of A straight from the panel and MR·NV fused multiply-adds. For
 * each chunk of {@link #NC} columns the A strip is the outer loop (in L1, {@code 8·KC} floats) and
 * the B strips the inner (from L2: the chunk is {@code KC·NC} floats, 512 KB).
 *
 * <p>The block is sized to the register file, chosen once from the preferred vector species: 8 x 2
 * vectors (16 accumulators) where there are 32 vector registers (AVX-512, Arm), 6 x 2 (12) where
 * there are 16 (AVX2, SSE). Measured on one core of the 2-core AMD EPYC VM (Zen 5, AVX-512),
 * strips in L1: 8 x 2 broadcast 207-212 GFLOP/s at 512 bits (the core's FMA peak is about 220),
 * the kernel this replaced (6 x 2 with A pre-broadcast into whole vectors in the panel, 16 times
 * its size) 106-115; 6 x 2 at 256 bits 94-107 (peak 110). 8 x 3 (24 accumulators) ran at 217 in
 * one harness but at 156-174 as compiled here: C2 hoisted six broadcasts above the FMAs and
 * spilled two accumulators to the stack (read with hsdis); 8 x 2 leaves it room.
 * {@code -Drecur.cpu.gemm.block=8x2|6x2} overrides the choice.
 *
 * <p>Edges (rows or columns short of a strip) and GEMMs of few rows run the smallest kernel that
 * covers them (1, 2, 4 or MR rows; 1..NV vectors): a B = 1 step runs the one-row kernel, not
 * MR rows of padding. Such a kernel stores its block's sums in a buffer whose valid part then goes
 * into C; a full MR x NR block of packed A runs the kernel that ends in C itself (GemmKernels'
 * {@code c} kernels), storing the sums (the first K block, beta = 0), adding them to the bias row
 * (the first K block of {@link #gemmPlusRow}) or to C (later K blocks, or beta != 0).
 *
 * <p>Large shapes, measured on the 2-core AMD EPYC VM (Zen 5, AVX-512; FMA peak 420-467 GFLOP/s at
 * 512 bits, 201-227 at 256, both cores), paired in one JVM or in interleaved JVMs because another
 * engineer's runs shared the machine. At 512 bits, 2 threads (bench/cpu-vs-torch.sh's SGEMM rows,
 * each run when the machine was quiet, bench/results/cpu-vs-torch-2026-12-07-sgemm.md): 1024³
 * 332-363 GFLOP/s (78-79% of the peak; numpy's OpenBLAS 310-330 in the same runs), the LSTM input
 * projection [6400, 512] x [2048, 512]ᵀ 374 (87%; OpenBLAS 385); before (KC 128, every block's sums
 * added to C in a second pass, tiles of 48 rows, op(B) packed by one thread per K block) 300 and 292
 * (66-67%). On 1 thread 1024³ went from 155-165 to 185-197. What it took, each measured
 * on its own: KC 512 instead of 128, four times fewer passes adding sums into C; the full block's
 * kernel ending in C (a profile at KC 128 had 16% of the time in the add pass and A's packing,
 * against 61% in the kernel; skipping the add alone gave 175 instead of 160 on 1 thread); whole-strip
 * rows of B packed by vectors; op(B)'s packing split among the threads; row tiles that share out
 * evenly, of up to 16 strips. At 256 bits (6 x 2), 2 threads: 1024³ 191-198 (84% of a 256-bit peak
 * read at 227; was 181), the projection 200 (91% of 220; was 182); OpenBLAS's AVX2 kernels 191-206.
 * Tried and left out: Goto's order mirrored (a B strip kept in L1 while the A strips pass: 1024³ on 1 thread
 * 168-178 against 174-188 at KC 512, 166-170 against 173-180 at KC 256); KC 256 (the same as 512
 * at 1024³, 1-3% slower on the projection); packing A with a 256-bit gather (176-187 against
 * 191-197); a 4 MB instead of 2 MB phase budget (no difference).
 *
 * <p>Determinism: each element of C gets, for each K block in ascending order, the partial sum of
 * that block accumulated from zero in ascending k and then added to C: {@code C + s}, or for the
 * first block {@code row + s} when C starts as a bias row, and {@code s} itself when it starts at
 * zero (beta = 0), which is {@code 0 + s} bit for bit, since a sum started from +0 is never -0.
 * That order depends on neither the thread count, nor where the element sits in its tile, nor the
 * kernel that computes it, so results are bitwise the same at any thread count and for a row
 * whatever the other rows of the batch.
 *
 * <p>Element {@code (i, k)} of A is {@code a[aOff + i*lda + k]}, or {@code a[aOff + k*lda + i]}
 * when {@code transA}; likewise B. Every call's operands and tiling live in a {@link Call}, made
 * per call or, by a caller that must not allocate (a layer's time loop), reused; the instance
 * holds only its threads and packing scratch, and serializes calls.
 */
final class Sgemm {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    /** 8 x 2 vectors of C in registers where there are 32 vector registers; else 6 x 2. */
    static final boolean WIDE_BLOCK = wideBlock();
    static final int MR = WIDE_BLOCK ? 8 : 6;
    static final int NV = 2;
    static final int NR = NV * LANES;
    static final int MC = 48;        // rows of C per task: whole strips for MR = 6 and 8
    static final int NC = NR * ((256 + NR - 1) / NR); // columns per task: whole strips, about 256
    static final int KC = 512;
    /**
     * Most strips of MR rows in a row tile (see balancedTileRows); MC is at most this many strips.
     * 16 (A panel 128 x KC floats, 256 KB, beside the 512 KB B chunk in a 1 MB L2) against 8, paired
     * runs at 2 threads on the Zen 5 VM: [6400, 512] x [2048, 512]ᵀ 1.6% faster on average (-1% to
     * +4%), 1024³ 3% (-4% to +9%), 256-bit 5%.
     */
    static final int MAX_TILE_STRIPS = 16;
    /** Most bytes of op(B) packed for one pass over C; see phaseLength. */
    private static final long PHASE_BYTES = 2L << 20;
    /** Below this many multiply-adds a call runs on the caller alone. */
    private static final long PARALLEL_MIN_WORK = 1L << 17;

    /** Per-thread packing buffers, made once per thread. */
    private static final class Panels {
        final float[] a = new float[MAX_TILE_STRIPS * MR * KC];   // [tile strips][KC][MR]
        final float[] b = new float[KC * NC];   // [NC/NR strips][KC][NR]
        final float[] out = new float[MR * NR]; // one edge block's partial sums
    }

    private final Workers workers;
    private final ThreadLocal<Panels> panels = ThreadLocal.withInitial(Panels::new);
    /** op(B) packed whole for the call in flight, shared by its tasks, when M spans several tiles. */
    private final PackedB whole = new PackedB();
    /**
     * alpha·op(A) packed whole for the call in flight ({@code [K/KC][M/MR strips][KC][MR]}), when
     * more than two column tiles would otherwise each pack the same rows: the per-step GEMMs of a
     * recurrence with few rows and many columns split by columns.
     */
    private float[] wholeA = new float[0];

    /**
     * {@code op(B) [K, N]} packed once into the kernel's layout, for many GEMMs with the same B:
     * the recurrent weights, used at every step. Layout: K blocks of KC rows (the last one {@code kc =
     * K - K/KC·KC} or KC), each {@code [N/NR strips][kc][NR]}, columns zero-padded to whole strips:
     * block {@code q} starts at {@code q·KC·strips·NR}, its strip {@code s} at {@code + s·kc·NR}.
     */
    static final class PackedB {
        private float[] data = new float[0];
        private int k;
        private int n;
        private int strips;
    }

    /**
     * One GEMM in flight: its operands, its tiling and what its tasks share. The worker threads
     * read only this, never fields of the {@link Sgemm}. Reusable: every call sets all of it.
     */
    static final class Call implements Workers.Task {
        private static final int TILES = 0;
        private static final int PACK_B = 1;
        private static final int PACK_A = 2;

        private Sgemm owner;
        private int mode;
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
        private int tileRows;
        private int tileCols;
        private int tilesN;
        /** Groups of strips that the packing of each K block of op(B) is split into, one task each. */
        private int packGroups;
        /** op(B) packed: by the caller, or whole by the call; null when each task packs its own. */
        private PackedB packed;
        /** alpha·op(A) packed whole, or null when each task packs its own rows. */
        private float[] wholeA;
        private int wholeAStrips;
        /**
         * Whether the kernels read A where it lies ({@link GemmKernels#runDirect}) instead of
         * packed: set for the per-step GEMMs on a caller's packed op(B) with A not transposed
         * and alpha 1 (see {@link #readsADirect}).
         */
        private boolean directA;

        @Override
        public void run(int index) {
            switch (mode) {
                case TILES -> tile(index);
                case PACK_B -> packBBlock(index);
                case PACK_A -> packABlock(index);
                default -> throw new IllegalStateException("unknown task mode " + mode);
            }
        }

        /** Packs one (K block, group of strips) of the whole op(B): task {@code q·packGroups + g}. */
        private void packBBlock(int task) {
            PackedB pb = packed;
            int k0 = (task / packGroups) * KC;
            int g = task % packGroups;
            int s0 = g * pb.strips / packGroups;
            int s1 = (g + 1) * pb.strips / packGroups;
            int kc = Math.min(KC, pb.k - k0);
            packB(tb, b, bOff, ldb, pb.data, k0 * pb.strips * NR + s0 * kc * NR, s0 * NR,
                    Math.min(pb.n - s0 * NR, (s1 - s0) * NR), s1 - s0, k0, kc);
        }

        /** Packs one (K block, row tile) of the whole alpha·op(A). */
        private void packABlock(int task) {
            int tilesM = (m + MC - 1) / MC;
            int q = task / tilesM;
            int i0 = (task % tilesM) * MC;
            int k0 = q * KC;
            int mc = Math.min(MC, m - i0);
            packA(wholeA, (q * wholeAStrips + i0 / MR) * KC * MR, i0, mc, (mc + MR - 1) / MR, k0,
                    Math.min(KC, k - k0));
        }

        private void tile(int tile) {
            int i0 = (tile / tilesN) * tileRows;
            int j0 = (tile % tilesN) * tileCols;
            rect(i0, Math.min(tileRows, m - i0), j0, Math.min(tileCols, n - j0), 1, 0);
        }

        /**
         * C rows {@code [i0, i0 + mc)} ({@code mc <= MC}), and columns {@code [j, j + nc)} for
         * {@code j = j0 + r·stride}, {@code r < ranges} (each a multiple of NR; several ranges
         * only with op(B) packed): A is packed once per K block for all the ranges.
         */
        private void rect(int i0, int mc, int j0, int nc, int ranges, int stride) {
            boolean sums = k > 0 && alpha != 0f;
            // The first K block writes C whole: it stores its sums (beta = 0: 0 + s is s, as a sum
            // from +0 is never -0), or adds them to the initial row or to C. So C is touched before
            // it only where beta scales it, or where there are no sums to write.
            int firstMode = rowInit != null ? GemmKernels.ROW : beta == 0f ? GemmKernels.STORE : GemmKernels.ADD;
            if (!sums || (rowInit == null && beta != 0f && beta != 1f)) {
                initTile(i0, mc, j0, nc, ranges, stride);
                firstMode = GemmKernels.ADD;
            }
            if (!sums) {
                return;
            }
            Panels p = owner.panels.get();
            int stripsM = (mc + MR - 1) / MR;
            int stripsN = (nc + NR - 1) / NR;
            PackedB pb = packed;
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                int mode = k0 == 0 ? firstMode : GemmKernels.ADD;
                int strip = kc * NR; // floats from one packed B strip to the next in this K block
                float[] aPanel;
                int aBase;
                if (directA) {
                    aPanel = a;
                    aBase = aOff + i0 * lda + k0;
                } else if (wholeA != null) {
                    aPanel = wholeA;
                    aBase = ((k0 / KC) * wholeAStrips + i0 / MR) * KC * MR;
                } else {
                    packA(p.a, 0, i0, mc, stripsM, k0, kc);
                    aPanel = p.a;
                    aBase = 0;
                }
                for (int r = 0; r < ranges; r++) {
                    int jr = j0 + r * stride;
                    float[] bPanel;
                    int bBase;
                    if (pb != null) {
                        bPanel = pb.data;
                        bBase = k0 * pb.strips * NR + (jr / NR) * strip;
                    } else {
                        packB(tb, b, bOff, ldb, p.b, 0, jr, nc, stripsN, k0, kc);
                        bPanel = p.b;
                        bBase = 0;
                    }
                    int sc0 = 0;
                    if (directA && mc == 1) {
                        // One row (a B = 1 step): whole strips WIDE_STRIPS at a time, see GemmKernels.d1s4.
                        int wide = GemmKernels.WIDE_STRIPS;
                        int cRow = cOff + i0 * ldc + jr;
                        for (; sc0 + wide <= nc / NR; sc0 += wide) {
                            GemmKernels.d1s4(aPanel, aBase, bPanel, bBase + sc0 * strip, strip, kc, p.out);
                            epilogue(p.out, 0, 1, wide * NR, cRow + sc0 * NR, jr + sc0 * NR, mode);
                        }
                    }
                    // Columns in chunks of NC, so the chunk's B strips stay in cache while every A
                    // strip of the tile passes over them.
                    int chunk = NC / NR;
                    for (int sc = sc0; sc < stripsN; sc += chunk) {
                        int scEnd = Math.min(stripsN, sc + chunk);
                        for (int sm = 0; sm < stripsM; sm++) {
                            int rows = Math.min(MR, mc - sm * MR);
                            int cRow = cOff + (i0 + sm * MR) * ldc + jr;
                            int aAt = directA ? aBase + sm * MR * lda : aBase + sm * KC * MR;
                            for (int sn = sc; sn < scEnd; sn++) {
                                int cols = Math.min(NR, nc - sn * NR);
                                block(aPanel, aAt, bPanel, bBase + sn * strip, kc, rows, cols, cRow + sn * NR,
                                        jr + sn * NR, mode, p.out);
                            }
                        }
                    }
                }
            }
        }

        /**
         * C tile {@code *= beta} (beta = 0 overwrites without reading, so NaN garbage in C does not
         * leak), or C tile = the initial row: for tiles whose first K block does not write C whole.
         */
        private void initTile(int i0, int mc, int j0, int nc, int ranges, int stride) {
            for (int i = 0; i < mc * ranges; i++) {
                int jr = j0 + (i / mc) * stride;
                int row = cOff + (i0 + i % mc) * ldc + jr;
                if (rowInit != null) {
                    System.arraycopy(rowInit, jr, c, row, nc);
                } else if (beta == 0f) {
                    Arrays.fill(c, row, row + nc, 0f);
                } else if (beta != 1f) {
                    for (int j = 0; j < nc; j++) {
                        c[row + j] *= beta;
                    }
                }
            }
        }

        /**
         * {@code C[rows, cols] at cAt} gets the sums of A strip · B strip by {@code mode}
         * (GemmKernels' STORE, ROW or ADD; {@code col}: the block's first column, for the row):
         * a full block of packed A runs the kernel that ends in C; any other, the smallest kernel
         * that covers it, into {@code out}, whose valid part then goes into C. The A strip is
         * packed at {@code pa[ao]}, or, with {@link #directA}, its first row of A at {@code pa[ao]}.
         */
        private void block(float[] pa, int ao, float[] pb, int bo, int kc, int rows, int cols, int cAt, int col,
                           int mode, float[] out) {
            if (rows == MR && cols == NR && !directA) {
                GemmKernels.runC(pa, ao, pb, bo, kc, c, cAt, ldc, mode, rowInit, col);
                return;
            }
            int vecs = (cols + LANES - 1) / LANES;
            int kernelRows = rows <= 1 ? 1 : rows <= 2 ? 2 : rows <= 4 ? 4 : MR;
            if (directA) {
                GemmKernels.runDirect(kernelRows, vecs, pa, ao, lda, rows, pb, bo, kc, out);
            } else {
                GemmKernels.run(kernelRows, vecs, pa, ao, pb, bo, kc, out);
            }
            epilogue(out, NR, rows, cols, cAt, col, mode);
        }

        /**
         * {@code C[r, 0:cols] at cAt} = {@code out[r*outStride ..]}, row + it, or C + it, by
         * {@code mode}, for {@code r < rows}: the operands in the C kernels' order, so the same bits.
         */
        private void epilogue(float[] out, int outStride, int rows, int cols, int cAt, int col, int mode) {
            float[] c = this.c;
            float[] init = rowInit;
            int ldc = this.ldc;
            int whole = cols / LANES * LANES;
            for (int r = 0; r < rows; r++) {
                int dst = cAt + r * ldc;
                int src = r * outStride;
                int j = 0;
                if (mode == GemmKernels.STORE) {
                    System.arraycopy(out, src, c, dst, cols);
                    continue;
                }
                float[] base = mode == GemmKernels.ROW ? init : c;
                int at = mode == GemmKernels.ROW ? col : dst;
                for (; j < whole; j += LANES) {
                    FloatVector.fromArray(SPECIES, base, at + j)
                            .add(FloatVector.fromArray(SPECIES, out, src + j))
                            .intoArray(c, dst + j);
                }
                for (; j < cols; j++) {
                    c[dst + j] = base[at + j] + out[src + j];
                }
            }
        }

        /**
         * {@code dst[dstOff + (strip*KC + kk)*MR + r] = alpha·op(A)[i0 + strip*MR + r, k0 + kk]},
         * zero past the last row. {@code (i, k)} of op(A) lies at {@code src + r*rowStep + kk*kStep}.
         */
        private void packA(float[] dst, int dstOff, int i0, int mc, int strips, int k0, int kc) {
            float[] a = this.a;
            float alpha = this.alpha;
            int rowStep = ta ? 1 : lda;
            int kStep = ta ? lda : 1;
            for (int s = 0; s < strips; s++) {
                int rows = Math.min(MR, mc - s * MR);
                int src = aOff + (i0 + s * MR) * rowStep + k0 * kStep;
                int d = dstOff + s * KC * MR;
                for (int kk = 0; kk < kc; kk++, src += kStep, d += MR) {
                    int r = 0;
                    for (int at = src; r < rows; r++, at += rowStep) {
                        dst[d + r] = alpha * a[at];
                    }
                    for (; r < MR; r++) {
                        dst[d + r] = 0f;
                    }
                }
            }
        }

        private void clear() {
            a = null;
            b = null;
            c = null;
            rowInit = null;
            packed = null;
            wholeA = null;
            directA = false;
            owner = null;
        }
    }

    Sgemm(Workers workers) {
        this.workers = workers;
    }

    /** The register block: {@code recur.cpu.gemm.block} when set, else from the vector width and architecture. */
    private static boolean wideBlock() {
        String forced = System.getProperty("recur.cpu.gemm.block");
        if ("8x2".equals(forced)) {
            return true;
        }
        if ("6x2".equals(forced)) {
            return false;
        }
        if (forced != null) {
            throw new IllegalArgumentException("recur.cpu.gemm.block must be 8x2 or 6x2, got '" + forced + "'");
        }
        // 512-bit vectors mean AVX-512 and its 32 registers; Arm's Advanced SIMD and SVE have 32 too.
        String arch = System.getProperty("os.arch", "");
        return LANES >= 16 || arch.equals("aarch64") || arch.equals("arm64");
    }

    /** {@code C = alpha·op(A)·op(B) + beta·C}, on a call of its own. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc) {
        gemm(new Call(), transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** {@code C = alpha·op(A)·op(B) + beta·C} on {@code call}, which this sets up and clears. */
    synchronized void gemm(Call call, boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        try {
            run(call, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, null, null, c, cOff, ldc);
        } finally {
            call.clear();
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + r}, the row vector {@code r [n]} added to every row of C: a
     * bias. Each task writes r into its tile just before summing into it, which saves a separate
     * pass over C; the bits are those of filling C with r and calling {@link #gemm} with beta 1.
     */
    synchronized void gemmPlusRow(Call call, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] r, float[] c, int cOff, int ldc) {
        try {
            run(call, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, 1f, r, null, c, cOff, ldc);
        } finally {
            call.clear();
        }
    }

    /** {@link #gemmPlusRow} with {@code op(B)} taken from {@code pb} (made by {@link #pack}). */
    synchronized void gemmPlusRow(Call call, boolean transA, int m, float alpha, float[] a, int aOff, int lda,
                                  PackedB pb, float[] r, float[] c, int cOff, int ldc) {
        try {
            run(call, transA, false, m, pb.n, pb.k, alpha, a, aOff, lda, null, 0, 0, 1f, r, pb, c, cOff, ldc);
        } finally {
            call.clear();
        }
    }

    /** {@link #gemm} with {@code op(B)} taken from {@code pb} (made by {@link #pack}). */
    synchronized void gemm(Call call, boolean transA, int m, float alpha, float[] a, int aOff, int lda, PackedB pb,
                           float beta, float[] c, int cOff, int ldc) {
        try {
            run(call, transA, false, m, pb.n, pb.k, alpha, a, aOff, lda, null, 0, 0, beta, null, pb, c, cOff, ldc);
        } finally {
            call.clear();
        }
    }

    /**
     * {@code C[0:m, j0:j0+nc] = alpha·op(A)·B[:, j0:j0+nc] + beta·C[0:m, j0:j0+nc]} with B from {@code pb}, on the calling
     * thread alone: for a caller whose threads split the columns among themselves (CpuLayer's
     * sliced time loop), each with a {@link Call} of its own. {@code j0} is a multiple of
     * {@link #NR}. Each element gets the same bits as from {@link #gemm} (see Determinism above).
     * Not synchronized: several threads run it at once on disjoint columns, never beside another
     * call of this instance's (which would share {@link #whole} and {@link #wholeA}; this uses
     * neither).
     */
    void columns(Call call, boolean transA, int m, float alpha, float[] a, int aOff, int lda, PackedB pb, int j0,
                 int nc, float beta, float[] c, int cOff, int ldc) {
        columns(call, transA, m, alpha, a, aOff, lda, pb, j0, nc, 1, 0, beta, c, cOff, ldc);
    }

    /**
     * {@link #columns} over {@code ranges} column ranges {@code [j0 + r·stride, + nc)} at once,
     * packing A once per K block for all of them (a sliced loop's units in every gate block).
     * {@code stride} a multiple of {@link #NR}.
     */
    void columns(Call call, boolean transA, int m, float alpha, float[] a, int aOff, int lda, PackedB pb, int j0,
                 int nc, int ranges, int stride, float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || nc == 0) {
            return;
        }
        if (j0 % NR != 0 || stride % NR != 0) {
            throw new IllegalArgumentException("columns: j0 = " + j0 + " and stride = " + stride
                    + " must be multiples of NR = " + NR);
        }
        call.owner = this;
        call.ta = transA;
        call.tb = false;
        call.m = m;
        call.n = pb.n;
        call.k = pb.k;
        call.alpha = alpha;
        call.a = a;
        call.aOff = aOff;
        call.lda = lda;
        call.beta = beta;
        call.rowInit = null;
        call.c = c;
        call.cOff = cOff;
        call.ldc = ldc;
        call.packed = pb;
        call.wholeA = null;
        call.directA = readsADirect(transA, alpha);
        try {
            for (int i0 = 0; i0 < m; i0 += MC) {
                call.rect(i0, Math.min(MC, m - i0), j0, nc, ranges, stride);
            }
        } finally {
            call.clear();
        }
    }

    /** Packs {@code op(B) [k, n]} into {@code into}, growing it when needed. Allocates only then. */
    static void pack(boolean transB, int k, int n, float[] b, int bOff, int ldb, PackedB into) {
        int blocks = shape(into, k, n);
        for (int q = 0; q < blocks; q++) {
            int k0 = q * KC;
            packB(transB, b, bOff, ldb, into.data, k0 * into.strips * NR, 0, n, into.strips, k0,
                    Math.min(KC, k - k0));
        }
    }

    /** Sizes {@code into} for {@code op(B) [k, n]} (growing its array only when needed); returns the K blocks. */
    private static int shape(PackedB into, int k, int n) {
        int strips = (n + NR - 1) / NR;
        int blocks = (k + KC - 1) / KC;
        int size = k * strips * NR;
        if (into.data.length < size) {
            into.data = new float[size];
        }
        into.k = k;
        into.n = n;
        into.strips = strips;
        return blocks;
    }

    private void run(Call call, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] rowInit,
                     PackedB packed, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        call.owner = this;
        call.ta = transA;
        call.tb = transB;
        call.m = m;
        call.n = n;
        call.alpha = alpha;
        call.lda = lda;
        call.ldb = ldb;
        call.c = c;
        call.cOff = cOff;
        call.ldc = ldc;
        call.rowInit = rowInit;
        int phase = packed == null ? phaseLength(n) : k;
        // K in phases of whole K blocks, one after the other over all of C: see phaseLength.
        int k0 = 0;
        do {
            call.k = Math.min(phase, k - k0);
            call.a = a;
            call.aOff = aOff + (transA ? k0 * lda : k0);
            call.b = b;
            call.bOff = bOff + (transB ? k0 : k0 * ldb);
            call.beta = k0 == 0 ? beta : 1f;
            if (k0 > 0) {
                call.rowInit = null; // C was initialised by the first phase
            }
            call.packed = packed;
            // One row tile only: there the tasks split the columns and would otherwise share A packed
            // whole in a hand-over of its own. With more rows each task packs its own rows once
            // (fewRowsTile), and reading A unpacked measured slower: LSTM B=64 H=512 inference 125
            // and 141 ms against 123 and 115 packed (2 threads, loaded Zen 5 VM, paired).
            call.directA = packed != null && m <= MC && readsADirect(transA, alpha);
            phase(call);
            k0 += phase;
        } while (k0 < k);
    }

    /**
     * Whether a GEMM on op(B) packed by the caller reads A unpacked (GemmKernels' {@code d}
     * kernels): when A is row-major and alpha 1, so that packing would copy the same values.
     * Those GEMMs are a recurrence's per-step ones, of few rows, where packing A cost as much as a
     * good share of the kernel time (at B = 16, H = 256 the sliced backward had each thread pack
     * all of a step's [16, 1024] gate gradients for its 128 columns) and, split by columns, a
     * hand-over of its own. Same values, same order of sums: the same bits.
     */
    private static boolean readsADirect(boolean transA, float alpha) {
        return !transA && alpha == 1f && DIRECT_A;
    }

    /** {@code -Drecur.cpu.gemm.directA=false} packs A in the per-step GEMMs too (to measure against it). */
    private static final boolean DIRECT_A =
            !"false".equalsIgnoreCase(System.getProperty("recur.cpu.gemm.directA", "true"));

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

    /** One pass over C for the call's K range: picks the tiling, packs what the tasks share, runs the tiles. */
    private void phase(Call call) {
        int m = call.m;
        int n = call.n;
        int k = call.k;
        boolean parallel = (long) m * n * k >= PARALLEL_MIN_WORK;
        int threads = workers.threads();
        call.tileRows = fewRowsTile(m, parallel && call.packed != null, threads);
        boolean fewRows = call.tileRows != MC;
        int tilesM = (m + call.tileRows - 1) / call.tileRows;
        // Enough row tiles for every task to take all the columns (below): tiles sized to share out evenly.
        boolean manyRows = !fewRows && tilesM >= 4 * threads;
        if (manyRows && parallel) {
            call.tileRows = balancedTileRows(m, threads);
            tilesM = (m + call.tileRows - 1) / call.tileRows;
        }
        // Work split (none of it changes the order in which an element of C is summed):
        // - with several row tiles, op(B) is packed once, whole, and shared by all tasks; when
        //   there are enough row tiles to keep every thread busy, a task takes all columns of
        //   its rows, so its A panel is packed only once;
        // - with one row tile, tasks split the columns, and share one packing of A when there are
        //   more than two column tiles;
        // - a per-step recurrent GEMM of few rows (op(B) packed by the caller, at most MC rows per
        //   thread) gets one task per thread, each all columns of an equal share of the rows: see
        //   fewRowsTile.
        if (call.packed == null && tilesM > 1 && k > 0) {
            call.packed = whole;
            int blocks = shape(whole, k, n);
            // Each K block split by strips (at least 4 a group), so that every thread packs: one
            // K block of 512 rows is the whole of op(B) in a phase of a 1024-column GEMM.
            call.packGroups = parallel ? Math.max(1, Math.min(whole.strips / 4, 2 * workers.threads())) : 1;
            runTasks(call, Call.PACK_B, blocks * call.packGroups, parallel);
        }
        call.tileCols = fewRows || (call.packed != null && manyRows) ? n : NC;
        call.tilesN = (n + call.tileCols - 1) / call.tileCols;
        call.wholeA = null;
        if (call.tilesN > 2 && k > 0 && !call.directA) {
            call.wholeAStrips = (m + MR - 1) / MR;
            int blocks = (k + KC - 1) / KC;
            int size = blocks * call.wholeAStrips * KC * MR;
            if (wholeA.length < size) {
                wholeA = new float[size];
            }
            call.wholeA = wholeA;
            runTasks(call, Call.PACK_A, blocks * tilesM, parallel);
        }
        runTasks(call, Call.TILES, tilesM * call.tilesN, parallel);
    }

    /**
     * Rows per tile for a GEMM of many row tiles whose tasks each take all the columns: whole
     * strips, 4 to {@value #MAX_TILE_STRIPS} of them, chosen so that the tiles share out among
     * {@code threads} as evenly as whole tiles can (the most strips any thread gets, in rounds of
     * one tile per thread, the least; the larger tile on a tie). 1024 rows on 2 threads: 8 tiles of
     * 128, not 21 of 48 and one of 16, which left one thread two thirds of a tile behind the other.
     */
    static int balancedTileRows(int m, int threads) {
        int strips = (m + MR - 1) / MR;
        int best = MAX_TILE_STRIPS;
        long bestCost = Long.MAX_VALUE;
        for (int ts = MAX_TILE_STRIPS; ts >= 4; ts--) {
            long tiles = (strips + ts - 1) / ts;
            long cost = (tiles + threads - 1) / threads * ts;
            if (cost < bestCost) {
                bestCost = cost;
                best = ts;
            }
        }
        return best * MR;
    }

    private void runTasks(Call call, int mode, int count, boolean parallel) {
        call.mode = mode;
        if (parallel) {
            workers.forEach(count, call);
        } else {
            for (int t = 0; t < count; t++) {
                call.run(t);
            }
        }
    }

    /**
     * The rows of C per tile: {@value #MC}, or, for a GEMM on op(B) packed by the caller (the
     * per-step recurrent GEMMs) whose rows fit in one tile per thread, an equal share of the rows
     * per thread (whole strips of {@link #MR}), so that {@code threads} tasks each take all the
     * columns of their rows. Only where each share is at least 4 strips, so that whole strips
     * leave the tasks within a quarter of each other, and where that gives a task per thread.
     *
     * <p>Measured on the LSTM's per-step GEMMs at B = 64 on 2 threads (the 2-core EPYC VM, AVX2),
     * five runs per shape of 40 interleaved rounds against 48-row tiles split into 256-column
     * tasks, in one JVM, results bitwise the same: [64, 512] x [512, 2048] took 0.85-1.01 (median
     * 0.96) of the time, [64, 2048] x [2048, 512] 0.86-1.00 (median 0.94). Those split the
     * columns, so each task packed the same rows of A again.
     */
    static int fewRowsTile(int m, boolean packedB, int threads) {
        if (!packedB || threads < 2 || m > MC * threads) {
            return MC;
        }
        int rows = ((m + threads - 1) / threads + MR - 1) / MR * MR;
        boolean enough = rows >= 4 * MR && (m + rows - 1) / rows == threads;
        return enough ? Math.min(MC, rows) : MC;
    }

    /** {@code dst[dstOff + strip*kc*NR + kk*NR + j] = op(B)[k0 + kk, j0 + strip*NR + j]}, zero past the last column. */
    private static void packB(boolean tb, float[] b, int bOff, int ldb, float[] dst, int dstOff, int j0, int nc,
                              int strips, int k0, int kc) {
        for (int s = 0; s < strips; s++) {
            int base = dstOff + s * kc * NR;
            int cols = Math.min(NR, nc - s * NR);
            if (!tb && cols == NR) {
                // A whole strip: its rows copied by vectors, not a call of arraycopy per row of NR
                // floats (1024^3 on 1 thread: 188-193 against 180-188 GFLOP/s median, interleaved).
                int src = bOff + k0 * ldb + j0 + s * NR;
                for (int kk = 0; kk < kc; kk++, src += ldb) {
                    int d = base + kk * NR;
                    for (int v = 0; v < NR; v += LANES) {
                        FloatVector.fromArray(SPECIES, b, src + v).intoArray(dst, d + v);
                    }
                }
            } else if (!tb) {
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
}
