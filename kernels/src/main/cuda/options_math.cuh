/*
 * options_math.cuh — the element math of the option path (engine-api CellOptions / StepControl):
 * recurrent dropout, zoneout, step masks with holes and lengths, projections, and the gate math
 * of every cell in that path. Compiled by nvcc into the kernels of options.cu and by g++ into the
 * host twin (src/test/cpp/options_host.cpp), which engine-cuda's simulated-device tests run
 * through the real layer code and compare with a float64 oracle of the contract: one code, two
 * compilers, as cell_math.cuh.
 *
 * Layout: dense time-major rows, no packing. Row t*B + b is sequence b at real time t (also in
 * the reverse direction, which only walks t backwards). Every step kernel runs all B rows; a row's
 * step code (codes[t*B + b], made on the host from the mask and the lengths) says what happens:
 *   RECUR_STEP_PAD  0  t at or past the sequence's length: state carries over, y = 0
 *   RECUR_STEP_RUN  1  the step runs
 *   RECUR_STEP_HOLE 2  a hole of the step mask: state carries over, y = the last output (0 before
 *                      the first step that ran), gradients of the state pass through unchanged
 * Rows that do not run write zero pre-activation gradients, so the weight-gradient GEMMs over
 * all T*B rows after the loop add nothing for them.
 *
 * Legend: B batch, T steps, H hidden units (hs), R recurrent width (P with a projection, else H),
 * S state width of h (R for the LSTM family, H otherwise), G gate blocks, GH = G*H; (b, j) one
 * element: row b of the step, unit j of the width the function works on.
 *
 * Random draws (CellOptions, "Random draws"): u = recur_uniform(seed, start + index), where the
 * host passes start = counter (+ B*R for zoneout of h, + B*R + T*B*S for zoneout of c), and
 * index = b*R + j (dropout) or (t*B + b)*W + j (zoneout, W = S or H). Nothing is stored: the
 * backward draws the same numbers again.
 *
 * Every product and sum is a separate float32 operation (kernels: -fmad=false; twin:
 * -ffp-contract=off), fmaf only where written.
 */
#ifndef RECUR_OPTIONS_MATH_CUH
#define RECUR_OPTIONS_MATH_CUH

#include "cell_math.cuh"
#include "op_math.cuh"

#define RECUR_STEP_PAD 0
#define RECUR_STEP_RUN 1
#define RECUR_STEP_HOLE 2

// ---------------------------------------------------------------- draws

/**
 * The recurrent-dropout factor m of element index (b*R + j): u >= p ? 1/(1-p) : 0 in training
 * (TensorOps.dropout's mask), 1 at inference or when p = 0.
 */
RECUR_HD float recur_keep_factor(float p, int train, long long seed, long long start, long long index) {
    if (!train || p == 0.0f) {
        return 1.0f;
    }
    float keep = 1.0f / (1.0f - p);
    return recur_uniform((unsigned long long) seed, (unsigned long long) (start + index)) >= p ? keep : 0.0f;
}

/** The zoneout factor d: u < p ? 1 : 0 in training, p at inference (the expectation), 0 when p = 0. */
RECUR_HD float recur_zone_factor(float p, int train, long long seed, long long start, long long index) {
    if (p == 0.0f) {
        return 0.0f;
    }
    if (!train) {
        return p;
    }
    return recur_uniform((unsigned long long) seed, (unsigned long long) (start + index)) < p ? 1.0f : 0.0f;
}

/** d·prev + (1 - d)·cand: exact for d in {0, 1}. */
RECUR_HD float recur_zone(float d, float prev, float cand) {
    return d * prev + (1.0f - d) * cand;
}

// ---------------------------------------------------------------- forward, any cell

/**
 * q[t*B + b, j] = m ⊙ rec[b, j]: the recurrent GEMM's input of step t (saved for dW_hh), j < R.
 */
