package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.StepControl;
import dev.recur.api.TensorOps;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static jdk.incubator.vector.FloatVector.fromArray;

/**
 * One direction of one recurrent layer run with {@link CellOptions} (layer normalisation,
 * recurrent dropout, zoneout, projection) and {@link StepControl} (step masks with holes): the
 * whole contract of those two classes, for every cell, composed freely. Plain calls never come
 * here ({@link CpuLayer} runs them, untouched).
 *
 * <pre>
 * forward:  AX[N, GH] = X·W_ihᵀ (+ b_ih, or LN per block)             one GEMM, all steps
 *           for each step (walk order), all B rows:
 *             q = m ⊙ r_{t-1}                      [B, R]  (m: recurrent dropout, one per call)
 *             AH = q·W_hhᵀ                         [B, GH] one GEMM (original GRU: r,z, then n from r⊙q,
 *                                                          projected: from m ⊙ W_hr(r⊙h_{t-1}), one GEMM more)
 *             gate math (+ LN of AH, of c̃)  → c̃, o⊙τ or h̃
 *             h̃ = (o⊙τ)·W_hrᵀ                      [B, P]  one GEMM (projected LSTM)
 *             zoneout, masks, lengths → h_t, c_t, y_t
 *             v = h_t·W_hrᵀ                        [B, P]  one GEMM (projected GRU: next r and y)
 * backward: the same steps in reverse, one recurrent GEMM (two for the original GRU) and one
 *           projection GEMM per step; then dW_ih, dW_hh, dW_hr and dX, one GEMM each over all steps,
 *           and column sums for biases, peepholes and the layer-norm gains.
 * </pre>
 * Every row is computed at every step, also a row that does not run (a hole of the step mask or a
 * step past its length): such a row keeps its state, gets a zero gate gradient and passes its
 * state gradient through unchanged. N = T*B rows are indexed densely, {@code t*B + b}, so the
 * saved buffers line up with x and y.
 *
 * <p>Random numbers: the dropout mask and the zoneout masks come from
 * {@link TensorOps#uniform}{@code (seed, counter + index)} with the indexing of
 * {@link CellOptions}; the backward draws them again rather than storing them.
 *
 * <p>The time loops run by rows: the batch is cut into one block of rows per worker, and each
 * block walks every step on its own, its per-step GEMMs ({@link Sgemm#columns} on its rows) and
 * element-wise work ({@link RowStage}) included: one hand-over to the workers per call instead
 * of two to four per step. Each row's result depends on that row alone and the GEMMs' bits
 * depend neither on the thread count nor on the other rows, so results are the same bits at any
 * thread count. Measured (LSTM, B = 64, I = H = 512, P = 256, T = 100, 2 threads, the loaded
 * 2-core EPYC, AVX-512, JFR samples of the caller thread over the same 14 training steps): the
 * projected LSTM's time loops fell from about 670 samples (a quarter of them waiting on the
 * workers) to 187, the helper thread's idle samples from 284 to 21. Calls are serialized;
 * nothing is allocated per call once the workspace's buffers exist.
 */
final class CpuOptionLayer {

    /** Weights or gradients of one direction; absent parts null. */
    record Params(float[] wIh, float[] wHh, float[] bIh, float[] bHh, float[] peep, float[] wHr, float[] gIh,
                  float[] betaIh, float[] gHh, float[] betaHh, float[] gC, float[] betaC) {
    }

    private static final float EPS = CellOptions.LAYER_NORM_EPSILON;
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    private static final FloatVector ONE = FloatVector.broadcast(SP, 1f);

    private final Sgemm sgemm;
    private final Workers workers;
    /** The stage over all rows of a call (the backward of the input side's layer norm), run by {@link #rows}. */
    private final RowStage stage;
    /** One per worker task of the time loops: task i's rows, step state and GEMM call ({@link TimeLoop}). */
    private final RowStage[] lanes;
    /** {@link #stage} and the lanes: every stage object a call sets up and clears. */
    private final RowStage[] allStages;
    private final TimeLoop timeLoop = new TimeLoop();
    /** Task i of {@link #rows}: lane i's share. */
    private final Workers.Task laneRows = this::laneRows;
    /** The column-sum call in flight, likewise reused. */
    private final ColumnSums columnSums = new ColumnSums();

    CpuOptionLayer(Sgemm sgemm, Workers workers) {
        this.sgemm = sgemm;
        this.workers = workers;
        this.stage = new RowStage(sgemm);
        this.lanes = new RowStage[workers.threads()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new RowStage(sgemm);
        }
        this.allStages = new RowStage[lanes.length + 1];
        allStages[0] = stage;
        System.arraycopy(lanes, 0, allStages, 1, lanes.length);
    }

    private void laneRows(int i) {
        lanes[i].run(i);
    }

    private RowStage[] stages() {
        return allStages;
    }

    // ---------------------------------------------------------------- forward

    /**
     * The forward of one direction; {@code training} draws the masks and keeps what the backward
     * reads, otherwise inference (m = 1, zoneout's expectation) with the buffers as scratch.
     *
     * @param x       [T, B, I]
     * @param mask    [T*B] step mask or null
     * @param counter the first counter of this direction's draws
     * @param h0      [B, S] or null; c0 [B, H] or null
     * @param y       receives y_t at {@code y[(t*B + b)*yStride + yCol + j]}, j < R
     * @param hT      [B, S] or null; cT [B, H] or null
     */
    synchronized void forward(boolean training, Cell cell, CellOptions o, Direction dir, int steps, int batch, int in,
                              float[] x, int[] lengths, byte[] mask, long seed, long counter, float[] h0, float[] c0,
                              Params w, float[] y, int yStride, int yCol, float[] hT, float[] cT, OptionBuffers buf) {
        load(h0, buf.h0, batch * buf.s);
        if (cell.hasCellState()) {
            load(c0, buf.c, batch * buf.hidden);
        }
        for (RowStage st : stages()) {
            st.setCall(training, cell, o, dir, steps, batch, lengths, mask, seed, counter, w, buf);
            st.y = y;
            st.yStride = yStride;
            st.yCol = yCol;
        }
        try {
            forwardLoop(training, cell, o, dir, steps, batch, in, x, lengths, mask, seed, counter, w, hT, cT, buf);
        } finally {
            for (RowStage st : stages()) {
                st.clear();
            }
        }
    }

    private void forwardLoop(boolean training, Cell cell, CellOptions o, Direction dir, int steps, int batch, int in,
                             float[] x, int[] lengths, byte[] mask, long seed, long counter, Params w, float[] hT,
                             float[] cT, OptionBuffers buf) {
        float[] h0 = buf.h0;
        int hs = buf.hidden;
        int gh = buf.gh;
        int r = buf.r;
        int sw = buf.s;
        int pw = buf.p;
        int n = steps * batch;
        boolean lstm = cell.hasCellState();
        boolean orig = cell == Cell.GRU_ORIGINAL;
        boolean ln = o.layerNorm();
        // Input projections of every step at once.
        buf.inputWeights.see(w.wIh(), gh, in);
        Sgemm.PackedB wIhT = buf.inputWeights.kept() ? buf.inputWeights.transposed(w.wIh()) : null;
        if (ln) {
            // Normalised per row by the time loop, just before the row's gate math reads it.
            if (wIhT != null) {
                sgemm.gemm(buf.gemm, false, n, 1f, x, 0, in, wIhT, 0f, buf.ax, 0, gh);
            } else {
                sgemm.gemm(buf.gemm, false, true, n, gh, in, 1f, x, 0, in, w.wIh(), 0, in, 0f, buf.ax, 0, gh);
            }
        } else if (wIhT != null) {
            sgemm.gemmPlusRow(buf.gemm, false, n, 1f, x, 0, in, wIhT, w.bIh(), buf.ax, 0, gh);
        } else {
            sgemm.gemmPlusRow(buf.gemm, false, true, n, gh, in, 1f, x, 0, in, w.wIh(), 0, in, w.bIh(), buf.ax, 0, gh);
        }
        System.arraycopy(h0, 0, buf.h, 0, batch * sw);
        if (orig) {
            Sgemm.pack(true, r, 2 * hs, w.wHh(), 0, r, buf.recurrent);
            Sgemm.pack(true, r, hs, w.wHh(), 2 * hs * r, r, buf.recurrentN);
        } else {
            buf.recurrentWeights.see(w.wHh(), gh, r);
            buf.recurrentWeights.transposed(w.wHh()); // into buf.recurrent
        }
        if (pw > 0) {
            buf.projectionWeights.see(w.wHr(), pw, hs);
            buf.projectionWeights.transposed(w.wHr()); // into buf.projection
        }
        if (buf.v != null) {
            sgemm.gemm(buf.gemm, false, batch, 1f, buf.h, 0, hs, buf.projection, 0f, buf.v, 0, pw);
        }
        boolean dropout = training && o.recurrentDropout() > 0f;
        if (dropout) {
            dropoutMask(o.recurrentDropout(), seed, counter, batch * r, buf.mask);
        }

        timeLoop(true, batch);
        if (hT != null) {
            System.arraycopy(buf.h, 0, hT, 0, batch * sw);
        }
        if (cT != null && lstm) {
            System.arraycopy(buf.c, 0, cT, 0, batch * hs);
        }
    }

