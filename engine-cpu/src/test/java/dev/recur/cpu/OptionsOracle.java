package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.TensorOps;

/**
 * The float64 test oracle of the whole {@link CellOptions} / {@link dev.recur.api.StepControl}
 * contract: layer normalisation, recurrent dropout, zoneout, projection, step masks with holes
 * and lengths, written as plain loops straight from CellOptions' class javadoc, one sequence at a
 * time, one step at a time. Written for clarity, never used by the product.
 *
 * <p>Widths: H the hidden size, P {@code opt.projectionSize()}, R {@code opt.recurrentWidth(H)},
 * S {@code opt.stateWidth(cell, H)}. Layouts: {@code x [T, B, I]}, {@code y [T, B, R]},
 * {@code h0/hT [B, S]}, {@code c0/cT [B, H]}, weights as in PyTorch ({@code wIh [G*H, I]},
 * {@code wHh [G*H, R]}, {@code wHr [P, H]}, gate blocks stacked).
 *
 * <p>Random numbers: {@code u = TensorOps.uniform(seed, counter + index)} with the indices of
 * CellOptions' "Random draws" ({@code b*R + j} for the recurrent dropout,
 * {@code B*R + (t*B + b)*S + j} for the zoneout of h, {@code B*R + T*B*S + (t*B + b)*H + j} for
 * the zoneout of c, t the real time index). The comparisons {@code u >= p} and {@code u < p} are
 * made in float, as the engines make them, so the oracle picks exactly their masks.
 *
 * <p>Backward: the gradients a backward computes for the seeds {@code dy, dhT, dcT} are those of
 * {@link #loss}, which tests take by {@link #centralDifferences} of this forward. Public, in
 * engine-cpu's test jar, because engine-cuda's tests hold the CUDA engine (and the CPU engine on
 * the CUDA tests' calls) against this same oracle.
 */
public final class OptionsOracle {

    private OptionsOracle() {
    }

    /**
     * Parameters in float64; nulls where the cell or the options have none. {@code wIh [G*H, I]},
     * {@code wHh [G*H, R]}, {@code bIh/bHh [G*H]}, {@code peep [3H]} (LSTM_PEEPHOLE),
     * {@code wHr [P, H]} (projection), layer-norm gains and biases {@code [G*H]} ({@code Ih},
     * {@code Hh}) and {@code [H]} ({@code C}, cells with a cell state).
     */
    public record Weights(double[] wIh, double[] wHh, double[] bIh, double[] bHh, double[] peep, double[] wHr,
                          double[] lnGainIh, double[] lnBiasIh, double[] lnGainHh, double[] lnBiasHh,
                          double[] lnGainC, double[] lnBiasC) {

        /** A deep copy (the arrays cloned, nulls kept). */
        public Weights copy() {
            return new Weights(clone(wIh), clone(wHh), clone(bIh), clone(bHh), clone(peep), clone(wHr),
                    clone(lnGainIh), clone(lnBiasIh), clone(lnGainHh), clone(lnBiasHh), clone(lnGainC),
                    clone(lnBiasC));
        }

        /** Zeros of the same shapes (nulls kept): where a backward accumulates its gradients. */
        public Weights zeros() {
            return new Weights(zerosOf(wIh), zerosOf(wHh), zerosOf(bIh), zerosOf(bHh), zerosOf(peep), zerosOf(wHr),
                    zerosOf(lnGainIh), zerosOf(lnBiasIh), zerosOf(lnGainHh), zerosOf(lnBiasHh), zerosOf(lnGainC),
                    zerosOf(lnBiasC));
        }

        /** The 12 arrays themselves (not copies, so writes reach this record) in record order, nulls where absent. */
        public double[][] arrays() {
            return new double[][] {wIh, wHh, bIh, bHh, peep, wHr, lnGainIh, lnBiasIh, lnGainHh, lnBiasHh, lnGainC,
                    lnBiasC};
        }

        /**
         * The arrays present, nulls left out: the order of {@link dev.recur.api.LayerParams#tensors()}
         * (weights, biases, peephole, weight_hr, then the layer norm's gains and biases).
         */
        public double[][] all() {
            return java.util.Arrays.stream(arrays()).filter(java.util.Objects::nonNull).toArray(double[][]::new);
        }

        private static double[] clone(double[] a) {
            return a == null ? null : a.clone();
        }

        private static double[] zerosOf(double[] a) {
            return a == null ? null : new double[a.length];
        }
    }

    /** {@code y [T, B, R]}, {@code hT [B, S]}, {@code cT [B, H]} (null without a cell state). */
    public record Result(double[] y, double[] hT, double[] cT) {
    }