RECUR_HD void recur_opt_recurrent_input_element(int b, int j, int batch, int width, int t, float p, int train,
                                                long long seed, long long start,
                                                const float* __restrict__ rec,  // [B, R]
                                                float* __restrict__ q) {        // [T*B, R]
    float m = recur_keep_factor(p, train, seed, start, (long long) b * width + j);
    q[((size_t) t * batch + b) * width + j] = m * rec[(size_t) b * width + j];
}

/**
 * The state's update of a step, j < W: running rows take d·state + (1 - d)·cand (zoneout, index
 * (t*B + b)*W + j), others keep the state.
 */
RECUR_HD void recur_opt_commit_state_element(int b, int j, int batch, int width, int t, float p, int train,
                                             long long seed, long long start,
                                             const int* __restrict__ codes,   // [T*B]
                                             const float* __restrict__ cand,  // [B, W]
                                             float* __restrict__ state) {     // [B, W]
    if (codes[(size_t) t * batch + b] != RECUR_STEP_RUN) {
        return;
    }
    size_t e = (size_t) b * width + j;
    float d = recur_zone_factor(p, train, seed, start, ((long long) t * batch + b) * width + j);
    state[e] = recur_zone(d, state[e], cand[e]);
}

/**
 * y of step t, j < R: running rows output src (and remember it in last), holes repeat last,
 * padding outputs 0. y[(t*B + b)*yStride + yCol + j].
 */
RECUR_HD void recur_opt_output_element(int b, int j, int batch, int width, int t, int yStride, int yCol,
                                       const int* __restrict__ codes,  // [T*B]
                                       const float* __restrict__ src,  // [B, R]
                                       float* __restrict__ last,       // [B, R]
                                       float* __restrict__ y) {        // [T*B, yStride]
    int code = codes[(size_t) t * batch + b];
    size_t e = (size_t) b * width + j;
    float v = 0.0f;
    if (code == RECUR_STEP_RUN) {
        v = src[e];
        last[e] = v;
    } else if (code == RECUR_STEP_HOLE) {
        v = last[e];
    }
    y[((size_t) t * batch + b) * yStride + yCol + j] = v;
}

// ---------------------------------------------------------------- forward, gate math (j < H)

/**
 * LSTM family: a = ax + b_ih + ah + b_hh per block (ax [T*B, GH] without bias, ah [B, GH] this
 * step's W_hh q), the gates of GateMath.lstmForward (peepholes p_i, p_f read c_{t-1}, p_o reads
 * c~), c~ into cTilde[t*B + b], c_t = zoneout(c_{t-1}, c~) for running rows, and the candidate
 * hCand = o ⊙ tanh(c~) (h~ without a projection, its input with one), tanh(c~) saved in tanhC.
 */