    // ---------------------------------------------------------------- backward

    /**
     * The backward of the last training {@link #forward} on {@code buf} (same arguments).
     *
     * @param dy  gradient at {@code dy[(t*B + b)*dyStride + dyCol + j]}, or null
     * @param dhT [B, S] or null; dcT [B, H] or null
     * @param dx  [T, B, I] or null; overwritten, or added to when {@code dxAccumulate}
     * @param dh0 [B, S] or null, overwritten; dc0 likewise
     * @param g   gradients, accumulated into
     */
    synchronized void backward(Cell cell, CellOptions o, Direction dir, int steps, int batch, int in, float[] x,
                               int[] lengths, byte[] mask, long seed, long counter, Params w, OptionBuffers buf,
                               float[] dy, int dyStride, int dyCol, float[] dhT, float[] dcT,
                               float[] dx, boolean dxAccumulate, float[] dh0, float[] dc0, Params g) {
        buf.ensureBackward();
        int hs = buf.hidden;
        int gh = buf.gh;
        int r = buf.r;
        int sw = buf.s;
        int pw = buf.p;
        int n = steps * batch;
        boolean lstm = cell.hasCellState();
        boolean orig = cell == Cell.GRU_ORIGINAL;
        boolean gruProj = buf.v != null;
        boolean ln = o.layerNorm();

        load(dhT, buf.dh, batch * sw);
        if (lstm) {
            load(dcT, buf.dc, batch * hs);
        }
        Arrays.fill(buf.carry, 0, batch * r, 0f);
        if (gruProj) {
            Arrays.fill(buf.dv, 0, batch * pw, 0f);
        }
        if (orig) {
            Sgemm.pack(false, 2 * hs, r, w.wHh(), 0, r, buf.recurrent);
            Sgemm.pack(false, hs, r, w.wHh(), 2 * hs * r, r, buf.recurrentN);
        } else {
            buf.recurrentWeights.see(w.wHh(), gh, r);
            buf.recurrentWeights.plain(w.wHh()); // into buf.recurrent
        }
        if (pw > 0) {
            buf.projectionWeights.see(w.wHr(), pw, hs);
            buf.projectionWeights.plain(w.wHr()); // into buf.projection
        }
        boolean dropout = o.recurrentDropout() > 0f;
        if (dropout) {
            dropoutMask(o.recurrentDropout(), seed, counter, batch * r, buf.mask);
        }

        for (RowStage st : stages()) {
            st.setCall(true, cell, o, dir, steps, batch, lengths, mask, seed, counter, w, buf);
            st.dy = dy;
            st.dyStride = dyStride;
            st.dyCol = dyCol;
        }
        try {
            backwardLoop(cell, o, dir, steps, batch, in, x, w, buf, dx, dxAccumulate, dh0, dc0, g);
        } finally {
            for (RowStage st : stages()) {
                st.clear();
            }
        }
    }

