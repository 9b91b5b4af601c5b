package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.NonFiniteException;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Backend#layerInference} and {@link Backend#bidirectionalInference}: the same bits as
 * {@link Backend#layerForward}'s y, hT and cT for every cell and variant, both directions,
 * bidirectional, variable lengths, at 1, 2 and 3 threads (the sliced time loop included); the workspace it used as scratch holds no
 * forward afterwards; bad arguments are refused as the forward refuses them.
 */
class InferenceTest {

    /** The small shapes of {@link Cases}, and larger ones that split the GEMMs and the gate math among threads. */
    private static List<LayerCase> cases(Cell cell) {
        List<LayerCase> all = new ArrayList<>(Cases.oneDirection(cell));
        all.addAll(Cases.bidirectional(cell));
        // G*H = 600 with 70 rows: a step's gate math is split among the threads (see DeterminismTest).
        int[] lengths = new int[70];
        for (int b = 0; b < 70; b++) {
            lengths[b] = 1 + (b * 5) % 7;
        }
        all.add(new LayerCase(cell, 7, 70, 33, 600 / cell.gates(), lengths, true, false, 77));
        all.add(new LayerCase(cell, 9, 40, 24, 600 / cell.gates(), null, false, false, 78));
        // H = 37: a partial vector at the end of every row.
        all.add(new LayerCase(cell, 5, 9, 40, 37, new int[] {5, 1, 3, 5, 2, 4, 5, 5, 1}, true, true, 79));
        // Few sequences, H in whole GEMM strips: the sliced time loop at two threads and more.
        all.add(new LayerCase(cell, 6, 5, 24, 3 * Sgemm.NR, new int[] {6, 3, 5, 1, 4}, true, false, 80));
        all.add(new LayerCase(cell, 4, 1, 16, 2 * Sgemm.NR, null, true, true, 81));
        return all;
    }

    /** Against the forward at one thread: so the inference at 2 and 3 threads matches it too. */
    @Test
    void sameBitsAsTheForwardForEveryCellAtOneTwoAndThreeThreads() {
        // The sliced loop forced at 2 and 3 threads (by shape alone it runs only from H = 512; the
        // shapes it cannot take run stepwise), and with one slice.
        int[] threadCounts = {1, 2, 3, 2};
        CpuLayer.TimeLoop[] loops = {CpuLayer.TimeLoop.AUTO, CpuLayer.TimeLoop.SLICED, CpuLayer.TimeLoop.SLICED,
                CpuLayer.TimeLoop.ONE_THREAD};
        for (int i = 0; i < loops.length; i++) {
            int threads = threadCounts[i];
            try (CpuBackend be = new CpuBackend(threads, loops[i]); CpuBackend one = new CpuBackend(1)) {
                for (Cell cell : Cell.values()) {
                    for (LayerCase c : cases(cell)) {
                        List<Direction> dirs = c.bidirectional ? java.util.Arrays.asList((Direction) null)
                                : List.of(Direction.FORWARD, Direction.REVERSE);
                        for (Direction dir : dirs) {
                            String what = c + (dir == null ? "" : " " + dir) + " at " + threads + " threads, " + loops[i];
                            LayerCase.EngineRun forward = c.runLayer(one, dir);
                            Outputs fresh = infer(be, c, dir, false);
                            assertSame(what, forward, fresh);
                            // A workspace that a forward filled first: its stale contents change nothing.
                            Outputs reused = infer(be, c, dir, true);
                            assertSame(what + " (workspace filled by a forward first)", forward, reused);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aBackwardAfterInferenceIsRefusedUntilTheNextForward() {
        try (CpuBackend be = new CpuBackend(1)) {
            Cell cell = Cell.LSTM;
            LayerCase c = new LayerCase(cell, 3, 2, 4, 5, null, false, false, 5);
            try (Args a = new Args(be, c)) {
                be.layerForward(cell, Direction.FORWARD, a.x, null, null, a.params[0], a.y, a.fin[0], a.ws);
                be.layerInference(cell, Direction.FORWARD, a.x, null, null, a.params[0], a.y, a.fin[0], a.ws);
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> be.layerBackward(cell, Direction.FORWARD, a.x, null, a.params[0], a.ws, a.y, null, null,
                                null, LayerParams.zeros(be, cell, 4, 5)));
                assertTrue(e.getMessage().contains("holds no forward pass"), e.getMessage());
                // A forward fills it again, and the backward runs.
                be.layerForward(cell, Direction.FORWARD, a.x, null, null, a.params[0], a.y, a.fin[0], a.ws);
                be.layerBackward(cell, Direction.FORWARD, a.x, null, a.params[0], a.ws, a.y, null, null, null,
                        LayerParams.zeros(be, cell, 4, 5));
            }
        }
    }

    @Test
    void badArgumentsAreRefusedWithTheirNames() {
        try (CpuBackend be = new CpuBackend(1)) {
            Cell cell = Cell.GRU;
            LayerCase c = new LayerCase(cell, 3, 2, 4, 5, null, false, false, 6);
            try (Args a = new Args(be, c);
                 Tensor badY = be.tensor(3, 2, 6);
                 Tensor nan = be.tensor(new float[] {Float.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                         0, 0, 0, 0, 0}, 3, 2, 4);
                 Workspace bi = be.workspace(cell, 3, 2, 4, 5, true);
                 Workspace lstm = be.workspace(Cell.LSTM, 3, 2, 4, 5, false)) {
                String y = message(() -> be.layerInference(cell, Direction.FORWARD, a.x, null, null, a.params[0], badY,
                        null, a.ws));
                assertTrue(y.startsWith("layerInference(gru): y must have shape [T, B, H] = [3, 2, 5], got [3, 2, 6]"), y);
                String ws = message(() -> be.layerInference(cell, Direction.FORWARD, a.x, null, null, a.params[0], a.y,
                        null, null));
                assertTrue(ws.contains("ws is null"), ws);
                String dir = message(() -> be.layerInference(cell, Direction.FORWARD, a.x, null, null, a.params[0], a.y,
                        null, bi));
                assertTrue(dir.contains("ws was made bidirectional"), dir);
                String other = message(() -> be.layerInference(cell, Direction.FORWARD, a.x, null, null, a.params[0],
                        a.y, null, lstm));
                assertTrue(other.contains("ws was made for cell lstm, not gru"), other);
                String len = message(() -> be.layerInference(cell, Direction.FORWARD, a.x, new int[] {3, 4}, null,
                        a.params[0], a.y, null, a.ws));
                assertTrue(len.contains("lengths[1] = 4 is greater than T = 3"), len);
                String nulldir = message(() -> be.layerInference(cell, null, a.x, null, null, a.params[0], a.y, null,
                        a.ws));
                assertTrue(nulldir.contains("direction is null"), nulldir);
                NonFiniteException nf = assertThrows(NonFiniteException.class, () -> be.layerInference(cell,
                        Direction.FORWARD, nan, null, null, a.params[0], a.y, null, a.ws));
                assertTrue(nf.getMessage().contains("x holds NaN at index [0, 0, 0]"), nf.getMessage());
                String biY = message(() -> be.bidirectionalInference(cell, a.x, null, null,
                        new PerDirection<>(a.params[0], a.params[0]), a.y, null, bi));
                assertTrue(biY.startsWith("bidirectionalInference(gru): y must have shape [T, B, 2H] = [3, 2, 10]"), biY);
                String biWs = message(() -> be.bidirectionalInference(cell, a.x, null, null,
                        new PerDirection<>(a.params[0], a.params[0]), a.y, null, a.ws));
                assertTrue(biWs.contains("this op needs a bidirectional workspace"), biWs);
                String biParams = message(() -> be.bidirectionalInference(cell, a.x, null, null, null, a.y, null, bi));
                assertTrue(biParams.contains("params is null"), biParams);
            }
        }
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    private record Outputs(float[] y, float[][] hT, float[][] cT) {
    }

    /** Runs the inference op on case {@code c}; {@code prefill} runs a forward on the workspace first. */
    private static Outputs infer(Backend be, LayerCase c, Direction direction, boolean prefill) {
        try (Args a = new Args(be, c)) {
            if (c.bidirectional) {
                PerDirection<State> init = new PerDirection<>(a.init[0], a.init[1]);
                PerDirection<LayerParams> params = new PerDirection<>(a.params[0], a.params[1]);
                PerDirection<State> fin = new PerDirection<>(a.fin[0], a.fin[1]);
                if (prefill) {
                    be.bidirectionalForward(c.cell, a.x, c.lengths, init, params, a.y, fin, a.ws);
                    // The outputs must come from the inference alone.
                    a.y.copyFrom(new float[a.y.shape().size()]);
                }
                be.bidirectionalInference(c.cell, a.x, c.lengths, init, params, a.y, fin, a.ws);
            } else {
                if (prefill) {
                    be.layerForward(c.cell, direction, a.x, c.lengths, a.init[0], a.params[0], a.y, a.fin[0], a.ws);
                    a.y.copyFrom(new float[a.y.shape().size()]);
                }
                be.layerInference(c.cell, direction, a.x, c.lengths, a.init[0], a.params[0], a.y, a.fin[0], a.ws);
            }
            float[][] hT = new float[2][];
            float[][] cT = new float[2][];
            for (int d = 0; d < c.dirs(); d++) {
                hT[d] = a.fin[d].h().toArray();
                cT[d] = a.fin[d].c() == null ? null : a.fin[d].c().toArray();
            }
            return new Outputs(a.y.toArray(), hT, cT);
        }
    }

    private static void assertSame(String what, LayerCase.EngineRun forward, Outputs inference) {
        // assertArrayEquals on float[] compares bit patterns (Float.equals).
        assertArrayEquals(forward.y, inference.y(), what + ": y");
        for (int d = 0; d < 2; d++) {
            if (forward.hT[d] == null) {
                assertNull(inference.hT()[d], what);
                continue;
            }
            assertArrayEquals(forward.hT[d], inference.hT()[d], what + ": hT");
            assertArrayEquals(forward.cT[d], inference.cT()[d], what + ": cT");
        }
    }

    /** The engine's tensors for one case, closed together. */
    private static final class Args implements AutoCloseable {
        final Workspace ws;
        final Tensor x;
        final Tensor y;
        final State[] init;
        final State[] fin;
        final LayerParams[] params;
        private final List<AutoCloseable> owned = new ArrayList<>();

        Args(Backend be, LayerCase c) {
            int dirs = c.dirs();
            ws = keep(be.workspace(c.cell, c.steps, c.batch, c.in, c.hs, c.bidirectional));
            x = keep(be.tensor(c.x, c.steps, c.batch, c.in));
            y = keep(be.tensor(c.steps, c.batch, dirs * c.hs));
            init = new State[dirs];
            fin = new State[dirs];
            params = new LayerParams[dirs];
            for (int d = 0; d < dirs; d++) {
                init[d] = new State(c.h0[d] == null ? null : keep(be.tensor(c.h0[d], c.batch, c.hs)),
                        c.c0[d] == null ? null : keep(be.tensor(c.c0[d], c.batch, c.hs)));
                fin[d] = State.zeros(be, c.cell, c.batch, c.hs);
                keep(fin[d].h());
                if (fin[d].c() != null) {
                    keep(fin[d].c());
                }
                float[][] p = c.w[d];
                params[d] = new LayerParams(keep(be.tensor(p[0], p[0].length / c.in, c.in)),
                        keep(be.tensor(p[1], p[1].length / c.hs, c.hs)), keep(be.tensor(p[2], p[2].length)),
                        keep(be.tensor(p[3], p[3].length)), p[4] == null ? null : keep(be.tensor(p[4], p[4].length)));
            }
        }

        private <T extends AutoCloseable> T keep(T t) {
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            for (AutoCloseable a : owned) {
                try {
                    a.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
