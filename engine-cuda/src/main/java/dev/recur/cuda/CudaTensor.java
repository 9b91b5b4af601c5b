package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.Shape;
import dev.recur.api.Tensor;

/**
 * A float32 tensor in device memory owned by a {@link CudaBackend}: one block from its
 * allocator, row-major and contiguous.
 *
 * <p>Views ({@link #reshape}) share the block of the tensor they came from (the base); closing a
 * view releases nothing, and a view of a closed base counts as closed. Closing the base returns
 * the block to the allocator; closing twice is harmless. Copies and fills go to the backend's
 * main stream, in order with its ops: {@link #copyFrom} and {@link #fill} return before the
 * device is done, {@link #copyTo} waits for every earlier op.
 */
final class CudaTensor implements Tensor {

    private final CudaBackend backend;
    private final Shape shape;
    /** The owner of the memory when this is a view, else null. */
    private final CudaTensor base;
    /** The memory; null once the base is closed. */
    private DeviceBlock block;

    CudaTensor(CudaBackend backend, Shape shape, DeviceBlock block) {
        this.backend = backend;
        this.shape = shape;
        this.base = null;
        this.block = block;
    }

    private CudaTensor(CudaTensor base, Shape shape) {
        this.backend = base.backend;
        this.shape = shape;
        this.base = base;
        this.block = base.block;
    }

    /** The device address of element 0; throws once closed. */
    long address() {
        if (isClosed()) {
            throw new IllegalStateException("tensor " + shape + " is closed" + (backend.isClosed()
                    ? " (its cuda backend was closed)" : ""));
        }
        return block.address();
    }

    /** The device address of element {@code index} (row-major), for kernels and GEMMs on slices. */
    long address(long index) {
        if (index < 0 || index >= shape.size()) {
            throw new IndexOutOfBoundsException("element " + index + " of tensor " + shape + " with " + shape.size()
                    + " elements");
        }
        return address() + 4 * index;
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
    public void copyFrom(float[] src) {
        Tensor.checkCopyFrom(src, shape);
        int n = shape.size();
        backend.transfers().upload(src, address(), n);
    }

    @Override
    public void copyTo(float[] dst) {
        Tensor.checkCopyTo(dst, shape);
        int n = shape.size();
        backend.transfers().download(address(), dst, n);
    }

    @Override
    public Tensor reshape(int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() != shape.size()) {
            throw new IllegalArgumentException("reshape: " + shape + " has " + shape.size() + " elements, " + s
                    + " has " + s.size());
        }
        address(); // refuses a closed tensor
        return new CudaTensor(base != null ? base : this, s);
    }

    /** Sets every element to {@code value} (its exact bits: -0.0 and NaN payloads survive). */
    @Override
    public void fill(float value) {
        backend.memsetD32(address(), Float.floatToRawIntBits(value), shape.size(), backend.mainStream());
    }

    @Override
    public boolean isClosed() {
        return block == null || (base != null && base.isClosed()) || backend.isClosed();
    }

    @Override
    public void close() {
        if (base != null || block == null) {
            return;
        }
        DeviceBlock b = block;
        block = null;
        backend.release(b);
    }

    @Override
    public String toString() {
        return "CudaTensor" + shape + (isClosed() ? " (closed)" : "");
    }
}
