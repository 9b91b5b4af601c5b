package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;

import java.util.Arrays;
import java.util.Random;

/**
 * Random inputs for one recurrent-layer test, held in float32 (what the engine takes) and
 * readable as float64 (what the oracle takes), plus the weights of a scalar loss
 * {@code L = Σ y⊙wy + Σ hT⊙wh + Σ cT⊙wc}, whose gradients with respect to the outputs are
 * {@code wy, wh, wc}: they become {@code dy} and {@code dFin} of the backward.
 */
final class LayerCase {

    final Cell cell;
    final int steps;   // T
    final int batch;   // B
    final int in;      // I
    final int hs;      // H
    final int[] lengths;     // [B] or null
    final boolean bidirectional;
    final float[] x;         // [T, B, I]
    final float[][] h0;      // per direction [B, H] or null
    final float[][] c0;      // per direction [B, H] or null
    final float[][][] w;     // per direction: wIh, wHh, bIh, bHh, peep
    final float[] wy;        // [T, B, dirs*H]
    final float[][] wh;      // per direction [B, H]
    final float[][] wc;      // per direction [B, H] or null

    LayerCase(Cell cell, int steps, int batch, int in, int hs, int[] lengths, boolean initStates, boolean bidirectional,
              long seed) {
        this.cell = cell;
        this.steps = steps;
        this.batch = batch;
        this.in = in;
        this.hs = hs;
        this.lengths = lengths;
        this.bidirectional = bidirectional;
        int dirs = bidirectional ? 2 : 1;
        int gh = cell.gates() * hs;
        Random r = new Random(seed);
        x = uniform(r, steps * batch * in, 1.0f);
        h0 = new float[dirs][];
        c0 = new float[dirs][];
        w = new float[dirs][][];
        wh = new float[dirs][];
        wc = new float[dirs][];
        // Weights ~ U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initialises them, scaled up a little so the
        // gates are not all near their linear region.
        float scale = (float) (1.5 / Math.sqrt(hs));
        for (int d = 0; d < dirs; d++) {
            h0[d] = initStates ? uniform(r, batch * hs, 0.8f) : null;
            c0[d] = initStates && cell.hasCellState() ? uniform(r, batch * hs, 0.8f) : null;
            w[d] = new float[][] {uniform(r, gh * in, scale), uniform(r, gh * hs, scale), uniform(r, gh, scale),
                    uniform(r, gh, scale), cell.peepholes() > 0 ? uniform(r, 3 * hs, scale) : null};
            wh[d] = uniform(r, batch * hs, 1f);
            wc[d] = cell.hasCellState() ? uniform(r, batch * hs, 1f) : null;
        }
        wy = uniform(r, steps * batch * dirs * hs, 1f);
    }

    int dirs() {
        return bidirectional ? 2 : 1;
    }

    @Override
    public String toString() {
        return cell.id() + " T=" + steps + " B=" + batch + " I=" + in + " H=" + hs
                + (lengths == null ? "" : " lengths=" + Arrays.toString(lengths))
                + (h0[0] == null ? "" : " init") + (bidirectional ? " bidirectional" : "");
    }