RECUR_HD void recur_opt_lstm_forward_element(int b, int u, int batch, int hs, int t, int coupled, float zc,
                                             int train, long long seed, long long zcStart,
                                             const int* __restrict__ codes,   // [T*B]
                                             const float* __restrict__ ax,    // [T*B, GH]
                                             const float* __restrict__ ah,    // [B, GH]
                                             const float* __restrict__ bih,   // [GH]
                                             const float* __restrict__ bhh,   // [GH]
                                             const float* __restrict__ peep,  // [3H] or null
                                             float* __restrict__ c,           // [B, H]  c_{t-1} in, c_t out
                                             float* __restrict__ gates,       // [T*B, GH]
                                             float* __restrict__ cTilde,      // [T*B, H]
                                             float* __restrict__ tanhC,       // [T*B, H]
                                             float* __restrict__ hCand) {     // [B, H]
    int gh = (coupled ? 3 : 4) * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t q = (size_t) b * gh + u;
    size_t s = (size_t) b * hs + u;
    float cp = c[s];
    float cv;
    int oAt;
    if (coupled) {
        float f = recur_sigmoid((ax[g] + bih[u]) + (ah[q] + bhh[u]));
        float gg = recur_tanh((ax[g + hs] + bih[u + hs]) + (ah[q + hs] + bhh[u + hs]));
        gates[g] = f;
        gates[g + hs] = gg;
        cv = f * cp + (-f + 1.0f) * gg;
        oAt = 2 * hs;
    } else {
        float ai = (ax[g] + bih[u]) + (ah[q] + bhh[u]);
        float af = (ax[g + hs] + bih[u + hs]) + (ah[q + hs] + bhh[u + hs]);
        if (peep != nullptr) {
            ai = fmaf(peep[u], cp, ai);
            af = fmaf(peep[u + hs], cp, af);
        }
        float i = recur_sigmoid(ai);
        float f = recur_sigmoid(af);
        float gg = recur_tanh((ax[g + 2 * hs] + bih[u + 2 * hs]) + (ah[q + 2 * hs] + bhh[u + 2 * hs]));
        gates[g] = i;
        gates[g + hs] = f;
        gates[g + 2 * hs] = gg;
        cv = f * cp + i * gg;
        oAt = 3 * hs;
    }
    float ao = (ax[g + oAt] + bih[u + oAt]) + (ah[q + oAt] + bhh[u + oAt]);
    if (peep != nullptr && !coupled) {
        ao = fmaf(peep[u + 2 * hs], cv, ao);
    }
    float o = recur_sigmoid(ao);
    gates[g + oAt] = o;
    cTilde[row * hs + u] = cv;
    float tc = recur_tanh(cv);
    tanhC[row * hs + u] = tc;   // with layer normalisation, optLayerNormCell replaces it and hCand
    hCand[s] = o * tc;
    if (codes[row] == RECUR_STEP_RUN) {
        float d = recur_zone_factor(zc, train, seed, zcStart, (long long) row * hs + u);
        c[s] = recur_zone(d, cp, cv);
    }
}

/**
 * GRU, cuDNN/PyTorch form: r, z, n = tanh(ax_n + b_in + r ⊙ (ah_n + b_hn)); hn[t*B + b] saves
 * ah_n + b_hn; hCand = h~ = (1 - z) ⊙ n + z ⊙ h_{t-1} (the undropped state).
 */
RECUR_HD void recur_opt_gru_forward_element(int b, int u, int batch, int hs, int t,
                                            const float* __restrict__ ax,     // [T*B, 3H]
                                            const float* __restrict__ ah,     // [B, 3H]
                                            const float* __restrict__ bih,    // [3H]
                                            const float* __restrict__ bhh,    // [3H]
                                            const float* __restrict__ h,      // [B, H]  h_{t-1}
                                            float* __restrict__ gates,        // [T*B, 3H]
                                            float* __restrict__ hn,           // [T*B, H]
                                            float* __restrict__ hCand) {      // [B, H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t q = (size_t) b * gh + u;
    size_t s = (size_t) b * hs + u;
    float r = recur_sigmoid((ax[g] + bih[u]) + (ah[q] + bhh[u]));
    float z = recur_sigmoid((ax[g + hs] + bih[u + hs]) + (ah[q + hs] + bhh[u + hs]));
    float hnv = ah[q + 2 * hs] + bhh[u + 2 * hs];
    float n = recur_tanh(fmaf(r, hnv, ax[g + 2 * hs] + bih[u + 2 * hs]));
    gates[g] = r;
    gates[g + hs] = z;
    gates[g + 2 * hs] = n;
    hn[row * hs + u] = hnv;
    hCand[s] = fmaf(z, h[s] - n, n);
}

/**
 * Original GRU, first half: r, z, and rq[t*B + b] = r ⊙ src[b]: src is this step's rows of q
 * (the dropped recurrent input, R = H) without a projection, the state h_{t-1} with one (whose
 * W_hn (m ⊙ W_hr (r ⊙ h_{t-1})) the layer then forms, CellOptions).
 */
