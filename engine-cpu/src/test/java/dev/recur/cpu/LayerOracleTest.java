package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/** The float32 engine's layer forward against the float64 oracle, every cell and direction. */
class LayerOracleTest {

    /*
     * Tolerance: the engine rounds every product and sum to float32 (relative 6e-8); a value here
     * is a sum of at most I + H + 1 <= 15 terms of size <= ~2 per step, squashed by tanh/sigmoid
     * (Lipschitz <= 1) and carried over at most 6 steps, so the error stays below about 1e-5.
     * An indexing or formula mistake moves outputs by 1e-2 or more.
     */
    static final double ATOL = 2e-5;
    static final double RTOL = 1e-4;

    @RegisterExtension
    static final CpuTestEngine engine = new CpuTestEngine();

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerForwardMatchesOracle(Cell cell) {
        for (LayerCase c : Cases.oneDirection(cell)) {
            for (Direction dir : Direction.values()) {
                LayerCase.EngineRun run = c.runLayer(engine.get(), dir);
                Oracle.Result want = Oracle.forward(cell, dir, c.steps, c.batch, c.in, c.hs, LayerCase.wide(c.x),
                        c.lengths, LayerCase.wide(c.h0[0]), LayerCase.wide(c.c0[0]), c.oracleWeights(0));
                String where = c + " " + dir;
                assertClose(where + " y", want.y(), run.y, c.hs, 1, 0);
                assertClose(where + " hT", want.hT(), run.hT[0], c.hs, 1, 0);
                if (cell.hasCellState()) {
                    assertClose(where + " cT", want.cT(), run.cT[0], c.hs, 1, 0);
                } else {
                    assertNull(run.cT[0]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalForwardMatchesOracle(Cell cell) {
        for (LayerCase c : Cases.bidirectional(cell)) {
            LayerCase.EngineRun run = c.runLayer(engine.get(), null);
            for (Direction dir : Direction.values()) {
                int d = dir.ordinal();
                Oracle.Result want = Oracle.forward(cell, dir, c.steps, c.batch, c.in, c.hs, LayerCase.wide(c.x),
                        c.lengths, LayerCase.wide(c.h0[d]), LayerCase.wide(c.c0[d]), c.oracleWeights(d));
                String where = c + " " + dir;
                assertClose(where + " y", want.y(), run.y, c.hs, 2, d);
                assertClose(where + " hT", want.hT(), run.hT[d], c.hs, 1, 0);
                if (cell.hasCellState()) {
                    assertClose(where + " cT", want.cT(), run.cT[d], c.hs, 1, 0);
                }
            }
        }
    }

    /**
     * Compares {@code want [rows, H]} with the columns {@code [part*H, (part+1)*H)} of
     * {@code got [rows, parts*H]}, element by element, within {@code ATOL + RTOL·|want|}.
     */
    static void assertClose(String what, double[] want, float[] got, int hs, int parts, int part) {
        assertEquals(want.length * parts, got.length, what + ": number of elements");
        for (int i = 0; i < want.length; i++) {
            int row = i / hs;
            int col = i % hs;
            double g = got[row * parts * hs + part * hs + col];
            double e = Math.abs(g - want[i]);
            if (!(e <= ATOL + RTOL * Math.abs(want[i]))) {
                fail(what + ": element " + i + " (row " + row + ", unit " + col + ") = " + g + ", oracle " + want[i]
                        + ", |diff| " + e);
            }
        }
    }
}
