package dev.recur.bench.jmh;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
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
 * One step of a cell on a Recur engine ({@code cellForward}, and {@code cellForward} +
 * {@code cellBackward}): B=64, I=H=512. FLOPs per op: 2·G·H·(I+H)·B forward, three times that
 * forward and backward.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class CellBenchmark {

    @Param("cpu")
    public String backend;

    @Param({"lstm", "gru", "rnn_tanh"})
    public String cell;

    @Param("64")
    public int batch;

    @Param("512")
    public int input;

    @Param("512")
    public int hidden;

    private Backend engine;
    private RecurWorkloads.CellStep step;

    @Setup
    public void setUp() {
        engine = Backends.named(backend);
        step = new RecurWorkloads.CellStep(engine, Cell.byId(cell), batch, input, hidden, 1);
    }

    @TearDown
    public void tearDown() {
        step.close();
        engine.close();
    }

    @Benchmark
    public void forward() {
        step.forward();
    }

    @Benchmark
    public void forwardBackward() {
        step.forwardBackward();
    }
}
