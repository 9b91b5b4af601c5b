package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.IndexTensor;
import dev.recur.api.LayerDims;
import dev.recur.api.LayerParams;
import dev.recur.api.LossOps;
import dev.recur.api.OptimizerOps;
import dev.recur.api.PerDirection;
import dev.recur.api.Shape;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import dev.recur.api.Workspace;

import java.util.Arrays;

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
    private final CpuTensorOps tensorOps = new CpuTensorOps(this);
    private final CpuLossOps lossOps = new CpuLossOps(this);
    private final CpuOptimizerOps optimizerOps = new CpuOptimizerOps(this);
    private volatile boolean closed;

    /** A backend on {@code threads} threads (the caller's included). */
    public CpuBackend(int threads) {
        this.workers = new Workers(threads);
        this.sgemm = new Sgemm(workers);
        this.layer = new CpuLayer(sgemm, workers);
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
        float[] d = data(t);
        for (int i = 0; i < d.length; i++) {
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
        }
    }

    @Override
    protected void layerBackwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                     LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx, State dInit,
                                     LayerParams grads) {
        layer.backward(cell, d.steps(), d.batch(), data(x), arrays(params), buffers(ws, direction),
                dy == null ? null : data(dy), d.hidden(), 0, h(dFin), c(dFin), dx == null ? null : data(dx), false,
                h(dInit), c(dInit), arrays(grads));
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
        }
    }

    // ---------------------------------------------------------------- single steps

    @Override
    protected void cellForwardImpl(Cell cell, LayerDims d, Tensor x, State prev, LayerParams params, State next,
                                   Workspace ws) {
        // One step is a layer of T = 1 whose output is the new h.
        layer.forward(cell, Direction.FORWARD, 1, d.batch(), data(x), null, h(prev), c(prev), arrays(params),
                data(next.h()), d.hidden(), 0, null, c(next), buffers(ws, Direction.FORWARD));
    }

    @Override
    protected void cellBackwardImpl(Cell cell, LayerDims d, Tensor x, LayerParams params, Workspace ws, State dNext,
                                    Tensor dx, State dPrev, LayerParams grads) {
        layer.backward(cell, 1, d.batch(), data(x), arrays(params), buffers(ws, Direction.FORWARD), h(dNext),
                d.hidden(), 0, null, c(dNext), dx == null ? null : data(dx), false, h(dPrev), c(dPrev),
                arrays(grads));
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

    private static LayerBuffers buffers(Workspace ws, Direction d) {
        return ((CpuWorkspace) ws).buffers(d);
    }
}
