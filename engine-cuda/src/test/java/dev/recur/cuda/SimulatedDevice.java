package dev.recur.cuda;

import jcuda.driver.CUstream;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A {@link LayerDevice} without a GPU, so that {@link CudaLayer}'s own code runs in the host
 * tests: "device memory" is native host memory (addresses are real addresses), the kernels are
 * {@link SimulatedKernels} (Java ports of the .cu sources) behind {@link CudaKernels}' own launch
 * methods and checks, GEMMs are {@link CudaGemm}'s row-major mapping onto
 * {@link RowMajorGemmTest.ReferenceBlas}, the column-major loops.
 *
 * <p>Work runs at once, in the order it is enqueued (one stream's order is all the layer code may
 * rely on, and a total order respects it). Capture works as on the device: between
 * {@link #capture}'s start and end, work enqueued on the capture stream is recorded with its
 * argument values instead of run, and a launch of the graph runs the recording. Work enqueued on
 * any other stream during a capture, an upload during a capture, or a second capture inside one
 * are errors here (the layer code must never do them), as are unpaired stream joins.
 *
 * <p>Counts what tests ask about: buffers allocated, captures, graph launches.
 */
final class SimulatedDevice implements LayerDevice, AutoCloseable {

    /** All of the address space, for reads and writes at raw addresses. */
    static final MemorySegment ALL = MemorySegment.ofAddress(0).reinterpret(Long.MAX_VALUE);

    private final Arena arena = Arena.ofShared();
    private final CudaStream main = CudaStream.unbacked("main");
    private final CudaStream second = CudaStream.unbacked("second");
    private final CudaStream mainCapture = CudaStream.unbacked("main-capture");
    private final CudaStream secondCapture = CudaStream.unbacked("second-capture");
    private final RowMajorGemmTest.ReferenceBlas blas = new RowMajorGemmTest.ReferenceBlas();
    private final CudaKernels kernels = new CudaKernels(this::launch);
    private List<Runnable> recording;
    private CudaStream recordingOn;
    private boolean secondJoined = true;
    private boolean closed;
    int allocations;
    int captures;
    int graphLaunches;
    /** When set, the next capture fails as the driver's would, with this message. */
    String failNextCapture;

    // ---------------------------------------------------------------- memory

    /**
     * A buffer of {@code bytes} bytes, 256-byte aligned like cuMemAlloc's, freed on {@link #close()}.
     * Its contents are undefined on a GPU; here every word is a NaN (0x7fc00000), so that a result
     * computed from memory nobody wrote shows up as NaN.
     */
    long allocate(long bytes, String what) {
        allocations++;
        MemorySegment s = arena.allocate(Math.max(bytes, 4), 256);
        for (long i = 0; i + 4 <= s.byteSize(); i += 4) {
            s.set(JAVA_INT, i, POISON);
        }
        return s.address();
    }

    /** The bits every word of a new buffer holds: a quiet NaN. */
    static final int POISON = 0x7fc00000;

    /** A buffer holding a copy of {@code v}. */
    long upload(float[] v) {
        long a = allocate(4L * v.length, "test data");
        MemorySegment.copy(v, 0, ALL, JAVA_FLOAT, a, v.length);
        return a;
    }

    /** A zeroed buffer of {@code n} floats. */
    long zeros(int n) {
        long a = allocate(4L * n, "test output");
        write(a, new float[n]);
        return a;
    }

    static float[] read(long address, int n) {
        float[] v = new float[n];
        MemorySegment.copy(ALL, JAVA_FLOAT, address, v, 0, n);
        return v;
    }

    static void write(long address, float[] v) {
        MemorySegment.copy(v, 0, ALL, JAVA_FLOAT, address, v.length);
    }

    // ---------------------------------------------------------------- LayerDevice

    @Override
    public void enter(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the simulated device is closed");
        }
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
        return main;
    }

    @Override
    public CudaStream secondStream() {
        return second;
    }

    @Override
    public void secondWaitsForMain() {
        noCapture("secondWaitsForMain");
        if (!secondJoined) {
            throw new IllegalStateException("secondWaitsForMain twice without mainWaitsForSecond in between");
        }
        secondJoined = false;
    }

    @Override
    public void mainWaitsForSecond() {
        noCapture("mainWaitsForSecond");
        secondJoined = true;
    }

    /** Whether every {@link #secondWaitsForMain} was followed by a {@link #mainWaitsForSecond}. */
    boolean joined() {
        return secondJoined;
    }

    @Override
    public void gemm(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                     int lda, long b, int ldb, float beta, long c, int ldc) {
        enqueue(stream.handle(), "gemm", () -> CudaGemm.rowMajor(blas, transA, transB, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc));
    }

    @Override
    public void copy(long dst, long src, long bytes, CudaStream stream) {
        enqueue(stream.handle(), "copy", () -> MemorySegment.copy(ALL, src, ALL, dst, bytes));
    }

    @Override
    public void memsetD32(long dst, int bits, long count, CudaStream stream) {
        enqueue(stream.handle(), "memsetD32", () -> {
            for (long i = 0; i < count; i++) {
                ALL.set(JAVA_INT, dst + 4 * i, bits);
            }
        });
    }

    @Override
    public void upload(int[] src, long dst, int count) {
        noCapture("upload");
        MemorySegment.copy(src, 0, ALL, JAVA_INT, dst, count);
    }

    @Override
    public CudaStream captureStreamFor(CudaStream stream) {
        if (stream == main) {
            return mainCapture;
        }
        if (stream == second) {
            return secondCapture;
        }
        throw new IllegalArgumentException("captureStreamFor: " + stream.name());
    }

    @Override
    public Graph capture(CudaStream stream, Runnable body) throws CudaGraph.CaptureFailedException {
        noCapture("capture");
        if (stream != mainCapture && stream != secondCapture) {
            throw new IllegalStateException("capture on " + stream.name() + ", which is not a capture stream");
        }
        if (failNextCapture != null) {
            String why = failNextCapture;
            failNextCapture = null;
            throw new CudaGraph.CaptureFailedException(why, null);
        }
        captures++;
        List<Runnable> ops = new ArrayList<>();
        recording = ops;
        recordingOn = stream;
        try {
            body.run();
        } finally {
            recording = null;
            recordingOn = null;
        }
        return new Graph() {
            private boolean closed;

            @Override
            public void launch(CudaStream on) {
                if (closed) {
                    throw new IllegalStateException("launch of a closed graph");
                }
                noCapture("graph launch");
                graphLaunches++;
                ops.forEach(Runnable::run);
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }

    // ---------------------------------------------------------------- running

    private void launch(String kernel, int grid, int block, CUstream stream, CudaKernelArgs args) {
        List<Object> values = List.copyOf(args.values());
        enqueue(stream, kernel, () -> SimulatedKernels.run(kernel, values));
    }

    private void enqueue(CUstream stream, String what, Runnable op) {
        if (closed) {
            throw new IllegalStateException(what + ": the simulated device is closed");
        }
        if (recording != null) {
            if (stream != recordingOn.handle()) {
                throw new IllegalStateException(what + " enqueued on another stream than " + recordingOn.name()
                        + " during a capture");
            }
            recording.add(op);
            return;
        }
        if (stream == mainCapture.handle() || stream == secondCapture.handle()) {
            throw new IllegalStateException(what + " enqueued on a capture stream outside a capture");
        }
        op.run();
    }

    private void noCapture(String what) {
        if (recording != null) {
            throw new IllegalStateException(what + " during a capture");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
