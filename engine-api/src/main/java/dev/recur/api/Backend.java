package dev.recur.api;

import java.util.Arrays;
import java.util.Locale;

/**
 * An engine: it owns tensor memory and runs the ops the model layer needs.
 *
 * <p>Every public op is final here: it checks ranks, shapes, lengths, ownership and (unless
 * {@code -Drecur.checkFinite=false}) that inputs are finite, and only then calls the engine's
 * {@code ...Impl} method, so every engine gets the same checks and the same messages. Each
 * message names the op, the argument, the expected and the actual shape.
 *
 * <h2>The recurrent ops</h2>
 * Sequences are time-major {@code [T, B, F]}. A layer op runs one direction (or both, for the
 * bidirectional ops) of one layer over a whole sequence. The order of calls is: make a
 * {@link Workspace} once, then for each batch {@code layerForward}, then (when training)
 * {@code layerBackward} with the same inputs; the forward fills the workspace, the backward
 * reads it. A forward that no backward follows calls {@code layerInference} (or
 * {@code bidirectionalInference}) instead: same outputs, nothing saved, the workspace used as
 * scratch.
 *
 * <p>Variable lengths: {@code lengths} (null means every sequence has T steps) gives each
 * sequence's own length, 1 to T, in any order. Steps past a sequence's end neither change its
 * state nor receive gradient; its output there is zero, and its final state is the one after its
 * own last step. Engines skip the work for those steps.
 *
 * <p>Gradients: {@code dx} and the initial-state gradients are overwritten; parameter gradients
 * are <em>accumulated</em> ({@code +=}) into {@code grads}, as PyTorch accumulates into
 * {@code .grad}, so that windows of truncated BPTT and layers sharing weights can add up.
 */
public abstract class Backend implements AutoCloseable {

    private static final boolean CHECK_FINITE =
            !"false".equalsIgnoreCase(System.getProperty("recur.checkFinite", "true"));

    /** Short lower-case name, the same as its provider's. */
    public abstract String name();

    /**
     * Blocks until every op issued so far has finished. Ops of an asynchronous engine (CUDA)
     * return once their work is queued; a benchmark that times ops, or code that reads a clock,
     * calls this before reading it. Reading a tensor's contents needs no call: copies wait by
     * themselves. The CPU engine runs ops to completion, so this does nothing there.
     */
    public void synchronize() {
    }

    // ---------------------------------------------------------------- tensors and workspaces

    /** A new zero-filled tensor of the given shape. */
    public final Tensor tensor(int... shape) {
        open("tensor");
        return allocate(Shape.of(shape));
    }

    /** A new tensor of the given shape holding a copy of {@code data} (row-major). */
    public final Tensor tensor(float[] data, int... shape) {
        Tensor t = allocate(shapeFor("tensor", data == null ? -1 : data.length, shape));
        t.copyFrom(data);
        return t;
    }

