package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import org.junit.jupiter.api.Test;

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
