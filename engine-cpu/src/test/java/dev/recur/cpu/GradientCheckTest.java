package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.function.DoubleSupplier;

/**
 * The engine's backward against central finite differences of the float64 oracle's loss
 * ({@link LayerCase}): gradients with respect to the input, the initial states and every
 * weight, bias and peephole, for every cell, both directions and the bidirectional op, on the
 * shapes of {@link Cases}.
 */
class GradientCheckTest {

    /*
     * Central differences in float64 with step 1e-5 have truncation error ~1e-10·|L'''| and
     * rounding error ~1e-16/1e-5 = 1e-11: effectively exact. The engine's gradients are float32,
     * summed over at most T·B = 24 rows of terms of size ~1 through at most 6 steps of
     * recurrence; their error stays below ~2e-5. A wrong derivative is off by 1e-2 or more.
     */
    static final double STEP = 1e-5;
    static final double ATOL = 1e-4;
    static final double RTOL = 1e-3;

    @RegisterExtension
    static final CpuTestEngine engine = new CpuTestEngine();

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerBackwardMatchesFiniteDifferences(Cell cell) {
        for (LayerCase c : Cases.oneDirection(cell)) {
            for (Direction dir : Direction.values()) {
                check(c, dir, c.runLayer(engine.get(), dir));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalBackwardMatchesFiniteDifferences(Cell cell) {
        for (LayerCase c : Cases.bidirectional(cell)) {
            check(c, null, c.runLayer(engine.get(), null));
        }
    }

    /** Checks every gradient of {@code run}; {@code dir} is null for a bidirectional case. */
    static void check(LayerCase c, Direction dir, LayerCase.EngineRun run) {
        String where = c + (dir == null ? "" : " " + dir);
        double[] x = LayerCase.wide(c.x);
        double[][] h0 = new double[c.dirs()][];
        double[][] c0 = new double[c.dirs()][];
        Oracle.Weights[] w = new Oracle.Weights[c.dirs()];
        for (int d = 0; d < c.dirs(); d++) {
            h0[d] = LayerCase.wide(c.h0[d]);
            c0[d] = LayerCase.wide(c.c0[d]);
            w[d] = c.oracleWeights(d);
        }
        DoubleSupplier loss = () -> {
            double l = 0;
            for (int d = 0; d < c.dirs(); d++) {
                Direction walk = dir != null ? dir : Direction.values()[d];
                Oracle.Result r = Oracle.forward(c.cell, walk, c.steps, c.batch, c.in, c.hs, x, c.lengths, h0[d],
                        c0[d], w[d]);
                l += c.loss(d, r);
            }
            return l;
        };
        compare(where + " dx", x, run.dx, loss);
        String[] names = {"dWeightIh", "dWeightHh", "dBiasIh", "dBiasHh", "dPeephole"};
        for (int d = 0; d < c.dirs(); d++) {
            String side = c.dirs() == 2 ? (d == 0 ? " forward" : " reverse") : "";
            if (h0[d] != null) {
                compare(where + side + " dh0", h0[d], run.dh0[d], loss);
            } else {
                // Zero initial state: its gradient is still defined; check against a zero-valued array.
                h0[d] = new double[c.batch * c.hs];
                compare(where + side + " dh0", h0[d], run.dh0[d], loss);
            }
            if (c.cell.hasCellState()) {
                if (c0[d] == null) {
                    c0[d] = new double[c.batch * c.hs];
                }
                compare(where + side + " dc0", c0[d], run.dc0[d], loss);
            }
            double[][] params = {w[d].wIh(), w[d].wHh(), w[d].bIh(), w[d].bHh(), w[d].peep()};
            for (int k = 0; k < params.length; k++) {
                if (params[k] != null) {
                    compare(where + side + " " + names[k], params[k], run.grads[d][k], loss);
                }
            }
        }
    }

    /** {@link FiniteDifferences#compare} with this test's step and tolerances. */
    static void compare(String what, double[] theta, float[] got, DoubleSupplier loss) {
        FiniteDifferences.compare(what, theta, got, loss, STEP, ATOL, RTOL);
    }
}
