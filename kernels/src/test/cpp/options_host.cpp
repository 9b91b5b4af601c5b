// options_host.cpp — the host twin of options.cu: every kernel of the option path as a plain C
// function of the same name and parameters, looping its element function of
// ../../main/cuda/options_math.cuh over the same (row, unit) elements in order (on the GPU they
// run at once; no element reads another's output, so the order does not matter). Built by g++
// into a shared library (-ffp-contract=off, like the kernels' -fmad=false) that engine-cuda's
// SimulatedKernels calls through java.lang.foreign, so the simulated-device tests of the option
// path run the kernels' own math through the real layer code. The options.cu part follows one
// rule: the kernel's signature, `extern "C"` without __global__, the grid-stride loop serial. The
// options_ln.cu part runs each warp's 32 lanes one after another and combines their sums in the
// kernels' fixed tree (Note [Layer normalisation reductions]), so it gives the kernels' bits.
#include "../../main/cuda/options_math.cuh"

#define RECUR_OPT_LOOP(W, CALL)                                \
    unsigned total = (unsigned) batch * (unsigned) (W);        \
    for (unsigned e = 0; e < total; e++) {                     \
        int b = (int) (e / (unsigned) (W));                    \
        int j = (int) (e % (unsigned) (W));                    \
        CALL;                                                  \
    }

extern "C" void optRecurrentInput(int batch, int width, int t, float p, int train, long long seed,
                                             long long start,
                                             const float* __restrict__ rec,  // [B, R]
                                             float* __restrict__ q) {        // [T*B, R]
    RECUR_OPT_LOOP(width, recur_opt_recurrent_input_element(b, j, batch, width, t, p, train, seed, start, rec, q))
}

extern "C" void optCommitState(int batch, int width, int t, float p, int train, long long seed,
                                          long long start,
                                          const int* __restrict__ codes,   // [T*B]
                                          const float* __restrict__ cand,  // [B, W]
                                          float* __restrict__ state) {     // [B, W]
    RECUR_OPT_LOOP(width, recur_opt_commit_state_element(b, j, batch, width, t, p, train, seed, start, codes, cand,
                                                         state))
}

extern "C" void optOutput(int batch, int width, int t, int yStride, int yCol,
                                     const int* __restrict__ codes,  // [T*B]
                                     const float* __restrict__ src,  // [B, R]
                                     float* __restrict__ last,       // [B, R]
                                     float* __restrict__ y) {        // [T*B, yStride]
    RECUR_OPT_LOOP(width, recur_opt_output_element(b, j, batch, width, t, yStride, yCol, codes, src, last, y))
}

extern "C" void optLstmForward(int batch, int hs, int t, int coupled, float zc, int train,
                                          long long seed, long long zcStart,
                                          const int* __restrict__ codes,   // [T*B]
                                          const float* __restrict__ ax,    // [T*B, GH]
                                          const float* __restrict__ ah,    // [B, GH]
                                          const float* __restrict__ bih,   // [GH]
                                          const float* __restrict__ bhh,   // [GH]
                                          const float* __restrict__ peep,  // [3H] or null
                                          float* __restrict__ c,           // [B, H]
                                          float* __restrict__ gates,       // [T*B, GH]
                                          float* __restrict__ cTilde,      // [T*B, H]
                                          float* __restrict__ tanhC,       // [T*B, H]
                                          float* __restrict__ hCand) {     // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_lstm_forward_element(b, j, batch, hs, t, coupled, zc, train, seed, zcStart, codes,
                                                      ax, ah, bih, bhh, peep, c, gates, cTilde, tanhC, hCand))
}

extern "C" void optGruForward(int batch, int hs, int t,
                                         const float* __restrict__ ax,    // [T*B, 3H]
                                         const float* __restrict__ ah,    // [B, 3H]
                                         const float* __restrict__ bih,   // [3H]
                                         const float* __restrict__ bhh,   // [3H]
                                         const float* __restrict__ h,     // [B, H]
                                         float* __restrict__ gates,       // [T*B, 3H]
                                         float* __restrict__ hn,          // [T*B, H]
                                         float* __restrict__ hCand) {     // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_forward_element(b, j, batch, hs, t, ax, ah, bih, bhh, h, gates, hn, hCand))
}

