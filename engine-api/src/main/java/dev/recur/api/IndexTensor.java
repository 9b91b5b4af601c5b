package dev.recur.api;

/**
 * A dense tensor of int32 indices (token ids, class labels), owned by the backend that made it
 * ({@link Backend#indices}). Closing releases its memory; closing twice is harmless.
 */
public interface IndexTensor extends AutoCloseable {

    Shape shape();

    Backend backend();

    /** Copies {@code shape().size()} ints from {@code src}. */
    void copyFrom(int[] src);

    /** Copies this tensor into {@code dst}, which must hold at least {@code shape().size()} ints. */
    void copyTo(int[] dst);

    /**
     * {@link #copyFrom}'s argument check, for engines: throws {@link IllegalArgumentException}
     * unless {@code src} holds at least {@code shape.size()} ints.
     */
    static void checkCopyFrom(int[] src, Shape shape) {
        HostCopy.check(false, src == null, src == null ? 0 : src.length, "index tensor", shape);
    }

    /**
     * {@link #copyTo}'s argument check, for engines: throws {@link IllegalArgumentException}
     * unless {@code dst} holds at least {@code shape.size()} ints.
     */
    static void checkCopyTo(int[] dst, Shape shape) {
        HostCopy.check(true, dst == null, dst == null ? 0 : dst.length, "index tensor", shape);
    }

    default int[] toArray() {
        int[] out = new int[shape().size()];
        copyTo(out);
        return out;
    }

    boolean isClosed();

    @Override
    void close();
}