    private void backwardLoop(Cell cell, CellOptions o, Direction dir, int steps, int batch, int in, float[] x,
                              Params w, OptionBuffers buf, float[] dx, boolean dxAccumulate, float[] dh0,
                              float[] dc0, Params g) {
        int hs = buf.hidden;
        int gh = buf.gh;
        int r = buf.r;
        int sw = buf.s;
        int pw = buf.p;
        int n = steps * batch;
        boolean lstm = cell.hasCellState();
        boolean orig = cell == Cell.GRU_ORIGINAL;
        boolean gruProj = buf.v != null;
        boolean ln = o.layerNorm();
        float[] h0 = buf.h0;
        timeLoop(false, batch);
        if (gruProj) {
            // r_{-1} = W_hr h0.
            sgemm.gemm(buf.gemm, false, batch, 1f, buf.dv, 0, pw, buf.projection, 1f, buf.dh, 0, hs);
            sgemm.gemm(buf.gemm, true, false, pw, hs, batch, 1f, buf.dv, 0, pw, h0, 0, hs, 1f, g.wHr(), 0, hs);
        }
        if (dh0 != null) {
            System.arraycopy(buf.dh, 0, dh0, 0, batch * sw);
        }
        if (dc0 != null && lstm) {
            System.arraycopy(buf.dc, 0, dc0, 0, batch * hs);
        }

        // Parameter gradients over every step at once. Both biases (and LN's β) receive the column
        // sums of their side's dPre; the LSTM and RNN share one dPre for both sides.
        boolean shared = buf.dPreH == buf.dPreX;
        // One pass over dPre for its column sums and, with layer norm, those of dPre⊙x̂ (the gains).
        if (shared) {
            columnSums(buf.dPreX, ln ? buf.ax : null, ln ? buf.ah : null, n, gh, buf, g.bIh(),
                    ln ? g.betaIh() : null, g.bHh(), ln ? g.betaHh() : null, ln ? g.gIh() : null, ln ? g.gHh() : null);
        } else {
            columnSums(buf.dPreX, ln ? buf.ax : null, null, n, gh, buf, g.bIh(), ln ? g.betaIh() : null, null, null,
                    ln ? g.gIh() : null, null);
            columnSums(buf.dPreH, ln ? buf.ah : null, null, n, gh, buf, g.bHh(), ln ? g.betaHh() : null, null, null,
                    ln ? g.gHh() : null, null);
        }
        if (ln && lstm) {
            columnSums(buf.dK, buf.cHat, null, n, hs, buf, g.betaC(), null, null, null, g.gC(), null);
        }
        if (cell == Cell.LSTM_PEEPHOLE) {
            peepholeGrads(buf.dPreX, buf.cPrev, buf.cTilde, n, hs, g.peep());
        }
        if (ln) {
            // dPreX becomes the gradient of W_ih x, in place.
            rows(RowStage.NORMALIZE_X_BACK, buf, w, n, 0, gh);
        }
        float[] dAx = buf.dPreX;
        sgemm.gemm(buf.gemm, true, false, gh, in, n, 1f, dAx, 0, gh, x, 0, in, 1f, g.wIh(), 0, in);
        if (orig) {
            sgemm.gemm(buf.gemm, true, false, 2 * hs, r, n, 1f, buf.dAh, 0, gh, buf.q, 0, r, 1f, g.wHh(), 0, r);
            float[] nIn = pw > 0 ? buf.qn : buf.rq; // [N, R]: what the n block's GEMM read
            sgemm.gemm(buf.gemm, true, false, hs, r, n, 1f, buf.dAh, 2 * hs, gh, nIn, 0, r, 1f, g.wHh(), 2 * hs * r,
                    r);
            if (pw > 0) {
                sgemm.gemm(buf.gemm, true, false, pw, hs, n, 1f, buf.dPq, 0, pw, buf.rq, 0, hs, 1f, g.wHr(), 0, hs);
            }
        } else {
            sgemm.gemm(buf.gemm, true, false, gh, r, n, 1f, buf.dAh, 0, gh, buf.q, 0, r, 1f, g.wHh(), 0, r);
        }
        if (pw > 0) {
            float[] from = lstm ? buf.hr : buf.hNew;
            sgemm.gemm(buf.gemm, true, false, pw, hs, n, 1f, buf.dProj, 0, pw, from, 0, hs, 1f, g.wHr(), 0, hs);
        }
        if (dx != null) {
            sgemm.gemm(buf.gemm, false, false, n, in, gh, 1f, dAx, 0, gh, w.wIh(), 0, in, dxAccumulate ? 1f : 0f, dx,
                    0, in);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Runs every step of the forward ({@link RowStage#forwardRows}) or of the backward
     * ({@link RowStage#backwardRows}): the batch cut into one block of rows per worker, each block
     * walking all the steps on its own. Sequences do not meet inside a step (a row of every GEMM
     * of the time loop reads only that row of its input, and the element-wise work is per row), so
     * one hand-over to the workers per call replaces the two to four per step of splitting each
     * step's GEMMs and row stages; each row's bits are those of a whole-batch step (Sgemm's
     * Determinism: a row's result does not depend on the other rows of the GEMM).
     */
    private void timeLoop(boolean forward, int batch) {
        TimeLoop tl = timeLoop;
        tl.forward = forward;
        tl.batch = batch;
        tl.chunk = (batch + lanes.length - 1) / lanes.length;
        workers.forEach((batch + tl.chunk - 1) / tl.chunk, tl);
    }

    /** One call of {@link #timeLoop}: task i walks rows {@code [i*chunk, (i+1)*chunk)} with lane i. */
    private final class TimeLoop implements Workers.Task {
        private boolean forward;
        private int batch;
        private int chunk;

        @Override
        public void run(int i) {
            int b0 = i * chunk;
            int b1 = Math.min(batch, b0 + chunk);
            if (b0 >= b1) {
                return;
            }
            if (forward) {
                lanes[i].forwardRows(b0, b1);
            } else {
                lanes[i].backwardRows(b0, b1);
            }
        }
    }

    /** Whether sequence b runs step t: inside its length and not a hole of the mask. */
    static boolean runs(int[] lengths, byte[] mask, int t, int b, int batch) {
        return (lengths == null || t < lengths[b]) && (mask == null || mask[t * batch + b] != 0);
    }

    /** {@code m[i] = u(seed, counter + i) >= p ? 1/(1-p) : 0}, as {@link TensorOps#dropout} draws it. */
    private static void dropoutMask(float p, long seed, long counter, int count, float[] m) {
        float keep = 1f / (1f - p);
        for (int i = 0; i < count; i++) {
            m[i] = TensorOps.uniform(seed, counter + i) >= p ? keep : 0f;
        }
    }

    private static void load(float[] src, float[] dst, int count) {
        if (src == null) {
            Arrays.fill(dst, 0, count, 0f);
        } else {
            System.arraycopy(src, 0, dst, 0, count);
        }
    }

    /**
     * {@code Σ_r a[r, c]} added into each non-null {@code out0..out3}, and in the same pass over a
     * {@code Σ_r a[r, c]·b[r, c]} into {@code outB} when b is given, {@code Σ_r a[r, c]·b2[r, c]}
     * into {@code outB2} when b2 is given (one read of a instead of one per sum): columns cut
     * into one run per worker, each column's rows summed in ascending order from zero, so the same
     * bits at any thread count.
     */
    private void columnSums(float[] a, float[] b, float[] b2, int rows, int cols, OptionBuffers buf, float[] out0,
                            float[] out1, float[] out2, float[] out3, float[] outB, float[] outB2) {
        ColumnSums cs = columnSums;
        cs.sums = buf.colSums;
        cs.sumsB = buf.colSumsB;
        cs.sumsB2 = buf.colSumsB2;
        cs.a = a;
        cs.b = b;
        cs.b2 = b2;
        cs.rows = rows;
        cs.cols = cols;
        cs.out0 = out0;
        cs.out1 = out1;
        cs.out2 = out2;
        cs.out3 = out3;
        cs.outB = outB;
        cs.outB2 = outB2;
        cs.chunk = workers.columnChunk(cols);
        try {
            workers.forEachColumnChunk(rows, cols, cs);
        } finally {
            cs.a = null;
            cs.b = null;
            cs.b2 = null;
            cs.sums = cs.sumsB = cs.sumsB2 = null;
            cs.out0 = cs.out1 = cs.out2 = cs.out3 = cs.outB = cs.outB2 = null;
        }
    }

    /** One call of {@link #columnSums}: its operands, and task i's run of columns. */
    private static final class ColumnSums implements Workers.Task {
        private float[] sums;
        private float[] sumsB;
        private float[] sumsB2;
        private float[] a;
        private float[] b;
        private float[] b2;
        private int rows;
        private int cols;
        private int chunk;
        private float[] out0;
        private float[] out1;
        private float[] out2;
        private float[] out3;
        private float[] outB;
        private float[] outB2;

        @Override
        public void run(int i) {
            int c0 = i * chunk;
            int c1 = Math.min(cols, c0 + chunk);
            float[] s = sums;
            float[] sb = sumsB;
            float[] sb2 = sumsB2;
            Arrays.fill(s, c0, c1, 0f);
            if (b != null) {
                Arrays.fill(sb, c0, c1, 0f);
            }
            if (b2 != null) {
                Arrays.fill(sb2, c0, c1, 0f);
            }
            float[] a = this.a;
            float[] b = this.b;
            float[] b2 = this.b2;
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                if (b == null) {
                    for (int c = c0; c < c1; c++) {
                        s[c] += a[base + c];
                    }
                } else if (b2 == null) {
                    for (int c = c0; c < c1; c++) {
                        float v = a[base + c];
                        s[c] += v;
                        sb[c] += v * b[base + c];
                    }
                } else {
                    for (int c = c0; c < c1; c++) {
                        float v = a[base + c];
                        s[c] += v;
                        sb[c] += v * b[base + c];
                        sb2[c] += v * b2[base + c];
                    }
                }
            }
            add(out0, s, c0, c1);
            add(out1, s, c0, c1);
            add(out2, s, c0, c1);
            add(out3, s, c0, c1);
            add(outB, sb, c0, c1);
            add(outB2, sb2, c0, c1);
        }

        private static void add(float[] out, float[] sums, int c0, int c1) {
            if (out != null) {
                for (int c = c0; c < c1; c++) {
                    out[c] += sums[c];
                }
            }
        }
    }

    /**
     * {@code dp_i += Σ dpre_i⊙c_{t-1}}, {@code dp_f += Σ dpre_f⊙c_{t-1}}, {@code dp_o += Σ dpre_o⊙c̃}
     * over all rows, from the pre-activation gradients (before any layer-norm backward).
     */
    private static void peepholeGrads(float[] dPre, float[] cPrev, float[] cTilde, int rows, int hs, float[] dp) {
        int gh = 4 * hs;
        for (int row = 0; row < rows; row++) {
            int g = row * gh;
            int sr = row * hs;
            for (int u = 0; u < hs; u++) {
                float cp = cPrev[sr + u];
                dp[u] += dPre[g + u] * cp;
                dp[hs + u] += dPre[g + hs + u] * cp;
                dp[2 * hs + u] += dPre[g + 3 * hs + u] * cTilde[sr + u];
            }
        }
    }

    /** Runs {@code stageId} over {@code count} rows, split among the workers when worth it. */
    private void rows(int stageId, OptionBuffers buf, Params w, int count, int off, int width) {
        int chunks = Math.min(workers.threads(), (int) Math.min(Integer.MAX_VALUE,
                (long) count * width / Workers.PARALLEL_MIN_ELEMENTS));
        if (chunks <= 1) {
            RowStage st = stage;
            st.stage = stageId;
            st.off = off;
            st.count = count;
            st.runRows(0, count);
        } else {
            // Chunk i on lane i: each thread its own stage object (the lane-sum scratch is per object).
            for (int i = 0; i < chunks; i++) {
                RowStage st = lanes[i];
                st.stage = stageId;
                st.off = off;
                st.count = count;
                st.chunk = (count + chunks - 1) / chunks;
            }
            workers.forEach(chunks, laneRows);
        }
    }

    /**
     * The element-wise stages of one step (and the input side's layer-norm backward over all rows): what its
     * worker tasks read, set before they start, and task i's share of the rows.
     */
    private static final class RowStage implements Workers.Task {
        static final int GATES = 1;
        static final int GRU_ORIGINAL_N = 2;
        static final int UPDATE = 3;
        static final int ZONEOUT_BACK = 4;
        static final int GATES_BACK = 5;
        static final int GRU_ORIGINAL_RZ_BACK = 6;
        static final int NORMALIZE_X_BACK = 7;

        int stage;
        int off;
        int count;
        int chunk;
        // The call.
        boolean training;
        Cell cell;
        CellOptions o;
        Direction dir;
        int steps;
        int batch;
        int[] lengths;
        byte[] mask;
        long seed;
        long counter;
        /** The counters of the call's first zoneout draws of h and of c (CellOptions' draw indices). */
        long zoneoutHFirst;
        long zoneoutCFirst;
        Params w;
        OptionBuffers buf;
        float[] y;
        int yStride;
        int yCol;
        float[] dy;
        int dyStride;
        int dyCol;
        /**
         * Whether the state update joins the gate math's stage (and zoneout's split the gate
         * backward's): one hand-over to the workers per step fewer. Not for the projected LSTM,
         * whose h̃ needs a GEMM between the two.
         */
        boolean fused;
        // The step.
        int t;
        boolean first;
        /** One vector's lanes, summed in lane order by {@link #sumLanes}. */
        private final float[] lanes = new float[L];
        /** The GEMMs of this lane's rows, on the thread that runs it alone. */
        private final Sgemm sgemm;
        private final Sgemm.Call gemm = new Sgemm.Call();

        RowStage(Sgemm sgemm) {
            this.sgemm = sgemm;
        }

        /**
         * {@code C[b0.., 0..nc) = A[b0.., ·]·B + beta·C} for {@code rows} rows, with A's row b0 at
         * {@code aOff} and C's at {@code cOff}: {@link Sgemm#columns} over all of B's columns.
         */
        private void gemmRows(int rows, float[] a, int aOff, int lda, Sgemm.PackedB pb, int nc, float beta, float[] c,
                              int cOff, int ldc) {
            sgemm.columns(gemm, false, rows, 1f, a, aOff, lda, pb, 0, nc, beta, c, cOff, ldc);
        }

        /** Sets the stage and runs it over rows {@code [from, to)} of the step at {@code off}. */
        private void stageRows(int stageId, int from, int to) {
            stage = stageId;
            runRows(from, to);
        }

        /**
         * Every step of the forward for batch rows {@code [b0, b1)} (shapes as in the class
         * comment; buffers indexed as there, this lane touching only its rows).
         */
        void forwardRows(int b0, int b1) {
            int nb = b1 - b0;
            int hs = buf.hidden;
            int gh = buf.gh;
            int r = buf.r;
            int sw = buf.s;
            int pw = buf.p;
            boolean lstm = cell.hasCellState();
            boolean orig = cell == Cell.GRU_ORIGINAL;
            boolean dropout = training && o.recurrentDropout() > 0f;
            float[] rIn = buf.v != null ? buf.v : buf.h; // r_{t-1}: the projected GRU reads W_hr h
            float[] m = buf.mask;
            for (int s = 0; s < steps; s++) {
                t = dir == Direction.FORWARD ? s : steps - 1 - s;
                off = t * batch;
                first = s == 0;
                int row0 = off + b0;
                for (int b = b0; b < b1; b++) {
                    buf.runs[b] = runs(lengths, mask, t, b, batch);
                }
                // Save h_{t-1}, c_{t-1}; q = m ⊙ r_{t-1}.
                System.arraycopy(buf.h, b0 * sw, buf.hPrev, row0 * sw, nb * sw);
                if (lstm) {
                    System.arraycopy(buf.c, b0 * hs, buf.cPrev, row0 * hs, nb * hs);
                }
                if (dropout) {
                    int qo = off * r;
                    for (int i = b0 * r; i < b1 * r; i++) {
                        buf.q[qo + i] = rIn[i] * m[i];
                    }
                } else {
                    System.arraycopy(rIn, b0 * r, buf.q, row0 * r, nb * r);
                }
                gemmRows(nb, buf.q, row0 * r, r, buf.recurrent, orig ? 2 * hs : gh, 0f, buf.ah, row0 * gh, gh);
                if (o.layerNorm()) {
                    // The input side's blocks of this step's rows (one pass over them, in cache
                    // for the gate math next, instead of a pass over all rows before the loop).
                    for (int b = b0; b < b1; b++) {
                        normalizeBlocks(buf.ax, off + b, buf.rsx);
                    }
                }
                stageRows(GATES, b0, b1);
                if (orig && pw > 0) {
                    // The n block reads m ⊙ W_hr (r ⊙ h_{t-1}) (CellOptions).
                    gemmRows(nb, buf.rq, row0 * hs, hs, buf.projection, pw, 0f, buf.qn, row0 * pw, pw);
                    if (dropout) {
                        int qo = off * pw;
                        for (int i = b0 * pw; i < b1 * pw; i++) {
                            buf.qn[qo + i] *= m[i];
                        }
                    }
                    gemmRows(nb, buf.qn, row0 * pw, pw, buf.recurrentN, hs, 0f, buf.ah, row0 * gh + 2 * hs, gh);
                    stageRows(GRU_ORIGINAL_N, b0, b1);
                } else if (orig) {
                    gemmRows(nb, buf.rq, row0 * hs, hs, buf.recurrentN, hs, 0f, buf.ah, row0 * gh + 2 * hs, gh);
                    stageRows(GRU_ORIGINAL_N, b0, b1);
                }
                if (!fused) {
                    // The projected LSTM: h̃ = (o⊙τ)·W_hrᵀ, then the state update.
                    gemmRows(nb, buf.hr, row0 * hs, hs, buf.projection, pw, 0f, buf.hTilde, b0 * pw, pw);
                    stageRows(UPDATE, b0, b1);
                }
                if (buf.v != null) {
                    gemmRows(nb, buf.h, b0 * hs, hs, buf.projection, pw, 0f, buf.v, b0 * pw, pw);
                    outputRows(b0, b1, buf.v, pw);
                }
            }
        }

        /** Every step of the backward, in reverse, for batch rows {@code [b0, b1)} (see {@link #forwardRows}). */
        void backwardRows(int b0, int b1) {
            int nb = b1 - b0;
            int hs = buf.hidden;
            int gh = buf.gh;
            int r = buf.r;
            int pw = buf.p;
            boolean orig = cell == Cell.GRU_ORIGINAL;
            boolean gruProj = buf.v != null;
            boolean dropout = o.recurrentDropout() > 0f;
            float[] m = buf.mask;
            for (int s = steps - 1; s >= 0; s--) {
                t = dir == Direction.FORWARD ? s : steps - 1 - s;
                off = t * batch;
                int row0 = off + b0;
                for (int b = b0; b < b1; b++) {
                    buf.runs[b] = runs(lengths, mask, t, b, batch);
                }
                // Output gradient: a step that ran takes what its masked successors carried.
                outputGradients(b0, b1);
                if (gruProj) {
                    // dv is the gradient of v_t = W_hr h_t: keep it for dW_hr, hand it to h.
                    System.arraycopy(buf.dv, b0 * pw, buf.dProj, row0 * pw, nb * pw);
                    gemmRows(nb, buf.dv, b0 * pw, pw, buf.projection, hs, 1f, buf.dh, b0 * hs, hs);
                }
                if (!fused) {
                    // The projected LSTM: zoneout's split, then d(o⊙τ) = dh̃·W_hr.
                    stageRows(ZONEOUT_BACK, b0, b1);
                    gemmRows(nb, buf.dProj, row0 * pw, pw, buf.projection, hs, 0f, buf.dHr, b0 * hs, hs);
                }
                stageRows(GATES_BACK, b0, b1);
                if (orig && pw > 0) {
                    gemmRows(nb, buf.dAh, row0 * gh + 2 * hs, gh, buf.recurrentN, pw, 0f, buf.dQn, b0 * pw, pw);
                    int po = off * pw;
                    for (int i = b0 * pw; i < b1 * pw; i++) {
                        buf.dPq[po + i] = dropout ? buf.dQn[i] * m[i] : buf.dQn[i];
                    }
                    gemmRows(nb, buf.dPq, row0 * pw, pw, buf.projection, hs, 0f, buf.dRq, b0 * hs, hs);
                    stageRows(GRU_ORIGINAL_RZ_BACK, b0, b1);
                    gemmRows(nb, buf.dAh, row0 * gh, gh, buf.recurrent, r, 1f, buf.dq, b0 * r, r);
                } else if (orig) {
                    gemmRows(nb, buf.dAh, row0 * gh + 2 * hs, gh, buf.recurrentN, hs, 0f, buf.dRq, b0 * hs, hs);
                    stageRows(GRU_ORIGINAL_RZ_BACK, b0, b1);
                    gemmRows(nb, buf.dAh, row0 * gh, gh, buf.recurrent, r, 1f, buf.dq, b0 * r, r);
                } else {
                    gemmRows(nb, buf.dAh, row0 * gh, gh, buf.recurrent, r, 0f, buf.dq, b0 * r, r);
                }
                // dr_{t-1} = m ⊙ dq; rows that did not run have dq = 0.
                float[] target = gruProj ? buf.dv : buf.dh;
                for (int i = b0 * r; i < b1 * r; i++) {
                    float d = dropout ? buf.dq[i] * m[i] : buf.dq[i];
                    if (gruProj) {
                        target[i] = d;
                    } else {
                        target[i] += d;
                    }
                }
            }
        }

        void setCall(boolean training, Cell cell, CellOptions o, Direction dir, int steps, int batch, int[] lengths,
                     byte[] mask, long seed, long counter, Params w, OptionBuffers buf) {
            this.training = training;
            this.cell = cell;
            this.o = o;
            this.dir = dir;
            this.steps = steps;
            this.batch = batch;
            this.lengths = lengths;
            this.mask = mask;
            this.seed = seed;
            this.counter = counter;
            this.zoneoutHFirst = counter + o.zoneoutHOffset(batch, buf.hidden);
            this.zoneoutCFirst = counter + o.zoneoutCOffset(cell, steps, batch, buf.hidden);
            this.w = w;
            this.buf = buf;
            this.fused = !(cell.hasCellState() && o.projectionSize() > 0);
        }

        void clear() {
            w = null;
            buf = null;
            y = null;
            dy = null;
            lengths = null;
            mask = null;
        }

        @Override
        public void run(int i) {
            int from = i * chunk;
            int to = Math.min(count, from + chunk);
            if (from < to) {
                runRows(from, to);
            }
        }

        void runRows(int from, int to) {
            switch (stage) {
                case GATES -> {
                    boolean update = fused && cell != Cell.GRU_ORIGINAL;
                    for (int j = from; j < to; j++) {
                        switch (cell) {
                            case RNN_TANH, RNN_RELU -> gatesRnn(j);
                            case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> gatesLstm(j);
                            case GRU, GRU_ORIGINAL -> gatesGru(j);
                        }
                        if (update) {
                            update(j);
                        }
                    }
                }
                case GRU_ORIGINAL_N -> {
                    for (int j = from; j < to; j++) {
                        gruOriginalN(j);
                        update(j);
                    }
                }
                case UPDATE -> {
                    for (int j = from; j < to; j++) {
                        update(j);
                    }
                }
                case ZONEOUT_BACK -> {
                    for (int j = from; j < to; j++) {
                        zoneoutBack(j);
                    }
                }
                case GATES_BACK -> {
                    for (int j = from; j < to; j++) {
                        if (fused) {
                            zoneoutBack(j);
                        }
                        switch (cell) {
                            case RNN_TANH, RNN_RELU -> gatesBackRnn(j);
                            case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> gatesBackLstm(j);
                            case GRU, GRU_ORIGINAL -> gatesBackGru(j);
                        }
                    }
                }
                case GRU_ORIGINAL_RZ_BACK -> {
                    for (int j = from; j < to; j++) {
                        gruOriginalRzBack(j);
                    }
                }
                case NORMALIZE_X_BACK -> {
                    for (int row = from; row < to; row++) {
                        normalizeBackBlocks(buf.dPreX, buf.ax, buf.rsx, w.gIh(), row, 0, cell.gates());
                    }
                }
                default -> throw new IllegalStateException("unknown stage " + stage);
            }
        }

        // ------------------------------------------------------------ layer norm

        /** Normalises each H-block of row {@code row} of {@code a [rows, GH]} in place: x̂, and 1/σ into rs. */
        private void normalizeBlocks(float[] a, int row, float[] rs) {
            int hs = buf.hidden;
            int g = cell.gates();
            for (int k = 0; k < g; k++) {
                rs[row * g + k] = normalize(a, (row * g + k) * hs, hs);
            }
        }

        /**
         * The lanes of {@code v} summed in lane order: a fixed order, unlike
         * {@code reduceLanes(ADD)}, whose order the Vector API leaves open (Note [Deterministic
         * transcendentals] in GateMath says why the bits must not depend on the JIT).
         */
        private float sumLanes(FloatVector v) {
            v.intoArray(lanes, 0);
            float s = 0f;
            for (int i = 0; i < L; i++) {
                s += lanes[i];
            }
            return s;
        }

        /**
         * x̂ = (v - μ)/sqrt(σ² + ε) in place over {@code a[o..o+n)}; returns 1/sqrt(σ² + ε). The
         * sums run in vectors of lanes (unit u into lane u mod L), then across the lanes in order.
         */
        float normalize(float[] a, int o, int n) {
            FloatVector acc = FloatVector.zero(SP);
            for (int u = 0; u < n; u += L) {
                acc = acc.add(fromArray(SP, a, o + u, SP.indexInRange(u, n))); // lanes past n load 0
            }
            float mean = sumLanes(acc) / n;
            FloatVector mv = FloatVector.broadcast(SP, mean);
            FloatVector sq = FloatVector.zero(SP);
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector d = fromArray(SP, a, o + u, m).sub(mv, m); // 0 past n
                sq = sq.add(d.mul(d));
            }
            float rstd = (float) (1.0 / Math.sqrt(sumLanes(sq) / n + EPS));
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                fromArray(SP, a, o + u, m).sub(mv).mul(rstd).intoArray(a, o + u, m);
            }
            return rstd;
        }

        /**
         * In place over blocks {@code k0..k1) of row {@code row} of {@code d [rows, GH]}: the
         * gradient of LN's output (with gain γ) becomes that of its input,
         * {@code rstd·(γd - mean(γd) - x̂·mean(γd⊙x̂))}.
         */
        private void normalizeBackBlocks(float[] d, float[] xhat, float[] rs, float[] gain, int row, int k0, int k1) {
            int hs = buf.hidden;
            int g = cell.gates();
            for (int k = k0; k < k1; k++) {
                int o = (row * g + k) * hs;
                normalizeBack(d, o, d, o, xhat, o, gain, k * hs, rs[row * g + k], hs, false);
            }
        }

        /**
         * {@code dst[do..do+n) = rstd·(γd - mean(γd) - x̂·mean(γd⊙x̂))} from {@code d[o..o+n)}, or
         * added into dst when {@code add}; in place when dst is d. Sums as in {@link #normalize}.
         */
        void normalizeBack(float[] d, int o, float[] dst, int dOff, float[] xhat, int xo, float[] gain, int go,
                           float rstd, int n, boolean add) {
            FloatVector s1 = FloatVector.zero(SP);
            FloatVector s2 = FloatVector.zero(SP);
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector gd = fromArray(SP, gain, go + u, m).mul(fromArray(SP, d, o + u, m)); // 0 past n
                s1 = s1.add(gd);
                s2 = s2.add(gd.mul(fromArray(SP, xhat, xo + u, m)));
            }
            FloatVector m1 = FloatVector.broadcast(SP, sumLanes(s1) / n);
            FloatVector m2 = FloatVector.broadcast(SP, sumLanes(s2) / n);
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector gd = fromArray(SP, gain, go + u, m).mul(fromArray(SP, d, o + u, m));
                FloatVector v = gd.sub(m1).sub(fromArray(SP, xhat, xo + u, m).mul(m2)).mul(rstd);
                if (add) {
                    v = fromArray(SP, dst, dOff + u, m).add(v);
                }
                v.intoArray(dst, dOff + u, m);
            }
        }

        /**
         * The pre-activation of block k of dense row {@code row} into {@code pre[po..po+H)}:
         * input side plus recurrent side plus b_hh (each side normalised first with layer norm).
         */
        private void preActivation(int row, int k, float[] pre, int po) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int a = row * gh + k * hs;
            int kb = k * hs;
            float[] ax = buf.ax;
            float[] ah = buf.ah;
            float[] bhh = w.bHh();
            if (o.layerNorm()) {
                float[] gi = w.gIh();
                float[] bi = w.betaIh();
                float[] gH = w.gHh();
                float[] bH = w.betaHh();
                float[] bih = w.bIh();
                preActivationLn(gi, bi, bih, gH, bH, bhh, kb, ax, ah, a, pre, po, hs);
            } else {
                preActivationPlain(ax, ah, a, bhh, kb, pre, po, hs);
            }
        }

        /*
         * The vector loops below live in small static methods, as GateMath's do: a large method
         * full of vector operations is one C1 cannot compile ("out of virtual registers") and
         * one that runs the Vector API's allocating fallbacks until C2 takes it, if ever.
         */

        /**
         * {@code pre = (γ_x⊙x̂ + β_x + b_ih) + (γ_h⊙ĥ + β_h + b_hh)} over n units (parameters from
         * kb, x̂ and ĥ from a).
         */
        private static void preActivationLn(float[] gi, float[] bi, float[] bih, float[] gH, float[] bH, float[] bhh,
                                            int kb, float[] ax, float[] ah, int a, float[] pre, int po, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector xs = fromArray(SP, gi, kb + u, m).mul(fromArray(SP, ax, a + u, m))
                        .add(fromArray(SP, bi, kb + u, m)).add(fromArray(SP, bih, kb + u, m));
                FloatVector hsd = fromArray(SP, gH, kb + u, m).mul(fromArray(SP, ah, a + u, m))
                        .add(fromArray(SP, bH, kb + u, m)).add(fromArray(SP, bhh, kb + u, m));
                xs.add(hsd).intoArray(pre, po + u, m);
            }
        }

        /** {@code pre = ax + (ah + b_hh)} over n units. */
        private static void preActivationPlain(float[] ax, float[] ah, int a, float[] bhh, int kb, float[] pre, int po,
                                               int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                fromArray(SP, ax, a + u, m).add(fromArray(SP, ah, a + u, m).add(fromArray(SP, bhh, kb + u, m)))
                        .intoArray(pre, po + u, m);
            }
        }

