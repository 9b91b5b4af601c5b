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
 */
public final class FmaPeak {

    /** Independent accumulator chains per thread. */
    public static final int CHAINS = 12;

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
     * @param seconds    wall time of the timed pass
     */
    public record Result(double gflops, int threads, int lanes, int vectorBits, double seconds) {
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
     * Warms the kernel up on one thread (so C2 has compiled it), sizes the work so that the timed
     * pass takes about {@code seconds}, then runs it on {@code threads} threads started together
     * and takes the wall time from the start until the last one finishes.
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
        // Warm-up: enough calls for C2 to compile the loop (OSR first, then the method itself).
        long warm = 200_000;
        float s = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            s += kernel(warm, i);
        }
        long t1 = System.nanoTime();
        s += kernel(warm, 1);
        double perIteration = (System.nanoTime() - t1) / (double) warm; // ns, compiled, one thread
        sink = s;
        if (t1 - t0 <= 0 || perIteration <= 0) {
            perIteration = 1;
        }
        long iterations = Math.max(1000, (long) (seconds * 1e9 / perIteration));

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
        double gflops = threads * (double) flopsPerKernel(iterations) / wall / 1e9;
        return new Result(gflops, threads, SPECIES.length(), SPECIES.vectorBitSize(), wall);
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
