package dev.recur.bench;

import dev.recur.api.Cell;

/**
 * FLOP counts from DESIGN.md ("Speed, measured"), a multiply-add counted as two. They count the
 * GEMMs only (the element-wise gate math is O(G·H·B·T), a fraction of a percent at I = H = 512),
 * and they are the same for every engine and every peer on a shape, so GFLOP/s compare as the
 * inverse of time.
 */
public final class Flops {

    /** Training (forward + backward) is counted as three forwards: the backward does twice the GEMM work. */
    public static final int TRAIN_FACTOR = 3;

    private Flops() {
    }

    /** One direction of one layer, forward: {@code 2·G·H·(I+H)·B·T}. */
    public static long layerForward(Cell cell, int batch, int input, int hidden, int steps) {
        return 2L * cell.gates() * hidden * ((long) input + hidden) * batch * steps;
    }

    /** One direction of one layer, forward and backward: {@code 3 · 2·G·H·(I+H)·B·T}. */
    public static long layerTrain(Cell cell, int batch, int input, int hidden, int steps) {
        return TRAIN_FACTOR * layerForward(cell, batch, input, hidden, steps);
    }

    /** {@code C[M, N] = A[M, K] · B[K, N]}: {@code 2·M·N·K}. */
    public static long gemm(long m, long n, long k) {
        return 2L * m * n * k;
    }

    /** FLOPs per millisecond to GFLOP/s. */
    public static double gflops(long flops, double ms) {
        return flops / (ms * 1e6);
    }
}
