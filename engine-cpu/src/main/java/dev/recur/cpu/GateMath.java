package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static jdk.incubator.vector.FloatVector.fromArray;

/**
 * The fused element-wise part of each cell, forward and backward, for the rows of one step,
 * vectorised over hidden units with the Vector API.
 *
 * <p>Legend: H hidden units, G gate blocks; packed row {@code r = off + j} for running row
 * {@code j} of the step (see {@link dev.recur.api.StepPlan}); each method handles rows {@code from <= j < to},
 * so that a step's rows can be shared among threads. Gate pre-activations are
 * {@code a = gates[r] (x·W_ihᵀ + b_ih) + hg[j] (h_{t-1}·W_hhᵀ) + b_hh}; the forward overwrites
 * {@code gates[r]} with the activated gates, which is what the backward reads.
 *
 * <p>The forward methods read the previous state from, and save what the backward needs into,
 * state rows {@code st + j} of {@code [rows, H]} arrays ({@code cPrev}, {@code cNext},
 * {@code hPrev}, {@code hn}, {@code rh}): a training forward passes {@code st = off}, the packed
 * row, so that every step keeps its own; inference passes {@code st = 0} with the running
 * {@code [B, H]} state itself as both the previous and the next state (each unit is read before
 * it is written, in the same vector iteration) and a {@code [B, H]} scratch for the rest, so it
 * saves nothing and computes the same bits. The formulas are
 * those of {@link dev.recur.api.Cell}; each backward below is their derivative, written out.
 *
 * <p>Each loop walks the units of a row in vectors under a mask that is whole except for the
 * last vector of a row whose H is not a multiple of the lanes, through one body, so every unit is
 * computed by the same instructions whatever H is; the result for a row never depends on the
 * other rows (a packed batch and a single sequence give the same bits). How the code is cut into
 * methods follows Note [Passes].
 */
final class GateMath {

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    private static final FloatVector ONE = FloatVector.broadcast(SP, 1f);
    private static final FloatVector TWO = FloatVector.broadcast(SP, 2f);

    private GateMath() {
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


    // ---------------------------------------------------------------- passes over one row
    //
    // Note [Passes]: what keeps this code compiled well by the JIT (JDK 25, measured here).
    // - A Vector API value that crosses a call the JIT does not inline is boxed and the API's Java
    //   fallbacks run: several times slower, with an allocation per vector operation.
    // - C2 stops inlining ordinary methods once a compilation grows past a node budget, and
    //   transcendentals cost many nodes. The helpers that used to load, store and square vectors,
    //   and exp/sigmoid/tanh themselves, were left out of line that way in the middle of inlined
    //   gate loops (seen: 420 MB allocated per backward of 100 steps of 64 x 512, 65-80 ms where
    //   a few ms do). Only the API's own @ForceInline methods are still inlined past it.
    // - C1 inlines @ForceInline methods too, and gives up ("out of virtual registers") on a
    //   method with too many vector operations: seen on a loop whose every load had a masked and
    //   an unmasked path, and on one LSTM backward loop serving the coupled and the standard cell
    //   (444 bytes). Such a method never reaches C2 and runs as slow tier-2 code for good.
    // So every loop body here calls the Vector API only, never a method of ours that takes or
    // returns a vector; masks come from indexInRange in the loop (one path for whole and partial
    // vectors); a transcendental is evaluated only by activate, which has exp written out; loop
    // methods stay small, one cell variant each where the bodies are long; and the row functions
    // only sequence passes that exchange arrays and indices. Whatever the JIT then inlines or not,
    // no vector crosses a call. exp, sigmoid and tanh above remain the reference for the
    // formulas; GateMathTest checks activate against them bit for bit, and
    // SteadyStateAllocationTest checks that compiled layers allocate (box) nothing.

    /** Selects the function of {@link #activate}. */
    static final boolean SIGMOID = false;
    static final boolean TANH = true;

    /**
     * {@code dst[d..d+n) = f(src[s..s+n))} with f = {@link #tanh} or {@link #sigmoid}, exactly
     * their operations (exp written out, see Note [Passes]); in place when the ranges are the same.
     */
    static void activate(boolean tanh, float[] src, int s, float[] dst, int d, int n) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            FloatVector v = fromArray(SP, src, s + u, m);
            FloatVector a = v.abs();
            // exp(x) of e^{2|v|} (tanh) or e^{-v} (σ), clamped as tanh() and sigmoid() clamp it
            FloatVector x = tanh ? a.add(a).min(80f) : v.neg().max(-80f).min(80f);
            FloatVector k = x.fma(LOG2E, ROUNDER).sub(ROUNDER);
            FloatVector r = k.fma(NEG_LN2_HI, x).add(k.mul(NEG_LN2_LO));
            FloatVector p = r.fma(E1, E2).fma(r, E3).fma(r, E4).fma(r, E5).fma(r, E6);
            p = p.fma(r.mul(r), r).add(ONE);
            FloatVector e = p.mul(k.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            FloatVector y;
            if (tanh) {
                FloatVector big = ONE.sub(TWO.div(e.add(ONE)));
                FloatVector z = v.mul(v);
                FloatVector small = z.fma(T1, T2).fma(z, T3).fma(z, T4).fma(z, T5).mul(z).fma(v, v);
                y = big.blend(big.neg(), v.compare(VectorOperators.LT, 0f))
                        .blend(small, a.compare(VectorOperators.LT, 0.625f));
            } else {
                y = ONE.div(e.add(ONE));
            }
            y.intoArray(dst, d + u, m);
        }
    }

