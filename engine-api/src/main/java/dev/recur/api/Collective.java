package dev.recur.api;

/**
 * The collective operations of data-parallel training, over the processes of one job (ranks
 * {@code 0..worldSize()-1}), bound at run time to a library that clusters already run (MPI, NCCL)
 * and found through {@link Collectives}; {@link SingleProcessCollective} is the world of one.
 *
 * <p>Contract, as MPI's: every rank makes the same calls in the same order with the same counts;
 * a call returns when this rank's part is done (after {@link #allReduce} every rank holds the same
 * values). Calls come from one thread at a time. A failed call throws {@link CollectiveException};
 * a rank that cannot go on calls {@link #abort} so that the others do not wait forever.
 *
 * <p>Order of calls: {@link Collectives#open} (or a provider's {@code open}), then any number of
 * collectives, then {@link #close} (MPI_Finalize; closing twice is harmless).
 */
public interface Collective extends AutoCloseable {

    /** What an all-reduce computes, element by element, over the ranks. */
    enum Reduction {
        /** The sum over ranks. */
        SUM,
        /** The sum over ranks divided by {@link #worldSize()} (the division is done after the sum, in float32). */
        AVERAGE
    }

    /** What was bound, for the run's first lines: e.g. {@code "MPI: Open MPI v4.1.4 (libmpi.so.40)"}. */
    String description();

    /** This process' rank, {@code 0 <= rank < worldSize()}. */
    int rank();

    /** How many processes take part, {@code >= 1}. */
    int worldSize();

    /**
     * Reduces {@code data[offset, offset + count)} over the ranks, in place: afterwards every rank
     * holds the reduced values.
     */
    void allReduce(float[] data, int offset, int count, Reduction op);

    /** {@link #allReduce(float[], int, int, Reduction)} over the whole array. */
    default void allReduce(float[] data, Reduction op) {
        allReduce(data, 0, data.length, op);
    }

    /**
     * Reduces a tensor over the ranks, in place. This default stages it through host memory
     * ({@link Tensor#toArray()}, then {@link Tensor#copyFrom}); a binding that reads device memory
     * (NCCL) does without.
     */
    default void allReduce(Tensor tensor, Reduction op) {
        float[] host = tensor.toArray();
        allReduce(host, op);
        tensor.copyFrom(host);
    }

    /** Copies {@code data[offset, offset + count)} of rank {@code root} to every other rank. */
    void broadcast(float[] data, int offset, int count, int root);

    /** {@link #broadcast(float[], int, int, int)} over the whole array. */
    default void broadcast(float[] data, int root) {
        broadcast(data, 0, data.length, root);
    }

    /** Copies rank {@code root}'s bytes to every other rank (e.g. NCCL's unique id). */
    void broadcast(byte[] data, int root);

    /** Copies rank {@code root}'s tensor to every other rank, staged through host memory. */
    default void broadcast(Tensor tensor, int root) {
        float[] host = tensor.toArray();
        broadcast(host, root);
        tensor.copyFrom(host);
    }

    /**
     * Whether {@link #allReduce(Tensor, Reduction)} and {@link #broadcast(Tensor, int)} read the
     * engine's memory directly (NCCL on the CUDA engine's stream) rather than staging through host
     * arrays: then a caller reduces tensor by tensor instead of packing host buckets.
     */
    default boolean readsDeviceMemory() {
        return false;
    }

    /** Returns when every rank has called it. */
    void barrier();

    /**
     * Ends the whole job (MPI_Abort): every rank exits with a non-zero status. For a rank that
     * failed, so that the others do not wait in a collective for it. May not return.
     */
    void abort(int exitCode);

    /** Leaves the job (MPI_Finalize). Harmless twice. */
    @Override
    void close();

    /** Checks {@code [offset, offset + count)} against an array of {@code length}. */
    static void checkRange(String what, int length, int offset, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(what + ": range [" + offset + ", " + offset + " + " + count
                    + ") does not fit an array of " + length);
        }
    }

    /** Checks a root rank. */
    static void checkRoot(int root, int worldSize) {
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("root rank " + root + " is not in 0.." + (worldSize - 1));
        }
    }
}
