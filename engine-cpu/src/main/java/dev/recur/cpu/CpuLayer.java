package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.StepPlan;

import java.util.Arrays;

/**
 * One direction of one recurrent layer over whole sequences, on float arrays: DESIGN.md's recipe.
 *
 * <pre>
 * forward:  Xg[N, G*H] = X[N, I]·W_ihᵀ + b_ih                       (one GEMM, all steps)
 *           for s in 0..S-1:  Hg = h[0..B_s)·W_hhᵀ                   (one GEMM per step)
 *                             gates, h, c = fused(Xg_s, Hg, b_hh)     (GateMath)
 * backward: for s in S-1..0:  dG_s = fused'(dh, dc, saved gates)
 *                             dh[0..B_s) = dG_s·W_hh                  (one GEMM per step)
 *           dW_ih += dGᵀ·X,  dW_hh += dGᵀ·H_prev,  dX = dG·W_ih      (one GEMM each)
 *           db_ih += colsum(dG),  db_hh += colsum(dG)
 * </pre>
 * N is the number of real (unpadded) steps over the batch and B_s the number of sequences still
 * running at step s ({@link StepPlan}); the original GRU needs a second, smaller GEMM per step
 * for {@code W_hn (r⊙h)}. Nothing here allocates (the sliced loop's second h buffer and the
 * backward's buffers are made once, on first use).
 *
 * <p>Each time loop runs one of three ways, with the same bits: by rows ({@link RowLoop}: one
 * block of sequences per thread walks every step alone, no barrier), the default on several
 * threads; for very few sequences of a wide layer, sliced by hidden units ({@link SlicedLoop}:
 * one task per thread for the whole loop, one barrier per step); or step by step, each step's
 * GEMM and gate math split among the workers ({@link TimeLoop#STEPWISE}, and on one thread).
 * {@link #inference} is the forward without its saves. The state a call's worker tasks
 * read lives in call objects ({@link GateCall}, {@link ColumnSumCall}, {@link SlicedLoop},
 * {@link RowLoop} and
 * {@link Sgemm.Call}), set before the tasks start; calls are serialized.
 */
final class CpuLayer {

    /** Weights or gradients of one direction as arrays; {@code peep} is null without peepholes. */
    record Params(float[] wIh, float[] wHh, float[] bIh, float[] bHh, float[] peep) {
    }

    // Stages of fused gate math (see gateRows).
    private static final int FORWARD = 0;
    private static final int GRU_ORIGINAL_GATES = 1;
    private static final int BACKWARD = 2;
    private static final int GRU_ORIGINAL_BACKWARD_GATES = 3;

    private final Sgemm sgemm;
    private final Workers workers;
    /** The gate-math call in flight (one object, reused: calls are serialized). */
    private final GateCall gateCall = new GateCall();
    /** The column-sum call in flight, likewise. */
    private final ColumnSumCall columnSumCall = new ColumnSumCall();
    private final SlicedLoop sliced;
    private final RowLoop byRows;
    private final TimeLoop timeLoop;

    /**
     * How the time loops run: {@link #AUTO} picks per call by shape (see {@link #slicedTasks});
     * the others force a way wherever it can run, for tests and for measuring one against another.
     */
    enum TimeLoop {
        /** By shape: {@link #slicedTasks}. */
        AUTO,
        /** Sliced over every thread wherever the shape allows it. */
        SLICED,
        /** Sliced with one slice: the whole loop on the calling thread, where the shape allows slicing. */
        ONE_THREAD,
        /** Step by step, each step's GEMM and gate math split among the workers. */
        STEPWISE,
        /** By rows wherever there are several threads and sequences: {@link RowLoop}. */
        ROWS;

        /**
         * {@code -Drecur.cpu.timeLoop=auto|sliced|one-thread|stepwise|rows}; the older
         * {@code -Drecur.cpu.slicedLoop=false} means stepwise.
         */
        static TimeLoop fromProperties() {
            String p = System.getProperty("recur.cpu.timeLoop");
            if (p == null) {
                return "false".equalsIgnoreCase(System.getProperty("recur.cpu.slicedLoop", "true")) ? STEPWISE : AUTO;
            }
            return switch (p.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> AUTO;
                case "sliced" -> SLICED;
                case "one-thread" -> ONE_THREAD;
                case "stepwise" -> STEPWISE;
                case "rows" -> ROWS;
                default -> throw new IllegalArgumentException(
                        "recur.cpu.timeLoop must be auto, sliced, one-thread, stepwise or rows, got '" + p + "'");
            };
        }
    }

    CpuLayer(Sgemm sgemm, Workers workers) {
        this(sgemm, workers, TimeLoop.fromProperties());
    }

    CpuLayer(Sgemm sgemm, Workers workers, TimeLoop timeLoop) {
        this.sgemm = sgemm;
        this.workers = workers;
        this.timeLoop = timeLoop;
        this.sliced = new SlicedLoop(workers.threads());
        this.byRows = new RowLoop(workers.threads());
    }

    /** Batches of at most this many sequences may run the time loop sliced by hidden units. */
    static final int SLICED_MAX_BATCH = 32;

    /** Which time loop a layer call of this shape runs: sliced, by rows, or stepwise. */
    LayerPath.Kind loopKind(Cell cell, int batch, int hs) {
        if (slicedTasks(cell, batch, hs) > 0) {
            return LayerPath.Kind.PLAIN_SLICED;
        }
        return rowTasks(batch) > 0 ? LayerPath.Kind.PLAIN_ROWS : LayerPath.Kind.PLAIN_STEPWISE;
    }