RECUR_HD void recur_opt_gru_original_gates_element(int b, int u, int batch, int hs, int t,
                                                   const float* __restrict__ ax,  // [T*B, 3H]
                                                   const float* __restrict__ ah,  // [B, 3H]  r, z blocks
                                                   const float* __restrict__ bih, // [3H]
                                                   const float* __restrict__ bhh, // [3H]
                                                   const float* __restrict__ src, // [B, H]
                                                   float* __restrict__ gates,     // [T*B, 3H]
                                                   float* __restrict__ rq) {      // [T*B, H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t qq = (size_t) b * gh + u;
    float r = recur_sigmoid((ax[g] + bih[u]) + (ah[qq] + bhh[u]));
    float z = recur_sigmoid((ax[g + hs] + bih[u + hs]) + (ah[qq + hs] + bhh[u + hs]));
    gates[g] = r;
    gates[g + hs] = z;
    rq[row * hs + u] = r * src[(size_t) b * hs + u];
}

/** Original GRU, second half: ah's n block holds W_hn (r ⊙ q); n and hCand = h~. */
RECUR_HD void recur_opt_gru_original_output_element(int b, int u, int batch, int hs, int t,
                                                    const float* __restrict__ ax,  // [T*B, 3H]
                                                    const float* __restrict__ ah,  // [B, 3H]  n block
                                                    const float* __restrict__ bih, // [3H]
                                                    const float* __restrict__ bhh, // [3H]
                                                    const float* __restrict__ h,   // [B, H]  h_{t-1}
                                                    float* __restrict__ gates,     // [T*B, 3H]
                                                    float* __restrict__ hCand) {   // [B, H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t qq = (size_t) b * gh + u;
    size_t s = (size_t) b * hs + u;
    float z = gates[g + hs];
    float n = recur_tanh((ax[g + 2 * hs] + bih[u + 2 * hs]) + (ah[qq + 2 * hs] + bhh[u + 2 * hs]));
    gates[g + 2 * hs] = n;
    hCand[s] = fmaf(z, h[s] - n, n);
}

/** Vanilla RNN: hCand = h~ = act(ax + b_ih + ah + b_hh), saved in gates. */
RECUR_HD void recur_opt_rnn_forward_element(int b, int u, int batch, int hs, int t, int relu,
                                            const float* __restrict__ ax,  // [T*B, H]
                                            const float* __restrict__ ah,  // [B, H]
                                            const float* __restrict__ bih, // [H]
                                            const float* __restrict__ bhh, // [H]
                                            float* __restrict__ gates,     // [T*B, H]
                                            float* __restrict__ hCand) {   // [B, H]
    size_t row = (size_t) t * batch + b;
    size_t g = row * hs + u;
    size_t s = (size_t) b * hs + u;
    float a = (ax[g] + bih[u]) + (ah[s] + bhh[u]);
    float v = relu ? recur_relu(a) : recur_tanh(a);
    gates[g] = v;
    hCand[s] = v;
}

// ---------------------------------------------------------------- backward, any cell

/**
 * The gradient reaching step t's output, j < R: running rows take dy + carry (what holes after
 * them passed back) and clear carry; holes add dy to carry and take 0; padding takes 0 (its y is
 * a constant). accumulate: dst += g (dst the state's gradient, when y is the state); else dst = g.
 * dy may be null (no output gradient).
 */
RECUR_HD void recur_opt_output_gradient_element(int b, int j, int batch, int width, int t, int dyStride,
                                                int dyCol, int accumulate,
                                                const int* __restrict__ codes,  // [T*B]
                                                const float* __restrict__ dy,   // [T*B, dyStride] or null
                                                float* __restrict__ carry,      // [B, R]
                                                float* __restrict__ dst) {      // [B, R]
    int code = codes[(size_t) t * batch + b];
    size_t e = (size_t) b * width + j;
    float d = dy == nullptr ? 0.0f : dy[((size_t) t * batch + b) * dyStride + dyCol + j];
    float g = 0.0f;
    if (code == RECUR_STEP_RUN) {
        g = d + carry[e];
        carry[e] = 0.0f;
    } else if (code == RECUR_STEP_HOLE) {
        carry[e] = carry[e] + d;
    }
    dst[e] = accumulate ? dst[e] + g : g;
}