extern "C" void optGruOriginalGates(int batch, int hs, int t,
                                               const float* __restrict__ ax,   // [T*B, 3H]
                                               const float* __restrict__ ah,   // [B, 3H]
                                               const float* __restrict__ bih,  // [3H]
                                               const float* __restrict__ bhh,  // [3H]
                                               const float* __restrict__ src,  // [B, H]  q's rows, or h_{t-1}
                                               float* __restrict__ gates,      // [T*B, 3H]
                                               float* __restrict__ rq) {       // [T*B, H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_gates_element(b, j, batch, hs, t, ax, ah, bih, bhh, src, gates, rq))
}

extern "C" void optGruOriginalOutput(int batch, int hs, int t,
                                                const float* __restrict__ ax,   // [T*B, 3H]
                                                const float* __restrict__ ah,   // [B, 3H]
                                                const float* __restrict__ bih,  // [3H]
                                                const float* __restrict__ bhh,  // [3H]
                                                const float* __restrict__ h,    // [B, H]
                                                float* __restrict__ gates,      // [T*B, 3H]
                                                float* __restrict__ hCand) {    // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_output_element(b, j, batch, hs, t, ax, ah, bih, bhh, h, gates, hCand))
}

extern "C" void optRnnForward(int batch, int hs, int t, int relu,
                                         const float* __restrict__ ax,   // [T*B, H]
                                         const float* __restrict__ ah,   // [B, H]
                                         const float* __restrict__ bih,  // [H]
                                         const float* __restrict__ bhh,  // [H]
                                         float* __restrict__ gates,      // [T*B, H]
                                         float* __restrict__ hCand) {    // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_rnn_forward_element(b, j, batch, hs, t, relu, ax, ah, bih, bhh, gates, hCand))
}

extern "C" void optOutputGradient(int batch, int width, int t, int dyStride, int dyCol, int accumulate,
                                             const int* __restrict__ codes,  // [T*B]
                                             const float* __restrict__ dy,   // [T*B, dyStride] or null
                                             float* __restrict__ carry,      // [B, R]
                                             float* __restrict__ dst) {      // [B, R]
    RECUR_OPT_LOOP(width, recur_opt_output_gradient_element(b, j, batch, width, t, dyStride, dyCol, accumulate, codes,
                                                            dy, carry, dst))
}

extern "C" void optZoneBackward(int batch, int width, int t, float p, long long seed, long long start,
                                           const int* __restrict__ codes,  // [T*B]
                                           float* __restrict__ dState,     // [B, W]
                                           float* __restrict__ dCand) {    // [B, W]
    RECUR_OPT_LOOP(width, recur_opt_zone_backward_element(b, j, batch, width, t, p, seed, start, codes, dState, dCand))
}

extern "C" void optRecurrentGradient(int batch, int width, float p, long long seed, long long start,
                                                int accumulate,
                                                const float* __restrict__ dq,  // [B, R]
                                                float* __restrict__ dst) {     // [B, R]
    RECUR_OPT_LOOP(width, recur_opt_recurrent_gradient_element(b, j, width, p, seed, start, accumulate, dq, dst))
}

extern "C" void optLstmBackward(int batch, int hs, int t, int coupled, float zc, long long seed,
                                           long long zcStart,
                                           const int* __restrict__ codes,    // [T*B]
                                           const float* __restrict__ gates,  // [T*B, GH]
                                           const float* __restrict__ peep,   // [3H] or null
                                           const float* __restrict__ cPrev,  // [T*B, H]
                                           const float* __restrict__ tanhC,  // [T*B, H]
                                           const float* __restrict__ dhCand, // [B, H]
                                           const float* __restrict__ dcFromH,// [B, H] or null
                                           float* __restrict__ dc,           // [B, H]
                                           float* __restrict__ dG) {         // [T*B, GH]
    RECUR_OPT_LOOP(hs, recur_opt_lstm_backward_element(b, j, batch, hs, t, coupled, zc, seed, zcStart, codes, gates,
                                                       peep, cPrev, tanhC, dhCand, dcFromH, dc, dG))
}