    /**
     * How many slices (tasks) a time loop of this shape runs {@link SlicedLoop} with, or 0 for
     * the loops that split rows ({@link RowLoop}, stepwise). Slicing needs few sequences, H in
     * whole GEMM strips, and one GEMM per step (not the original GRU, whose second GEMM reads
     * every unit of r⊙h). Under {@link TimeLoop#AUTO} it also needs H from
     * {@value #AUTO_SLICED_MIN_HIDDEN} and at most {@value #AUTO_SLICED_MAX_BATCH} sequences:
     * there each thread of the row loop would stream all of a large W_hh from the last-level
     * cache at every step for one to four rows, where a slice reads only its share. Measured
     * (LSTM, T = 100, I = H, 2 threads, paired in one JVM, the 2-core Zen 5 VM with other builds
     * running, ms training / forward / inference, medians): H = 512 B = 2 sliced 27.9 / 10.1 / 10.1
     * against rows 32.1 / 12.1 / 14.5; B = 8 sliced 110 / 34 / 35 against 105 / 45 / 47; B = 16
     * rows 162 / 54 / 49 against sliced 163 / 55 / 54; B = 32 rows 395 / 123 / 117 against 447 /
     * 131 / 135; H = 256 B = 4 rows 18.3 / 7.2 / 6.2 against sliced 27.9 / 11.7 / 10.8 and
     * stepwise 19.1 / 8.2 / 8.0; B = 16 rows 23.5 / 8.2 / 8.0 against sliced 27.2 / 10.7 / 10.1.
     */
    int slicedTasks(Cell cell, int batch, int hs) {
        int threads = workers.threads();
        boolean sliceable = cell != Cell.GRU_ORIGINAL && batch <= SLICED_MAX_BATCH && hs % Sgemm.NR == 0;
        int most = Math.min(threads, hs / Sgemm.NR);
        return switch (timeLoop) {
            case STEPWISE, ROWS -> 0;
            case ONE_THREAD -> sliceable ? 1 : 0;
            case SLICED -> sliceable && most >= 2 ? most : 0;
            case AUTO -> sliceable && most >= 2 && hs >= AUTO_SLICED_MIN_HIDDEN && batch <= AUTO_SLICED_MAX_BATCH
                    ? most : 0;
        };
    }

    /** Under {@link TimeLoop#AUTO}, the least H that runs sliced (see {@link #slicedTasks}). */
    static final int AUTO_SLICED_MIN_HIDDEN = 512;

    /** Under {@link TimeLoop#AUTO}, the most sequences that run sliced (see {@link #slicedTasks}). */
    static final int AUTO_SLICED_MAX_BATCH = 8;

    /**
     * How many blocks of rows a time loop that does not run sliced runs {@link RowLoop} with, or
     * 0 for the stepwise loop: one per thread (at most one per sequence) under {@link TimeLoop#ROWS}
     * and {@link TimeLoop#AUTO}, given two threads and two sequences.
     */
    int rowTasks(int batch) {
        int tasks = Math.min(workers.threads(), batch);
        return switch (timeLoop) {
            case ROWS, AUTO -> tasks >= 2 ? tasks : 0;
            case STEPWISE, SLICED, ONE_THREAD -> 0;
        };
    }

    /**
     * @param x      [T, B, I]
     * @param h0     [B, H] or null (zeros); c0 likewise
     * @param y      receives h_t at {@code y[(t*B + b)*yStride + yCol + u]}; must be zero at padded steps on entry
     * @param hT     [B, H] or null; cT likewise
     */
    synchronized void forward(Cell cell, Direction dir, int steps, int batch, float[] x, int[] lengths, float[] h0, float[] c0,
                 Params p, float[] y, int yStride, int yCol, float[] hT, float[] cT, LayerBuffers buf) {
        run(true, cell, dir, steps, batch, x, lengths, h0, c0, p, y, yStride, yCol, hT, cT, buf);
    }

    /**
     * {@link #forward} that saves nothing for a backward: the same GEMMs and gate math in the
     * same order, so the same bits in {@code y}, {@code hT} and {@code cT}, but no step copies its
     * previous state, and the gate math reads and updates the running {@code [B, H]} state in
     * place (st = 0, Note in {@link GateMath}). {@code buf} serves as scratch only: its input
     * projections, running state and {@code [B, H]} rows of the GRU scratch; a backward may not
     * follow (the {@code Backend} marks the workspace empty).
     */
    synchronized void inference(Cell cell, Direction dir, int steps, int batch, float[] x, int[] lengths, float[] h0,
                                float[] c0, Params p, float[] y, int yStride, int yCol, float[] hT, float[] cT,
                                LayerBuffers buf) {
        run(false, cell, dir, steps, batch, x, lengths, h0, c0, p, y, yStride, yCol, hT, cT, buf);
    }

