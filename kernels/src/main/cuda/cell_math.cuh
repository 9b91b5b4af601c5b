/*
 * cell_math.cuh — the fused element-wise math of every cell, one (row, unit) element at a time.
 *
 * Legend (as in engine-cpu's GateMath):
 *   H  hidden units (hs), G gate blocks (1 RNN, 4 LSTM, 3 coupled LSTM and GRU), GH = G*H
 *   B  rows (sequences) running at this step, N packed rows of the whole sequence
 *   j  running row of the step, in [0, rows);  r = off + j  its packed row;  u  unit in [0, H)
 *   Indices, exactly as GateMath computes them:
 *     g  = r*GH + u   element u of the first gate block of packed row r   (gates, dG)
 *     q  = j*GH + u   the same in this step's recurrent projection hg     (hg)
 *     sr = r*H + u    per-packed-row state                                (hPrev, cPrev, cNext, hn, rh)
 *     sj = j*H + u    per-running-row state                               (h, c, dh, dc, dRh)
 *
 * Each recur_<method>_element function is the body of one CUDA kernel in cells.cu AND of the host
 * twin (src/test/cpp/cell_math_host.cpp, built by g++): both call the same code, so the host test
 * that compares it with the CPU engine checks the kernels' formulas and their indexing at once.
 * The formulas, their order of operations and the explicit fmaf calls are GateMath's, one for one
 * (GateMath's a.fma(b, c) is fmaf(a, b, c)); every other product and sum is a separate, rounded
 * operation, as in Java (the kernels are built with -fmad=false so that nvcc does not contract
 * them either).
 *
 * Transcendentals: expf and tanhf (CUDA's accurate versions, at most 2 ulp; no fast-math), not
 * GateMath's Cephes polynomial, so GPU and CPU agree to a few ulp, not bit for bit. The sigmoid
 * is 1 / (1 + expf(-v)) without GateMath's clamp to ±80: expf overflows to +inf below -88 and
 * 1/inf is 0 there, which is what the clamp achieves, and an unclamped NaN stays NaN (fmaxf and
 * fminf would have turned it into ±80 and hidden a diverged run).
 *
 * Arrays never overlap (they are distinct buffers of LayerBuffers on the CPU), hence __restrict__.
 */
#ifndef RECUR_CELL_MATH_CUH
#define RECUR_CELL_MATH_CUH

#include <math.h>

#include "host_device.cuh"

// ---------------------------------------------------------------- activations and slopes

/** σ(v) = 1 / (1 + e^{-v}). */
RECUR_HD float recur_sigmoid(float v) {
    return 1.0f / (expf(-v) + 1.0f);
}

RECUR_HD float recur_tanh(float v) {
    return tanhf(v);
}

/** 1 - v·v, the derivative of tanh at its output v (GateMath.oneMinusSquare: fma(-v, v, 1)). */
RECUR_HD float recur_one_minus_square(float v) {
    return fmaf(-v, v, 1.0f);
}

/** v·(1 - v), the derivative of σ at its output v (GateMath.sigmoidSlope). */
RECUR_HD float recur_sigmoid_slope(float v) {
    return v * (-v + 1.0f);
}

/** max(a, 0) as Java's Math.max: NaN stays NaN and -0 becomes +0. */
RECUR_HD float recur_relu(float a) {
    return a <= 0.0f ? 0.0f : a;
}

// ---------------------------------------------------------------- vanilla RNN (G = 1)

/** GateMath.rnnForward: a = Xg + Hg + b_hh; h = act(a), saved in gates. */
RECUR_HD void recur_rnn_forward_element(int j, int u, int off, int hs, int relu,
                                        float* __restrict__ gates,      // [N, H]
                                        const float* __restrict__ hg,   // [B, H]
                                        const float* __restrict__ bhh,  // [H]
                                        float* __restrict__ h) {        // [B, H]
    int g = (off + j) * hs + u;
    int q = j * hs + u;
    float a = gates[g] + hg[q] + bhh[u];
    float v = relu ? recur_relu(a) : recur_tanh(a);
    gates[g] = v;
    h[q] = v;
}

