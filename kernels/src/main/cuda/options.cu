/*
 * options.cu — the kernels of the option path (CellOptions, StepControl): one thread per (row,
 * unit) element of a step, grid-stride over batch*width elements, each calling its element
 * function of options_math.cuh (the host twin, src/test/cpp/options_host.cpp, loops the same
 * functions over the same elements). No element reads another's output, so no synchronisation.
 * Part of recur.cu.
 *
 * Legend: B batch (`batch`), T steps, H hidden units (`hs`), R recurrent width, S state width,
 * W the width an element kernel works on (`width`), G gate blocks, GH = G*H; t the real time of
 * the step; rows of [T*B, ...] buffers are t*B + b. codes [T*B]: RECUR_STEP_PAD/RUN/HOLE.
 */
#include "options_math.cuh"

// The same text compiles as the host twin (src/test/cpp/options_host.cpp includes this file and
// g++ builds it): there a kernel is a plain C function and its grid-stride loop runs serially.
#ifdef __CUDACC__
#include "recur_common.cuh"
#define RECUR_OPT_KERNEL extern "C" __global__ void
#define RECUR_OPT_FIRST recur_first()
#define RECUR_OPT_STRIDE recur_stride()
#else
#define RECUR_OPT_KERNEL extern "C" void
#define RECUR_OPT_FIRST 0u
#define RECUR_OPT_STRIDE 1u
#endif

#define RECUR_OPT_LOOP(W, CALL)                                                        \
    unsigned total = (unsigned) batch * (unsigned) (W);                                \
    for (unsigned e = RECUR_OPT_FIRST; e < total; e += RECUR_OPT_STRIDE) {             \
        int b = (int) (e / (unsigned) (W));                                            \
        int j = (int) (e % (unsigned) (W));                                            \
        CALL;                                                                          \
    }

RECUR_OPT_KERNEL optRecurrentInput(int batch, int width, int t, float p, int train, long long seed,
                                   long long start,
                                   const float* __restrict__ rec,  // [B, R]
                                   float* __restrict__ q) {        // [T*B, R]
    RECUR_OPT_LOOP(width, recur_opt_recurrent_input_element(b, j, batch, width, t, p, train, seed, start, rec, q))
}

RECUR_OPT_KERNEL optCommitState(int batch, int width, int t, float p, int train, long long seed,
                                long long start,
                                const int* __restrict__ codes,   // [T*B]
                                const float* __restrict__ cand,  // [B, W]
                                float* __restrict__ state) {     // [B, W]
    RECUR_OPT_LOOP(width, recur_opt_commit_state_element(b, j, batch, width, t, p, train, seed, start, codes, cand,
                                                         state))
}

RECUR_OPT_KERNEL optOutput(int batch, int width, int t, int yStride, int yCol,
                           const int* __restrict__ codes,  // [T*B]
                           const float* __restrict__ src,  // [B, R]
                           float* __restrict__ last,       // [B, R]
                           float* __restrict__ y) {        // [T*B, yStride]
    RECUR_OPT_LOOP(width, recur_opt_output_element(b, j, batch, width, t, yStride, yCol, codes, src, last, y))
}

