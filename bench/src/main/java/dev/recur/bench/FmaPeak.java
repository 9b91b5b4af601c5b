package dev.recur.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * The machine's float32 FMA peak as the JVM can reach it: every core runs one thread of
 * independent fused multiply-add chains on {@link FloatVector#SPECIES_PREFERRED} vectors, with no
 * memory traffic. Every other number in {@code recur bench} is also given as a share of this one.
 *
 * <p>Why {@link #CHAINS} chains: an FMA has a latency of 4 to 5 cycles on current x86 and ARM
 * cores and most of them issue two per cycle, so at least 8 to 10 independent accumulators must
 * be in flight to keep both pipes busy; 12 leaves margin and still fits the 16 vector registers
 * of AVX2 (12 accumulators + the two operands). Each chain computes {@code acc = acc·a + b} with
 * {@code |a| < 1}, which converges, so the values stay finite and normal forever.
 *
 * <p>Why the best of {@value #PASSES} passes: on a shared two-core VM a pass is slowed by
 * whatever else runs (the JIT's own compiler threads early in the JVM, another tenant), and one
 * half-second pass measured anywhere from 93 to 157 GFLOP/s here. Nothing makes the FMA loop
 * faster than the hardware allows, so the best pass is the closest reading of the peak, and a share
 * of it is the conservative one. {@link Probe} takes short passes between timed runs, so a
 * measurement can also be given as a share of the peak the machine offered at that moment.
 */
public final class FmaPeak {

    /** Independent accumulator chains per thread. */
    public static final int CHAINS = 12;

    /** Timed passes of {@link #measure(int, double)}; the best one is the peak. */
    public static final int PASSES = 5;

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Written with every result so that the JIT cannot drop the loop as dead code. */
    private static volatile float sink;

    /**
     * A measured peak.
     *
     * @param gflops     GFLOP/s of all threads together (an FMA counted as two FLOPs)
     * @param threads    threads run, one per core
     * @param lanes      float lanes of the preferred vector species
     * @param vectorBits bits of the preferred vector species
     * @param seconds    wall time of all timed passes together
     * @param passes     timed passes run; {@code gflops} is the best
     * @param iterationsPerSecond kernel iterations one thread ran per second in the best pass
     */
    public record Result(double gflops, int threads, int lanes, int vectorBits, double seconds, int passes,
                         double iterationsPerSecond) {
    }

    /**
     * Short passes of the same kernel on the same threads, taken between the timed runs of a
     * measurement: each says what the machine offered just then.
     */
    public static final class Probe {
        private final int threads;
        private final long iterations;
        private final long settleMillis;

        private Probe(int threads, long iterations, long settleMillis) {
            this.threads = threads;
            this.iterations = iterations;
            this.settleMillis = settleMillis;
        }

        /**
         * A probe whose passes take about {@code seconds} at the rate of {@code measured}, each
         * after a pause of {@code settleMillis}.
         *
         * @throws IllegalArgumentException when {@code seconds <= 0} or {@code settleMillis < 0}
         */
        public static Probe of(Result measured, double seconds, long settleMillis) {
            if (!(seconds > 0)) {
                throw new IllegalArgumentException("seconds must be > 0, got " + seconds);
            }
            if (settleMillis < 0) {
                throw new IllegalArgumentException("settleMillis must be >= 0, got " + settleMillis);
            }
            return new Probe(measured.threads(), Math.max(1000, (long) (seconds * measured.iterationsPerSecond())),
                    settleMillis);
        }

        /**
         * One pass, after a pause of {@link #settleMillis}; its GFLOP/s. The pause lets the threads
         * of the work just timed go idle: OpenBLAS's (under ND4J) spin for a while after a call, and
         * a pass taken at once measured 96 GFLOP/s after ND4J's sgemm where it measured 118 after
         * Recur's, in the same run.
         */
        public double gflops() {
            try {
                Thread.sleep(settleMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted before an FMA peak pass", e);
            }
            return pass(threads, iterations);
        }
    }

    private FmaPeak() {
    }

    /** FLOPs of one call of {@link #kernel} with {@code iterations}. */
    public static long flopsPerKernel(long iterations) {
        return iterations * CHAINS * SPECIES.length() * 2L;
    }

    /** Lanes of the preferred species (8 on AVX2, 16 on AVX-512). */
    public static int lanes() {
        return SPECIES.length();
    }

    /**
     * {@code iterations} rounds of {@link #CHAINS} independent vector FMAs; returns a value that
     * depends on all of them. {@code seed} keeps the operands unknown to the compiler.
     */
    public static float kernel(long iterations, float seed) {
        FloatVector a = FloatVector.broadcast(SPECIES, 0.999f - seed * 1e-6f);
        FloatVector b = FloatVector.broadcast(SPECIES, 1e-3f + seed * 1e-6f);
        FloatVector c0 = FloatVector.broadcast(SPECIES, seed);
        FloatVector c1 = c0.add(1f), c2 = c0.add(2f), c3 = c0.add(3f), c4 = c0.add(4f), c5 = c0.add(5f);
        FloatVector c6 = c0.add(6f), c7 = c0.add(7f), c8 = c0.add(8f), c9 = c0.add(9f), c10 = c0.add(10f);
        FloatVector c11 = c0.add(11f);
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** {@link #measure(int, double)} on every available processor for about half a second. */
    public static Result measure() {
        return measure(Runtime.getRuntime().availableProcessors(), 0.5);
    }

    /**
     * Warms the kernel up on one thread (so C2 has compiled it), sizes the work so that the
     * {@value #PASSES} timed passes take about {@code seconds} together, runs them one after the
     * other (each on {@code threads} threads started together, timed from the start until the
     * last one finishes) and keeps the best.
     *
     * @throws IllegalArgumentException when {@code threads < 1} or {@code seconds <= 0}
     */
    public static Result measure(int threads, double seconds) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (!(seconds > 0)) {
            throw new IllegalArgumentException("seconds must be > 0, got " + seconds);
        }
        // Warm-up: enough calls (C2 wants several hundred) for the method itself to be compiled,
        // not only its loop (OSR), since the passes' threads enter it afresh.
        float s = 0;
        for (int i = 0; i < 2_000; i++) {
            s += kernel(2_000, i);
        }
        long warm = 200_000;
        long t0 = System.nanoTime();
        s += kernel(warm, 1);
        double perIteration = (System.nanoTime() - t0) / (double) warm; // ns, compiled, one thread
        sink = s;
        if (perIteration <= 0) {
            perIteration = 1;
        }
        long iterations = Math.max(1000, (long) (seconds / PASSES * 1e9 / perIteration));
        double best = 0;
        long begin = System.nanoTime();
        for (int pass = 0; pass < PASSES; pass++) {
            best = Math.max(best, pass(threads, iterations));
        }
        double wall = (System.nanoTime() - begin) / 1e9;
        double perSecond = best * 1e9 / threads / flopsPerKernel(1);
        return new Result(best, threads, SPECIES.length(), SPECIES.vectorBitSize(), wall, PASSES, perSecond);
    }

    /**
     * Runs {@code iterations} of the kernel on {@code threads} threads started together; returns
     * GFLOP/s of all of them, over the wall time from the start until the last one finishes.
     */
    private static double pass(int threads, long iterations) {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        float[] results = new float[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread w = new Thread(() -> {
                await(start);
                results[id] = kernel(iterations, id);
            }, "recur-fma-peak-" + t);
            w.setDaemon(true);
            workers.add(w);
            w.start();
        }
        await(start);
        long begin = System.nanoTime();
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the FMA peak", e);
            }
        }
        double wall = (System.nanoTime() - begin) / 1e9;
        float all = 0;
        for (float r : results) {
            all += r;
        }
        sink = all;
        return threads * (double) flopsPerKernel(iterations) / wall / 1e9;
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring the FMA peak", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("FMA peak threads could not start together", e);
        }
    }
}