        /**
         * Through h̃ = o⊙τ over n units: {@code dpre_o = d⊙τ⊙o⊙(1-o)} into {@code dp[po..]}, and
         * {@code dk = d⊙o⊙(1-τ²)} stored into {@code dk[ko..]} or, when {@code add}, added there.
         */
        private static void lstmOutputBack(float[] gt, int po, float[] tau, int so, float[] dhr, int ho, float[] dp,
                                           float[] dk, int ko, boolean add, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector og = fromArray(SP, gt, po + u, m);
                FloatVector tv = fromArray(SP, tau, so + u, m);
                FloatVector d = fromArray(SP, dhr, ho + u, m);
                d.mul(tv).mul(og).mul(ONE.sub(og)).intoArray(dp, po + u, m);
                FloatVector v = d.mul(og).mul(ONE.sub(tv.mul(tv)));
                if (add) {
                    v = fromArray(SP, dk, ko + u, m).add(v);
                }
                v.intoArray(dk, ko + u, m);
            }
        }

        /**
         * The LSTM's (not the coupled cell's) gate gradients from dc̃ over n units: dpre_i at
         * {@code dp[go..]}, dpre_f at {@code pf}, dpre_g at {@code pg}; {@code dc_{t-1} += dc̃⊙f}
         * unless {@code dc} is null (the peephole cell updates dc in a pass of its own).
         */
        private static void lstmCellBack(float[] gt, int go, int pf, int pg, float[] cp, int so, float[] dct, int co,
                                         float[] dp, float[] dc, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector dcv = fromArray(SP, dct, co + u, m);
                FloatVector f = fromArray(SP, gt, pf + u, m);
                FloatVector g = fromArray(SP, gt, pg + u, m);
                FloatVector i = fromArray(SP, gt, go + u, m);
                dcv.mul(g).mul(i).mul(ONE.sub(i)).intoArray(dp, go + u, m);
                dcv.mul(fromArray(SP, cp, so + u, m)).mul(f).mul(ONE.sub(f)).intoArray(dp, pf + u, m);
                dcv.mul(i).mul(ONE.sub(g.mul(g))).intoArray(dp, pg + u, m);
                if (dc != null) {
                    fromArray(SP, dc, co + u, m).add(dcv.mul(f)).intoArray(dc, co + u, m);
                }
            }
        }

        /**
         * {@link #lstmCellBack} with peepholes {@code peep [3H]}: dc̃ first takes dpre_o⊙p_o (dpre_o
         * at {@code po}), and {@code dc_{t-1}} also dpre_i⊙p_i + dpre_f⊙p_f. Three passes, each a
         * method of its own with few live vectors: in one method C1 cannot compile them ("out of
         * virtual registers"), and the method stayed on the Vector API's allocating fallback
         * (OptionsAllocationTest). Every value is the one-pass formula's.
         */
        private static void lstmPeepholeCellBack(float[] gt, int go, int pf, int pg, int po, float[] cp, int so,
                                                 float[] dct, int co, float[] dp, float[] peep, int hs, float[] dc,
                                                 int n) {
            fmaAdd(dct, co, dp, po, peep, 2 * hs, n);
            lstmCellBack(gt, go, pf, pg, cp, so, dct, co, dp, null, n);
            lstmPeepholeBack(gt, go, pf, dct, co, dp, peep, hs, dc, n);
        }

        /** {@code a[ao..ao+n) = a + p[po..]⊙x[xo..]} (a multiply, then an add). */
        private static void fmaAdd(float[] a, int ao, float[] p, int po, float[] x, int xo, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                fromArray(SP, a, ao + u, m).add(fromArray(SP, p, po + u, m).mul(fromArray(SP, x, xo + u, m)))
                        .intoArray(a, ao + u, m);
            }
        }


        /** {@code dc += dc̃⊙f + (dpre_i⊙p_i + dpre_f⊙p_f)}. */
        private static void lstmPeepholeBack(float[] gt, int go, int pf, float[] dct, int co, float[] dp, float[] peep,
                                             int hs, float[] dc, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector back = fromArray(SP, dct, co + u, m).mul(fromArray(SP, gt, pf + u, m))
                        .add(fromArray(SP, dp, go + u, m).mul(fromArray(SP, peep, u, m))
                                .add(fromArray(SP, dp, pf + u, m).mul(fromArray(SP, peep, hs + u, m))));
                fromArray(SP, dc, co + u, m).add(back).intoArray(dc, co + u, m);
            }
        }

        /** {@link #lstmCellBack} for the coupled cell (i = 1 - f; gates f, g, o; no peepholes). */
        private static void lstmCoupledCellBack(float[] gt, int pf, int pg, float[] cp, int so, float[] dct, int co,
                                                float[] dp, float[] dc, int n) {
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector dcv = fromArray(SP, dct, co + u, m);
                FloatVector f = fromArray(SP, gt, pf + u, m);
                FloatVector g = fromArray(SP, gt, pg + u, m);
                FloatVector i = ONE.sub(f);
                dcv.mul(fromArray(SP, cp, so + u, m).sub(g)).mul(f).mul(ONE.sub(f)).intoArray(dp, pf + u, m);
                dcv.mul(i).mul(ONE.sub(g.mul(g))).intoArray(dp, pg + u, m);
                if (dc != null) {
                    fromArray(SP, dc, co + u, m).add(dcv.mul(f)).intoArray(dc, co + u, m);
                }
            }
        }

        // ------------------------------------------------------------ forward gate math

        private void gatesRnn(int j) {
            int hs = buf.hidden;
            int row = off + j;
            int go = row * hs;
            preActivation(row, 0, buf.gates, go);
            if (cell == Cell.RNN_RELU) {
                for (int u = 0; u < hs; u++) {
                    buf.gates[go + u] = Math.max(buf.gates[go + u], 0f);
                }
            } else {
                GateMath.activate(GateMath.TANH, buf.gates, go, buf.gates, go, hs);
            }
            System.arraycopy(buf.gates, go, buf.hTilde, j * hs, hs);
        }

        private void gatesLstm(int j) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int row = off + j;
            if (o.layerNorm()) {
                normalizeRecurrent(row, 0, cell.gates());
            }
            float[] gt = buf.gates;
            int go = row * gh;
            boolean coupled = cell == Cell.LSTM_COUPLED;
            int fi = coupled ? 0 : 1;
            int gi = coupled ? 1 : 2;
            int oi = coupled ? 2 : 3;
            for (int k = 0; k < cell.gates(); k++) {
                preActivation(row, k, gt, go + k * hs);
            }
            float[] cp = buf.cPrev;
            int so = row * hs;
            float[] peep = w.peep();
            if (peep != null) {
                for (int u = 0; u < hs; u++) {
                    gt[go + u] += peep[u] * cp[so + u];
                    gt[go + hs + u] += peep[hs + u] * cp[so + u];
                }
            }
            if (coupled) {
                GateMath.activate(GateMath.SIGMOID, gt, go, gt, go, hs);
            } else {
                GateMath.activate(GateMath.SIGMOID, gt, go, gt, go, 2 * hs);
            }
            GateMath.activate(GateMath.TANH, gt, go + gi * hs, gt, go + gi * hs, hs);
            float[] ct = buf.cTilde;
            for (int u = 0; u < hs; u++) {
                float f = gt[go + fi * hs + u];
                float i = coupled ? 1f - f : gt[go + u];
                ct[so + u] = f * cp[so + u] + i * gt[go + gi * hs + u];
            }
            if (peep != null) {
                for (int u = 0; u < hs; u++) {
                    gt[go + oi * hs + u] += peep[2 * hs + u] * ct[so + u];
                }
            }
            GateMath.activate(GateMath.SIGMOID, gt, go + oi * hs, gt, go + oi * hs, hs);
            float[] tau = buf.tau;
            if (o.layerNorm()) {
                System.arraycopy(ct, so, buf.cHat, so, hs);
                buf.rsc[row] = normalize(buf.cHat, so, hs);
                float[] gC = w.gC();
                float[] bC = w.betaC();
                for (int u = 0; u < hs; u++) {
                    tau[so + u] = gC[u] * buf.cHat[so + u] + bC[u];
                }
                GateMath.activate(GateMath.TANH, tau, so, tau, so, hs);
            } else {
                GateMath.activate(GateMath.TANH, ct, so, tau, so, hs);
            }
            // o⊙τ: h̃ itself, or the projection's input.
            float[] dst = buf.p > 0 ? buf.hr : buf.hTilde;
            int d = buf.p > 0 ? so : j * hs;
            for (int u = 0; u < hs; u++) {
                dst[d + u] = gt[go + oi * hs + u] * tau[so + u];
            }
        }

        /** Layer norm of the recurrent side's blocks k0..k1) of {@code row}, in place. */
        private void normalizeRecurrent(int row, int k0, int k1) {
            int hs = buf.hidden;
            int g = cell.gates();
            for (int k = k0; k < k1; k++) {
                buf.rsh[row * g + k] = normalize(buf.ah, (row * g + k) * hs, hs);
            }
        }

        private void gatesGru(int j) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int row = off + j;
            boolean orig = cell == Cell.GRU_ORIGINAL;
            if (o.layerNorm()) {
                normalizeRecurrent(row, 0, orig ? 2 : 3);
            }
            float[] gt = buf.gates;
            int go = row * gh;
            preActivation(row, 0, gt, go);
            preActivation(row, 1, gt, go + hs);
            GateMath.activate(GateMath.SIGMOID, gt, go, gt, go, 2 * hs);
            if (orig) {
                // r ⊙ q, the input of the n block's GEMM; projected, r ⊙ h_{t-1}, projected next.
                float[] src = buf.p > 0 ? buf.hPrev : buf.q;
                int qo = row * (buf.p > 0 ? hs : buf.r);
                for (int u = 0; u < hs; u++) {
                    buf.rq[row * hs + u] = gt[go + u] * src[qo + u];
                }
                return;
            }
            gruN(j, row);
        }

        /** n and h̃ of a GRU row whose r and z are done (the original GRU's n block GEMM too). */
        private void gruN(int j, int row) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int go = row * gh;
            int a = go + 2 * hs;
            float[] gt = buf.gates;
            float[] ax = buf.ax;
            float[] ah = buf.ah;
            float[] bhh = w.bHh();
            boolean ln = o.layerNorm();
            boolean orig = cell == Cell.GRU_ORIGINAL;
            for (int u = 0; u < hs; u++) {
                int k = 2 * hs + u;
                float xn = ln ? w.gIh()[k] * ax[a + u] + w.betaIh()[k] + w.bIh()[k] : ax[a + u];
                float hn = (ln ? w.gHh()[k] * ah[a + u] + w.betaHh()[k] : ah[a + u]) + bhh[k];
                gt[a + u] = orig ? xn + hn : xn + gt[go + u] * hn;
            }
            GateMath.activate(GateMath.TANH, gt, a, gt, a, hs);
            float[] hp = buf.hPrev;
            int so = row * hs;
            for (int u = 0; u < hs; u++) {
                float z = gt[go + hs + u];
                buf.hTilde[j * hs + u] = (1f - z) * gt[a + u] + z * hp[so + u];
            }
        }

        private void gruOriginalN(int j) {
            int row = off + j;
            if (o.layerNorm()) {
                normalizeRecurrent(row, 2, 3);
            }
            gruN(j, row);
        }

        /** Zoneout, masks and lengths: the new state of row j and its output (not the projected GRU's). */
        private void update(int j) {
            int sw = buf.s;
            int hs = buf.hidden;
            int row = off + j;
            float[] h = buf.h;
            boolean run = buf.runs[j];
            if (run) {
                zoneout(o.zoneoutH(), buf.hTilde, j * sw, buf.hPrev, row * sw, h, j * sw, sw,
                        zoneoutHFirst + (long) row * sw);
                if (buf.c != null) {
                    zoneout(o.zoneoutC(), buf.cTilde, row * hs, buf.cPrev, row * hs, buf.c, j * hs, hs,
                            zoneoutCFirst + (long) row * hs);
                }
            }
            if (buf.hNew != null) {
                System.arraycopy(h, j * sw, buf.hNew, row * sw, sw);
            }
            if (buf.v == null) {
                outputRow(j, h, sw);
            }
        }

        /** {@code dst = d⊙prev + (1-d)⊙next} with d the zoneout mask (training) or p (inference). */
        private void zoneout(float p, float[] next, int no, float[] prev, int po, float[] dst, int d, int n,
                             long first) {
            if (p == 0f) {
                System.arraycopy(next, no, dst, d, n);
            } else if (!training) {
                float keep = 1f - p;
                for (int u = 0; u < n; u++) {
                    dst[d + u] = p * prev[po + u] + keep * next[no + u];
                }
            } else {
                for (int u = 0; u < n; u++) {
                    dst[d + u] = TensorOps.uniform(seed, first + u) < p ? prev[po + u] : next[no + u];
                }
            }
        }

        void outputRows(int from, int to, float[] src, int width) {
            for (int j = from; j < to; j++) {
                outputRow(j, src, width);
            }
        }

        /**
         * y_t of row j: {@code src} (the state, or v) where it ran; the previous output of this
         * direction at a hole (zero before the first step that ran); zero past its length.
         */
        private void outputRow(int j, float[] src, int width) {
            int at = (t * batch + j) * yStride + yCol;
            if (buf.runs[j]) {
                System.arraycopy(src, j * width, y, at, width);
            } else if (lengths != null && t >= lengths[j] || first) {
                Arrays.fill(y, at, at + width, 0f);
            } else {
                int prev = dir == Direction.FORWARD ? t - 1 : t + 1;
                System.arraycopy(y, (prev * batch + j) * yStride + yCol, y, at, width);
            }
        }

        // ------------------------------------------------------------ backward

        /** Adds dy into the carried output gradient; a row that ran takes it into dh (or dv). */
        void outputGradients(int from, int to) {
            int rw = buf.r;
            float[] carry = buf.carry;
            float[] target = buf.v != null ? buf.dv : buf.dh;
            for (int j = from; j < to; j++) {
                if (lengths != null && t >= lengths[j]) {
                    continue;
                }
                int co = j * rw;
                if (dy != null) {
                    int src = (t * batch + j) * dyStride + dyCol;
                    for (int u = 0; u < rw; u++) {
                        carry[co + u] += dy[src + u];
                    }
                }
                if (buf.runs[j]) {
                    for (int u = 0; u < rw; u++) {
                        target[co + u] += carry[co + u];
                        carry[co + u] = 0f;
                    }
                }
            }
        }

        /** Splits dh (dc) of a row that ran into what zoneout passes to h_{t-1} and what reaches h̃ (c̃). */
        private void zoneoutBack(int j) {
            int sw = buf.s;
            int hs = buf.hidden;
            int row = off + j;
            boolean run = buf.runs[j];
            float[] dHt = buf.dHTilde;
            if (!run) {
                Arrays.fill(dHt, j * sw, (j + 1) * sw, 0f);
                if (buf.c != null) {
                    Arrays.fill(buf.dCTilde, j * hs, (j + 1) * hs, 0f);
                }
            } else {
                zoneoutSplit(o.zoneoutH(), buf.dh, j * sw, dHt, j * sw, sw, zoneoutHFirst + (long) row * sw);
                if (buf.c != null) {
                    zoneoutSplit(o.zoneoutC(), buf.dc, j * hs, buf.dCTilde, j * hs, hs, zoneoutCFirst + (long) row * hs);
                }
            }
            if (buf.p > 0 && buf.c != null) {
                System.arraycopy(dHt, j * sw, buf.dProj, row * sw, sw);
            }
        }

        /** {@code dNext = (1-d)⊙dState}, {@code dState = d⊙dState}; d drawn again as the forward drew it. */
        private void zoneoutSplit(float p, float[] dState, int so, float[] dNext, int no, int n, long first) {
            if (p == 0f) {
                System.arraycopy(dState, so, dNext, no, n);
                Arrays.fill(dState, so, so + n, 0f);
                return;
            }
            for (int u = 0; u < n; u++) {
                boolean keep = TensorOps.uniform(seed, first + u) < p;
                float d = dState[so + u];
                dNext[no + u] = keep ? 0f : d;
                dState[so + u] = keep ? d : 0f;
            }
        }

        private void zeroGateGradients(int row, int from, int to) {
            int gh = buf.gh;
            Arrays.fill(buf.dPreX, row * gh + from, row * gh + to, 0f);
            if (buf.dPreH != buf.dPreX) {
                Arrays.fill(buf.dPreH, row * gh + from, row * gh + to, 0f);
            }
            if (buf.dAh != buf.dPreH) {
                Arrays.fill(buf.dAh, row * gh + from, row * gh + to, 0f);
            }
        }

        private void gatesBackRnn(int j) {
            int hs = buf.hidden;
            int row = off + j;
            if (!buf.runs[j]) {
                zeroGateGradients(row, 0, hs);
                return;
            }
            float[] gt = buf.gates;
            float[] dp = buf.dPreX;
            int go = row * hs;
            boolean relu = cell == Cell.RNN_RELU;
            for (int u = 0; u < hs; u++) {
                float hv = gt[go + u];
                float d = buf.dHTilde[j * hs + u];
                dp[go + u] = relu ? (hv > 0f ? d : 0f) : d * (1f - hv * hv);
            }
        }

        private void gatesBackLstm(int j) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int row = off + j;
            if (!buf.runs[j]) {
                zeroGateGradients(row, 0, gh);
                if (buf.dK != null) {
                    Arrays.fill(buf.dK, row * hs, (row + 1) * hs, 0f);
                }
                return;
            }
            boolean coupled = cell == Cell.LSTM_COUPLED;
            int fi = coupled ? 0 : 1;
            int gi = coupled ? 1 : 2;
            int oi = coupled ? 2 : 3;
            float[] gt = buf.gates;
            float[] dp = buf.dPreX;
            int go = row * gh;
            int so = row * hs;
            float[] dhr = buf.p > 0 ? buf.dHr : buf.dHTilde;
            int ho = j * hs;
            float[] tau = buf.tau;
            float[] dct = buf.dCTilde;
            int co = j * hs;
            boolean ln = o.layerNorm();
            // Through h̃ = o⊙τ: dpre_o, and dk (the gradient of τ's argument).
            int po = go + oi * hs;
            if (ln) {
                lstmOutputBack(gt, po, tau, so, dhr, ho, dp, buf.dK, so, false, hs);
                // dc̃ += LN_c's backward of dk (dK keeps dk for the gain and bias gradients).
                normalizeBack(buf.dK, so, dct, co, buf.cHat, so, w.gC(), 0, buf.rsc[row], hs, true);
            } else {
                lstmOutputBack(gt, po, tau, so, dhr, ho, dp, dct, co, true, hs);
            }
            float[] peep = w.peep();
            if (coupled) {
                if (peep != null) {
                    throw new IllegalStateException("the coupled LSTM has no peepholes");
                }
                lstmCoupledCellBack(gt, go + fi * hs, go + gi * hs, buf.cPrev, so, dct, co, dp, buf.dc, hs);
            } else if (peep != null) {
                lstmPeepholeCellBack(gt, go, go + fi * hs, go + gi * hs, po, buf.cPrev, so, dct, co, dp, peep, hs,
                        buf.dc, hs);
            } else {
                lstmCellBack(gt, go, go + fi * hs, go + gi * hs, buf.cPrev, so, dct, co, dp, buf.dc, hs);
            }
            if (ln) {
                // The LSTM's two sides share dPre; the recurrent side's LN backward goes to dAh.
                int g = cell.gates();
                for (int k = 0; k < g; k++) {
                    int o2 = (row * g + k) * hs;
                    normalizeBack(dp, o2, buf.dAh, o2, buf.ah, o2, w.gHh(), k * hs, buf.rsh[row * g + k], hs, false);
                }
            }
        }

        private void gatesBackGru(int j) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int row = off + j;
            boolean orig = cell == Cell.GRU_ORIGINAL;
            if (!buf.runs[j]) {
                zeroGateGradients(row, 0, gh);
                if (orig) {
                    Arrays.fill(buf.dq, j * buf.r, (j + 1) * buf.r, 0f);
                }
                return;
            }
            float[] gt = buf.gates;
            float[] dpx = buf.dPreX;
            float[] dph = buf.dPreH;
            int go = row * gh;
            int so = row * hs;
            float[] hp = buf.hPrev;
            float[] dh = buf.dh;
            float[] dht = buf.dHTilde;
            int jo = j * hs;
            boolean ln = o.layerNorm();
            float[] ah = buf.ah;
            float[] bhh = w.bHh();
            gruZnBack(gt, go, hs, hp, so, dht, jo, dh, dpx, dph, orig, hs);
            if (!orig) {
                if (ln) {
                    gruRBackLn(gt, go, hs, ah, w.gHh(), w.betaHh(), bhh, dpx, dph, hs);
                } else {
                    gruRBack(gt, go, hs, ah, bhh, dpx, dph, hs);
                }
            }
            if (ln) {
                normalizeBackBlocks(dph, buf.dAh, row, orig ? 2 : 0, 3);
            }
        }

        /**
         * The GRU's z and n gates backward over n units of the row at {@code go} (gates r, z, n at
         * go, go + hs, go + 2hs): {@code dh += d⊙z}, dpre_z into both sides, dpre_n into dPreX (and
         * dPreH for the original GRU, whose n block reads no r).
         */
        private static void gruZnBack(float[] gt, int go, int hs, float[] hp, int so, float[] dht, int jo, float[] dh,
                                      float[] dpx, float[] dph, boolean orig, int n) {
            int zo = go + hs;
            int no = go + 2 * hs;
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector z = fromArray(SP, gt, zo + u, m);
                FloatVector nv = fromArray(SP, gt, no + u, m);
                FloatVector d = fromArray(SP, dht, jo + u, m);
                fromArray(SP, dh, jo + u, m).add(d.mul(z)).intoArray(dh, jo + u, m);
                FloatVector dpz = d.mul(fromArray(SP, hp, so + u, m).sub(nv)).mul(z).mul(ONE.sub(z));
                FloatVector dpn = d.mul(ONE.sub(z)).mul(ONE.sub(nv.mul(nv)));
                dpz.intoArray(dpx, zo + u, m);
                dpz.intoArray(dph, zo + u, m);
                dpn.intoArray(dpx, no + u, m);
                if (orig) {
                    dpn.intoArray(dph, no + u, m);
                }
            }
        }

        /**
         * The PyTorch-form GRU's r gate backward over n units, after {@link #gruZnBack}: with
         * {@code hn = ah_n + b_hn}, {@code dPreH_n = dpre_n⊙r} and dpre_r = dpre_n⊙hn⊙r⊙(1-r) into
         * both sides.
         */
        private static void gruRBack(float[] gt, int go, int hs, float[] ah, float[] bhh, float[] dpx, float[] dph,
                                     int n) {
            int no = go + 2 * hs;
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector r = fromArray(SP, gt, go + u, m);
                FloatVector dpn = fromArray(SP, dpx, no + u, m);
                FloatVector hn = fromArray(SP, ah, no + u, m).add(fromArray(SP, bhh, 2 * hs + u, m));
                dpn.mul(r).intoArray(dph, no + u, m);
                FloatVector dpr = dpn.mul(hn).mul(r).mul(ONE.sub(r));
                dpr.intoArray(dpx, go + u, m);
                dpr.intoArray(dph, go + u, m);
            }
        }

        /** {@link #gruRBack} with layer norm: {@code hn = (γ_h⊙ĥ_n + β_h) + b_hn}. */
        private static void gruRBackLn(float[] gt, int go, int hs, float[] ah, float[] gHh, float[] betaHh,
                                       float[] bhh, float[] dpx, float[] dph, int n) {
            int no = go + 2 * hs;
            int k = 2 * hs;
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector r = fromArray(SP, gt, go + u, m);
                FloatVector dpn = fromArray(SP, dpx, no + u, m);
                FloatVector hn = fromArray(SP, gHh, k + u, m).mul(fromArray(SP, ah, no + u, m))
                        .add(fromArray(SP, betaHh, k + u, m)).add(fromArray(SP, bhh, k + u, m));
                dpn.mul(r).intoArray(dph, no + u, m);
                FloatVector dpr = dpn.mul(hn).mul(r).mul(ONE.sub(r));
                dpr.intoArray(dpx, go + u, m);
                dpr.intoArray(dph, go + u, m);
            }
        }

        /** LN backward of blocks k0..k1) of row's dPreH into dAh. */
        private void normalizeBackBlocks(float[] dph, float[] dah, int row, int k0, int k1) {
            int hs = buf.hidden;
            int g = cell.gates();
            for (int k = k0; k < k1; k++) {
                int o2 = (row * g + k) * hs;
                normalizeBack(dph, o2, dah, o2, buf.ah, o2, w.gHh(), k * hs, buf.rsh[row * g + k], hs, false);
            }
        }

        /** The original GRU's r gate from d(r⊙q) (dRq, after the n block's GEMM); dq gets d(r⊙q)⊙r. */
        private void gruOriginalRzBack(int j) {
            int hs = buf.hidden;
            int gh = buf.gh;
            int row = off + j;
            if (!buf.runs[j]) {
                return; // zeroed by gatesBackGru, dq included
            }
            float[] gt = buf.gates;
            int go = row * gh;
            boolean proj = buf.p > 0;
            // r multiplied q, or (projected) h_{t-1}: d(r⊙·)⊙r goes to q, or straight to h_{t-1}.
            float[] src = proj ? buf.hPrev : buf.q;
            int qo = row * (proj ? hs : buf.r);
            if (proj) {
                Arrays.fill(buf.dq, j * buf.r, (j + 1) * buf.r, 0f);
            }
            for (int u = 0; u < hs; u++) {
                float r = gt[go + u];
                float drq = buf.dRq[j * hs + u];
                float dpr = drq * src[qo + u] * r * (1f - r);
                buf.dPreX[go + u] = dpr;
                buf.dPreH[go + u] = dpr;
                if (proj) {
                    buf.dh[j * hs + u] += drq * r;
                } else {
                    buf.dq[j * buf.r + u] = drq * r;
                }
            }
            if (o.layerNorm()) {
                normalizeBackBlocks(buf.dPreH, buf.dAh, row, 0, 2);
            }
        }
    }
}
