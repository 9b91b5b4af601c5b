package dev.recur.bench;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;

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

    /**
     * FLOPs of one layer-normalised element, forward: mean 1 (an add), biased variance 3 (subtract,
     * square, add), normalise and affine 4 (subtract μ, times 1/σ, times γ, plus β); the one
     * square root per vector is left out.
     */
    public static final int LAYER_NORM_PER_ELEMENT = 8;
    /** Recurrent dropout: one multiply per element of the recurrent input. */
    public static final int RECURRENT_DROPOUT_PER_ELEMENT = 1;
    /** Zoneout: {@code d·old + (1 - d)·new}, 3 per element of h (and of c). */
    public static final int ZONEOUT_PER_ELEMENT = 3;

    /**
     * One direction of one layer with {@code options}, forward. GEMMs: {@code 2·G·H·I} for the
     * input, {@code 2·G·H·R} for the recurrent weights (R = P with a projection), and with a
     * projection {@code 2·P·H} for {@code W_hr}; element-wise, counted here (unlike the plain
     * count) because it is what the options add: layer normalisation
     * {@value #LAYER_NORM_PER_ELEMENT} per element of the 2G gate blocks of H (input and
     * recurrent) plus, with a cell state, H of {@code c}; recurrent dropout
     * {@value #RECURRENT_DROPOUT_PER_ELEMENT} per element of R; zoneout
     * {@value #ZONEOUT_PER_ELEMENT} per element of h (S) and of c (H). Everything times B·T.
     * With {@link CellOptions#NONE} it is {@link #layerForward}.
     */
    public static long layerForward(Cell cell, CellOptions options, int batch, int input, int hidden, int steps) {
        long g = cell.gates();
        long h = hidden;
        long r = options.recurrentWidth(hidden);
        long s = options.stateWidth(cell, hidden);
        long perStep = 2 * g * h * input + 2 * g * h * r + 2L * options.projectionSize() * h;
        if (options.layerNorm()) {
            perStep += LAYER_NORM_PER_ELEMENT * (2 * g * h + (cell.hasCellState() ? h : 0));
        }
        if (options.recurrentDropout() > 0f) {
            perStep += RECURRENT_DROPOUT_PER_ELEMENT * r;
        }
        if (options.zoneoutH() > 0f) {
            perStep += ZONEOUT_PER_ELEMENT * s;
        }
        if (options.zoneoutC() > 0f) {
            perStep += ZONEOUT_PER_ELEMENT * h;
        }
        return perStep * batch * steps;
    }

    /** {@link #layerForward(Cell, CellOptions, int, int, int, int)} times {@link #TRAIN_FACTOR}. */
    public static long layerTrain(Cell cell, CellOptions options, int batch, int input, int hidden, int steps) {
        return TRAIN_FACTOR * layerForward(cell, options, batch, input, hidden, steps);
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
