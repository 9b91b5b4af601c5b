package dev.recur.cpu;

/**
 * The fused element-wise part of each cell, forward and backward, for the rows of one step.
 *
 * <p>Legend: H hidden units, G gate blocks; packed row {@code r = off + j} for running row
 * {@code j} of the step (see {@link StepPlan}). Gate pre-activations are
 * {@code a = gates[r] (x·W_ihᵀ + b_ih) + hg[j] (h_{t-1}·W_hhᵀ) + b_hh}; the forward overwrites
 * {@code gates[r]} with the activated gates, which is what the backward reads. The formulas are
 * those of {@link dev.recur.api.Cell}; each backward below is their derivative, written out.
 */
final class GateMath {

    private GateMath() {
    }

    static float sigmoid(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    static float tanh(float v) {
        return (float) Math.tanh(v);
    }

    // ---------------------------------------------------------------- vanilla RNN (G = 1)

    static void rnnForward(boolean relu, int rows, int off, int hs, float[] gates, float[] hg, float[] bhh,
                           float[] h) {
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * hs;
            int q = j * hs;
            for (int u = 0; u < hs; u++) {
                float a = gates[g + u] + hg[q + u] + bhh[u];
                float v = relu ? Math.max(a, 0f) : tanh(a);
                gates[g + u] = v;
                h[q + u] = v;
            }
        }
    }

