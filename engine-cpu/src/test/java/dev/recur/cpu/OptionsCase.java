package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.LayerNormParams;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;

import java.util.Arrays;
import java.util.Random;

/**
 * One test case of a layer run with {@link CellOptions} and a {@link StepControl}: random inputs
 * and weights, rounded to float32 once so that the engine (float32) and {@link OptionsOracle}
 * (float64) read the same values, and the weights of a scalar loss
 * {@code L = Σ y⊙wy + Σ hT⊙wh + Σ cT⊙wc} whose gradients become {@code dy} and {@code dFin}.
 * Widths: R = {@code opt.recurrentWidth(H)}, S = {@code opt.stateWidth(cell, H)}.
 */
final class OptionsCase {

    final Cell cell;
    final CellOptions opt;
    final int steps;   // T
    final int batch;   // B
    final int in;      // I
    final int hs;      // H
    final int[] lengths;   // [B] or null
    final byte[] mask;     // [T*B] or null
    final boolean bidirectional;
    final long seed;
    final long counter;
    final double[] x;                    // [T, B, I]
    final double[][] h0;                 // per direction [B, S] or null
    final double[][] c0;                 // per direction [B, H] or null
    final OptionsOracle.Weights[] w;     // per direction
    final double[] wy;                   // [T, B, dirs*R]
    final double[][] wh;                 // per direction [B, S]
    final double[][] wc;                 // per direction [B, H] or null

    OptionsCase(Cell cell, CellOptions opt, int steps, int batch, int in, int hs, int[] lengths, byte[] mask,
                boolean init, boolean bidirectional, long seed) {
        this.cell = cell;
        this.opt = opt;
        this.steps = steps;
        this.batch = batch;
        this.in = in;
        this.hs = hs;
        this.lengths = lengths;
        this.mask = mask;
        this.bidirectional = bidirectional;
        this.seed = seed;
        this.counter = 1000 + seed % 7;
        Random r = new Random(seed);
        int dirs = dirs();
        x = uniform(r, steps * batch * in, 1.0);
        h0 = new double[dirs][];
        c0 = new double[dirs][];
        w = new OptionsOracle.Weights[dirs];
        wh = new double[dirs][];
        wc = new double[dirs][];
        // Weights ~ U(±1.5/sqrt(H)) like PyTorch's initialisation, a little larger so gates leave
        // their linear region; layer-norm gains around 1.
        double scale = 1.5 / Math.sqrt(hs);
        for (int d = 0; d < dirs; d++) {
            h0[d] = init ? uniform(r, batch * s(), 0.8) : null;
            c0[d] = init && cell.hasCellState() ? uniform(r, batch * hs, 0.8) : null;
            w[d] = rounded(OptionsOracle.random(r, cell, opt, in, hs, scale));
            wh[d] = uniform(r, batch * s(), 1.0);
            wc[d] = cell.hasCellState() ? uniform(r, batch * hs, 1.0) : null;
        }
        wy = uniform(r, steps * batch * dirs * r(), 1.0);
    }

    /** Direction index d of this bidirectional case as a one-direction case: its inputs, weights, loss and counter. */
    OptionsCase oneDirection(int d) {
        int rw = r();
        double[] wy1 = new double[steps * batch * rw];
        for (int row = 0; row < steps * batch; row++) {
            System.arraycopy(wy, row * 2 * rw + d * rw, wy1, row * rw, rw);
        }
        return new OptionsCase(this, d, wy1);
    }

    private OptionsCase(OptionsCase both, int d, double[] wy1) {
        this.cell = both.cell;
        this.opt = both.opt;
        this.steps = both.steps;
        this.batch = both.batch;
        this.in = both.in;
        this.hs = both.hs;
        this.lengths = both.lengths;
        this.mask = both.mask;
        this.bidirectional = false;
        this.seed = both.seed;
        this.counter = both.counter(d);
        this.x = both.x;
        this.h0 = new double[][] {both.h0[d]};
        this.c0 = new double[][] {both.c0[d]};
        this.w = new OptionsOracle.Weights[] {both.w[d]};
        this.wy = wy1;
        this.wh = new double[][] {both.wh[d]};
        this.wc = new double[][] {both.wc[d]};
    }

    int dirs() {
        return bidirectional ? 2 : 1;
    }

    int r() {
        return opt.recurrentWidth(hs);
    }

    int s() {
        return opt.stateWidth(cell, hs);
    }

    StepControl control() {
        return new StepControl(mask, seed, counter);
    }

