package dev.recur.bench.jmh;

import dev.recur.api.Availability;
import dev.recur.bench.Dl4jPeer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/** The peer of {@link GemmBenchmark}: ND4J's gemm (OpenBLAS sgemm) on the same shapes. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class Dl4jGemmBenchmark {

    @Param({"1024x1024x1024", "6400x2048x512:T", "64x2048x512:T"})
    public String shape;

    private Dl4jPeer.GemmWorkload gemm;

    @Setup
    public void setUp() {
        Availability a = Dl4jPeer.probe();
        if (!a.available()) {
            throw new IllegalStateException(a.reason());
        }
        GemmShape s = GemmShape.parse(shape);
        gemm = new Dl4jPeer.GemmWorkload(s.m(), s.n(), s.k(), s.transB(), 1);
    }

    @Benchmark
    public void sgemm() {
        gemm.run();
    }
}
