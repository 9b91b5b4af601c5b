package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused element-wise part of each cell, forward and backward, for the rows of one step,
 * vectorised over hidden units with the Vector API.
 *
 * <p>Legend: H hidden units, G gate blocks; packed row {@code r = off + j} for running row
 * {@code j} of the step (see {@link StepPlan}); each method handles rows {@code from <= j < to},
 * so that a step's rows can be shared among threads. Gate pre-activations are
 * {@code a = gates[r] (x·W_ihᵀ + b_ih) + hg[j] (h_{t-1}·W_hhᵀ) + b_hh}; the forward overwrites
 * {@code gates[r]} with the activated gates, which is what the backward reads. The formulas are
 * those of {@link dev.recur.api.Cell}; each backward below is their derivative, written out.
 *
 * <p>Each loop walks the units of a row in whole vectors, then one masked vector for the rest of
 * H, through the same body, so every unit is computed by the same instructions whatever H is;
 * the result for a row never depends on the other rows (a packed batch and a single sequence give
 * the same bits).
 */
final class GateMath {

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    private static final FloatVector ONE = FloatVector.broadcast(SP, 1f);
    private static final FloatVector TWO = FloatVector.broadcast(SP, 2f);

    private GateMath() {
    }

    // ---------------------------------------------------------------- vector helpers

    private static FloatVector ld(float[] a, int off, VectorMask<Float> m) {
        return m == null ? FloatVector.fromArray(SP, a, off) : FloatVector.fromArray(SP, a, off, m);
    }

    private static void st(FloatVector v, float[] a, int off, VectorMask<Float> m) {
        if (m == null) {
            v.intoArray(a, off);
        } else {
            v.intoArray(a, off, m);
        }
    }

    /*
     * Note [Deterministic transcendentals]: the Vector API's lanewise EXP and TANH give different
     * bits before and after the JIT intrinsifies them (a Java fallback per lane, then a vector math
     * library), so results would change as the program warms up. exp below uses only IEEE-exact
     * operations (add, mul, fma, conversions of integral values), which give the same bits in the
     * interpreter and in compiled code, on every machine. Its polynomial is the classic Cephes
     * expf one (relative error about 1 ulp on [-87, 87]).
     */

    // Constants as vectors, so that every operation below is one vector instruction and the
    // functions stay small enough for the JIT to inline into the gate loops (a call that is not
    // inlined boxes its vectors and runs the Vector API's slow Java fallbacks).
    private static final FloatVector LOG2E = FloatVector.broadcast(SP, 1.44269504088896341f);
    private static final FloatVector NEG_LN2_HI = FloatVector.broadcast(SP, -0.693359375f);
    private static final FloatVector NEG_LN2_LO = FloatVector.broadcast(SP, 2.12194440e-4f);
    /** 1.5·2^23: adding then subtracting it rounds a float below 2^22 to the nearest integer. */
    private static final FloatVector ROUNDER = FloatVector.broadcast(SP, 12582912f);
    private static final FloatVector E1 = FloatVector.broadcast(SP, 1.9875691500e-4f);
    private static final FloatVector E2 = FloatVector.broadcast(SP, 1.3981999507e-3f);
    private static final FloatVector E3 = FloatVector.broadcast(SP, 8.3334519073e-3f);
    private static final FloatVector E4 = FloatVector.broadcast(SP, 4.1665795894e-2f);
    private static final FloatVector E5 = FloatVector.broadcast(SP, 1.6666665459e-1f);
    private static final FloatVector E6 = FloatVector.broadcast(SP, 5.0000001201e-1f);
    private static final FloatVector T1 = FloatVector.broadcast(SP, -5.70498872745e-3f);
    private static final FloatVector T2 = FloatVector.broadcast(SP, 2.06390887954e-2f);
    private static final FloatVector T3 = FloatVector.broadcast(SP, -5.37397155531e-2f);
    private static final FloatVector T4 = FloatVector.broadcast(SP, 1.33314422036e-1f);
    private static final FloatVector T5 = FloatVector.broadcast(SP, -3.33332819422e-1f);

