package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Direction;
import dev.recur.api.LayerNormParams;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU engine's option path (float32, through the public {@link Backend} API with a
 * {@link dev.recur.api.CellOptions} workspace and a {@link StepControl}) against the peers'
 * fixtures (fixtures/options/make_fixtures.py; {@link OptionsFixtureTest} shows they agree with
 * the float64 oracle): the training forward and, where the fixture has them, every gradient of
 * its scalar loss (dy, dhT, dcT are the loss's weights, so they go straight into the backward);
 * and the inference forward, for fixtures made in inference and for those that draw nothing.
 */
class OptionsEngineFixtureTest {

    /*
     * Forward: the engine rounds inputs, weights and every product and sum to float32 (relative
     * 6e-8); a value is a sum of at most ~20 terms of size <= 2 per step, through tanh/sigmoid
     * (Lipschitz <= 1), a layer norm (which scales errors by γ/σ of its block) and at most 5
     * steps, so errors stay near 1e-6 (measured: at most 1.0e-6, explicit_ln_gru_original, whose
     * layer-norm blocks have small variances). A wrong gate, index, mask or draw moves values by 1e-2.
     */
    static final double ATOL = 5e-5;
    static final double RTOL = 2e-4;

    /*
     * Gradients: the backward sums over all steps and sequences in float32 and goes through the
     * layer norm's 1/σ twice; gradients reach ~11 (a nearly constant layer-norm block in
     * explicit_all_gru_original), so the bound is relative as well as absolute (measured on
     * grad.x: at most 3.4e-5 on a gradient of 2.7, explicit_all_gru_original).
     */
    static final double GRAD_ATOL = 1e-4;
    static final double GRAD_RTOL = 1e-3;

    @RegisterExtension
    static final CpuTestEngine engine = new CpuTestEngine();

    static List<String> names() {
        return OptionsFixture.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void engineMatchesFixture(String name) {
        OptionsFixture f = OptionsFixture.load(name);
        if (f.training) {
            run(f, true);
        }
        if (!f.training || !f.options.draws()) {
            run(f, false);
        }
    }

    /** One engine call of the fixture's layer: training (forward, then backward if it has gradients) or inference. */
    private static void run(OptionsFixture f, boolean training) {
        Backend be = engine.get();
        int dirs = f.dirs();
        boolean bi = dirs == 2;
        int t = f.steps, b = f.batch, in = f.in, h = f.hidden, r = f.r(), s = f.s();
        boolean hasC = f.cell.hasCellState();
        boolean backward = training && f.hasGradients;
        StepControl control = new StepControl(f.mask, f.seed, f.counter);
        String what = f.name + (training ? " training" : " inference");
        try (Workspace ws = be.workspace(f.cell, f.options, t, b, in, h, bi);
             Tensor x = be.tensor(narrow(f.tensor("x")), t, b, in);
             Tensor y = be.tensor(t, b, dirs * r)) {
            State[] init = new State[dirs];
            State[] fin = new State[dirs];
            LayerParams[] params = new LayerParams[dirs];
            for (int d = 0; d < dirs; d++) {
                init[d] = new State(be.tensor(narrow(f.part("h0", d)), b, s),
                        hasC ? be.tensor(narrow(f.part("c0", d)), b, h) : null);
                fin[d] = new State(be.tensor(b, s), hasC ? be.tensor(b, h) : null);
                params[d] = params(be, f, d);
            }
            Direction dir = f.directions.get(0);
            if (training) {
                if (bi) {
                    be.bidirectionalForward(f.cell, x, f.lengths, control, pair(init), pair(params), y, pair(fin), ws);
                } else {
                    be.layerForward(f.cell, dir, x, f.lengths, control, init[0], params[0], y, fin[0], ws);
                }
            } else {
                if (bi) {
                    be.bidirectionalInference(f.cell, x, f.lengths, control, pair(init), pair(params), y, pair(fin),
                            ws);
                } else {
                    be.layerInference(f.cell, dir, x, f.lengths, control, init[0], params[0], y, fin[0], ws);
                }
            }
            assertClose(what + " y", f.tensor("y"), y.toArray(), ATOL, RTOL);
            for (int d = 0; d < dirs; d++) {
                assertClose(what + " hT " + f.directions.get(d), f.part("hT", d), fin[d].h().toArray(), ATOL, RTOL);
                if (hasC) {
                    assertClose(what + " cT " + f.directions.get(d), f.part("cT", d), fin[d].c().toArray(), ATOL,
                            RTOL);
                }
            }
            if (!backward) {
                return;
            }
            try (Tensor dy = be.tensor(narrow(f.tensor("dy")), t, b, dirs * r);
                 Tensor dx = be.tensor(t, b, in)) {
                State[] dFin = new State[dirs];
                State[] dInit = new State[dirs];
                LayerParams[] grads = new LayerParams[dirs];
                for (int d = 0; d < dirs; d++) {
                    dFin[d] = new State(be.tensor(narrow(f.part("dhT", d)), b, s),
                            hasC ? be.tensor(narrow(f.part("dcT", d)), b, h) : null);
                    dInit[d] = new State(be.tensor(b, s), hasC ? be.tensor(b, h) : null);
                    grads[d] = LayerParams.zeros(be, f.cell, f.options, in, h);
                }
                if (bi) {
                    be.bidirectionalBackward(f.cell, x, f.lengths, control, pair(params), ws, dy, pair(dFin), dx,
                            pair(dInit), pair(grads));
                } else {
                    be.layerBackward(f.cell, dir, x, f.lengths, control, params[0], ws, dy, dFin[0], dx, dInit[0],
                            grads[0]);
                }
                assertClose(what + " grad.x", f.tensor("grad.x"), dx.toArray(), GRAD_ATOL, GRAD_RTOL);
                for (int d = 0; d < dirs; d++) {
                    String dn = " " + f.directions.get(d);
                    assertClose(what + " grad.h0" + dn, f.part("grad.h0", d), dInit[d].h().toArray(), GRAD_ATOL,
                            GRAD_RTOL);
                    if (hasC) {
                        assertClose(what + " grad.c0" + dn, f.part("grad.c0", d), dInit[d].c().toArray(), GRAD_ATOL,
                                GRAD_RTOL);
                    }
                    Tensor[] got = tensors(grads[d]);
                    int checked = 0;
                    for (int k = 0; k < OptionsFixture.PARAMETERS.length; k++) {
                        String key = "grad." + OptionsFixture.PARAMETERS[k] + f.suffix(d);
                        double[] want = f.tensors.get(key);
                        if (want == null) {
                            assertEquals(null, got[k], what + ": the engine has a gradient the fixture lacks, " + key);
                            continue;
                        }
                        assertClose(what + " " + key, want, got[k].toArray(), GRAD_ATOL, GRAD_RTOL);
                        checked++;
                    }
                    if (checked < 4) {
                        fail(what + ": only " + checked + " parameter gradients compared");
                    }
                }
            }
        }
    }

    /** Direction d's parameters as the engine takes them, float32, in PyTorch's layouts. */
    private static LayerParams params(Backend be, OptionsFixture f, int d) {
        int gh = f.cell.gates() * f.hidden;
        OptionsOracle.Weights w = f.weights(d);
        LayerNormParams ln = null;
        if (f.options.layerNorm()) {
            ln = new LayerNormParams(vector(be, w.lnGainIh()), vector(be, w.lnBiasIh()), vector(be, w.lnGainHh()),
                    vector(be, w.lnBiasHh()), vector(be, w.lnGainC()), vector(be, w.lnBiasC()));
        }
        return new LayerParams(be.tensor(narrow(w.wIh()), gh, f.in), be.tensor(narrow(w.wHh()), gh, f.r()),
                vector(be, w.bIh()), vector(be, w.bHh()), vector(be, w.peep()),
                w.wHr() == null ? null : be.tensor(narrow(w.wHr()), f.options.projectionSize(), f.hidden), ln);
    }

    /** The tensors of {@code p} in {@link OptionsFixture#PARAMETERS} order, nulls where absent. */
    private static Tensor[] tensors(LayerParams p) {
        LayerNormParams ln = p.layerNorm();
        return new Tensor[] {p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh(), p.peephole(), p.weightHr(),
            ln == null ? null : ln.gainIh(), ln == null ? null : ln.biasIh(), ln == null ? null : ln.gainHh(),
            ln == null ? null : ln.biasHh(), ln == null ? null : ln.gainC(), ln == null ? null : ln.biasC()};
    }

    private static Tensor vector(Backend be, double[] v) {
        return v == null ? null : be.tensor(narrow(v), v.length);
    }

    private static <V> PerDirection<V> pair(V[] v) {
        return new PerDirection<>(v[0], v[1]);
    }

    static float[] narrow(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    /** Element by element within {@code atol + rtol·|want|}; reports the worst entry and how many miss. */
    static void assertClose(String what, double[] want, float[] got, double atol, double rtol) {
        assertEquals(want.length, got.length, what + " size");
        List<String> misses = new ArrayList<>();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < want.length; i++) {
            double excess = Math.abs(want[i] - got[i]) - (atol + rtol * Math.abs(want[i]));
            if (!(excess <= 0)) {
                misses.add(Integer.toString(i));
                if (worst < 0 || !(excess <= worstExcess)) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (worst >= 0) {
            fail(what + ": " + misses.size() + " of " + want.length + " entries off; worst [" + worst + "] want "
                    + want[worst] + ", got " + got[worst]);
        }
    }
}
