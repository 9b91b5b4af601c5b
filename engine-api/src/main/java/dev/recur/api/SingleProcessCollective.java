package dev.recur.api;

/**
 * The world of one process: rank 0 of 1. Every reduction and broadcast leaves the data as it is
 * (the sum and the average of one value are that value), {@link #barrier} returns at once and
 * {@link #abort} exits this process. What a run without a launcher uses.
 */
public final class SingleProcessCollective implements Collective {

    @Override
    public String description() {
        return "single process (no launcher)";
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduce(float[] data, int offset, int count, Reduction op) {
        Collective.checkRange("allReduce", data.length, offset, count);
    }

    @Override
    public void allReduce(Tensor tensor, Reduction op) {
        // One rank: nothing to exchange, and no host round trip either.
    }

    @Override
    public void broadcast(float[] data, int offset, int count, int root) {
        Collective.checkRange("broadcast", data.length, offset, count);
        Collective.checkRoot(root, 1);
    }

    @Override
    public void broadcast(byte[] data, int root) {
        Collective.checkRoot(root, 1);
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        Collective.checkRoot(root, 1);
    }

    @Override
    public void barrier() {
    }

    @Override
    public void abort(int exitCode) {
        Runtime.getRuntime().halt(exitCode);
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return description();
    }
}