    /** The forward; {@code save} keeps what the backward reads (per-step previous states, GRU scratch rows). */
    private void run(boolean save, Cell cell, Direction dir, int steps, int batch, float[] x, int[] lengths, float[] h0,
                     float[] c0, Params p, float[] y, int yStride, int yCol, float[] hT, float[] cT, LayerBuffers buf) {
        StepPlan plan = buf.plan;
        plan.build(dir, steps, batch, lengths);
        int in = buf.inputSize;
        int hs = buf.hidden;
        int gh = buf.gh;
        int n = plan.total();
        int walked = plan.steps();

        float[] xs = x;
        if (!plan.isIdentity()) {
            gatherRows(plan, x, in, buf.xPacked);
            xs = buf.xPacked;
        }
        // Xg = X·W_ihᵀ + b_ih for every real step at once.
        buf.inputWeights.see(p.wIh(), gh, in);
        if (buf.inputWeights.kept()) {
            sgemm.gemmPlusRow(buf.gemm, false, n, 1f, xs, 0, in, buf.inputWeights.transposed(p.wIh()), p.bIh(), buf.gates,
                    0, gh);
        } else {
            // Too large to keep: the GEMM packs W_ihᵀ itself, on every thread.
            sgemm.gemmPlusRow(buf.gemm, false, true, n, gh, in, 1f, xs, 0, in, p.wIh(), 0, in, p.bIh(), buf.gates, 0, gh);
        }

        loadState(plan, h0, buf.h, hs);
        if (buf.c != null) {
            loadState(plan, c0, buf.c, hs);
        }
        Sgemm.PackedB recurrent; // W_hhᵀ: every gate block, or the original GRU's [r, z]
        if (cell == Cell.GRU_ORIGINAL) {
            recurrent = buf.recurrentOwn;
            Sgemm.pack(true, hs, 2 * hs, p.wHh(), 0, hs, recurrent);
            Sgemm.pack(true, hs, hs, p.wHh(), 2 * hs * hs, hs, buf.recurrentN);
        } else {
            buf.recurrentWeights.see(p.wHh(), gh, hs);
            recurrent = buf.recurrentWeights.transposed(p.wHh());
        }
        int slices = slicedTasks(cell, batch, hs);
        int blocks = slices > 0 ? 0 : rowTasks(batch);
        if (slices > 0) {
            sliced.run(slices, save, cell, buf, recurrent, p, plan, y, yStride, yCol);
            walked = 0; // done
        } else if (blocks > 0) {
            byRows.runForward(blocks, save, cell, buf, recurrent, p, plan, y, yStride, yCol);
            walked = 0; // done
        }
        for (int s = 0; s < walked; s++) {
            int rows = plan.batchSize(s);
            int off = plan.offset(s);
            // State rows of the gate math: the packed rows when saving, else the running [B, H].
            int st = save ? off : 0;
            if (save) {
                saveStateRows(buf, off, 0, rows);
            }
            // Every gate block from h_{t-1}; for the original GRU only [r, z] (recurrent holds those),
            // then the n block from r ⊙ h_{t-1}.
            sgemm.gemm(buf.gemm, false, rows, 1f, buf.h, 0, hs, recurrent, 0f, buf.hg, 0, gh);
            if (cell == Cell.GRU_ORIGINAL) {
                runGates(GRU_ORIGINAL_GATES, save, cell, buf, p, rows, off);
                sgemm.gemm(buf.gemm, false, rows, 1f, buf.extra, st * hs, hs, buf.recurrentN, 0f, buf.hg, 2 * hs, gh);
            }
            runGates(FORWARD, save, cell, buf, p, rows, off);
            writeOutputRows(plan, s, buf.h, hs, 0, rows, y, yStride, yCol);
        }
        storeState(plan, buf.h, hT, hs);
        if (buf.c != null) {
            storeState(plan, buf.c, cT, hs);
        }
    }

    /**
     * The backward of the last {@link #forward} on {@code buf}.
     *
     * @param dy           gradient at {@code dy[(t*B + b)*dyStride + dyCol + u]}, or null
     * @param dx           [T, B, I] or null; overwritten, or added to when {@code dxAccumulate}
     * @param dh0          [B, H] or null, overwritten; dc0 likewise
     * @param g            gradients, accumulated into
     */
    synchronized void backward(Cell cell, int steps, int batch, float[] x, Params p, LayerBuffers buf, float[] dy, int dyStride,
                  int dyCol, float[] dhT, float[] dcT, float[] dx, boolean dxAccumulate, float[] dh0, float[] dc0,
                  Params g) {
        buf.ensureBackward();
        StepPlan plan = buf.plan;
        int in = buf.inputSize;
        int hs = buf.hidden;
        int gh = buf.gh;
        int n = plan.total();
        boolean identity = plan.isIdentity();
        float[] dG = buf.dGx;

        Sgemm.PackedB recurrent; // W_hh, or the original GRU's [r, z] blocks of it
        if (cell == Cell.GRU_ORIGINAL) {
            recurrent = buf.recurrentOwn;
            Sgemm.pack(false, 2 * hs, hs, p.wHh(), 0, hs, recurrent);
            Sgemm.pack(false, hs, hs, p.wHh(), 2 * hs * hs, hs, buf.recurrentN);
        } else {
            buf.recurrentWeights.see(p.wHh(), gh, hs);
            recurrent = buf.recurrentWeights.plain(p.wHh());
        }
        loadState(plan, dhT, buf.dh, hs);
        if (buf.dc != null) {
            loadState(plan, dcT, buf.dc, hs);
        }
        int last = plan.steps() - 1;
        int slices = slicedTasks(cell, batch, hs);
        int blocks = slices > 0 ? 0 : rowTasks(batch);
        if (slices > 0) {
            sliced.runBackward(slices, cell, buf, recurrent, p, plan, dy, dyStride, dyCol);
            last = -1; // done
        } else if (blocks > 0) {
            byRows.runBackward(blocks, cell, buf, recurrent, p, plan, dy, dyStride, dyCol);
            last = -1; // done
        }
        for (int s = last; s >= 0; s--) {
            int rows = plan.batchSize(s);
            int off = plan.offset(s);
            addOutputGradientRows(plan, s, dy, dyStride, dyCol, buf.dh, hs, 0, rows);
            switch (cell) {
                case RNN_TANH, RNN_RELU, LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                    runGates(BACKWARD, true, cell, buf, p, rows, off);
                    sgemm.gemm(buf.gemm, false, rows, 1f, dG, off * gh, gh, recurrent, 0f, buf.dh, 0, hs);
                }
                case GRU -> {
                    runGates(BACKWARD, true, cell, buf, p, rows, off);
                    sgemm.gemm(buf.gemm, false, rows, 1f, buf.dGh, off * gh, gh, recurrent, 1f, buf.dh, 0, hs);
                }
                case GRU_ORIGINAL -> {
                    runGates(BACKWARD, true, cell, buf, p, rows, off);
                    sgemm.gemm(buf.gemm, false, rows, 1f, dG, off * gh + 2 * hs, gh, buf.recurrentN, 0f, buf.dRh, 0, hs);
                    runGates(GRU_ORIGINAL_BACKWARD_GATES, true, cell, buf, p, rows, off);
                    sgemm.gemm(buf.gemm, false, rows, 1f, dG, off * gh, gh, recurrent, 1f, buf.dh, 0, hs);
                }
            }
        }
        storeState(plan, buf.dh, dh0, hs);
        if (buf.dc != null) {
            storeState(plan, buf.dc, dc0, hs);
        }