extern "C" void optGruBackward(int batch, int hs, int t,
                                          const int* __restrict__ codes,    // [T*B]
                                          const float* __restrict__ gates,  // [T*B, 3H]
                                          const float* __restrict__ hPrev,  // [T*B, H]
                                          const float* __restrict__ hn,     // [T*B, H]
                                          const float* __restrict__ dhCand, // [B, H]
                                          float* __restrict__ dh,           // [B, H]
                                          float* __restrict__ dGx,          // [T*B, 3H]
                                          float* __restrict__ dGh) {        // [T*B, 3H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_backward_element(b, j, batch, hs, t, codes, gates, hPrev, hn, dhCand, dh, dGx,
                                                      dGh))
}

extern "C" void optGruOriginalBackwardOutput(int batch, int hs, int t,
                                                        const int* __restrict__ codes,    // [T*B]
                                                        const float* __restrict__ gates,  // [T*B, 3H]
                                                        const float* __restrict__ hPrev,  // [T*B, H]
                                                        const float* __restrict__ dhCand, // [B, H]
                                                        float* __restrict__ dh,           // [B, H]
                                                        float* __restrict__ dG) {         // [T*B, 3H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_backward_output_element(b, j, batch, hs, t, codes, gates, hPrev, dhCand,
                                                                      dh, dG))
}

extern "C" void optGruOriginalBackwardGates(int batch, int hs, int t, int accumulate,
                                                       const int* __restrict__ codes,    // [T*B]
                                                       const float* __restrict__ gates,  // [T*B, 3H]
                                                       const float* __restrict__ src,    // [B, H]
                                                       const float* __restrict__ dRq,    // [B, H]
                                                       float* __restrict__ dst,          // [B, H]
                                                       float* __restrict__ dG) {         // [T*B, 3H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_backward_gates_element(b, j, batch, hs, t, accumulate, codes, gates, src,
                                                                     dRq, dst, dG))
}

extern "C" void optRnnBackward(int batch, int hs, int t, int relu,
                                          const int* __restrict__ codes,    // [T*B]
                                          const float* __restrict__ gates,  // [T*B, H]
                                          const float* __restrict__ dhCand, // [B, H]
                                          float* __restrict__ dG) {         // [T*B, H]
    RECUR_OPT_LOOP(hs, recur_opt_rnn_backward_element(b, j, batch, hs, t, relu, codes, gates, dhCand, dG))
}

// ---------------------------------------------------------------- options_ln.cu

namespace {

// The kernels' __shfl_down_sync tree over 32 lane values: for o = 16 .. 1, lane i < o adds lane i + o.
float lane_total(float* lanes) {
    for (int o = RECUR_LN_LANES / 2; o > 0; o >>= 1) {
        for (int i = 0; i < o; i++) {
            lanes[i] += lanes[i + o];
        }
    }
    return lanes[0];
}

}  // namespace

extern "C" void optLayerNorm(int rows, int hs, int gh, int firstBlock, int blockCount, float eps, const float* v,
                             const float* gain, const float* bias, float* out, float* stats) {
    float lanes[RECUR_LN_LANES];
    for (int w = 0; w < rows * blockCount; w++) {
        int row = w / blockCount;
        int k = firstBlock + w % blockCount;
        size_t base = (size_t) row * gh + (size_t) k * hs;
        for (int l = 0; l < RECUR_LN_LANES; l++) lanes[l] = recur_ln_lane_sum(l, hs, v + base);
        float mean = lane_total(lanes) / (float) hs;
        for (int l = 0; l < RECUR_LN_LANES; l++) lanes[l] = recur_ln_lane_square_deviation(l, hs, v + base, mean);
        float rstd = recur_ln_rstd(lane_total(lanes), hs, eps);
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_lane_apply(l, hs, v + base, mean, rstd, gain + (size_t) k * hs, bias + (size_t) k * hs,
                                out + base);
        }
        size_t st = ((size_t) row * (gh / hs) + k) * 2;
        stats[st] = mean;
        stats[st + 1] = rstd;
    }
}

