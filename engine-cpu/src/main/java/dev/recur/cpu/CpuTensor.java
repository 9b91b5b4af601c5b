package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Shape;
import dev.recur.api.Tensor;

import java.util.Arrays;

/** A tensor in a Java float array owned by a {@link CpuBackend}. */
final class CpuTensor implements Tensor {

    private final CpuBackend backend;
    private final Shape shape;
    private final CpuTensor base; // the owner of the memory when this is a view, else null
    private float[] data;

    CpuTensor(CpuBackend backend, Shape shape) {
        this.backend = backend;
        this.shape = shape;
        this.base = null;
        this.data = new float[shape.size()];
    }

    private CpuTensor(CpuTensor base, Shape shape) {
        this.backend = base.backend;
        this.shape = shape;
        this.base = base;
        this.data = base.data;
    }

    /** The elements, row-major; throws once closed. */
    float[] data() {
        float[] d = data;
        if (d == null || (base != null && base.isClosed())) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return d;
    }

    @Override
    public Tensor reshape(int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() != shape.size()) {
            throw new IllegalArgumentException("reshape: " + shape + " has " + shape.size() + " elements, " + s
                    + " has " + s.size());
        }
        data();
        return new CpuTensor(base != null ? base : this, s);
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
        System.arraycopy(src, 0, data(), 0, n);
    }

    @Override
    public void copyTo(float[] dst) {
        Tensor.checkCopyTo(dst, shape);
        int n = shape.size();
        System.arraycopy(data(), 0, dst, 0, n);
    }

    @Override
    public void fill(float value) {
        Arrays.fill(data(), value);
    }

    @Override
    public boolean isClosed() {
        return data == null || (base != null && base.isClosed());
    }

    @Override
    public void close() {
        if (base == null) {
            data = null;
        }
    }

    @Override
    public String toString() {
        return "CpuTensor" + shape + (data == null ? " (closed)" : "");
    }
}
