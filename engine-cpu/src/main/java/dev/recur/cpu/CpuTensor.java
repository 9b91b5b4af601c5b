package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Shape;
import dev.recur.api.Tensor;

import java.util.Arrays;

/** A tensor in a Java float array owned by a {@link CpuBackend}. */
final class CpuTensor implements Tensor {

    private final CpuBackend backend;
    private final Shape shape;
    private float[] data;

    CpuTensor(CpuBackend backend, Shape shape) {
        this.backend = backend;
        this.shape = shape;
        this.data = new float[shape.size()];
    }

    /** The elements, row-major; throws once closed. */
    float[] data() {
        float[] d = data;
        if (d == null) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return d;
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
        int n = shape.size();
        if (src == null || src.length < n) {
            throw new IllegalArgumentException("copyFrom: source has " + (src == null ? "no array" : src.length + " elements")
                    + ", tensor " + shape + " needs " + n);
        }
        System.arraycopy(src, 0, data(), 0, n);
    }

    @Override
    public void copyTo(float[] dst) {
        int n = shape.size();
        if (dst == null || dst.length < n) {
            throw new IllegalArgumentException("copyTo: destination has " + (dst == null ? "no array" : dst.length + " elements")
                    + ", tensor " + shape + " holds " + n);
        }
        System.arraycopy(data(), 0, dst, 0, n);
    }

    @Override
    public void fill(float value) {
        Arrays.fill(data(), value);
    }

    @Override
    public boolean isClosed() {
        return data == null;
    }

    @Override
    public void close() {
        data = null;
    }

    @Override
    public String toString() {
        return "CpuTensor" + shape + (data == null ? " (closed)" : "");
    }
}
