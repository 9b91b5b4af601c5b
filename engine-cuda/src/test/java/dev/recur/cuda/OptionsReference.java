package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.TensorOps;

/**
 * A float64 forward of one direction of a layer with {@link CellOptions} and a step mask,
 * written from the contract's text (CellOptions "One step" and "Random draws", StepControl) one
 * sequence and one step at a time, for clarity and never for speed: the oracle the option path's
 * tests hold the CUDA engine against, forward directly and backward through central differences
 * of {@link #loss}.
 *
 * <p>Parameters in PyTorch's layout, row-major: {@code wIh [G*H, I]}, {@code wHh [G*H, R]},
 * biases {@code [G*H]}, {@code peep [3H]} or null, {@code wHr [P, H]} or null, and with layer
 * normalisation {@code ln} = {gainIh [G*H], biasIh [G*H], gainHh [G*H], biasHh [G*H], gainC [H],
 * biasC [H]} (the last two null for the GRU), else null.
 */
final class OptionsReference {

    private OptionsReference() {
    }

    /** One direction's parameters (or their gradients), in float64. */
    record Params(double[] wIh, double[] wHh, double[] bIh, double[] bHh, double[] peep, double[] wHr,
                  double[][] ln) {

        /** Every array, in LayerParams.tensors()'s order, nulls left out. */
        double[][] all() {
            java.util.List<double[]> a = new java.util.ArrayList<>(java.util.List.of(wIh, wHh, bIh, bHh));
            if (peep != null) {
                a.add(peep);
            }
            if (wHr != null) {
                a.add(wHr);
            }
            if (ln != null) {
                for (double[] v : ln) {
                    if (v != null) {
                        a.add(v);
                    }
                }
            }
            return a.toArray(double[][]::new);
        }
    }

    /** LN over v[from, from + n), gain and bias from their index from on: γ (v - μ) / sqrt(σ² + ε) + β, σ² biased. */
    static void layerNorm(double[] v, int from, int n, double[] gain, double[] bias, int at) {
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += v[from + i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            var += (v[from + i] - mean) * (v[from + i] - mean);
        }
        var /= n;
        double rstd = 1 / Math.sqrt(var + CellOptions.LAYER_NORM_EPSILON);
        for (int i = 0; i < n; i++) {
            v[from + i] = gain[at + i] * (v[from + i] - mean) * rstd + bias[at + i];
        }
    }

    /** The problem: sizes, the call's mask, lengths and draws. */
    record Problem(Cell cell, CellOptions options, int steps, int batch, int input, int hidden, int[] lengths,
                   byte[] mask, long seed, boolean train) {

        int r() {
            return options.recurrentWidth(hidden);
        }

        int s() {
            return options.stateWidth(cell, hidden);
        }
    }