    /** e^v for v in [-87, 87] (callers clamp), Cephes' expf polynomial with a 2^n scale. */
    static FloatVector exp(FloatVector v) {
        FloatVector n = v.fma(LOG2E, ROUNDER).sub(ROUNDER);       // round(v / ln 2)
        FloatVector r = n.fma(NEG_LN2_HI, v).add(n.mul(NEG_LN2_LO)); // v - n ln 2, in two parts
        FloatVector p = r.fma(E1, E2).fma(r, E3).fma(r, E4).fma(r, E5).fma(r, E6);
        p = p.fma(r.mul(r), r).add(ONE);                          // e^r
        return p.mul(n.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
    }

    /** σ(v) = 1 / (1 + e^{-v}); the input is clamped to ±80, where σ is 0 or 1 in float anyway. */
    static FloatVector sigmoid(FloatVector v) {
        return ONE.div(exp(v.neg().max(-80f).min(80f)).add(ONE));
    }

    /**
     * tanh(v): {@code 1 - 2/(e^{2|v|} + 1)} with the sign of v, and Cephes' odd polynomial below
     * |v| = 0.625, where that form would lose relative precision to cancellation.
     */
    static FloatVector tanh(FloatVector v) {
        FloatVector a = v.abs();
        FloatVector big = ONE.sub(TWO.div(exp(a.add(a).min(80f)).add(ONE)));
        FloatVector z = v.mul(v);
        FloatVector small = z.fma(T1, T2).fma(z, T3).fma(z, T4).fma(z, T5).mul(z).fma(v, v); // v + v·z·p(z)
        return big.blend(big.neg(), v.compare(VectorOperators.LT, 0f))
                .blend(small, a.compare(VectorOperators.LT, 0.625f));
    }

    /** {@code 1 - v⊙v}: the derivative of tanh at its output v. */
    private static FloatVector oneMinusSquare(FloatVector v) {
        return v.neg().fma(v, ONE);
    }

    /** {@code v⊙(1 - v)}: the derivative of the sigmoid at its output v. */
    private static FloatVector sigmoidSlope(FloatVector v) {
        return v.mul(v.neg().add(1f));
    }

    /** The mask for the last, partial vector of a row of {@code hs} units, or null if none. */
    private static VectorMask<Float> tail(int hs) {
        int full = SP.loopBound(hs);
        return full == hs ? null : SP.indexInRange(full, hs);
    }

    // ---------------------------------------------------------------- vanilla RNN (G = 1)

    static void rnnForward(boolean relu, int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh,
                           float[] h) {
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * hs;
            int q = j * hs;
            for (int u = 0; u < full; u += L) {
                rnnForward(relu, g + u, q + u, u, gates, hg, bhh, h, null);
            }
            if (last != null) {
                rnnForward(relu, g + full, q + full, full, gates, hg, bhh, h, last);
            }
        }
    }

    private static void rnnForward(boolean relu, int g, int q, int u, float[] gates, float[] hg, float[] bhh,
                                   float[] h, VectorMask<Float> m) {
        FloatVector a = ld(gates, g, m).add(ld(hg, q, m)).add(ld(bhh, u, m));
        FloatVector v = relu ? a.max(0f) : tanh(a);
        st(v, gates, g, m);
        st(v, h, q, m);
    }

