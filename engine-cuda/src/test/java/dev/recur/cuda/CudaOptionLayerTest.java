package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static dev.recur.cuda.SimulatedOptionLayerTest.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA engine's option path through the public {@link Backend} API (CudaBackend's option
 * overrides, cuBLAS and the compiled kernels of options.cu), on a GPU only (skipped, with the
 * reason, without one): against engine-cpu's float64 oracle of the contract
 * ({@link dev.recur.cpu.OptionsOracle}),
 * forward directly and backward through central differences of its loss, and against the CPU
 * engine's option path where that engine runs the options (otherwise that comparison is skipped
 * with the CPU engine's refusal as the reason). Shapes include B = 1, T = 1 and H = 33 (not a
 * multiple of 32); masks with holes, lengths, both directions and bidirectional layers.
 *
 * <p>Tolerances: forward {@code 5e-5 + 5e-4·|want|}, gradients {@code 2e-4 + 2e-3·|want|}
 * (float32 against float64; cuBLAS sums in another order than the reference loops, over up to
 * 33 + 33 terms per pre-activation and 5 steps); against the CPU engine the gradient tolerance,
 * both being float32 engines that round differently.
 */
class CudaOptionLayerTest {

    @RegisterExtension
    static final CudaTestEngines engines = new CudaTestEngines(2, CudaOptions.defaults());

    /** T, B, I, H, P: H = 33 (not a multiple of 32), T = 1 and B = 1, B = 1, and an even H. */
    static final List<OptionProblem.Shape> SHAPES = List.of(new OptionProblem.Shape(5, 3, 4, 33, 7),
            new OptionProblem.Shape(1, 1, 3, 5, 2), new OptionProblem.Shape(3, 1, 2, 6, 3),
            new OptionProblem.Shape(4, 4, 5, 8, 4));

    /** Dropout and zoneout always; a projection when asked and the cell has one; layer norm on the odd-H shapes. */
    static CellOptions options(Cell cell, OptionProblem.Shape s, boolean projection) {
        boolean rnn = cell == Cell.RNN_TANH || cell == Cell.RNN_RELU;
        int p = projection && !rnn ? s.projection() : 0;
        boolean ln = !rnn && s.hidden() % 2 == 1;
        return new CellOptions(ln, 0.25f, 0.2f, cell.hasCellState() ? 0.3f : 0f, p);
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void gpuMatchesTheFloat64Oracle(Cell cell) {
        for (int i = 0; i < SHAPES.size(); i++) {
            OptionProblem.Shape s = SHAPES.get(i);
            for (Direction dir : new Direction[] {Direction.FORWARD, Direction.REVERSE, null}) {
                OptionProblem p = new OptionProblem(cell, options(cell, s, i % 2 == 0), s, dir, 31L * i + cell.ordinal());
                Map<String, float[]> got = p.run(engines.gpu());
                p.checkAgainstOracle(got);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void gpuMatchesTheCpuEngine(Cell cell) {
        for (int i = 0; i < SHAPES.size(); i++) {
            OptionProblem.Shape s = SHAPES.get(i);
            for (Direction dir : new Direction[] {Direction.FORWARD, null}) {
                OptionProblem p = new OptionProblem(cell, options(cell, s, true), s, dir, 77L * i + cell.ordinal());
                Map<String, float[]> want = p.run(engines.cpu());
                Map<String, float[]> got = p.run(engines.gpu());
                assertEquals(want.keySet(), got.keySet());
                for (String k : want.keySet()) {
                    double[] w = new double[want.get(k).length];
                    for (int j = 0; j < w.length; j++) {
                        w[j] = want.get(k)[j];
                    }
                    close(p.what + " gpu vs cpu " + k, w, got.get(k), 2e-4, 2e-3);
                }
            }
        }
    }

    @Test
    void optionCallsLeaveAnOptionsPathRecord() {
        CudaBackend gpu = engines.gpu();
        OptionProblem p = new OptionProblem(Cell.LSTM, options(Cell.LSTM, SHAPES.get(1), true), SHAPES.get(1), Direction.FORWARD,
                5);
        p.run(gpu);
        List<LayerPath> paths = gpu.layerPaths();
        LayerPath last = paths.get(paths.size() - 1);
        assertEquals(LayerPath.Kind.OPTIONS, last.kind(), last.toString());
        assertEquals("layerBackward", last.op());
        assertTrue(last.reason().contains("recurrentDropout"), last.toString());
    }

}
