package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.StepPlan;

/**
 * The memory of one direction of one layer: what the forward saves for the backward and the
 * per-step scratch. Sized once for the workspace's maxima ({@code Nmax = maxT * maxB} packed
 * rows); the backward's own buffers are made on the first backward and reused after that.
 */
final class LayerBuffers {

    final Cell cell;
    final int inputSize;
    final int hidden;
    final int gh;
    final int maxRows;
    final StepPlan plan;

    final float[] xPacked;  // [Nmax, I]    x in packed order (unused when the plan is the identity)
    final float[] gates;    // [Nmax, G*H]  input projections, then the activated gates
    final float[] hPrev;    // [Nmax, H]    h_{t-1} of each packed row
    final float[] cPrev;    // [Nmax, H]    c_{t-1} (LSTM family; else null)
    final float[] cNext;    // [Nmax, H]    c_t (LSTM family; else null)
    final float[] extra;    // [Nmax, H]    GRU: W_hn h_{t-1} + b_hn; original GRU: r ⊙ h_{t-1}; else null
    final float[] hg;       // [maxB, G*H]  this step's h_{t-1}·W_hhᵀ
    final float[] h;        // [maxB, H]    running h, packed order
    final float[] c;        // [maxB, H]    running c, packed order (LSTM family; else null)
    /** The original GRU's [r, z] blocks of W_hh, packed at every call (its n block apart: recurrentN). */
    final Sgemm.PackedB recurrentOwn = new Sgemm.PackedB();
    /** W_ih packed for the input projection, kept while W_ih is unchanged. */
    final PackedWeights inputWeights = new PackedWeights();
    /** W_hh packed for the per-step GEMMs, likewise (every cell but the original GRU). */
    final PackedWeights recurrentWeights = new PackedWeights();
    /** The original GRU's n block of W_hh, packed separately (its GEMM reads r ⊙ h). */
    final Sgemm.PackedB recurrentN = new Sgemm.PackedB();
    /** The GEMM in flight, reused by every GEMM of this layer so that the time loop allocates nothing. */
    final Sgemm.Call gemm = new Sgemm.Call();

    float[] hAlt;           // [maxB, H]    the sliced loop's second running h (made on first use)

    float[] dGx;            // [Nmax, G*H]  pre-activation gradients, input side
    float[] dGh;            // [Nmax, G*H]  recurrent side (the same array except for GRU)
    float[] dh;             // [maxB, H]    gradient reaching the running h
    float[] dc;             // [maxB, H]    gradient reaching the running c
    float[] dRh;            // [maxB, H]    original GRU: gradient reaching r ⊙ h_{t-1}
    float[] dxPacked;       // [Nmax, I]
    float[] colSums;        // [G*H]        bias-gradient scratch

    LayerBuffers(Cell cell, int maxSteps, int maxBatch, int inputSize, int hidden) {
        this.cell = cell;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.gh = cell.gates() * hidden;
        this.maxRows = Math.multiplyExact(maxSteps, maxBatch);
        this.plan = new StepPlan(maxSteps, maxBatch);
        xPacked = new float[Math.multiplyExact(maxRows, inputSize)];
        gates = new float[Math.multiplyExact(maxRows, gh)];
        hPrev = new float[maxRows * hidden];
        boolean lstm = cell.hasCellState();
        boolean gru = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;
        cPrev = lstm ? new float[maxRows * hidden] : null;
        cNext = lstm ? new float[maxRows * hidden] : null;
        extra = gru ? new float[maxRows * hidden] : null;
        hg = new float[maxBatch * gh];
        h = new float[maxBatch * hidden];
        c = lstm ? new float[maxBatch * hidden] : null;
    }

    /** Makes the sliced time loop's second running-h buffer on first use (CpuLayer.SlicedLoop). */
    void ensureAlternateH() {
        if (hAlt == null) {
            hAlt = new float[h.length];
        }
    }

    /** Makes the backward's buffers on first use. */
    void ensureBackward() {
        if (dGx != null) {
            return;
        }
        int maxBatch = h.length / hidden;
        dGx = new float[gates.length];
        dGh = cell == Cell.GRU ? new float[gates.length] : dGx;
        dh = new float[maxBatch * hidden];
        dc = cell.hasCellState() ? new float[maxBatch * hidden] : null;
        dRh = cell == Cell.GRU_ORIGINAL ? new float[maxBatch * hidden] : null;
        dxPacked = new float[xPacked.length];
        colSums = new float[gh];
    }
}