/**
 * Zoneout's backward, j < W: running rows split the state's gradient dState into the candidate's
 * (1 - d)·dState (into dCand) and the previous state's d·dState (left in dState); other rows pass
 * dState through and give the candidate 0.
 */
RECUR_HD void recur_opt_zone_backward_element(int b, int j, int batch, int width, int t, float p, long long seed,
                                              long long start,
                                              const int* __restrict__ codes,  // [T*B]
                                              float* __restrict__ dState,     // [B, W]
                                              float* __restrict__ dCand) {    // [B, W]
    size_t e = (size_t) b * width + j;
    if (codes[(size_t) t * batch + b] != RECUR_STEP_RUN) {
        dCand[e] = 0.0f;
        return;
    }
    float d = recur_zone_factor(p, 1, seed, start, ((long long) t * batch + b) * width + j);
    float ds = dState[e];
    dCand[e] = (1.0f - d) * ds;
    dState[e] = d * ds;
}

/**
 * The recurrent input's gradient, j < R: dr = m ⊙ dq (the same mask as the forward); accumulate:
 * dst += dr (the recurrent input is the state), else dst = dr.
 */
RECUR_HD void recur_opt_recurrent_gradient_element(int b, int j, int width, float p, long long seed,
                                                   long long start, int accumulate,
                                                   const float* __restrict__ dq,  // [B, R]
                                                   float* __restrict__ dst) {     // [B, R]
    size_t e = (size_t) b * width + j;
    float dr = recur_keep_factor(p, 1, seed, start, (long long) b * width + j) * dq[e];
    dst[e] = accumulate ? dst[e] + dr : dr;
}

// ---------------------------------------------------------------- backward, gate math (j < H)

/**
 * LSTM family: dhCand [B, H] reaches hCand = o ⊙ tanhC (tanhC = tanh(c~), or tanh(LN(c~))),
 * dc [B, H] reaches c_t. Running rows: the gradient reaching c~ is (1 - d_c)·dc + dhCand·o·(1 -
 * tanhC²) (or, with layer normalisation, dcFromH: that through LN, optLayerNormCellBackward's)
 * (+ p_o·da_o), dG as in
 * GateMath.lstmBackward, and dc becomes d_c·dc + f·dc~ (+ peephole terms). Other rows: dG = 0,
 * dc passes through.
 */
RECUR_HD void recur_opt_lstm_backward_element(int b, int u, int batch, int hs, int t, int coupled, float zc,
                                              long long seed, long long zcStart,
                                              const int* __restrict__ codes,    // [T*B]
                                              const float* __restrict__ gates,  // [T*B, GH]
                                              const float* __restrict__ peep,   // [3H] or null
                                              const float* __restrict__ cPrev,  // [T*B, H]
                                              const float* __restrict__ tanhC,  // [T*B, H]
                                              const float* __restrict__ dhCand, // [B, H]
                                              const float* __restrict__ dcFromH,// [B, H] or null
                                              float* __restrict__ dc,           // [B, H]
                                              float* __restrict__ dG) {         // [T*B, GH]
    int gh = (coupled ? 3 : 4) * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t s = (size_t) b * hs + u;
    if (codes[row] != RECUR_STEP_RUN) {
        for (int k = 0; k < gh / hs; k++) {
            dG[g + (size_t) k * hs] = 0.0f;
        }
        return;
    }
    float cp = cPrev[row * hs + u];
    float tc = tanhC[row * hs + u];
    float dhv = dhCand[s];
    float dcT = dc[s];
    float d = recur_zone_factor(zc, 1, seed, zcStart, (long long) row * hs + u);
    float iv, fv, gv, ov;
    recur_lstm_saved_gates(gates, g, hs, coupled, &iv, &fv, &gv, &ov);
    float dao = dhv * tc * recur_sigmoid_slope(ov);
    float fromH = dcFromH != nullptr ? dcFromH[s] : dhv * ov * recur_one_minus_square(tc);
    float dct = (1.0f - d) * dcT + fromH;
    if (peep != nullptr) {
        dct = fmaf(dao, peep[u + 2 * hs], dct);
    }
    dc[s] = recur_lstm_gate_gradients(dct, dao, iv, fv, gv, cp, peep, u, hs, coupled, d * dcT + dct * fv, dG, g);
}