    /**
     * One direction of a layer call. {@code training} false is inference: no recurrent dropout
     * ({@code m = 1}) and the zoneout expectation ({@code d = p}). {@code mask [T*B]} (1 runs the
     * step, 0 skips it) or null; {@code lengths [B]} or null (all T); {@code h0 [B, S]},
     * {@code c0 [B, H]} or null (zeros). {@code counter} is this direction's first counter value
     * (the reverse direction of a bidirectional call passes {@code counter + opt.draws(...)}).
     */
    public static Result forward(Cell cell, CellOptions opt, boolean training, Direction dir, int steps, int batch,
                                 int in, int hidden, double[] x, int[] lengths, byte[] mask, long seed, long counter,
                                 double[] h0, double[] c0, Weights w) {
        opt.check(cell, hidden);
        int r = opt.recurrentWidth(hidden);
        int s = opt.stateWidth(cell, hidden);
        double[] y = new double[steps * batch * r]; // [T, B, R]
        double[] hT = new double[batch * s];         // [B, S]
        double[] cT = cell.hasCellState() ? new double[batch * hidden] : null; // [B, H]
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? steps : lengths[b];
            double[] h = new double[s];
            double[] c = new double[hidden];
            for (int j = 0; j < s; j++) {
                h[j] = h0 == null ? 0 : h0[b * s + j];
            }
            for (int j = 0; j < hidden; j++) {
                c[j] = c0 == null || !cell.hasCellState() ? 0 : c0[b * hidden + j];
            }
            // Recurrent dropout: one mask [R] per sequence and call, the same at every step and gate.
            double[] m = new double[r];
            for (int j = 0; j < r; j++) {
                m[j] = 1;
                if (training && opt.recurrentDropout() > 0f) {
                    float u = TensorOps.uniform(seed, counter + (long) b * r + j);
                    m[j] = u >= opt.recurrentDropout() ? 1.0 / (1.0 - opt.recurrentDropout()) : 0.0;
                }
            }
            double[] lastY = new double[r]; // the previous output of this sequence: 0 before the first step that ran
            for (int k = 0; k < len; k++) {
                int t = dir == Direction.FORWARD ? k : len - 1 - k;
                if (mask != null && mask[t * batch + b] == 0) {
                    // A hole: the state carries over, the output repeats the previous one.
                    System.arraycopy(lastY, 0, y, (t * batch + b) * r, r);
                    continue;
                }
                double[] xt = new double[in];
                System.arraycopy(x, (t * batch + b) * in, xt, 0, in);
                double[] out = step(cell, opt, training, steps, batch, in, hidden, t, b, seed, counter, xt, m, h, c, w);
                System.arraycopy(out, 0, y, (t * batch + b) * r, r);
                lastY = out;
            }
            System.arraycopy(h, 0, hT, b * s, s);
            if (cT != null) {
                System.arraycopy(c, 0, cT, b * hidden, hidden);
            }
        }
        return new Result(y, hT, cT);
    }

    /**
     * One step of sequence b at real time t: updates {@code h [S]} and {@code c [H]} in place and
     * returns the output {@code y_t [R]}. {@code m [R]} is the recurrent dropout mask.
     */
    static double[] step(Cell cell, CellOptions opt, boolean training, int steps, int batch, int in, int hidden,
                         int t, int b, long seed, long counter, double[] x, double[] m, double[] h, double[] c,
                         Weights w) {
        int g = cell.gates();
        int gh = g * hidden;
        int p = opt.projectionSize();
        int r = opt.recurrentWidth(hidden);
        int s = opt.stateWidth(cell, hidden);
        boolean gruFamily = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;

        // 1. The recurrent input r_{t-1} [R]: the projected GRU feeds back W_hr h_{t-1}.
        double[] rec = gruFamily && p > 0 ? matVec(w.wHr(), p, hidden, h) : h.clone();
        // 2. Recurrent dropout.
        double[] q = new double[r];
        for (int j = 0; j < r; j++) {
            q[j] = m[j] * rec[j];
        }
        // 3. Pre-activations without biases. The original GRU's n block of a_h needs r, below.
        double[] ax = matVec(w.wIh(), gh, in, x); // [G*H]
        double[] ah = matVec(w.wHh(), gh, r, q);  // [G*H]
        // 4. Layer normalisation per gate block, then the biases.
        if (opt.layerNorm()) {
            for (int k = 0; k < g; k++) {
                layerNormBlock(ax, k * hidden, hidden, w.lnGainIh(), w.lnBiasIh());
                if (!(cell == Cell.GRU_ORIGINAL && k == 2)) {
                    layerNormBlock(ah, k * hidden, hidden, w.lnGainHh(), w.lnBiasHh());
                }
            }
        }
        for (int k = 0; k < gh; k++) {
            ax[k] += w.bIh()[k];
            if (!(cell == Cell.GRU_ORIGINAL && k >= 2 * hidden)) {
                ah[k] += w.bHh()[k];
            }
        }

        // 5. The cell's gate math: candidates hNew [S] (before zoneout) and cNew [H].
        double[] hNew = new double[s];
        double[] cNew = new double[hidden];
        switch (cell) {
            case RNN_TANH, RNN_RELU -> {
                for (int u = 0; u < hidden; u++) {
                    double a = ax[u] + ah[u];
                    hNew[u] = cell == Cell.RNN_TANH ? Math.tanh(a) : Math.max(0, a);
                }
            }
            case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                double[] pp = w.peep();
                double[] og = new double[hidden];
                for (int u = 0; u < hidden; u++) {
                    if (cell == Cell.LSTM_COUPLED) {
                        double fg = sigmoid(ax[u] + ah[u]);
                        double gg = Math.tanh(ax[hidden + u] + ah[hidden + u]);
                        og[u] = sigmoid(ax[2 * hidden + u] + ah[2 * hidden + u]);
                        cNew[u] = fg * c[u] + (1 - fg) * gg;
                    } else {
                        double ig = sigmoid(ax[u] + ah[u] + (pp == null ? 0 : pp[u] * c[u]));
                        double fg = sigmoid(ax[hidden + u] + ah[hidden + u] + (pp == null ? 0 : pp[hidden + u] * c[u]));
                        double gg = Math.tanh(ax[2 * hidden + u] + ah[2 * hidden + u]);
                        cNew[u] = fg * c[u] + ig * gg;
                        // The peephole p_o reads c̃, the candidate before zoneout.
                        og[u] = sigmoid(ax[3 * hidden + u] + ah[3 * hidden + u]
                                + (pp == null ? 0 : pp[2 * hidden + u] * cNew[u]));
                    }
                }
                double[] cn = cNew.clone();
                if (opt.layerNorm()) {
                    layerNormBlock(cn, 0, hidden, w.lnGainC(), w.lnBiasC());
                }
                double[] full = new double[hidden]; // o ⊙ tanh(LN(c̃)) [H]
                for (int u = 0; u < hidden; u++) {
                    full[u] = og[u] * Math.tanh(cn[u]);
                }
                hNew = p > 0 ? matVec(w.wHr(), p, hidden, full) : full;
            }
            case GRU, GRU_ORIGINAL -> {
                double[] rg = new double[hidden];
                for (int u = 0; u < hidden; u++) {
                    rg[u] = sigmoid(ax[u] + ah[u]);
                }
                double[] an = new double[hidden]; // the recurrent part of the n block
                if (cell == Cell.GRU) {
                    for (int u = 0; u < hidden; u++) {
                        an[u] = rg[u] * ah[2 * hidden + u]; // r ⊙ (LN(W_hn q) + b_hn)
                    }
                } else {
                    // W_hn (r ⊙ q). With a projection r [H] gates the state before it is
                    // projected (the recurrent matrix factored as W_hn W_hr, as in LSTMP):
                    // q_n = m ⊙ W_hr (r ⊙ h_{t-1}); without one this is r ⊙ m ⊙ h_{t-1} = r ⊙ q.
                    double[] rh = new double[hidden];
                    for (int u = 0; u < hidden; u++) {
                        rh[u] = rg[u] * h[u];
                    }
                    double[] rq = p > 0 ? matVec(w.wHr(), p, hidden, rh) : rh;
                    for (int j = 0; j < r; j++) {
                        rq[j] *= m[j];
                    }
                    for (int u = 0; u < hidden; u++) {
                        double sum = 0;
                        for (int j = 0; j < r; j++) {
                            sum += w.wHh()[(2 * hidden + u) * r + j] * rq[j];
                        }
                        an[u] = sum;
                    }
                    if (opt.layerNorm()) {
                        layerNormBlock(an, 0, hidden, slice(w.lnGainHh(), 2 * hidden, hidden),
                                slice(w.lnBiasHh(), 2 * hidden, hidden));
                    }
                    for (int u = 0; u < hidden; u++) {
                        an[u] += w.bHh()[2 * hidden + u];
                    }
                }
                for (int u = 0; u < hidden; u++) {
                    double z = sigmoid(ax[hidden + u] + ah[hidden + u]);
                    double n = Math.tanh(ax[2 * hidden + u] + an[u]);
                    // z ⊙ h_{t-1} reads the undropped, unprojected state.
                    hNew[u] = (1 - z) * n + z * h[u];
                }
            }
        }

        // 6. Zoneout: d = 1 keeps the previous value; inference uses the expectation d = p.
        long hBase = counter + (long) batch * r + ((long) t * batch + b) * s;
        for (int j = 0; j < s; j++) {
            double d = zoneout(opt.zoneoutH(), training, seed, hBase + j);
            h[j] = d * h[j] + (1 - d) * hNew[j];
        }
        if (cell.hasCellState()) {
            long cBase = counter + (long) batch * r + (long) steps * batch * s + ((long) t * batch + b) * hidden;
            for (int j = 0; j < hidden; j++) {
                double d = zoneout(opt.zoneoutC(), training, seed, cBase + j);
                c[j] = d * c[j] + (1 - d) * cNew[j];
            }
        }

        // 7. The output: h_t, or the projected GRU's W_hr h_t.
        return gruFamily && p > 0 ? matVec(w.wHr(), p, hidden, h) : h.clone();
    }

    /** The zoneout keep-factor of one unit: 0 when off, p at inference, else 1 iff {@code u < p}. */
    private static double zoneout(float prob, boolean training, long seed, long index) {
        if (prob == 0f) {
            return 0;
        }
        if (!training) {
            return prob;
        }
        return TensorOps.uniform(seed, index) < prob ? 1 : 0;
    }

    /**
     * Normalises {@code v[from, from+n)} in place: {@code γ ⊙ (v - μ) / sqrt(σ² + ε) + β} with μ
     * and the biased σ² over the n values, γ and β read at the same positions of
     * {@code gain/bias} (whose length is either the whole of v or exactly n).
     */
    static void layerNormBlock(double[] v, int from, int n, double[] gain, double[] bias) {
        int off = gain.length == n ? 0 : from;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += v[from + i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = v[from + i] - mean;
            var += d * d;
        }
        var /= n;
        double inv = 1 / Math.sqrt(var + CellOptions.LAYER_NORM_EPSILON);
        for (int i = 0; i < n; i++) {
            v[from + i] = gain[off + i] * (v[from + i] - mean) * inv + bias[off + i];
        }
    }

    /** {@code a [rows, cols]} times {@code v [cols]}. */
    static double[] matVec(double[] a, int rows, int cols, double[] v) {
        double[] out = new double[rows];
        for (int i = 0; i < rows; i++) {
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += a[i * cols + j] * v[j];
            }
            out[i] = sum;
        }
        return out;
    }

    private static double[] slice(double[] a, int from, int n) {
        double[] out = new double[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /**
     * {@code Σ dy⊙y + Σ dhT⊙hT + Σ dcT⊙cT}: the scalar whose gradients a backward given the seeds
     * {@code dy [T, B, R]}, {@code dhT [B, S]} and {@code dcT [B, H]} (null: no cell-state term)
     * computes.
     */
    public static double loss(Result out, double[] dy, double[] dhT, double[] dcT) {
        double sum = dot(out.y(), dy) + dot(out.hT(), dhT);
        if (out.cT() != null && dcT != null) {
            sum += dot(out.cT(), dcT);
        }
        return sum;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /**
     * The central difference {@code (f(v + eps) - f(v - eps)) / 2eps} of {@code f} in every entry
     * of {@code v}, which is perturbed in place and restored after each entry.
     */
    public static double[] centralDifferences(double[] v, double eps, java.util.function.DoubleSupplier f) {
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

    /**
     * Random weights for tests: every matrix, bias, peephole and layer-norm bias uniform in
     * [-scale, scale], layer-norm gains in [1 - scale, 1 + scale]; nulls where {@code cell} and
     * {@code opt} have none.
     */
    static Weights random(java.util.Random rnd, Cell cell, CellOptions opt, int in, int hidden, double scale) {
        int gh = cell.gates() * hidden;
        int r = opt.recurrentWidth(hidden);
        int p = opt.projectionSize();
        boolean ln = opt.layerNorm();
        boolean hasC = cell.hasCellState();
        return new Weights(
                uniform(rnd, gh * in, 0, scale),
                uniform(rnd, gh * r, 0, scale),
                uniform(rnd, gh, 0, scale),
                uniform(rnd, gh, 0, scale),
                cell.peepholes() > 0 ? uniform(rnd, cell.peepholes() * hidden, 0, scale) : null,
                p > 0 ? uniform(rnd, p * hidden, 0, scale) : null,
                ln ? uniform(rnd, gh, 1, scale) : null,
                ln ? uniform(rnd, gh, 0, scale) : null,
                ln ? uniform(rnd, gh, 1, scale) : null,
                ln ? uniform(rnd, gh, 0, scale) : null,
                ln && hasC ? uniform(rnd, hidden, 1, scale) : null,
                ln && hasC ? uniform(rnd, hidden, 0, scale) : null);
    }

    private static double[] uniform(java.util.Random rnd, int n, double centre, double scale) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = centre + (2 * rnd.nextDouble() - 1) * scale;
        }
        return a;
    }
}
