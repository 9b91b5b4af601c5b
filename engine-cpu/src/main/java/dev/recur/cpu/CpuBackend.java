package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.IndexTensor;
import dev.recur.api.LayerDims;
import dev.recur.api.LayerParams;
import dev.recur.api.LossOps;
import dev.recur.api.OptimizerOps;
import dev.recur.api.PerDirection;
import dev.recur.api.Shape;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import dev.recur.api.Workspace;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * The reference engine: pure Java, float32, on a fixed set of threads. Results are bitwise the
 * same at any thread count (see {@link Sgemm} and {@link Workers}). Argument checks are done by
 * {@link Backend}; this class only runs the ops.
 */
public final class CpuBackend extends Backend {

    /** Name used to force this engine: {@code -Drecur.backend=cpu}. */
    public static final String NAME = "cpu";

    private final Workers workers;
    private final Sgemm sgemm;
    private final CpuLayer layer;
    private final CpuOptionLayer optionLayer;
    /** The most recent {@link LayerPath} records, oldest first; guarded by itself. */
    private final ArrayDeque<LayerPath> paths = new ArrayDeque<>();
    /** How many {@link LayerPath} records {@link #layerPaths()} keeps. */
    static final int MAX_PATHS = 256;
    private final CpuTensorOps tensorOps = new CpuTensorOps(this);
    private final CpuLossOps lossOps = new CpuLossOps(this);
    private final CpuOptimizerOps optimizerOps = new CpuOptimizerOps(this);
    private volatile boolean closed;

    /** A backend on {@code threads} threads (the caller's included). */
    public CpuBackend(int threads) {
        this(threads, CpuLayer.TimeLoop.fromProperties());
    }

    /** A backend whose plain layer time loops run as {@code timeLoop} says (tests force a path so). */
    CpuBackend(int threads, CpuLayer.TimeLoop timeLoop) {
        this.workers = new Workers(threads);
        this.sgemm = new Sgemm(workers);
        this.layer = new CpuLayer(sgemm, workers, timeLoop);
        this.optionLayer = new CpuOptionLayer(sgemm, workers);
    }