/** GateMath.rnnBackward: dG = dh ⊙ act'(a), from the saved activation. */
RECUR_HD void recur_rnn_backward_element(int j, int u, int off, int hs, int relu,
                                         const float* __restrict__ gates,  // [N, H]
                                         const float* __restrict__ dh,     // [B, H]
                                         float* __restrict__ dG) {         // [N, H]
    int g = (off + j) * hs + u;
    int q = j * hs + u;
    float v = gates[g];
    float d = dh[q];
    dG[g] = relu ? (v <= 0.0f ? 0.0f : d) : d * recur_one_minus_square(v);
}

// ---------------------------------------------------------------- LSTM family

/**
 * GateMath.lstmForward. Standard and peephole: blocks i, f, g, o; coupled: f, g, o with
 * i = 1 - f. Reads c_{t-1} from cPrev[r], writes the activated gates, c[j], h[j] and cNext[r].
 * peep is [3H] (p_i, p_f, p_o) or null; never with coupled (CudaKernels refuses that).
 */
RECUR_HD void recur_lstm_forward_element(int j, int u, int off, int hs, int coupled,
                                         float* __restrict__ gates,       // [N, GH]
                                         const float* __restrict__ hg,    // [B, GH]
                                         const float* __restrict__ bhh,   // [GH]
                                         const float* __restrict__ peep,  // [3H] or null
                                         const float* __restrict__ cPrev, // [N, H]
                                         float* __restrict__ cNext,       // [N, H]
                                         float* __restrict__ h,           // [B, H]
                                         float* __restrict__ c) {         // [B, H]
    int gh = (coupled ? 3 : 4) * hs;
    int g = (off + j) * gh + u;
    int q = j * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float cp = cPrev[sr];
    float cv;
    int oAt;
    if (coupled) {
        float f = recur_sigmoid(gates[g] + hg[q] + bhh[u]);
        float gg = recur_tanh(gates[g + hs] + hg[q + hs] + bhh[u + hs]);
        gates[g] = f;
        gates[g + hs] = gg;
        cv = f * cp + (-f + 1.0f) * gg;
        oAt = 2 * hs;
    } else {
        float ai = gates[g] + hg[q] + bhh[u];
        float af = gates[g + hs] + hg[q + hs] + bhh[u + hs];
        if (peep != nullptr) {
            ai = fmaf(peep[u], cp, ai);        // a_i += p_i ⊙ c_{t-1}
            af = fmaf(peep[u + hs], cp, af);   // a_f += p_f ⊙ c_{t-1}
        }
        float i = recur_sigmoid(ai);
        float f = recur_sigmoid(af);
        float gg = recur_tanh(gates[g + 2 * hs] + hg[q + 2 * hs] + bhh[u + 2 * hs]);
        gates[g] = i;
        gates[g + hs] = f;
        gates[g + 2 * hs] = gg;
        cv = f * cp + i * gg;
        oAt = 3 * hs;
    }
    float ao = gates[g + oAt] + hg[q + oAt] + bhh[u + oAt];
    if (peep != nullptr && !coupled) {
        ao = fmaf(peep[u + 2 * hs], cv, ao);   // a_o += p_o ⊙ c_t
    }
    float o = recur_sigmoid(ao);
    gates[g + oAt] = o;
    cNext[sr] = cv;
    c[sj] = cv;
    h[sj] = o * recur_tanh(cv);
}

/** The saved LSTM gates of one unit at g: i, f, g, o (the coupled cell stores f, g, o; i = 1 - f). */
RECUR_HD void recur_lstm_saved_gates(const float* __restrict__ gates, int g, int hs, int coupled, float* iv,
                                     float* fv, float* gv, float* ov) {
    if (coupled) {
        *fv = gates[g];
        *gv = gates[g + hs];
        *ov = gates[g + 2 * hs];
        *iv = -*fv + 1.0f;
    } else {
        *iv = gates[g];
        *fv = gates[g + hs];
        *gv = gates[g + 2 * hs];
        *ov = gates[g + 3 * hs];
    }
}

/**
 * The LSTM's gate gradients of one unit from dct (all that reaches c_t) and dao, written to dG at
 * g; returns dcp (what reaches c_{t-1} by other ways, starting with dct ⊙ f) plus the input and
 * forget peepholes' share. Shared by the plain and the option path's backward.
 */
