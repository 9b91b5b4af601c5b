package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;

/**
 * The float64 test oracle: each cell written as plain loops straight from the formulas in
 * {@link Cell}'s javadoc, one sequence at a time, one step at a time. Written for clarity, never
 * used by the product. Layouts: {@code x [T, B, I]}, states {@code [B, H]}, weights as in
 * PyTorch ({@code wIh [G*H, I]}, {@code wHh [G*H, H]}, gate blocks stacked).
 */
final class Oracle {

    private Oracle() {
    }

    /** Parameters in float64; {@code peep} is {@code [3H]} or null. */
    record Weights(double[] wIh, double[] wHh, double[] bIh, double[] bHh, double[] peep) {
        Weights copy() {
            return new Weights(wIh.clone(), wHh.clone(), bIh.clone(), bHh.clone(), peep == null ? null : peep.clone());
        }
    }

    /** {@code y [T, B, H]} (zero past each length), {@code hT}, {@code cT [B, H]} ({@code cT} null without c). */
    record Result(double[] y, double[] hT, double[] cT) {
    }

    static Result forward(Cell cell, Direction dir, int steps, int batch, int in, int hs, double[] x, int[] lengths,
                          double[] h0, double[] c0, Weights w) {
        double[] y = new double[steps * batch * hs];
        double[] hT = new double[batch * hs];
        double[] cT = cell.hasCellState() ? new double[batch * hs] : null;
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? steps : lengths[b];
            double[] h = new double[hs];
            double[] c = new double[hs];
            for (int u = 0; u < hs; u++) {
                h[u] = h0 == null ? 0 : h0[b * hs + u];
                c[u] = c0 == null ? 0 : c0[b * hs + u];
            }
            for (int s = 0; s < len; s++) {
                int t = dir == Direction.FORWARD ? s : len - 1 - s;
                double[] xt = new double[in];
                System.arraycopy(x, (t * batch + b) * in, xt, 0, in);
                step(cell, in, hs, xt, h, c, w);
                System.arraycopy(h, 0, y, (t * batch + b) * hs, hs);
            }
            System.arraycopy(h, 0, hT, b * hs, hs);
            if (cT != null) {
                System.arraycopy(c, 0, cT, b * hs, hs);
            }
        }
        return new Result(y, hT, cT);
    }

    /** One step; updates {@code h} and {@code c} in place. */
    static void step(Cell cell, int in, int hs, double[] x, double[] h, double[] c, Weights w) {
        int gh = cell.gates() * hs;
        double[] ax = new double[gh]; // W_ih x + b_ih
        double[] ah = new double[gh]; // W_hh h + b_hh
        for (int k = 0; k < gh; k++) {
            double sx = w.bIh()[k];
            for (int i = 0; i < in; i++) {
                sx += w.wIh()[k * in + i] * x[i];
            }
            double sh = w.bHh()[k];
            for (int j = 0; j < hs; j++) {
                sh += w.wHh()[k * hs + j] * h[j];
            }
            ax[k] = sx;
            ah[k] = sh;
        }
        double[] hNew = new double[hs];
        switch (cell) {
            case RNN_TANH, RNN_RELU -> {
                for (int u = 0; u < hs; u++) {
                    double a = ax[u] + ah[u];
                    hNew[u] = cell == Cell.RNN_TANH ? Math.tanh(a) : Math.max(0, a);
                }
            }
            case LSTM, LSTM_PEEPHOLE -> {
                double[] p = w.peep();
                for (int u = 0; u < hs; u++) {
                    double ig = sigmoid(ax[u] + ah[u] + (p == null ? 0 : p[u] * c[u]));
                    double fg = sigmoid(ax[hs + u] + ah[hs + u] + (p == null ? 0 : p[hs + u] * c[u]));
                    double gg = Math.tanh(ax[2 * hs + u] + ah[2 * hs + u]);
                    double cNew = fg * c[u] + ig * gg;
                    double og = sigmoid(ax[3 * hs + u] + ah[3 * hs + u] + (p == null ? 0 : p[2 * hs + u] * cNew));
                    c[u] = cNew;
                    hNew[u] = og * Math.tanh(cNew);
                }
            }
            case LSTM_COUPLED -> {
                for (int u = 0; u < hs; u++) {
                    double fg = sigmoid(ax[u] + ah[u]);
                    double gg = Math.tanh(ax[hs + u] + ah[hs + u]);
                    double og = sigmoid(ax[2 * hs + u] + ah[2 * hs + u]);
                    double cNew = fg * c[u] + (1 - fg) * gg;
                    c[u] = cNew;
                    hNew[u] = og * Math.tanh(cNew);
                }
            }
            case GRU -> {
                for (int u = 0; u < hs; u++) {
                    double r = sigmoid(ax[u] + ah[u]);
                    double z = sigmoid(ax[hs + u] + ah[hs + u]);
                    double n = Math.tanh(ax[2 * hs + u] + r * ah[2 * hs + u]);
                    hNew[u] = (1 - z) * n + z * h[u];
                }
            }
            case GRU_ORIGINAL -> {
                double[] rh = new double[hs];
                for (int u = 0; u < hs; u++) {
                    rh[u] = sigmoid(ax[u] + ah[u]) * h[u];
                }
                for (int u = 0; u < hs; u++) {
                    double z = sigmoid(ax[hs + u] + ah[hs + u]);
                    double an = ax[2 * hs + u] + w.bHh()[2 * hs + u];
                    for (int j = 0; j < hs; j++) {
                        an += w.wHh()[(2 * hs + u) * hs + j] * rh[j];
                    }
                    double n = Math.tanh(an);
                    hNew[u] = (1 - z) * n + z * h[u];
                }
            }
        }
        System.arraycopy(hNew, 0, h, 0, hs);
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