    /** The number of threads: {@code -Drecur.cpu.threads}, else the available processors. */
    public static int defaultThreads() {
        String p = System.getProperty("recur.cpu.threads");
        if (p != null) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("recur.cpu.threads must be a whole number >= 1, got '" + p + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    @Override
    public String name() {
        return NAME;
    }

    public int threads() {
        return workers.threads();
    }

    @Override
    public void close() {
        closed = true;
        workers.close();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Tensor allocate(Shape shape) {
        return new CpuTensor(this, shape);
    }

    @Override
    protected IndexTensor allocateIndices(Shape shape) {
        return new CpuIndexTensor(this, shape);
    }

    @Override
    public TensorOps tensorOps() {
        return tensorOps;
    }

    @Override
    public LossOps lossOps() {
        return lossOps;
    }

    @Override
    public OptimizerOps optimizerOps() {
        return optimizerOps;
    }

    @Override
    protected Workspace newWorkspace(Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                                     boolean bidirectional) {
        return new CpuWorkspace(this, cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
    }

    @Override
    protected int firstNonFinite(Tensor t) {
        return firstNonFinite(data(t));
    }

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * Index of the first NaN or infinity in {@code d}, or -1. The Backend checks every layer
     * call's input, weights and output gradient: at B = 1 that is millions of floats a step, so
     * the common case (all finite) is one pass of fused multiply-adds, {@code acc += v·0}, which
     * stays 0 for finite values and turns NaN for the first NaN or infinity (0·∞ = NaN); only
     * then are the values scanned one by one for the index.
     */
    static int firstNonFinite(float[] d) {
        int lanes = SPECIES.length();
        int upper = d.length - d.length % (4 * lanes);
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector a0 = zero;
        FloatVector a1 = zero;
        FloatVector a2 = zero;
        FloatVector a3 = zero;
        for (int i = 0; i < upper; i += 4 * lanes) {
            a0 = FloatVector.fromArray(SPECIES, d, i).fma(zero, a0);
            a1 = FloatVector.fromArray(SPECIES, d, i + lanes).fma(zero, a1);
            a2 = FloatVector.fromArray(SPECIES, d, i + 2 * lanes).fma(zero, a2);
            a3 = FloatVector.fromArray(SPECIES, d, i + 3 * lanes).fma(zero, a3);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        int from = Float.isNaN(sum) ? 0 : upper;
        for (int i = from; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- GEMM

    @Override
    protected void gemmImpl(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                            float beta, Tensor c) {
        sgemm.gemm(transA, transB, m, n, k, alpha, data(a), 0, a.shape().dim(1), data(b), 0, b.shape().dim(1),
                beta, data(c), 0, n);
    }

    @Override
    protected void gemmStridedBatchedImpl(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                          Tensor a, Tensor b, float beta, Tensor c) {
        int lda = a.shape().dim(2);
        int ldb = b.shape().dim(2);
        int strideA = a.shape().dim(1) * lda;
        int strideB = b.shape().dim(1) * ldb;
        Sgemm.Call call = new Sgemm.Call();
        for (int i = 0; i < batch; i++) {
            sgemm.gemm(call, transA, transB, m, n, k, alpha, data(a), i * strideA, lda, data(b), i * strideB, ldb,
                    beta, data(c), i * m * n, n);
        }
    }

    // ---------------------------------------------------------------- layers

    @Override
    protected void layerForwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths, State init,
                                    LayerParams params, Tensor y, State fin, Workspace ws) {
        float[] ys = data(y);
        if (lengths != null) {
            Arrays.fill(ys, 0f); // padded steps output zero
        }
        layer.forward(cell, direction, d.steps(), d.batch(), data(x), lengths, h(init), c(init), arrays(params),
                ys, d.hidden(), 0, h(fin), c(fin), buffers(ws, direction));
        recordPlain("layerForward", cell, direction, d);
    }

    /** The forward's GEMMs and gate math without its saves (CpuLayer.inference): the same bits. */
    @Override
    protected void layerInferenceImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths, State init,
                                      LayerParams params, Tensor y, State fin, Workspace ws) {
        float[] ys = data(y);
        if (lengths != null) {
            Arrays.fill(ys, 0f); // padded steps output zero
        }
        layer.inference(cell, direction, d.steps(), d.batch(), data(x), lengths, h(init), c(init), arrays(params),
                ys, d.hidden(), 0, h(fin), c(fin), buffers(ws, direction));
        recordPlain("layerInference", cell, direction, d);
    }

    @Override
    protected void bidirectionalInferenceImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                              PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                              PerDirection<State> fin, Workspace ws) {
        float[] ys = data(y);
        if (lengths != null) {
            Arrays.fill(ys, 0f);
        }
        int width = 2 * d.hidden();
        for (Direction dir : Direction.values()) {
            State in = init == null ? null : init.get(dir);
            State out = fin == null ? null : fin.get(dir);
            layer.inference(cell, dir, d.steps(), d.batch(), data(x), lengths, h(in), c(in), arrays(params.get(dir)),
                    ys, width, dir == Direction.FORWARD ? 0 : d.hidden(), h(out), c(out), buffers(ws, dir));
            recordPlain("bidirectionalInference", cell, dir, d);
        }
    }

    @Override
    protected void layerBackwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                     LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx, State dInit,
                                     LayerParams grads) {
        layer.backward(cell, d.steps(), d.batch(), data(x), arrays(params), buffers(ws, direction),
                dy == null ? null : data(dy), d.hidden(), 0, h(dFin), c(dFin), dx == null ? null : data(dx), false,
                h(dInit), c(dInit), arrays(grads));
        recordPlain("layerBackward", cell, direction, d);
    }

    @Override
    protected void bidirectionalForwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths, PerDirection<State> init,
                                            PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                            Workspace ws) {
        float[] ys = data(y);
        Arrays.fill(ys, 0f);
        int width = 2 * d.hidden();
        for (Direction dir : Direction.values()) {
            State in = init == null ? null : init.get(dir);
            State out = fin == null ? null : fin.get(dir);
            layer.forward(cell, dir, d.steps(), d.batch(), data(x), lengths, h(in), c(in), arrays(params.get(dir)),
                    ys, width, dir == Direction.FORWARD ? 0 : d.hidden(), h(out), c(out), buffers(ws, dir));
            recordPlain("bidirectionalForward", cell, dir, d);
        }
    }

    @Override
    protected void bidirectionalBackwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                             PerDirection<LayerParams> params, Workspace ws, Tensor dy,
                                             PerDirection<State> dFin, Tensor dx, PerDirection<State> dInit,
                                             PerDirection<LayerParams> grads) {
        int width = 2 * d.hidden();
        for (Direction dir : Direction.values()) {
            State df = dFin == null ? null : dFin.get(dir);
            State di = dInit == null ? null : dInit.get(dir);
            layer.backward(cell, d.steps(), d.batch(), data(x), arrays(params.get(dir)), buffers(ws, dir),
                    dy == null ? null : data(dy), width, dir == Direction.FORWARD ? 0 : d.hidden(), h(df), c(df),
                    dx == null ? null : data(dx), dir == Direction.REVERSE, h(di), c(di), arrays(grads.get(dir)));
            recordPlain("bidirectionalBackward", cell, dir, d);
        }
    }

    // ---------------------------------------------------------------- single steps

    @Override
    protected void cellForwardImpl(Cell cell, LayerDims d, Tensor x, State prev, LayerParams params, State next,
                                   Workspace ws) {
        // One step is a layer of T = 1 whose output is the new h.
        layer.forward(cell, Direction.FORWARD, 1, d.batch(), data(x), null, h(prev), c(prev), arrays(params),
                data(next.h()), d.hidden(), 0, null, c(next), buffers(ws, Direction.FORWARD));
        recordPlain("cellForward", cell, Direction.FORWARD, d);
    }

    @Override
    protected void cellBackwardImpl(Cell cell, LayerDims d, Tensor x, LayerParams params, Workspace ws, State dNext,
                                    Tensor dx, State dPrev, LayerParams grads) {
        layer.backward(cell, 1, d.batch(), data(x), arrays(params), buffers(ws, Direction.FORWARD), h(dNext),
                d.hidden(), 0, null, c(dNext), dx == null ? null : data(dx), false, h(dPrev), c(dPrev),
                arrays(grads));
        recordPlain("cellBackward", cell, Direction.FORWARD, d);
    }

    // ---------------------------------------------------------------- layers with options or step masks

    @Override
    protected void layerForwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                    LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                    State fin, Workspace ws) {
        optionLayer.forward(true, cell, options, direction, d.steps(), d.batch(), d.input(), data(x), lengths,
                control.mask(), control.seed(), control.counter(), h(init), c(init), optionArrays(params), data(y),
                options.recurrentWidth(d.hidden()), 0, h(fin), c(fin), optionBuffers(ws, direction));
        record("layerForward", cell, direction, d, options, control);
    }