RECUR_HD float recur_lstm_gate_gradients(float dct, float dao, float iv, float fv, float gv, float cp,
                                         const float* __restrict__ peep, int u, int hs, int coupled, float dcp,
                                         float* __restrict__ dG, int g) {
    float dag = dct * iv * recur_one_minus_square(gv);
    if (coupled) {
        dG[g] = dct * (cp - gv) * recur_sigmoid_slope(fv);
        dG[g + hs] = dag;
        dG[g + 2 * hs] = dao;
    } else {
        float dai = dct * gv * recur_sigmoid_slope(iv);
        float daf = dct * cp * recur_sigmoid_slope(fv);
        if (peep != nullptr) {
            dcp = fmaf(dai, peep[u], dcp);
            dcp = fmaf(daf, peep[u + hs], dcp);
        }
        dG[g] = dai;
        dG[g + hs] = daf;
        dG[g + 2 * hs] = dag;
        dG[g + 3 * hs] = dao;
    }
    return dcp;
}

/**
 * GateMath.lstmBackward: from dh[j] (all that reaches h_t) and dc[j] (what reaches c_t from step
 * t+1), the pre-activation gradients dG[r]; dc[j] becomes the gradient reaching c_{t-1}.
 */
RECUR_HD void recur_lstm_backward_element(int j, int u, int off, int hs, int coupled,
                                          const float* __restrict__ gates,  // [N, GH]
                                          const float* __restrict__ peep,   // [3H] or null
                                          const float* __restrict__ cPrev,  // [N, H]
                                          const float* __restrict__ cNext,  // [N, H]
                                          const float* __restrict__ dh,     // [B, H]
                                          float* __restrict__ dc,           // [B, H]
                                          float* __restrict__ dG) {         // [N, GH]
    int gh = (coupled ? 3 : 4) * hs;
    int g = (off + j) * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float cp = cPrev[sr];
    float tc = recur_tanh(cNext[sr]);
    float dhv = dh[sj];
    float iv, fv, gv, ov;
    recur_lstm_saved_gates(gates, g, hs, coupled, &iv, &fv, &gv, &ov);
    float dao = dhv * tc * recur_sigmoid_slope(ov);
    float dct = dc[sj] + dhv * ov * recur_one_minus_square(tc);
    if (peep != nullptr) {
        dct = fmaf(dao, peep[u + 2 * hs], dct);
    }
    dc[sj] = recur_lstm_gate_gradients(dct, dao, iv, fv, gv, cp, peep, u, hs, coupled, dct * fv, dG, g);
}

// ---------------------------------------------------------------- GRU, cuDNN/PyTorch form

/**
 * GateMath.gruForward: r, z, n = tanh(x_n + r ⊙ (W_hn h + b_hn)); saves W_hn h + b_hn in hn[r].
 * hPrev[r] is h_{t-1}.
 */
RECUR_HD void recur_gru_forward_element(int j, int u, int off, int hs,
                                        float* __restrict__ gates,       // [N, 3H]
                                        const float* __restrict__ hg,    // [B, 3H]
                                        const float* __restrict__ bhh,   // [3H]
                                        const float* __restrict__ hPrev, // [N, H]
                                        float* __restrict__ hn,          // [N, H]
                                        float* __restrict__ h) {         // [B, H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int q = j * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float r = recur_sigmoid(gates[g] + hg[q] + bhh[u]);
    float z = recur_sigmoid(gates[g + hs] + hg[q + hs] + bhh[u + hs]);
    float hnv = hg[q + 2 * hs] + bhh[u + 2 * hs];
    float n = recur_tanh(fmaf(r, hnv, gates[g + 2 * hs]));
    gates[g] = r;
    gates[g + hs] = z;
    gates[g + 2 * hs] = n;
    hn[sr] = hnv;
    h[sj] = fmaf(z, hPrev[sr] - n, n);   // (1 - z)⊙n + z⊙h_{t-1} = n + z⊙(h_{t-1} - n)
}

/**
 * GateMath.gruBackward: input-side dGx = [da_r, da_z, da_n], recurrent-side
 * dGh = [da_r, da_z, r⊙da_n]; dh[j] becomes z⊙dh (the GEMM with W_hh adds the rest).
 */
