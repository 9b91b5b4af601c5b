package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sgemm's register kernels, one method per block shape ({@code rows x vectors} of C held in
 * registers): written out by {@code engine-cpu/scripts/gen-gemm-kernels.py}; edit that, not this.
 *
 * <p>Each kernel keeps {@code rows x vecs} accumulators, starts them from zero, and per step of k
 * loads {@code vecs} vectors of the packed B strip and broadcasts one value of the packed A strip
 * per row (a broadcast from memory, which the load ports serve): {@code rows x vecs} fused
 * multiply-adds for {@code vecs + rows} loads. At the end it stores the accumulators, the block's
 * partial sums accumulated from zero in ascending k, for Sgemm to add into C: the order its
 * determinism rests on, whatever the kernel's shape.
 *
 * <p>The full blocks (8 x 2, 6 x 2) also come as {@code c} kernels that end in C itself instead
 * of {@code out}: the sums stored ({@link #STORE}, the first K block over C = 0), added to a bias
 * row ({@link #ROW}) or to C ({@link #ADD}), the operands of each addition in the order Sgemm's
 * buffered path uses, so the bits are the same. An earlier measurement found a kernel that added
 * into C slower (165-174 GFLOP/s against 213-218 for plain stores; one core of the Zen 5 VM,
 * kc = 256, strips in L1, in one JVM); in Sgemm's loops, with KC = 512, the store-then-add pass
 * it saves measured the larger cost: on 1 thread, 1024³ ran at 175 without the add pass against
 * 160 with it (KC = 128), and at 184 against 165 with the c kernels and KC = 512.
 *
 * <p>An A strip is {@code [kc][MR]} floats (alpha already applied), a B strip {@code [kc][NR]}.
 * The {@code d} kernels read A where it lies instead ({@code a[ao + r*lda + kk]}, alpha 1): for
 * the per-step GEMMs of a recurrence, whose few rows of A (h_{t-1}, or a step's gate gradients)
 * would otherwise be packed at every step, by every thread that needs them. The same products
 * summed in the same order: the same bits as the packed kernel of the same shape.
 */
final class GemmKernels {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    static final int MR = Sgemm.MR;
    static final int NR = Sgemm.NR;
    /** Epilogue modes of the C kernels: C = sums; C = row + sums; C = C + sums. */
    static final int STORE = 0;
    static final int ROW = 1;
    static final int ADD = 2;
    /** B strips of the one-row wide kernel {@link #d1s4}. */
    static final int WIDE_STRIPS = 4;

    private GemmKernels() {
    }

    /**
     * Runs the kernel of {@code rows x vecs} on {@code kc} steps into {@code out [rows][NR]}.
     */
    static void run(int rows, int vecs, float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        switch (rows * 4 + vecs) {
            case 5 -> k1x1(pa, ao, pb, bo, kc, out);
            case 6 -> k1x2(pa, ao, pb, bo, kc, out);
            case 9 -> k2x1(pa, ao, pb, bo, kc, out);
            case 10 -> k2x2(pa, ao, pb, bo, kc, out);
            case 17 -> k4x1(pa, ao, pb, bo, kc, out);
            case 18 -> k4x2(pa, ao, pb, bo, kc, out);
            case 25 -> k6x1(pa, ao, pb, bo, kc, out);
            case 26 -> k6x2(pa, ao, pb, bo, kc, out);
            case 33 -> k8x1(pa, ao, pb, bo, kc, out);
            case 34 -> k8x2(pa, ao, pb, bo, kc, out);
            default -> throw new IllegalStateException("no kernel of " + rows + " rows x " + vecs + " vectors");
        }
    }

    /**
     * Runs the kernel of {@code rows x vecs} with A unpacked ({@code a[ao + r*lda + kk]}, rows
     * {@code r < valid} of it, {@code valid <= rows}) on {@code kc} steps into {@code out [rows][NR]}.
     */
    static void runDirect(int rows, int vecs, float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc,
                          float[] out) {
        switch (rows * 4 + vecs) {
            case 5 -> d1x1(a, ao, lda, valid, pb, bo, kc, out);
            case 6 -> d1x2(a, ao, lda, valid, pb, bo, kc, out);
            case 9 -> d2x1(a, ao, lda, valid, pb, bo, kc, out);
            case 10 -> d2x2(a, ao, lda, valid, pb, bo, kc, out);
            case 17 -> d4x1(a, ao, lda, valid, pb, bo, kc, out);
            case 18 -> d4x2(a, ao, lda, valid, pb, bo, kc, out);
            case 25 -> d6x1(a, ao, lda, valid, pb, bo, kc, out);
            case 26 -> d6x2(a, ao, lda, valid, pb, bo, kc, out);
            case 33 -> d8x1(a, ao, lda, valid, pb, bo, kc, out);
            case 34 -> d8x2(a, ao, lda, valid, pb, bo, kc, out);
            default -> throw new IllegalStateException("no kernel of " + rows + " rows x " + vecs + " vectors");
        }
    }

    /** Runs the C kernel of the full block, {@code MR x 2}: see {@link #c8x2}. */
    static void runC(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc, int mode,
                     float[] row, int ro) {
        switch (MR) {
            case 8 -> c8x2(pa, ao, pb, bo, kc, c, co, ldc, mode, row, ro);
            case 6 -> c6x2(pa, ao, pb, bo, kc, c, co, ldc, mode, row, ro);
            default -> throw new IllegalStateException("no C kernel of " + MR + " rows");
        }
    }

    /** 1 rows x 1 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k1x1(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
        }
        c00.intoArray(out, 0);
    }

    /** 1 rows x 2 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k1x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
    }

    /** 2 rows x 1 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k2x1(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
    }

    /** 2 rows x 2 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k2x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
    }

    /** 4 rows x 1 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k4x1(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
    }

    /** 4 rows x 2 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k4x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
        c20.intoArray(out, 2 * NR);
        c21.intoArray(out, 2 * NR + LANES);
        c30.intoArray(out, 3 * NR);
        c31.intoArray(out, 3 * NR + LANES);
    }

    /** 6 rows x 1 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k6x1(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
        c40.intoArray(out, 4 * NR);
        c50.intoArray(out, 5 * NR);
    }

    /** 6 rows x 2 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k6x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
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

    /** 8 rows x 1 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k8x1(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            a = FloatVector.broadcast(SPECIES, pa[ai + 6]);
            c60 = a.fma(b0, c60);
            a = FloatVector.broadcast(SPECIES, pa[ai + 7]);
            c70 = a.fma(b0, c70);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
        c40.intoArray(out, 4 * NR);
        c50.intoArray(out, 5 * NR);
        c60.intoArray(out, 6 * NR);
        c70.intoArray(out, 7 * NR);
    }

    /** 8 rows x 2 vectors: {@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}. */
    static void k8x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(SPECIES, pa[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(SPECIES, pa[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
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
        c60.intoArray(out, 6 * NR);
        c61.intoArray(out, 6 * NR + LANES);
        c70.intoArray(out, 7 * NR);
        c71.intoArray(out, 7 * NR + LANES);
    }

    /**
     * 8 rows x 2 vectors into C at {@code c[co + r*ldc + v*LANES ..]}: the sums of {@link #k8x2},
     * stored ({@link #STORE}), added to the row {@code row[ro ..]} ({@link #ROW}) or to C ({@link #ADD}).
     */
    static void c8x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc, int mode,
                      float[] row, int ro) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(SPECIES, pa[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(SPECIES, pa[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        if (mode == STORE) {
            c00.intoArray(c, co);
            c01.intoArray(c, co + LANES);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + LANES);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + LANES);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + LANES);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + LANES);
            c50.intoArray(c, co + 5 * ldc);
            c51.intoArray(c, co + 5 * ldc + LANES);
            c60.intoArray(c, co + 6 * ldc);
            c61.intoArray(c, co + 6 * ldc + LANES);
            c70.intoArray(c, co + 7 * ldc);
            c71.intoArray(c, co + 7 * ldc + LANES);
        } else if (mode == ROW) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, row, ro), r1 = FloatVector.fromArray(SPECIES, row, ro + LANES);
            r0.add(c00).intoArray(c, co);
            r1.add(c01).intoArray(c, co + LANES);
            r0.add(c10).intoArray(c, co + ldc);
            r1.add(c11).intoArray(c, co + ldc + LANES);
            r0.add(c20).intoArray(c, co + 2 * ldc);
            r1.add(c21).intoArray(c, co + 2 * ldc + LANES);
            r0.add(c30).intoArray(c, co + 3 * ldc);
            r1.add(c31).intoArray(c, co + 3 * ldc + LANES);
            r0.add(c40).intoArray(c, co + 4 * ldc);
            r1.add(c41).intoArray(c, co + 4 * ldc + LANES);
            r0.add(c50).intoArray(c, co + 5 * ldc);
            r1.add(c51).intoArray(c, co + 5 * ldc + LANES);
            r0.add(c60).intoArray(c, co + 6 * ldc);
            r1.add(c61).intoArray(c, co + 6 * ldc + LANES);
            r0.add(c70).intoArray(c, co + 7 * ldc);
            r1.add(c71).intoArray(c, co + 7 * ldc + LANES);
        } else {
            FloatVector.fromArray(SPECIES, c, co).add(c00).intoArray(c, co);
            FloatVector.fromArray(SPECIES, c, co + LANES).add(c01).intoArray(c, co + LANES);
            FloatVector.fromArray(SPECIES, c, co + ldc).add(c10).intoArray(c, co + ldc);
            FloatVector.fromArray(SPECIES, c, co + ldc + LANES).add(c11).intoArray(c, co + ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 2 * ldc).add(c20).intoArray(c, co + 2 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 2 * ldc + LANES).add(c21).intoArray(c, co + 2 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 3 * ldc).add(c30).intoArray(c, co + 3 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 3 * ldc + LANES).add(c31).intoArray(c, co + 3 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 4 * ldc).add(c40).intoArray(c, co + 4 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 4 * ldc + LANES).add(c41).intoArray(c, co + 4 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 5 * ldc).add(c50).intoArray(c, co + 5 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 5 * ldc + LANES).add(c51).intoArray(c, co + 5 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 6 * ldc).add(c60).intoArray(c, co + 6 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 6 * ldc + LANES).add(c61).intoArray(c, co + 6 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 7 * ldc).add(c70).intoArray(c, co + 7 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 7 * ldc + LANES).add(c71).intoArray(c, co + 7 * ldc + LANES);
        }
    }

    /**
     * 6 rows x 2 vectors into C at {@code c[co + r*ldc + v*LANES ..]}: the sums of {@link #k6x2},
     * stored ({@link #STORE}), added to the row {@code row[ro ..]} ({@link #ROW}) or to C ({@link #ADD}).
     */
    static void c6x2(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc, int mode,
                      float[] row, int ro) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            int ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector a;
            a = FloatVector.broadcast(SPECIES, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(SPECIES, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(SPECIES, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        if (mode == STORE) {
            c00.intoArray(c, co);
            c01.intoArray(c, co + LANES);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + LANES);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + LANES);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + LANES);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + LANES);
            c50.intoArray(c, co + 5 * ldc);
            c51.intoArray(c, co + 5 * ldc + LANES);
        } else if (mode == ROW) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, row, ro), r1 = FloatVector.fromArray(SPECIES, row, ro + LANES);
            r0.add(c00).intoArray(c, co);
            r1.add(c01).intoArray(c, co + LANES);
            r0.add(c10).intoArray(c, co + ldc);
            r1.add(c11).intoArray(c, co + ldc + LANES);
            r0.add(c20).intoArray(c, co + 2 * ldc);
            r1.add(c21).intoArray(c, co + 2 * ldc + LANES);
            r0.add(c30).intoArray(c, co + 3 * ldc);
            r1.add(c31).intoArray(c, co + 3 * ldc + LANES);
            r0.add(c40).intoArray(c, co + 4 * ldc);
            r1.add(c41).intoArray(c, co + 4 * ldc + LANES);
            r0.add(c50).intoArray(c, co + 5 * ldc);
            r1.add(c51).intoArray(c, co + 5 * ldc + LANES);
        } else {
            FloatVector.fromArray(SPECIES, c, co).add(c00).intoArray(c, co);
            FloatVector.fromArray(SPECIES, c, co + LANES).add(c01).intoArray(c, co + LANES);
            FloatVector.fromArray(SPECIES, c, co + ldc).add(c10).intoArray(c, co + ldc);
            FloatVector.fromArray(SPECIES, c, co + ldc + LANES).add(c11).intoArray(c, co + ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 2 * ldc).add(c20).intoArray(c, co + 2 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 2 * ldc + LANES).add(c21).intoArray(c, co + 2 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 3 * ldc).add(c30).intoArray(c, co + 3 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 3 * ldc + LANES).add(c31).intoArray(c, co + 3 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 4 * ldc).add(c40).intoArray(c, co + 4 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 4 * ldc + LANES).add(c41).intoArray(c, co + 4 * ldc + LANES);
            FloatVector.fromArray(SPECIES, c, co + 5 * ldc).add(c50).intoArray(c, co + 5 * ldc);
            FloatVector.fromArray(SPECIES, c, co + 5 * ldc + LANES).add(c51).intoArray(c, co + 5 * ldc + LANES);
        }
    }

    /** 1 rows x 1 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d1x1(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        FloatVector c00 = FloatVector.zero(SPECIES);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
        }
        c00.intoArray(out, 0);
    }

    /** 1 rows x 2 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d1x2(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
    }

    /** 2 rows x 1 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d2x1(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
    }

    /** 2 rows x 2 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d2x2(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
    }

    /** 4 rows x 1 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d4x1(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
    }

    /** 4 rows x 2 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d4x2(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
        c20.intoArray(out, 2 * NR);
        c21.intoArray(out, 2 * NR + LANES);
        c30.intoArray(out, 3 * NR);
        c31.intoArray(out, 3 * NR + LANES);
    }

    /** 6 rows x 1 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d6x1(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        int a4 = ao + Math.min(4, valid - 1) * lda;
        int a5 = ao + Math.min(5, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(SPECIES, a[a4 + kk]);
            c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(SPECIES, a[a5 + kk]);
            c50 = x.fma(b0, c50);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
        c40.intoArray(out, 4 * NR);
        c50.intoArray(out, 5 * NR);
    }

    /** 6 rows x 2 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d6x2(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        int a4 = ao + Math.min(4, valid - 1) * lda;
        int a5 = ao + Math.min(5, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, a[a4 + kk]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, a[a5 + kk]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
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

    /** 8 rows x 1 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d8x1(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        int a4 = ao + Math.min(4, valid - 1) * lda;
        int a5 = ao + Math.min(5, valid - 1) * lda;
        int a6 = ao + Math.min(6, valid - 1) * lda;
        int a7 = ao + Math.min(7, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(SPECIES, a[a4 + kk]);
            c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(SPECIES, a[a5 + kk]);
            c50 = x.fma(b0, c50);
            x = FloatVector.broadcast(SPECIES, a[a6 + kk]);
            c60 = x.fma(b0, c60);
            x = FloatVector.broadcast(SPECIES, a[a7 + kk]);
            c70 = x.fma(b0, c70);
        }
        c00.intoArray(out, 0);
        c10.intoArray(out, NR);
        c20.intoArray(out, 2 * NR);
        c30.intoArray(out, 3 * NR);
        c40.intoArray(out, 4 * NR);
        c50.intoArray(out, 5 * NR);
        c60.intoArray(out, 6 * NR);
        c70.intoArray(out, 7 * NR);
    }

    /** 8 rows x 2 vectors, A unpacked: {@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}. */
    static void d8x2(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {
        int a0 = ao;
        int a1 = ao + Math.min(1, valid - 1) * lda;
        int a2 = ao + Math.min(2, valid - 1) * lda;
        int a3 = ao + Math.min(3, valid - 1) * lda;
        int a4 = ao + Math.min(4, valid - 1) * lda;
        int a5 = ao + Math.min(5, valid - 1) * lda;
        int a6 = ao + Math.min(6, valid - 1) * lda;
        int a7 = ao + Math.min(7, valid - 1) * lda;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bi), b1 = FloatVector.fromArray(SPECIES, pb, bi + LANES);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[a0 + kk]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + kk]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[a2 + kk]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[a3 + kk]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, a[a4 + kk]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, a[a5 + kk]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(SPECIES, a[a6 + kk]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(SPECIES, a[a7 + kk]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
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
        c60.intoArray(out, 6 * NR);
        c61.intoArray(out, 6 * NR + LANES);
        c70.intoArray(out, 7 * NR);
        c71.intoArray(out, 7 * NR + LANES);
    }

    /**
     * One row x 4 B strips (8 vectors), A unpacked: {@code out[s*NR + v*LANES ..] = Σ_kk
     * a[ao + kk]·pb[bo + s*strip + kk*NR + v*LANES ..]}, the sums of the one-row kernel, strip by strip
     * ({@code strip}: floats from one packed B strip to the next, {@code kc*NR} in Sgemm's layout).
     */
    static void d1s4(float[] a, int ao, float[] pb, int bo, int strip, int kc, float[] out) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR;
            FloatVector x = FloatVector.broadcast(SPECIES, a[ao + kk]);
            c00 = x.fma(FloatVector.fromArray(SPECIES, pb, bi), c00);
            c01 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + LANES), c01);
            c10 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + strip), c10);
            c11 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + strip + LANES), c11);
            c20 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + 2 * strip), c20);
            c21 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + 2 * strip + LANES), c21);
            c30 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + 3 * strip), c30);
            c31 = x.fma(FloatVector.fromArray(SPECIES, pb, bi + 3 * strip + LANES), c31);
        }
        c00.intoArray(out, 0);
        c01.intoArray(out, 0 + LANES);
        c10.intoArray(out, NR);
        c11.intoArray(out, NR + LANES);
        c20.intoArray(out, 2 * NR);
        c21.intoArray(out, 2 * NR + LANES);
        c30.intoArray(out, 3 * NR);
        c31.intoArray(out, 3 * NR + LANES);
    }
}