        // Weight gradients over all real steps at once.
        float[] xs = identity ? x : buf.xPacked;
        sgemm.gemm(buf.gemm, true, false, gh, in, n, 1f, dG, 0, gh, xs, 0, in, 1f, g.wIh(), 0, in);
        if (cell == Cell.GRU_ORIGINAL) {
            sgemm.gemm(buf.gemm, true, false, 2 * hs, hs, n, 1f, dG, 0, gh, buf.hPrev, 0, hs, 1f, g.wHh(), 0, hs);
            sgemm.gemm(buf.gemm, true, false, hs, hs, n, 1f, dG, 2 * hs, gh, buf.extra, 0, hs, 1f, g.wHh(), 2 * hs * hs, hs);
        } else {
            sgemm.gemm(buf.gemm, true, false, gh, hs, n, 1f, buf.dGh, 0, gh, buf.hPrev, 0, hs, 1f, g.wHh(), 0, hs);
        }
        addColumnSums(dG, n, gh, buf.colSums, g.bIh());
        if (buf.dGh == dG) {
            // Both biases enter the pre-activation alike: the same column sums, added twice.
            for (int c = 0; c < gh; c++) {
                g.bHh()[c] += buf.colSums[c];
            }
        } else {
            addColumnSums(buf.dGh, n, gh, buf.colSums, g.bHh());
        }
        if (cell == Cell.LSTM_PEEPHOLE) {
            addPeepholeGrads(dG, buf.cPrev, buf.cNext, n, hs, g.peep());
        }