    /** {@code dG = dh ⊙ act'(a)}, from the saved activation. */
    static void rnnBackward(boolean relu, int rows, int off, int hs, float[] gates, float[] dh, float[] dG) {
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * hs;
            int q = j * hs;
            for (int u = 0; u < hs; u++) {
                float v = gates[g + u];
                dG[g + u] = relu ? (v > 0f ? dh[q + u] : 0f) : dh[q + u] * (1f - v * v);
            }
        }
    }

    // ---------------------------------------------------------------- LSTM family

    /**
     * LSTM step. Standard and peephole: blocks {@code i, f, g, o}; coupled: {@code f, g, o} with
     * {@code i = 1 - f}. Writes the activated gates, {@code c[j]}, {@code h[j]} and {@code cNext[r]};
     * reads {@code c_{t-1}} from {@code cPrev[r]}. {@code peep} is {@code [3H]} or null.
     */
    static void lstmForward(boolean coupled, int rows, int off, int hs, float[] gates, float[] hg, float[] bhh,
                            float[] peep, float[] cPrev, float[] cNext, float[] h, float[] c) {
        int gh = (coupled ? 3 : 4) * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float cp = cPrev[sr + u];
                float iv;
                float fv;
                float gv;
                float ao;
                if (coupled) {
                    fv = sigmoid(gates[g + u] + hg[q + u] + bhh[u]);
                    gv = tanh(gates[g + hs + u] + hg[q + hs + u] + bhh[hs + u]);
                    ao = gates[g + 2 * hs + u] + hg[q + 2 * hs + u] + bhh[2 * hs + u];
                    iv = 1f - fv;
                } else {
                    float ai = gates[g + u] + hg[q + u] + bhh[u];
                    float af = gates[g + hs + u] + hg[q + hs + u] + bhh[hs + u];
                    if (peep != null) {
                        ai += peep[u] * cp;
                        af += peep[hs + u] * cp;
                    }
                    iv = sigmoid(ai);
                    fv = sigmoid(af);
                    gv = tanh(gates[g + 2 * hs + u] + hg[q + 2 * hs + u] + bhh[2 * hs + u]);
                    ao = gates[g + 3 * hs + u] + hg[q + 3 * hs + u] + bhh[3 * hs + u];
                }
                float cv = fv * cp + iv * gv;
                if (peep != null) {
                    ao += peep[2 * hs + u] * cv;
                }
                float ov = sigmoid(ao);
                if (coupled) {
                    gates[g + u] = fv;
                    gates[g + hs + u] = gv;
                    gates[g + 2 * hs + u] = ov;
                } else {
                    gates[g + u] = iv;
                    gates[g + hs + u] = fv;
                    gates[g + 2 * hs + u] = gv;
                    gates[g + 3 * hs + u] = ov;
                }
                cNext[sr + u] = cv;
                c[sj + u] = cv;
                h[sj + u] = ov * tanh(cv);
            }
        }
    }

    /**
     * LSTM backward of one step: from {@code dh[j]} (all that reaches {@code h_t}) and {@code dc[j]}
     * (what reaches {@code c_t} from step t+1), the pre-activation gradients {@code dG[r]}; then
     * {@code dc[j]} becomes the gradient reaching {@code c_{t-1}}.
     */
    static void lstmBackward(boolean coupled, int rows, int off, int hs, float[] gates, float[] peep, float[] cPrev,
                             float[] cNext, float[] dh, float[] dc, float[] dG) {
        int gh = (coupled ? 3 : 4) * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float cp = cPrev[sr + u];
                float cv = cNext[sr + u];
                float tc = tanh(cv);
                float dhv = dh[sj + u];
                float iv;
                float fv;
                float gv;
                float ov;
                if (coupled) {
                    fv = gates[g + u];
                    gv = gates[g + hs + u];
                    ov = gates[g + 2 * hs + u];
                    iv = 1f - fv;
                } else {
                    iv = gates[g + u];
                    fv = gates[g + hs + u];
                    gv = gates[g + 2 * hs + u];
                    ov = gates[g + 3 * hs + u];
                }
                float dao = dhv * tc * ov * (1f - ov);
                float dct = dc[sj + u] + dhv * ov * (1f - tc * tc);
                if (peep != null) {
                    dct += dao * peep[2 * hs + u];
                }
                float dag = dct * iv * (1f - gv * gv);
                float dcp = dct * fv;
                if (coupled) {
                    dG[g + u] = dct * (cp - gv) * fv * (1f - fv);
                    dG[g + hs + u] = dag;
                    dG[g + 2 * hs + u] = dao;
                } else {
                    float dai = dct * gv * iv * (1f - iv);
                    float daf = dct * cp * fv * (1f - fv);
                    if (peep != null) {
                        dcp += dai * peep[u] + daf * peep[hs + u];
                    }
                    dG[g + u] = dai;
                    dG[g + hs + u] = daf;
                    dG[g + 2 * hs + u] = dag;
                    dG[g + 3 * hs + u] = dao;
                }
                dc[sj + u] = dcp;
            }
        }
    }

    // ---------------------------------------------------------------- GRU, cuDNN/PyTorch form

    /** Saves {@code W_hn h + b_hn} in {@code hn[r]} for the backward. {@code hPrev[r]} is {@code h_{t-1}}. */
    static void gruForward(int rows, int off, int hs, float[] gates, float[] hg, float[] bhh, float[] hPrev,
                           float[] hn, float[] h) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float r = sigmoid(gates[g + u] + hg[q + u] + bhh[u]);
                float z = sigmoid(gates[g + hs + u] + hg[q + hs + u] + bhh[hs + u]);
                float hnv = hg[q + 2 * hs + u] + bhh[2 * hs + u];
                float n = tanh(gates[g + 2 * hs + u] + r * hnv);
                gates[g + u] = r;
                gates[g + hs + u] = z;
                gates[g + 2 * hs + u] = n;
                hn[sr + u] = hnv;
                h[sj + u] = (1f - z) * n + z * hPrev[sr + u];
            }
        }
    }

    /**
     * GRU backward: the input-side gradients {@code dGx = [da_r, da_z, da_n]} and the
     * recurrent-side ones {@code dGh = [da_r, da_z, r⊙da_n]} (they differ because {@code r} scales
     * {@code W_hn h + b_hn}); {@code dh[j]} becomes the direct part {@code z⊙dh} of the gradient
     * reaching {@code h_{t-1}} (the GEMM with W_hh adds the rest).
     */
    static void gruBackward(int rows, int off, int hs, float[] gates, float[] hPrev, float[] hn, float[] dh,
                            float[] dGx, float[] dGh) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float r = gates[g + u];
                float z = gates[g + hs + u];
                float n = gates[g + 2 * hs + u];
                float dhv = dh[sj + u];
                float dan = dhv * (1f - z) * (1f - n * n);
                float dar = dan * hn[sr + u] * r * (1f - r);
                float daz = dhv * (hPrev[sr + u] - n) * z * (1f - z);
                dGx[g + u] = dar;
                dGx[g + hs + u] = daz;
                dGx[g + 2 * hs + u] = dan;
                dGh[g + u] = dar;
                dGh[g + hs + u] = daz;
                dGh[g + 2 * hs + u] = dan * r;
                dh[sj + u] = dhv * z;
            }
        }
    }

    // ---------------------------------------------------------------- GRU, original form

    /** First half of the original GRU step: {@code r}, {@code z}, and {@code rh[r] = r⊙h_{t-1}}. */
    static void gruOriginalGates(int rows, int off, int hs, float[] gates, float[] hg, float[] bhh, float[] hPrev,
                                 float[] rh) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            for (int u = 0; u < hs; u++) {
                float r = sigmoid(gates[g + u] + hg[q + u] + bhh[u]);
                float z = sigmoid(gates[g + hs + u] + hg[q + hs + u] + bhh[hs + u]);
                gates[g + u] = r;
                gates[g + hs + u] = z;
                rh[sr + u] = r * hPrev[sr + u];
            }
        }
    }

    /** Second half: {@code hg[j]}'s n block now holds {@code (r⊙h_{t-1})·W_hnᵀ}. */
    static void gruOriginalOutput(int rows, int off, int hs, float[] gates, float[] hg, float[] bhh, float[] hPrev,
                                  float[] h) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float z = gates[g + hs + u];
                float n = tanh(gates[g + 2 * hs + u] + hg[q + 2 * hs + u] + bhh[2 * hs + u]);
                gates[g + 2 * hs + u] = n;
                h[sj + u] = (1f - z) * n + z * hPrev[sr + u];
            }
        }
    }

    /** Backward, first half: {@code da_z}, {@code da_n}; {@code dh[j]} becomes {@code z⊙dh}. */
    static void gruOriginalBackwardOutput(int rows, int off, int hs, float[] gates, float[] hPrev, float[] dh,
                                          float[] dG) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float z = gates[g + hs + u];
                float n = gates[g + 2 * hs + u];
                float dhv = dh[sj + u];
                dG[g + hs + u] = dhv * (hPrev[sr + u] - n) * z * (1f - z);
                dG[g + 2 * hs + u] = dhv * (1f - z) * (1f - n * n);
                dh[sj + u] = dhv * z;
            }
        }
    }

    /**
     * Backward, second half: {@code dRh[j] = da_n·W_hn} is the gradient reaching {@code r⊙h_{t-1}};
     * gives {@code da_r} and adds {@code r⊙dRh} to {@code dh[j]}.
     */
    static void gruOriginalBackwardGates(int rows, int off, int hs, float[] gates, float[] hPrev, float[] dRh,
                                         float[] dh, float[] dG) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u++) {
                float r = gates[g + u];
                float drh = dRh[sj + u];
                dG[g + u] = drh * hPrev[sr + u] * r * (1f - r);
                dh[sj + u] += drh * r;
            }
        }
    }
}