    /**
     * A workspace for one layer of {@code cell}, for calls of up to {@code maxSteps} steps and
     * {@code maxBatch} sequences; {@code bidirectional} sizes it for both directions.
     */
    public final Workspace workspace(Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                                     boolean bidirectional) {
        return workspace(cell, CellOptions.NONE, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
    }

    /**
     * A workspace for one layer of {@code cell} run with {@code options} (layer normalisation,
     * recurrent dropout, zoneout, projection: {@link CellOptions}); every layer op on it runs the
     * cell with those options, and its parameters, states and output take the widths the options
     * give. The per-step cell ops take plain workspaces only.
     */
    public final Workspace workspace(Cell cell, CellOptions options, int maxSteps, int maxBatch, int inputSize,
                                     int hiddenSize, boolean bidirectional) {
        open("workspace");
        if (cell == null) {
            throw new IllegalArgumentException("workspace: cell is null");
        }
        if (options == null) {
            throw new IllegalArgumentException("workspace: options is null; use CellOptions.NONE for the plain cell");
        }
        positive("workspace", "maxSteps", maxSteps);
        positive("workspace", "maxBatch", maxBatch);
        positive("workspace", "inputSize", inputSize);
        positive("workspace", "hiddenSize", hiddenSize);
        // Engines index [maxSteps*maxBatch, max(I, G*H)] buffers with ints.
        long rows = (long) maxSteps * maxBatch;
        long widest = Math.max(inputSize, (long) cell.gates() * hiddenSize);
        if (rows * widest > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("workspace: maxSteps * maxBatch * max(inputSize, G*hiddenSize) = "
                    + maxSteps + " * " + maxBatch + " * " + widest + " = " + rows * widest + " elements exceeds "
                    + Integer.MAX_VALUE + "; use shorter windows or smaller batches");
        }
        options.check(cell, hiddenSize);
        Workspace ws = newWorkspace(cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
        ws.options(options);
        return ws;
    }

    /** A new zero-filled tensor of int32 indices (token ids, class labels) of the given shape. */
    public final IndexTensor indices(int... shape) {
        open("indices");
        return allocateIndices(Shape.of(shape));
    }

    /** A new index tensor holding a copy of {@code data} (row-major). */
    public final IndexTensor indices(int[] data, int... shape) {
        IndexTensor t = allocateIndices(shapeFor("indices", data == null ? -1 : data.length, shape));
        t.copyFrom(data);
        return t;
    }

    /** The shape for host data of {@code length} elements (-1: no array), checked to hold exactly that many. */
    private Shape shapeFor(String op, int length, int[] shape) {
        open(op);
        Shape s = Shape.of(shape);
        if (length != s.size()) {
            throw new IllegalArgumentException(op + ": data has " + (length < 0 ? "no array" : length + " elements")
                    + ", shape " + s + " needs " + s.size());
        }
        return s;
    }

    /** Element-wise, embedding, bias, dropout, transpose and clipping ops (see {@link TensorOps}). */
    public abstract TensorOps tensorOps();

    /** Loss functions, forward and gradient in one call (see {@link LossOps}). */
    public abstract LossOps lossOps();

    /** In-place optimizer updates (see {@link OptimizerOps}). */
    public abstract OptimizerOps optimizerOps();

    protected abstract Tensor allocate(Shape shape);

    protected abstract IndexTensor allocateIndices(Shape shape);

    protected abstract Workspace newWorkspace(Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                                              boolean bidirectional);

    /** Index of the first NaN or infinite element of {@code t}, or -1 when all are finite. */
    protected abstract int firstNonFinite(Tensor t);

    // ---------------------------------------------------------------- GEMM

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C}, row-major, where {@code op(A)} is {@code A [M, K]} or,
     * with {@code transA}, the transpose of {@code A [K, M]}; likewise {@code op(B) [K, N]} from
     * {@code B [K, N]} or {@code B [N, K]}; {@code C [M, N]}. With {@code beta = 0}, C is not read.
     */
    public final void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        String op = "gemm";
        open(op);
        scalars(op, alpha, beta);
        owned(op, "a", a);
        owned(op, "b", b);
        owned(op, "c", c);
        rank(op, "a", a, 2);
        rank(op, "b", b, 2);
        rank(op, "c", c, 2);
        int m = c.shape().dim(0);
        int n = c.shape().dim(1);
        int k = transA ? a.shape().dim(0) : a.shape().dim(1);
        expect(op, "a" + (transA ? " (transposed: [K, M])" : " ([M, K])"), a, transA ? dims(k, m) : dims(m, k),
                transA ? "[K, M]" : "[M, K]");
        expect(op, "b" + (transB ? " (transposed: [N, K])" : " ([K, N])"), b, transB ? dims(n, k) : dims(k, n),
                transB ? "[N, K]" : "[K, N]");
        gemmImpl(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /**
     * {@link #gemm} for each of {@code batch} independent matrices: {@code a}, {@code b},
     * {@code c} are rank 3 with the batch first ({@code [batch, rows, cols]}), each matrix at a
     * stride of its own size.
     */
    public final void gemmStridedBatched(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta,
                                         Tensor c) {
        String op = "gemmStridedBatched";
        open(op);
        scalars(op, alpha, beta);
        owned(op, "a", a);
        owned(op, "b", b);
        owned(op, "c", c);
        rank(op, "a", a, 3);
        rank(op, "b", b, 3);
        rank(op, "c", c, 3);
        int batch = c.shape().dim(0);
        int m = c.shape().dim(1);
        int n = c.shape().dim(2);
        int k = transA ? a.shape().dim(1) : a.shape().dim(2);
        expect(op, "a", a, transA ? dims(batch, k, m) : dims(batch, m, k), transA ? "[batch, K, M]" : "[batch, M, K]");
        expect(op, "b", b, transB ? dims(batch, n, k) : dims(batch, k, n), transB ? "[batch, N, K]" : "[batch, K, N]");
        gemmStridedBatchedImpl(transA, transB, batch, m, n, k, alpha, a, b, beta, c);
    }

    protected abstract void gemmImpl(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
                                     Tensor b, float beta, Tensor c);

    protected abstract void gemmStridedBatchedImpl(boolean transA, boolean transB, int batch, int m, int n, int k,
                                                   float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---------------------------------------------------------------- whole-sequence layers

    /**
     * Runs one direction of a recurrent layer over whole sequences and fills {@code ws} for
     * {@link #layerBackward}.
     *
     * @param x       input {@code [T, B, I]}
     * @param lengths per-sequence lengths {@code [B]}, each 1..T; null when all are T
     * @param init    initial state ({@code h0 [B, H]}, {@code c0 [B, H]}); null, or a null {@code c}, means zeros
     * @param params  weights and biases of this direction ({@link LayerParams})
     * @param y       output {@code [T, B, H]}: the hidden state after each step, zero past a sequence's end
     * @param fin     receives the final state ({@code hT}, {@code cT} [B, H]); null (or null c) when not wanted
     * @param ws      a workspace from {@link #workspace} for this cell, I and H, not bidirectional
     */
    public final void layerForward(Cell cell, Direction direction, Tensor x, int[] lengths, State init,
                                   LayerParams params, Tensor y, State fin, Workspace ws) {
        layerForward(cell, direction, x, lengths, StepControl.NONE, init, params, y, fin, ws);
    }

    /**
     * {@link #layerForward} with a step mask and the start of the random numbers
     * ({@link StepControl}), for a workspace made with {@link CellOptions}: {@code y} is then
     * {@code [T, B, R]}, the states' {@code h} {@code [B, S]} ({@link CellOptions#stateWidth}).
     * The backward takes the same {@code control}.
     */
    public final void layerForward(Cell cell, Direction direction, Tensor x, int[] lengths, StepControl control,
                                   State init, LayerParams params, Tensor y, State fin, Workspace ws) {
        String op = "layerForward(" + id(cell) + ")";
        LayerDims d = layerChecks(op, cell, direction, x, lengths, control, init, params, y, fin, ws);
        if (plain(ws, control)) {
            layerForwardImpl(cell, direction, d, x, lengths, init, params, y, fin, ws);
        } else {
            layerForwardImpl(cell, ws.options(), control, direction, d, x, lengths, init, params, y, fin, ws);
        }
        ws.markFilled("layerForward", direction, d.steps(), d.batch(), lengths, control);
    }

    /**
     * Inference: {@link #layerForward} for a forward that no backward follows (generation,
     * evaluation, prediction). Same arguments, same checks and the same {@code y} and {@code fin}
     * (bit for bit on the CPU engine), but nothing is kept for a backward: {@code ws} serves as
     * scratch only (the input projections and running state of the call), as cuDNN's workspace
     * does beside its reserve space. Afterwards {@code ws} holds no forward pass, so a
     * {@link #layerBackward} on it is refused until the next {@link #layerForward}.
     *
     * <p>Why a workspace at all: the call needs {@code [T*B, G*H]} of scratch for the input
     * projections of every step; taking it from the caller's workspace, sized once, keeps the op
     * free of allocation, and a model that also trains already holds one per layer.
     */
    public final void layerInference(Cell cell, Direction direction, Tensor x, int[] lengths, State init,
                                     LayerParams params, Tensor y, State fin, Workspace ws) {
        layerInference(cell, direction, x, lengths, StepControl.NONE, init, params, y, fin, ws);
    }

    /**
     * {@link #layerInference} with a step mask; the workspace's options run their inference form
     * (no recurrent dropout, zoneout's expectation), so {@code control}'s seed and counter are not read.
     */
    public final void layerInference(Cell cell, Direction direction, Tensor x, int[] lengths, StepControl control,
                                     State init, LayerParams params, Tensor y, State fin, Workspace ws) {
        String op = "layerInference(" + id(cell) + ")";
        LayerDims d = layerChecks(op, cell, direction, x, lengths, control, init, params, y, fin, ws);
        // Marked before the call: whatever the workspace held is overwritten by the scratch.
        ws.markEmpty();
        if (plain(ws, control)) {
            layerInferenceImpl(cell, direction, d, x, lengths, init, params, y, fin, ws);
        } else {
            layerInferenceImpl(cell, ws.options(), control, direction, d, x, lengths, init, params, y, fin, ws);
        }
    }

    /** Whether a call runs the plain engine ops: no options on the workspace, no step mask. */
    private static boolean plain(Workspace ws, StepControl control) {
        return ws.options().isPlain() && !control.hasMask();
    }

    /** The checks {@link #layerForward} and {@link #layerInference} share; returns the dimensions. */
    private LayerDims layerChecks(String op, Cell cell, Direction direction, Tensor x, int[] lengths,
                                  StepControl control, State init, LayerParams params, Tensor y, State fin,
                                  Workspace ws) {
        open(op);
        requireDirection(op, direction);
        LayerDims d = forwardChecks(op, cell, x, lengths, ws, false);
        checkControl(op, control, d);
        CellOptions o = ws.options();
        checkState(op, "init", cell, o, init, d, true);
        checkParams(op, "params", cell, o, params, d, true);
        expect(op, "y", owned(op, "y", y), dims(d.steps(), d.batch(), o.recurrentWidth(d.hidden())), yShape(o, 1));
        checkState(op, "fin", cell, o, fin, d, false);
        return d;
    }

    private static void checkControl(String op, StepControl control, LayerDims d) {
        if (control == null) {
            throw new IllegalArgumentException(op + ": control is null; use StepControl.NONE");
        }
        control.check(op, d.steps(), d.batch());
    }

    /** The symbolic shape of y for error messages. */
    private static String yShape(CellOptions o, int directions) {
        String w = o.projectionSize() > 0 ? "P" : "H";
        return "[T, B, " + (directions == 2 ? "2" : "") + w + "]";
    }

    /** The checks {@link #bidirectionalForward} and {@link #bidirectionalInference} share. */
    private LayerDims bidirectionalChecks(String op, Cell cell, Tensor x, int[] lengths, StepControl control,
                                          PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                          PerDirection<State> fin, Workspace ws) {
        open(op);
        LayerDims d = forwardChecks(op, cell, x, lengths, ws, true);
        checkControl(op, control, d);
        CellOptions o = ws.options();
        if (params == null) {
            throw new IllegalArgumentException(op + ": params is null");
        }
        for (Direction dir : Direction.values()) {
            String s = dir == Direction.FORWARD ? ".forward" : ".reverse";
            checkState(op, "init" + s, cell, o, init == null ? null : init.get(dir), d, true);
            checkParams(op, "params" + s, cell, o, params.get(dir), d, true);
            checkState(op, "fin" + s, cell, o, fin == null ? null : fin.get(dir), d, false);
        }
        expect(op, "y", owned(op, "y", y), dims(d.steps(), d.batch(), 2 * o.recurrentWidth(d.hidden())),
                yShape(o, 2));
        checkDirectionsApart(op, init, fin);
        return d;
    }

    /**
     * The backward of the last {@link #layerForward} on {@code ws} (same cell, direction, x and
     * lengths).
     *
     * @param dy     gradient of the loss with respect to {@code y} {@code [T, B, H]}; null means zero
     * @param dFin   gradient with respect to the final state; null (or null parts) means zero
     * @param dx     receives the gradient with respect to {@code x} {@code [T, B, I]} (overwritten); null when not wanted
     * @param dInit  receives the gradient with respect to the initial state (overwritten); null when not wanted
     * @param grads  parameter gradients, accumulated into
     */
    public final void layerBackward(Cell cell, Direction direction, Tensor x, int[] lengths, LayerParams params,
                                    Workspace ws, Tensor dy, State dFin, Tensor dx, State dInit, LayerParams grads) {
        layerBackward(cell, direction, x, lengths, StepControl.NONE, params, ws, dy, dFin, dx, dInit, grads);
    }

    /** {@link #layerBackward} of a {@link #layerForward} that took {@code control} (the same one again). */
    public final void layerBackward(Cell cell, Direction direction, Tensor x, int[] lengths, StepControl control,
                                    LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx, State dInit,
                                    LayerParams grads) {
        String op = "layerBackward(" + id(cell) + ")";
        open(op);
        requireDirection(op, direction);
        LayerDims d = forwardChecks(op, cell, x, lengths, ws, false);
        checkControl(op, control, d);
        CellOptions o = ws.options();
        checkParams(op, "params", cell, o, params, d, false);
        ws.requireFilled(op, "layerForward", direction, d.steps(), d.batch(), lengths, control);
        if (dy != null) {
            expect(op, "dy", owned(op, "dy", dy), dims(d.steps(), d.batch(), o.recurrentWidth(d.hidden())),
                    yShape(o, 1));
            finite(op, "dy", dy);
        }
        checkState(op, "dFin", cell, o, dFin, d, true);
        if (dx != null) {
            expect(op, "dx", owned(op, "dx", dx), dims(d.steps(), d.batch(), d.input()), "[T, B, I]");
        }
        checkState(op, "dInit", cell, o, dInit, d, false);
        checkGrads(op, "grads", cell, o, grads, d);
        if (plain(ws, control)) {
            layerBackwardImpl(cell, direction, d, x, lengths, params, ws, dy, dFin, dx, dInit, grads);
        } else {
            layerBackwardImpl(cell, o, control, direction, d, x, lengths, params, ws, dy, dFin, dx, dInit, grads);
        }
    }

    /**
     * Both directions of a bidirectional layer in one call, so that an engine may run them
     * concurrently. {@code y [T, B, 2H]} holds the forward direction's output in columns
     * {@code [0, H)} and the reverse direction's in {@code [H, 2H)}, as PyTorch concatenates them.
     * Other arguments are as in {@link #layerForward}, one per direction; {@code ws} must be
     * bidirectional.
     */
    public final void bidirectionalForward(Cell cell, Tensor x, int[] lengths, PerDirection<State> init,
                                           PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                           Workspace ws) {
        bidirectionalForward(cell, x, lengths, StepControl.NONE, init, params, y, fin, ws);
    }

    /**
     * {@link #bidirectionalForward} with a step mask and random numbers ({@link StepControl}); the
     * reverse direction's draws start {@link CellOptions#draws} after the forward's.
     */
    public final void bidirectionalForward(Cell cell, Tensor x, int[] lengths, StepControl control,
                                           PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                           PerDirection<State> fin, Workspace ws) {
        String op = "bidirectionalForward(" + id(cell) + ")";
        LayerDims d = bidirectionalChecks(op, cell, x, lengths, control, init, params, y, fin, ws);
        if (plain(ws, control)) {
            bidirectionalForwardImpl(cell, d, x, lengths, init, params, y, fin, ws);
        } else {
            bidirectionalForwardImpl(cell, ws.options(), control, d, x, lengths, init, params, y, fin, ws);
        }
        ws.markFilled("bidirectionalForward", "both", d.steps(), d.batch(), lengths, control);
    }

    /**
     * Inference for both directions: {@link #bidirectionalForward} that keeps nothing for a
     * backward, as {@link #layerInference} is to {@link #layerForward}. {@code ws} (bidirectional)
     * is scratch only and holds no forward pass afterwards.
     */
    public final void bidirectionalInference(Cell cell, Tensor x, int[] lengths, PerDirection<State> init,
                                             PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                             Workspace ws) {
        bidirectionalInference(cell, x, lengths, StepControl.NONE, init, params, y, fin, ws);
    }

    /** {@link #bidirectionalInference} with a step mask (seed and counter are not read). */
    public final void bidirectionalInference(Cell cell, Tensor x, int[] lengths, StepControl control,
                                             PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                             PerDirection<State> fin, Workspace ws) {
        String op = "bidirectionalInference(" + id(cell) + ")";
        LayerDims d = bidirectionalChecks(op, cell, x, lengths, control, init, params, y, fin, ws);
        ws.markEmpty();
        if (plain(ws, control)) {
            bidirectionalInferenceImpl(cell, d, x, lengths, init, params, y, fin, ws);
        } else {
            bidirectionalInferenceImpl(cell, ws.options(), control, d, x, lengths, init, params, y, fin, ws);
        }
    }

    /**
     * The backward of the last {@link #bidirectionalForward} on {@code ws}. {@code dy} is
     * {@code [T, B, 2H]}; {@code dx [T, B, I]} receives the sum of both directions' input
     * gradients; the rest is as in {@link #layerBackward}, one per direction.
     */
    public final void bidirectionalBackward(Cell cell, Tensor x, int[] lengths, PerDirection<LayerParams> params,
                                            Workspace ws, Tensor dy, PerDirection<State> dFin, Tensor dx,
                                            PerDirection<State> dInit, PerDirection<LayerParams> grads) {
        bidirectionalBackward(cell, x, lengths, StepControl.NONE, params, ws, dy, dFin, dx, dInit, grads);
    }

    /** {@link #bidirectionalBackward} of a {@link #bidirectionalForward} that took {@code control}. */
    public final void bidirectionalBackward(Cell cell, Tensor x, int[] lengths, StepControl control,
                                            PerDirection<LayerParams> params, Workspace ws, Tensor dy,
                                            PerDirection<State> dFin, Tensor dx, PerDirection<State> dInit,
                                            PerDirection<LayerParams> grads) {
        String op = "bidirectionalBackward(" + id(cell) + ")";
        open(op);
        LayerDims d = forwardChecks(op, cell, x, lengths, ws, true);
        checkControl(op, control, d);
        CellOptions o = ws.options();
        if (params == null || grads == null) {
            throw new IllegalArgumentException(op + ": " + (params == null ? "params" : "grads") + " is null");
        }
        ws.requireFilled(op, "bidirectionalForward", "both", d.steps(), d.batch(), lengths, control);
        for (Direction dir : Direction.values()) {
            String s = dir == Direction.FORWARD ? ".forward" : ".reverse";
            checkParams(op, "params" + s, cell, o, params.get(dir), d, false);
            checkState(op, "dFin" + s, cell, o, dFin == null ? null : dFin.get(dir), d, true);
            checkState(op, "dInit" + s, cell, o, dInit == null ? null : dInit.get(dir), d, false);
            checkGrads(op, "grads" + s, cell, o, grads.get(dir), d);
        }
        if (dy != null) {
            expect(op, "dy", owned(op, "dy", dy), dims(d.steps(), d.batch(), 2 * o.recurrentWidth(d.hidden())),
                    yShape(o, 2));
            finite(op, "dy", dy);
        }
        if (dx != null) {
            expect(op, "dx", owned(op, "dx", dx), dims(d.steps(), d.batch(), d.input()), "[T, B, I]");
        }
        if (plain(ws, control)) {
            bidirectionalBackwardImpl(cell, d, x, lengths, params, ws, dy, dFin, dx, dInit, grads);
        } else {
            bidirectionalBackwardImpl(cell, o, control, d, x, lengths, params, ws, dy, dFin, dx, dInit, grads);
        }
    }

    // ---------------------------------------------------------------- per-step cell ops

    /**
     * One step of a cell, for callers who step by hand (generation, stateful inference):
     * {@code next = cell(x, prev)}. {@code x [B, I]}; {@code prev} and {@code next} hold
     * {@code h [B, H]} (and {@code c [B, H]}); {@code ws} is a workspace made with
     * {@code maxSteps = 1}, filled for {@link #cellBackward}. {@code prev} and {@code next} must
     * not share tensors.
     */
    public final void cellForward(Cell cell, Tensor x, State prev, LayerParams params, State next, Workspace ws) {
        String op = "cellForward(" + id(cell) + ")";
        open(op);
        LayerDims d = stepChecks(op, cell, x, ws);
        checkState(op, "prev", cell, CellOptions.NONE, prev, d, true);
        checkParams(op, "params", cell, CellOptions.NONE, params, d, true);
        if (next == null) {
            throw new IllegalArgumentException(op + ": next is null; it receives the new state");
        }
        checkState(op, "next", cell, CellOptions.NONE, next, d, false);
        if (cell.hasCellState() && next.c() == null) {
            throw new IllegalArgumentException(op + ": next.c is null; " + cell.id() + " has a cell state to write");
        }
        cellForwardImpl(cell, d, x, prev, params, next, ws);
        ws.markFilled("cellForward", Direction.FORWARD, 1, d.batch(), null);
    }

    /**
     * The backward of the last {@link #cellForward} on {@code ws}: from the gradient with respect
     * to {@code next}, the gradients with respect to {@code x} and {@code prev} (overwritten; null
     * when not wanted) and the parameters (accumulated).
     */
    public final void cellBackward(Cell cell, Tensor x, LayerParams params, Workspace ws, State dNext, Tensor dx,
                                   State dPrev, LayerParams grads) {
        String op = "cellBackward(" + id(cell) + ")";
        open(op);
        LayerDims d = stepChecks(op, cell, x, ws);
        checkParams(op, "params", cell, CellOptions.NONE, params, d, false);
        ws.requireFilled(op, "cellForward", Direction.FORWARD, 1, d.batch(), null);
        checkState(op, "dNext", cell, CellOptions.NONE, dNext, d, true);
        if (dx != null) {
            expect(op, "dx", owned(op, "dx", dx), dims(d.batch(), d.input()), "[B, I]");
        }
        checkState(op, "dPrev", cell, CellOptions.NONE, dPrev, d, false);
        checkGrads(op, "grads", cell, CellOptions.NONE, grads, d);
        cellBackwardImpl(cell, d, x, params, ws, dNext, dx, dPrev, grads);
    }

    protected abstract void layerForwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                             State init, LayerParams params, Tensor y, State fin, Workspace ws);

    /** Runs {@link #layerInference}; {@code ws} is scratch (see there). Arguments are checked. */
    protected abstract void layerInferenceImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                               State init, LayerParams params, Tensor y, State fin, Workspace ws);

    /** Runs {@link #bidirectionalInference}; {@code ws} is scratch. Arguments are checked. */
    protected abstract void bidirectionalInferenceImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                       PerDirection<State> init, PerDirection<LayerParams> params,
                                                       Tensor y, PerDirection<State> fin, Workspace ws);

