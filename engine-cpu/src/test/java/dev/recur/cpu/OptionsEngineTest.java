package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU engine's option path ({@link CpuOptionLayer}) against the float64 {@link OptionsOracle}:
 * training forward and inference, every cell, each option alone and in compositions, both
 * directions and the bidirectional ops, with lengths and step masks with holes (sequence 0's mask
 * is Keras's {@code 1 1 0 1}), and odd shapes (B = 1, H = 5, T = 1, P = 3).
 */
class OptionsEngineTest {

    /*
     * Tolerance: the engine is float32 with inputs and weights rounded to float32 before both
     * sides see them, so the difference is float32 rounding alone: GEMM sums of at most 6 terms
     * of size ~1, the gate math (~1e-7 relative per operation) and layer norm's 1/σ (which can
     * magnify by ~3 at H = 5), carried through at most 5 steps. That stays below ~1e-5; a wrong
     * formula or index moves values by 1e-2 or more.
     */
    static final double ATOL = 5e-5;
    static final double RTOL = 1e-4;

    @RegisterExtension
    static final CpuTestEngine engine = new CpuTestEngine();

    static boolean rnn(Cell cell) {
        return cell == Cell.RNN_TANH || cell == Cell.RNN_RELU;
    }

    /** Each option alone, then compositions, for {@code cell} (P = 3 for H = 5 and 6). */
    static List<CellOptions> configs(Cell cell) {
        List<CellOptions> out = new ArrayList<>();
        boolean lstm = cell.hasCellState();
        boolean rnn = rnn(cell);
        out.add(CellOptions.NONE); // with a mask: the option path for the plain cell
        out.add(new CellOptions(false, 0.3f, 0f, 0f, 0));
        out.add(new CellOptions(false, 0f, 0.25f, 0f, 0));
        if (lstm) {
            out.add(new CellOptions(false, 0f, 0f, 0.3f, 0));
        }
        if (!rnn) {
            out.add(new CellOptions(true, 0f, 0f, 0f, 0));
            out.add(new CellOptions(false, 0f, 0f, 0f, 3));
            out.add(new CellOptions(true, 0f, 0f, 0f, 3));
        }
        out.add(new CellOptions(false, 0.3f, 0.25f, lstm ? 0.2f : 0f, 0));
        if (!rnn) {
            out.add(new CellOptions(true, 0.3f, 0.25f, lstm ? 0.2f : 0f, 3));
        }
        return out;
    }

    /** Keras's example: sequence 0 runs steps 0, 1, 3 and skips 2. T = 4, B = 3, lengths {4, 2, 3}. */
    static final byte[] KERAS_MASK = {
            1, 0, 1,   // t = 0: sequence 1 skips its first step (a hole at the start)
            1, 1, 0,   // t = 1: sequence 2 skips step 1
            0, 1, 1,   // t = 2: sequence 0's hole; sequence 1 is past its length (mask ignored)
            1, 0, 0};  // t = 3: sequence 2 is past its length
    /** T = 5, B = 2: holes at the start and at the end. */
    static final byte[] EDGE_MASK = {
            1, 0,
            0, 1,
            1, 1,
            1, 0,
            0, 0};

    /** The shapes of one cell and option set, one direction or both. */
    static List<OptionsCase> cases(Cell cell, CellOptions o, boolean bidirectional, long seed) {
        List<OptionsCase> out = new ArrayList<>();
        out.add(new OptionsCase(cell, o, 4, 3, 3, 5, new int[] {4, 2, 3}, KERAS_MASK, true, bidirectional, seed));
        out.add(new OptionsCase(cell, o, 4, 3, 3, 5, new int[] {4, 2, 3}, null, false, bidirectional, seed + 1));
        out.add(new OptionsCase(cell, o, 5, 2, 4, 6, null, EDGE_MASK, true, bidirectional, seed + 2));
        out.add(new OptionsCase(cell, o, 1, 1, 2, 5, null, null, true, bidirectional, seed + 3));
        if (o.isPlain()) {
            out.removeIf(c -> c.mask == null); // a plain call without a mask is the plain path's, tested elsewhere
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void forwardAndInferenceMatchOracle(Cell cell) {
        long seed = 100L * cell.ordinal();
        for (CellOptions o : configs(cell)) {
            for (OptionsCase c : cases(cell, o, false, seed += 10)) {
                for (Direction dir : Direction.values()) {
                    for (boolean training : new boolean[] {true, false}) {
                        compare(c, dir, training, c.run(engine.get(), dir, training));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void bidirectionalMatchesOracle(Cell cell) {
        long seed = 100L * cell.ordinal() + 50_000;
        for (CellOptions o : configs(cell)) {
            for (OptionsCase c : cases(cell, o, true, seed += 10)) {
                for (boolean training : new boolean[] {true, false}) {
                    compare(c, null, training, c.run(engine.get(), null, training));
                }
            }
        }
    }

    static void compare(OptionsCase c, Direction dir, boolean training, OptionsCase.EngineRun run) {
        String where = c + (dir == null ? "" : " " + dir) + (training ? " training" : " inference");
        int rw = c.r();
        int width = c.dirs() * rw;
        for (int d = 0; d < c.dirs(); d++) {
            OptionsOracle.Result want = c.oracle(d, dir, training, c.x, c.h0[d], c.c0[d], c.w[d]);
            String side = c.dirs() == 2 ? (d == 0 ? " forward" : " reverse") : "";
            for (int row = 0; row < c.steps * c.batch; row++) {
                for (int u = 0; u < rw; u++) {
                    check(where + side + " y[t=" + row / c.batch + ", b=" + row % c.batch + ", " + u + "]",
                            want.y()[row * rw + u], run.y[row * width + d * rw + u]);
                }
            }
            checkAll(where + side + " hT", want.hT(), run.hT[d]);
            if (c.cell.hasCellState()) {
                checkAll(where + side + " cT", want.cT(), run.cT[d]);
            }
        }
    }

    static void checkAll(String what, double[] want, float[] got) {
        if (got.length != want.length) {
            fail(what + ": " + got.length + " values, expected " + want.length);
        }
        for (int i = 0; i < want.length; i++) {
            check(what + "[" + i + "]", want[i], got[i]);
        }
    }

    static void check(String what, double want, float got) {
        double e = Math.abs(got - want);
        if (!(e <= ATOL + RTOL * Math.abs(want))) {
            fail(what + " = " + got + ", oracle " + want + ", |diff| " + e);
        }
    }
}
