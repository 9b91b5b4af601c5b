package dev.recur.cpu;

import dev.recur.api.Direction;
import dev.recur.api.TensorOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link OptionsOracle} against the peers' fixtures (fixtures/options/make_fixtures.py):
 * torch.nn.LSTM(proj_size), the contract as explicit torch ops with autograd, and Keras's LSTM
 * and GRU with masks with holes and recurrent dropout with a fixed mask. For fixtures with
 * gradients, the fixture's autograd gradients are checked against central differences of the
 * oracle's loss, so they agree with the oracle's forward and can serve the engine's backward tests.
 */
class OptionsFixtureTest {

    /*
     * Forward tolerance: fixtures and oracle are both float64 and compute the same formulas in
     * different orders (GEMM blocking, F.layer_norm's reductions), each value a sum of at most
     * ~20 products of size <= 2 over <= 5 steps: differences stay near 1e-15. 1e-11 leaves room
     * and is far below the 1e-3 a wrong gate, index, mask or draw gives.
     */
    static final double FORWARD_TOL = 1e-11;

    /*
     * Gradient tolerance: Richardson-extrapolated central differences, (4·D(h/2) - D(h)) / 3 with
     * D(h) = (L(v+h) - L(v-h)) / 2h and h = 1e-5, have truncation error O(h⁴) and rounding error
     * ~ 1e-16·|L|/h ~ 1e-10 (|L| <~ 10). Plain central differences are not enough here: a layer
     * norm over a block whose inputs are mostly dropped (explicit_all_gru_original, p = 0.5 on
     * R = 3) has a tiny variance and a third derivative near 1e9, which put D(1e-5) 3e-5 off a
     * gradient of 10.9. 1e-7 absolute plus 1e-6 relative is far below the 1e-2 a wrong gradient
     * shows.
     */
    static final double STEP = 1e-5;
    static final double GRAD_ATOL = 1e-7;
    static final double GRAD_RTOL = 1e-6;

    static List<String> names() {
        return OptionsFixture.names();
    }

    static List<String> withGradients() {
        return OptionsFixture.all().stream().filter(f -> f.hasGradients).map(f -> f.name).toList();
    }

