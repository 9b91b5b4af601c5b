package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.cpu.CpuBackend;
import dev.recur.cuda.LayerRuns.Harness;
import dev.recur.cuda.LayerRuns.Inputs;
import dev.recur.cuda.LayerRuns.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static dev.recur.cuda.LayerRuns.assertBitwise;
import static dev.recur.cuda.LayerRuns.assertPaddingIsZero;
import static dev.recur.cuda.LayerRuns.compare;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA engine's layer and cell ops against the CPU engine, on fresh random inputs, for every
 * cell, both directions, bidirectional layers and the per-step cell ops, over shapes with B = 1,
 * T = 1, H = 1, H = 33 and H = 100 (not multiples of 32), I ≠ H, unsorted variable lengths and
 * non-zero initial states ({@link LayerRuns#SHAPES}); then what only the GPU has: bitwise
 * repetition, graphs against stepwise, the path report, no allocation after the first call, no
 * leak after closing. On the GPU only (skipped, with the reason, without one).
 *
 * <p>Tolerances: {@link LayerRuns#compare}, where they are written with the error expected and why.
 */
class CudaLayerTest {

    /** CPU engine (2 threads), CUDA engine (default options) where a GPU is; each test skipped without one. */
    @RegisterExtension
    static final CudaTestEngines engines = new CudaTestEngines(2, CudaOptions.defaults());
    private static CpuBackend cpu;
    private static CudaBackend gpu;
    private static CudaBackend stepwise;

    @BeforeAll
    static void start() {
        cpu = engines.cpu();
        gpu = engines.gpu();
        stepwise = engines.alsoGpu(CudaOptions.defaults().withGraphs(false));
    }

    // ---------------------------------------------------------------- against the CPU engine

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerMatchesTheCpuEngineInBothDirections(Cell cell) {
        for (Direction dir : Direction.values()) {
            for (int i = 0; i < LayerRuns.SHAPES.size(); i++) {
                Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(i), 1, seed(cell, i, dir.ordinal()));
                Map<String, float[]> want;
                Map<String, float[]> got;
                try (Harness c = new Harness(cpu, in, false); Harness g = new Harness(gpu, in, false)) {
                    want = c.layer(dir);
                    got = g.layer(dir);
                }
                String what = "layer " + dir + " " + in;
                compare(what, want, got);
                assertPaddingIsZero(what, in.shape, got.get("y"), in.shape.hidden());
                assertPaddingIsZero(what, in.shape, got.get("dx"), in.shape.input());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalMatchesTheCpuEngine(Cell cell) {
        for (int i = 0; i < LayerRuns.SHAPES.size(); i++) {
            Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(i), 2, seed(cell, i, 7));
            Map<String, float[]> want;
            Map<String, float[]> got;
            try (Harness c = new Harness(cpu, in, false); Harness g = new Harness(gpu, in, false)) {
                want = c.bidirectional();
                got = g.bidirectional();
            }
            String what = "bidirectional " + in;
            compare(what, want, got);
            assertPaddingIsZero(what, in.shape, got.get("y"), 2 * in.shape.hidden());
        }
    }

    /**
     * Inference (one direction each way, and bidirectional) against the CPU engine's inference,
     * and bit for bit against this engine's own forward: it runs the forward's kernels.
     */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void inferenceMatchesTheCpuEngineAndItsOwnForward(Cell cell) {
        for (int i = 0; i < LayerRuns.SHAPES.size(); i++) {
            for (Direction dir : new Direction[] {Direction.FORWARD, Direction.REVERSE, null}) {
                Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(i), dir == null ? 2 : 1, seed(cell, i, 11));
                Map<String, float[]> want;
                Map<String, float[]> got;
                Map<String, float[]> forward;
                try (Harness c = new Harness(cpu, in, false); Harness g = new Harness(gpu, in, false)) {
                    want = c.inference(dir);
                    got = g.inference(dir);
                    Map<String, float[]> all = dir == null ? g.bidirectional() : g.layer(dir);
                    forward = new java.util.LinkedHashMap<>();
                    for (String k : got.keySet()) {
                        forward.put(k, all.get(k));
                    }
                }
                String what = "inference " + (dir == null ? "bidirectional" : dir) + " " + in;
                compare(what, want, got);
                assertBitwise(what + " against the GPU forward", forward, got);
            }
        }
    }

    /** One gradient tensor set for both directions: the engine must add both, not race them. */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM_PEEPHOLE", "GRU"})
    void bidirectionalIntoOneGradientSetMatchesTheCpuEngine(Cell cell) {
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 2, seed(cell, 2, 8));
        Map<String, float[]> want;
        Map<String, float[]> got;
        try (Harness c = new Harness(cpu, in, false); Harness g = new Harness(gpu, in, false)) {
            want = c.bidirectional(true);
            got = g.bidirectional(true);
        }
        compare("bidirectional, shared gradients, " + in, want, got);
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void cellOpsMatchTheCpuEngine(Cell cell) {
        List<Shape> steps = List.of(
                new Shape(1, 1, 3, 1, null, true),
                new Shape(1, 3, 5, 33, null, true),
                new Shape(1, 4, 17, 100, null, false),
                new Shape(1, 2, 100, 20, null, true));
        for (int i = 0; i < steps.size(); i++) {
            Inputs in = new Inputs(cell, steps.get(i), 1, seed(cell, i, 9));
            Map<String, float[]> want;
            Map<String, float[]> got;
            try (Harness c = new Harness(cpu, in, true); Harness g = new Harness(gpu, in, true)) {
                want = c.cell();
                got = g.cell();
            }
            compare("cell " + in, want, got);
        }
    }

    // ---------------------------------------------------------------- what only the GPU has

    @ParameterizedTest
    @EnumSource(Cell.class)
    void repeatedRunsGiveTheSameBits(Cell cell) {
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, seed(cell, 2, 10));
        try (Harness g = new Harness(gpu, in, false)) {
            for (Direction dir : Direction.values()) {
                assertBitwise("layer " + dir + " " + in + ", second run", g.layer(dir), g.layer(dir));
            }
        }
        Inputs both = new Inputs(cell, LayerRuns.SHAPES.get(4), 2, seed(cell, 4, 11));
        try (Harness g = new Harness(gpu, both, false)) {
            assertBitwise("bidirectional " + both + ", second run", g.bidirectional(), g.bidirectional());
        }
    }

    /** The graph path (captured, then replayed) computes what the stepwise path does, bit for bit. */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void graphsAndStepwiseGiveTheSameBits(Cell cell) {
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, seed(cell, 2, 12));
        try (Harness g = new Harness(gpu, in, false); Harness s = new Harness(stepwise, in, false)) {
            for (Direction dir : Direction.values()) {
                Map<String, float[]> plain = s.layer(dir);
                assertBitwise("layer " + dir + " " + in + ", captured vs stepwise", plain, g.layer(dir));
                assertBitwise("layer " + dir + " " + in + ", replayed vs stepwise", plain, g.layer(dir));
            }
        }
        Inputs both = new Inputs(cell, LayerRuns.SHAPES.get(4), 2, seed(cell, 4, 13));
        try (Harness g = new Harness(gpu, both, false); Harness s = new Harness(stepwise, both, false)) {
            Map<String, float[]> plain = s.bidirectional();
            assertBitwise("bidirectional " + both + ", captured vs stepwise", plain, g.bidirectional());
            assertBitwise("bidirectional " + both + ", replayed vs stepwise", plain, g.bidirectional());
        }
    }

    @Test
    void thePathReportShowsCaptureThenReplay() {
        Cell cell = Cell.LSTM;
        Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, 501);
        try (Harness g = new Harness(gpu, in, false)) {
            g.layer(Direction.FORWARD);
            assertPaths(gpu, "layerForward graph-captured main", "layerBackward graph-captured main");
            g.layer(Direction.FORWARD);
            assertPaths(gpu, "layerForward graph-replayed main", "layerBackward graph-replayed main");
            // Other lengths with other step sizes: another loop, captured; then the first one is replayed.
            g.layer(Direction.FORWARD, new int[] {2, 2, 2, 2, 2});
            assertPaths(gpu, "layerForward graph-captured main", "layerBackward graph-captured main");
            g.layer(Direction.FORWARD);
            assertPaths(gpu, "layerForward graph-replayed main", "layerBackward graph-replayed main");
            // The same step sizes with another order of sequences: the kernels read the new
            // permutation from device memory, so the graph serves.
            g.layer(Direction.FORWARD, new int[] {7, 3, 4, 1, 7});
            assertPaths(gpu, "layerForward graph-replayed main", "layerBackward graph-replayed main");
            // A single step is not worth a graph.
            g.layer(Direction.REVERSE, new int[] {1, 1, 1, 1, 1});
            List<LayerPath> last = tail(gpu, 2);
            assertEquals(LayerPath.Kind.STEPWISE, last.get(0).kind());
            assertTrue(last.get(0).reason().contains("single step"), last.get(0).toString());
            CudaLayerBuffers buffers = ((CudaWorkspace) g.ws).attached(Direction.FORWARD, CudaLayerBuffers.class);
            assertEquals(4, buffers.graphCount(), "two loops, forward and backward each");
        }
        Inputs both = new Inputs(cell, LayerRuns.SHAPES.get(4), 2, 502);
        try (Harness g = new Harness(gpu, both, false)) {
            g.bidirectional();
            assertPaths(gpu, "bidirectionalForward graph-captured main", "bidirectionalForward graph-captured second",
                    "bidirectionalBackward graph-captured main", "bidirectionalBackward graph-captured second");
            g.bidirectional();
            assertPaths(gpu, "bidirectionalForward graph-replayed main", "bidirectionalForward graph-replayed second",
                    "bidirectionalBackward graph-replayed main", "bidirectionalBackward graph-replayed second");
            List<LayerPath> last = tail(gpu, 4);
            assertEquals(Direction.FORWARD, last.get(0).direction());
            assertEquals(Direction.REVERSE, last.get(1).direction());
            // Shared gradient tensors: the reverse direction waits its turn on the main stream.
            g.bidirectional(true);
            assertEquals("main", tail(gpu, 1).get(0).stream());
        }
        try (Harness s = new Harness(stepwise, in, false)) {
            s.layer(Direction.REVERSE);
            for (LayerPath p : tail(stepwise, 2)) {
                assertEquals(LayerPath.Kind.STEPWISE, p.kind(), p.toString());
                assertTrue(p.reason().contains("-Drecur.cuda.graphs=false"), p.toString());
                assertEquals(Direction.REVERSE, p.direction());
                assertEquals(cell, p.cell());
            }
        }
        for (LayerPath p : tail(gpu, 4)) {
            assertTrue(p.kind() != LayerPath.Kind.STEPWISE || p.reason() != null, "stepwise always says why: " + p);
        }
    }

    @Test
    void repeatedCallsAllocateNoDeviceMemory() {
        for (Cell cell : new Cell[] {Cell.LSTM_PEEPHOLE, Cell.GRU_ORIGINAL, Cell.RNN_TANH}) {
            Inputs in = new Inputs(cell, LayerRuns.SHAPES.get(2), 1, seed(cell, 2, 14));
            Inputs both = new Inputs(cell, LayerRuns.SHAPES.get(4), 2, seed(cell, 4, 15));
            Inputs step = new Inputs(cell, new Shape(1, 3, 5, 33, null, true), 1, seed(cell, 0, 16));
            try (Harness g = new Harness(gpu, in, false); Harness b = new Harness(gpu, both, false);
                 Harness c = new Harness(gpu, step, true)) {
                g.layer(Direction.FORWARD);
                g.layer(Direction.REVERSE);
                b.bidirectional();
                c.cell();
                CachingAllocator.Stats first = gpu.allocator().stats();
                for (int i = 0; i < 4; i++) {
                    g.layer(Direction.FORWARD);
                    g.layer(Direction.REVERSE, new int[] {i + 1, 7, 2, 5, 7});
                    g.layer(Direction.FORWARD, null);
                    b.bidirectional();
                    c.cell();
                }
                CachingAllocator.Stats after = gpu.allocator().stats();
                assertEquals(first.rawAllocations(), after.rawAllocations(),
                        cell + ": raw device allocations grew over repeated calls: " + first + " -> " + after);
                assertEquals(first.liveBlocks(), after.liveBlocks(), cell + ": live blocks grew");
            }
        }
    }

    @Test
    void closingWorkspacesAndTensorsLeavesNoLiveBlocksAndNoGraphs() {
        int live = gpu.allocator().stats().liveBlocks();
        Inputs both = new Inputs(Cell.GRU, LayerRuns.SHAPES.get(2), 2, 601);
        CudaLayerBuffers forward;
        CudaLayerBuffers reverse;
        try (Harness g = new Harness(gpu, both, false)) {
            g.bidirectional();
            CudaWorkspace ws = (CudaWorkspace) g.ws;
            forward = ws.attached(Direction.FORWARD, CudaLayerBuffers.class);
            reverse = ws.attached(Direction.REVERSE, CudaLayerBuffers.class);
            assertNotNull(forward);
            assertTrue(forward != reverse, "a bidirectional workspace has buffers per direction");
            assertEquals(2, forward.graphCount());
            assertEquals(2, reverse.graphCount());
            assertTrue(gpu.allocator().stats().liveBlocks() > live);
        }
        assertTrue(forward.isClosed() && reverse.isClosed());
        assertEquals(0, forward.graphCount());
        assertEquals(0, reverse.graphCount());
        assertEquals(live, gpu.allocator().stats().liveBlocks(), "every block of the test went back");
    }

    @Test
    void closingTheBackendBeforeTheWorkspaceIsHarmless() {
        CudaBackend b = new CudaBackend(CudaOptions.defaults());
        Inputs in = new Inputs(Cell.RNN_RELU, LayerRuns.SHAPES.get(2), 1, 701);
        Harness g = new Harness(b, in, false);
        g.layer(Direction.REVERSE);
        CudaLayerBuffers buffers = ((CudaWorkspace) g.ws).attached(Direction.REVERSE, CudaLayerBuffers.class);
        assertEquals(2, buffers.graphCount());
        b.close();
        assertTrue(buffers.isClosed(), "the backend destroyed the graphs before its context went");
        g.close(); // tensors and workspace of a closed backend: nothing left to free, no exception
        assertNull(b.allocator().leakReport());
    }

    // ---------------------------------------------------------------- helpers

    private static long seed(Cell cell, int shape, int salt) {
        return 1000L * (cell.ordinal() + 1) + 10L * shape + salt;
    }

    private static List<LayerPath> tail(CudaBackend b, int n) {
        List<LayerPath> all = b.layerPaths();
        assertTrue(all.size() >= n, "at least " + n + " path records, got " + all);
        return all.subList(all.size() - n, all.size());
    }

    /** The last records are, in order, "op kind stream" each. */
    private static void assertPaths(CudaBackend b, String... expected) {
        List<LayerPath> last = tail(b, expected.length);
        for (int i = 0; i < expected.length; i++) {
            LayerPath p = last.get(i);
            assertEquals(expected[i], p.op() + " " + p.kind().label() + " " + p.stream(), "record " + i + ": " + p
                    + "; all of the last: " + last);
            if (p.kind() != LayerPath.Kind.STEPWISE) {
                assertNull(p.reason(), p.toString());
            }
        }
    }
}
