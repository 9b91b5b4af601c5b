package dev.recur.cuda;

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
import dev.recur.cpu.OptionsOracle;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.recur.cuda.SimulatedOptionLayerTest.close;

/**
 * One option-path layer call (cell, options, shape, direction or bidirectional, a mask with holes,
 * lengths, draws), its inputs made once from a seed: {@link #run} runs it on any engine through
 * the public {@link Backend} API and returns every output by name, {@link #checkAgainstOracle}
 * holds such outputs against engine-cpu's float64 {@link OptionsOracle} (forward directly,
 * gradients by central differences of {@link OptionsOracle#loss}); every call trains (draws).
 * Tolerances: forward {@code 5e-5 + 5e-4·|want|}, gradients {@code 2e-4 + 2e-3·|want|} (float32
 * engines against float64, sums of up to 33 + 33 terms per pre-activation over 5 steps).
 */
final class OptionProblem {

    /** T, B, I, H, P. */
    record Shape(int steps, int batch, int input, int hidden, int projection) {
    }

    final Cell cell;
    final CellOptions o;
    final Shape s;
    final Direction dir;
    final int dirs;
    final int[] lengths;   // [B]
    final byte[] mask;     // [T*B]
    final long seed;       // the draws' seed
    final long counter = 1000;
    final double[] x;
    final double[] dy;
    final double[][] h0;
    final double[][] c0;
    final double[][] dhT;
    final double[][] dcT;
    final OptionsOracle.Weights[] params;
    final String what;