    /** y [T, B, R], hT [B, S], cT [B, H] (null without a cell state). */
    record Out(double[] y, double[] hT, double[] cT) {
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** The forward of direction {@code dir} drawing from {@code counter}; h0 [B, S] and c0 [B, H] may be null (zeros). */
    static Out forward(Problem pr, Direction dir, long counter, double[] x, Params p, double[] h0, double[] c0) {
        Cell cell = pr.cell();
        CellOptions o = pr.options();
        int T = pr.steps();
        int B = pr.batch();
        int I = pr.input();
        int H = pr.hidden();
        int R = pr.r();
        int S = pr.s();
        int P = o.projectionSize();
        int G = cell.gates();
        boolean lstm = cell.hasCellState();
        boolean gru = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;
        double[] y = new double[T * B * R];
        double[] hT = new double[B * S];
        double[] cT = lstm ? new double[B * H] : null;
        for (int b = 0; b < B; b++) {
            double[] h = new double[S];
            double[] c = new double[H];
            if (h0 != null) {
                System.arraycopy(h0, b * S, h, 0, S);
            }
            if (c0 != null && lstm) {
                System.arraycopy(c0, b * H, c, 0, H);
            }
            double[] last = new double[R];
            // Recurrent dropout: one mask per call, [B, R].
            double[] m = new double[R];
            for (int j = 0; j < R; j++) {
                m[j] = 1;
                if (pr.train() && o.recurrentDropout() > 0) {
                    float keep = 1.0f / (1.0f - o.recurrentDropout());
                    m[j] = TensorOps.uniform(pr.seed(), counter + (long) b * R + j) >= o.recurrentDropout() ? keep : 0;
                }
            }
            for (int s = 0; s < T; s++) {
                int t = dir == Direction.FORWARD ? s : T - 1 - s;
                boolean pad = pr.lengths() != null && t >= pr.lengths()[b];
                boolean hole = !pad && pr.mask() != null && pr.mask()[t * B + b] == 0;
                int yAt = (t * B + b) * R;
                if (pad) {
                    continue;   // y stays 0, state carries over
                }
                if (hole) {
                    System.arraycopy(last, 0, y, yAt, R);
                    continue;
                }
                double[] rPrev = gru && P > 0 ? matVec(p.wHr(), h, P, H) : h.clone();
                double[] q = new double[R];
                for (int j = 0; j < R; j++) {
                    q[j] = m[j] * rPrev[j];
                }
                // a_x = W_ih x, a_h = W_hh q, each gate block layer-normalised when asked, then the biases.
                double[] ax = new double[G * H];
                double[] ah = new double[G * H];
                for (int k = 0; k < G * H; k++) {
                    for (int i = 0; i < I; i++) {
                        ax[k] += p.wIh()[k * I + i] * x[(t * B + b) * I + i];
                    }
                    for (int j = 0; j < R; j++) {
                        ah[k] += p.wHh()[k * R + j] * q[j];
                    }
                }
                if (o.layerNorm()) {
                    for (int k = 0; k < G; k++) {
                        layerNorm(ax, k * H, H, p.ln()[0], p.ln()[1], k * H);
                        layerNorm(ah, k * H, H, p.ln()[2], p.ln()[3], k * H);
                    }
                }
                for (int k = 0; k < G * H; k++) {
                    ax[k] += p.bIh()[k];
                    ah[k] += p.bHh()[k];
                }
                double[] hTilde = new double[S];
                double[] cTilde = new double[H];
                switch (cell) {
                    case RNN_TANH, RNN_RELU -> {
                        for (int u = 0; u < H; u++) {
                            double a = ax[u] + ah[u];
                            hTilde[u] = cell == Cell.RNN_RELU ? Math.max(a, 0) : Math.tanh(a);
                        }
                    }
                    case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                        double[] hHat = new double[H];
                        for (int u = 0; u < H; u++) {
                            double cp = c[u];
                            double i;
                            double f;
                            double g;
                            double ao;
                            if (cell == Cell.LSTM_COUPLED) {
                                f = sigmoid(ax[u] + ah[u]);
                                i = 1 - f;
                                g = Math.tanh(ax[u + H] + ah[u + H]);
                                ao = ax[u + 2 * H] + ah[u + 2 * H];
                            } else {
                                double ai = ax[u] + ah[u];
                                double af = ax[u + H] + ah[u + H];
                                if (p.peep() != null) {
                                    ai += p.peep()[u] * cp;
                                    af += p.peep()[u + H] * cp;
                                }
                                i = sigmoid(ai);
                                f = sigmoid(af);
                                g = Math.tanh(ax[u + 2 * H] + ah[u + 2 * H]);
                                ao = ax[u + 3 * H] + ah[u + 3 * H];
                            }
                            cTilde[u] = f * cp + i * g;
                            if (p.peep() != null) {
                                ao += p.peep()[u + 2 * H] * cTilde[u];   // p_o reads c~
                            }
                            hHat[u] = sigmoid(ao);   // o, times tanh(c~ or LN(c~)) below
                        }
                        double[] cn = cTilde.clone();
                        if (o.layerNorm()) {
                            layerNorm(cn, 0, H, p.ln()[4], p.ln()[5], 0);
                        }
                        for (int u = 0; u < H; u++) {
                            hHat[u] *= Math.tanh(cn[u]);
                        }
                        hTilde = P > 0 ? matVec(p.wHr(), hHat, P, H) : hHat;
                    }
                    case GRU, GRU_ORIGINAL -> {
                        double[] rg = new double[H];
                        double[] z = new double[H];
                        for (int u = 0; u < H; u++) {
                            rg[u] = sigmoid(ax[u] + ah[u]);
                            z[u] = sigmoid(ax[u + H] + ah[u + H]);
                        }
                        double[] sn = new double[H];
                        if (cell == Cell.GRU_ORIGINAL) {
                            // W_hn (r ⊙ q), or with a projection W_hn (m ⊙ W_hr (r ⊙ h_{t-1})) (CellOptions).
                            double[] nIn = new double[R];
                            if (P > 0) {
                                double[] rh = new double[H];
                                for (int u = 0; u < H; u++) {
                                    rh[u] = rg[u] * h[u];
                                }
                                double[] pn = matVec(p.wHr(), rh, P, H);
                                for (int j = 0; j < P; j++) {
                                    nIn[j] = m[j] * pn[j];
                                }
                            } else {
                                for (int j = 0; j < R; j++) {
                                    nIn[j] = rg[j] * q[j];
                                }
                            }
                            double[] block = new double[G * H];
                            for (int u = 0; u < H; u++) {
                                for (int j = 0; j < R; j++) {
                                    block[2 * H + u] += p.wHh()[(2 * H + u) * R + j] * nIn[j];
                                }
                            }
                            if (o.layerNorm()) {
                                layerNorm(block, 2 * H, H, p.ln()[2], p.ln()[3], 2 * H);
                            }
                            System.arraycopy(block, 2 * H, sn, 0, H);
                        }
                        for (int u = 0; u < H; u++) {
                            double nIn;
                            if (cell == Cell.GRU) {
                                nIn = ax[u + 2 * H] + rg[u] * ah[u + 2 * H];
                            } else {
                                // LN(W_hn ...) + b_hn
                                nIn = ax[u + 2 * H] + sn[u] + p.bHh()[2 * H + u];
                            }
                            double n = Math.tanh(nIn);
                            hTilde[u] = (1 - z[u]) * n + z[u] * h[u];
                        }
                    }
                }
                // Zoneout, training draws or the expectation.
                for (int j = 0; j < S; j++) {
                    double d = zone(pr, o.zoneoutH(), counter + (long) B * R + ((long) t * B + b) * S + j);
                    h[j] = d * h[j] + (1 - d) * hTilde[j];
                }
                if (lstm) {
                    for (int u = 0; u < H; u++) {
                        double d = zone(pr, o.zoneoutC(),
                                counter + (long) B * R + (long) T * B * S + ((long) t * B + b) * H + u);
                        c[u] = d * c[u] + (1 - d) * cTilde[u];
                    }
                }
                double[] out = gru && P > 0 ? matVec(p.wHr(), h, P, H) : h;
                System.arraycopy(out, 0, y, yAt, R);
                System.arraycopy(out, 0, last, 0, R);
            }
            System.arraycopy(h, 0, hT, b * S, S);
            if (lstm) {
                System.arraycopy(c, 0, cT, b * H, H);
            }
        }
        return new Out(y, hT, cT);
    }