    /** {@code a[ao..ao+n) += b[bo..] + v[vo..]}. */
    private static void addRow(float[] a, int ao, float[] b, int bo, float[] v, int vo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = SP.indexInRange(i, n);
            fromArray(SP, a, ao + i, m).add(fromArray(SP, b, bo + i, m)).add(fromArray(SP, v, vo + i, m))
                    .intoArray(a, ao + i, m);
        }
    }

    /** {@code a[ao..ao+n) += p[po..] ⊙ x[xo..]}. */
    private static void fmaRow(float[] a, int ao, float[] p, int po, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = SP.indexInRange(i, n);
            fromArray(SP, p, po + i, m).fma(fromArray(SP, x, xo + i, m), fromArray(SP, a, ao + i, m))
                    .intoArray(a, ao + i, m);
        }
    }

    /** {@code dst[d..d+n) = a[ao..] ⊙ b[bo..]}; in place when dst and a are the same range. */
    private static void mulRow(float[] a, int ao, float[] b, int bo, float[] dst, int d, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = SP.indexInRange(i, n);
            fromArray(SP, a, ao + i, m).mul(fromArray(SP, b, bo + i, m)).intoArray(dst, d + i, m);
        }
    }

    /*
     * Note [Unit slices]: the forward and backward methods also come in a form over hidden units [u0, u1) of
     * every row, for a time loop whose threads each own a slice of the units (CpuLayer's sliced
     * loop). Every operation is lane-wise, so a unit gets the same operations on the same operands
     * whichever slice or vector it falls in: the same bits as the whole-row form, which is that
     * form with [0, H).
     */

    // ---------------------------------------------------------------- vanilla RNN (G = 1)

    static void rnnForward(boolean relu, int from, int to, int off, int hs, float[] gates, float[] hg, float[] bhh,
                           float[] h) {
        rnnForward(relu, from, to, off, hs, 0, hs, gates, hg, bhh, h);
    }

    /** {@link #rnnForward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void rnnForward(boolean relu, int from, int to, int off, int hs, int u0, int u1, float[] gates, float[] hg,
                           float[] bhh, float[] h) {
        int n = u1 - u0;
        for (int j = from; j < to; j++) {
            int g = (off + j) * hs + u0;
            int q = j * hs + u0;
            addRow(gates, g, hg, q, bhh, u0, n);     // a = gates + hg + b_hh
            if (relu) {
                reluRow(gates, g, n);
            } else {
                activate(TANH, gates, g, gates, g, n);
            }
            System.arraycopy(gates, g, h, q, n);
        }
    }

    /** max(a, 0) in place over {@code a[o..o+n)}. */
    private static void reluRow(float[] a, int o, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = SP.indexInRange(i, n);
            fromArray(SP, a, o + i, m).max(0f).intoArray(a, o + i, m);
        }
    }

    /** {@code dG = dh ⊙ act'(a)}, from the saved activation. */
    static void rnnBackward(boolean relu, int from, int to, int off, int hs, float[] gates, float[] dh, float[] dG) {
        rnnBackward(relu, from, to, off, hs, 0, hs, gates, dh, dG);
    }

    /** {@link #rnnBackward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void rnnBackward(boolean relu, int from, int to, int off, int hs, int u0, int u1, float[] gates, float[] dh,
                            float[] dG) {
        int n = u1 - u0;
        for (int j = from; j < to; j++) {
            int g = (off + j) * hs + u0;
            int q = j * hs + u0;
            for (int u = 0; u < n; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, n);
                FloatVector v = fromArray(SP, gates, g + u, m);
                FloatVector d = fromArray(SP, dh, q + u, m);
                FloatVector da = relu ? d.blend(0f, v.compare(VectorOperators.LE, 0f))
                        : d.mul(v.neg().fma(v, ONE));               // dh ⊙ (1 - v²)
                da.intoArray(dG, g + u, m);
            }
        }
    }

    // ---------------------------------------------------------------- LSTM family

    /**
     * LSTM step. Standard and peephole: blocks {@code i, f, g, o}; coupled: {@code f, g, o} with
     * {@code i = 1 - f}. Writes the activated gates, {@code c[j]}, {@code h[j]} and {@code cNext[st + j]};
     * reads {@code c_{t-1}} from {@code cPrev[st + j]}. {@code peep} is {@code [3H]} or null.
     *
     * <p>Each row runs as a few passes: add the biases, squash the gates, update the cell, squash
     * o, then {@code h = tanh(c) ⊙ o} (Note [Passes]).
     */
    static void lstmForward(boolean coupled, int from, int to, int off, int st, int hs, float[] gates, float[] hg,
                            float[] bhh, float[] peep, float[] cPrev, float[] cNext, float[] h, float[] c) {
        lstmForward(coupled, from, to, off, st, hs, 0, hs, gates, hg, bhh, peep, cPrev, cNext, h, c);
    }

    /** {@link #lstmForward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void lstmForward(boolean coupled, int from, int to, int off, int st, int hs, int u0, int u1, float[] gates,
                            float[] hg, float[] bhh, float[] peep, float[] cPrev, float[] cNext, float[] h, float[] c) {
        int blocks = coupled ? 3 : 4;
        int gh = blocks * hs;
        int n = u1 - u0;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh + u0;
            int sr = (st + j) * hs + u0;
            int sj = j * hs + u0;
            for (int b = 0; b < blocks; b++) {
                addRow(gates, g + b * hs, hg, j * gh + b * hs + u0, bhh, b * hs + u0, n);
            }
            if (coupled) {
                activate(SIGMOID, gates, g, gates, g, n);               // f
                activate(TANH, gates, g + hs, gates, g + hs, n);        // g
            } else {
                if (peep != null) {
                    fmaRow(gates, g, peep, u0, cPrev, sr, n);       // a_i += p_i ⊙ c_{t-1}
                    fmaRow(gates, g + hs, peep, hs + u0, cPrev, sr, n); // a_f += p_f ⊙ c_{t-1}
                }
                activate(SIGMOID, gates, g, gates, g, n);                   // i
                activate(SIGMOID, gates, g + hs, gates, g + hs, n);         // f
                activate(TANH, gates, g + 2 * hs, gates, g + 2 * hs, n);    // g
            }
            lstmCellStateRow(coupled, hs, n, u0, g, sr, sj, gates, peep, cPrev, cNext, c);
            int oAt = g + (coupled ? 2 : 3) * hs;
            activate(SIGMOID, gates, oAt, gates, oAt, n);   // o, after the peephole has read c_t
            activate(TANH, c, sj, h, sj, n);
            mulRow(h, sj, gates, oAt, h, sj, n);
        }
    }

    /**
     * {@code c = f⊙c_{t-1} + i⊙g} (i = 1 - f when coupled), and the peephole's {@code a_o += p_o⊙c},
     * over {@code n} units from {@code g}, {@code sr}, {@code sj} (unit {@code u0} of the peepholes).
     */
    private static void lstmCellStateRow(boolean coupled, int hs, int n, int u0, int g, int sr, int sj, float[] gates,
                                         float[] peep, float[] cPrev, float[] cNext, float[] c) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            int gu = g + u;
            FloatVector cp = fromArray(SP, cPrev, sr + u, m);
            FloatVector cv;
            if (coupled) {
                FloatVector fv = fromArray(SP, gates, gu, m);
                cv = fv.mul(cp).add(fv.neg().add(1f).mul(fromArray(SP, gates, gu + hs, m)));
            } else {
                cv = fromArray(SP, gates, gu + hs, m).mul(cp)
                        .add(fromArray(SP, gates, gu, m).mul(fromArray(SP, gates, gu + 2 * hs, m)));
            }
            if (peep != null) {
                int oAt = gu + 3 * hs;
                fromArray(SP, peep, u0 + u + 2 * hs, m).fma(cv, fromArray(SP, gates, oAt, m)).intoArray(gates, oAt, m);
            }
            cv.intoArray(cNext, sr + u, m);
            cv.intoArray(c, sj + u, m);
        }
    }

    /**
     * LSTM backward of one step: from {@code dh[j]} (all that reaches {@code h_t}) and {@code dc[j]}
     * (what reaches {@code c_t} from step t+1), the pre-activation gradients {@code dG[r]}; then
     * {@code dc[j]} becomes the gradient reaching {@code c_{t-1}}.
     *
     * <p>Three passes per row (Note [Passes]): {@code tanh(c_t)} into the o block of {@code dG[r]};
     * {@code da_o} over it, with {@code dc[j]} becoming {@code dc_t}, all that reaches {@code c_t};
     * then the other gates, with {@code dc[j]} becoming what reaches {@code c_{t-1}}.
     */
    static void lstmBackward(boolean coupled, int from, int to, int off, int hs, float[] gates, float[] peep, float[] cPrev,
                             float[] cNext, float[] dh, float[] dc, float[] dG) {
        lstmBackward(coupled, from, to, off, hs, 0, hs, gates, peep, cPrev, cNext, dh, dc, dG);
    }

    /** {@link #lstmBackward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void lstmBackward(boolean coupled, int from, int to, int off, int hs, int u0, int u1, float[] gates,
                             float[] peep, float[] cPrev, float[] cNext, float[] dh, float[] dc, float[] dG) {
        int gh = (coupled ? 3 : 4) * hs;
        int oCol = (coupled ? 2 : 3) * hs;
        int n = u1 - u0;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh + u0;
            int sr = (off + j) * hs + u0;
            int sj = j * hs + u0;
            activate(TANH, cNext, sr, dG, g + oCol, n);
            lstmBackwardCellRow(hs, n, u0, g + oCol, sj, gates, peep, dh, dc, dG);
            if (coupled) {
                lstmCoupledBackwardGatesRow(hs, n, g, sr, sj, gates, cPrev, dc, dG);
            } else {
                lstmBackwardGatesRow(hs, n, u0, g, sr, sj, gates, peep, cPrev, dc, dG);
            }
        }
    }

    /**
     * {@code da_o = dh⊙tanh(c_t)⊙σ'(o)} over {@code tanh(c_t)}, which {@code dG[oAt..]} holds on
     * entry; {@code dc[sj..] = dc_t = dc + dh⊙o⊙tanh'(c_t)} (+ {@code da_o⊙p_o} with peepholes).
     */
    private static void lstmBackwardCellRow(int hs, int n, int u0, int oAt, int sj, float[] gates, float[] peep,
                                            float[] dh, float[] dc, float[] dG) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            FloatVector tc = fromArray(SP, dG, oAt + u, m);
            FloatVector ov = fromArray(SP, gates, oAt + u, m);
            FloatVector dhv = fromArray(SP, dh, sj + u, m);
            FloatVector dao = dhv.mul(tc).mul(ov.mul(ov.neg().add(1f)));                   // σ'(o) = o(1 - o)
            FloatVector dct = fromArray(SP, dc, sj + u, m).add(dhv.mul(ov).mul(tc.neg().fma(tc, ONE)));
            if (peep != null) {
                dct = dao.fma(fromArray(SP, peep, u0 + u + 2 * hs, m), dct);
            }
            dao.intoArray(dG, oAt + u, m);
            dct.intoArray(dc, sj + u, m);
        }
    }

    /** From {@code dc_t} in {@code dc[sj..]}: {@code da_i, da_f, da_g}, and {@code dc} becomes dc_{t-1}. */
    private static void lstmBackwardGatesRow(int hs, int n, int u0, int g, int sr, int sj, float[] gates, float[] peep,
                                             float[] cPrev, float[] dc, float[] dG) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            int gu = g + u;
            FloatVector cp = fromArray(SP, cPrev, sr + u, m);
            FloatVector dct = fromArray(SP, dc, sj + u, m);
            FloatVector iv = fromArray(SP, gates, gu, m);
            FloatVector fv = fromArray(SP, gates, gu + hs, m);
            FloatVector gv = fromArray(SP, gates, gu + 2 * hs, m);
            FloatVector dai = dct.mul(gv).mul(iv.mul(iv.neg().add(1f)));     // σ'(i) = i(1 - i)
            FloatVector daf = dct.mul(cp).mul(fv.mul(fv.neg().add(1f)));
            FloatVector dcp = dct.mul(fv);
            if (peep != null) {
                dcp = dai.fma(fromArray(SP, peep, u0 + u, m), dcp);
                dcp = daf.fma(fromArray(SP, peep, u0 + u + hs, m), dcp);
            }
            dai.intoArray(dG, gu, m);
            daf.intoArray(dG, gu + hs, m);
            dct.mul(iv).mul(gv.neg().fma(gv, ONE)).intoArray(dG, gu + 2 * hs, m);   // tanh'(g) = 1 - g²
            dcp.intoArray(dc, sj + u, m);
        }
    }

    /** The coupled cell's {@link #lstmBackwardGatesRow}: {@code da_f} (through f and i = 1 - f) and {@code da_g}. */
    private static void lstmCoupledBackwardGatesRow(int hs, int n, int g, int sr, int sj, float[] gates,
                                                    float[] cPrev, float[] dc, float[] dG) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            int gu = g + u;
            FloatVector cp = fromArray(SP, cPrev, sr + u, m);
            FloatVector dct = fromArray(SP, dc, sj + u, m);
            FloatVector fv = fromArray(SP, gates, gu, m);
            FloatVector gv = fromArray(SP, gates, gu + hs, m);
            FloatVector iv = fv.neg().add(1f);
            dct.mul(cp.sub(gv)).mul(fv.mul(fv.neg().add(1f))).intoArray(dG, gu, m);
            dct.mul(iv).mul(gv.neg().fma(gv, ONE)).intoArray(dG, gu + hs, m);
            dct.mul(fv).intoArray(dc, sj + u, m);
        }
    }

    // ---------------------------------------------------------------- GRU, cuDNN/PyTorch form

    /** Saves {@code W_hn h + b_hn} in {@code hn[st + j]} for the backward. {@code hPrev[st + j]} is {@code h_{t-1}}. */
    static void gruForward(int from, int to, int off, int st, int hs, float[] gates, float[] hg, float[] bhh,
                           float[] hPrev, float[] hn, float[] h) {
        gruForward(from, to, off, st, hs, 0, hs, gates, hg, bhh, hPrev, hn, h);
    }

    /** {@link #gruForward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void gruForward(int from, int to, int off, int st, int hs, int u0, int u1, float[] gates, float[] hg,
                           float[] bhh, float[] hPrev, float[] hn, float[] h) {
        int gh = 3 * hs;
        int n = u1 - u0;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh + u0;
            int q = j * gh + u0;
            int sr = (st + j) * hs + u0;
            addRow(gates, g, hg, q, bhh, u0, n);                      // r pre-activation
            addRow(gates, g + hs, hg, q + hs, bhh, hs + u0, n);       // z
            activate(SIGMOID, gates, g, gates, g, n);
            activate(SIGMOID, gates, g + hs, gates, g + hs, n);
            gruCandidateInputRow(hs, n, u0, g, q, sr, gates, hg, bhh, hn);
            activate(TANH, gates, g + 2 * hs, gates, g + 2 * hs, n);  // n
            gruOutputRow(hs, n, g, sr, j * hs + u0, gates, hPrev, h);
        }
    }

    private static void gruCandidateInputRow(int hs, int n, int u0, int g, int q, int sr, float[] gates, float[] hg,
                                             float[] bhh, float[] hn) {
        for (int u = 0; u < n; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, n);
            int nAt = g + 2 * hs + u;
            FloatVector hnv = fromArray(SP, hg, q + 2 * hs + u, m).add(fromArray(SP, bhh, u0 + u + 2 * hs, m));
            fromArray(SP, gates, g + u, m).fma(hnv, fromArray(SP, gates, nAt, m)).intoArray(gates, nAt, m);
            hnv.intoArray(hn, sr + u, m);
        }
    }

    /** {@code h = (1 - z)⊙n + z⊙h_{t-1} = n + z⊙(h_{t-1} - n)}, z and n activated in {@code gates[g..]}. */
    private static void gruOutputRow(int hs, int units, int g, int sr, int sj, float[] gates, float[] hPrev, float[] h) {
        for (int u = 0; u < units; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, units);
            FloatVector z = fromArray(SP, gates, g + hs + u, m);
            FloatVector n = fromArray(SP, gates, g + 2 * hs + u, m);
            z.fma(fromArray(SP, hPrev, sr + u, m).sub(n), n).intoArray(h, sj + u, m);
        }
    }

    /**
     * GRU backward: the input-side gradients {@code dGx = [da_r, da_z, da_n]} and the
     * recurrent-side ones {@code dGh = [da_r, da_z, r⊙da_n]} (they differ because {@code r} scales
     * {@code W_hn h + b_hn}); {@code dh[j]} becomes the direct part {@code z⊙dh} of the gradient
     * reaching {@code h_{t-1}} (the GEMM with W_hh adds the rest).
     */
    static void gruBackward(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] hn, float[] dh,
                            float[] dGx, float[] dGh) {
        gruBackward(from, to, off, hs, 0, hs, gates, hPrev, hn, dh, dGx, dGh);
    }

    /** {@link #gruBackward} over hidden units {@code [u0, u1)} only (Note [Unit slices]). */
    static void gruBackward(int from, int to, int off, int hs, int u0, int u1, float[] gates, float[] hPrev, float[] hn,
                            float[] dh, float[] dGx, float[] dGh) {
        int gh = 3 * hs;
        for (int j = from; j < to; j++) {
            gruBackwardRow(hs, u1 - u0, (off + j) * gh + u0, (off + j) * hs + u0, j * hs + u0, gates, hPrev, hn, dh,
                    dGx, dGh);
        }
    }

    private static void gruBackwardRow(int hs, int units, int g, int sr, int sj, float[] gates, float[] hPrev,
                                       float[] hn, float[] dh, float[] dGx, float[] dGh) {
        for (int u = 0; u < units; u += L) {
            VectorMask<Float> m = SP.indexInRange(u, units);
            int gu = g + u;
            FloatVector r = fromArray(SP, gates, gu, m);
            FloatVector z = fromArray(SP, gates, gu + hs, m);
            FloatVector n = fromArray(SP, gates, gu + 2 * hs, m);
            FloatVector dhv = fromArray(SP, dh, sj + u, m);
            FloatVector dan = dhv.mul(z.neg().add(1f)).mul(n.neg().fma(n, ONE));
            FloatVector dar = dan.mul(fromArray(SP, hn, sr + u, m)).mul(r.mul(r.neg().add(1f)));
            FloatVector daz = dhv.mul(fromArray(SP, hPrev, sr + u, m).sub(n)).mul(z.mul(z.neg().add(1f)));
            dar.intoArray(dGx, gu, m);
            daz.intoArray(dGx, gu + hs, m);
            dan.intoArray(dGx, gu + 2 * hs, m);
            dar.intoArray(dGh, gu, m);
            daz.intoArray(dGh, gu + hs, m);
            dan.mul(r).intoArray(dGh, gu + 2 * hs, m);
            dhv.mul(z).intoArray(dh, sj + u, m);
        }
    }

    // ---------------------------------------------------------------- GRU, original form

    /** First half of the original GRU step: {@code r}, {@code z}, and {@code rh[st + j] = r⊙h_{t-1}}. */
    static void gruOriginalGates(int from, int to, int off, int st, int hs, float[] gates, float[] hg, float[] bhh,
                                 float[] hPrev, float[] rh) {
        int gh = 3 * hs;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (st + j) * hs;
            addRow(gates, g, hg, j * gh, bhh, 0, 2 * hs);
            activate(SIGMOID, gates, g, gates, g, 2 * hs);
            mulRow(gates, g, hPrev, sr, rh, sr, hs);
        }
    }

    /** Second half: {@code hg[j]}'s n block now holds {@code (r⊙h_{t-1})·W_hnᵀ}. */
    static void gruOriginalOutput(int from, int to, int off, int st, int hs, float[] gates, float[] hg, float[] bhh,
                                  float[] hPrev, float[] h) {
        int gh = 3 * hs;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int nAt = g + 2 * hs;
            addRow(gates, nAt, hg, j * gh + 2 * hs, bhh, 2 * hs, hs);   // n pre-activation
            activate(TANH, gates, nAt, gates, nAt, hs);
            gruOutputRow(hs, hs, g, (st + j) * hs, j * hs, gates, hPrev, h);
        }
    }

    /** Backward, first half: {@code da_z}, {@code da_n}; {@code dh[j]} becomes {@code z⊙dh}. */
    static void gruOriginalBackwardOutput(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] dh,
                                          float[] dG) {
        int gh = 3 * hs;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, hs);
                int gu = g + u;
                FloatVector z = fromArray(SP, gates, gu + hs, m);
                FloatVector n = fromArray(SP, gates, gu + 2 * hs, m);
                FloatVector dhv = fromArray(SP, dh, sj + u, m);
                dhv.mul(fromArray(SP, hPrev, sr + u, m).sub(n)).mul(z.mul(z.neg().add(1f))).intoArray(dG, gu + hs, m);
                dhv.mul(z.neg().add(1f)).mul(n.neg().fma(n, ONE)).intoArray(dG, gu + 2 * hs, m);
                dhv.mul(z).intoArray(dh, sj + u, m);
            }
        }
    }

    /**
     * Backward, second half: {@code dRh[j] = da_n·W_hn} is the gradient reaching {@code r⊙h_{t-1}};
     * gives {@code da_r} and adds {@code r⊙dRh} to {@code dh[j]}.
     */
    static void gruOriginalBackwardGates(int from, int to, int off, int hs, float[] gates, float[] hPrev, float[] dRh,
                                         float[] dh, float[] dG) {
        int gh = 3 * hs;
        for (int j = from; j < to; j++) {
            int g = (off + j) * gh;
            int sr = (off + j) * hs;
            int sj = j * hs;
            for (int u = 0; u < hs; u += L) {
                VectorMask<Float> m = SP.indexInRange(u, hs);
                FloatVector r = fromArray(SP, gates, g + u, m);
                FloatVector drh = fromArray(SP, dRh, sj + u, m);
                drh.mul(fromArray(SP, hPrev, sr + u, m)).mul(r.mul(r.neg().add(1f))).intoArray(dG, g + u, m);
                drh.fma(r, fromArray(SP, dh, sj + u, m)).intoArray(dh, sj + u, m);
            }
        }
    }
}
