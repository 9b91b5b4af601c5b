package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.StepPlan;
import dev.recur.cuda.CudaLayerBuffers.GraphKey;
import jcuda.driver.CUstream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One direction of one recurrent layer over whole sequences, on the GPU: DESIGN.md's recipe, and
 * engine-cpu's CpuLayer step for step (same buffers, same order of work, same kernels' CPU twins).
 *
 * <pre>
 * forward:  Xg[N, G*H] = X[N, I]·W_ihᵀ + b_ih                       (bias rows, then one GEMM, beta 1)
 *           for s in 0..S-1:  Hg = h[0..B_s)·W_hhᵀ                   (one cuBLAS GEMM per step)
 *                             gates, h, c = fused(Xg_s, Hg, b_hh)     (one kernel, cells.cu)
 *                             y[rows of step s] = h                   (storeStepOutput)
 * backward: for s in S-1..0:  dh += dy[rows of step s]               (addStepOutputGradient)
 *                             dG_s = fused'(dh, dc, saved gates)      (one kernel)
 *                             dh[0..B_s) = dG_s·W_hh                  (one GEMM per step)
 *           dW_ih += dGᵀ·X,  dW_hh += dGᵀ·H_prev,  dX = dG·W_ih      (one GEMM each)
 *           db_ih += colsum(dG),  db_hh += colsum(dG)                 (addColumnSums, deterministic)
 * </pre>
 * N is the number of real (unpadded) steps over the batch and B_s the number of sequences still
 * running at step s ({@link StepPlan}); the original GRU needs a second, smaller GEMM and a second
 * kernel per step for {@code W_hn (r⊙h)}, forward and backward, as on the CPU. Addresses are
 * device addresses; an element offset e into a float buffer at p is {@code p + 4·e}.
 *
 * <h2>Note [Graphs of the time loop]</h2>
 * The time loop is two to four launches per step from the host; for small batches the host, not
 * the GPU, sets the pace. So each loop (forward, backward) is captured into a CUDA graph
 * ({@link CudaGraph}) the first time a workspace direction sees it, and the graph is launched
 * again whenever the same loop comes back. "The same loop" is decided by a {@link GraphKey} made
 * of every host value the loop enqueues its work with (see {@link #forwardKey} and
 * {@link #backwardKey}, written beside the loops they describe): the cell, the sizes, the batch
 * size of every step, strides, the stream, and the device addresses of the parameters, the
 * outputs and the workspace buffers. The plan's index arrays are read by the kernels from device
 * memory, so a new perm with the same step sizes reuses the graph. What comes before and after
 * the loop (the input GEMM, gathers, state loads, the weight-gradient GEMMs) runs as usual.
 *
 * <p>Capture happens on a private capture stream with its own cuBLAS handle and workspace
 * ({@link CudaBackend#captureStreamFor}), never on the main or second stream, so that work other
 * threads enqueue meanwhile cannot slip into a graph; the graph is then launched on the stream
 * the loop belongs to. The captured work is the same code, with the same arguments, as the
 * stepwise loop, so both paths give the same bits (a GPU test checks it).
 *
 * <p>Every loop leaves a {@link LayerPath} record: captured, replayed, or stepwise with the
 * reason (graphs off, a single step, a capture the driver or cuBLAS refused). After
 * {@link CudaLayerBuffers#MAX_FAILED_CAPTURES} failed captures in a row a direction stops trying,
 * and its records say so.
 *
 * <h2>Streams</h2>
 * A one-direction op runs on the main stream. A bidirectional op enqueues what both directions
 * need from the host (plans, index uploads, buffer allocation) on the main stream, makes the
 * second stream wait for it, runs the forward direction on the main stream and the reverse
 * direction on the second, each with its own buffers and cuBLAS handle, and makes the main stream
 * wait for the second before it returns (CudaBackend's contract). The input gradient of the two
 * directions is summed on the main stream in a fixed order: the forward direction's, then the
 * reverse direction's packed rows added through its dense rows. When the two directions would
 * write the same output tensor (the caller passed one tensor for both), they run one after the
 * other on the main stream instead, as the CPU engine does.
 *
 * <h2>Determinism</h2>
 * Fixed launch shapes, no float atomics (the column sums and the scatter are deterministic
 * kernels), one cuBLAS handle per stream: the same inputs give the same bits, run after run.
 * Nothing here allocates after the first forward and the first backward on a workspace.
 */
final class CudaLayer {

    /** Weights or gradients of one direction as device addresses; {@code peep} is 0 without peepholes. */
    record Params(long wIh, long wHh, long bIh, long bHh, long peep) {
    }

    /** What a forward needs for one direction: initial state (0: zeros), parameters, final state (0: not wanted). */
    record Forward(long h0, long c0, Params params, long hT, long cT) {
    }

    /** What a backward needs for one direction: gradients reaching the final state (0: none), outputs (0: not wanted). */
    record Backward(Params params, long dhT, long dcT, long dh0, long dc0, Params grads) {
    }

    /** How many {@link LayerPath} records {@link #paths()} keeps. */
    static final int MAX_PATHS = 256;

    private static final long F = Float.BYTES;
    private static final int PHASE_FORWARD = 1;
    private static final int PHASE_BACKWARD = 2;

    private final LayerDevice device;
    private final boolean graphs;
    private final ArrayDeque<LayerPath> paths = new ArrayDeque<>();
    /** Buffers whose graphs must be destroyed before the backend's context goes. */
    private final Set<CudaLayerBuffers> open = Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * @param device the device to run on ({@link CudaBackend}'s, or a simulated one in host tests)
     * @param graphs run the time loops as CUDA graphs (Note [Graphs of the time loop]); false: stepwise
     */
    CudaLayer(LayerDevice device, boolean graphs) {
        this.device = device;
        this.graphs = graphs;
    }

    // ---------------------------------------------------------------- one direction

    /**
     * One direction on the main stream.
     *
     * @param steps  T of x
     * @param x      [T, B, I]
     * @param y      receives h_t at {@code y[(t*B + b)*yStride + yCol + u]}, {@code [T, B, yStride]}; with
     *               {@code lengths}, it is first set to zero (padded steps output zero)
     * @param buf    this direction's buffers ({@link #buffers})
     */
    synchronized void forward(String op, Cell cell, Direction dir, int steps, int batch, long x, int[] lengths,
                              Forward f, long y, int yStride, int yCol, CudaLayerBuffers buf) {
        device.enter(op);
        if (lengths != null) {
            device.memsetD32(y, 0, (long) steps * batch * yStride, device.mainStream());
        }
        prepare(buf, dir, steps, batch, lengths);
        runForward(op, cell, x, f, y, yStride, yCol, buf, device.mainStream());
    }

    /**
     * The backward of the last {@link #forward} on {@code buf}, on the main stream.
     *
     * @param dy     gradient at {@code dy[(t*B + b)*dyStride + dyCol + u]}, or 0
     * @param dx     [T, B, I], overwritten; or 0
     */
    synchronized void backward(String op, Cell cell, int steps, int batch, long x, CudaLayerBuffers buf, long dy,
                               int dyStride, int dyCol, Backward b, long dx) {
        device.enter(op);
        buf.ensureBackward();
        runBackward(op, cell, steps, batch, x, buf, dy, dyStride, dyCol, b, dx, false, device.mainStream());
    }

    // ---------------------------------------------------------------- both directions

    /**
     * Both directions, the reverse one on the second stream. {@code y [T, B, 2H]} is set to zero
     * first (padded steps stay zero); the forward direction writes columns {@code [0, H)}, the
     * reverse one {@code [H, 2H)}.
     */
    synchronized void bidirectionalForward(String op, Cell cell, int steps, int batch, long x, int[] lengths,
                                           Forward fwd, Forward rev, long y, CudaLayerBuffers bufF,
                                           CudaLayerBuffers bufR) {
        device.enter(op);
        int hs = bufF.hidden;
        device.memsetD32(y, 0, (long) steps * batch * 2 * hs, device.mainStream());
        // Plans, uploads and allocations first, on the main stream, so the second stream sees them.
        prepare(bufF, Direction.FORWARD, steps, batch, lengths);
        prepare(bufR, Direction.REVERSE, steps, batch, lengths);
        boolean together = !shareOutputs(new long[] {fwd.hT(), fwd.cT()}, new long[] {rev.hT(), rev.cT()});
        bothDirections(together, s -> runForward(op, cell, x, fwd, y, 2 * hs, 0, bufF, s),
                s -> runForward(op, cell, x, rev, y, 2 * hs, hs, bufR, s));
    }

    /**
     * The backward of the last {@link #bidirectionalForward}: {@code dy [T, B, 2H]} (or 0),
     * {@code dx [T, B, I]} (or 0) receives the sum of both directions' input gradients.
     */
    synchronized void bidirectionalBackward(String op, Cell cell, int steps, int batch, long x, long dy, long dx,
                                            Backward fwd, Backward rev, CudaLayerBuffers bufF,
                                            CudaLayerBuffers bufR) {
        device.enter(op);
        int hs = bufF.hidden;
        bufF.ensureBackward();
        bufR.ensureBackward();
        boolean together = !shareOutputs(outputs(fwd), outputs(rev));
        bothDirections(together, s -> runBackward(op, cell, steps, batch, x, bufF, dy, 2 * hs, 0, fwd, dx, false, s),
                s -> runBackward(op, cell, steps, batch, x, bufR, dy, 2 * hs, hs, rev, dx, true, s));
        if (dx != 0) {
            // dx = dx_forward (written above), then += dx_reverse: a fixed order, no atomics.
            device.kernels().scatterAddRows(device.mainStream().handle(), bufR.plan.total(), bufR.inputSize,
                    bufR.denseRows(), bufR.dxPacked, dx);
        }
    }

    /**
     * Runs {@code forward} (the forward direction) on the main stream and {@code reverse} on the
     * second stream when {@code together}, with the second stream waiting for the main stream's
     * work before it and the main stream for the second's after it; otherwise both on the main
     * stream, one after the other.
     */
    private void bothDirections(boolean together, Consumer<CudaStream> forward, Consumer<CudaStream> reverse) {
        CudaStream reverseStream = together ? device.secondStream() : device.mainStream();
        if (together) {
            device.secondWaitsForMain();
        }
        try {
            forward.accept(device.mainStream());
            reverse.accept(reverseStream);
        } finally {
            if (together) {
                device.mainWaitsForSecond();
            }
        }
    }

    // ---------------------------------------------------------------- the work of one direction

    /** Builds the plan and uploads its index arrays, on the main stream. */
    private void prepare(CudaLayerBuffers buf, Direction dir, int steps, int batch, int[] lengths) {
        buf.plan.build(dir, steps, batch, lengths);
        buf.upload();
    }

    private void runForward(String op, Cell cell, long x, Forward f, long y, int yStride, int yCol,
                            CudaLayerBuffers buf, CudaStream stream) {
        StepPlan plan = buf.plan;
        CudaKernels k = device.kernels();
                CUstream cs = stream.handle();
        Params p = f.params();
        int in = buf.inputSize;
        int gh = buf.gh;
        int n = plan.total();

        long xs = x;
        if (!plan.isIdentity()) {
            k.gatherRows(cs, n, in, buf.denseRows(), x, buf.xPacked);
            xs = buf.xPacked;
        }
        // Xg = X·W_ihᵀ + b_ih for every real step at once: the bias rows, then the GEMM adds to them.
        k.broadcastRows(cs, n, gh, p.bIh(), buf.gates);
        device.gemm(stream, false, true, n, gh, in, 1f, xs, in, p.wIh(), in, 1f, buf.gates, gh);

        loadState(k, cs, buf, f.h0(), f.c0(), buf.h, buf.c);
        runLoop(op, cell, buf, stream, forwardKey(cell, p, y, yStride, yCol, buf, stream),
                s -> forwardSteps(cell, p, y, yStride, yCol, buf, s));
        storeState(k, cs, buf, buf.h, buf.c, f.hT(), f.cT());
    }

    /**
     * Loads the state the time loop starts from ({@code h}, and {@code c} when {@code cBuf} is not
     * 0) into {@code hBuf} and {@code cBuf}, in the plan's batch order.
     */
    private static void loadState(CudaKernels k, CUstream cs, CudaLayerBuffers buf, long h, long c, long hBuf,
                                  long cBuf) {
        k.loadState(cs, buf.plan.batch(), buf.hidden, buf.perm(), h, hBuf);
        if (cBuf != 0) {
            k.loadState(cs, buf.plan.batch(), buf.hidden, buf.perm(), c, cBuf);
        }
    }

    /** Stores the state the time loop ended with, {@link #loadState}'s inverse (into {@code h} and {@code c}). */
    private static void storeState(CudaKernels k, CUstream cs, CudaLayerBuffers buf, long hBuf, long cBuf, long h,
                                   long c) {
        k.storeState(cs, buf.plan.batch(), buf.hidden, buf.perm(), hBuf, h);
        if (cBuf != 0) {
            k.storeState(cs, buf.plan.batch(), buf.hidden, buf.perm(), cBuf, c);
        }
    }

    /** The forward time loop, enqueued on {@code stream} (the layer's stream, or a capture stream). */
    private void forwardSteps(Cell cell, Params p, long y, int yStride, int yCol, CudaLayerBuffers buf,
                              CudaStream stream) {
        StepPlan plan = buf.plan;
        CudaKernels k = device.kernels();
                CUstream cs = stream.handle();
        int hs = buf.hidden;
        int gh = buf.gh;
        for (int s = 0; s < plan.steps(); s++) {
            int rows = plan.batchSize(s);
            int off = plan.offset(s);
            device.copy(buf.hPrev + F * off * hs, buf.h, F * rows * hs, stream);
            if (buf.c != 0) {
                device.copy(buf.cPrev + F * off * hs, buf.c, F * rows * hs, stream);
            }
            switch (cell) {
                case RNN_TANH, RNN_RELU -> {
                    device.gemm(stream, false, true, rows, gh, hs, 1f, buf.h, hs, p.wHh(), hs, 0f, buf.hg, gh);
                    k.rnnForward(cs, rows, off, hs, cell == Cell.RNN_RELU, buf.gates, buf.hg, p.bHh(), buf.h);
                }
                case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                    device.gemm(stream, false, true, rows, gh, hs, 1f, buf.h, hs, p.wHh(), hs, 0f, buf.hg, gh);
                    k.lstmForward(cs, rows, off, hs, cell == Cell.LSTM_COUPLED, buf.gates, buf.hg, p.bHh(), p.peep(),
                            buf.cPrev, buf.cNext, buf.h, buf.c);
                }
                case GRU -> {
                    device.gemm(stream, false, true, rows, gh, hs, 1f, buf.h, hs, p.wHh(), hs, 0f, buf.hg, gh);
                    k.gruForward(cs, rows, off, hs, buf.gates, buf.hg, p.bHh(), buf.hPrev, buf.extra, buf.h);
                }
                case GRU_ORIGINAL -> {
                    // [r, z] blocks from h_{t-1}, then the n block from r ⊙ h_{t-1} (rows 2H..3H of W_hh).
                    device.gemm(stream, false, true, rows, 2 * hs, hs, 1f, buf.h, hs, p.wHh(), hs, 0f, buf.hg, gh);
                    k.gruOriginalGates(cs, rows, off, hs, buf.gates, buf.hg, p.bHh(), buf.hPrev, buf.extra);
                    device.gemm(stream, false, true, rows, hs, hs, 1f, buf.extra + F * off * hs, hs,
                            p.wHh() + F * 2 * hs * hs, hs, 0f, buf.hg + F * 2 * hs, gh);
                    k.gruOriginalOutput(cs, rows, off, hs, buf.gates, buf.hg, p.bHh(), buf.hPrev, buf.h);
                }
            }
            k.storeStepOutput(cs, rows, off, hs, yStride, yCol, buf.denseRows(), buf.h, y);
        }
    }

    /** Every host value {@link #forwardSteps} enqueues work with (Note [Graphs of the time loop]). */
    private GraphKey forwardKey(Cell cell, Params p, long y, int yStride, int yCol, CudaLayerBuffers buf,
                                CudaStream stream) {
        long[] fixed = {PHASE_FORWARD, cell.ordinal(), buf.hidden, buf.gh, streamIndex(stream), y, yStride, yCol,
                buf.denseRows(), p.wHh(), p.bHh(), p.peep(), buf.gates, buf.hPrev, buf.cPrev, buf.cNext, buf.extra,
                buf.hg, buf.h, buf.c};
        return key(fixed, buf.plan);
    }

    /**
     * @param dxPackedOnly leave dX in {@code buf.dxPacked} for the caller to add (the reverse
     *                     direction of a bidirectional layer); otherwise {@code dx} is overwritten
     */
    private void runBackward(String op, Cell cell, int steps, int batch, long x, CudaLayerBuffers buf, long dy,
                             int dyStride, int dyCol, Backward b, long dx, boolean dxPackedOnly, CudaStream stream) {
        StepPlan plan = buf.plan;
        CudaKernels k = device.kernels();
                CUstream cs = stream.handle();
        Params p = b.params();
        Params g = b.grads();
        int in = buf.inputSize;
        int hs = buf.hidden;
        int gh = buf.gh;
        int n = plan.total();
        long dG = buf.dGx;

        loadState(k, cs, buf, b.dhT(), b.dcT(), buf.dh, buf.dc);
        runLoop(op, cell, buf, stream, backwardKey(cell, p, dy, dyStride, dyCol, buf, stream),
                s -> backwardSteps(cell, p, dy, dyStride, dyCol, buf, s));
        storeState(k, cs, buf, buf.dh, buf.dc, b.dh0(), b.dc0());

        // Weight gradients over all real steps at once.
        long xs = plan.isIdentity() ? x : buf.xPacked;
        device.gemm(stream, true, false, gh, in, n, 1f, dG, gh, xs, in, 1f, g.wIh(), in);
        if (cell == Cell.GRU_ORIGINAL) {
            device.gemm(stream, true, false, 2 * hs, hs, n, 1f, dG, gh, buf.hPrev, hs, 1f, g.wHh(), hs);
            device.gemm(stream, true, false, hs, hs, n, 1f, dG + F * 2 * hs, gh, buf.extra, hs, 1f,
                    g.wHh() + F * 2 * hs * hs, hs);
        } else {
            device.gemm(stream, true, false, gh, hs, n, 1f, buf.dGh, gh, buf.hPrev, hs, 1f, g.wHh(), hs);
        }
        if (buf.dGh == dG) {
            // Both biases enter the pre-activation alike: the same column sums go to both.
            k.addColumnSums(cs, n, gh, dG, g.bIh(), g.bHh());
        } else {
            k.addColumnSums(cs, n, gh, dG, g.bIh(), 0);
            k.addColumnSums(cs, n, gh, buf.dGh, g.bHh(), 0);
        }
        if (cell == Cell.LSTM_PEEPHOLE) {
            k.addPeepholeGrads(cs, n, hs, dG, buf.cPrev, buf.cNext, g.peep());
        }

        if (dx != 0) {
            if (plan.isIdentity() && !dxPackedOnly) {
                device.gemm(stream, false, false, n, in, gh, 1f, dG, gh, p.wIh(), in, 0f, dx, in);
            } else {
                device.gemm(stream, false, false, n, in, gh, 1f, dG, gh, p.wIh(), in, 0f, buf.dxPacked, in);
                if (!dxPackedOnly) {
                    device.memsetD32(dx, 0, (long) steps * batch * in, stream);
                    k.scatterAddRows(cs, n, in, buf.denseRows(), buf.dxPacked, dx);
                }
            }
        }
    }

    /** The backward time loop, enqueued on {@code stream} (the layer's stream, or a capture stream). */
    private void backwardSteps(Cell cell, Params p, long dy, int dyStride, int dyCol, CudaLayerBuffers buf,
                               CudaStream stream) {
        StepPlan plan = buf.plan;
        CudaKernels k = device.kernels();
                CUstream cs = stream.handle();
        int hs = buf.hidden;
        int gh = buf.gh;
        long dG = buf.dGx;
        for (int s = plan.steps() - 1; s >= 0; s--) {
            int rows = plan.batchSize(s);
            int off = plan.offset(s);
            if (dy != 0) {
                k.addStepOutputGradient(cs, rows, off, hs, dyStride, dyCol, buf.denseRows(), dy, buf.dh);
            }
            switch (cell) {
                case RNN_TANH, RNN_RELU -> {
                    k.rnnBackward(cs, rows, off, hs, cell == Cell.RNN_RELU, buf.gates, buf.dh, dG);
                    device.gemm(stream, false, false, rows, hs, gh, 1f, dG + F * off * gh, gh, p.wHh(), hs, 0f,
                            buf.dh, hs);
                }
                case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                    k.lstmBackward(cs, rows, off, hs, cell == Cell.LSTM_COUPLED, buf.gates, p.peep(), buf.cPrev,
                            buf.cNext, buf.dh, buf.dc, dG);
                    device.gemm(stream, false, false, rows, hs, gh, 1f, dG + F * off * gh, gh, p.wHh(), hs, 0f,
                            buf.dh, hs);
                }
                case GRU -> {
                    // The kernel leaves z ⊙ dh in dh; the GEMM adds the part through W_hh (beta 1).
                    k.gruBackward(cs, rows, off, hs, buf.gates, buf.hPrev, buf.extra, buf.dh, buf.dGx, buf.dGh);
                    device.gemm(stream, false, false, rows, hs, gh, 1f, buf.dGh + F * off * gh, gh, p.wHh(), hs, 1f,
                            buf.dh, hs);
                }
                case GRU_ORIGINAL -> {
                    k.gruOriginalBackwardOutput(cs, rows, off, hs, buf.gates, buf.hPrev, buf.dh, dG);
                    // d(r ⊙ h) = da_n · W_hn, then da_r, then dh += [da_r, da_z] · W_hh[0, 2H).
                    device.gemm(stream, false, false, rows, hs, hs, 1f, dG + F * ((long) off * gh + 2L * hs), gh,
                            p.wHh() + F * 2 * hs * hs, hs, 0f, buf.dRh, hs);
                    k.gruOriginalBackwardGates(cs, rows, off, hs, buf.gates, buf.hPrev, buf.dRh, buf.dh, dG);
                    device.gemm(stream, false, false, rows, hs, 2 * hs, 1f, dG + F * off * gh, gh, p.wHh(), hs, 1f,
                            buf.dh, hs);
                }
            }
        }
    }

    /** Every host value {@link #backwardSteps} enqueues work with (Note [Graphs of the time loop]). */
    private GraphKey backwardKey(Cell cell, Params p, long dy, int dyStride, int dyCol, CudaLayerBuffers buf,
                                 CudaStream stream) {
        long[] fixed = {PHASE_BACKWARD, cell.ordinal(), buf.hidden, buf.gh, streamIndex(stream), dy, dyStride, dyCol,
                buf.denseRows(), p.wHh(), p.peep(), buf.gates, buf.hPrev, buf.cPrev, buf.cNext, buf.extra, buf.dh,
                buf.dc, buf.dGx, buf.dGh, buf.dRh};
        return key(fixed, buf.plan);
    }

    /** {@code fixed}, then the step count and every step's batch size (the offsets follow from them). */
    private static GraphKey key(long[] fixed, StepPlan plan) {
        int steps = plan.steps();
        long[] v = new long[fixed.length + 1 + steps];
        System.arraycopy(fixed, 0, v, 0, fixed.length);
        v[fixed.length] = steps;
        for (int s = 0; s < steps; s++) {
            v[fixed.length + 1 + s] = plan.batchSize(s);
        }
        return new GraphKey(v);
    }

    private int streamIndex(CudaStream stream) {
        return stream == device.mainStream() ? 0 : 1;
    }

    // ---------------------------------------------------------------- graph or stepwise

    /**
     * Runs one time loop on {@code stream}: by replaying the graph captured for {@code key}, by
     * capturing one, or stepwise; and records which (Note [Graphs of the time loop]).
     */
    private void runLoop(String op, Cell cell, CudaLayerBuffers buf, CudaStream stream, GraphKey key,
                         Consumer<CudaStream> loop) {
        Direction dir = buf.plan.isReverse() ? Direction.REVERSE : Direction.FORWARD;
        int steps = buf.plan.steps();
        String stepwise = null;
        if (!graphs) {
            stepwise = "graphs off (-D" + CudaOptions.GRAPHS_PROPERTY + "=false)";
        } else if (steps < 2) {
            stepwise = "a single step: a graph would save nothing";
        } else if (buf.graphsOffReason() != null) {
            stepwise = buf.graphsOffReason();
        }
        if (stepwise != null) {
            loop.accept(stream);
            record(op, cell, dir, LayerPath.Kind.STEPWISE, stream, steps, stepwise);
            return;
        }
        LayerDevice.Graph graph = buf.graph(key);
        if (graph != null) {
            graph.launch(stream);
            record(op, cell, dir, LayerPath.Kind.GRAPH_REPLAYED, stream, steps, null);
            return;
        }
        CudaStream capture = device.captureStreamFor(stream);
        try {
            graph = device.capture(capture, () -> loop.accept(capture));
        } catch (CudaGraph.CaptureFailedException e) {
            // Nothing ran during the failed capture: run the loop for real, and say why.
            buf.captureFailed(e.getMessage());
            loop.accept(stream);
            record(op, cell, dir, LayerPath.Kind.STEPWISE, stream, steps,
                    "capture failed, ran stepwise: " + e.getMessage());
            return;
        }
        buf.keep(key, graph);
        graph.launch(stream);
        record(op, cell, dir, LayerPath.Kind.GRAPH_CAPTURED, stream, steps, null);
    }

    /** Keeps a {@link LayerPath} record (also for {@link CudaOptionLayer}'s loops). */
    void record(String op, Cell cell, Direction dir, LayerPath.Kind kind, CudaStream stream, int steps,
                        String reason) {
        synchronized (paths) {
            if (paths.size() == MAX_PATHS) {
                paths.removeFirst();
            }
            paths.addLast(new LayerPath(op, cell, dir, kind, stream.name(), steps, reason));
        }
    }

    /** The most recent {@link LayerPath} records, oldest first (at most {@link #MAX_PATHS}). */
    List<LayerPath> paths() {
        synchronized (paths) {
            return List.copyOf(paths);
        }
    }

    // ---------------------------------------------------------------- buffers

    /**
     * The buffers of {@code dir} in {@code ws}, made on first use (a one-direction workspace has
     * one set, serving either direction, as on the CPU). Allocation and the first upload go to the
     * main stream.
     */
    synchronized CudaLayerBuffers buffers(CudaWorkspace ws, Direction dir) {
        CudaLayerBuffers b = ws.attached(dir, CudaLayerBuffers.class);
        if (b == null) {
            device.enter("workspace buffers");
            String tag = ws.bidirectional() ? (dir == Direction.FORWARD ? "forward" : "reverse") : "layer";
            b = newBuffers(ws::allocate, ws.cell(), ws.maxSteps(), ws.maxBatch(), ws.inputSize(), ws.hiddenSize(), tag);
            ws.attach(dir, b);
        }
        return b;
    }

    /**
     * New buffers of one direction from {@code memory}, tracked so that {@link #close()} destroys
     * their graphs (the backend uses {@link #buffers}; host tests on a simulated device call this).
     */
    synchronized CudaLayerBuffers newBuffers(LayerDevice.Memory memory, Cell cell, int maxSteps, int maxBatch,
                                             int inputSize, int hidden, String tag) {
        CudaLayerBuffers b = new CudaLayerBuffers(device, memory, cell, maxSteps, maxBatch, inputSize, hidden, tag,
                this::forget);
        open.add(b);
        return b;
    }

    private synchronized void forget(CudaLayerBuffers b) {
        open.remove(b);
    }

    /** Destroys every open workspace's graphs (the backend closes, its context goes next). */
    synchronized void close() {
        RuntimeException first = null;
        for (CudaLayerBuffers b : new ArrayList<>(open)) {
            try {
                b.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long[] outputs(Backward b) {
        Params g = b.grads();
        return new long[] {b.dh0(), b.dc0(), g.wIh(), g.wHh(), g.bIh(), g.bHh(), g.peep()};
    }

    /** Whether a non-zero address appears in both lists (one tensor given as an output of both directions). */
    private static boolean shareOutputs(long[] a, long[] b) {
        for (long u : a) {
            if (u == 0) {
                continue;
            }
            for (long v : b) {
                if (u == v) {
                    return true;
                }
            }
        }
        return false;
    }
}
