package dev.recur.bench;

import java.util.Arrays;

/**
 * Times a piece of work the way every {@code recur bench} number is taken: {@code warmup} untimed
 * runs (JIT compilation, first-touch of memory, a peer's native thread pools), then {@code iters}
 * timed runs, each on its own {@link System#nanoTime()} pair; the result is their median, which a
 * single slow run (a GC, the other tenant of a shared machine) does not move.
 */
public final class Timing {

    /** One piece of work to time; it may throw whatever the engine under test throws. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    /**
     * The times of the timed runs.
     *
     * @param samplesMs each timed run, in milliseconds, in the order they ran
     */
    public record Result(double[] samplesMs) {

        public Result {
            if (samplesMs.length == 0) {
                throw new IllegalArgumentException("no timed runs");
            }
            samplesMs = samplesMs.clone();
        }

        /** The median (the mean of the two middle runs for an even count). */
        public double medianMs() {
            double[] s = samplesMs.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double minMs() {
            return Arrays.stream(samplesMs).min().orElseThrow();
        }

        @Override
        public double[] samplesMs() {
            return samplesMs.clone();
        }

        @Override
        public String toString() {
            return "Timing.Result[median=" + medianMs() + " ms, min=" + minMs() + " ms, runs=" + samplesMs.length + "]";
        }
    }

    private Timing() {
    }

    /**
     * Runs {@code work} {@code warmup} times untimed, then {@code iters} times timed.
     *
     * @throws IllegalArgumentException when {@code warmup < 0} or {@code iters < 1}
     */
    public static Result measure(int warmup, int iters, Work work) throws Exception {
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        }
        if (iters < 1) {
            throw new IllegalArgumentException("iters must be >= 1, got " + iters);
        }
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        double[] ms = new double[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return new Result(ms);
    }
}
