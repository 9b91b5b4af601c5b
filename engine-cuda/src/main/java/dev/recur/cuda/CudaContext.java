package dev.recur.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * The device's primary context (the one the CUDA runtime, and so cuBLAS, uses too), retained for
 * the life of one backend.
 *
 * <h2>Threads</h2>
 * A CUDA context is current per host thread, and a {@link CudaBackend} may be called from any
 * thread. Every entry point that reaches the driver calls {@link #makeCurrent()} first; it
 * remembers, per thread, which context it last made current, so the common case (the same
 * thread again) is one thread-local read and no driver call.
 */
final class CudaContext implements AutoCloseable {

    /** The context this class last made current on each thread. */
    private static final ThreadLocal<CudaContext> CURRENT = new ThreadLocal<>();

    private final DeviceInfo device;
    private final CUdevice handleDevice;
    private final CUcontext context = new CUcontext();
    private volatile boolean closed;

    private CudaContext(int ordinal) {
        CudaDriver.check(cuInit(0), "cuInit");
        this.handleDevice = DeviceInfo.device(ordinal);
        this.device = DeviceInfo.query(ordinal);
        CudaDriver.check(cuDevicePrimaryCtxRetain(context, handleDevice), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
    }

    /** Retains device {@code ordinal}'s primary context and makes it current on this thread. */
    static CudaContext open(int ordinal) {
        CudaContext c = new CudaContext(ordinal);
        c.makeCurrent();
        return c;
    }

    /** Makes this context current on the calling thread; cheap when it already is. */
    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("the CUDA context of " + device.name() + " is closed");
        }
        if (CURRENT.get() == this) {
            return;
        }
        CudaDriver.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        CURRENT.set(this);
    }

    DeviceInfo device() {
        return device;
    }

    /**
     * Releases the primary context (the driver destroys it when the last holder lets go, freeing
     * whatever memory is still in it). Idempotent; the owner frees its memory and streams first.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (CURRENT.get() == this) {
            CURRENT.remove();
        }
        // Other threads may still remember this object as current; makeCurrent() refuses a closed
        // context before looking at that, and a new CudaContext is a different object, so it
        // makes itself current.
        CudaDriver.check(cuDevicePrimaryCtxRelease(handleDevice), "cuDevicePrimaryCtxRelease(" + device.ordinal() + ")");
    }

    @Override
    public String toString() {
        return "CudaContext[" + device.describe() + (closed ? ", closed" : "") + "]";
    }
}
