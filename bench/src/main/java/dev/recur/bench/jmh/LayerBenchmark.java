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
 * One layer (one direction, T steps) on a Recur engine: {@code forward} is {@code layerForward};
 * {@code forwardBackward} adds {@code layerBackward} with the input gradient; {@code trainStep}
 * is the layer's part of a training step (zero the gradients, forward, backward). B=64, I=H=512,
 * T=100. FLOPs per op: 2·G·H·(I+H)·B·T forward, three times that with the backward. One op takes
 * about a second on a small machine, hence few, long iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 3, time = 6)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class LayerBenchmark {

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

    @Param("100")
    public int steps;

    private Backend engine;
    private RecurWorkloads.Layer layer;

    @Setup
    public void setUp() {
        engine = Backends.named(backend);
        layer = new RecurWorkloads.Layer(engine, Cell.byId(cell), batch, input, hidden, steps, 1);
    }

    @TearDown
    public void tearDown() {
        layer.close();
        engine.close();
    }

    @Benchmark
    public void forward() {
        layer.forward();
    }

    @Benchmark
    public void forwardBackward() {
        layer.forwardBackward();
    }

    @Benchmark
    public void trainStep() {
        layer.trainStep();
    }
}