    private static double zone(Problem pr, float p, long index) {
        if (p == 0) {
            return 0;
        }
        if (!pr.train()) {
            return p;
        }
        return TensorOps.uniform(pr.seed(), index) < p ? 1 : 0;
    }

    /** w [rows, cols] · v [cols]. */
    private static double[] matVec(double[] w, double[] v, int rows, int cols) {
        double[] out = new double[rows];
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += w[i * cols + j] * v[j];
            }
            out[i] = s;
        }
        return out;
    }

    /** Σ dy·y + Σ dhT·hT + Σ dcT·cT: the scalar whose gradient a backward with these seeds computes. */
    static double loss(Out out, double[] dy, double[] dhT, double[] dcT) {
        double s = dot(out.y(), dy) + dot(out.hT(), dhT);
        if (out.cT() != null && dcT != null) {
            s += dot(out.cT(), dcT);
        }
        return s;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Central difference of {@code f} in every entry of {@code v} (restored after), step {@code eps}. */
    static double[] centralDifferences(double[] v, double eps, java.util.function.DoubleSupplier f) {
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double keep = v[i];
            v[i] = keep + eps;
            double up = f.getAsDouble();
            v[i] = keep - eps;
            double down = f.getAsDouble();
            v[i] = keep;
            g[i] = (up - down) / (2 * eps);
        }
        return g;
    }
}
