package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The same inputs give bitwise the same outputs and gradients, run after run and at any thread
 * count: GEMM tiles and K blocks are fixed by the shape, not by the threads, and every reduction
 * (bias and peephole gradients) runs in a fixed row order.
 */
class DeterminismTest {

    @Test
    void sameBitsAtOneTwoAndFiveThreadsAndOnRepeat() {
        // Large enough that the GEMMs split into several tiles and run on the workers.
        for (Cell cell : Cell.values()) {
            // H so that G*H = 600: with 70 rows a step's gate math is split among threads too.
            LayerCase c = new LayerCase(cell, 7, 70, 33, 600 / cell.gates(), new int[70], true, false, 42);
            for (int b = 0; b < 70; b++) {
                c.lengths[b] = 1 + (b * 5) % 7;
            }
            LayerCase bi = new LayerCase(cell, 5, 9, 40, 130, null, true, true, 43);
            LayerCase.EngineRun[] runs = new LayerCase.EngineRun[4];
            LayerCase.EngineRun[] biRuns = new LayerCase.EngineRun[4];
            int[] threads = {1, 2, 5, 2};
            for (int i = 0; i < runs.length; i++) {
                try (CpuBackend be = new CpuBackend(threads[i])) {
                    runs[i] = c.runLayer(be, Direction.REVERSE);
                    biRuns[i] = bi.runLayer(be, null);
                }
            }
            for (int i = 1; i < runs.length; i++) {
                String what = cell.id() + " at " + threads[i] + " threads vs 1 (run " + i + ")";
                assertSameBits(what, runs[0], runs[i]);
                assertSameBits(what + " bidirectional", biRuns[0], biRuns[i]);
            }
        }
    }

    /**
     * Few sequences and H in whole GEMM strips, the sliced loop forced (by shape alone it runs
     * only from H = 512): at two threads and more the forward runs the sliced time loop (CpuLayer.SlicedLoop), each thread owning a slice of the hidden units; its
     * outputs, saved buffers (hence the backward's gradients) are the one-thread loop's bits. H of
     * 2 and 3 strips (3 over 2 threads is an uneven split), 5 threads for 2 or 3 slices (threads
     * left idle), variable lengths (rows ending at odd and even steps), every cell but the
     * original GRU (which never slices).
     */
    @Test
    void theSlicedTimeLoopGivesTheOneThreadBits() {
        int nr = Sgemm.NR;
        for (Cell cell : Cell.values()) {
            if (cell == Cell.GRU_ORIGINAL) {
                continue;
            }
            List<LayerCase> cases = List.of(
                    new LayerCase(cell, 6, 5, 24, 2 * nr, new int[] {6, 3, 5, 1, 4}, true, false, 51),
                    new LayerCase(cell, 5, 1, 17, 3 * nr, null, true, false, 52),
                    new LayerCase(cell, 4, 12, 8, 3 * nr, null, false, false, 53),
                    new LayerCase(cell, 5, 3, 9, 2 * nr, new int[] {2, 5, 3}, true, true, 54));
            for (LayerCase c : cases) {
                LayerCase.EngineRun one;
                try (CpuBackend be = new CpuBackend(1)) {
                    one = c.runLayer(be, Direction.REVERSE);
                }
                for (int threads : new int[] {2, 3, 5}) {
                    try (CpuBackend be = new CpuBackend(threads, CpuLayer.TimeLoop.SLICED)) {
                        assertSameBits(c + " at " + threads + " threads vs 1", one, c.runLayer(be, Direction.REVERSE));
                    }
                }
                // One slice: the whole loop on the caller, however many threads the backend has.
                try (CpuBackend be = new CpuBackend(2, CpuLayer.TimeLoop.ONE_THREAD)) {
                    assertSameBits(c + " one slice at 2 threads vs 1", one, c.runLayer(be, Direction.REVERSE));
                }
            }
        }
    }

