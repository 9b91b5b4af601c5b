/*
 * cells.cu — the fused element-wise kernels of each cell, forward and backward: one kernel per
 * method of engine-cpu's GateMath, same name, same formulas, same saved values, same indexing
 * (the bodies live in cell_math.cuh, shared with the host twin). Part of recur.cu.
 *
 * Legend: T time steps, B rows running at this step (`rows`), I input size, H hidden units
 * (`hs`), G gate blocks (1 RNN, 4 LSTM, 3 coupled LSTM and GRU), GH = G*H, N packed rows of the
 * whole sequence (StepPlan). Running row j in [0, rows) of the step is packed row r = off + j.
 *
 * Parameters are (int rows, int off, int hs, <flags as int>, <arrays>), arrays as the base
 * pointers of the whole buffers (the kernel adds the offsets, as GateMath does). One thread per
 * (row, unit) element, grid-stride over rows*hs elements; each thread handles every gate block
 * of its unit, so no two threads touch the same element and the kernels need no synchronisation.
 */
#include "cell_math.cuh"
#include "recur_common.cuh"

extern "C" __global__ void rnnForward(int rows, int off, int hs, int relu,
                                      float* __restrict__ gates,      // [N, H]  in: x·W_ihᵀ + b_ih; out: h
                                      const float* __restrict__ hg,   // [B, H]  h_{t-1}·W_hhᵀ
                                      const float* __restrict__ bhh,  // [H]
                                      float* __restrict__ h) {        // [B, H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_rnn_forward_element(e / hs, e % hs, off, hs, relu, gates, hg, bhh, h);
    }
}

extern "C" __global__ void rnnBackward(int rows, int off, int hs, int relu,
                                       const float* __restrict__ gates,  // [N, H]  saved activations
                                       const float* __restrict__ dh,     // [B, H]
                                       float* __restrict__ dG) {         // [N, H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_rnn_backward_element(e / hs, e % hs, off, hs, relu, gates, dh, dG);
    }
}

extern "C" __global__ void lstmForward(int rows, int off, int hs, int coupled,
                                       float* __restrict__ gates,       // [N, GH]  in: x·W_ihᵀ + b_ih; out: activated gates
                                       const float* __restrict__ hg,    // [B, GH]  h_{t-1}·W_hhᵀ
                                       const float* __restrict__ bhh,   // [GH]
                                       const float* __restrict__ peep,  // [3H] or null
                                       const float* __restrict__ cPrev, // [N, H]  c_{t-1}
                                       float* __restrict__ cNext,       // [N, H]  c_t, saved
                                       float* __restrict__ h,           // [B, H]  running h
                                       float* __restrict__ c) {         // [B, H]  running c
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_lstm_forward_element(e / hs, e % hs, off, hs, coupled, gates, hg, bhh, peep, cPrev, cNext, h, c);
    }
}

extern "C" __global__ void lstmBackward(int rows, int off, int hs, int coupled,
                                        const float* __restrict__ gates,  // [N, GH]  activated gates
                                        const float* __restrict__ peep,   // [3H] or null
                                        const float* __restrict__ cPrev,  // [N, H]
                                        const float* __restrict__ cNext,  // [N, H]
                                        const float* __restrict__ dh,     // [B, H]  all that reaches h_t
                                        float* __restrict__ dc,           // [B, H]  in: reaching c_t; out: reaching c_{t-1}
                                        float* __restrict__ dG) {         // [N, GH]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_lstm_backward_element(e / hs, e % hs, off, hs, coupled, gates, peep, cPrev, cNext, dh, dc, dG);
    }
}

extern "C" __global__ void gruForward(int rows, int off, int hs,
                                      float* __restrict__ gates,       // [N, 3H]
                                      const float* __restrict__ hg,    // [B, 3H]
                                      const float* __restrict__ bhh,   // [3H]
                                      const float* __restrict__ hPrev, // [N, H]
                                      float* __restrict__ hn,          // [N, H]  W_hn h_{t-1} + b_hn, saved
                                      float* __restrict__ h) {         // [B, H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_forward_element(e / hs, e % hs, off, hs, gates, hg, bhh, hPrev, hn, h);
    }
}

extern "C" __global__ void gruBackward(int rows, int off, int hs,
                                       const float* __restrict__ gates,  // [N, 3H]
                                       const float* __restrict__ hPrev,  // [N, H]
                                       const float* __restrict__ hn,     // [N, H]
                                       float* __restrict__ dh,           // [B, H]  in: dh; out: z ⊙ dh
                                       float* __restrict__ dGx,          // [N, 3H]
                                       float* __restrict__ dGh) {        // [N, 3H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_backward_element(e / hs, e % hs, off, hs, gates, hPrev, hn, dh, dGx, dGh);
    }
}

extern "C" __global__ void gruOriginalGates(int rows, int off, int hs,
                                            float* __restrict__ gates,       // [N, 3H]
                                            const float* __restrict__ hg,    // [B, 3H]  r, z blocks used
                                            const float* __restrict__ bhh,   // [3H]
                                            const float* __restrict__ hPrev, // [N, H]
                                            float* __restrict__ rh) {        // [N, H]  r ⊙ h_{t-1}
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_original_gates_element(e / hs, e % hs, off, hs, gates, hg, bhh, hPrev, rh);
    }
}

extern "C" __global__ void gruOriginalOutput(int rows, int off, int hs,
                                             float* __restrict__ gates,       // [N, 3H]
                                             const float* __restrict__ hg,    // [B, 3H]  n block: (r ⊙ h)·W_hnᵀ
                                             const float* __restrict__ bhh,   // [3H]
                                             const float* __restrict__ hPrev, // [N, H]
                                             float* __restrict__ h) {         // [B, H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_original_output_element(e / hs, e % hs, off, hs, gates, hg, bhh, hPrev, h);
    }
}

extern "C" __global__ void gruOriginalBackwardOutput(int rows, int off, int hs,
                                                     const float* __restrict__ gates,  // [N, 3H]
                                                     const float* __restrict__ hPrev,  // [N, H]
                                                     float* __restrict__ dh,           // [B, H]  in: dh; out: z ⊙ dh
                                                     float* __restrict__ dG) {         // [N, 3H]  z, n blocks written
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_original_backward_output_element(e / hs, e % hs, off, hs, gates, hPrev, dh, dG);
    }
}

extern "C" __global__ void gruOriginalBackwardGates(int rows, int off, int hs,
                                                    const float* __restrict__ gates,  // [N, 3H]
                                                    const float* __restrict__ hPrev,  // [N, H]
                                                    const float* __restrict__ dRh,    // [B, H]  da_n·W_hn
                                                    float* __restrict__ dh,           // [B, H]  += r ⊙ dRh
                                                    float* __restrict__ dG) {         // [N, 3H]  r block written
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        recur_gru_original_backward_gates_element(e / hs, e % hs, off, hs, gates, hPrev, dRh, dh, dG);
    }
}
