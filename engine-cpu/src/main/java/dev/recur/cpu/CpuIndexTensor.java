package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Shape;

/** An index tensor in a Java int array owned by a {@link CpuBackend}. */
final class CpuIndexTensor implements IndexTensor {

    private final CpuBackend backend;
    private final Shape shape;
    private int[] data;

    CpuIndexTensor(CpuBackend backend, Shape shape) {
        this.backend = backend;
        this.shape = shape;
        this.data = new int[shape.size()];
    }

    int[] data() {
        int[] d = data;
        if (d == null) {
            throw new IllegalStateException("index tensor " + shape + " is closed");
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
    public void copyFrom(int[] src) {
        IndexTensor.checkCopyFrom(src, shape);
        int n = shape.size();
        System.arraycopy(src, 0, data(), 0, n);
    }

    @Override
    public void copyTo(int[] dst) {
        IndexTensor.checkCopyTo(dst, shape);
        int n = shape.size();
        System.arraycopy(data(), 0, dst, 0, n);
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
        return "CpuIndexTensor" + shape + (data == null ? " (closed)" : "");
    }
}