    @Override
    public String toString() {
        return cell.id() + " " + opt + " T=" + steps + " B=" + batch + " I=" + in + " H=" + hs
                + (lengths == null ? "" : " lengths=" + Arrays.toString(lengths))
                + (mask == null ? "" : " mask=" + Arrays.toString(mask)) + (h0[0] == null ? "" : " init")
                + (bidirectional ? " bidirectional" : "");
    }

    /** The direction of direction index d: {@code dir} for a one-direction case. */
    Direction direction(int d, Direction dir) {
        return bidirectional ? Direction.values()[d] : dir;
    }

    /** Direction index d's first counter: the reverse direction of a bidirectional call starts draws(...) later. */
    long counter(int d) {
        return d == 0 ? counter : counter + opt.draws(cell, steps, batch, hs);
    }

    /** The oracle's forward of direction index d with the given inputs and weights. */
    OptionsOracle.Result oracle(int d, Direction dir, boolean training, double[] xs, double[] h0d, double[] c0d,
                                OptionsOracle.Weights wd) {
        return OptionsOracle.forward(cell, opt, training, direction(d, dir), steps, batch, in, hs, xs, lengths, mask,
                seed, counter(d), h0d, c0d, wd);
    }

    /** The loss of direction index d's oracle result. */
    double loss(int d, OptionsOracle.Result res) {
        double l = 0;
        int rw = r();
        int width = dirs() * rw;
        for (int row = 0; row < steps * batch; row++) {
            for (int u = 0; u < rw; u++) {
                l += res.y()[row * rw + u] * wy[row * width + d * rw + u];
            }
        }
        for (int i = 0; i < batch * s(); i++) {
            l += res.hT()[i] * wh[d][i];
        }
        if (res.cT() != null) {
            for (int i = 0; i < batch * hs; i++) {
                l += res.cT()[i] * wc[d][i];
            }
        }
        return l;
    }

    /** What the engine computed: outputs, then (after a training forward) the gradients of the loss. */
    static final class EngineRun {
        float[] y;                              // [T, B, dirs*R]
        float[][] hT = new float[2][];          // [B, S]
        float[][] cT = new float[2][];          // [B, H]
        float[] dx;                             // [T, B, I]
        float[][] dh0 = new float[2][];
        float[][] dc0 = new float[2][];
        float[][][] grads = new float[2][][];   // per direction, in the order of OptionsOracle.Weights
    }

    /** The engine's forward (and backward when {@code training}); {@code dir} ignored when bidirectional. */
    EngineRun run(Backend be, Direction dir, boolean training) {
        int dirs = dirs();
        int rw = r();
        int sw = s();
        EngineRun out = new EngineRun();
        try (Workspace ws = be.workspace(cell, opt, steps, batch, in, hs, bidirectional);
             Tensor tx = be.tensor(narrow(x), steps, batch, in);
             Tensor ty = be.tensor(steps, batch, dirs * rw);
             Tensor tdy = be.tensor(narrow(wy), steps, batch, dirs * rw);
             Tensor tdx = be.tensor(steps, batch, in)) {
            State[] init = new State[dirs];
            State[] fin = new State[dirs];
            State[] dFin = new State[dirs];
            State[] dInit = new State[dirs];
            LayerParams[] params = new LayerParams[dirs];
            LayerParams[] grads = new LayerParams[dirs];
            for (int d = 0; d < dirs; d++) {
                init[d] = new State(h0[d] == null ? null : be.tensor(narrow(h0[d]), batch, sw),
                        c0[d] == null ? null : be.tensor(narrow(c0[d]), batch, hs));
                fin[d] = state(be, batch, sw);
                dFin[d] = new State(be.tensor(narrow(wh[d]), batch, sw),
                        wc[d] == null ? null : be.tensor(narrow(wc[d]), batch, hs));
                dInit[d] = state(be, batch, sw);
                params[d] = params(be, w[d]);
                grads[d] = LayerParams.zeros(be, cell, opt, in, hs);
            }
            StepControl control = control();
            if (bidirectional) {
                PerDirection<State> i = new PerDirection<>(init[0], init[1]);
                PerDirection<LayerParams> p = new PerDirection<>(params[0], params[1]);
                PerDirection<State> f = new PerDirection<>(fin[0], fin[1]);
                if (training) {
                    be.bidirectionalForward(cell, tx, lengths, control, i, p, ty, f, ws);
                    be.bidirectionalBackward(cell, tx, lengths, control, p, ws, tdy,
                            new PerDirection<>(dFin[0], dFin[1]), tdx, new PerDirection<>(dInit[0], dInit[1]),
                            new PerDirection<>(grads[0], grads[1]));
                } else {
                    be.bidirectionalInference(cell, tx, lengths, control, i, p, ty, f, ws);
                }
            } else if (training) {
                be.layerForward(cell, dir, tx, lengths, control, init[0], params[0], ty, fin[0], ws);
                be.layerBackward(cell, dir, tx, lengths, control, params[0], ws, tdy, dFin[0], tdx, dInit[0],
                        grads[0]);
            } else {
                be.layerInference(cell, dir, tx, lengths, control, init[0], params[0], ty, fin[0], ws);
            }
            out.y = ty.toArray();
            out.dx = training ? tdx.toArray() : null;
            for (int d = 0; d < dirs; d++) {
                out.hT[d] = fin[d].h().toArray();
                out.cT[d] = fin[d].c() == null ? null : fin[d].c().toArray();
                if (training) {
                    out.dh0[d] = dInit[d].h().toArray();
                    out.dc0[d] = dInit[d].c() == null ? null : dInit[d].c().toArray();
                    out.grads[d] = arrays(grads[d]);
                }
            }
        }
        return out;
    }