    /** {@code dG = dh ⊙ act'(a)}, from the saved activation. */
    static void rnnBackward(boolean relu, int from, int to, int off, int hs, float[] gates, float[] dh, float[] dG) {
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * hs;
            int q = j * hs;
            for (int u = 0; u < full; u += L) {
                rnnBackward(relu, g + u, q + u, gates, dh, dG, null);
            }
            if (last != null) {
                rnnBackward(relu, g + full, q + full, gates, dh, dG, last);
            }
        }
    }

    private static void rnnBackward(boolean relu, int g, int q, float[] gates, float[] dh, float[] dG,
                                    VectorMask<Float> m) {
        FloatVector v = ld(gates, g, m);
        FloatVector d = ld(dh, q, m);
        FloatVector da = relu ? d.blend(0f, v.compare(VectorOperators.LE, 0f)) : d.mul(oneMinusSquare(v));
        st(da, dG, g, m);
    }

    // ---------------------------------------------------------------- LSTM family

    /**
     * LSTM step. Standard and peephole: blocks {@code i, f, g, o}; coupled: {@code f, g, o} with
     * {@code i = 1 - f}. Writes the activated gates, {@code c[j]}, {@code h[j]} and {@code cNext[r]};
     * reads {@code c_{t-1}} from {@code cPrev[r]}. {@code peep} is {@code [3H]} or null.
     *
     * <p>Each row runs as a few simple passes (add the biases, squash the gates, update the cell)
     * rather than one loop doing everything: a loop body with five inlined exponentials grows too
     * large for the JIT to keep the vectors in registers, and it fell back to boxed vectors, about
     * five times slower (measured here: 1.6 ms against 0.35 ms for 64 rows of H = 512).
     */
    static void lstmForward(boolean coupled, int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh,
                            float[] peep, float[] cPrev, float[] cNext, float[] h, float[] c) {
        int gh = (coupled ? 3 : 4) * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            addRow(gates, g, hg, j * gh, bhh, gh);
            if (coupled) {
                sigmoidRow(gates, g, hs);            // f
                tanhRow(gates, g + hs, hs);          // g
            } else {
                if (peep != null) {
                    fmaRow(gates, g, peep, 0, cPrev, sr, hs);       // a_i += p_i ⊙ c_{t-1}
                    fmaRow(gates, g + hs, peep, hs, cPrev, sr, hs); // a_f += p_f ⊙ c_{t-1}
                }
                sigmoidRow(gates, g, 2 * hs);        // i, f
                tanhRow(gates, g + 2 * hs, hs);      // g
            }
            for (int u = 0; u < full; u += L) {
                lstmCellState(coupled, hs, g + u, sr + u, sj + u, u, gates, peep, cPrev, cNext, c, null);
            }
            if (last != null) {
                lstmCellState(coupled, hs, g + full, sr + full, sj + full, full, gates, peep, cPrev, cNext, c, last);
            }
            int oAt = g + (coupled ? 2 : 3) * hs;
            sigmoidRow(gates, oAt, hs);              // o, after the peephole has read c_t
            for (int u = 0; u < full; u += L) {
                st(ld(gates, oAt + u, null).mul(tanh(ld(c, sj + u, null))), h, sj + u, null);
            }
            if (last != null) {
                st(ld(gates, oAt + full, last).mul(tanh(ld(c, sj + full, last))), h, sj + full, last);
            }
        }
    }

    /** {@code c = f⊙c_{t-1} + i⊙g} (i = 1 - f when coupled), and the peephole's {@code a_o += p_o⊙c}. */
    private static void lstmCellState(boolean coupled, int hs, int g, int sr, int sj, int u, float[] gates,
                                      float[] peep, float[] cPrev, float[] cNext, float[] c, VectorMask<Float> m) {
        FloatVector cp = ld(cPrev, sr, m);
        FloatVector cv;
        if (coupled) {
            FloatVector fv = ld(gates, g, m);
            cv = fv.mul(cp).add(fv.neg().add(1f).mul(ld(gates, g + hs, m)));
        } else {
            cv = ld(gates, g + hs, m).mul(cp).add(ld(gates, g, m).mul(ld(gates, g + 2 * hs, m)));
        }
        if (peep != null) {
            int oAt = g + 3 * hs;
            st(ld(peep, u + 2 * hs, m).fma(cv, ld(gates, oAt, m)), gates, oAt, m);
        }
        st(cv, cNext, sr, m);
        st(cv, c, sj, m);
    }

    /** {@code a[ao..ao+n) += b[bo..] + v[0..n)}. */
    private static void addRow(float[] a, int ao, float[] b, int bo, float[] v, int n) {
        int full = SP.loopBound(n);
        for (int i = 0; i < full; i += L) {
            FloatVector.fromArray(SP, a, ao + i).add(FloatVector.fromArray(SP, b, bo + i))
                    .add(FloatVector.fromArray(SP, v, i)).intoArray(a, ao + i);
        }
        if (full < n) {
            VectorMask<Float> m = SP.indexInRange(full, n);
            ld(a, ao + full, m).add(ld(b, bo + full, m)).add(ld(v, full, m)).intoArray(a, ao + full, m);
        }
    }

    /** {@code a[ao..ao+n) += p[po..] ⊙ x[xo..]}. */
    private static void fmaRow(float[] a, int ao, float[] p, int po, float[] x, int xo, int n) {
        int full = SP.loopBound(n);
        for (int i = 0; i < full; i += L) {
            FloatVector.fromArray(SP, p, po + i).fma(FloatVector.fromArray(SP, x, xo + i),
                    FloatVector.fromArray(SP, a, ao + i)).intoArray(a, ao + i);
        }
        if (full < n) {
            VectorMask<Float> m = SP.indexInRange(full, n);
            ld(p, po + full, m).fma(ld(x, xo + full, m), ld(a, ao + full, m)).intoArray(a, ao + full, m);
        }
    }

    /** σ in place over {@code a[o..o+n)}. */
    private static void sigmoidRow(float[] a, int o, int n) {
        int full = SP.loopBound(n);
        for (int i = 0; i < full; i += L) {
            sigmoid(FloatVector.fromArray(SP, a, o + i)).intoArray(a, o + i);
        }
        if (full < n) {
            VectorMask<Float> m = SP.indexInRange(full, n);
            sigmoid(ld(a, o + full, m)).intoArray(a, o + full, m);
        }
    }

    /** tanh in place over {@code a[o..o+n)}. */
    private static void tanhRow(float[] a, int o, int n) {
        int full = SP.loopBound(n);
        for (int i = 0; i < full; i += L) {
            tanh(FloatVector.fromArray(SP, a, o + i)).intoArray(a, o + i);
        }
        if (full < n) {
            VectorMask<Float> m = SP.indexInRange(full, n);
            tanh(ld(a, o + full, m)).intoArray(a, o + full, m);
        }
    }

    /**
     * LSTM backward of one step: from {@code dh[j]} (all that reaches {@code h_t}) and {@code dc[j]}
     * (what reaches {@code c_t} from step t+1), the pre-activation gradients {@code dG[r]}; then
     * {@code dc[j]} becomes the gradient reaching {@code c_{t-1}}.
     */
    static void lstmBackward(boolean coupled, int from, int to, int off, int hs, float[] gates, float[] peep, float[] cPrev,
                             float[] cNext, float[] dh, float[] dc, float[] dG) {
        int gh = (coupled ? 3 : 4) * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < full; u += L) {
                lstmBackward(coupled, hs, g + u, sr + u, sj + u, u, gates, peep, cPrev, cNext, dh, dc, dG, null);
            }
            if (last != null) {
                lstmBackward(coupled, hs, g + full, sr + full, sj + full, full, gates, peep, cPrev, cNext, dh, dc, dG,
                        last);
            }
        }
    }

    private static void lstmBackward(boolean coupled, int hs, int g, int sr, int sj, int u, float[] gates,
                                     float[] peep, float[] cPrev, float[] cNext, float[] dh, float[] dc, float[] dG,
                                     VectorMask<Float> m) {
        FloatVector cp = ld(cPrev, sr, m);
        FloatVector tc = tanh(ld(cNext, sr, m));
        FloatVector dhv = ld(dh, sj, m);
        FloatVector iv;
        FloatVector fv;
        FloatVector gv;
        FloatVector ov;
        if (coupled) {
            fv = ld(gates, g, m);
            gv = ld(gates, g + hs, m);
            ov = ld(gates, g + 2 * hs, m);
            iv = fv.neg().add(1f);
        } else {
            iv = ld(gates, g, m);
            fv = ld(gates, g + hs, m);
            gv = ld(gates, g + 2 * hs, m);
            ov = ld(gates, g + 3 * hs, m);
        }
        FloatVector dao = dhv.mul(tc).mul(sigmoidSlope(ov));
        FloatVector dct = ld(dc, sj, m).add(dhv.mul(ov).mul(oneMinusSquare(tc)));
        if (peep != null) {
            dct = dao.fma(ld(peep, u + 2 * hs, m), dct);
        }
        FloatVector dag = dct.mul(iv).mul(oneMinusSquare(gv));
        FloatVector dcp = dct.mul(fv);
        if (coupled) {
            st(dct.mul(cp.sub(gv)).mul(sigmoidSlope(fv)), dG, g, m);
            st(dag, dG, g + hs, m);
            st(dao, dG, g + 2 * hs, m);
        } else {
            FloatVector dai = dct.mul(gv).mul(sigmoidSlope(iv));
            FloatVector daf = dct.mul(cp).mul(sigmoidSlope(fv));
            if (peep != null) {
                dcp = dai.fma(ld(peep, u, m), dcp);
                dcp = daf.fma(ld(peep, u + hs, m), dcp);
            }
            st(dai, dG, g, m);
            st(daf, dG, g + hs, m);
            st(dag, dG, g + 2 * hs, m);
            st(dao, dG, g + 3 * hs, m);
        }
        st(dcp, dc, sj, m);
    }

    // ---------------------------------------------------------------- GRU, cuDNN/PyTorch form

    /** Saves {@code W_hn h + b_hn} in {@code hn[r]} for the backward. {@code hPrev[r]} is {@code h_{t-1}}. */
    static void gruForward(int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh, float[] hPrev,
                           float[] hn, float[] h) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            addRow(gates, g, hg, q, bhh, 2 * hs);   // r, z pre-activations (see lstmForward on splitting)
            sigmoidRow(gates, g, 2 * hs);
            for (int u = 0; u < full; u += L) {
                gruCandidate(hs, g + u, q + u, sr + u, sj + u, u, gates, hg, bhh, hPrev, hn, h, null);
            }
            if (last != null) {
                gruCandidate(hs, g + full, q + full, sr + full, sj + full, full, gates, hg, bhh, hPrev, hn, h, last);
            }
        }
    }

    private static void gruCandidate(int hs, int g, int q, int sr, int sj, int u, float[] gates, float[] hg,
                                     float[] bhh, float[] hPrev, float[] hn, float[] h, VectorMask<Float> m) {
        FloatVector r = ld(gates, g, m);
        FloatVector z = ld(gates, g + hs, m);
        FloatVector hnv = ld(hg, q + 2 * hs, m).add(ld(bhh, u + 2 * hs, m));
        FloatVector n = tanh(r.fma(hnv, ld(gates, g + 2 * hs, m)));
        st(n, gates, g + 2 * hs, m);
        st(hnv, hn, sr, m);
        // h = (1 - z)⊙n + z⊙h_{t-1} = n + z⊙(h_{t-1} - n)
        st(z.fma(ld(hPrev, sr, m).sub(n), n), h, sj, m);
    }

    /**
     * GRU backward: the input-side gradients {@code dGx = [da_r, da_z, da_n]} and the
     * recurrent-side ones {@code dGh = [da_r, da_z, r⊙da_n]} (they differ because {@code r} scales
     * {@code W_hn h + b_hn}); {@code dh[j]} becomes the direct part {@code z⊙dh} of the gradient
     * reaching {@code h_{t-1}} (the GEMM with W_hh adds the rest).
     */
    static void gruBackward(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] hn, float[] dh,
                            float[] dGx, float[] dGh) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < full; u += L) {
                gruBackward(hs, g + u, sr + u, sj + u, gates, hPrev, hn, dh, dGx, dGh, null);
            }
            if (last != null) {
                gruBackward(hs, g + full, sr + full, sj + full, gates, hPrev, hn, dh, dGx, dGh, last);
            }
        }
    }

    private static void gruBackward(int hs, int g, int sr, int sj, float[] gates, float[] hPrev, float[] hn,
                                    float[] dh, float[] dGx, float[] dGh, VectorMask<Float> m) {
        FloatVector r = ld(gates, g, m);
        FloatVector z = ld(gates, g + hs, m);
        FloatVector n = ld(gates, g + 2 * hs, m);
        FloatVector dhv = ld(dh, sj, m);
        FloatVector dan = dhv.mul(z.neg().add(1f)).mul(oneMinusSquare(n));
        FloatVector dar = dan.mul(ld(hn, sr, m)).mul(sigmoidSlope(r));
        FloatVector daz = dhv.mul(ld(hPrev, sr, m).sub(n)).mul(sigmoidSlope(z));
        st(dar, dGx, g, m);
        st(daz, dGx, g + hs, m);
        st(dan, dGx, g + 2 * hs, m);
        st(dar, dGh, g, m);
        st(daz, dGh, g + hs, m);
        st(dan.mul(r), dGh, g + 2 * hs, m);
        st(dhv.mul(z), dh, sj, m);
    }

    // ---------------------------------------------------------------- GRU, original form

    /** First half of the original GRU step: {@code r}, {@code z}, and {@code rh[r] = r⊙h_{t-1}}. */
    static void gruOriginalGates(int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh,
                                 float[] hPrev, float[] rh) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            addRow(gates, g, hg, j * gh, bhh, 2 * hs);
            sigmoidRow(gates, g, 2 * hs);
            for (int u = 0; u < full; u += L) {
                st(ld(gates, g + u, null).mul(ld(hPrev, sr + u, null)), rh, sr + u, null);
            }
            if (last != null) {
                st(ld(gates, g + full, last).mul(ld(hPrev, sr + full, last)), rh, sr + full, last);
            }
        }
    }

    /** Second half: {@code hg[j]}'s n block now holds {@code (r⊙h_{t-1})·W_hnᵀ}. */
    static void gruOriginalOutput(int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh, float[] hPrev,
                                  float[] h) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int q = j * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < full; u += L) {
                gruOriginalOutput(hs, g + u, q + u, sr + u, sj + u, u, gates, hg, bhh, hPrev, h, null);
            }
            if (last != null) {
                gruOriginalOutput(hs, g + full, q + full, sr + full, sj + full, full, gates, hg, bhh, hPrev, h, last);
            }
        }
    }

    private static void gruOriginalOutput(int hs, int g, int q, int sr, int sj, int u, float[] gates, float[] hg,
                                          float[] bhh, float[] hPrev, float[] h, VectorMask<Float> m) {
        FloatVector z = ld(gates, g + hs, m);
        FloatVector n = tanh(ld(gates, g + 2 * hs, m).add(ld(hg, q + 2 * hs, m)).add(ld(bhh, u + 2 * hs, m)));
        st(n, gates, g + 2 * hs, m);
        st(z.fma(ld(hPrev, sr, m).sub(n), n), h, sj, m);
    }

    /** Backward, first half: {@code da_z}, {@code da_n}; {@code dh[j]} becomes {@code z⊙dh}. */
    static void gruOriginalBackwardOutput(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] dh,
                                          float[] dG) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < full; u += L) {
                gruOriginalBackwardOutput(hs, g + u, sr + u, sj + u, gates, hPrev, dh, dG, null);
            }
            if (last != null) {
                gruOriginalBackwardOutput(hs, g + full, sr + full, sj + full, gates, hPrev, dh, dG, last);
            }
        }
    }

    private static void gruOriginalBackwardOutput(int hs, int g, int sr, int sj, float[] gates, float[] hPrev,
                                                  float[] dh, float[] dG, VectorMask<Float> m) {
        FloatVector z = ld(gates, g + hs, m);
        FloatVector n = ld(gates, g + 2 * hs, m);
        FloatVector dhv = ld(dh, sj, m);
        st(dhv.mul(ld(hPrev, sr, m).sub(n)).mul(sigmoidSlope(z)), dG, g + hs, m);
        st(dhv.mul(z.neg().add(1f)).mul(oneMinusSquare(n)), dG, g + 2 * hs, m);
        st(dhv.mul(z), dh, sj, m);
    }

    /**
     * Backward, second half: {@code dRh[j] = da_n·W_hn} is the gradient reaching {@code r⊙h_{t-1}};
     * gives {@code da_r} and adds {@code r⊙dRh} to {@code dh[j]}.
     */
    static void gruOriginalBackwardGates(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] dRh,
                                         float[] dh, float[] dG) {
        int gh = 3 * hs;
        int full = SP.loopBound(hs);
        VectorMask<Float> last = tail(hs);
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < full; u += L) {
                gruOriginalBackwardGates(g + u, sr + u, sj + u, gates, hPrev, dRh, dh, dG, null);
            }
            if (last != null) {
                gruOriginalBackwardGates(g + full, sr + full, sj + full, gates, hPrev, dRh, dh, dG, last);
            }
        }
    }

    private static void gruOriginalBackwardGates(int g, int sr, int sj, float[] gates, float[] hPrev, float[] dRh,
                                                 float[] dh, float[] dG, VectorMask<Float> m) {
        FloatVector r = ld(gates, g, m);
        FloatVector drh = ld(dRh, sj, m);
        st(drh.mul(ld(hPrev, sr, m)).mul(sigmoidSlope(r)), dG, g, m);
        st(drh.fma(r, ld(dh, sj, m)), dh, sj, m);
    }
}
