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