RECUR_OPT_KERNEL optLstmForward(int batch, int hs, int t, int coupled, float zc, int train,
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

RECUR_OPT_KERNEL optGruForward(int batch, int hs, int t,
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

RECUR_OPT_KERNEL optGruOriginalGates(int batch, int hs, int t,
                                     const float* __restrict__ ax,   // [T*B, 3H]
                                     const float* __restrict__ ah,   // [B, 3H]
                                     const float* __restrict__ bih,  // [3H]
                                     const float* __restrict__ bhh,  // [3H]
                                     const float* __restrict__ src,  // [B, H]  q's rows, or h_{t-1}
                                     float* __restrict__ gates,      // [T*B, 3H]
                                     float* __restrict__ rq) {       // [T*B, H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_gates_element(b, j, batch, hs, t, ax, ah, bih, bhh, src, gates, rq))
}

RECUR_OPT_KERNEL optGruOriginalOutput(int batch, int hs, int t,
                                      const float* __restrict__ ax,   // [T*B, 3H]
                                      const float* __restrict__ ah,   // [B, 3H]
                                      const float* __restrict__ bih,  // [3H]
                                      const float* __restrict__ bhh,  // [3H]
                                      const float* __restrict__ h,    // [B, H]
                                      float* __restrict__ gates,      // [T*B, 3H]
                                      float* __restrict__ hCand) {    // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_output_element(b, j, batch, hs, t, ax, ah, bih, bhh, h, gates, hCand))
}

RECUR_OPT_KERNEL optRnnForward(int batch, int hs, int t, int relu,
                               const float* __restrict__ ax,   // [T*B, H]
                               const float* __restrict__ ah,   // [B, H]
                               const float* __restrict__ bih,  // [H]
                               const float* __restrict__ bhh,  // [H]
                               float* __restrict__ gates,      // [T*B, H]
                               float* __restrict__ hCand) {    // [B, H]
    RECUR_OPT_LOOP(hs, recur_opt_rnn_forward_element(b, j, batch, hs, t, relu, ax, ah, bih, bhh, gates, hCand))
}

RECUR_OPT_KERNEL optOutputGradient(int batch, int width, int t, int dyStride, int dyCol, int accumulate,
                                   const int* __restrict__ codes,  // [T*B]
                                   const float* __restrict__ dy,   // [T*B, dyStride] or null
                                   float* __restrict__ carry,      // [B, R]
                                   float* __restrict__ dst) {      // [B, R]
    RECUR_OPT_LOOP(width, recur_opt_output_gradient_element(b, j, batch, width, t, dyStride, dyCol, accumulate, codes,
                                                            dy, carry, dst))
}

RECUR_OPT_KERNEL optZoneBackward(int batch, int width, int t, float p, long long seed, long long start,
                                 const int* __restrict__ codes,  // [T*B]
                                 float* __restrict__ dState,     // [B, W]
                                 float* __restrict__ dCand) {    // [B, W]
    RECUR_OPT_LOOP(width, recur_opt_zone_backward_element(b, j, batch, width, t, p, seed, start, codes, dState, dCand))
}

RECUR_OPT_KERNEL optRecurrentGradient(int batch, int width, float p, long long seed, long long start,
                                      int accumulate,
                                      const float* __restrict__ dq,  // [B, R]
                                      float* __restrict__ dst) {     // [B, R]
    RECUR_OPT_LOOP(width, recur_opt_recurrent_gradient_element(b, j, width, p, seed, start, accumulate, dq, dst))
}

RECUR_OPT_KERNEL optLstmBackward(int batch, int hs, int t, int coupled, float zc, long long seed,
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

RECUR_OPT_KERNEL optGruBackward(int batch, int hs, int t,
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

RECUR_OPT_KERNEL optGruOriginalBackwardOutput(int batch, int hs, int t,
                                              const int* __restrict__ codes,    // [T*B]
                                              const float* __restrict__ gates,  // [T*B, 3H]
                                              const float* __restrict__ hPrev,  // [T*B, H]
                                              const float* __restrict__ dhCand, // [B, H]
                                              float* __restrict__ dh,           // [B, H]
                                              float* __restrict__ dG) {         // [T*B, 3H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_backward_output_element(b, j, batch, hs, t, codes, gates, hPrev, dhCand,
                                                                      dh, dG))
}

RECUR_OPT_KERNEL optGruOriginalBackwardGates(int batch, int hs, int t, int accumulate,
                                             const int* __restrict__ codes,    // [T*B]
                                             const float* __restrict__ gates,  // [T*B, 3H]
                                             const float* __restrict__ src,    // [B, H]
                                             const float* __restrict__ dRq,    // [B, H]
                                             float* __restrict__ dst,          // [B, H]
                                             float* __restrict__ dG) {         // [T*B, 3H]
    RECUR_OPT_LOOP(hs, recur_opt_gru_original_backward_gates_element(b, j, batch, hs, t, accumulate, codes, gates, src,
                                                                     dRq, dst, dG))
}

RECUR_OPT_KERNEL optRnnBackward(int batch, int hs, int t, int relu,
                                const int* __restrict__ codes,    // [T*B]
                                const float* __restrict__ gates,  // [T*B, H]
                                const float* __restrict__ dhCand, // [B, H]
                                float* __restrict__ dG) {         // [T*B, H]
    RECUR_OPT_LOOP(hs, recur_opt_rnn_backward_element(b, j, batch, hs, t, relu, codes, gates, dhCand, dG))
}
