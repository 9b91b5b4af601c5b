package dev.recur.bench.jmh;

import dev.recur.bench.FmaPeak;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The machine's FMA peak under JMH: {@link FmaPeak#kernel} on one thread per available processor
 * ({@code @Threads(MAX)}); JMH sums the threads' throughput. FLOPs per op:
 * {@link #ITERATIONS} · {@link FmaPeak#CHAINS} · lanes · 2.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(Threads.MAX)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class FmaPeakBenchmark {

    /** Rounds of FMA chains per op: long enough that the call overhead vanishes (~0.1 ms). */
    public static final long ITERATIONS = 100_000;

    private float seed = 0.5f;

    @Benchmark
    public float fma() {
        return FmaPeak.kernel(ITERATIONS, seed);
    }
}
