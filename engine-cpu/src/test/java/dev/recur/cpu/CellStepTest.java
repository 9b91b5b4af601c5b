package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The per-step cell ops: against the oracle, by finite differences, and against the layer op. */
class CellStepTest {

    private static CpuBackend backend;

    @BeforeAll
    static void start() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    /** A one-step case: T = 1, so the layer-case loss is {@code Σ h'⊙(wy + wh) + Σ c'⊙wc}. */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void cellForwardAndBackwardMatchOracleAndFiniteDifferences(Cell cell) {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 4, 5}, {2, 6, 9}}) {
            LayerCase c = new LayerCase(cell, 1, s[0], s[1], s[2], null, true, false, 17 + s[2]);
            LayerCase.EngineRun run = runCell(c);
            Oracle.Result want = Oracle.forward(cell, Direction.FORWARD, 1, c.batch, c.in, c.hs, LayerCase.wide(c.x),
                    null, LayerCase.wide(c.h0[0]), LayerCase.wide(c.c0[0]), c.oracleWeights(0));
            LayerOracleTest.assertClose(c + " h'", want.hT(), run.hT[0], c.hs, 1, 0);
            if (cell.hasCellState()) {
                LayerOracleTest.assertClose(c + " c'", want.cT(), run.cT[0], c.hs, 1, 0);
            }
            GradientCheckTest.check(c, Direction.FORWARD, run);
        }
    }

    /** Stepping by hand T times gives the layer op's outputs, bit for bit. */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void steppingByHandEqualsTheLayer(Cell cell) {
        LayerCase c = new LayerCase(cell, 5, 3, 4, 7, null, true, false, 3);
        LayerCase.EngineRun layer = c.runLayer(backend, Direction.FORWARD);
        LayerParams p = params(c);
        try (Workspace ws = backend.workspace(cell, 1, c.batch, c.in, c.hs, false)) {
            State cur = new State(backend.tensor(c.h0[0], c.batch, c.hs),
                    c.c0[0] == null ? null : backend.tensor(c.c0[0], c.batch, c.hs));
            State next = State.zeros(backend, cell, c.batch, c.hs);
            for (int t = 0; t < c.steps; t++) {
                float[] xt = Arrays.copyOfRange(c.x, t * c.batch * c.in, (t + 1) * c.batch * c.in);
                backend.cellForward(cell, backend.tensor(xt, c.batch, c.in), cur, p, next, ws);
                float[] h = next.h().toArray();
                assertArrayEquals(Arrays.copyOfRange(layer.y, t * c.batch * c.hs, (t + 1) * c.batch * c.hs), h,
                        cell.id() + " step " + t);
                State swap = cur;
                cur = next;
                next = swap;
            }
            assertArrayEquals(layer.hT[0], cur.h().toArray(), cell.id() + " final h");
            if (cell.hasCellState()) {
                assertArrayEquals(layer.cT[0], cur.c().toArray(), cell.id() + " final c");
            }
        }
    }

    static LayerParams params(LayerCase c) {
        float[][] p = c.w[0];
        return new LayerParams(backend.tensor(p[0], p[0].length / c.in, c.in), backend.tensor(p[1], p[1].length / c.hs, c.hs),
                backend.tensor(p[2], p[2].length), backend.tensor(p[3], p[3].length),
                p[4] == null ? null : backend.tensor(p[4], p[4].length));
    }

    /** cellForward then cellBackward, packaged like a layer run (dy + dh of the layer = wy + wh here). */
    static LayerCase.EngineRun runCell(LayerCase c) {
        Cell cell = c.cell;
        LayerCase.EngineRun out = new LayerCase.EngineRun();
        LayerParams p = params(c);
        LayerParams g = LayerParams.zeros(backend, cell, c.in, c.hs);
        float[] dh = new float[c.batch * c.hs];
        for (int i = 0; i < dh.length; i++) {
            dh[i] = c.wy[i] + c.wh[0][i];
        }
        try (Workspace ws = backend.workspace(cell, 1, c.batch, c.in, c.hs, false);
             Tensor x = backend.tensor(c.x, c.batch, c.in);
             Tensor dx = backend.tensor(c.batch, c.in)) {
            State prev = new State(backend.tensor(c.h0[0], c.batch, c.hs),
                    c.c0[0] == null ? null : backend.tensor(c.c0[0], c.batch, c.hs));
            State next = State.zeros(backend, cell, c.batch, c.hs);
            backend.cellForward(cell, x, prev, p, next, ws);
            State dNext = new State(backend.tensor(dh, c.batch, c.hs),
                    c.wc[0] == null ? null : backend.tensor(c.wc[0], c.batch, c.hs));
            State dPrev = State.zeros(backend, cell, c.batch, c.hs);
            backend.cellBackward(cell, x, p, ws, dNext, dx, dPrev, g);
            out.y = next.h().toArray();
            out.hT[0] = next.h().toArray();
            out.cT[0] = next.c() == null ? null : next.c().toArray();
            out.dx = dx.toArray();
            out.dh0[0] = dPrev.h().toArray();
            out.dc0[0] = dPrev.c() == null ? null : dPrev.c().toArray();
            out.grads[0] = new float[][] {g.weightIh().toArray(), g.weightHh().toArray(), g.biasIh().toArray(),
                    g.biasHh().toArray(), g.peephole() == null ? null : g.peephole().toArray()};
        }
        return out;
    }
}
