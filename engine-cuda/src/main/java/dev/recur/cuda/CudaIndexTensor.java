package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Shape;

/**
 * An int32 index tensor (token ids, class labels) in device memory owned by a
 * {@link CudaBackend}. Copies go to the backend's main stream, in order with its ops, as for
 * {@link CudaTensor}. Closing returns the memory to the allocator; closing twice is harmless.
 *
 * <p>Its values only ever come from the host (a new tensor is zeros; no op writes an index
 * tensor), so {@link #copyFrom} also keeps their {@link IndexBounds}, which the ops that read ids
 * and targets check on the host instead of reading the device back.
 */
final class CudaIndexTensor implements IndexTensor {

    private final CudaBackend backend;
    private final Shape shape;
    /** The memory; null once closed. */
    private DeviceBlock block;
    /** The bounds of the values last uploaded, in the order of the calls (see the class comment). */
    private volatile IndexBounds bounds = IndexBounds.ZEROS;

    CudaIndexTensor(CudaBackend backend, Shape shape, DeviceBlock block) {
        this.backend = backend;
        this.shape = shape;
        this.block = block;
    }

    /** The device address of element 0; throws once closed. */
    long address() {
        if (isClosed()) {
            throw new IllegalStateException("index tensor " + shape + " is closed" + (backend.isClosed()
                    ? " (its cuda backend was closed)" : ""));
        }
        return block.address();
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void copyFrom(int[] src) {
        IndexTensor.checkCopyFrom(src, shape);
        int n = shape.size();
        IndexBounds b = IndexBounds.of(src, n);
        backend.transfers().upload(src, address(), n);
        bounds = b;
    }

    /** The bounds of the values the device holds for ops enqueued from now on. */
    IndexBounds bounds() {
        return bounds;
    }

    @Override
    public void copyTo(int[] dst) {
        IndexTensor.checkCopyTo(dst, shape);
        int n = shape.size();
        backend.transfers().download(address(), dst, n);
    }

    @Override
    public boolean isClosed() {
        return block == null || backend.isClosed();
    }

    @Override
    public void close() {
        if (block == null) {
            return;
        }
        DeviceBlock b = block;
        block = null;
        backend.release(b);
    }

    @Override
    public String toString() {
        return "CudaIndexTensor" + shape + (isClosed() ? " (closed)" : "");
    }
}
