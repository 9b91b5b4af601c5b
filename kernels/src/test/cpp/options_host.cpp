// options_host.cpp — the host twin of options.cu and options_ln.cu, built by g++ into a shared
// library (-ffp-contract=off, like the kernels' -fmad=false) that engine-cuda's SimulatedKernels
// calls through java.lang.foreign, so the simulated-device tests of the option path run the kernels'
// own math through the real layer code.
// - options.cu is included as it is: without __CUDACC__ each kernel compiles as a plain C function
//   of the same name and parameters, its grid-stride loop serial over the same (row, unit) elements
//   (on the GPU they run at once; no element reads another's output, so the order does not matter).
// - The options_ln.cu part below runs each warp's 32 lanes one after another and combines their sums
//   in the kernels' fixed tree (Note [Layer normalisation reductions]), so it gives the kernels' bits.
#include "../../main/cuda/options.cu"

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