RECUR_HD void recur_gru_backward_element(int j, int u, int off, int hs,
                                         const float* __restrict__ gates,  // [N, 3H]
                                         const float* __restrict__ hPrev,  // [N, H]
                                         const float* __restrict__ hn,     // [N, H]
                                         float* __restrict__ dh,           // [B, H]
                                         float* __restrict__ dGx,          // [N, 3H]
                                         float* __restrict__ dGh) {        // [N, 3H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float r = gates[g];
    float z = gates[g + hs];
    float n = gates[g + 2 * hs];
    float dhv = dh[sj];
    float dan = dhv * (-z + 1.0f) * recur_one_minus_square(n);
    float dar = dan * hn[sr] * recur_sigmoid_slope(r);
    float daz = dhv * (hPrev[sr] - n) * recur_sigmoid_slope(z);
    dGx[g] = dar;
    dGx[g + hs] = daz;
    dGx[g + 2 * hs] = dan;
    dGh[g] = dar;
    dGh[g + hs] = daz;
    dGh[g + 2 * hs] = dan * r;
    dh[sj] = dhv * z;
}

// ---------------------------------------------------------------- GRU, original form

/** GateMath.gruOriginalGates: r, z, and rh[r] = r ⊙ h_{t-1}. */
RECUR_HD void recur_gru_original_gates_element(int j, int u, int off, int hs,
                                               float* __restrict__ gates,       // [N, 3H]
                                               const float* __restrict__ hg,    // [B, 3H] (r, z blocks)
                                               const float* __restrict__ bhh,   // [3H]
                                               const float* __restrict__ hPrev, // [N, H]
                                               float* __restrict__ rh) {        // [N, H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int q = j * gh + u;
    int sr = (off + j) * hs + u;
    float r = recur_sigmoid(gates[g] + hg[q] + bhh[u]);
    float z = recur_sigmoid(gates[g + hs] + hg[q + hs] + bhh[u + hs]);
    gates[g] = r;
    gates[g + hs] = z;
    rh[sr] = r * hPrev[sr];
}

/** GateMath.gruOriginalOutput: hg's n block now holds (r ⊙ h_{t-1})·W_hnᵀ. */
RECUR_HD void recur_gru_original_output_element(int j, int u, int off, int hs,
                                                float* __restrict__ gates,       // [N, 3H]
                                                const float* __restrict__ hg,    // [B, 3H] (n block)
                                                const float* __restrict__ bhh,   // [3H]
                                                const float* __restrict__ hPrev, // [N, H]
                                                float* __restrict__ h) {         // [B, H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int q = j * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float z = gates[g + hs];
    float n = recur_tanh(gates[g + 2 * hs] + hg[q + 2 * hs] + bhh[u + 2 * hs]);
    gates[g + 2 * hs] = n;
    h[sj] = fmaf(z, hPrev[sr] - n, n);
}

/** GateMath.gruOriginalBackwardOutput: da_z, da_n; dh[j] becomes z ⊙ dh. */
RECUR_HD void recur_gru_original_backward_output_element(int j, int u, int off, int hs,
                                                         const float* __restrict__ gates,  // [N, 3H]
                                                         const float* __restrict__ hPrev,  // [N, H]
                                                         float* __restrict__ dh,           // [B, H]
                                                         float* __restrict__ dG) {         // [N, 3H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float z = gates[g + hs];
    float n = gates[g + 2 * hs];
    float dhv = dh[sj];
    dG[g + hs] = dhv * (hPrev[sr] - n) * recur_sigmoid_slope(z);
    dG[g + 2 * hs] = dhv * (-z + 1.0f) * recur_one_minus_square(n);
    dh[sj] = dhv * z;
}

/**
 * GateMath.gruOriginalBackwardGates: dRh[j] = da_n·W_hn is the gradient reaching r ⊙ h_{t-1};
 * gives da_r and adds r ⊙ dRh to dh[j].
 */
RECUR_HD void recur_gru_original_backward_gates_element(int j, int u, int off, int hs,
                                                        const float* __restrict__ gates,  // [N, 3H]
                                                        const float* __restrict__ hPrev,  // [N, H]
                                                        const float* __restrict__ dRh,    // [B, H]
                                                        float* __restrict__ dh,           // [B, H]
                                                        float* __restrict__ dG) {         // [N, 3H]
    int gh = 3 * hs;
    int g = (off + j) * gh + u;
    int sr = (off + j) * hs + u;
    int sj = j * hs + u;
    float r = gates[g];
    float drh = dRh[sj];
    dG[g] = drh * hPrev[sr] * recur_sigmoid_slope(r);
    dh[sj] = fmaf(drh, r, dh[sj]);
}

#endif  // RECUR_CELL_MATH_CUH