    protected abstract void layerBackwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                              LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx,
                                              State dInit, LayerParams grads);

    protected abstract void bidirectionalForwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                     PerDirection<State> init, PerDirection<LayerParams> params,
                                                     Tensor y, PerDirection<State> fin, Workspace ws);

    protected abstract void bidirectionalBackwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                      PerDirection<LayerParams> params, Workspace ws, Tensor dy,
                                                      PerDirection<State> dFin, Tensor dx, PerDirection<State> dInit,
                                                      PerDirection<LayerParams> grads);

    protected abstract void cellForwardImpl(Cell cell, LayerDims d, Tensor x, State prev, LayerParams params,
                                            State next, Workspace ws);

    // The layer ops of a workspace with CellOptions, or of a call with a step mask: checked like
    // the plain ones, with y, the states and the parameters in the widths the options give. An
    // engine without them refuses here, by name, rather than running something else.

    /** {@link #layerForward} with options or a step mask. Arguments are checked. */
    protected void layerForwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                    LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                    State fin, Workspace ws) {
        throw unsupported("layerForward", cell, options, control);
    }

    /** {@link #layerInference} with options or a step mask. Arguments are checked. */
    protected void layerInferenceImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                      LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                      State fin, Workspace ws) {
        throw unsupported("layerInference", cell, options, control);
    }

    /** {@link #layerBackward} with options or a step mask. Arguments are checked. */
    protected void layerBackwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                     LayerDims d, Tensor x, int[] lengths, LayerParams params, Workspace ws,
                                     Tensor dy, State dFin, Tensor dx, State dInit, LayerParams grads) {
        throw unsupported("layerBackward", cell, options, control);
    }

    /** {@link #bidirectionalForward} with options or a step mask. Arguments are checked. */
    protected void bidirectionalForwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                            Tensor x, int[] lengths, PerDirection<State> init,
                                            PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                            Workspace ws) {
        throw unsupported("bidirectionalForward", cell, options, control);
    }

    /** {@link #bidirectionalInference} with options or a step mask. Arguments are checked. */
    protected void bidirectionalInferenceImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                              Tensor x, int[] lengths, PerDirection<State> init,
                                              PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                              Workspace ws) {
        throw unsupported("bidirectionalInference", cell, options, control);
    }

    /** {@link #bidirectionalBackward} with options or a step mask. Arguments are checked. */
    protected void bidirectionalBackwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                             Tensor x, int[] lengths, PerDirection<LayerParams> params, Workspace ws,
                                             Tensor dy, PerDirection<State> dFin, Tensor dx,
                                             PerDirection<State> dInit, PerDirection<LayerParams> grads) {
        throw unsupported("bidirectionalBackward", cell, options, control);
    }

    private UnsupportedOperationException unsupported(String op, Cell cell, CellOptions options, StepControl control) {
        return new UnsupportedOperationException(op + "(" + cell.id() + "): the " + name()
                + " backend does not run cell options or step masks yet (options " + options
                + (control.hasMask() ? ", with a step mask" : "") + ")");
    }

    protected abstract void cellBackwardImpl(Cell cell, LayerDims d, Tensor x, LayerParams params, Workspace ws,
                                             State dNext, Tensor dx, State dPrev, LayerParams grads);

    /**
     * The collective for this engine's tensors in a job whose ranks talk through {@code host} (MPI):
     * an engine whose memory a collective library reads directly (CUDA with NCCL) returns that
     * binding, which {@link Collective#readsDeviceMemory()} says; every other engine returns
     * {@code host}, which stages tensors through host arrays. Called once per training run on every
     * rank (collectively: a device binding may exchange its setup over {@code host}); a returned
     * collective other than {@code host} is closed by the caller, {@code host} by its owner.
     */
    public Collective deviceCollective(Collective host) {
        return host;
    }

    /** Releases the engine's own resources (threads, contexts). Idempotent; ops fail afterwards. */
    @Override
    public void close() {
    }

    /** Whether {@link #close()} was called; every op checks it first. */
    public boolean isClosed() {
        return false;
    }

    void open(String op) {
        if (isClosed()) {
            throw new IllegalStateException(op + ": the " + name() + " backend is closed");
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name() + "]";
    }

    // ---------------------------------------------------------------- checks

    private LayerDims forwardChecks(String op, Cell cell, Tensor x, int[] lengths, Workspace ws, boolean bidirectional) {
        if (cell == null) {
            throw new IllegalArgumentException(op + ": cell is null");
        }
        owned(op, "x", x);
        rank(op, "x", x, 3);
        int steps = x.shape().dim(0);
        int batch = x.shape().dim(1);
        LayerDims d = workspaceChecks(op, cell, ws, steps, batch, bidirectional);
        expect(op, "x", x, dims(steps, batch, d.input()), "[T, B, I]");
        finite(op, "x", x);
        if (lengths != null) {
            if (lengths.length != batch) {
                throw new IllegalArgumentException(op + ": lengths has " + lengths.length + " entries, expected B = "
                        + batch + " (one per sequence of x " + x.shape() + ")");
            }
            for (int b = 0; b < batch; b++) {
                if (lengths[b] < 1) {
                    throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b] + " is below 1");
                }
                if (lengths[b] > steps) {
                    throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b]
                            + " is greater than T = " + steps + " (x " + x.shape() + ")");
                }
            }
        }
        return d;
    }

    private LayerDims stepChecks(String op, Cell cell, Tensor x, Workspace ws) {
        if (cell == null) {
            throw new IllegalArgumentException(op + ": cell is null");
        }
        owned(op, "x", x);
        rank(op, "x", x, 2);
        LayerDims d = workspaceChecks(op, cell, ws, 1, x.shape().dim(0), false);
        if (!ws.options().isPlain()) {
            throw new IllegalArgumentException(op + ": ws was made with options " + ws.options()
                    + "; the per-step cell ops run the plain cell only (use the layer ops with T = 1)");
        }
        expect(op, "x", x, dims(d.batch(), d.input()), "[B, I]");
        finite(op, "x", x);
        return d;
    }

    private LayerDims workspaceChecks(String op, Cell cell, Workspace ws, int steps, int batch, boolean bidirectional) {
        if (ws == null) {
            throw new IllegalArgumentException(op + ": ws is null; make one with Backend.workspace");
        }
        if (ws.backend() != this) {
            throw new IllegalArgumentException(op + ": ws belongs to " + describeOther(ws.backend()) + ", not to this "
                    + name() + " backend");
        }
        if (ws.isClosed()) {
            throw new IllegalStateException(op + ": ws is closed");
        }
        if (ws.cell() != cell) {
            throw new IllegalArgumentException(op + ": ws was made for cell " + ws.cell().id() + ", not " + cell.id());
        }
        if (ws.bidirectional() != bidirectional) {
            throw new IllegalArgumentException(op + ": ws was made " + (ws.bidirectional() ? "" : "not ")
                    + "bidirectional; this op needs " + (bidirectional ? "a bidirectional" : "a one-direction") + " workspace");
        }
        if (steps > ws.maxSteps()) {
            throw new IllegalArgumentException(op + ": T = " + steps + " exceeds the workspace's maxSteps = " + ws.maxSteps());
        }
        if (batch > ws.maxBatch()) {
            throw new IllegalArgumentException(op + ": B = " + batch + " exceeds the workspace's maxBatch = " + ws.maxBatch());
        }
        return new LayerDims(steps, batch, ws.inputSize(), ws.hiddenSize(), cell.gates());
    }

    private void checkState(String op, String name, Cell cell, CellOptions o, State s, LayerDims d, boolean input) {
        if (s == null) {
            return;
        }
        if (s.h() != null) {
            int sw = o.stateWidth(cell, d.hidden());
            expect(op, name + ".h", owned(op, name + ".h", s.h()), dims(d.batch(), sw),
                    sw == d.hidden() ? "[B, H]" : "[B, P]");
            if (input) {
                finite(op, name + ".h", s.h());
            }
        } else if (!input) {
            throw new IllegalArgumentException(op + ": " + name + ".h is null");
        }
        if (s.c() != null) {
            if (!cell.hasCellState()) {
                throw new IllegalArgumentException(op + ": " + name + ".c is given, but " + cell.id()
                        + " has no cell state; pass State.of(h)");
            }
            expect(op, name + ".c", owned(op, name + ".c", s.c()), dims(d.batch(), d.hidden()), "[B, H]");
            if (input) {
                finite(op, name + ".c", s.c());
            }
        }
        if (s.h() != null && s.h() == s.c()) {
            throw new IllegalArgumentException(op + ": " + name + ".h and " + name + ".c are the same tensor");
        }
    }

    private void checkParams(String op, String name, Cell cell, CellOptions o, LayerParams p, LayerDims d,
                             boolean checkFinite) {
        if (p == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        int gh = d.gates() * d.hidden();
        String g = "G*H";
        int r = o.recurrentWidth(d.hidden());
        expect(op, name + ".weightIh", owned(op, name + ".weightIh", p.weightIh()), dims(gh, d.input()), "[" + g + ", I]");
        expect(op, name + ".weightHh", owned(op, name + ".weightHh", p.weightHh()), dims(gh, r),
                "[" + g + ", " + (r == d.hidden() ? "H" : "P") + "]");
        expect(op, name + ".biasIh", owned(op, name + ".biasIh", p.biasIh()), dims(gh), "[" + g + "]");
        expect(op, name + ".biasHh", owned(op, name + ".biasHh", p.biasHh()), dims(gh), "[" + g + "]");
        if (cell.peepholes() > 0) {
            if (p.peephole() == null) {
                throw new IllegalArgumentException(op + ": " + name + ".peephole is null; " + cell.id()
                        + " needs peephole weights [3H] = [" + 3 * d.hidden() + "]");
            }
            expect(op, name + ".peephole", owned(op, name + ".peephole", p.peephole()),
                    dims(cell.peepholes() * d.hidden()), "[3H]");
        } else if (p.peephole() != null) {
            throw new IllegalArgumentException(op + ": " + name + ".peephole is given, but " + cell.id()
                    + " has no peepholes (use Cell.LSTM_PEEPHOLE)");
        }
        checkOptionParams(op, name, cell, o, p, d);
        if (checkFinite) {
            finite(op, name + ".weightIh", p.weightIh());
            finite(op, name + ".weightHh", p.weightHh());
            finite(op, name + ".biasIh", p.biasIh());
            finite(op, name + ".biasHh", p.biasHh());
            if (p.peephole() != null) {
                finite(op, name + ".peephole", p.peephole());
            }
            if (p.weightHr() != null) {
                finite(op, name + ".weightHr", p.weightHr());
            }
            if (p.layerNorm() != null) {
                String[] names = LN_NAMES;
                Tensor[] all = p.layerNorm().tensors();
                for (int i = 0; i < all.length; i++) {
                    finite(op, name + ".layerNorm." + names[i], all[i]);
                }
            }
        }
    }

    private static final String[] LN_NAMES = {"gainIh", "biasIh", "gainHh", "biasHh", "gainC", "biasC"};

    /** The projection and layer-normalisation parameters: present exactly when the options ask for them. */
    private void checkOptionParams(String op, String name, Cell cell, CellOptions o, LayerParams p, LayerDims d) {
        if (o.projectionSize() > 0) {
            if (p.weightHr() == null) {
                throw new IllegalArgumentException(op + ": " + name + ".weightHr is null; the workspace projects to P = "
                        + o.projectionSize() + " and needs weight_hr [P, H] = [" + o.projectionSize() + ", "
                        + d.hidden() + "]");
            }
            expect(op, name + ".weightHr", owned(op, name + ".weightHr", p.weightHr()),
                    dims(o.projectionSize(), d.hidden()), "[P, H]");
        } else if (p.weightHr() != null) {
            throw new IllegalArgumentException(op + ": " + name + ".weightHr is given, but the workspace has no "
                    + "projection (CellOptions.projectionSize = 0)");
        }
        LayerNormParams ln = p.layerNorm();
        if (o.layerNorm()) {
            if (ln == null) {
                throw new IllegalArgumentException(op + ": " + name + ".layerNorm is null; the workspace normalises "
                        + "(CellOptions.layerNorm) and needs its gains and biases");
            }
            int gh = d.gates() * d.hidden();
            Tensor[] all = {ln.gainIh(), ln.biasIh(), ln.gainHh(), ln.biasHh()};
            for (int i = 0; i < all.length; i++) {
                expect(op, name + ".layerNorm." + LN_NAMES[i], owned(op, name + ".layerNorm." + LN_NAMES[i], all[i]),
                        dims(gh), "[G*H]");
            }
            if (cell.hasCellState()) {
                expect(op, name + ".layerNorm.gainC", owned(op, name + ".layerNorm.gainC", ln.gainC()),
                        dims(d.hidden()), "[H]");
                expect(op, name + ".layerNorm.biasC", owned(op, name + ".layerNorm.biasC", ln.biasC()),
                        dims(d.hidden()), "[H]");
            } else if (ln.gainC() != null || ln.biasC() != null) {
                throw new IllegalArgumentException(op + ": " + name + ".layerNorm.gainC/biasC are given, but "
                        + cell.id() + " has no cell state to normalise");
            }
        } else if (ln != null) {
            throw new IllegalArgumentException(op + ": " + name + ".layerNorm is given, but the workspace does not "
                    + "normalise (CellOptions.layerNorm = false)");
        }
    }

    private void checkGrads(String op, String name, Cell cell, CellOptions o, LayerParams grads, LayerDims d) {
        if (grads == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null; make it with LayerParams.zeros");
        }
        checkParams(op, name, cell, o, grads, d, false);
        // Engines add into several gradients at once (the CUDA engine adds the bias sums into
        // biasIh and biasHh in one kernel): each must be a tensor of its own.
        LayerNormParams ln = grads.layerNorm();
        Tensor[] all = {grads.weightIh(), grads.weightHh(), grads.biasIh(), grads.biasHh(), grads.peephole(),
                grads.weightHr(), ln == null ? null : ln.gainIh(), ln == null ? null : ln.biasIh(),
                ln == null ? null : ln.gainHh(), ln == null ? null : ln.biasHh(), ln == null ? null : ln.gainC(),
                ln == null ? null : ln.biasC()};
        String[] names = {"weightIh", "weightHh", "biasIh", "biasHh", "peephole", "weightHr", "layerNorm.gainIh",
                "layerNorm.biasIh", "layerNorm.gainHh", "layerNorm.biasHh", "layerNorm.gainC", "layerNorm.biasC"};
        for (int i = 0; i < all.length; i++) {
            for (int j = i + 1; j < all.length; j++) {
                if (all[i] != null && all[i] == all[j]) {
                    throw new IllegalArgumentException(op + ": " + name + "." + names[i] + " and " + name + "."
                            + names[j] + " are the same tensor");
                }
            }
        }
    }

    /**
     * The two directions of a bidirectional layer may run at the same time: neither may write
     * (its final state) what the other reads (its initial state).
     */
    private static void checkDirectionsApart(String op, PerDirection<State> init, PerDirection<State> fin) {
        if (init == null || fin == null) {
            return;
        }
        for (Direction w : Direction.values()) {
            Direction r = w == Direction.FORWARD ? Direction.REVERSE : Direction.FORWARD;
            State written = fin.get(w);
            State read = init.get(r);
            if (written == null || read == null) {
                continue;
            }
            for (Tensor a : new Tensor[] {written.h(), written.c()}) {
                if (a != null && (a == read.h() || a == read.c())) {
                    throw new IllegalArgumentException(op + ": fin." + w.name().toLowerCase(Locale.ROOT)
                            + " shares a tensor with init." + r.name().toLowerCase(Locale.ROOT)
                            + "; the directions run at the same time, so give each its own");
                }
            }
        }
    }

    IndexTensor owned(String op, String name, IndexTensor t) {
        checkOwner(op, name, t, t == null ? null : t.backend(), t != null && t.isClosed());
        return t;
    }

    Tensor owned(String op, String name, Tensor t) {
        checkOwner(op, name, t, t == null ? null : t.backend(), t != null && t.isClosed());
        return t;
    }

    /** Not null, made by this backend, not closed: the checks every tensor argument gets. */
    private void checkOwner(String op, String name, Object t, Backend owner, boolean closed) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (owner != this) {
            throw new IllegalArgumentException(op + ": " + name + " belongs to " + describeOther(owner)
                    + ", not to this " + name() + " backend");
        }
        if (closed) {
            throw new IllegalStateException(op + ": " + name + " is closed");
        }
    }

    private String describeOther(Backend other) {
        return other.name().equals(name()) ? "another " + name() + " backend instance" : "backend " + other.name();
    }

    static void rank(String op, String name, Shape s, int rank) {
        if (s.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got rank "
                    + s.rank() + " with shape " + s);
        }
    }

    static void rank(String op, String name, Tensor t, int rank) {
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got rank "
                    + t.shape().rank() + " with shape " + t.shape());
        }
    }

    static void expect(String op, String name, Tensor t, int[] expected, String symbolic) {
        if (!t.shape().is(expected)) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + symbolic + " = "
                    + Arrays.toString(expected) + ", got " + t.shape());
        }
    }

    void finite(String op, String name, Tensor t) {
        if (!CHECK_FINITE) {
            return;
        }
        int at = firstNonFinite(t);
        if (at >= 0) {
            float[] one = t.toArray();
            throw new NonFiniteException(op, name, op + ": " + name + " holds " + one[at] + " at index "
                    + Arrays.toString(unravel(at, t.shape())) + " (shape " + t.shape() + ")");
        }
    }

    private static int[] unravel(int flat, Shape s) {
        int[] idx = new int[s.rank()];
        for (int i = s.rank() - 1; i >= 0; i--) {
            idx[i] = flat % s.dim(i);
            flat /= s.dim(i);
        }
        return idx;
    }

    static void scalars(String op, float alpha, float beta) {
        if (!Float.isFinite(alpha) || !Float.isFinite(beta)) {
            throw new IllegalArgumentException(op + ": alpha and beta must be finite, got alpha = " + alpha
                    + ", beta = " + beta);
        }
    }

    private static void positive(String op, String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(op + ": " + name + " must be >= 1, got " + v);
        }
    }

    private static void requireDirection(String op, Direction d) {
        if (d == null) {
            throw new IllegalArgumentException(op + ": direction is null");
        }
    }

    private static String id(Cell c) {
        return c == null ? "null" : c.id();
    }

    private static int[] dims(int... d) {
        return d;
    }
}
