package dev.recur.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

/**
 * A CUDA stream of the backend's context: work enqueued on it runs in order. Streams are made
 * non-blocking ({@code CU_STREAM_NON_BLOCKING}), so they never wait for the legacy default
 * stream, which Recur does not use.
 *
 * <p>Callers make the backend's context current first ({@link CudaContext#makeCurrent()}).
 * Closing waits for the stream's work and destroys it; closing twice is harmless.
 */
final class CudaStream implements AutoCloseable {

    private static final int CU_STREAM_NON_BLOCKING = 1;

    private final String name;
    private final Handle handle = new Handle();
    /** False for {@link #unbacked} streams, which have no driver stream. */
    private final boolean backed;
    private boolean closed;

    /** A new stream; {@code name} appears in messages ("main", "second"). */
    CudaStream(String name) {
        this.name = name;
        this.backed = true;
        CudaDriver.check(cuStreamCreate(handle, CU_STREAM_NON_BLOCKING), "cuStreamCreate(" + name + ")");
    }

    private CudaStream(String name, boolean backed) {
        this.name = name;
        this.backed = backed;
    }

    /**
     * A stream object with no driver stream behind it, for host tests of code that only passes
     * streams along (the layer code on a simulated {@link LayerDevice}): its {@link #handle()} is
     * a JCuda object of its own holding no pointer, so a simulated device can tell streams apart;
     * {@link #synchronize()} and {@link #waitFor} refuse; closing only marks it closed. Touches no
     * native code.
     */
    static CudaStream unbacked(String name) {
        return new CudaStream(name, false);
    }

    /** JCuda's handle, for driver calls (copies, memsets, kernel launches). */
    CUstream handle() {
        requireOpen();
        return handle;
    }

    /** The raw {@code CUstream} (the same value as a {@code cudaStream_t}), for cuBLAS. */
    long address() {
        requireOpen();
        return handle.address();
    }

    String name() {
        return name;
    }

    /** Blocks until all work enqueued so far has finished. */
    void synchronize() {
        requireBacked("synchronize");
        CudaDriver.check(cuStreamSynchronize(handle()), "cuStreamSynchronize(" + name + ")");
    }

    /** Work enqueued on this stream after this call waits until {@code event} has happened. */
    void waitFor(Event event) {
        requireBacked("waitFor");
        CudaDriver.check(cuStreamWaitEvent(handle(), event.handle(), 0), "cuStreamWaitEvent(" + name + ")");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!backed) {
            return;
        }
        // Destroying a stream with work in flight is allowed (the driver finishes it), but the
        // memory that work uses is freed right after, so wait for it first.
        int sync = cuStreamSynchronize(handle);
        int destroy = cuStreamDestroy(handle);
        CudaDriver.check(sync, "cuStreamSynchronize(" + name + ") on close");
        CudaDriver.check(destroy, "cuStreamDestroy(" + name + ")");
    }

    private void requireBacked(String op) {
        if (!backed) {
            throw new IllegalStateException(op + ": stream " + name + " has no driver stream (unbacked)");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("stream " + name + " is closed");
        }
    }

    @Override
    public String toString() {
        return "CudaStream[" + name + (closed ? ", closed" : "") + "]";
    }

    /** An event without timing (the cheap kind), for ordering streams and waiting on the host. */
    static final class Event implements AutoCloseable {
        private static final int CU_EVENT_DISABLE_TIMING = 2;

        private final CUevent handle = new CUevent();
        private boolean closed;

        Event() {
            CudaDriver.check(cuEventCreate(handle, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }

        CUevent handle() {
            if (closed) {
                throw new IllegalStateException("event is closed");
            }
            return handle;
        }

        /** Marks the point in {@code stream}'s work that {@link #synchronize()} and {@link CudaStream#waitFor} wait for. */
        void record(CudaStream stream) {
            CudaDriver.check(cuEventRecord(handle(), stream.handle()), "cuEventRecord(" + stream.name() + ")");
        }

        /** Blocks until the work before the last {@link #record} has finished (at once if never recorded). */
        void synchronize() {
            CudaDriver.check(cuEventSynchronize(handle()), "cuEventSynchronize");
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                CudaDriver.check(cuEventDestroy(handle), "cuEventDestroy");
            }
        }
    }

    /** JCuda's stream handle with its raw value readable (JCuda keeps it in a protected field). */
    private static final class Handle extends CUstream {
        long address() {
            return getNativePointer();
        }
    }
}
