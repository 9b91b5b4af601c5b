package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which path a layer call takes ({@link CpuBackend#layerPaths()}: plain calls stay on the plain
 * path, options and masks take the option path), the bidirectional option ops against two
 * one-direction calls, and the option path's bits at several thread counts.
 */
class OptionsPathTest {

    private static float[] seq(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) Math.sin(0.7 * i + 0.3) * scale;
        }
        return a;
    }

    @Test
    void plainCallsStayOnThePlainPathAndOptionsTakeTheirs() {
        // The sliced loop forced: under AUTO it starts at H = 512, larger than this test needs.
        try (CpuBackend be = new CpuBackend(2, CpuLayer.TimeLoop.SLICED)) {
            Cell cell = Cell.LSTM;
            int t = 3;
            int b = 2;
            int in = 4;
            int hs = 4 * Sgemm.NR; // B <= 32, H whole GEMM strips for 2 threads: the plain forward runs sliced
            int gh = 4 * hs;
            LayerParams p = new LayerParams(be.tensor(seq(gh * in, 0.2f), gh, in), be.tensor(seq(gh * hs, 0.1f), gh, hs),
                    be.tensor(gh), be.tensor(gh));
            Tensor x = be.tensor(seq(t * b * in, 1f), t, b, in);
            Tensor y1 = be.tensor(t, b, hs);
            Tensor y2 = be.tensor(t, b, hs);
            try (Workspace plain = be.workspace(cell, t, b, in, hs, false);
                 Workspace options = be.workspace(cell, new CellOptions(false, 0f, 0.2f, 0f, 0), t, b, in, hs, false)) {
                be.layerForward(cell, Direction.FORWARD, x, null, null, p, y1, null, plain);
                // The StepControl overload with no mask is the same plain call, bit for bit.
                be.layerForward(cell, Direction.FORWARD, x, null, StepControl.draws(5, 7), null, p, y2, null, plain);
                assertArrayEquals(y1.toArray(), y2.toArray());
                be.layerBackward(cell, Direction.FORWARD, x, null, StepControl.draws(5, 7), p, plain, y1, null, null,
                        null, LayerParams.zeros(be, cell, in, hs));
                be.layerInference(cell, Direction.FORWARD, x, null, null, p, y1, null, plain);
                byte[] mask = {1, 1, 0, 1, 1, 1};
                be.layerForward(cell, Direction.FORWARD, x, null, new StepControl(mask, 0, 0), null, p, y1, null, plain);
                be.layerInference(cell, Direction.REVERSE, x, null, StepControl.NONE, null, p, y1, null, options);
                List<LayerPath> paths = be.layerPaths();
                assertEquals(6, paths.size(), paths.toString());
                for (int i = 0; i < 4; i++) {
                    assertTrue(paths.get(i).kind() != LayerPath.Kind.OPTIONS, paths.get(i).toString());
                    assertEquals(CellOptions.NONE, paths.get(i).options());
                }
                assertEquals(LayerPath.Kind.PLAIN_SLICED, paths.get(0).kind(), paths.get(0).toString());
                assertEquals("layerBackward", paths.get(2).op());
                assertEquals(LayerPath.Kind.OPTIONS, paths.get(4).kind());
                assertTrue(paths.get(4).masked());
                assertEquals(LayerPath.Kind.OPTIONS, paths.get(5).kind());
                assertFalse(paths.get(5).masked());
                assertEquals("layerInference", paths.get(5).op());
                assertEquals(Direction.REVERSE, paths.get(5).direction());
                assertTrue(paths.get(5).toString().contains("options (zoneoutH=0.2)"), paths.get(5).toString());
            }
            // Many sequences: the plain forward runs stepwise.
            int bb = 40;
            Tensor xb = be.tensor(seq(t * bb * in, 1f), t, bb, in);
            Tensor yb = be.tensor(t, bb, hs);
            try (Workspace ws = be.workspace(cell, t, bb, in, hs, false)) {
                be.layerInference(cell, Direction.FORWARD, xb, null, null, p, yb, null, ws);
            }
            List<LayerPath> paths = be.layerPaths();
            assertEquals(LayerPath.Kind.PLAIN_STEPWISE, paths.get(paths.size() - 1).kind());
            // The record is bounded.
            try (Workspace ws = be.workspace(cell, t, bb, in, hs, false)) {
                for (int i = 0; i < CpuBackend.MAX_PATHS + 5; i++) {
                    be.layerInference(cell, Direction.FORWARD, xb, null, null, p, yb, null, ws);
                }
            }
            assertEquals(CpuBackend.MAX_PATHS, be.layerPaths().size());
        }
    }

    /** The option path with no options and an all-ones mask computes what the plain path computes. */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void optionPathWithoutHolesMatchesPlainPath(Cell cell) {
        try (CpuBackend be = new CpuBackend(2)) {
            LayerCase c = new LayerCase(cell, 4, 3, 3, 5, new int[] {4, 2, 3}, true, false, 77 + cell.ordinal());
            byte[] ones = new byte[c.steps * c.batch];
            Arrays.fill(ones, (byte) 1);
            for (Direction dir : Direction.values()) {
                LayerCase.EngineRun plain = c.runLayer(be, dir);
                OptionsCase oc = new OptionsCase(cell, CellOptions.NONE, c.steps, c.batch, c.in, c.hs, c.lengths, ones,
                        true, false, 5);
                // Same inputs as the LayerCase: copy them over.
                System.arraycopy(LayerCase.wide(c.x), 0, oc.x, 0, oc.x.length);
                System.arraycopy(LayerCase.wide(c.h0[0]), 0, oc.h0[0], 0, oc.h0[0].length);
                if (c.c0[0] != null) {
                    System.arraycopy(LayerCase.wide(c.c0[0]), 0, oc.c0[0], 0, oc.c0[0].length);
                }
                double[][] wd = oc.w[0].arrays();
                for (int k = 0; k < 5; k++) {
                    if (c.w[0][k] != null) {
                        System.arraycopy(LayerCase.wide(c.w[0][k]), 0, wd[k], 0, wd[k].length);
                    }
                }
                System.arraycopy(LayerCase.wide(c.wy), 0, oc.wy, 0, oc.wy.length);
                System.arraycopy(LayerCase.wide(c.wh[0]), 0, oc.wh[0], 0, oc.wh[0].length);
                if (c.wc[0] != null) {
                    System.arraycopy(LayerCase.wide(c.wc[0]), 0, oc.wc[0], 0, oc.wc[0].length);
                }
                OptionsCase.EngineRun opt = oc.run(be, dir, true);
                String where = cell + " " + dir;
                // Same math, different order of float32 operations: ~1e-6.
                assertArrayEquals(plain.y, opt.y, 1e-5f, where + " y");
                assertArrayEquals(plain.hT[0], opt.hT[0], 1e-5f, where + " hT");
                assertArrayEquals(plain.dx, opt.dx, 1e-4f, where + " dx");
                assertArrayEquals(plain.dh0[0], opt.dh0[0], 1e-4f, where + " dh0");
                for (int k = 0; k < 5; k++) {
                    if (plain.grads[0][k] != null) {
                        assertArrayEquals(plain.grads[0][k], opt.grads[0][k], 1e-4f, where + " grad " + k);
                    }
                }
            }
        }
    }

    /** A bidirectional call is two one-direction calls, the reverse one drawing from counter + draws(...). */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalEqualsTwoOneDirectionCalls(Cell cell) {
        boolean rnn = OptionsEngineTest.rnn(cell);
        CellOptions o = new CellOptions(!rnn, 0.3f, 0.25f, cell.hasCellState() ? 0.2f : 0f, rnn ? 0 : 3);
        try (CpuBackend be = new CpuBackend(2)) {
            OptionsCase both = new OptionsCase(cell, o, 4, 3, 3, 5, new int[] {4, 2, 3}, OptionsEngineTest.KERAS_MASK,
                    true, true, 9 + cell.ordinal());
            OptionsCase.EngineRun bi = both.run(be, null, true);
            int rw = both.r();
            float[] dxSum = new float[bi.dx.length];
            for (int d = 0; d < 2; d++) {
                Direction dir = Direction.values()[d];
                OptionsCase.EngineRun one = both.oneDirection(d).run(be, dir, true);
                String where = cell + " " + dir;
                for (int row = 0; row < both.steps * both.batch; row++) {
                    for (int u = 0; u < rw; u++) {
                        assertEquals(one.y[row * rw + u], bi.y[row * 2 * rw + d * rw + u], where + " y");
                    }
                }
                assertArrayEquals(one.hT[0], bi.hT[d], where + " hT");
                assertArrayEquals(one.dh0[0], bi.dh0[d], where + " dh0");
                if (cell.hasCellState()) {
                    assertArrayEquals(one.cT[0], bi.cT[d], where + " cT");
                    assertArrayEquals(one.dc0[0], bi.dc0[d], where + " dc0");
                }
                for (int k = 0; k < one.grads[0].length; k++) {
                    assertArrayEquals(one.grads[0][k], bi.grads[d][k], where + " " + OptionsCase.PARAM_NAMES[k]);
                }
                for (int i = 0; i < dxSum.length; i++) {
                    dxSum[i] += one.dx[i];
                }
            }
            // dx adds the reverse direction's GEMM into the forward's: the same sum up to rounding.
            assertArrayEquals(dxSum, bi.dx, 1e-5f, cell + " dx");
        }
    }

    /** The option path's results are the same bits on 1 and 3 threads (rows split among workers). */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM_PEEPHOLE", "GRU", "GRU_ORIGINAL", "RNN_TANH"})
    void sameBitsAtAnyThreadCount(Cell cell) {
        boolean rnn = OptionsEngineTest.rnn(cell);
        // B = 64 on 3 threads: the time loops run in blocks of 22, 22 and 20 rows (not whole GEMM
        // strips), the layer-norm passes split their rows, and every GEMM over all steps splits too.
        CellOptions o = new CellOptions(!rnn, 0.3f, 0.25f, cell.hasCellState() ? 0.2f : 0f, rnn ? 0 : 100);
        byte[] mask = new byte[5 * 64];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (byte) (i % 7 == 3 ? 0 : 1);
        }
        OptionsCase c = new OptionsCase(cell, o, 5, 64, 8, 256, null, mask, true, true, 3);
        OptionsCase.EngineRun one;
        OptionsCase.EngineRun three;
        try (CpuBackend be = new CpuBackend(1)) {
            one = c.run(be, null, true);
        }
        try (CpuBackend be = new CpuBackend(3)) {
            three = c.run(be, null, true);
        }
        assertArrayEquals(one.y, three.y, cell + " y");
        assertArrayEquals(one.dx, three.dx, cell + " dx");
        for (int d = 0; d < 2; d++) {
            assertArrayEquals(one.hT[d], three.hT[d], cell + " hT");
            assertArrayEquals(one.dh0[d], three.dh0[d], cell + " dh0");
            for (int k = 0; k < one.grads[d].length; k++) {
                assertArrayEquals(one.grads[d][k], three.grads[d][k], cell + " " + OptionsCase.PARAM_NAMES[k]);
            }
        }
    }

    /**
     * A workspace sized for more steps and sequences serves smaller calls, one after another, with
     * the results of a workspace of their own size; a backward with {@code dy} null equals one with
     * {@code dy} zero.
     */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM_PEEPHOLE", "GRU", "GRU_ORIGINAL"})
    void aLargerWorkspaceServesSmallerCalls(Cell cell) {
        CellOptions o = new CellOptions(true, 0.3f, 0.25f, cell.hasCellState() ? 0.2f : 0f, 3);
        try (CpuBackend be = new CpuBackend(2)) {
            OptionsCase big = new OptionsCase(cell, o, 4, 3, 3, 5, new int[] {4, 2, 3}, OptionsEngineTest.KERAS_MASK,
                    true, false, 21);
            OptionsCase small = new OptionsCase(cell, o, 2, 1, 3, 5, null, new byte[] {0, 1}, true, false, 22);
            try (Workspace ws = be.workspace(cell, o, 6, 4, 3, 5, false)) {
                for (OptionsCase c : List.of(big, small, big)) {
                    for (Direction dir : Direction.values()) {
                        OptionsCase.EngineRun fresh = c.run(be, dir, true);
                        OptionsCase.EngineRun shared = runOn(be, ws, c, dir, true);
                        String where = c + " " + dir;
                        assertArrayEquals(fresh.y, shared.y, where + " y");
                        assertArrayEquals(fresh.hT[0], shared.hT[0], where + " hT");
                        assertArrayEquals(fresh.dx, shared.dx, where + " dx");
                        assertArrayEquals(fresh.dh0[0], shared.dh0[0], where + " dh0");
                        for (int k = 0; k < fresh.grads[0].length; k++) {
                            assertArrayEquals(fresh.grads[0][k], shared.grads[0][k], where + " " + k);
                        }
                        OptionsCase.EngineRun noDy = runOn(be, ws, c, dir, false);
                        OptionsCase.EngineRun zeroDy = runOn(be, ws, c, dir, null);
                        assertArrayEquals(zeroDy.dx, noDy.dx, where + " dx without dy");
                        for (int k = 0; k < fresh.grads[0].length; k++) {
                            assertArrayEquals(zeroDy.grads[0][k], noDy.grads[0][k], where + " " + k + " without dy");
                        }
                    }
                }
            }
        }
    }

    /**
     * Forward and backward of {@code c} (one direction) on {@code ws}: with c's dy ({@code dy} true),
     * with no dy (false), or with a zero dy (null).
     */
    private static OptionsCase.EngineRun runOn(CpuBackend be, Workspace ws, OptionsCase c, Direction dir,
                                               Boolean dy) {
        int rw = c.r();
        int sw = c.s();
        OptionsCase.EngineRun out = new OptionsCase.EngineRun();
        Tensor x = be.tensor(OptionsCase.narrow(c.x), c.steps, c.batch, c.in);
        Tensor y = be.tensor(c.steps, c.batch, rw);
        Tensor tdy = dy == null ? be.tensor(c.steps, c.batch, rw)
                : dy ? be.tensor(OptionsCase.narrow(c.wy), c.steps, c.batch, rw) : null;
        Tensor dx = be.tensor(c.steps, c.batch, c.in);
        State init = new State(be.tensor(OptionsCase.narrow(c.h0[0]), c.batch, sw),
                c.c0[0] == null ? null : be.tensor(OptionsCase.narrow(c.c0[0]), c.batch, c.hs));
        State fin = new State(be.tensor(c.batch, sw), c.cell.hasCellState() ? be.tensor(c.batch, c.hs) : null);
        State dFin = new State(be.tensor(OptionsCase.narrow(c.wh[0]), c.batch, sw),
                c.wc[0] == null ? null : be.tensor(OptionsCase.narrow(c.wc[0]), c.batch, c.hs));
        State dInit = new State(be.tensor(c.batch, sw), c.cell.hasCellState() ? be.tensor(c.batch, c.hs) : null);
        LayerParams p = c.params(be, c.w[0]);
        LayerParams g = LayerParams.zeros(be, c.cell, c.opt, c.in, c.hs);
        be.layerForward(c.cell, dir, x, c.lengths, c.control(), init, p, y, fin, ws);
        be.layerBackward(c.cell, dir, x, c.lengths, c.control(), p, ws, tdy, dFin, dx, dInit, g);
        out.y = y.toArray();
        out.hT[0] = fin.h().toArray();
        out.dx = dx.toArray();
        out.dh0[0] = dInit.h().toArray();
        out.grads[0] = OptionsCase.arrays(g);
        return out;
    }
}