/**
 * GRU, cuDNN form: dhCand [B, H] reaches h~. Running rows: dGx = [da_r, da_z, da_n],
 * dGh = [da_r, da_z, r ⊙ da_n], dh += z ⊙ dh~ (dh already holds d_h ⊙ the state's gradient).
 * Other rows: zeros.
 */
RECUR_HD void recur_opt_gru_backward_element(int b, int u, int batch, int hs, int t,
                                             const int* __restrict__ codes,    // [T*B]
                                             const float* __restrict__ gates,  // [T*B, 3H]
                                             const float* __restrict__ hPrev,  // [T*B, H]
                                             const float* __restrict__ hn,     // [T*B, H]
                                             const float* __restrict__ dhCand, // [B, H]
                                             float* __restrict__ dh,           // [B, H]
                                             float* __restrict__ dGx,          // [T*B, 3H]
                                             float* __restrict__ dGh) {        // [T*B, 3H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t s = (size_t) b * hs + u;
    if (codes[row] != RECUR_STEP_RUN) {
        for (int k = 0; k < 3; k++) {
            dGx[g + (size_t) k * hs] = 0.0f;
            dGh[g + (size_t) k * hs] = 0.0f;
        }
        return;
    }
    float r = gates[g];
    float z = gates[g + hs];
    float n = gates[g + 2 * hs];
    float dhv = dhCand[s];
    float dan = dhv * (-z + 1.0f) * recur_one_minus_square(n);
    float dar = dan * hn[row * hs + u] * recur_sigmoid_slope(r);
    float daz = dhv * (hPrev[row * hs + u] - n) * recur_sigmoid_slope(z);
    dGx[g] = dar;
    dGx[g + hs] = daz;
    dGx[g + 2 * hs] = dan;
    dGh[g] = dar;
    dGh[g + hs] = daz;
    dGh[g + 2 * hs] = dan * r;
    dh[s] = fmaf(dhv, z, dh[s]);
}

/** Original GRU, output half: running rows da_z, da_n and dh += z ⊙ dh~; other rows: dG = 0. */
RECUR_HD void recur_opt_gru_original_backward_output_element(int b, int u, int batch, int hs, int t,
                                                             const int* __restrict__ codes,    // [T*B]
                                                             const float* __restrict__ gates,  // [T*B, 3H]
                                                             const float* __restrict__ hPrev,  // [T*B, H]
                                                             const float* __restrict__ dhCand, // [B, H]
                                                             float* __restrict__ dh,           // [B, H]
                                                             float* __restrict__ dG) {         // [T*B, 3H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t s = (size_t) b * hs + u;
    if (codes[row] != RECUR_STEP_RUN) {
        dG[g] = 0.0f;
        dG[g + hs] = 0.0f;
        dG[g + 2 * hs] = 0.0f;
        return;
    }
    float z = gates[g + hs];
    float n = gates[g + 2 * hs];
    float dhv = dhCand[s];
    dG[g + hs] = dhv * (hPrev[row * hs + u] - n) * recur_sigmoid_slope(z);
    dG[g + 2 * hs] = dhv * (-z + 1.0f) * recur_one_minus_square(n);
    dh[s] = fmaf(dhv, z, dh[s]);
}

/**
 * Original GRU, gates half: dRq reaches r ⊙ src (src as in the forward: q's rows, or h_{t-1} with
 * a projection); running rows da_r = dRq ⊙ src ⊙ σ'(r) and dst = r ⊙ dRq (accumulate: dst +=,
 * into the state's gradient with a projection; else dst = dq, to which the GEMM with W_hh's r, z
 * rows adds the rest). Other rows: dst = 0 (not accumulating) or unchanged.
 */
