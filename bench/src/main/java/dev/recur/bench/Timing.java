package dev.recur.bench;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

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
     * The times of the timed runs, and what was read right after each (an FMA peak pass), if anything.
     *
     * @param samplesMs each timed run, in milliseconds, in the order they ran
     * @param after     one reading taken right after each timed run (same order), or empty
     */
    public record Result(double[] samplesMs, double[] after) {

        public Result {
            if (samplesMs.length == 0) {
                throw new IllegalArgumentException("no timed runs");
            }
            if (after.length != 0 && after.length != samplesMs.length) {
                throw new IllegalArgumentException("need one reading per timed run, got " + after.length
                        + " for " + samplesMs.length + " runs");
            }
            samplesMs = samplesMs.clone();
            after = after.clone();
        }

        public Result(double[] samplesMs) {
            this(samplesMs, new double[0]);
        }

        /** The median (the mean of the two middle runs for an even count). */
        public double medianMs() {
            return median(samplesMs);
        }

        public double minMs() {
            return Arrays.stream(samplesMs).min().orElseThrow();
        }

        @Override
        public double[] samplesMs() {
            return samplesMs.clone();
        }

        @Override
        public double[] after() {
            return after.clone();
        }

        /**
         * The median over the timed runs of {@code rate(run) / reading after it}, where
         * {@code rate(run) = work / ms}: for {@code work} in MFLOP and FMA-peak readings in
         * GFLOP/s, each run's share of the peak the machine offered just then. NaN without readings.
         */
        public double medianShare(double work) {
            if (after.length == 0) {
                return Double.NaN;
            }
            double[] shares = new double[samplesMs.length];
            for (int i = 0; i < shares.length; i++) {
                shares[i] = work / samplesMs[i] / after[i];
            }
            return median(shares);
        }

        /** The median of the readings; NaN without readings. */
        public double medianAfter() {
            return after.length == 0 ? Double.NaN : median(after);
        }

        @Override
        public String toString() {
            return "Timing.Result[median=" + medianMs() + " ms, min=" + minMs() + " ms, runs=" + samplesMs.length + "]";
        }
    }

    private Timing() {
    }

    /** The median (the mean of the two middle values for an even count) of a non-empty array. */
    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Runs {@code work} {@code warmup} times untimed, then {@code iters} times timed.
     *
     * @throws IllegalArgumentException when {@code warmup < 0} or {@code iters < 1}
     */
    public static Result measure(int warmup, int iters, Work work) throws Exception {
        return measure(warmup, iters, work, null);
    }

    /**
     * As {@link #measure(int, int, Work)}, and when {@code after} is not null, takes a reading of
     * it right after each timed run (outside the timed interval): an FMA peak pass, so that each
     * run can be set against what the machine offered at that moment.
     *
     * @throws IllegalArgumentException when {@code warmup < 0} or {@code iters < 1}
     */
    public static Result measure(int warmup, int iters, Work work, DoubleSupplier after) throws Exception {
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
        double[] readings = new double[after == null ? 0 : iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (after != null) {
                readings[i] = after.getAsDouble();
            }
        }
        return new Result(ms, readings);
    }
}