    @Override
    protected void layerInferenceImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                      LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                      State fin, Workspace ws) {
        optionLayer.forward(false, cell, options, direction, d.steps(), d.batch(), d.input(), data(x), lengths,
                control.mask(), control.seed(), control.counter(), h(init), c(init), optionArrays(params), data(y),
                options.recurrentWidth(d.hidden()), 0, h(fin), c(fin), optionBuffers(ws, direction));
        record("layerInference", cell, direction, d, options, control);
    }

    @Override
    protected void layerBackwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                     LayerDims d, Tensor x, int[] lengths, LayerParams params, Workspace ws,
                                     Tensor dy, State dFin, Tensor dx, State dInit, LayerParams grads) {
        optionLayer.backward(cell, options, direction, d.steps(), d.batch(), d.input(), data(x), lengths,
                control.mask(), control.seed(), control.counter(), optionArrays(params), optionBuffers(ws, direction),
                dy == null ? null : data(dy),
                options.recurrentWidth(d.hidden()), 0, h(dFin), c(dFin), dx == null ? null : data(dx), false,
                h(dInit), c(dInit), optionArrays(grads));
        record("layerBackward", cell, direction, d, options, control);
    }

    @Override
    protected void bidirectionalForwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                            Tensor x, int[] lengths, PerDirection<State> init,
                                            PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                            Workspace ws) {
        bidirectional(true, cell, options, control, d, x, lengths, init, params, y, fin, ws);
    }

    @Override
    protected void bidirectionalInferenceImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                              Tensor x, int[] lengths, PerDirection<State> init,
                                              PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                              Workspace ws) {
        bidirectional(false, cell, options, control, d, x, lengths, init, params, y, fin, ws);
    }

    /** Both directions one after the other; the reverse direction's draws start draws(...) after the forward's. */
    private void bidirectional(boolean training, Cell cell, CellOptions options, StepControl control, LayerDims d,
                               Tensor x, int[] lengths, PerDirection<State> init, PerDirection<LayerParams> params,
                               Tensor y, PerDirection<State> fin, Workspace ws) {
        String op = training ? "bidirectionalForward" : "bidirectionalInference";
        int rw = options.recurrentWidth(d.hidden());
        for (Direction dir : Direction.values()) {
            State in = init == null ? null : init.get(dir);
            State out = fin == null ? null : fin.get(dir);
            optionLayer.forward(training, cell, options, dir, d.steps(), d.batch(), d.input(), data(x), lengths,
                    control.mask(), control.seed(), counter(options, control, cell, d, dir), h(in), c(in),
                    optionArrays(params.get(dir)), data(y), 2 * rw, dir == Direction.FORWARD ? 0 : rw, h(out), c(out),
                    optionBuffers(ws, dir));
            record(op, cell, dir, d, options, control);
        }
    }

    @Override
    protected void bidirectionalBackwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                             Tensor x, int[] lengths, PerDirection<LayerParams> params, Workspace ws,
                                             Tensor dy, PerDirection<State> dFin, Tensor dx,
                                             PerDirection<State> dInit, PerDirection<LayerParams> grads) {
        int rw = options.recurrentWidth(d.hidden());
        for (Direction dir : Direction.values()) {
            State df = dFin == null ? null : dFin.get(dir);
            State di = dInit == null ? null : dInit.get(dir);
            OptionBuffers buf = optionBuffers(ws, dir);
            optionLayer.backward(cell, options, dir, d.steps(), d.batch(), d.input(), data(x), lengths,
                    control.mask(), control.seed(), counter(options, control, cell, d, dir),
                    optionArrays(params.get(dir)), buf, dy == null ? null : data(dy), 2 * rw,
                    dir == Direction.FORWARD ? 0 : rw, h(df), c(df), dx == null ? null : data(dx),
                    dir == Direction.REVERSE, h(di), c(di), optionArrays(grads.get(dir)));
            record("bidirectionalBackward", cell, dir, d, options, control);
        }
    }

    /** The first counter of {@code dir}'s draws: the reverse direction starts draws(...) after the forward's. */
    private static long counter(CellOptions o, StepControl control, Cell cell, LayerDims d, Direction dir) {
        return dir == Direction.FORWARD ? control.counter()
                : control.counter() + o.draws(cell, d.steps(), d.batch(), d.hidden());
    }

    // ---------------------------------------------------------------- paths

    /**
     * How the most recent layer and cell calls ran, oldest first (at most {@value #MAX_PATHS}
     * records): one {@link LayerPath} per direction of every forward, inference and backward,
     * naming the plain sliced, stepwise or by-rows loop, or the option path.
     */
    public List<LayerPath> layerPaths() {
        synchronized (paths) {
            return List.copyOf(paths);
        }
    }

    private void recordPlain(String op, Cell cell, Direction dir, LayerDims d) {
        add(new LayerPath(op, cell, dir, layer.loopKind(cell, d.batch(), d.hidden()), d.steps(), d.batch(),
                CellOptions.NONE, false));
    }

    private void record(String op, Cell cell, Direction dir, LayerDims d, CellOptions options, StepControl control) {
        add(new LayerPath(op, cell, dir, LayerPath.Kind.OPTIONS, d.steps(), d.batch(), options, control.hasMask()));
    }

    private void add(LayerPath p) {
        synchronized (paths) {
            if (paths.size() == MAX_PATHS) {
                paths.removeFirst();
            }
            paths.addLast(p);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static float[] data(Tensor t) {
        return ((CpuTensor) t).data();
    }

    private static float[] h(State s) {
        return s == null || s.h() == null ? null : data(s.h());
    }

    private static float[] c(State s) {
        return s == null || s.c() == null ? null : data(s.c());
    }

    private static CpuLayer.Params arrays(LayerParams p) {
        return new CpuLayer.Params(data(p.weightIh()), data(p.weightHh()), data(p.biasIh()), data(p.biasHh()),
                p.peephole() == null ? null : data(p.peephole()));
    }

    private static CpuOptionLayer.Params optionArrays(LayerParams p) {
        var ln = p.layerNorm();
        return new CpuOptionLayer.Params(data(p.weightIh()), data(p.weightHh()), data(p.biasIh()), data(p.biasHh()),
                p.peephole() == null ? null : data(p.peephole()), p.weightHr() == null ? null : data(p.weightHr()),
                ln == null ? null : data(ln.gainIh()), ln == null ? null : data(ln.biasIh()),
                ln == null ? null : data(ln.gainHh()), ln == null ? null : data(ln.biasHh()),
                ln == null || ln.gainC() == null ? null : data(ln.gainC()),
                ln == null || ln.biasC() == null ? null : data(ln.biasC()));
    }

    private static OptionBuffers optionBuffers(Workspace ws, Direction d) {
        return ((CpuWorkspace) ws).optionBuffers(d);
    }

    private static LayerBuffers buffers(Workspace ws, Direction d) {
        return ((CpuWorkspace) ws).buffers(d);
    }
}