    /**
     * The two loops that split the batch's rows, forced at 2, 3 and 5 threads: by rows (each
     * thread's block of sequences walks every step alone, CpuLayer.RowLoop) and stepwise (each
     * step's GEMM and gate math split); both give the one-thread bits for every cell, the original
     * GRU included, with variable lengths (blocks whose sequences end early, a block of one
     * sequence at 5 threads over 9), in both directions and bidirectional.
     */
    @Test
    void theRowAndStepwiseLoopsGiveTheOneThreadBits() {
        for (Cell cell : Cell.values()) {
            List<LayerCase> cases = List.of(
                    new LayerCase(cell, 6, 9, 20, 2 * Sgemm.NR + 3, new int[] {6, 3, 5, 1, 4, 6, 2, 2, 5}, true, false, 61),
                    new LayerCase(cell, 5, 16, 17, 24, null, true, true, 62),
                    new LayerCase(cell, 4, 2, 9, 19, new int[] {1, 4}, false, false, 63));
            for (LayerCase c : cases) {
                LayerCase.EngineRun one;
                LayerCase.EngineRun oneReverse;
                try (CpuBackend be = new CpuBackend(1)) {
                    one = c.runLayer(be, c.bidirectional ? null : Direction.FORWARD);
                    oneReverse = c.bidirectional ? null : c.runLayer(be, Direction.REVERSE);
                }
                for (CpuLayer.TimeLoop loop : new CpuLayer.TimeLoop[] {CpuLayer.TimeLoop.ROWS, CpuLayer.TimeLoop.STEPWISE}) {
                    for (int threads : new int[] {2, 3, 5}) {
                        try (CpuBackend be = new CpuBackend(threads, loop)) {
                            String what = c + " " + loop + " at " + threads + " threads vs 1";
                            assertSameBits(what, one, c.runLayer(be, c.bidirectional ? null : Direction.FORWARD));
                            if (!c.bidirectional) {
                                assertSameBits(what + " reverse", oneReverse, c.runLayer(be, Direction.REVERSE));
                            }
                        }
                    }
                }
            }
        }
    }

    /** The shapes above do run the sliced loop at two threads (it makes its second h buffer), and not at one. */
    @Test
    void fewSequencesInWholeStripsTakeTheSlicedLoop() {
        int hs = 2 * Sgemm.NR;
        for (int threads : new int[] {1, 2}) {
            try (Workers workers = new Workers(threads)) {
                CpuLayer layer = new CpuLayer(new Sgemm(workers), workers, CpuLayer.TimeLoop.SLICED);
                LayerBuffers buf = new LayerBuffers(Cell.LSTM, 3, 4, 5, hs);
                java.util.Random r = new java.util.Random(1);
                CpuLayer.Params p = new CpuLayer.Params(LayerCase.uniform(r, 4 * hs * 5, 0.3f),
                        LayerCase.uniform(r, 4 * hs * hs, 0.3f), new float[4 * hs], new float[4 * hs], null);
                layer.inference(Cell.LSTM, Direction.FORWARD, 3, 4, LayerCase.uniform(r, 3 * 4 * 5, 1f), null, null,
                        null, p, new float[3 * 4 * hs], hs, 0, null, null, buf);
                org.junit.jupiter.api.Assertions.assertEquals(threads > 1, buf.hAlt != null, threads + " threads");
            }
        }
    }

