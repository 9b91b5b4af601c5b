package dev.recur.api;

/**
 * A dense float32 tensor, row-major and contiguous, whose memory is owned by the backend that
 * made it (host memory for the CPU engine, device memory for the CUDA engine).
 *
 * <p>A tensor is made by {@link Backend#tensor(int...)} or {@link Backend#tensor(float[], int...)}
 * and must only be passed to ops of that backend. Closing releases its memory; closing twice is
 * harmless; any other use after closing throws {@link IllegalStateException}.
 */
public interface Tensor extends AutoCloseable {

    Shape shape();

    /** The backend that owns this tensor's memory. */
    Backend backend();

    /** Copies {@code shape().size()} floats from {@code src} into this tensor. */
    void copyFrom(float[] src);

    /** Copies this tensor into {@code dst}, which must hold at least {@code shape().size()} floats. */
    void copyTo(float[] dst);

    /**
     * {@link #copyFrom}'s argument check, for engines: throws {@link IllegalArgumentException}
     * unless {@code src} holds at least {@code shape.size()} floats.
     */
    static void checkCopyFrom(float[] src, Shape shape) {
        HostCopy.check(false, src == null, src == null ? 0 : src.length, "tensor", shape);
    }

    /**
     * {@link #copyTo}'s argument check, for engines: throws {@link IllegalArgumentException}
     * unless {@code dst} holds at least {@code shape.size()} floats.
     */
    static void checkCopyTo(float[] dst, Shape shape) {
        HostCopy.check(true, dst == null, dst == null ? 0 : dst.length, "tensor", shape);
    }

    /** A new host array with this tensor's elements. */
    default float[] toArray() {
        float[] out = new float[shape().size()];
        copyTo(out);
        return out;
    }

    /**
     * A view of the same memory with another shape of the same size (row-major order is kept).
     * Closing a view releases nothing; a view of a closed tensor counts as closed.
     */
    Tensor reshape(int... shape);

    /** Sets every element to {@code value}. */
    void fill(float value);

    boolean isClosed();

    /** Releases the memory. Idempotent. */
    @Override
    void close();
}
