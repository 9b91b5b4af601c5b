package dev.recur.bench.jmh;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.bench.RecurWorkloads;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * SGEMM on a Recur engine: {@code C[M, N] = A[M, K] · op(B)}. Shapes ({@code MxNxK}, with
 * {@code :T} when op(B) is a weight matrix {@code [N, K]} used transposed, as a layer uses it):
 * square 1024; the input projection of all steps {@code [T*B, I] x [I, G*H]} = 6400x2048x512;
 * one recurrent step {@code [B, H] x [H, G*H]} = 64x2048x512 (B=64, I=H=512, T=100, G=4).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class GemmBenchmark {

    @Param("cpu")
    public String backend;

    @Param({"1024x1024x1024", "6400x2048x512:T", "64x2048x512:T"})
    public String shape;

    private Backend engine;
    private RecurWorkloads.Gemm gemm;

    @Setup
    public void setUp() {
        GemmShape s = GemmShape.parse(shape);
        engine = Backends.named(backend);
        gemm = new RecurWorkloads.Gemm(engine, s.m(), s.n(), s.k(), s.transB(), 1);
    }

    @TearDown
    public void tearDown() {
        gemm.close();
        engine.close();
    }

    @Benchmark
    public void sgemm() {
        gemm.run();
    }
}