    private State state(Backend be, int b, int sw) {
        return new State(be.tensor(b, sw), cell.hasCellState() ? be.tensor(b, hs) : null);
    }

    /** The engine's parameters holding {@code wd}. */
    LayerParams params(Backend be, OptionsOracle.Weights wd) {
        int gh = cell.gates() * hs;
        LayerNormParams ln = null;
        if (opt.layerNorm()) {
            ln = new LayerNormParams(be.tensor(narrow(wd.lnGainIh()), gh), be.tensor(narrow(wd.lnBiasIh()), gh),
                    be.tensor(narrow(wd.lnGainHh()), gh), be.tensor(narrow(wd.lnBiasHh()), gh),
                    wd.lnGainC() == null ? null : be.tensor(narrow(wd.lnGainC()), hs),
                    wd.lnBiasC() == null ? null : be.tensor(narrow(wd.lnBiasC()), hs));
        }
        return new LayerParams(be.tensor(narrow(wd.wIh()), gh, in), be.tensor(narrow(wd.wHh()), gh, r()),
                be.tensor(narrow(wd.bIh()), gh), be.tensor(narrow(wd.bHh()), gh),
                wd.peep() == null ? null : be.tensor(narrow(wd.peep()), wd.peep().length),
                wd.wHr() == null ? null : be.tensor(narrow(wd.wHr()), opt.projectionSize(), hs), ln);
    }

    /** Gradients as arrays in the order of {@link OptionsOracle.Weights#arrays()}, nulls where absent. */
    static float[][] arrays(LayerParams g) {
        LayerNormParams ln = g.layerNorm();
        return new float[][] {g.weightIh().toArray(), g.weightHh().toArray(), g.biasIh().toArray(),
                g.biasHh().toArray(), g.peephole() == null ? null : g.peephole().toArray(),
                g.weightHr() == null ? null : g.weightHr().toArray(),
                ln == null ? null : ln.gainIh().toArray(), ln == null ? null : ln.biasIh().toArray(),
                ln == null ? null : ln.gainHh().toArray(), ln == null ? null : ln.biasHh().toArray(),
                ln == null || ln.gainC() == null ? null : ln.gainC().toArray(),
                ln == null || ln.biasC() == null ? null : ln.biasC().toArray()};
    }

    static final String[] PARAM_NAMES = {"dWeightIh", "dWeightHh", "dBiasIh", "dBiasHh", "dPeephole", "dWeightHr",
            "dLnGainIh", "dLnBiasIh", "dLnGainHh", "dLnBiasHh", "dLnGainC", "dLnBiasC"};

    private static OptionsOracle.Weights rounded(OptionsOracle.Weights wd) {
        return new OptionsOracle.Weights(round(wd.wIh()), round(wd.wHh()), round(wd.bIh()), round(wd.bHh()),
                round(wd.peep()), round(wd.wHr()), round(wd.lnGainIh()), round(wd.lnBiasIh()), round(wd.lnGainHh()),
                round(wd.lnBiasHh()), round(wd.lnGainC()), round(wd.lnBiasC()));
    }

    private static double[] round(double[] a) {
        if (a == null) {
            return null;
        }
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }

    static double[] uniform(Random r, int n, double a) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * a);
        }
        return v;
    }

    static float[] narrow(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