    static float[] uniform(Random r, int n, float a) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextFloat() * 2 - 1) * a;
        }
        return v;
    }

    static double[] wide(float[] v) {
        if (v == null) {
            return null;
        }
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    Oracle.Weights oracleWeights(int d) {
        return new Oracle.Weights(wide(w[d][0]), wide(w[d][1]), wide(w[d][2]), wide(w[d][3]), wide(w[d][4]));
    }

    /** The loss of the oracle's outputs for direction index {@code d} (0 forward, 1 reverse). */
    double loss(int d, Oracle.Result res) {
        double l = 0;
        int width = dirs() * hs;
        for (int row = 0; row < steps * batch; row++) {
            for (int u = 0; u < hs; u++) {
                l += res.y()[row * hs + u] * wy[row * width + d * hs + u];
            }
        }
        for (int i = 0; i < batch * hs; i++) {
            l += res.hT()[i] * wh[d][i];
            if (res.cT() != null) {
                l += res.cT()[i] * wc[d][i];
            }
        }
        return l;
    }

    /** What the engine computed: outputs, then the gradients of the loss. */
    static final class EngineRun {
        float[] y;                 // [T, B, dirs*H]
        float[][] hT = new float[2][];
        float[][] cT = new float[2][];
        float[] dx;                // [T, B, I]
        float[][] dh0 = new float[2][];
        float[][] dc0 = new float[2][];
        float[][][] grads = new float[2][][]; // per direction: wIh, wHh, bIh, bHh, peep
    }

    /** Runs forward and backward of the whole-sequence op ({@code direction} ignored when bidirectional). */
    EngineRun runLayer(Backend be, Direction direction) {
        int dirs = dirs();
        EngineRun out = new EngineRun();
        try (Workspace ws = be.workspace(cell, steps, batch, in, hs, bidirectional);
             Tensor tx = be.tensor(x, steps, batch, in);
             Tensor ty = be.tensor(steps, batch, dirs * hs);
             Tensor tdy = be.tensor(wy, steps, batch, dirs * hs);
             Tensor tdx = be.tensor(steps, batch, in)) {
            State[] init = new State[dirs];
            State[] fin = new State[dirs];
            State[] dFin = new State[dirs];
            State[] dInit = new State[dirs];
            LayerParams[] params = new LayerParams[dirs];
            LayerParams[] grads = new LayerParams[dirs];
            for (int d = 0; d < dirs; d++) {
                init[d] = new State(h0[d] == null ? null : be.tensor(h0[d], batch, hs),
                        c0[d] == null ? null : be.tensor(c0[d], batch, hs));
                fin[d] = State.zeros(be, cell, batch, hs);
                dFin[d] = new State(be.tensor(wh[d], batch, hs), wc[d] == null ? null : be.tensor(wc[d], batch, hs));
                dInit[d] = State.zeros(be, cell, batch, hs);
                float[][] p = w[d];
                params[d] = new LayerParams(be.tensor(p[0], p[0].length / in, in), be.tensor(p[1], p[1].length / hs, hs),
                        be.tensor(p[2], p[2].length), be.tensor(p[3], p[3].length),
                        p[4] == null ? null : be.tensor(p[4], p[4].length));
                grads[d] = LayerParams.zeros(be, cell, in, hs);
            }
            if (bidirectional) {
                be.bidirectionalForward(cell, tx, lengths, new PerDirection<>(init[0], init[1]),
                        new PerDirection<>(params[0], params[1]), ty, new PerDirection<>(fin[0], fin[1]), ws);
                be.bidirectionalBackward(cell, tx, lengths, new PerDirection<>(params[0], params[1]), ws, tdy,
                        new PerDirection<>(dFin[0], dFin[1]), tdx, new PerDirection<>(dInit[0], dInit[1]),
                        new PerDirection<>(grads[0], grads[1]));
            } else {
                be.layerForward(cell, direction, tx, lengths, init[0], params[0], ty, fin[0], ws);
                be.layerBackward(cell, direction, tx, lengths, params[0], ws, tdy, dFin[0], tdx, dInit[0], grads[0]);
            }
            out.y = ty.toArray();
            out.dx = tdx.toArray();
            for (int d = 0; d < dirs; d++) {
                out.hT[d] = fin[d].h().toArray();
                out.cT[d] = fin[d].c() == null ? null : fin[d].c().toArray();
                out.dh0[d] = dInit[d].h().toArray();
                out.dc0[d] = dInit[d].c() == null ? null : dInit[d].c().toArray();
                LayerParams g = grads[d];
                out.grads[d] = new float[][] {g.weightIh().toArray(), g.weightHh().toArray(), g.biasIh().toArray(),
                        g.biasHh().toArray(), g.peephole() == null ? null : g.peephole().toArray()};
            }
        }
        return out;
    }
}