extern "C" void optLayerNormBackward(int rows, int hs, int gh, int firstBlock, int blockCount, const float* v,
                                     const float* stats, const float* gain, const float* dOut, float* dV,
                                     float* gainTerm) {
    float la[RECUR_LN_LANES];
    float lb[RECUR_LN_LANES];
    for (int w = 0; w < rows * blockCount; w++) {
        int row = w / blockCount;
        int k = firstBlock + w % blockCount;
        size_t base = (size_t) row * gh + (size_t) k * hs;
        size_t st = ((size_t) row * (gh / hs) + k) * 2;
        float mean = stats[st];
        float rstd = stats[st + 1];
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_lane_backward_sums(l, hs, v + base, mean, rstd, gain + (size_t) k * hs, dOut + base, &la[l],
                                        &lb[l]);
        }
        float a = lane_total(la);
        float b = lane_total(lb);
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_lane_backward_apply(l, hs, v + base, mean, rstd, gain + (size_t) k * hs, dOut + base, a, b,
                                         dV + base, gainTerm + base);
        }
    }
}

extern "C" void optLayerNormCell(int batch, int hs, int t, int gh, int oAt, float eps, const float* cTilde,
                                 const float* gates, const float* gain, const float* bias, float* stats,
                                 float* tanhC, float* hCand) {
    float lanes[RECUR_LN_LANES];
    for (int b = 0; b < batch; b++) {
        size_t row = (size_t) t * batch + b;
        const float* c = cTilde + row * hs;
        for (int l = 0; l < RECUR_LN_LANES; l++) lanes[l] = recur_ln_lane_sum(l, hs, c);
        float mean = lane_total(lanes) / (float) hs;
        for (int l = 0; l < RECUR_LN_LANES; l++) lanes[l] = recur_ln_lane_square_deviation(l, hs, c, mean);
        float rstd = recur_ln_rstd(lane_total(lanes), hs, eps);
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_cell_lane_apply(l, hs, c, mean, rstd, gain, bias, gates + row * gh + oAt, tanhC + row * hs,
                                     hCand + (size_t) b * hs);
        }
        stats[row * 2] = mean;
        stats[row * 2 + 1] = rstd;
    }
}

extern "C" void optLayerNormCellBackward(int batch, int hs, int t, int gh, int oAt, const float* cTilde,
                                         const float* gates, const float* gain, const float* stats,
                                         const float* tanhC, const float* dhCand, float* dcFromH, float* gainTerm,
                                         float* biasTerm) {
    float la[RECUR_LN_LANES];
    float lb[RECUR_LN_LANES];
    for (int b = 0; b < batch; b++) {
        size_t row = (size_t) t * batch + b;
        const float* c = cTilde + row * hs;
        const float* o = gates + row * gh + oAt;
        float mean = stats[row * 2];
        float rstd = stats[row * 2 + 1];
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_cell_lane_backward_sums(l, hs, c, mean, rstd, gain, o, tanhC + row * hs,
                                             dhCand + (size_t) b * hs, &la[l], &lb[l]);
        }
        float a = lane_total(la);
        float bb = lane_total(lb);
        for (int l = 0; l < RECUR_LN_LANES; l++) {
            recur_ln_cell_lane_backward_apply(l, hs, c, mean, rstd, gain, o, tanhC + row * hs,
                                              dhCand + (size_t) b * hs, a, bb, dcFromH + (size_t) b * hs,
                                              gainTerm + row * hs, biasTerm + row * hs);
        }
    }
}