        if (dx != null) {
            // W_ih packed by the GEMM itself: in training it changes at every step, so a kept form would not outlive it.
            if (identity) {
                sgemm.gemm(buf.gemm, false, false, n, in, gh, 1f, dG, 0, gh, p.wIh(), 0, in, dxAccumulate ? 1f : 0f, dx, 0, in);
            } else {
                sgemm.gemm(buf.gemm, false, false, n, in, gh, 1f, dG, 0, gh, p.wIh(), 0, in, 0f, buf.dxPacked, 0, in);
                if (!dxAccumulate) {
                    Arrays.fill(dx, 0, steps * batch * in, 0f);
                }
                scatterAddRows(plan, buf.dxPacked, in, dx);
            }
        }
    }

    /**
     * Runs one stage of fused gate math over the step's {@code rows} running rows, split among
     * the workers when there is enough of it (rows are independent, so the split changes no bit).
     */
    private void runGates(int stage, boolean save, Cell cell, LayerBuffers buf, Params p, int rows, int off) {
        GateCall g = gateCall;
        g.stage = stage;
        g.save = save;
        g.cell = cell;
        g.buf = buf;
        g.p = p;
        g.rows = rows;
        g.off = off;
        int chunks = Math.min(workers.threads(), rows * buf.gh / Workers.PARALLEL_MIN_ELEMENTS);
        try {
            if (chunks <= 1) {
                g.gateRows(0, rows);
            } else {
                g.chunk = (rows + chunks - 1) / chunks;
                workers.forEach(chunks, g);
            }
        } finally {
            g.buf = null;
            g.p = null;
        }
    }

    /**
     * One call of fused gate math: what its worker tasks read, set by {@link #runGates} before
     * they start, and task {@code i}'s share of the rows.
     */
    private static final class GateCall implements Workers.Task {
        private int stage;
        private boolean save;
        private Cell cell;
        private LayerBuffers buf;
        private Params p;
        private int rows;
        private int off;
        private int chunk;

        @Override
        public void run(int i) {
            int from = i * chunk;
            int to = Math.min(rows, from + chunk);
            if (from < to) {
                gateRows(from, to);
            }
        }

        void gateRows(int from, int to) {
            CpuLayer.gateRows(stage, save, cell, buf, p, off, from, to);
        }
    }

    /**
     * One stage of fused gate math over rows {@code [from, to)} of the step whose packed rows
     * start at {@code off}: what {@link GateCall} runs per task and {@link RowLoop} per lane.
     */
    private static void gateRows(int stage, boolean save, Cell cell, LayerBuffers b, Params p, int off, int from,
                                 int to) {
        int hs = b.hidden;
        // Saving: previous and next states in the packed rows; inference: the running state in place.
        int st = save ? off : 0;
        float[] hPrev = save ? b.hPrev : b.h;
        float[] cPrev = save ? b.cPrev : b.c;
        float[] cNext = save ? b.cNext : b.c;
        switch (stage) {
            case FORWARD -> {
                switch (cell) {
                    case RNN_TANH, RNN_RELU -> GateMath.rnnForward(cell == Cell.RNN_RELU, from, to, off, hs, b.gates,
                            b.hg, p.bHh(), b.h);
                    case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> GateMath.lstmForward(cell == Cell.LSTM_COUPLED, from, to,
                            off, st, hs, b.gates, b.hg, p.bHh(), p.peep(), cPrev, cNext, b.h, b.c);
                    case GRU -> GateMath.gruForward(from, to, off, st, hs, b.gates, b.hg, p.bHh(), hPrev, b.extra, b.h);
                    case GRU_ORIGINAL -> GateMath.gruOriginalOutput(from, to, off, st, hs, b.gates, b.hg, p.bHh(),
                            hPrev, b.h);
                }
            }
            case GRU_ORIGINAL_GATES -> GateMath.gruOriginalGates(from, to, off, st, hs, b.gates, b.hg, p.bHh(), hPrev,
                    b.extra);
            case BACKWARD -> {
                switch (cell) {
                    case RNN_TANH, RNN_RELU -> GateMath.rnnBackward(cell == Cell.RNN_RELU, from, to, off, hs, b.gates,
                            b.dh, b.dGx);
                    case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> GateMath.lstmBackward(cell == Cell.LSTM_COUPLED, from, to,
                            off, hs, b.gates, p.peep(), b.cPrev, b.cNext, b.dh, b.dc, b.dGx);
                    case GRU -> GateMath.gruBackward(from, to, off, hs, b.gates, b.hPrev, b.extra, b.dh, b.dGx, b.dGh);
                    case GRU_ORIGINAL -> GateMath.gruOriginalBackwardOutput(from, to, off, hs, b.gates, b.hPrev, b.dh,
                            b.dGx);
                }
            }
            case GRU_ORIGINAL_BACKWARD_GATES -> GateMath.gruOriginalBackwardGates(from, to, off, hs, b.gates, b.hPrev,
                    b.dRh, b.dh, b.dGx);
            default -> throw new IllegalStateException("unknown gate stage " + stage);
        }
    }

    /** Saves rows {@code [lo, hi)} of the running h (and c) as the previous state of the step at {@code off}. */
    private static void saveStateRows(LayerBuffers b, int off, int lo, int hi) {
        int hs = b.hidden;
        System.arraycopy(b.h, lo * hs, b.hPrev, (off + lo) * hs, (hi - lo) * hs);
        if (b.c != null) {
            System.arraycopy(b.c, lo * hs, b.cPrev, (off + lo) * hs, (hi - lo) * hs);
        }
    }

    /** Writes rows {@code [lo, hi)} of the running h as step s's output rows of y. */
    private static void writeOutputRows(StepPlan plan, int s, float[] h, int hs, int lo, int hi, float[] y, int yStride,
                                        int yCol) {
        for (int j = lo; j < hi; j++) {
            System.arraycopy(h, j * hs, y, plan.denseRow(s, j) * yStride + yCol, hs);
        }
    }

    /** Adds step s's rows {@code [lo, hi)} of dy (if any) into the running dh. */
    private static void addOutputGradientRows(StepPlan plan, int s, float[] dy, int dyStride, int dyCol, float[] dh,
                                              int hs, int lo, int hi) {
        if (dy == null) {
            return;
        }
        for (int j = lo; j < hi; j++) {
            int src = plan.denseRow(s, j) * dyStride + dyCol;
            int dst = j * hs;
            for (int u = 0; u < hs; u++) {
                dh[dst + u] += dy[src + u];
            }
        }
    }

    /** Packs {@code src [T*B, width]} rows into {@code dst [N, width]} in step order. */
    private static void gatherRows(StepPlan plan, float[] src, int width, float[] dst) {
        int walked = plan.steps();
        for (int s = 0; s < walked; s++) {
            int off = plan.offset(s);
            int rows = plan.batchSize(s);
            for (int j = 0; j < rows; j++) {
                System.arraycopy(src, plan.denseRow(s, j) * width, dst, (off + j) * width, width);
            }
        }
    }

    private static void scatterAddRows(StepPlan plan, float[] src, int width, float[] dst) {
        int walked = plan.steps();
        for (int s = 0; s < walked; s++) {
            int off = plan.offset(s);
            int rows = plan.batchSize(s);
            for (int j = 0; j < rows; j++) {
                int d = plan.denseRow(s, j) * width;
                int r = (off + j) * width;
                for (int u = 0; u < width; u++) {
                    dst[d + u] += src[r + u];
                }
            }
        }
    }

    /** {@code packed[j] = state[perm(j)]}, or zeros when {@code state} is null. */
    private static void loadState(StepPlan plan, float[] state, float[] packed, int hs) {
        int batch = plan.batch();
        for (int j = 0; j < batch; j++) {
            if (state == null) {
                Arrays.fill(packed, j * hs, (j + 1) * hs, 0f);
            } else {
                System.arraycopy(state, plan.perm(j) * hs, packed, j * hs, hs);
            }
        }
    }

    private static void storeState(StepPlan plan, float[] packed, float[] state, int hs) {
        if (state == null) {
            return;
        }
        int batch = plan.batch();
        for (int j = 0; j < batch; j++) {
            System.arraycopy(packed, j * hs, state, plan.perm(j) * hs, hs);
        }
    }

    /**
     * {@code sums[c] = Σ_r m[r, c]} and {@code out[c] += sums[c]}, rows summed in ascending order
     * from zero: the same bits at any thread count. The columns are cut into one run per worker
     * (whole cache lines), each read row after row: narrower column chunks, read down 6400 rows
     * with a stride of 8 KB, measured slower than one thread streaming the rows.
     */
    private void addColumnSums(float[] m, int rows, int cols, float[] sums, float[] out) {
        ColumnSumCall cs = columnSumCall;
        cs.m = m;
        cs.rows = rows;
        cs.cols = cols;
        cs.sums = sums;
        cs.out = out;
        cs.chunk = workers.columnChunk(cols);
        try {
            workers.forEachColumnChunk(rows, cols, cs);
        } finally {
            cs.m = null;
            cs.sums = null;
            cs.out = null;
        }
    }

    /** One call of {@link #addColumnSums}: its operands, and task {@code i}'s run of columns. */
    private static final class ColumnSumCall implements Workers.Task {
        private int chunk;
        private float[] m;
        private int rows;
        private int cols;
        private float[] sums;
        private float[] out;

        @Override
        public void run(int i) {
            int c0 = i * chunk;
            int c1 = Math.min(cols, c0 + chunk);
            Arrays.fill(sums, c0, c1, 0f);
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                for (int c = c0; c < c1; c++) {
                    sums[c] += m[base + c];
                }
            }
            for (int c = c0; c < c1; c++) {
                out[c] += sums[c];
            }
        }
    }

    /** {@code dp_i += Σ da_i⊙c_{t-1}}, {@code dp_f += Σ da_f⊙c_{t-1}}, {@code dp_o += Σ da_o⊙c_t}. */
    private static void addPeepholeGrads(float[] dG, float[] cPrev, float[] cNext, int rows, int hs, float[] dp) {
        int gh = 4 * hs;
        for (int r = 0; r < rows; r++) {
            int g = r * gh;
            int sr = r * hs;
            for (int u = 0; u < hs; u++) {
                float cp = cPrev[sr + u];
                dp[u] += dG[g + u] * cp;
                dp[hs + u] += dG[g + hs + u] * cp;
                dp[2 * hs + u] += dG[g + 3 * hs + u] * cNext[sr + u];
            }
        }
    }

    /**
     * What a time loop's worker tasks read of one layer call (the sliced and the row loops):
     * set by {@link #forwardCall} or {@link #backwardCall}, then the tasks run, then
     * {@link #runTasks} clears the references. One instance per loop object; calls are serialized.
     */
    private abstract class LoopCall implements Workers.Task {
        /** One GEMM call object per task, so that tasks run their per-step GEMMs side by side. */
        final Sgemm.Call[] calls;
        boolean save;
        boolean backward;
        Cell cell;
        LayerBuffers buf;
        /** W_hh packed for this call's per-step GEMMs. */
        Sgemm.PackedB recurrent;
        Params p;
        StepPlan plan;
        float[] y;
        int yStride;
        int yCol;
        float[] dy;
        int dyStride;
        int dyCol;

        LoopCall(int threads) {
            calls = new Sgemm.Call[threads];
            for (int i = 0; i < threads; i++) {
                calls[i] = new Sgemm.Call();
            }
        }

        void forwardCall(boolean save, Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan,
                         float[] y, int yStride, int yCol) {
            this.backward = false;
            this.save = save;
            this.y = y;
            this.yStride = yStride;
            this.yCol = yCol;
            operands(cell, buf, recurrent, p, plan);
        }

        void backwardCall(Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan, float[] dy,
                          int dyStride, int dyCol) {
            this.backward = true;
            this.save = true;
            this.dy = dy;
            this.dyStride = dyStride;
            this.dyCol = dyCol;
            operands(cell, buf, recurrent, p, plan);
        }

        private void operands(Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan) {
            this.cell = cell;
            this.buf = buf;
            this.recurrent = recurrent;
            this.p = p;
            this.plan = plan;
        }

        /** Runs {@code tasks} tasks of this call on the workers, then drops the call's arrays. */
        void runTasks(int tasks) {
            try {
                workers.forEach(tasks, this);
            } finally {
                buf = null;
                recurrent = null;
                p = null;
                y = null;
                dy = null;
            }
        }
    }

    /**
     * The forward's time loop for few sequences: each of up to {@code threads} tasks owns a slice
     * of the hidden units (whole GEMM strips) for the whole loop. Per step a task computes its
     * units' columns of every gate block, {@code Hg[:, b*H + u0 .. b*H + u1) = h_{t-1}·W_hhᵀ} (one
     * {@link Sgemm#columns} call for all blocks, packing h_{t-1} once; W_hh packed once per call,
     * its slice staying in the task's cache), runs the gate math of its units ({@link GateMath}'s unit-slice forms), saves its
     * units when the forward saves, writes its units of y, and waits at one barrier. The running h
     * is double-buffered ({@code h}, {@code hAlt}: step s reads one and writes the other), so a
     * fast task writing step s+1 never overwrites what a slow one still reads for step s; c and
     * the saved rows are only ever touched by the owner of their units. One hand-over per call
     * instead of two per step, and no GEMM packing of A shared across threads.
     *
     * <p>Bits: each element of Hg is summed in the order {@link Sgemm} always uses, and the gate
     * math is lane-wise (Note [Unit slices]), so y, the final state and every saved buffer are
     * those of the one-thread loop, at any thread count.
     *
     * <p>Per-call state lives here, set by {@link #run} before the tasks start; one instance per
     * layer object, whose calls are serialized.
     */
    private final class SlicedLoop extends LoopCall {
        private final StepBarrier barrier = new StepBarrier();
        private int tasks;
        private int strips; // H / NR

        SlicedLoop(int threads) {
            super(threads);
        }

        void run(int slices, boolean save, Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan,
                 float[] y, int yStride, int yCol) {
            int hs = buf.hidden;
            buf.ensureAlternateH();
            forwardCall(save, cell, buf, recurrent, p, plan, y, yStride, yCol);
            this.strips = hs / Sgemm.NR;
            this.tasks = slices;
            barrier.reset(tasks);
            runTasks(tasks);
            // Row j ran L_j steps and last wrote the buffer of parity L_j: bring the odd ones home.
            int walked = plan.steps();
            for (int s = 0; s < walked; s++) {
                int next = s + 1 < walked ? plan.batchSize(s + 1) : 0;
                if (((s + 1) & 1) == 1) {
                    System.arraycopy(buf.hAlt, next * hs, buf.h, next * hs, (plan.batchSize(s) - next) * hs);
                }
            }
        }

        /**
         * The backward's time loop, sliced the same way: per step (T-1 down to 0) a task adds dy
         * into its units of dh, runs the gate backward of its units (its columns of dG, its units
         * of dc), waits at the barrier (the GEMM reads every column of dG_s), then computes its
         * units of {@code dh[0..B_s) = dG_s·W_hh} (GRU: its recurrent-side dGh, added to the
         * {@code z⊙dh} the gate backward left). One barrier per step: a fast task writing the
         * rows of dG for step s-1 never touches the rows of step s that a slow one still reads,
         * and dh and dc columns are each touched only by their owner.
         */
        void runBackward(int slices, Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan,
                         float[] dy, int dyStride, int dyCol) {
            backwardCall(cell, buf, recurrent, p, plan, dy, dyStride, dyCol);
            this.strips = buf.hidden / Sgemm.NR;
            this.tasks = slices;
            barrier.reset(tasks);
            runTasks(tasks);
        }

        @Override
        public void run(int task) {
            try {
                if (backward) {
                    backLoop(task);
                } else {
                    loop(task);
                }
            } catch (Throwable t) {
                barrier.breakBarrier();
                throw t;
            }
        }

        private void loop(int task) {
            LayerBuffers b = buf;
            Params w = p;
            StepPlan pl = plan;
            Cell c = cell;
            int hs = b.hidden;
            int gh = b.gh;
            int blocks = c.gates();
            int u0 = Sgemm.NR * (task * strips / tasks);
            int u1 = Sgemm.NR * ((task + 1) * strips / tasks);
            int n = u1 - u0;
            Sgemm.Call call = calls[task];
            boolean lstm = c.hasCellState();
            int walked = pl.steps();
            for (int s = 0; s < walked; s++) {
                int rows = pl.batchSize(s);
                int off = pl.offset(s);
                float[] hCur = (s & 1) == 0 ? b.h : b.hAlt;
                float[] hNext = (s & 1) == 0 ? b.hAlt : b.h;
                int st = save ? off : 0;
                if (save) {
                    for (int j = 0; j < rows; j++) {
                        System.arraycopy(hCur, j * hs + u0, b.hPrev, (off + j) * hs + u0, n);
                        if (lstm) {
                            System.arraycopy(b.c, j * hs + u0, b.cPrev, (off + j) * hs + u0, n);
                        }
                    }
                }
                // Its units of every gate block, A (h_{t-1}) packed once for all of them.
                sgemm.columns(call, false, rows, 1f, hCur, 0, hs, recurrent, u0, n, blocks, hs, 0f, b.hg, 0, gh);
                switch (c) {
                    case RNN_TANH, RNN_RELU -> GateMath.rnnForward(c == Cell.RNN_RELU, 0, rows, off, hs, u0, u1,
                            b.gates, b.hg, w.bHh(), hNext);
                    case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> GateMath.lstmForward(c == Cell.LSTM_COUPLED, 0, rows, off,
                            st, hs, u0, u1, b.gates, b.hg, w.bHh(), w.peep(), save ? b.cPrev : b.c,
                            save ? b.cNext : b.c, hNext, b.c);
                    case GRU -> GateMath.gruForward(0, rows, off, st, hs, u0, u1, b.gates, b.hg, w.bHh(),
                            save ? b.hPrev : hCur, b.extra, hNext);
                    default -> throw new IllegalStateException(c.id() + " does not run the sliced loop");
                }
                for (int j = 0; j < rows; j++) {
                    System.arraycopy(hNext, j * hs + u0, y, pl.denseRow(s, j) * yStride + yCol + u0, n);
                }
                barrier.await();
            }
        }
    
        private void backLoop(int task) {
            LayerBuffers b = buf;
            Params w = p;
            StepPlan pl = plan;
            Cell c = cell;
            int hs = b.hidden;
            int gh = b.gh;
            int u0 = Sgemm.NR * (task * strips / tasks);
            int u1 = Sgemm.NR * ((task + 1) * strips / tasks);
            int n = u1 - u0;
            Sgemm.Call call = calls[task];
            float[] dG = b.dGx;
            for (int s = pl.steps() - 1; s >= 0; s--) {
                int rows = pl.batchSize(s);
                int off = pl.offset(s);
                if (dy != null) {
                    for (int j = 0; j < rows; j++) {
                        int src = pl.denseRow(s, j) * dyStride + dyCol + u0;
                        int dst = j * hs + u0;
                        for (int u = 0; u < n; u++) {
                            b.dh[dst + u] += dy[src + u];
                        }
                    }
                }
                switch (c) {
                    case RNN_TANH, RNN_RELU -> GateMath.rnnBackward(c == Cell.RNN_RELU, 0, rows, off, hs, u0, u1,
                            b.gates, b.dh, b.dGx);
                    case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> GateMath.lstmBackward(c == Cell.LSTM_COUPLED, 0, rows,
                            off, hs, u0, u1, b.gates, w.peep(), b.cPrev, b.cNext, b.dh, b.dc, b.dGx);
                    case GRU -> GateMath.gruBackward(0, rows, off, hs, u0, u1, b.gates, b.hPrev, b.extra, b.dh, b.dGx,
                            b.dGh);
                    default -> throw new IllegalStateException(c.id() + " does not run the sliced loop");
                }
                barrier.await();
                if (c == Cell.GRU) {
                    sgemm.columns(call, false, rows, 1f, b.dGh, off * gh, gh, recurrent, u0, n, 1f, b.dh, 0, hs);
                } else {
                    sgemm.columns(call, false, rows, 1f, dG, off * gh, gh, recurrent, u0, n, 0f, b.dh, 0, hs);
                }
            }
        }
    }

    /**
     * The time loops by rows: the batch (packed order) cut into one block of consecutive rows per
     * task, each block walking every step on its own, with its own per-step GEMMs
     * ({@link Sgemm#columns} on its rows, all columns of the packed W_hh) and gate math. Sequences
     * never meet inside the time loop (a row of each per-step GEMM reads only that row of h_{t-1}
     * or of dG_t, and the gate math works row by row), so the blocks need no barrier at all: one
     * hand-over to the workers per call, where the stepwise loop hands over its GEMM and its gate
     * math at every step, and each block's gate math reads the pre-activations its own GEMM has
     * just left in its cache. Each thread streams the whole of W_hh at every step (the sliced loop
     * reads only its slice), which is why few sequences of wide layers slice instead.
     *
     * <p>Bits: a row's GEMM result depends neither on the other rows nor on the kernel that
     * computes it (Sgemm's Determinism), and the gate math is row-wise, so y, the final state, the
     * saved buffers and the gradients are those of the stepwise loop at any thread count.
     * Sequences end at their lengths: the packed rows still running at step s are
     * {@code [0, B_s)}, so a block stops (forward) or starts (backward) where B_s falls below it.
     *
     * <p>Per-call state lives here, set before the tasks start; calls are serialized.
     */
    private final class RowLoop extends LoopCall {
        private int chunk;

        RowLoop(int threads) {
            super(threads);
        }

        void runForward(int tasks, boolean save, Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p,
                        StepPlan plan, float[] y, int yStride, int yCol) {
            forwardCall(save, cell, buf, recurrent, p, plan, y, yStride, yCol);
            this.chunk = (plan.batch() + tasks - 1) / tasks;
            runTasks(tasks);
        }

        void runBackward(int tasks, Cell cell, LayerBuffers buf, Sgemm.PackedB recurrent, Params p, StepPlan plan,
                         float[] dy, int dyStride, int dyCol) {
            backwardCall(cell, buf, recurrent, p, plan, dy, dyStride, dyCol);
            this.chunk = (plan.batch() + tasks - 1) / tasks;
            runTasks(tasks);
        }

        @Override
        public void run(int task) {
            int r0 = task * chunk;
            int r1 = Math.min(plan.batch(), r0 + chunk);
            if (r0 >= r1) {
                return;
            }
            if (backward) {
                backwardRows(calls[task], r0, r1);
            } else {
                forwardRows(calls[task], r0, r1);
            }
        }

        /** Every step of the forward for packed rows {@code [r0, r1)}. */
        private void forwardRows(Sgemm.Call call, int r0, int r1) {
            LayerBuffers b = buf;
            Params w = p;
            StepPlan pl = plan;
            Cell c = cell;
            int hs = b.hidden;
            int gh = b.gh;
            boolean original = c == Cell.GRU_ORIGINAL;
            int recurrentCols = original ? 2 * hs : gh; // [r, z] only for the original GRU
            int walked = pl.steps();
            for (int s = 0; s < walked; s++) {
                int hi = Math.min(r1, pl.batchSize(s));
                if (hi <= r0) {
                    break; // this block's sequences have all ended
                }
                int nb = hi - r0;
                int off = pl.offset(s);
                int st = save ? off : 0;
                if (save) {
                    saveStateRows(b, off, r0, hi);
                }
                sgemm.columns(call, false, nb, 1f, b.h, r0 * hs, hs, recurrent, 0, recurrentCols, 0f, b.hg, r0 * gh,
                        gh);
                if (original) {
                    gateRows(GRU_ORIGINAL_GATES, save, c, b, w, off, r0, hi);
                    sgemm.columns(call, false, nb, 1f, b.extra, (st + r0) * hs, hs, b.recurrentN, 0, hs, 0f, b.hg,
                            r0 * gh + 2 * hs, gh);
                }
                gateRows(FORWARD, save, c, b, w, off, r0, hi);
                writeOutputRows(pl, s, b.h, hs, r0, hi, y, yStride, yCol);
            }
        }

        /** Every step of the backward (T-1 down to 0) for packed rows {@code [r0, r1)}. */
        private void backwardRows(Sgemm.Call call, int r0, int r1) {
            LayerBuffers b = buf;
            Params w = p;
            StepPlan pl = plan;
            Cell c = cell;
            int hs = b.hidden;
            int gh = b.gh;
            float[] dG = b.dGx;
            for (int s = pl.steps() - 1; s >= 0; s--) {
                int hi = Math.min(r1, pl.batchSize(s));
                if (hi <= r0) {
                    continue; // this block's sequences have not started (in reverse) yet
                }
                int nb = hi - r0;
                int off = pl.offset(s);
                int at = (off + r0) * gh;
                addOutputGradientRows(pl, s, dy, dyStride, dyCol, b.dh, hs, r0, hi);
                gateRows(BACKWARD, true, c, b, w, off, r0, hi);
                switch (c) {
                    case RNN_TANH, RNN_RELU, LSTM, LSTM_PEEPHOLE, LSTM_COUPLED ->
                            sgemm.columns(call, false, nb, 1f, dG, at, gh, recurrent, 0, hs, 0f, b.dh, r0 * hs, hs);
                    case GRU -> sgemm.columns(call, false, nb, 1f, b.dGh, at, gh, recurrent, 0, hs, 1f, b.dh, r0 * hs,
                            hs);
                    case GRU_ORIGINAL -> {
                        sgemm.columns(call, false, nb, 1f, dG, at + 2 * hs, gh, b.recurrentN, 0, hs, 0f, b.dRh,
                                r0 * hs, hs);
                        gateRows(GRU_ORIGINAL_BACKWARD_GATES, true, c, b, w, off, r0, hi);
                        sgemm.columns(call, false, nb, 1f, dG, at, gh, recurrent, 0, hs, 1f, b.dh, r0 * hs, hs);
                    }
                }
            }
        }
    }
}
