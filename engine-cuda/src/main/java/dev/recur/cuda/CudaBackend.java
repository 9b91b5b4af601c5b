package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.IndexTensor;
import dev.recur.api.LayerDims;
import dev.recur.api.LayerNormParams;
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

import java.util.ArrayList;
import java.util.List;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * The CUDA engine: one device's primary context, two streams, a caching allocator, cuBLAS and
 * the fused kernels. Argument checks are done by {@link Backend}; this class runs the ops, the
 * non-recurrent ones through {@link CudaTensorOps}, {@link CudaLossOps} and
 * {@link CudaOptimizerOps}.
 *
 * <h2>Streams</h2>
 * Everything runs on the <em>main</em> stream, in call order. The <em>second</em> stream exists
 * so that an op may run independent work side by side (the two directions of a bidirectional
 * layer); such an op first makes the second stream wait for the main one
 * ({@link #secondWaitsForMain()}) and, before it returns, makes the main stream wait for the
 * second ({@link #mainWaitsForSecond()}). So when any op returns, all its work is ordered on the
 * main stream, which is what makes {@link CachingAllocator}'s reuse of released blocks safe and
 * {@link Tensor#copyTo} see every earlier result.
 *
 * <h2>Threads</h2>
 * Ops may come from any thread; each entry point that reaches the driver makes the context
 * current first ({@link CudaContext#makeCurrent()}, one thread-local read when it already is).
 * Ops from several threads at once are enqueued on the same streams in whatever order the
 * threads reach them; callers that need an order impose it.
 *
 * <h2>Layers</h2>
 * The whole-sequence layer ops and the per-step cell ops run in {@link CudaLayer} (the time loop
 * as a CUDA graph where it can, see its Note [Graphs of the time loop]), with their memory in the
 * {@link CudaWorkspace}; {@link #layerPaths()} reports how each call's loops ran. Layer ops on a
 * workspace with {@link CellOptions}, or given a step mask, run in {@link CudaOptionLayer} (the
 * option path: layer normalisation, recurrent dropout, zoneout, projections, masks with holes; records of kind
 * {@link LayerPath.Kind#OPTIONS}); plain calls never reach it.
 *
 * <h2>Determinism</h2>
 * Nothing here uses floating-point atomics. cuBLAS runs with one handle and one workspace per
 * stream, no TF32 unless asked for ({@link CudaOptions#tf32()}), and atomics disallowed, which is
 * what its reproducibility notes ask for (see {@link Cublas}).
 */
public final class CudaBackend extends Backend {

    /** Name used to force this engine: {@code -Drecur.backend=cuda}. */
    public static final String NAME = "cuda";

    private final CudaOptions options;
    private final CudaContext context;
    private final CudaStream mainStream;
    private final CudaStream secondStream;
    private final CudaStream.Event mainReached;
    private final CudaStream.Event secondReached;
    /** Private streams the layers' time loops are captured on (null when graphs are off); see {@link #captureStreamFor}. */
    private final CudaStream mainCapture;
    private final CudaStream secondCapture;
    private final CachingAllocator allocator;
    private final HostTransfers transfers;
    private final Cublas.Library cublas;
    private final CudaGemm blas;
    private final CudaKernels kernels;
    private final CudaLayer layer;
    private final CudaOptionLayer optionLayer;
    /** [1] int, then {@link CudaKernels#firstNonFiniteScratchBytes()}: the finiteness check's result and partials. */
    private final DeviceBlock finiteScratch;
    private final int[] finiteResult = new int[1];
    /** The non-recurrent ops; the first two own scratch memory, released before the allocator closes. */
    private final CudaTensorOps tensorOps;
    private final CudaLossOps lossOps;
    private final CudaOptimizerOps optimizerOps;
    /** Everything above that needs closing, in the order it was made (closed in reverse). */
    private final List<AutoCloseable> resources = new ArrayList<>();
    private volatile boolean closed;

    /** A backend with the settings of the system properties ({@link CudaOptions#fromSystemProperties()}). */
    public CudaBackend() {
        this(CudaOptions.fromSystemProperties());
    }

    /**
     * A backend on {@code options.device()}.
     *
     * @throws BackendUnavailableException when there is no driver, device or cuBLAS (the reason as the probe gives it)
     * @throws CudaException               when a driver or cuBLAS call fails while setting up
     */
    public CudaBackend(CudaOptions options) {
        this.options = options;
        String noDriver = CudaDriver.unavailableReason();
        if (noDriver != null) {
            throw new BackendUnavailableException("cuda: " + noDriver);
        }
        try {
            context = keep(CudaContext.open(options.device()));
            try {
                cublas = Cublas.library(context.device().driverVersion());
            } catch (IllegalStateException e) {
                throw new BackendUnavailableException("cuda: " + e.getMessage());
            }
            mainStream = keep(new CudaStream("main"));
            secondStream = keep(new CudaStream("second"));
            mainReached = keep(new CudaStream.Event());
            secondReached = keep(new CudaStream.Event());
            mainCapture = options.graphs() ? keep(new CudaStream("main-capture")) : null;
            secondCapture = options.graphs() ? keep(new CudaStream("second-capture")) : null;
            DriverDeviceMemory raw = new DriverDeviceMemory(context);
            allocator = keep(new CachingAllocator(raw, options.recordAllocationSites(), System.err::println));
            transfers = keep(new HostTransfers(context, mainStream));
            // A cuBLAS handle (and workspace) per stream, the capture streams' included: a graph's
            // GEMMs keep using the workspace of the handle they were captured with.
            List<CudaStream> gemmStreams = options.graphs()
                    ? List.of(mainStream, secondStream, mainCapture, secondCapture)
                    : List.of(mainStream, secondStream);
            blas = keep(new CudaGemm(context, cublas, raw, gemmStreams, options.tf32()));
            // The fused kernels are loaded here and nowhere else, with this context current.
            kernels = keep(CudaKernels.load());
            finiteScratch = allocator.allocate(Integer.BYTES + CudaKernels.firstNonFiniteScratchBytes(),
                    "finiteness check");
            DeviceBlock scratch = finiteScratch;
            keep(() -> allocator.release(scratch)); // before the allocator closes, so it is no leak
            // Kept after the allocator, so closing (newest first) gives their scratch back before it closes.
            tensorOps = keep(new CudaTensorOps(this));
            lossOps = keep(new CudaLossOps(this));
            optimizerOps = new CudaOptimizerOps(this);
            LayerView view = new LayerView();
            layer = new CudaLayer(view, options.graphs());
            optionLayer = new CudaOptionLayer(view, layer);
        } catch (RuntimeException e) {
            try {
                closeResources();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private <T extends AutoCloseable> T keep(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public String name() {
        return NAME;
    }

    public CudaOptions options() {
        return options;
    }

    /** One line about the device and libraries, for reports: name, sm, SMs, memory, driver, cuBLAS. */
    public String describe() {
        return context.device().describe() + ", " + cublas.describe() + (options.tf32() ? ", TF32 allowed" : "");
    }

    // ---------------------------------------------------------------- for the engine's own classes

    CudaContext context() {
        return context;
    }

    DeviceInfo device() {
        return context.device();
    }

    /** The stream every op runs on (see the class comment). */
    CudaStream mainStream() {
        return mainStream;
    }

    /** The stream for work that runs beside the main stream's, inside one op. */
    CudaStream secondStream() {
        return secondStream;
    }

    /** Work enqueued on the second stream from now on starts after the main stream's work so far. */
    void secondWaitsForMain() {
        enter("secondWaitsForMain");
        mainReached.record(mainStream);
        secondStream.waitFor(mainReached);
    }

    /** Work enqueued on the main stream from now on starts after the second stream's work so far. */
    void mainWaitsForSecond() {
        enter("mainWaitsForSecond");
        secondReached.record(secondStream);
        mainStream.waitFor(secondReached);
    }

    /**
     * The private stream on which the time loops of work meant for {@code stream} (main or second)
     * are captured into CUDA graphs. Nothing else is ever enqueued on it, so a capture holds only
     * the loop, whatever other threads do meanwhile; it has its own cuBLAS handle and workspace,
     * which the captured GEMMs keep using when the graph is launched on {@code stream}.
     *
     * @throws IllegalStateException when graphs are off ({@link CudaOptions#graphs()})
     */
    CudaStream captureStreamFor(CudaStream stream) {
        if (mainCapture == null) {
            throw new IllegalStateException("captureStreamFor: CUDA graphs are off (-D" + CudaOptions.GRAPHS_PROPERTY
                    + "=false)");
        }
        if (stream == mainStream) {
            return mainCapture;
        }
        if (stream == secondStream) {
            return secondCapture;
        }
        throw new IllegalArgumentException("captureStreamFor: " + stream.name() + " is neither the main nor the second stream");
    }

    /**
     * How the time loops of the most recent layer and cell calls ran, oldest first (at most
     * 256 records): for every forward and backward, one {@link LayerPath}
     * per direction saying whether its loop was captured into a CUDA graph, replayed from one, or
     * run stepwise, and why stepwise. Graphs are on unless {@code -Drecur.cuda.graphs=false}.
     */
    public List<LayerPath> layerPaths() {
        return layer.paths();
    }

    /** Blocks until both streams are idle. */
    @Override
    public void synchronize() {
        enter("synchronize");
        mainStream.synchronize();
        secondStream.synchronize();
    }

    CachingAllocator allocator() {
        return allocator;
    }

    /** Row-major GEMMs on either stream (cuBLAS). */
    CudaGemm blas() {
        return blas;
    }

    /** The fused kernels (one module, loaded in this backend's context). */
    CudaKernels kernels() {
        return kernels;
    }

    /** The fused kernels with this backend's context made current on this thread (the ops' launches). */
    CudaKernels currentKernels() {
        context.makeCurrent();
        return kernels;
    }

    /** The main stream as a raw {@code cudaStream_t}, for NCCL. */
    long mainStreamAddress() {
        return mainStream.address();
    }

    /**
     * NCCL on this engine's main stream ({@link NcclCollective}) for a job of several ranks; where
     * NCCL cannot be bound, {@code host} (gradients then go through host memory and MPI, slower),
     * and the reason is printed once on standard error.
     */
    @Override
    public dev.recur.api.Collective deviceCollective(dev.recur.api.Collective host) {
        if (host.worldSize() == 1) {
            return host;
        }
        Nccl.Library nccl;
        try {
            nccl = Nccl.library();
        } catch (IllegalStateException e) {
            if (host.rank() == 0) {
                System.err.println("recur: cuda: " + e.getMessage() + "; gradients go through host memory and "
                        + host.description());
            }
            return host;
        }
        return NcclCollective.open(nccl, host, this);
    }

    /** The main stream's driver handle, which the ops' kernel launches take. */
    jcuda.driver.CUstream mainStreamHandle() {
        return mainStream.handle();
    }

    HostTransfers transfers() {
        return transfers;
    }

    /** A block of device memory from the caching allocator (contents undefined). */
    DeviceBlock allocateBlock(long bytes, String owner) {
        enter("allocate");
        return allocator.allocate(bytes, owner);
    }

    /** Returns a block to the allocator; nothing happens once the backend is closed (all memory is gone then). */
    void release(DeviceBlock block) {
        allocator.release(block);
    }

    /** Sets {@code count} 32-bit words at {@code address} to {@code bits}, on {@code stream}. */
    void memsetD32(long address, int bits, long count, CudaStream stream) {
        enter("memset");
        CudaDriver.check(cuMemsetD32Async(DevicePointer.at(address), bits, count, stream.handle()),
                "cuMemsetD32Async(" + count + " words)");
    }

    /** Copies {@code bytes} bytes from {@code src} to {@code dst} (device to device), on {@code stream}. */
    void copyOnDevice(long dst, long src, long bytes, CudaStream stream) {
        enter("copy");
        CudaDriver.check(cuMemcpyDtoDAsync(DevicePointer.at(dst), DevicePointer.at(src), bytes, stream.handle()),
                "cuMemcpyDtoDAsync(" + bytes + " B)");
    }

    /** The tensor as this engine's type (after {@link Backend}'s ownership check). */
    static CudaTensor cuda(Tensor t) {
        return (CudaTensor) t;
    }

    /** The device address of {@code t}'s first element. */
    static long address(Tensor t) {
        return ((CudaTensor) t).address();
    }

    /** The device address of {@code t}'s first element. */
    static long address(IndexTensor t) {
        return ((CudaIndexTensor) t).address();
    }

    /** Refuses a closed backend, then makes its context current on this thread (every op's first step). */
    void enter(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the " + NAME + " backend is closed");
        }
        context.makeCurrent();
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Tensor allocate(Shape shape) {
        CudaTensor t = new CudaTensor(this, shape, allocateBlock(4L * shape.size(), "tensor " + shape));
        t.fill(0f);
        return t;
    }

    @Override
    protected IndexTensor allocateIndices(Shape shape) {
        DeviceBlock block = allocateBlock(4L * shape.size(), "index tensor " + shape);
        memsetD32(block.address(), 0, shape.size(), mainStream);
        return new CudaIndexTensor(this, shape, block);
    }

    @Override
    protected Workspace newWorkspace(Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                                     boolean bidirectional) {
        return new CudaWorkspace(this, cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
    }

    /**
     * The index of the first NaN or ±Inf of {@code t}, or -1: a deterministic two-stage device
     * reduction (per-block minimum index, then the minimum of the blocks), then one 4-byte read,
     * which waits for the main stream.
     */
    @Override
    protected synchronized int firstNonFinite(Tensor t) {
        enter("firstNonFinite");
        long result = finiteScratch.address();
        kernels.firstNonFinite(mainStream.handle(), t.shape().size(), address(t), result, result + Integer.BYTES);
        transfers.download(result, finiteResult, 1);
        return finiteResult[0];
    }

    // ---------------------------------------------------------------- GEMM

    @Override
    protected void gemmImpl(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                            float beta, Tensor c) {
        // a [M, K] or [K, M], b [K, N] or [N, K], c [M, N]: each one's row stride is its second dimension.
        blas.gemm(mainStream, transA, transB, m, n, k, alpha, address(a), a.shape().dim(1), address(b),
                b.shape().dim(1), beta, address(c), n);
    }

    @Override
    protected void gemmStridedBatchedImpl(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                          Tensor a, Tensor b, float beta, Tensor c) {
        // [batch, rows, cols] each: a matrix's row stride is cols, the batch stride rows·cols.
        int lda = a.shape().dim(2);
        int ldb = b.shape().dim(2);
        blas.gemmStridedBatched(mainStream, transA, transB, m, n, k, alpha, address(a), lda,
                (long) a.shape().dim(1) * lda, address(b), ldb, (long) b.shape().dim(1) * ldb, beta, address(c), n,
                (long) m * n, batch);
    }

    // ---------------------------------------------------------------- ops, layers, cells

    /** Element-wise, embedding, bias, dropout, transpose and clipping ops on this device (one instance). */
    @Override
    public TensorOps tensorOps() {
        return tensorOps;
    }

    /** Losses on this device, the loss left in a [1] device tensor (one instance). */
    @Override
    public LossOps lossOps() {
        return lossOps;
    }

    /** Optimizer updates on this device, the CPU engine's bits (one instance). */
    @Override
    public OptimizerOps optimizerOps() {
        return optimizerOps;
    }

    // ---------------------------------------------------------------- layers

    @Override
    protected void layerForwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths, State init,
                                    LayerParams params, Tensor y, State fin, Workspace ws) {
        layer.forward("layerForward", cell, direction, d.steps(), d.batch(), address(x), lengths,
                forward(init, params, fin), address(y), d.hidden(), 0, buffers(ws, direction));
    }

    /**
     * Inference on the GPU runs the forward's own kernels (input GEMM, per-step GEMM and fused
     * cell kernel, in a captured graph where the forward would use one) with the workspace as
     * scratch: it writes the saved-for-backward buffers as the forward does, but the
     * {@code Backend} marks the workspace empty, so no backward reads them. It saves no device
     * time over {@link #layerForward}; its point here is the contract (a workspace, not a reserve
     * kept for a backward), which lets the engine drop the saves later without a caller changing.
     */
    @Override
    protected void layerInferenceImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths, State init,
                                      LayerParams params, Tensor y, State fin, Workspace ws) {
        layer.forward("layerInference", cell, direction, d.steps(), d.batch(), address(x), lengths,
                forward(init, params, fin), address(y), d.hidden(), 0, buffers(ws, direction));
    }

    /** Both directions' forward kernels with the workspace as scratch (see {@link #layerInferenceImpl}). */
    @Override
    protected void bidirectionalInferenceImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                              PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                              PerDirection<State> fin, Workspace ws) {
        CudaLayer.Forward[] dirs = new CudaLayer.Forward[2];
        for (Direction dir : Direction.values()) {
            dirs[dir.ordinal()] = forward(init == null ? null : init.get(dir), params.get(dir),
                    fin == null ? null : fin.get(dir));
        }
        layer.bidirectionalForward("bidirectionalInference", cell, d.steps(), d.batch(), address(x), lengths,
                dirs[Direction.FORWARD.ordinal()], dirs[Direction.REVERSE.ordinal()], address(y),
                buffers(ws, Direction.FORWARD), buffers(ws, Direction.REVERSE));
    }

    @Override
    protected void layerBackwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                     LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx, State dInit,
                                     LayerParams grads) {
        layer.backward("layerBackward", cell, d.steps(), d.batch(), address(x), buffers(ws, direction),
                dy == null ? 0 : address(dy), d.hidden(), 0, backward(params, dFin, dInit, grads),
                dx == null ? 0 : address(dx));
    }

    @Override
    protected void bidirectionalForwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths, PerDirection<State> init,
                                            PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                            Workspace ws) {
        CudaLayer.Forward[] dirs = new CudaLayer.Forward[2];
        for (Direction dir : Direction.values()) {
            dirs[dir.ordinal()] = forward(init == null ? null : init.get(dir), params.get(dir),
                    fin == null ? null : fin.get(dir));
        }
        layer.bidirectionalForward("bidirectionalForward", cell, d.steps(), d.batch(), address(x), lengths,
                dirs[Direction.FORWARD.ordinal()], dirs[Direction.REVERSE.ordinal()], address(y),
                buffers(ws, Direction.FORWARD), buffers(ws, Direction.REVERSE));
    }

    @Override
    protected void bidirectionalBackwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                             PerDirection<LayerParams> params, Workspace ws, Tensor dy,
                                             PerDirection<State> dFin, Tensor dx, PerDirection<State> dInit,
                                             PerDirection<LayerParams> grads) {
        CudaLayer.Backward[] dirs = new CudaLayer.Backward[2];
        for (Direction dir : Direction.values()) {
            dirs[dir.ordinal()] = backward(params.get(dir), dFin == null ? null : dFin.get(dir),
                    dInit == null ? null : dInit.get(dir), grads.get(dir));
        }
        layer.bidirectionalBackward("bidirectionalBackward", cell, d.steps(), d.batch(), address(x),
                dy == null ? 0 : address(dy), dx == null ? 0 : address(dx), dirs[Direction.FORWARD.ordinal()],
                dirs[Direction.REVERSE.ordinal()], buffers(ws, Direction.FORWARD), buffers(ws, Direction.REVERSE));
    }

    // ---------------------------------------------------------------- the option path

    /*
     * Layer ops on a workspace with CellOptions, or with a step mask (Backend routes them here;
     * plain calls go to the methods above): CudaOptionLayer, one direction after the other on the
     * main stream. A bidirectional call's reverse direction draws from counter + draws(...).
     */

    @Override
    protected void layerForwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                    LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                    State fin, Workspace ws) {
        optionForward("layerForward", cell, options, control, direction, d, x, lengths, init, params, y, fin, ws,
                true);
    }

    @Override
    protected void layerInferenceImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                      LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                                      State fin, Workspace ws) {
        optionForward("layerInference", cell, options, control, direction, d, x, lengths, init, params, y, fin, ws,
                false);
    }

    @Override
    protected void layerBackwardImpl(Cell cell, CellOptions options, StepControl control, Direction direction,
                                     LayerDims d, Tensor x, int[] lengths, LayerParams params, Workspace ws,
                                     Tensor dy, State dFin, Tensor dx, State dInit, LayerParams grads) {
        int r = options.recurrentWidth(d.hidden());
        optionLayer.backward("layerBackward", cell, d.steps(), d.batch(), address(x),
                optionLayer.buffers((CudaWorkspace) ws, direction), call(options, control, true),
                dy == null ? 0 : address(dy), r, 0, optionBackward(params, dFin, dInit, grads),
                dx == null ? 0 : address(dx), false);
    }

    @Override
    protected void bidirectionalForwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                            Tensor x, int[] lengths, PerDirection<State> init,
                                            PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                            Workspace ws) {
        optionBidirectional("bidirectionalForward", cell, options, control, d, x, lengths, init, params, y, fin, ws,
                true);
    }

    @Override
    protected void bidirectionalInferenceImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                              Tensor x, int[] lengths, PerDirection<State> init,
                                              PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                              Workspace ws) {
        optionBidirectional("bidirectionalInference", cell, options, control, d, x, lengths, init, params, y, fin,
                ws, false);
    }

    @Override
    protected void bidirectionalBackwardImpl(Cell cell, CellOptions options, StepControl control, LayerDims d,
                                             Tensor x, int[] lengths, PerDirection<LayerParams> params, Workspace ws,
                                             Tensor dy, PerDirection<State> dFin, Tensor dx,
                                             PerDirection<State> dInit, PerDirection<LayerParams> grads) {
        String op = "bidirectionalBackward";
        optionLayer.bidirectionalBackward(op, cell, d.steps(), d.batch(), address(x), call(options, control, true),
                dy == null ? 0 : address(dy), dx == null ? 0 : address(dx),
                optionBackward(params.get(Direction.FORWARD), dFin == null ? null : dFin.get(Direction.FORWARD),
                        dInit == null ? null : dInit.get(Direction.FORWARD), grads.get(Direction.FORWARD)),
                optionBackward(params.get(Direction.REVERSE), dFin == null ? null : dFin.get(Direction.REVERSE),
                        dInit == null ? null : dInit.get(Direction.REVERSE), grads.get(Direction.REVERSE)),
                optionLayer.buffers((CudaWorkspace) ws, Direction.FORWARD),
                optionLayer.buffers((CudaWorkspace) ws, Direction.REVERSE));
    }

    private void optionForward(String op, Cell cell, CellOptions options, StepControl control, Direction direction,
                               LayerDims d, Tensor x, int[] lengths, State init, LayerParams params, Tensor y,
                               State fin, Workspace ws, boolean train) {
        int r = options.recurrentWidth(d.hidden());
        optionLayer.forward(op, cell, direction, d.steps(), d.batch(), address(x), lengths,
                call(options, control, train), control.counter(), optionForward(init, params, fin), address(y), r, 0,
                optionLayer.buffers((CudaWorkspace) ws, direction));
    }

    private void optionBidirectional(String op, Cell cell, CellOptions options, StepControl control, LayerDims d,
                                     Tensor x, int[] lengths, PerDirection<State> init,
                                     PerDirection<LayerParams> params, Tensor y, PerDirection<State> fin,
                                     Workspace ws, boolean train) {
        optionLayer.bidirectionalForward(op, cell, d.steps(), d.batch(), address(x), lengths,
                call(options, control, train), control.counter(),
                control.counter() + options.draws(cell, d.steps(), d.batch(), d.hidden()),
                optionForward(init == null ? null : init.get(Direction.FORWARD), params.get(Direction.FORWARD),
                        fin == null ? null : fin.get(Direction.FORWARD)),
                optionForward(init == null ? null : init.get(Direction.REVERSE), params.get(Direction.REVERSE),
                        fin == null ? null : fin.get(Direction.REVERSE)),
                address(y), optionLayer.buffers((CudaWorkspace) ws, Direction.FORWARD),
                optionLayer.buffers((CudaWorkspace) ws, Direction.REVERSE));
    }

    private static CudaOptionLayer.Call call(CellOptions options, StepControl control, boolean train) {
        return new CudaOptionLayer.Call(options, control.mask(), control.seed(), train);
    }

    private static CudaOptionLayer.Params optionAddresses(LayerParams p) {
        LayerNormParams n = p.layerNorm();
        CudaOptionLayer.Norm norm = n == null ? null : new CudaOptionLayer.Norm(address(n.gainIh()),
                address(n.biasIh()), address(n.gainHh()), address(n.biasHh()),
                n.gainC() == null ? 0 : address(n.gainC()), n.biasC() == null ? 0 : address(n.biasC()));
        return new CudaOptionLayer.Params(address(p.weightIh()), address(p.weightHh()), address(p.biasIh()),
                address(p.biasHh()), p.peephole() == null ? 0 : address(p.peephole()),
                p.weightHr() == null ? 0 : address(p.weightHr()), norm);
    }

    private static CudaOptionLayer.Forward optionForward(State init, LayerParams params, State fin) {
        return new CudaOptionLayer.Forward(h(init), c(init), optionAddresses(params), h(fin), c(fin));
    }

    private static CudaOptionLayer.Backward optionBackward(LayerParams params, State dFin, State dInit,
                                                           LayerParams grads) {
        return new CudaOptionLayer.Backward(optionAddresses(params), h(dFin), c(dFin), h(dInit), c(dInit),
                optionAddresses(grads));
    }

    // ---------------------------------------------------------------- single steps

    @Override
    protected void cellForwardImpl(Cell cell, LayerDims d, Tensor x, State prev, LayerParams params, State next,
                                   Workspace ws) {
        // One step is a layer of T = 1 whose output is the new h.
        layer.forward("cellForward", cell, Direction.FORWARD, 1, d.batch(), address(x), null,
                new CudaLayer.Forward(h(prev), c(prev), addresses(params), 0, c(next)), address(next.h()),
                d.hidden(), 0, buffers(ws, Direction.FORWARD));
    }

    @Override
    protected void cellBackwardImpl(Cell cell, LayerDims d, Tensor x, LayerParams params, Workspace ws, State dNext,
                                    Tensor dx, State dPrev, LayerParams grads) {
        layer.backward("cellBackward", cell, 1, d.batch(), address(x), buffers(ws, Direction.FORWARD), h(dNext),
                d.hidden(), 0, new CudaLayer.Backward(addresses(params), 0, c(dNext), h(dPrev), c(dPrev),
                        addresses(grads)), dx == null ? 0 : address(dx));
    }

    // ---------------------------------------------------------------- layer helpers

    /** This backend as the layer code sees it ({@link LayerDevice}): every call goes to the members above. */
    private final class LayerView implements LayerDevice {

        @Override
        public void enter(String op) {
            CudaBackend.this.enter(op);
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public CudaKernels kernels() {
            return kernels;
        }

        @Override
        public CudaStream mainStream() {
            return mainStream;
        }

        @Override
        public CudaStream secondStream() {
            return secondStream;
        }

        @Override
        public void secondWaitsForMain() {
            CudaBackend.this.secondWaitsForMain();
        }

        @Override
        public void mainWaitsForSecond() {
            CudaBackend.this.mainWaitsForSecond();
        }

        @Override
        public void gemm(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                         int lda, long b, int ldb, float beta, long c, int ldc) {
            blas.gemm(stream, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }

        @Override
        public void copy(long dst, long src, long bytes, CudaStream stream) {
            copyOnDevice(dst, src, bytes, stream);
        }

        @Override
        public void memsetD32(long dst, int bits, long count, CudaStream stream) {
            CudaBackend.this.memsetD32(dst, bits, count, stream);
        }

        @Override
        public void upload(int[] src, long dst, int count) {
            transfers.upload(src, dst, count);
        }

        @Override
        public CudaStream captureStreamFor(CudaStream stream) {
            return CudaBackend.this.captureStreamFor(stream);
        }

        @Override
        public Graph capture(CudaStream stream, Runnable body) throws CudaGraph.CaptureFailedException {
            return CudaGraph.capture(stream, body);
        }
    }

    private static long h(State s) {
        return s == null || s.h() == null ? 0 : address(s.h());
    }

    private static long c(State s) {
        return s == null || s.c() == null ? 0 : address(s.c());
    }

    private static CudaLayer.Params addresses(LayerParams p) {
        return new CudaLayer.Params(address(p.weightIh()), address(p.weightHh()), address(p.biasIh()),
                address(p.biasHh()), p.peephole() == null ? 0 : address(p.peephole()));
    }

    private static CudaLayer.Forward forward(State init, LayerParams params, State fin) {
        return new CudaLayer.Forward(h(init), c(init), addresses(params), h(fin), c(fin));
    }

    private static CudaLayer.Backward backward(LayerParams params, State dFin, State dInit, LayerParams grads) {
        return new CudaLayer.Backward(addresses(params), h(dFin), c(dFin), h(dInit), c(dInit), addresses(grads));
    }

    private CudaLayerBuffers buffers(Workspace ws, Direction d) {
        return layer.buffers((CudaWorkspace) ws, d);
    }

    // ---------------------------------------------------------------- closing

    /**
     * Waits for the device, frees everything (reporting leaked blocks on {@code System.err}, see
     * {@link CachingAllocator}) and releases the context. Idempotent; ops fail afterwards, and
     * tensors of this backend count as closed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        RuntimeException first = null;
        try {
            context.makeCurrent();
            mainStream.synchronize();
            secondStream.synchronize();
        } catch (RuntimeException e) {
            first = e; // a failed kernel surfaces here; free what we can anyway
        }
        try {
            layer.close(); // the workspaces' CUDA graphs, while the context is still there
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else {
                first.addSuppressed(e);
            }
        }
        closed = true;
        try {
            closeResources();
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else {
                first.addSuppressed(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Closes what the constructor made, newest first; the context goes last. */
    private void closeResources() {
        RuntimeException first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                if (i > 0) {
                    context.makeCurrent();
                }
                resources.get(i).close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                if (first == null) {
                    first = r;
                } else {
                    first.addSuppressed(r);
                }
            }
        }
        resources.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "CudaBackend[" + context.device().name() + ", " + context.device().smName() + (closed ? ", closed" : "")
                + "]";
    }
}
