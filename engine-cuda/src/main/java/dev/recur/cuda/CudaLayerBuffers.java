package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.StepPlan;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The device memory of one direction of one layer (engine-cpu's LayerBuffers, on the GPU): what
 * the forward saves for the backward and the per-step scratch, all in blocks owned by the
 * {@link CudaWorkspace} (its {@link LayerDevice.Memory}), sized once for the workspace's maxima
 * ({@code Nmax = maxT * maxB} packed rows). The forward's buffers are made on the first forward, the backward's on the first
 * backward; after that no call allocates. Also kept here: the {@link StepPlan}, the plan's index
 * arrays on the device, and the CUDA graphs captured for this direction ({@link #graph}).
 *
 * <p>Index arrays: a packed plan's {@code perm} and dense rows are uploaded once per call
 * ({@link #upload}); the identity plan needs none, since its perm and its dense rows are both
 * 0, 1, 2, ..., which {@link #iota} holds from the start.
 *
 * <p>Closing destroys the graphs; the memory goes back with the workspace's other blocks.
 */
final class CudaLayerBuffers implements AutoCloseable {

    /** Graphs kept per direction (forward and backward loops together), least recently used dropped first. */
    static final int MAX_GRAPHS = 8;

    final Cell cell;
    final int inputSize;
    final int hidden;
    final int gh;
    final int maxRows;
    final int maxBatch;
    final StepPlan plan;

    final int[] permHost;       // [maxB]  the plan's perm, staged for upload
    final int[] denseRowsHost;  // [Nmax]  the plan's dense rows, staged for upload
    final long iota;            // [Nmax] int  0, 1, 2, ...: perm and dense rows of the identity plan
    final long permPacked;      // [maxB] int  perm of the last packed plan
    final long denseRowsPacked; // [Nmax] int  dense rows of the last packed plan

    final long xPacked;  // [Nmax, I]    x in packed order (unused when the plan is the identity)
    final long gates;    // [Nmax, G*H]  input projections, then the activated gates
    final long hPrev;    // [Nmax, H]    h_{t-1} of each packed row
    final long cPrev;    // [Nmax, H]    c_{t-1} (LSTM family; else 0)
    final long cNext;    // [Nmax, H]    c_t (LSTM family; else 0)
    final long extra;    // [Nmax, H]    GRU: W_hn h_{t-1} + b_hn; original GRU: r ⊙ h_{t-1}; else 0
    final long hg;       // [maxB, G*H]  this step's h_{t-1}·W_hhᵀ
    final long h;        // [maxB, H]    running h, packed order
    final long c;        // [maxB, H]    running c, packed order (LSTM family; else 0)

    long dGx;            // [Nmax, G*H]  pre-activation gradients, input side (0 before the first backward)
    long dGh;            // [Nmax, G*H]  recurrent side (the same buffer except for GRU)
    long dh;             // [maxB, H]    gradient reaching the running h
    long dc;             // [maxB, H]    gradient reaching the running c (LSTM family; else 0)
    long dRh;            // [maxB, H]    original GRU: gradient reaching r ⊙ h_{t-1}; else 0
    long dxPacked;       // [Nmax, I]    dX in packed order

    private final LayerDevice device;
    private final LayerDevice.Memory memory;
    private final String tag;
    private final Consumer<CudaLayerBuffers> onClose;
    /** Whether the plan built last is the identity (set by {@link #upload}). */
    private boolean identity;
    /** Captured graphs by key, in access order (the eldest is the least recently used). */
    private final Map<GraphKey, LayerDevice.Graph> graphs = new LinkedHashMap<>(16, 0.75f, true);
    /** Captures that failed on this direction in a row; at {@link #MAX_FAILED_CAPTURES} graphs stop here. */
    private int failedCaptures;
    private String graphsOffReason;
    private boolean closed;

    /** After this many failed captures in a row, this direction runs stepwise for good (each failure costs a capture). */
    static final int MAX_FAILED_CAPTURES = 2;

    /**
     * Allocates the forward's buffers from {@code memory} and uploads {@link #iota}.
     *
     * @param tag     names the direction in the leak report, e.g. {@code "forward"}
     * @param onClose told when these buffers close (the layer stops tracking them)
     */
    CudaLayerBuffers(LayerDevice device, LayerDevice.Memory memory, Cell cell, int maxSteps, int maxBatch,
                     int inputSize, int hidden, String tag, Consumer<CudaLayerBuffers> onClose) {
        this.device = device;
        this.memory = memory;
        this.tag = tag;
        this.onClose = onClose;
        this.cell = cell;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.gh = cell.gates() * hidden;
        this.maxBatch = maxBatch;
        this.maxRows = Math.multiplyExact(maxSteps, maxBatch);
        this.plan = new StepPlan(maxSteps, maxBatch);
        boolean lstm = cell.hasCellState();
        boolean gru = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;
        long n = maxRows;
        permHost = new int[maxBatch];
        denseRowsHost = new int[maxRows];
        iota = ints(n, "iota [Nmax]");
        permPacked = ints(maxBatch, "perm [maxB]");
        denseRowsPacked = ints(n, "dense rows [Nmax]");
        xPacked = floats(n * inputSize, "x packed [Nmax, I]");
        gates = floats(n * gh, "gates [Nmax, G*H]");
        hPrev = floats(n * hidden, "h_{t-1} [Nmax, H]");
        cPrev = lstm ? floats(n * hidden, "c_{t-1} [Nmax, H]") : 0;
        cNext = lstm ? floats(n * hidden, "c_t [Nmax, H]") : 0;
        extra = gru ? floats(n * hidden, (cell == Cell.GRU ? "W_hn h + b_hn" : "r ⊙ h") + " [Nmax, H]") : 0;
        hg = floats((long) maxBatch * gh, "h·W_hhᵀ [maxB, G*H]");
        h = floats((long) maxBatch * hidden, "h [maxB, H]");
        c = lstm ? floats((long) maxBatch * hidden, "c [maxB, H]") : 0;
        int[] steps = new int[maxRows];
        for (int i = 0; i < maxRows; i++) {
            steps[i] = i;
        }
        device.upload(steps, iota, maxRows);
    }

    /** Makes the backward's buffers on first use. */
    void ensureBackward() {
        if (dGx != 0) {
            return;
        }
        long n = maxRows;
        dGx = floats(n * gh, "dG [Nmax, G*H]");
        dGh = cell == Cell.GRU ? floats(n * gh, "dG recurrent [Nmax, G*H]") : dGx;
        dh = floats((long) maxBatch * hidden, "dh [maxB, H]");
        dc = cell.hasCellState() ? floats((long) maxBatch * hidden, "dc [maxB, H]") : 0;
        dRh = cell == Cell.GRU_ORIGINAL ? floats((long) maxBatch * hidden, "d(r ⊙ h) [maxB, H]") : 0;
        dxPacked = floats(n * inputSize, "dx packed [Nmax, I]");
    }

    /**
     * After {@code plan.build}: uploads the plan's perm and dense rows (ordered on the main
     * stream), unless the plan is the identity.
     */
    void upload() {
        identity = plan.isIdentity();
        if (identity) {
            return;
        }
        plan.perm(permHost);
        plan.denseRows(denseRowsHost);
        device.upload(permHost, permPacked, plan.batch());
        device.upload(denseRowsHost, denseRowsPacked, plan.total());
    }

    /** The device perm of the plan built last ([B] int). */
    long perm() {
        return identity ? iota : permPacked;
    }

    /** The device dense rows of the plan built last ([N] int). */
    long denseRows() {
        return identity ? iota : denseRowsPacked;
    }

    // ---------------------------------------------------------------- graphs

    /** The graph captured for {@code key}, or null. */
    LayerDevice.Graph graph(GraphKey key) {
        return graphs.get(key);
    }

    /** Keeps {@code g} for {@code key}, destroying the least recently used graph beyond {@link #MAX_GRAPHS}. */
    void keep(GraphKey key, LayerDevice.Graph g) {
        failedCaptures = 0;
        LayerDevice.Graph old = graphs.put(key, g);
        if (old != null) {
            old.close();
        }
        if (graphs.size() > MAX_GRAPHS) {
            Iterator<LayerDevice.Graph> eldest = graphs.values().iterator();
            LayerDevice.Graph dropped = eldest.next();
            eldest.remove();
            dropped.close();
        }
    }

    /** Counts a failed capture; after {@link #MAX_FAILED_CAPTURES} in a row, graphs stop for this direction. */
    void captureFailed(String reason) {
        if (++failedCaptures >= MAX_FAILED_CAPTURES) {
            graphsOffReason = "graphs off for this workspace after " + failedCaptures
                    + " failed captures in a row; the last: " + reason;
        }
    }

    /** Why graphs are off for this direction, or null. */
    String graphsOffReason() {
        return graphsOffReason;
    }

    /** Graphs held now (for tests). */
    int graphCount() {
        return graphs.size();
    }

    /**
     * Destroys the graphs (the memory is the workspace's). Idempotent. Called when the workspace
     * closes, or by the backend before its context goes.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        onClose.accept(this);
        if (graphs.isEmpty()) {
            return;
        }
        if (device.isClosed()) {
            // The backend destroys every open direction's graphs before its context goes
            // (CudaLayer.close), so there is nothing left to destroy here.
            graphs.clear();
            return;
        }
        device.enter("close graphs");
        RuntimeException first = null;
        for (LayerDevice.Graph g : graphs.values()) {
            try {
                g.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        graphs.clear();
        if (first != null) {
            throw first;
        }
    }

    boolean isClosed() {
        return closed;
    }

    private long floats(long count, String what) {
        return memory.allocate(Float.BYTES * count, tag + " " + what);
    }

    private long ints(long count, String what) {
        return memory.allocate(Integer.BYTES * count, tag + " " + what);
    }

    /**
     * What a captured time loop depends on, besides the contents of device memory: every host
     * value its kernels and GEMMs were enqueued with (sizes, strides, flags, device addresses,
     * the batch size of every step). Two loops with equal keys enqueue identical work, so a graph
     * captured for one serves the other. {@link CudaLayer} builds the keys, next to the loops.
     */
    static final class GraphKey {
        private final long[] values;
        private final int hash;

        GraphKey(long[] values) {
            this.values = values;
            this.hash = Arrays.hashCode(values);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GraphKey k && k.hash == hash && Arrays.equals(k.values, values);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return "GraphKey" + Arrays.toString(values);
        }
    }
}
