package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device tensors, index tensors, workspaces, memory reuse and leaks, and closing, on the GPU
 * (skipped, with the reason, without one).
 */
class CudaTensorTest {

    /** Floats per pinned transfer slot: sizes around it exercise the chunked copies. */
    private static final int SLOT_FLOATS = HostTransfers.SLOT_BYTES / 4;
    private static CudaBackend gpu;

    @BeforeAll
    static void start() {
        if (CudaTestSupport.gpuPresent()) {
            gpu = new CudaBackend(CudaOptions.defaults());
        }
    }

    @AfterAll
    static void stop() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void needGpu() {
        CudaTestSupport.assumeGpu();
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void floatsSurviveTheRoundTripAtEverySize() {
        Random r = new Random(1);
        for (int n : new int[] {1, 3, 1000, SLOT_FLOATS - 1, SLOT_FLOATS, SLOT_FLOATS + 3, 2 * SLOT_FLOATS + SLOT_FLOATS / 2}) {
            float[] host = random(r, n);
            try (Tensor t = gpu.tensor(host, n)) {
                assertArrayEquals(host, t.toArray(), "n = " + n);
                float[] again = random(r, n);
                t.copyFrom(again);
                float[] wide = new float[n + 5];
                Arrays.fill(wide, 42f);
                t.copyTo(wide);
                assertArrayEquals(again, Arrays.copyOf(wide, n), "n = " + n + " after a second upload");
                assertEquals(42f, wide[n], "copyTo writes only the tensor's elements");
            }
        }
    }

    @Test
    void indicesSurviveTheRoundTrip() {
        Random r = new Random(2);
        for (int n : new int[] {1, 77, SLOT_FLOATS + 1}) {
            int[] host = r.ints(n, -5, 50_000).toArray();
            try (IndexTensor t = gpu.indices(host, n)) {
                assertArrayEquals(host, t.toArray(), "n = " + n);
            }
        }
        try (IndexTensor t = gpu.indices(4, 3)) {
            assertArrayEquals(new int[12], t.toArray(), "new index tensors are zero");
        }
    }

    @Test
    void newTensorsAreZero() {
        try (Tensor t = gpu.tensor(7, 33)) {
            assertArrayEquals(new float[7 * 33], t.toArray());
        }
    }

    @Test
    void reshapeViewsShareMemory() {
        try (Tensor base = gpu.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Tensor view = base.reshape(3, 2);
            assertEquals(dev.recur.api.Shape.of(3, 2), view.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, view.toArray());
            view.copyFrom(new float[] {6, 5, 4, 3, 2, 1});
            assertArrayEquals(new float[] {6, 5, 4, 3, 2, 1}, base.toArray(), "written through the view");
            Tensor viewOfView = view.reshape(6);
            viewOfView.fill(9);
            assertArrayEquals(new float[] {9, 9, 9, 9, 9, 9}, base.toArray());
            int live = gpu.allocator().stats().liveBlocks();
            view.close();
            view.close();
            assertEquals(live, gpu.allocator().stats().liveBlocks(), "closing a view releases nothing");
            assertArrayEquals(new float[] {9, 9, 9, 9, 9, 9}, base.toArray());
            base.close();
            assertTrue(view.isClosed() && viewOfView.isClosed(), "views of a closed base are closed");
            IllegalStateException e = assertThrows(IllegalStateException.class, viewOfView::toArray);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        try (Tensor t = gpu.tensor(2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
            assertTrue(e.getMessage().contains("[2, 3] has 6 elements, [4, 2] has 8"), e.getMessage());
        }
    }

    @Test
    void fillKeepsTheExactBits() {
        float nanWithPayload = Float.intBitsToFloat(0x7fc0_1234);
        for (float v : new float[] {3.5f, -0.0f, nanWithPayload, Float.NEGATIVE_INFINITY, Float.MIN_VALUE}) {
            try (Tensor t = gpu.tensor(1025)) {
                t.fill(v);
                for (float got : t.toArray()) {
                    assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(got), "fill(" + v + ")");
                }
            }
        }
    }

    @Test
    void shortArraysAreRefusedWithSizes() {
        try (Tensor t = gpu.tensor(2, 3); IndexTensor i = gpu.indices(4)) {
            IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5]));
            assertEquals("copyFrom: source has 5 elements, tensor [2, 3] needs 6", a.getMessage());
            IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> t.copyTo(null));
            assertEquals("copyTo: destination has no array, tensor [2, 3] holds 6", b.getMessage());
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> i.copyFrom(new int[3]));
            assertEquals("copyFrom: source has 3 elements, index tensor [4] needs 4", c.getMessage());
        }
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseFails() {
        Tensor t = gpu.tensor(10);
        IndexTensor i = gpu.indices(10);
        t.close();
        t.close();
        i.close();
        i.close();
        assertTrue(t.isClosed() && i.isClosed());
        assertThrows(IllegalStateException.class, () -> t.fill(1));
        assertThrows(IllegalStateException.class, i::toArray);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.gemm(false, false, 1, t, t, 0, t));
        assertTrue(e.getMessage().contains("gemm: a is closed"), e.getMessage());
    }

    @Test
    void closedTensorsLeaveNoLiveBlocksAndARepeatedPatternAllocatesNothingNew() {
        CachingAllocator.Stats before = gpu.allocator().stats();
        CachingAllocator.Stats afterFirst = null;
        for (int round = 0; round < 5; round++) {
            try (Tensor x = gpu.tensor(64, 512); Tensor g = gpu.tensor(100, 64, 2048); IndexTensor tokens = gpu.indices(100, 64)) {
                assertEquals(before.liveBlocks() + 3, gpu.allocator().stats().liveBlocks());
                x.fill(1);
                g.fill(2);
                tokens.copyFrom(new int[100 * 64]);
            }
            CachingAllocator.Stats s = gpu.allocator().stats();
            assertEquals(before.liveBlocks(), s.liveBlocks(), "round " + round + ": every block back");
            if (afterFirst == null) {
                afterFirst = s;
            } else {
                assertEquals(afterFirst.rawAllocations(), s.rawAllocations(), "round " + round + " reached cuMemAlloc");
                assertEquals(afterFirst.bytesHeld(), s.bytesHeld());
            }
        }
    }

    @Test
    void anyThreadMayUseTheBackend() throws Exception {
        // Each entry point makes the context current on the calling thread; a fresh thread has none.
        try (Tensor t = gpu.tensor(new float[] {1, 2, 3}, 3)) {
            float[][] seen = new float[2][];
            Throwable[] failure = new Throwable[1];
            Thread other = new Thread(() -> {
                try (Tensor u = gpu.tensor(new float[] {1, 1, 1}, 1, 3); Tensor out = gpu.tensor(1, 1)) {
                    t.fill(7);
                    gpu.gemm(false, false, 1, u, t.reshape(3, 1), 0, out); // [1, 3]·[3, 1]
                    seen[0] = t.toArray();
                    seen[1] = out.toArray();
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            other.start();
            other.join();
            if (failure[0] != null) {
                throw new AssertionError("on another thread", failure[0]);
            }
            assertArrayEquals(new float[] {7, 7, 7}, seen[0]);
            assertArrayEquals(new float[] {21}, seen[1]);
            assertArrayEquals(new float[] {7, 7, 7}, t.toArray(), "and back on this one");
        }
    }

    @Test
    void firstNonFiniteFindsTheFirstBadElement() {
        float[] v = new float[3000];
        try (Tensor t = gpu.tensor(v, 3000)) {
            assertEquals(-1, gpu.firstNonFinite(t));
            v[2500] = Float.POSITIVE_INFINITY;
            v[2999] = Float.NaN;
            t.copyFrom(v);
            assertEquals(2500, gpu.firstNonFinite(t));
        }
    }

    @Test
    void workspacesOwnTheirBlocksAndCloseTwice() {
        int live = gpu.allocator().stats().liveBlocks();
        Workspace ws = gpu.workspace(Cell.LSTM, 25, 16, 32, 64, true);
        CudaWorkspace cw = assertInstanceOf(CudaWorkspace.class, ws);
        assertSame(gpu, ws.backend());
        long gates = cw.allocateFloats(25L * 16 * 4 * 64, "gates [T, B, 4H]");
        long states = cw.allocateFloats(26L * 16 * 64, "c [T+1, B, H]");
        assertTrue(gates != 0 && states != 0 && gates != states);
        assertEquals(live + 2, gpu.allocator().stats().liveBlocks());
        assertTrue(cw.bytes() >= 4 * (25L * 16 * 4 * 64 + 26L * 16 * 64));
        cw.attach(Direction.FORWARD, "forward buffers");
        cw.attach(Direction.REVERSE, "reverse buffers");
        assertEquals("forward buffers", cw.attached(Direction.FORWARD, String.class));
        assertEquals("reverse buffers", cw.attached(Direction.REVERSE, String.class));
        ClassCastException wrong = assertThrows(ClassCastException.class, () -> cw.attached(Direction.FORWARD, Integer.class));
        assertTrue(wrong.getMessage().contains("java.lang.String"), wrong.getMessage());
        ws.close();
        ws.close();
        assertTrue(ws.isClosed());
        assertEquals(live, gpu.allocator().stats().liveBlocks(), "the workspace's blocks went back");
        assertThrows(IllegalStateException.class, () -> cw.allocate(4, "late"));

        try (Workspace one = gpu.workspace(Cell.GRU, 1, 4, 8, 8, false)) {
            CudaWorkspace c1 = (CudaWorkspace) one;
            c1.attach(Direction.FORWARD, 7);
            assertEquals(7, c1.attached(Direction.REVERSE, Integer.class), "one slot serves both directions");
        }
    }

    @Test
    void tensorLossAndOptimizerOpsWork() {
        // One call of each ops object on small integers, where float32 is exact; the full
        // comparisons with the CPU engine are in CudaTensorOpsTest, CudaLossOpsTest and
        // CudaOptimizerOpsTest.
        assertSame(gpu.tensorOps(), gpu.tensorOps(), "made once, in the constructor");
        try (Tensor x = gpu.tensor(new float[] {1, 2, 3, 4}, 2, 2); Tensor y = gpu.tensor(new float[] {10, 20, 30, 40}, 2, 2);
             Tensor loss = gpu.tensor(1)) {
            gpu.tensorOps().axpy(2, x, y);
            assertArrayEquals(new float[] {12, 24, 36, 48}, y.toArray());
            gpu.lossOps().meanSquaredError(x, y, loss, null);
            // ((11² + 22² + 33² + 44²) / 4 = 3630 / 4, exact in float64 and float32.
            assertArrayEquals(new float[] {907.5f}, loss.toArray());
            gpu.optimizerOps().sgd(x, y, null, 0.5f, 0f, 0f, false);
            assertArrayEquals(new float[] {-5, -10, -15, -20}, x.toArray());
        }
    }

    @Test
    void closingTheBackendReportsLeaksFreesAllAndIsIdempotent() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        CudaBackend b;
        Tensor leaked;
        Tensor closed;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            b = new CudaBackend(new CudaOptions(0, false, true)); // its leak reporter is this System.err
            leaked = b.tensor(new float[] {1, 2, 3}, 3);
            closed = b.tensor(5);
            closed.close();
            assertTrue(b.toString().startsWith("CudaBackend[") && b.describe().contains("cuBLAS"), b.describe());
            b.close();
            b.close();
        } finally {
            System.setErr(old);
        }
        String report = err.toString(StandardCharsets.UTF_8);
        assertTrue(report.contains("CUDA memory leak: 1 block (12 B)"), report);
        assertTrue(report.contains("tensor [3]"), report);
        assertTrue(report.contains("closingTheBackendReportsLeaksFreesAllAndIsIdempotent"), "allocation site: " + report);
        assertTrue(b.isClosed());
        assertTrue(leaked.isClosed(), "a tensor of a closed backend counts as closed");
        leaked.close(); // harmless after the backend closed
        assertNull(b.allocator().leakReport(), "everything was freed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.tensor(2));
        assertEquals("tensor: the cuda backend is closed", e.getMessage());
        assertFalse(gpu.isClosed(), "another backend on the same device is unaffected");
        try (Tensor t = gpu.tensor(new float[] {4, 5}, 2)) {
            assertArrayEquals(new float[] {4, 5}, t.toArray());
        }
    }
}