    OptionProblem(Cell cell, CellOptions o, Shape s, Direction dir, long seed) {
        this.cell = cell;
        this.o = o;
        this.s = s;
        this.dir = dir;
        this.dirs = dir == null ? 2 : 1;
        SplittableRandom rnd = new SplittableRandom(seed);
        int T = s.steps();
        int B = s.batch();
        int H = s.hidden();
        int R = o.recurrentWidth(H);
        int S = o.stateWidth(cell, H);
        int G = cell.gates();
        lengths = new int[B];
        mask = new byte[T * B];
        for (int b = 0; b < B; b++) {
            lengths[b] = b == 0 ? T : 1 + rnd.nextInt(T);
        }
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (byte) (rnd.nextInt(4) == 0 ? 0 : 1);
        }
        this.seed = seed * 7 + 3;
        x = random(rnd, T * B * s.input(), 1);
        dy = random(rnd, T * B * dirs * R, 1);
        h0 = new double[dirs][];
        c0 = new double[dirs][];
        dhT = new double[dirs][];
        dcT = new double[dirs][];
        params = new OptionsOracle.Weights[dirs];
        for (int d = 0; d < dirs; d++) {
            h0[d] = random(rnd, B * S, 0.5);
            c0[d] = cell.hasCellState() ? random(rnd, B * H, 0.5) : null;
            dhT[d] = random(rnd, B * S, 1);
            dcT[d] = cell.hasCellState() ? random(rnd, B * H, 1) : null;
            params[d] = weights(random(rnd, G * H * s.input(), 0.4), random(rnd, G * H * R, 0.4),
                    random(rnd, G * H, 0.3), random(rnd, G * H, 0.3),
                    cell == Cell.LSTM_PEEPHOLE ? random(rnd, 3 * H, 0.5) : null,
                    o.projectionSize() > 0 ? random(rnd, o.projectionSize() * H, 0.4) : null,
                    o.layerNorm() ? SimulatedOptionLayerTest.layerNormParams(rnd, cell, H) : null);
        }
        what = cell.id() + " " + o + " " + s + " " + (dir == null ? "bidirectional" : dir);
    }

    Direction direction(int d) {
        return dir != null ? dir : d == 0 ? Direction.FORWARD : Direction.REVERSE;
    }

    long counterOf(int d) {
        return dir != null || d == 0 ? counter : counter + o.draws(cell, s.steps(), s.batch(), s.hidden());
    }

    /** Forward and backward on {@code be}: y, fin, dx, dInit and the gradients, by name. */
    Map<String, float[]> run(Backend be) {
        int T = s.steps();
        int B = s.batch();
        int H = s.hidden();
        int R = o.recurrentWidth(H);
        int S = o.stateWidth(cell, H);
        boolean lstm = cell.hasCellState();
        List<Tensor> made = new ArrayList<>();
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Workspace ws = be.workspace(cell, o, T, B, s.input(), H, dir == null)) {
            Tensor xt = keep(made, be.tensor(f(x), T, B, s.input()));
            Tensor y = keep(made, be.tensor(T, B, dirs * R));
            Tensor dyt = keep(made, be.tensor(f(dy), T, B, dirs * R));
            Tensor dx = keep(made, be.tensor(T, B, s.input()));
            LayerParams[] ps = new LayerParams[dirs];
            LayerParams[] gs = new LayerParams[dirs];
            State[] init = new State[dirs];
            State[] fin = new State[dirs];
            State[] dFin = new State[dirs];
            State[] dInit = new State[dirs];
            for (int d = 0; d < dirs; d++) {
                OptionsOracle.Weights p = params[d];
                ps[d] = new LayerParams(keep(made, be.tensor(f(p.wIh()), cell.gates() * H, s.input())),
                        keep(made, be.tensor(f(p.wHh()), cell.gates() * H, R)),
                        keep(made, be.tensor(f(p.bIh()), cell.gates() * H)),
                        keep(made, be.tensor(f(p.bHh()), cell.gates() * H)),
                        p.peep() == null ? null : keep(made, be.tensor(f(p.peep()), 3 * H)),
                        p.wHr() == null ? null : keep(made, be.tensor(f(p.wHr()), o.projectionSize(), H)),
                        o.layerNorm() ? layerNorm(be, made, p, cell, H) : null);
                gs[d] = LayerParams.zeros(be, cell, o, s.input(), H);
                made.addAll(gs[d].tensors());
                init[d] = new State(keep(made, be.tensor(f(h0[d]), B, S)),
                        lstm ? keep(made, be.tensor(f(c0[d]), B, H)) : null);
                fin[d] = new State(keep(made, be.tensor(B, S)), lstm ? keep(made, be.tensor(B, H)) : null);
                dFin[d] = new State(keep(made, be.tensor(f(dhT[d]), B, S)),
                        lstm ? keep(made, be.tensor(f(dcT[d]), B, H)) : null);
                dInit[d] = new State(keep(made, be.tensor(B, S)), lstm ? keep(made, be.tensor(B, H)) : null);
            }
            StepControl control = new StepControl(mask, seed, counter);
            if (dir != null) {
                be.layerForward(cell, dir, xt, lengths, control, init[0], ps[0], y, fin[0], ws);
                be.layerBackward(cell, dir, xt, lengths, control, ps[0], ws, dyt, dFin[0], dx, dInit[0], gs[0]);
            } else {
                be.bidirectionalForward(cell, xt, lengths, control, pair(init), pair(ps), y, pair(fin), ws);
                be.bidirectionalBackward(cell, xt, lengths, control, pair(ps), ws, dyt, pair(dFin), dx,
                        pair(dInit), pair(gs));
            }
            out.put("y", y.toArray());
            out.put("dx", dx.toArray());
            for (int d = 0; d < dirs; d++) {
                out.put("fin.h" + d, fin[d].h().toArray());
                out.put("dInit.h" + d, dInit[d].h().toArray());
                if (lstm) {
                    out.put("fin.c" + d, fin[d].c().toArray());
                    out.put("dInit.c" + d, dInit[d].c().toArray());
                }
                List<Tensor> g = gs[d].tensors();
                for (int k = 0; k < g.size(); k++) {
                    out.put("grad" + k + "." + d, g.get(k).toArray());
                }
            }
        } finally {
            for (Tensor t : made) {
                t.close();
            }
        }
        return out;
    }

    /** Direction d's forward in the oracle (training: the call's draws). */
    OptionsOracle.Result oracle(int d) {
        return OptionsOracle.forward(cell, o, true, direction(d), s.steps(), s.batch(), s.input(), s.hidden(), x,
                lengths, mask, seed, counterOf(d), h0[d], c0[d], params[d]);
    }

    double loss() {
        double sum = 0;
        int R = o.recurrentWidth(s.hidden());
        for (int d = 0; d < dirs; d++) {
            OptionsOracle.Result out = oracle(d);
            double[] dyDir = new double[s.steps() * s.batch() * R];
            for (int i = 0; i < s.steps() * s.batch(); i++) {
                System.arraycopy(dy, i * dirs * R + d * R, dyDir, i * R, R);
            }
            sum += OptionsOracle.loss(out, dyDir, dhT[d], dcT[d]);
        }
        return sum;
    }

    void checkAgainstOracle(Map<String, float[]> got) {
        int R = o.recurrentWidth(s.hidden());
        int rows = s.steps() * s.batch();
        double[] y = new double[rows * dirs * R];
        for (int d = 0; d < dirs; d++) {
            OptionsOracle.Result out = oracle(d);
            for (int i = 0; i < rows; i++) {
                System.arraycopy(out.y(), i * R, y, i * dirs * R + d * R, R);
            }
            close(what + " fin.h" + d, out.hT(), got.get("fin.h" + d), 5e-5, 5e-4);
            if (out.cT() != null) {
                close(what + " fin.c" + d, out.cT(), got.get("fin.c" + d), 5e-5, 5e-4);
            }
        }
        close(what + " y", y, got.get("y"), 5e-5, 5e-4);
        double eps = 1e-6;
        close(what + " dx", OptionsOracle.centralDifferences(x, eps, this::loss), got.get("dx"), 2e-4, 2e-3);
        for (int d = 0; d < dirs; d++) {
            close(what + " dInit.h" + d, OptionsOracle.centralDifferences(h0[d], eps, this::loss),
                    got.get("dInit.h" + d), 2e-4, 2e-3);
            if (c0[d] != null) {
                close(what + " dInit.c" + d, OptionsOracle.centralDifferences(c0[d], eps, this::loss),
                        got.get("dInit.c" + d), 2e-4, 2e-3);
            }
            double[][] all = params[d].all();
            for (int k = 0; k < all.length; k++) {
                close(what + " grad" + k + "." + d, OptionsOracle.centralDifferences(all[k], eps, this::loss),
                        got.get("grad" + k + "." + d), 2e-4, 2e-3);
            }
        }
    }

    static LayerNormParams layerNorm(Backend be, List<Tensor> made, OptionsOracle.Weights w, Cell cell, int h) {
        int gh = cell.gates() * h;
        return new LayerNormParams(keep(made, be.tensor(f(w.lnGainIh()), gh)),
                keep(made, be.tensor(f(w.lnBiasIh()), gh)), keep(made, be.tensor(f(w.lnGainHh()), gh)),
                keep(made, be.tensor(f(w.lnBiasHh()), gh)),
                w.lnGainC() == null ? null : keep(made, be.tensor(f(w.lnGainC()), h)),
                w.lnBiasC() == null ? null : keep(made, be.tensor(f(w.lnBiasC()), h)));
    }

    /**
     * The oracle's weights from the matrices, biases, peephole and weight_hr (nulls where absent)
     * and {@code ln} = {gainIh, biasIh, gainHh, biasHh, gainC, biasC} or null (no layer norm).
     */
    static OptionsOracle.Weights weights(double[] wIh, double[] wHh, double[] bIh, double[] bHh, double[] peep,
                                         double[] wHr, double[][] ln) {
        return ln == null ? new OptionsOracle.Weights(wIh, wHh, bIh, bHh, peep, wHr, null, null, null, null, null, null)
                : new OptionsOracle.Weights(wIh, wHh, bIh, bHh, peep, wHr, ln[0], ln[1], ln[2], ln[3], ln[4], ln[5]);
    }

    static <T> PerDirection<T> pair(T[] v) {
        return new PerDirection<>(v[0], v[1]);
    }

    static Tensor keep(List<Tensor> made, Tensor t) {
        made.add(t);
        return t;
    }

    /**
     * Random values that float32 holds exactly (so the float64 oracle sees the engine's inputs), in
     * (-scale, scale).
     */
    static double[] random(SplittableRandom rnd, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    /** {@code v} rounded to float32. */
    static float[] f(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }
}