    @Test
    void everyPeerIsThere() {
        List<String> names = names();
        assertTrue(names.stream().anyMatch(n -> n.startsWith("torch_")), "torch.nn.LSTM(proj_size) fixtures");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("explicit_")), "explicit torch fixtures");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("keras_")), "Keras fixtures");
        assertTrue(withGradients().size() >= 10, "fixtures with gradients");
    }

    @ParameterizedTest
    @MethodSource("names")
    void oracleMatchesFixture(String name) {
        OptionsFixture f = OptionsFixture.load(name);
        double[] x = f.tensor("x");
        for (int d = 0; d < f.dirs(); d++) {
            OptionsOracle.Result got = f.oracle(d, x, f.part("h0", d), f.part("c0", d), f.weights(d));
            String where = name + " " + f.directions.get(d);
            assertClose(where + " y", f.yPart(f.tensor("y"), d), got.y(), FORWARD_TOL, 0);
            assertClose(where + " hT", f.part("hT", d), got.hT(), FORWARD_TOL, 0);
            if (f.cell.hasCellState()) {
                assertClose(where + " cT", f.part("cT", d), got.cT(), FORWARD_TOL, 0);
            }
        }
    }

    /**
     * The scripts draw the recurrent dropout mask with a Python port of TensorOps.uniform; the
     * mask they stored (and gave Keras) must be the one the contract draws here.
     */
    @ParameterizedTest
    @MethodSource("names")
    void storedRecurrentDropoutMaskIsTheContractsDraw(String name) {
        OptionsFixture f = OptionsFixture.load(name);
        if (!f.training || f.options.recurrentDropout() == 0f) {
            assertEquals(null, f.tensors.get("rec_dropout_mask"), name + ": a mask without recurrent dropout");
            return;
        }
        int r = f.r();
        float p = f.options.recurrentDropout();
        int dropped = 0;
        for (int d = 0; d < f.dirs(); d++) {
            double[] stored = f.part("rec_dropout_mask", d);
            for (int i = 0; i < f.batch * r; i++) {
                boolean keep = TensorOps.uniform(f.seed, f.counter(d) + i) >= p;
                assertEquals(keep ? 1 / (1 - (double) p) : 0, stored[i], 1e-15, name + " mask entry " + i);
                dropped += keep ? 0 : 1;
            }
        }
        assertTrue(dropped > 0, name + ": the mask drops nothing, so the case tests nothing");
    }

    /**
     * The fixtures can tell the contract from its near misses: where a mask has a hole inside a
     * sequence after a step that ran, the peer's output there is the previous (non-zero) output,
     * not zero (Keras's Bidirectional would give zero); and where a training case drops recurrent
     * units, its outputs differ from the same call at inference.
     */
    @ParameterizedTest
    @MethodSource("names")
    void fixturesDistinguishTheContractFromNearMisses(String name) {
        OptionsFixture f = OptionsFixture.load(name);
        int r = f.r();
        if (f.mask != null) {
            int repeated = 0;
            for (int d = 0; d < f.dirs(); d++) {
                double[] y = f.yPart(f.tensor("y"), d);
                boolean forward = f.directions.get(d) == Direction.FORWARD;
                for (int b = 0; b < f.batch; b++) {
                    int len = f.lengths == null ? f.steps : f.lengths[b];
                    for (int k = 1; k < len; k++) {
                        int t = forward ? k : len - 1 - k;
                        int prev = forward ? t - 1 : t + 1;
                        if (f.mask[t * f.batch + b] == 0 && f.mask[prev * f.batch + b] == 1) {
                            double[] here = slice(y, (t * f.batch + b) * r, r);
                            assertEquals(0, Arrays.compare(here, slice(y, (prev * f.batch + b) * r, r)),
                                    name + ": a hole after a step that ran repeats its output");
                            assertTrue(dot(here, here) > 1e-6, name + ": a repeated output that is zero tests nothing");
                            repeated++;
                        }
                    }
                }
            }
            assertTrue(repeated > 0, name + ": a mask without a hole after a step that ran");
        }
        if (f.training && f.options.recurrentDropout() > 0f) {
            double[] y = f.yPart(f.tensor("y"), 0);
            OptionsOracle.Result inference = OptionsOracle.forward(f.cell, f.options, false, f.directions.get(0),
                    f.steps, f.batch, f.in, f.hidden, f.tensor("x"), f.lengths, f.mask, f.seed, f.counter,
                    f.part("h0", 0), f.part("c0", 0), f.weights(0));
            double moved = 0;
            for (int i = 0; i < y.length; i++) {
                moved = Math.max(moved, Math.abs(y[i] - inference.y()[i]));
            }
            assertTrue(moved > 1e-3, name + ": recurrent dropout moved the outputs only by " + moved);
        }
    }

    @ParameterizedTest
    @MethodSource("withGradients")
    void fixtureGradientsAreTheOraclesCentralDifferences(String name) {
        OptionsFixture f = OptionsFixture.load(name);
        double[] x = f.tensor("x").clone();
        double[] h0 = f.tensor("h0").clone();
        double[] c0 = f.tensors.containsKey("c0") ? f.tensor("c0").clone() : null;
        OptionsOracle.Weights[] w = new OptionsOracle.Weights[f.dirs()];
        for (int d = 0; d < f.dirs(); d++) {
            w[d] = f.weights(d);
        }
        checkDifferences(f, "x", x, x, h0, c0, w);
        checkDifferences(f, "h0", h0, x, h0, c0, w);
        if (c0 != null) {
            checkDifferences(f, "c0", c0, x, h0, c0, w);
        }
        int checked = 0;
        for (int d = 0; d < f.dirs(); d++) {
            double[][] arrays = w[d].arrays(); // PARAMETERS order; the same arrays, so writes reach w[d]
            for (int k = 0; k < arrays.length; k++) {
                String key = OptionsFixture.PARAMETERS[k] + f.suffix(d);
                if (arrays[k] == null) {
                    assertEquals(null, f.tensors.get("grad." + key), name + ": a gradient for an absent " + key);
                    continue;
                }
                checkDifferences(f, key, arrays[k], x, h0, c0, w);
                checked++;
            }
        }
        assertTrue(checked >= 4 * f.dirs(), name + ": too few parameters checked");
    }

    /** Each entry of {@code grad.<key>} against the central difference of the oracle's loss in {@code v}. */
    private static void checkDifferences(OptionsFixture f, String key, double[] v, double[] x, double[] h0,
                                         double[] c0, OptionsOracle.Weights[] w) {
        double[] grad = f.tensor("grad." + key);
        assertEquals(v.length, grad.length, f.name + " grad." + key + " size");
        for (int i = 0; i < v.length; i++) {
            double saved = v[i];
            double[] d = new double[2];
            for (int k = 0; k < 2; k++) {
                double h = k == 0 ? STEP : STEP / 2;
                v[i] = saved + h;
                double up = loss(f, x, h0, c0, w);
                v[i] = saved - h;
                double down = loss(f, x, h0, c0, w);
                v[i] = saved;
                d[k] = (up - down) / (2 * h);
            }
            double want = (4 * d[1] - d[0]) / 3;
            if (Math.abs(grad[i] - want) > GRAD_ATOL + GRAD_RTOL * Math.abs(want)) {
                fail(f.name + " grad." + key + "[" + i + "]: fixture " + grad[i] + ", oracle central difference "
                        + want);
            }
        }
    }

    /** {@code L = Σ y⊙dy + Σ hT⊙dhT + Σ cT⊙dcT} of the oracle, over every direction. */
    static double loss(OptionsFixture f, double[] x, double[] h0, double[] c0, OptionsOracle.Weights[] w) {
        double l = 0;
        int hn = f.batch * f.s();
        int cn = f.batch * f.hidden;
        for (int d = 0; d < f.dirs(); d++) {
            double[] dh0 = slice(h0, d * hn, hn);
            double[] dc0 = c0 == null ? null : slice(c0, d * cn, cn);
            OptionsOracle.Result res = f.oracle(d, x, dh0, dc0, w[d]);
            l += dot(res.y(), f.yPart(f.tensor("dy"), d));
            l += dot(res.hT(), f.part("dhT", d));
            if (res.cT() != null) {
                l += dot(res.cT(), f.part("dcT", d));
            }
        }
        return l;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] slice(double[] a, int from, int n) {
        double[] out = new double[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }

    /** Element by element within {@code atol + rtol·|want|}; the first miss fails with its index. */
    static void assertClose(String what, double[] want, double[] got, double atol, double rtol) {
        assertEquals(want.length, got.length, what + " size");
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(want[i] - got[i]) <= atol + rtol * Math.abs(want[i]))) {
                fail(what + "[" + i + "]: want " + want[i] + ", got " + got[i]);
            }
        }
    }
}
