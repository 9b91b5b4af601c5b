package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.cpu.CpuBackend;
import dev.recur.cuda.LayerRuns.Harness;
import dev.recur.cuda.LayerRuns.Inputs;
import dev.recur.cuda.LayerRuns.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static dev.recur.cuda.LayerRuns.assertBitwise;
import static dev.recur.cuda.LayerRuns.assertPaddingIsZero;
import static dev.recur.cuda.LayerRuns.compare;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA engine's layer code ({@link CudaLayer}, {@link CudaLayerBuffers}, the plan, the graph
 * keys and the path records) run on a {@link SimulatedDevice} and compared with the CPU engine,
 * on any machine: what it checks is the layer code's own logic (which buffers, offsets, strides
 * and GEMM operands each step uses, the order of work, the bidirectional dx sum, when a graph is
 * captured or replayed and that a replay computes what a capture did, that nothing allocates
 * after the first call), with the kernels replaced by Java ports of their .cu sources
 * ({@link SimulatedKernels}) behind the real launch methods of {@link CudaKernels}, and cuBLAS by
 * {@link CudaGemm}'s row-major mapping onto column-major reference loops. What it cannot check
 * is the GPU itself: the kernels' compiled code, cuBLAS, the driver's graphs and stream
 * concurrency; {@link CudaLayerTest} checks those on a GPU. Tolerances: {@link LayerRuns#compare}.
 */
class SimulatedLayerTest {

    private static CpuBackend cpu;
    private SimulatedDevice device;

    @BeforeAll
    static void start() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        cpu.close();
    }

    @AfterEach
    void closeDevice() {
        if (device != null) {
            assertTrue(device.joined(), "every secondWaitsForMain was joined back by mainWaitsForSecond");
            device.close();
        }
    }

    private CudaLayer layer(boolean graphs) {
        if (device == null) {
            device = new SimulatedDevice();
        }
        return new CudaLayer(device, graphs);
    }

    private static long seed(Cell cell, int shape, int salt) {
        return 1000L * (cell.ordinal() + 1) + 10L * shape + salt;
    }

    private static Map<String, float[]> onCpu(Inputs in, java.util.function.Function<Harness, Map<String, float[]>> op,
                                              boolean stepOps) {
        try (Harness h = new Harness(cpu, in, stepOps)) {
            return op.apply(h);
        }
    }

    // ---------------------------------------------------------------- against the CPU engine

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerMatchesTheCpuEngineInBothDirections(Cell cell) {
        CudaLayer layer = layer(true);
        for (Direction dir : Direction.values()) {
            for (int i = 0; i < LayerRuns.SHAPES.size(); i++) {
                Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(i), 1, seed(cell, i, dir.ordinal()));
                Map<String, float[]> want = onCpu(in, h -> h.layer(dir), false);
                SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
                String what = "simulated layer " + dir + " " + in;
                Map<String, float[]> captured = sim.layer(dir);
                compare(what + " (first call)", want, captured);
                assertPaddingIsZero(what, in.shape, captured.get("y"), in.shape.hidden());
                assertPaddingIsZero(what, in.shape, captured.get("dx"), in.shape.input());
                // The second call replays the graphs of the first: the same bits.
                assertBitwise(what + ", replayed vs captured", captured, sim.layer(dir));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalMatchesTheCpuEngine(Cell cell) {
        CudaLayer layer = layer(true);
        for (int i = 0; i < LayerRuns.SHAPES.size(); i++) {
            Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(i), 2, seed(cell, i, 7));
            Map<String, float[]> want = onCpu(in, Harness::bidirectional, false);
            SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
            Map<String, float[]> got = sim.bidirectional(false);
            compare("simulated bidirectional " + in, want, got);
            assertPaddingIsZero("simulated bidirectional " + in, in.shape, got.get("y"), 2 * in.shape.hidden());
            assertBitwise("simulated bidirectional " + in + ", replayed", got, sim.bidirectional(false));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM_PEEPHOLE", "GRU", "GRU_ORIGINAL"})
    void bidirectionalIntoOneGradientSetMatchesTheCpuEngine(Cell cell) {
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 2, seed(cell, 2, 8));
        Map<String, float[]> want = onCpu(in, h -> h.bidirectional(true), false);
        CudaLayer layer = layer(true);
        SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
        compare("simulated bidirectional, shared gradients, " + in, want, sim.bidirectional(true));
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void cellOpsMatchTheCpuEngine(Cell cell) {
        CudaLayer layer = layer(true);
        List<Shape> steps = List.of(
                new Shape(1, 1, 3, 1, null, true),
                new Shape(1, 3, 5, 33, null, true),
                new Shape(1, 4, 17, 100, null, false),
                new Shape(1, 2, 100, 20, null, true));
        for (int i = 0; i < steps.size(); i++) {
            Inputs in = new Inputs(cell, steps.get(i), 1, seed(cell, i, 9));
            Map<String, float[]> want = onCpu(in, Harness::cell, true);
            SimulatedHarness sim = new SimulatedHarness(device, layer, in, true);
            compare("simulated cell " + in, want, sim.cell());
        }
        for (LayerPath p : layer.paths()) {
            assertEquals(LayerPath.Kind.STEPWISE, p.kind(), "a single step is never a graph: " + p);
        }
    }

    // ---------------------------------------------------------------- graphs, paths, memory

    @ParameterizedTest
    @EnumSource(Cell.class)
    void graphsAndStepwiseGiveTheSameBits(Cell cell) {
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, seed(cell, 2, 12));
        SimulatedHarness withGraphs = new SimulatedHarness(device(), layer(true), in, false);
        SimulatedHarness stepwise = new SimulatedHarness(device, layer(false), in, false);
        for (Direction dir : Direction.values()) {
            Map<String, float[]> plain = stepwise.layer(dir);
            assertBitwise("layer " + dir + " " + in + ", captured vs stepwise", plain, withGraphs.layer(dir));
            assertBitwise("layer " + dir + " " + in + ", replayed vs stepwise", plain, withGraphs.layer(dir));
        }
    }

    /**
     * A replay is right exactly when the key holds everything the loop was enqueued with: calls
     * that change the order of sequences but not the step sizes replay, and must still match the
     * CPU engine; calls with other step sizes or another output capture anew.
     */
    @Test
    void replaysAreRightWhenOnlyMemoryContentsChange() {
        Cell cell = Cell.LSTM_PEEPHOLE;
        CudaLayer layer = layer(true);
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, 801);
        SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
        // Same order of step sizes (5, 4, 4, 3, 2, 2, 2) in the first three; as many steps but other sizes
        // (5 throughout) in the fourth; fewer steps in the fifth; the first again at the end.
        int[][] orders = {{3, 7, 1, 7, 4}, {7, 3, 4, 1, 7}, {4, 1, 7, 3, 7}, {7, 7, 7, 7, 7}, {2, 2, 2, 2, 2},
                {3, 7, 1, 7, 4}};
        String[] kinds = {"graph-captured", "graph-replayed", "graph-replayed", "graph-captured", "graph-captured",
                "graph-replayed"};
        for (int k = 0; k < orders.length; k++) {
            int[] lengths = orders[k];
            Map<String, float[]> want;
            try (Harness h = new Harness(cpu, in, false)) {
                want = h.layer(Direction.REVERSE, lengths);
            }
            int captures = device.captures;
            compare("lengths " + java.util.Arrays.toString(lengths), want, sim.layer(Direction.REVERSE, lengths));
            List<LayerPath> last = tail(layer, 2);
            for (LayerPath p : last) {
                assertEquals(kinds[k], p.kind().label(), "call " + k + ": " + p);
            }
            assertEquals(kinds[k].equals("graph-captured") ? captures + 2 : captures, device.captures);
        }
        assertEquals(6, sim.buffers[0].graphCount());
    }

    @Test
    void thePathReportSaysWhatRanAndWhy() {
        CudaLayer layer = layer(true);
        Inputs in = new Inputs(Cell.GRU, LayerRuns.SHAPES.get(4), 2, 901);
        SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
        sim.bidirectional(false);
        assertPaths(layer, "bidirectionalForward gru FORWARD graph-captured on main, 6 steps",
                "bidirectionalForward gru REVERSE graph-captured on second, 6 steps",
                "bidirectionalBackward gru FORWARD graph-captured on main, 6 steps",
                "bidirectionalBackward gru REVERSE graph-captured on second, 6 steps");
        sim.bidirectional(false);
        assertPaths(layer, "bidirectionalForward gru FORWARD graph-replayed on main, 6 steps",
                "bidirectionalForward gru REVERSE graph-replayed on second, 6 steps",
                "bidirectionalBackward gru FORWARD graph-replayed on main, 6 steps",
                "bidirectionalBackward gru REVERSE graph-replayed on second, 6 steps");
        // One gradient set for both directions: the reverse direction runs on the main stream.
        sim.bidirectional(true);
        assertEquals("main", tail(layer, 1).getFirst().stream());

        CudaLayer off = new CudaLayer(device, false);
        SimulatedHarness plain = new SimulatedHarness(device, off, in, false);
        plain.bidirectional(false);
        for (LayerPath p : tail(off, 4)) {
            assertEquals(LayerPath.Kind.STEPWISE, p.kind());
            assertEquals("graphs off (-Drecur.cuda.graphs=false)", p.reason());
        }
    }

    @Test
    void aFailedCaptureRunsStepwiseAndSaysWhyAndTwoInARowStopTrying() {
        CudaLayer layer = layer(true);
        Inputs in = new Inputs(Cell.RNN_TANH, LayerRuns.SHAPES.get(2), 1, 1001);
        Map<String, float[]> want;
        try (Harness h = new Harness(cpu, in, false)) {
            want = h.layer(Direction.FORWARD);
        }
        SimulatedHarness sim = new SimulatedHarness(device, layer, in, false);
        device.failNextCapture = "cuStreamBeginCapture(main-capture): CUDA_ERROR_NOT_SUPPORTED";
        compare("after a failed capture", want, sim.layer(Direction.FORWARD));
        List<LayerPath> last = tail(layer, 2);
        assertEquals(LayerPath.Kind.STEPWISE, last.get(0).kind());
        assertEquals("capture failed, ran stepwise: cuStreamBeginCapture(main-capture): CUDA_ERROR_NOT_SUPPORTED",
                last.get(0).reason());
        assertEquals(LayerPath.Kind.GRAPH_CAPTURED, last.get(1).kind(), "the backward's capture worked");
        // The forward tries again next time; a second failure in a row turns graphs off for this workspace.
        device.failNextCapture = "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED";
        sim.layer(Direction.FORWARD);
        device.failNextCapture = "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED";
        sim.layer(Direction.FORWARD, new int[] {2, 2, 2, 2, 2});
        compare("graphs off", want, sim.layer(Direction.FORWARD));
        LayerPath forward = tail(layer, 2).getFirst();
        assertEquals(LayerPath.Kind.STEPWISE, forward.kind());
        assertTrue(forward.reason().startsWith("graphs off for this workspace after 2 failed captures in a row"),
                forward.reason());
    }

    @Test
    void repeatedCallsAllocateNothing() {
        CudaLayer layer = layer(true);
        for (Cell cell : new Cell[] {Cell.LSTM_PEEPHOLE, Cell.GRU_ORIGINAL, Cell.GRU}) {
            SimulatedHarness one = new SimulatedHarness(device, layer,
                    new Inputs(cell, LayerRuns.SHAPES.get(2), 1, seed(cell, 2, 14)), false);
            SimulatedHarness both = new SimulatedHarness(device, layer,
                    new Inputs(cell, LayerRuns.SHAPES.get(4), 2, seed(cell, 4, 15)), false);
            one.layer(Direction.FORWARD);
            both.bidirectional(false);
            int a = one.layerAllocations;
            int b = both.layerAllocations;
            for (int i = 0; i < 4; i++) {
                one.layer(Direction.REVERSE, new int[] {i + 1, 7, 2, 5, 7});
                one.layer(Direction.FORWARD, null);
                both.bidirectional(i % 2 == 0);
            }
            assertEquals(a, one.layerAllocations, cell + ": the layer allocated after its first forward and backward");
            assertEquals(b, both.layerAllocations, cell + ": bidirectional");
        }
    }

    @Test
    void closingTheLayerClosesEveryGraph() {
        CudaLayer layer = layer(true);
        SimulatedHarness sim = new SimulatedHarness(device, layer,
                new Inputs(Cell.LSTM, LayerRuns.SHAPES.get(2), 2, 1101), false);
        sim.bidirectional(false);
        assertEquals(2, sim.buffers[0].graphCount());
        layer.close();
        for (CudaLayerBuffers b : sim.buffers) {
            assertTrue(b.isClosed());
            assertEquals(0, b.graphCount());
        }
        layer.close(); // twice is harmless
    }

    // ---------------------------------------------------------------- helpers

    private SimulatedDevice device() {
        if (device == null) {
            device = new SimulatedDevice();
        }
        return device;
    }

    private static List<LayerPath> tail(CudaLayer layer, int n) {
        List<LayerPath> all = layer.paths();
        assertTrue(all.size() >= n, "at least " + n + " records, got " + all);
        return all.subList(all.size() - n, all.size());
    }

    private static void assertPaths(CudaLayer layer, String... expected) {
        List<LayerPath> last = tail(layer, expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], last.get(i).toString());
            assertNull(last.get(i).reason());
        }
    }
}