RECUR_HD void recur_opt_gru_original_backward_gates_element(int b, int u, int batch, int hs, int t, int accumulate,
                                                            const int* __restrict__ codes,    // [T*B]
                                                            const float* __restrict__ gates,  // [T*B, 3H]
                                                            const float* __restrict__ src,    // [B, H]
                                                            const float* __restrict__ dRq,    // [B, H]
                                                            float* __restrict__ dst,          // [B, H]
                                                            float* __restrict__ dG) {         // [T*B, 3H]
    int gh = 3 * hs;
    size_t row = (size_t) t * batch + b;
    size_t g = row * gh + u;
    size_t s = (size_t) b * hs + u;
    if (codes[row] != RECUR_STEP_RUN) {
        if (!accumulate) {
            dst[s] = 0.0f;
        }
        return;   // dG's r block was zeroed by the output half
    }
    float r = gates[g];
    float drq = dRq[s];
    dG[g] = drq * src[s] * recur_sigmoid_slope(r);
    dst[s] = accumulate ? dst[s] + drq * r : drq * r;
}

/** Vanilla RNN: running rows dG = dh~ ⊙ act'(a) from the saved activation; other rows 0. */
RECUR_HD void recur_opt_rnn_backward_element(int b, int u, int batch, int hs, int t, int relu,
                                             const int* __restrict__ codes,    // [T*B]
                                             const float* __restrict__ gates,  // [T*B, H]
                                             const float* __restrict__ dhCand, // [B, H]
                                             float* __restrict__ dG) {         // [T*B, H]
    size_t row = (size_t) t * batch + b;
    size_t g = row * hs + u;
    if (codes[row] != RECUR_STEP_RUN) {
        dG[g] = 0.0f;
        return;
    }
    float v = gates[g];
    float d = dhCand[(size_t) b * hs + u];
    dG[g] = relu ? (v <= 0.0f ? 0.0f : d) : d * recur_one_minus_square(v);
}

// ---------------------------------------------------------------- layer normalisation

/*
 * Note [Layer normalisation reductions]: one warp of RECUR_LN_LANES = 32 lanes normalises one
 * (row, gate block) of H values. Lane l adds the values u = l, l + 32, l + 64, ... in ascending
 * order (the recur_ln_lane_* functions below, shared by kernel and twin); the 32 lane sums are
 * then added in a fixed tree: for o = 16, 8, 4, 2, 1, lane i < o adds lane i + o (the kernels
 * with __shfl_down_sync, the host twin over an array: the same additions in the same order, so
 * the same bits). Statistics in float32, two passes (mean, then the mean squared deviation):
 * μ = Σv / H, σ² = Σ(v - μ)² / H (biased, as PyTorch's LayerNorm), rstd = 1 / sqrtf(σ² + ε).
 */
#define RECUR_LN_LANES 32

/** Lane l's part of Σ_u v[u]. */
RECUR_HD float recur_ln_lane_sum(int lane, int hs, const float* v) {
    float s = 0.0f;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        s += v[u];
    }
    return s;
}

/** Lane l's part of Σ_u (v[u] - mean)². */
RECUR_HD float recur_ln_lane_square_deviation(int lane, int hs, const float* v, float mean) {
    float s = 0.0f;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float d = v[u] - mean;
        s += d * d;
    }
    return s;
}

/** rstd = 1 / sqrt(Σ(v - μ)² / H + ε). */
RECUR_HD float recur_ln_rstd(float squareDeviations, int hs, float eps) {
    return 1.0f / sqrtf(squareDeviations / (float) hs + eps);
}

/** Lane l's outputs: out[u] = γ[u]·((v[u] - μ)·rstd) + β[u]. */
RECUR_HD void recur_ln_lane_apply(int lane, int hs, const float* v, float mean, float rstd, const float* gain,
                                  const float* bias, float* out) {
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        out[u] = gain[u] * ((v[u] - mean) * rstd) + bias[u];
    }
}

