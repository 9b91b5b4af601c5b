package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.TensorOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The options oracle checked against the plain {@link Oracle} (no options, no mask) and against
 * facts that hold by construction: an all-zero mask, holes as removed steps, the zoneout
 * expectation, the recurrent dropout mask's indexing, layer norm with one unit and its shift
 * invariance, an identity projection. Both oracles are float64 and add the same terms in
 * slightly different orders (the plain one starts its sums at the bias), so agreement is to
 * 1e-12; a formula or indexing mistake moves values by 1e-3 or more.
 */
class OptionsOracleTest {

    static final double TOL = 1e-12;

    // {T, B, I, H}, lengths
    private static final int[][] SHAPES = {{1, 1, 1, 1}, {4, 1, 3, 2}, {5, 3, 4, 7}, {3, 2, 2, 3}};
    private static final int[][] LENGTHS = {null, null, {3, 5, 1}, {2, 3}};

    private static double[] uniform(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2 * r.nextDouble() - 1;
        }
        return a;
    }

    private static Oracle.Weights plain(OptionsOracle.Weights w) {
        return new Oracle.Weights(w.wIh(), w.wHh(), w.bIh(), w.bHh(), w.peep());
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void withoutOptionsMatchesPlainOracle(Cell cell) {
        Random rnd = new Random(17 + cell.ordinal());
        for (int k = 0; k < SHAPES.length; k++) {
            int t = SHAPES[k][0], b = SHAPES[k][1], in = SHAPES[k][2], h = SHAPES[k][3];
            OptionsOracle.Weights w = OptionsOracle.random(rnd, cell, CellOptions.NONE, in, h, 0.6);
            double[] x = uniform(rnd, t * b * in);
            double[] h0 = uniform(rnd, b * h);
            double[] c0 = uniform(rnd, b * h);
            for (Direction dir : Direction.values()) {
                for (boolean training : new boolean[] {false, true}) {
                    OptionsOracle.Result got = OptionsOracle.forward(cell, CellOptions.NONE, training, dir, t, b, in, h,
                            x, LENGTHS[k], null, 5, 9, h0, c0, w);
                    Oracle.Result want = Oracle.forward(cell, dir, t, b, in, h, x, LENGTHS[k], h0, c0, plain(w));
                    String where = cell + " T" + t + " B" + b + " " + dir + " training=" + training;
                    assertArrayEquals(want.y(), got.y(), TOL, where + " y");
                    assertArrayEquals(want.hT(), got.hT(), TOL, where + " hT");
                    if (cell.hasCellState()) {
                        assertArrayEquals(want.cT(), got.cT(), TOL, where + " cT");
                    } else {
                        assertNull(got.cT());
                    }
                }
            }
        }
    }

    /** Every option a cell takes, on at once. */
    private static CellOptions everything(Cell cell) {
        boolean rnn = cell == Cell.RNN_TANH || cell == Cell.RNN_RELU;
        return new CellOptions(!rnn, 0.3f, 0.25f, cell.hasCellState() ? 0.2f : 0f, rnn ? 0 : 2);
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void allZeroMaskKeepsInitialStateAndOutputsZero(Cell cell) {
        Random rnd = new Random(3 + cell.ordinal());
        int t = 4, b = 3, in = 2, h = 5;
        CellOptions opt = everything(cell);
        int s = opt.stateWidth(cell, h);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, cell, opt, in, h, 0.6);
        double[] h0 = uniform(rnd, b * s);
        double[] c0 = uniform(rnd, b * h);
        for (Direction dir : Direction.values()) {
            OptionsOracle.Result got = OptionsOracle.forward(cell, opt, true, dir, t, b, in, h, uniform(rnd, t * b * in),
                    new int[] {4, 2, 3}, new byte[t * b], 11, 0, h0, c0, w);
            assertArrayEquals(new double[t * b * opt.recurrentWidth(h)], got.y(), 0.0, cell + " " + dir + " y");
            assertArrayEquals(h0, got.hT(), 0.0, cell + " " + dir + " hT");
            if (cell.hasCellState()) {
                assertArrayEquals(c0, got.cT(), 0.0, cell + " " + dir + " cT");
            }
        }
    }

    /**
     * Inference with a mask: a hole is the step removed from the sequence (state carried, no
     * draws at inference), its output the previous output of that sequence (zero before the
     * first step that ran). Sequence 0's mask is Keras's example {@code 1 1 0 1}; sequence 1
     * starts and ends with holes.
     */
    @ParameterizedTest
    @EnumSource(Cell.class)
    void holesAreRemovedStepsWithRepeatedOutput(Cell cell) {
        Random rnd = new Random(29 + cell.ordinal());
        int t = 4, b = 2, in = 3, h = 4;
        CellOptions opt = everything(cell);
        int r = opt.recurrentWidth(h), s = opt.stateWidth(cell, h);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, cell, opt, in, h, 0.6);
        double[] x = uniform(rnd, t * b * in);
        double[] h0 = uniform(rnd, b * s);
        double[] c0 = uniform(rnd, b * h);
        byte[] mask = {1, 0, 1, 1, 0, 1, 1, 0}; // [T, B]: sequence 0 runs 1 1 0 1, sequence 1 runs 0 1 1 0
        for (Direction dir : Direction.values()) {
            OptionsOracle.Result got = OptionsOracle.forward(cell, opt, false, dir, t, b, in, h, x, null, mask, 0, 0,
                    h0, c0, w);
            for (int seq = 0; seq < b; seq++) {
                int[] kept = seq == 0 ? new int[] {0, 1, 3} : new int[] {1, 2};
                double[] xs = new double[kept.length * in];
                for (int k = 0; k < kept.length; k++) {
                    System.arraycopy(x, (kept[k] * b + seq) * in, xs, k * in, in);
                }
                OptionsOracle.Result one = OptionsOracle.forward(cell, opt, false, dir, kept.length, 1, in, h, xs, null,
                        null, 0, 0, slice(h0, seq * s, s), slice(c0, seq * h, h), w);
                String where = cell + " " + dir + " sequence " + seq;
                assertArrayEquals(one.hT(), slice(got.hT(), seq * s, s), 0.0, where + " hT");
                if (cell.hasCellState()) {
                    assertArrayEquals(one.cT(), slice(got.cT(), seq * h, h), 0.0, where + " cT");
                }
                // Walk the steps in this direction's order: a kept step outputs its own y, a hole the last one.
                double[] last = new double[r];
                int next = dir == Direction.FORWARD ? 0 : kept.length - 1;
                for (int k = 0; k < t; k++) {
                    int step = dir == Direction.FORWARD ? k : t - 1 - k;
                    if (mask[step * b + seq] == 1) {
                        last = slice(one.y(), next * r, r);
                        next += dir == Direction.FORWARD ? 1 : -1;
                    }
                    assertArrayEquals(last, slice(got.y(), (step * b + seq) * r, r), 0.0, where + " y at t=" + step);
                }
            }
        }
    }

    /** One unit, two steps of tanh with inference zoneout 0.25: h_t = 0.25 h_{t-1} + 0.75 tanh(...). */
    @Test
    void inferenceZoneoutIsTheExpectationOnOneUnit() {
        CellOptions opt = new CellOptions(false, 0f, 0.25f, 0f, 0);
        OptionsOracle.Weights w = new OptionsOracle.Weights(new double[] {0.5}, new double[] {-0.75},
                new double[] {0.125}, new double[] {0.25}, null, null, null, null, null, null, null, null);
        double[] x = {1, -2};
        double h0 = 0.5;
        double h1 = 0.25 * h0 + 0.75 * Math.tanh(0.5 * 1 - 0.75 * h0 + 0.375);
        double h2 = 0.25 * h1 + 0.75 * Math.tanh(0.5 * -2 - 0.75 * h1 + 0.375);
        OptionsOracle.Result got = OptionsOracle.forward(Cell.RNN_TANH, opt, false, Direction.FORWARD, 2, 1, 1, 1, x,
                null, null, 0, 0, new double[] {h0}, null, w);
        assertArrayEquals(new double[] {h1, h2}, got.y(), 1e-15);
        assertEquals(h2, got.hT()[0], 1e-15);
        // The zoneout of c on an LSTM unit: c_1 = 0.4 c_0 + 0.6 c̃, and h̃ reads c̃ (not the zoned c).
        CellOptions optC = new CellOptions(false, 0f, 0f, 0.4f, 0);
        double[] ones = {1, 1, 1, 1};
        double[] zeros = {0, 0, 0, 0};
        OptionsOracle.Weights wl = new OptionsOracle.Weights(ones, zeros, zeros, zeros, null, null, null, null, null,
                null, null, null);
        double c0 = 0.3;
        OptionsOracle.Result lstm = OptionsOracle.forward(Cell.LSTM, optC, false, Direction.FORWARD, 1, 1, 1, 1,
                new double[] {0.5}, null, null, 0, 0, new double[] {0}, new double[] {c0}, wl);
        double gate = OptionsOracle.sigmoid(0.5);
        double cTilde = gate * c0 + gate * Math.tanh(0.5);
        double d = 0.4f; // the float option, widened
        assertEquals(d * c0 + (1 - d) * cTilde, lstm.cT()[0], 1e-15);
        assertEquals(gate * Math.tanh(cTilde), lstm.hT()[0], 1e-15);
    }

    /**
     * Training zoneout of h on 512 tanh units, one step: each unit is either h_0 (kept, exactly
     * when {@code uniform(seed, counter + B*R + j) < p}) or the plain step's value, and about
     * a fraction p is kept.
     */
    @Test
    void trainingZoneoutKeepsExactlyTheDrawnUnits() {
        int h = 512;
        float p = 0.3f;
        long seed = 77, counter = 1000;
        Random rnd = new Random(5);
        CellOptions opt = new CellOptions(false, 0f, p, 0f, 0);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, Cell.RNN_TANH, opt, 2, h, 0.1);
        double[] x = uniform(rnd, 2);
        double[] h0 = uniform(rnd, h);
        OptionsOracle.Result got = OptionsOracle.forward(Cell.RNN_TANH, opt, true, Direction.FORWARD, 1, 1, 2, h, x,
                null, null, seed, counter, h0, null, w);
        Oracle.Result plainStep = Oracle.forward(Cell.RNN_TANH, Direction.FORWARD, 1, 1, 2, h, x, null, h0, null,
                plain(w));
        int kept = 0;
        for (int j = 0; j < h; j++) {
            boolean keep = TensorOps.uniform(seed, counter + h + j) < p; // index B*R + (t*B + b)*S + j with t = b = 0
            assertEquals(keep ? h0[j] : plainStep.hT()[j], got.hT()[j], TOL, "unit " + j);
            kept += keep ? 1 : 0;
        }
        // Binomial(512, 0.3): mean 154, standard deviation 10.4.
        assertTrue(kept > 110 && kept < 200, "kept " + kept);
    }

    /**
     * Training recurrent dropout, one LSTM step on 3 sequences: the same as the plain cell with
     * {@code h_0} replaced by {@code m ⊙ h_0}, {@code m[b, j]} drawn at {@code counter + b*R + j};
     * {@code c_0} is not dropped.
     */
    @Test
    void recurrentDropoutMasksTheRecurrentInputPerSequence() {
        int b = 3, in = 2, h = 6;
        float p = 0.4f;
        long seed = 123, counter = 40;
        Random rnd = new Random(8);
        CellOptions opt = new CellOptions(false, p, 0f, 0f, 0);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, Cell.LSTM, opt, in, h, 0.6);
        double[] x = uniform(rnd, b * in);
        double[] h0 = uniform(rnd, b * h);
        double[] c0 = uniform(rnd, b * h);
        double[] dropped = new double[b * h];
        int zeros = 0;
        for (int i = 0; i < b * h; i++) {
            boolean keep = TensorOps.uniform(seed, counter + i) >= p;
            dropped[i] = keep ? h0[i] / (1 - (double) p) : 0;
            zeros += keep ? 0 : 1;
        }
        assertTrue(zeros > 0 && zeros < b * h, "the draws should drop some units and keep others");
        OptionsOracle.Result got = OptionsOracle.forward(Cell.LSTM, opt, true, Direction.FORWARD, 1, b, in, h, x, null,
                null, seed, counter, h0, c0, w);
        Oracle.Result want = Oracle.forward(Cell.LSTM, Direction.FORWARD, 1, b, in, h, x, null, dropped, c0, plain(w));
        assertArrayEquals(want.hT(), got.hT(), TOL);
        assertArrayEquals(want.cT(), got.cT(), TOL);
        // Inference ignores the recurrent dropout.
        OptionsOracle.Result inference = OptionsOracle.forward(Cell.LSTM, opt, false, Direction.FORWARD, 1, b, in, h,
                x, null, null, seed, counter, h0, c0, w);
        Oracle.Result plainRun = Oracle.forward(Cell.LSTM, Direction.FORWARD, 1, b, in, h, x, null, h0, c0, plain(w));
        assertArrayEquals(plainRun.hT(), inference.hT(), TOL);
    }

    /**
     * Layer norm over one unit maps every pre-activation to its β: an LSTM with H = 1 has gates
     * {@code σ(β_ih + β_hh + b_ih + b_hh)} whatever x and h are, and {@code h = o tanh(β_c)}.
     */
    @Test
    void layerNormOfOneUnitLeavesOnlyTheBiases() {
        CellOptions opt = new CellOptions(true, 0f, 0f, 0f, 0);
        OptionsOracle.Weights w = OptionsOracle.random(new Random(4), Cell.LSTM, opt, 2, 1, 0.8);
        double[] a = new double[4];
        for (int k = 0; k < 4; k++) {
            a[k] = w.lnBiasIh()[k] + w.lnBiasHh()[k] + w.bIh()[k] + w.bHh()[k];
        }
        double c0 = -0.7;
        double c1 = OptionsOracle.sigmoid(a[1]) * c0 + OptionsOracle.sigmoid(a[0]) * Math.tanh(a[2]);
        double h1 = OptionsOracle.sigmoid(a[3]) * Math.tanh(w.lnBiasC()[0]);
        OptionsOracle.Result got = OptionsOracle.forward(Cell.LSTM, opt, false, Direction.FORWARD, 1, 1, 2, 1,
                new double[] {3, -5}, null, null, 0, 0, new double[] {0.9}, new double[] {c0}, w);
        assertEquals(c1, got.cT()[0], 1e-15);
        assertEquals(h1, got.hT()[0], 1e-15);
    }

    /**
     * Layer norm removes a shift common to a gate block: adding the same row v to every row of a
     * gate block of W_ih shifts that block of {@code a_x} by {@code v·x} and changes nothing
     * (and the same for W_hh). Without layer norm the outputs move.
     */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "LSTM_PEEPHOLE", "LSTM_COUPLED", "GRU", "GRU_ORIGINAL"})
    void layerNormIgnoresAShiftCommonToAGateBlock(Cell cell) {
        Random rnd = new Random(61 + cell.ordinal());
        int t = 3, b = 2, in = 3, h = 4;
        CellOptions opt = new CellOptions(true, 0f, 0f, 0f, 0);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, cell, opt, in, h, 0.6);
        OptionsOracle.Weights shifted = w.copy();
        for (int g = 0; g < cell.gates(); g++) {
            double[] vi = uniform(rnd, in);
            double[] vh = uniform(rnd, h);
            for (int u = 0; u < h; u++) {
                for (int i = 0; i < in; i++) {
                    shifted.wIh()[(g * h + u) * in + i] += vi[i];
                }
                for (int j = 0; j < h; j++) {
                    shifted.wHh()[(g * h + u) * h + j] += vh[j];
                }
            }
        }
        double[] x = uniform(rnd, t * b * in);
        double[] h0 = uniform(rnd, b * h);
        double[] c0 = uniform(rnd, b * h);
        OptionsOracle.Result a = OptionsOracle.forward(cell, opt, false, Direction.FORWARD, t, b, in, h, x, null, null,
                0, 0, h0, c0, w);
        OptionsOracle.Result s = OptionsOracle.forward(cell, opt, false, Direction.FORWARD, t, b, in, h, x, null, null,
                0, 0, h0, c0, shifted);
        assertArrayEquals(a.y(), s.y(), 1e-12);
        OptionsOracle.Result noLn = OptionsOracle.forward(cell, CellOptions.NONE, false, Direction.FORWARD, t, b, in, h,
                x, null, null, 0, 0, h0, c0, w);
        OptionsOracle.Result noLnShifted = OptionsOracle.forward(cell, CellOptions.NONE, false, Direction.FORWARD, t, b,
                in, h, x, null, null, 0, 0, h0, c0, shifted);
        double moved = 0;
        for (int i = 0; i < a.y().length; i++) {
            moved = Math.max(moved, Math.abs(noLn.y()[i] - noLnShifted.y()[i]));
        }
        assertTrue(moved > 1e-3, "without layer norm the shift should move the outputs, moved " + moved);
    }

    /**
     * A projection {@code W_hr = [I_P | 0]} keeps the first P units: the projected cell equals
     * the plain cell whose W_hh has zero columns past P, with outputs (and, for the LSTM family,
     * the state h) cut to the first P units; the GRU keeps its full state.
     */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "LSTM_PEEPHOLE", "LSTM_COUPLED", "GRU", "GRU_ORIGINAL"})
    void identityProjectionEqualsThePlainCellCut(Cell cell) {
        Random rnd = new Random(71 + cell.ordinal());
        int t = 4, b = 2, in = 3, h = 5, p = 3;
        CellOptions opt = new CellOptions(false, 0f, 0f, 0f, p);
        OptionsOracle.Weights w = OptionsOracle.random(rnd, cell, opt, in, h, 0.6);
        java.util.Arrays.fill(w.wHr(), 0);
        for (int i = 0; i < p; i++) {
            w.wHr()[i * h + i] = 1;
        }
        int gh = cell.gates() * h;
        double[] padded = new double[gh * h];
        for (int k = 0; k < gh; k++) {
            System.arraycopy(w.wHh(), k * p, padded, k * h, p);
        }
        Oracle.Weights plainW = new Oracle.Weights(w.wIh(), padded, w.bIh(), w.bHh(), w.peep());
        int s = opt.stateWidth(cell, h);
        double[] x = uniform(rnd, t * b * in);
        double[] h0 = uniform(rnd, b * s);
        double[] c0 = uniform(rnd, b * h);
        double[] h0Full = new double[b * h]; // the plain cell's h0: the projected state padded with zeros (LSTM)
        for (int seq = 0; seq < b; seq++) {
            System.arraycopy(h0, seq * s, h0Full, seq * h, s);
        }
        int[] lengths = {4, 2};
        for (Direction dir : Direction.values()) {
            OptionsOracle.Result got = OptionsOracle.forward(cell, opt, false, dir, t, b, in, h, x, lengths, null, 0, 0,
                    h0, c0, w);
            Oracle.Result want = Oracle.forward(cell, dir, t, b, in, h, x, lengths, h0Full, c0, plainW);
            for (int row = 0; row < t * b; row++) {
                assertArrayEquals(slice(want.y(), row * h, p), slice(got.y(), row * p, p), TOL, cell + " " + dir);
            }
            for (int seq = 0; seq < b; seq++) {
                assertArrayEquals(slice(want.hT(), seq * h, s), slice(got.hT(), seq * s, s), TOL, cell + " " + dir);
            }
            if (cell.hasCellState()) {
                assertArrayEquals(want.cT(), got.cT(), TOL, cell + " " + dir + " cT");
            }
        }
    }

    static double[] slice(double[] a, int from, int n) {
        double[] out = new double[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }
}