    /** Which loop each way of {@link CpuLayer.TimeLoop} picks, by shape (the AUTO rule is measured, see slicedTasks). */
    @Test
    void theTimeLoopFollowsItsRule() {
        int nr = Sgemm.NR;
        int big = Math.max(CpuLayer.AUTO_SLICED_MIN_HIDDEN, nr) / nr * nr;
        try (Workers two = new Workers(2); Workers one = new Workers(1)) {
            CpuLayer auto = new CpuLayer(new Sgemm(two), two, CpuLayer.TimeLoop.AUTO);
            int few = CpuLayer.AUTO_SLICED_MAX_BATCH;
            org.junit.jupiter.api.Assertions.assertEquals(2, auto.slicedTasks(Cell.LSTM, few, big), "H = " + big);
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.slicedTasks(Cell.LSTM, few + 1, big), "rows from B = " + (few + 1));
            org.junit.jupiter.api.Assertions.assertEquals(2, auto.slicedTasks(Cell.GRU, 1, big), "B = 1");
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.slicedTasks(Cell.LSTM, few, big - nr), "H under the bound");
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.slicedTasks(Cell.LSTM, CpuLayer.SLICED_MAX_BATCH + 1, big),
                    "too many sequences");
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.slicedTasks(Cell.GRU_ORIGINAL, 1, big), "two GEMMs a step");
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.slicedTasks(Cell.LSTM, 1, big + 1), "H not in whole strips");
            org.junit.jupiter.api.Assertions.assertEquals(0,
                    new CpuLayer(new Sgemm(one), one, CpuLayer.TimeLoop.AUTO).slicedTasks(Cell.LSTM, 16, big), "one thread");
            CpuLayer sliced = new CpuLayer(new Sgemm(two), two, CpuLayer.TimeLoop.SLICED);
            org.junit.jupiter.api.Assertions.assertEquals(2, sliced.slicedTasks(Cell.LSTM, 4, 2 * nr), "forced");
            org.junit.jupiter.api.Assertions.assertEquals(0, sliced.slicedTasks(Cell.LSTM, 4, nr), "one strip: one slice at most");
            CpuLayer oneSlice = new CpuLayer(new Sgemm(two), two, CpuLayer.TimeLoop.ONE_THREAD);
            org.junit.jupiter.api.Assertions.assertEquals(1, oneSlice.slicedTasks(Cell.LSTM, 4, nr), "one slice");
            CpuLayer stepwise = new CpuLayer(new Sgemm(two), two, CpuLayer.TimeLoop.STEPWISE);
            org.junit.jupiter.api.Assertions.assertEquals(0, stepwise.slicedTasks(Cell.LSTM, 16, big), "stepwise");
            org.junit.jupiter.api.Assertions.assertEquals(0, stepwise.rowTasks(64), "stepwise: no row blocks");
            // Not sliced: by rows, one block per thread, at most one per sequence; never on one thread.
            org.junit.jupiter.api.Assertions.assertEquals(2, auto.rowTasks(64), "auto, B = 64");
            org.junit.jupiter.api.Assertions.assertEquals(0, auto.rowTasks(1), "auto, B = 1");
            org.junit.jupiter.api.Assertions.assertEquals(0,
                    new CpuLayer(new Sgemm(one), one, CpuLayer.TimeLoop.AUTO).rowTasks(64), "one thread: stepwise");
            org.junit.jupiter.api.Assertions.assertEquals(0, sliced.rowTasks(64), "sliced forced: no row blocks");
            org.junit.jupiter.api.Assertions.assertEquals(LayerPath.Kind.PLAIN_SLICED, auto.loopKind(Cell.LSTM, few, big));
            org.junit.jupiter.api.Assertions.assertEquals(LayerPath.Kind.PLAIN_ROWS, auto.loopKind(Cell.LSTM, 64, big));
            org.junit.jupiter.api.Assertions.assertEquals(LayerPath.Kind.PLAIN_STEPWISE, stepwise.loopKind(Cell.LSTM, 64, big));
            try (Workers five = new Workers(5)) {
                CpuLayer rows = new CpuLayer(new Sgemm(five), five, CpuLayer.TimeLoop.ROWS);
                org.junit.jupiter.api.Assertions.assertEquals(3, rows.rowTasks(3), "one block per sequence at most");
                org.junit.jupiter.api.Assertions.assertEquals(5, rows.rowTasks(40), "one per thread");
                org.junit.jupiter.api.Assertions.assertEquals(0, rows.slicedTasks(Cell.LSTM, 4, 2 * nr), "rows: never sliced");
            }
        }
    }

    static void assertSameBits(String what, LayerCase.EngineRun a, LayerCase.EngineRun b) {
        // assertArrayEquals on float[] compares with Float.equals semantics: bit patterns (NaN aside).
        assertArrayEquals(a.y, b.y, what + ": y");
        assertArrayEquals(a.dx, b.dx, what + ": dx");
        for (int d = 0; d < 2; d++) {
            if (a.hT[d] == null) {
                continue;
            }
            assertArrayEquals(a.hT[d], b.hT[d], what + ": hT");
            assertArrayEquals(a.cT[d], b.cT[d], what + ": cT");
            assertArrayEquals(a.dh0[d], b.dh0[d], what + ": dh0");
            assertArrayEquals(a.dc0[d], b.dc0[d], what + ": dc0");
            for (int k = 0; k < 5; k++) {
                assertArrayEquals(a.grads[d][k], b.grads[d][k], what + ": parameter gradient " + k);
            }
        }
    }
}
