package dev.recur.bench.jmh;

import dev.recur.api.Availability;
import dev.recur.api.Cell;
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

/**
 * The peer of {@link LayerBenchmark}: DL4J 1.0.0-M2.1's LSTM and SimpleRnn layers (it has no GRU)
 * on the same shapes ({@link Dl4jPeer}): {@code forward} is {@code output(x, false)},
 * {@code trainStep} is {@code computeGradientAndScore()}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 3, time = 6)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.VECTOR, BenchJvm.NATIVE, BenchJvm.UNSAFE, BenchJvm.STACK})
public class Dl4jLayerBenchmark {

    @Param({"lstm", "rnn_tanh"})
    public String cell;

    @Param("64")
    public int batch;

    @Param("512")
    public int input;

    @Param("512")
    public int hidden;

    @Param("100")
    public int steps;

    private Dl4jPeer.LayerWorkload layer;

    @Setup
    public void setUp() {
        Availability a = Dl4jPeer.probe();
        if (!a.available()) {
            throw new IllegalStateException(a.reason());
        }
        layer = new Dl4jPeer.LayerWorkload(Cell.byId(cell), batch, input, hidden, steps, 1);
    }

    @Benchmark
    public Object forward() {
        return layer.forward();
    }

    @Benchmark
    public double trainStep() {
        return layer.trainStep();
    }
}
