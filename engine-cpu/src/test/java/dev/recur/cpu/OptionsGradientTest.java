package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The option path's backward against central finite differences, in float64, of
 * {@link OptionsOracle}'s training forward with the same seed and counter (so the same dropout
 * and zoneout masks): every gradient, that is x, h0, c0 and every parameter (weights, biases,
 * peepholes, weight_hr, the layer-norm gains and biases), for every cell, each option alone and
 * composed, both directions and the bidirectional op, with lengths and step masks with holes.
 */
class OptionsGradientTest {

    /*
     * Central differences in float64 with step 1e-5: truncation ~1e-10·|L'''|, rounding
     * ~1e-16/1e-5 = 1e-11, effectively exact (the masks are fixed by seed and counter, so L is
     * smooth in every input; ReLU's kink is never within 1e-5 of these random pre-activations).
     * The engine's gradients are float32 sums over at most T·B = 8 rows through at most 4 steps,
     * with layer norm's 1/σ magnifying by a few at H = 3: their error stays below ~3e-5. A wrong
     * derivative is off by 1e-2 or more.
     */
    static final double STEP = 1e-5;
    static final double ATOL = 1e-4;
    static final double RTOL = 1e-3;

    @RegisterExtension
    static final CpuTestEngine engine = new CpuTestEngine();

    /** Each option alone and composed, P = 2 for H = 3. */
    static List<CellOptions> configs(Cell cell) {
        boolean lstm = cell.hasCellState();
        boolean rnn = OptionsEngineTest.rnn(cell);
        List<CellOptions> out = new ArrayList<>();
        out.add(CellOptions.NONE); // with a mask
        out.add(new CellOptions(false, 0.3f, 0f, 0f, 0));
        out.add(new CellOptions(false, 0f, 0.3f, lstm ? 0.3f : 0f, 0));
        if (!rnn) {
            out.add(new CellOptions(true, 0f, 0f, 0f, 0));
            out.add(new CellOptions(false, 0f, 0f, 0f, 2));
            out.add(new CellOptions(true, 0.3f, 0.3f, lstm ? 0.3f : 0f, 2));
        } else {
            out.add(new CellOptions(false, 0.3f, 0.3f, 0f, 0));
        }
        return out;
    }

    /** T = 4, B = 2, lengths {4, 3}: sequence 0 is Keras's 1 1 0 1, sequence 1 skips its first step. */
    static final byte[] MASK = {
            1, 0,
            1, 1,
            0, 1,
            1, 1};

    static List<OptionsCase> cases(Cell cell, CellOptions o, boolean bidirectional, long seed) {
        List<OptionsCase> out = new ArrayList<>();
        out.add(new OptionsCase(cell, o, 4, 2, 2, 3, new int[] {4, 3}, MASK, true, bidirectional, seed));
        if (!o.isPlain()) {
            // A zero initial state, except with layer norm: there W_hh·0 = 0 puts LN at σ = 0, where
            // its slope is 1/sqrt(ε) ≈ 316 and float32 can only match finite differences to ~1%.
            out.add(new OptionsCase(cell, o, 3, 2, 2, 3, null, null, o.layerNorm(), bidirectional, seed + 1));
            if (!bidirectional) {
                out.add(new OptionsCase(cell, o, 1, 1, 2, 3, null, null, true, false, seed + 2));
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerBackwardMatchesFiniteDifferences(Cell cell) {
        long seed = 300L * cell.ordinal();
        for (CellOptions o : configs(cell)) {
            for (OptionsCase c : cases(cell, o, false, seed += 10)) {
                for (Direction dir : Direction.values()) {
                    check(c, dir, c.run(engine.get(), dir, true));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalBackwardMatchesFiniteDifferences(Cell cell) {
        long seed = 300L * cell.ordinal() + 70_000;
        for (CellOptions o : configs(cell)) {
            for (OptionsCase c : cases(cell, o, true, seed += 10)) {
                check(c, null, c.run(engine.get(), null, true));
            }
        }
    }

    /** Checks every gradient of {@code run}; {@code dir} is null for a bidirectional case. */
    static void check(OptionsCase c, Direction dir, OptionsCase.EngineRun run) {
        String where = c + (dir == null ? "" : " " + dir);
        double[] x = c.x.clone();
        double[][] h0 = new double[c.dirs()][];
        double[][] c0 = new double[c.dirs()][];
        OptionsOracle.Weights[] w = new OptionsOracle.Weights[c.dirs()];
        for (int d = 0; d < c.dirs(); d++) {
            // A zero initial state still has a gradient: check it against explicit zeros.
            h0[d] = c.h0[d] != null ? c.h0[d].clone() : new double[c.batch * c.s()];
            c0[d] = c.cell.hasCellState() ? (c.c0[d] != null ? c.c0[d].clone() : new double[c.batch * c.hs]) : null;
            w[d] = c.w[d].copy();
        }
        DoubleSupplier loss = () -> {
            double l = 0;
            for (int d = 0; d < c.dirs(); d++) {
                l += c.loss(d, c.oracle(d, dir, true, x, h0[d], c0[d], w[d]));
            }
            return l;
        };
        compare(where + " dx", x, run.dx, loss);
        for (int d = 0; d < c.dirs(); d++) {
            String side = c.dirs() == 2 ? (d == 0 ? " forward" : " reverse") : "";
            compare(where + side + " dh0", h0[d], run.dh0[d], loss);
            if (c0[d] != null) {
                compare(where + side + " dc0", c0[d], run.dc0[d], loss);
            }
            double[][] params = w[d].arrays();
            for (int k = 0; k < params.length; k++) {
                if (params[k] != null) {
                    compare(where + side + " " + OptionsCase.PARAM_NAMES[k], params[k], run.grads[d][k], loss);
                } else if (run.grads[d][k] != null) {
                    fail(where + side + " " + OptionsCase.PARAM_NAMES[k] + ": the engine has a gradient the oracle has no parameter for");
                }
            }
        }
    }

    /** {@link FiniteDifferences#compare} with this test's step and tolerances. */
    static void compare(String what, double[] theta, float[] got, DoubleSupplier loss) {
        FiniteDifferences.compare(what, theta, got, loss, STEP, ATOL, RTOL);
    }
}