/**
 * Lane l's parts of the backward's two sums, with g = dOut ⊙ γ and x̂ = (v - μ)·rstd:
 * a = Σ g, b = Σ g ⊙ x̂.
 */
RECUR_HD void recur_ln_lane_backward_sums(int lane, int hs, const float* v, float mean, float rstd,
                                          const float* gain, const float* dOut, float* a, float* b) {
    float sa = 0.0f;
    float sb = 0.0f;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float g = dOut[u] * gain[u];
        float xh = (v[u] - mean) * rstd;
        sa += g;
        sb += g * xh;
    }
    *a = sa;
    *b = sb;
}

/**
 * Lane l's input gradients dV = rstd·(g - a/H - x̂·b/H) and the gain's per-row terms
 * gainTerm = dOut ⊙ x̂ (summed over rows after the loop; the bias's terms are dOut itself).
 */
RECUR_HD void recur_ln_lane_backward_apply(int lane, int hs, const float* v, float mean, float rstd,
                                           const float* gain, const float* dOut, float a, float b, float* dV,
                                           float* gainTerm) {
    float ma = a / (float) hs;
    float mb = b / (float) hs;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float xh = (v[u] - mean) * rstd;
        float g = dOut[u] * gain[u];
        dV[u] = rstd * (g - ma - xh * mb);
        gainTerm[u] = dOut[u] * xh;
    }
}

/** LSTM with layer normalisation, lane l: lnc = γ_c ĉ + β_c, tanhC = tanh(lnc), hCand = o ⊙ tanhC. */
RECUR_HD void recur_ln_cell_lane_apply(int lane, int hs, const float* c, float mean, float rstd, const float* gain,
                                       const float* bias, const float* o, float* tanhC, float* hCand) {
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float lnc = gain[u] * ((c[u] - mean) * rstd) + bias[u];
        float tc = recur_tanh(lnc);
        tanhC[u] = tc;
        hCand[u] = o[u] * tc;
    }
}

/** The gradient reaching LN(c~) from hCand = o ⊙ tanh(LN(c~)), unit u. */
RECUR_HD float recur_ln_cell_dout(int u, const float* o, const float* tanhC, const float* dhCand) {
    return dhCand[u] * o[u] * recur_one_minus_square(tanhC[u]);
}

/** Lane l's parts of a and b (recur_ln_lane_backward_sums) for LN(c~), dOut from recur_ln_cell_dout. */
RECUR_HD void recur_ln_cell_lane_backward_sums(int lane, int hs, const float* c, float mean, float rstd,
                                               const float* gain, const float* o, const float* tanhC,
                                               const float* dhCand, float* a, float* b) {
    float sa = 0.0f;
    float sb = 0.0f;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float g = recur_ln_cell_dout(u, o, tanhC, dhCand) * gain[u];
        float xh = (c[u] - mean) * rstd;
        sa += g;
        sb += g * xh;
    }
    *a = sa;
    *b = sb;
}

/** Lane l: dcFromH = the gradient reaching c~ through LN; gainTerm = dOut ⊙ ĉ, biasTerm = dOut. */
RECUR_HD void recur_ln_cell_lane_backward_apply(int lane, int hs, const float* c, float mean, float rstd,
                                                const float* gain, const float* o, const float* tanhC,
                                                const float* dhCand, float a, float b, float* dcFromH,
                                                float* gainTerm, float* biasTerm) {
    float ma = a / (float) hs;
    float mb = b / (float) hs;
    for (int u = lane; u < hs; u += RECUR_LN_LANES) {
        float d = recur_ln_cell_dout(u, o, tanhC, dhCand);
        float xh = (c[u] - mean) * rstd;
        float g = d * gain[u];
        dcFromH[u] = rstd * (g - ma - xh * mb);
        gainTerm[u] = d * xh;
        biasTerm[u] = d;
    }
}

#endif  // RECUR_OPTIONS_MATH_CUH
