/*
 * options_ln.cu — layer normalisation of the option path (CellOptions.layerNorm): one warp per
 * (row, gate block) of H values, 4 warps (128 threads) per block, grid-stride over the warps;
 * the per-lane math is options_math.cuh's recur_ln_* functions and the lane sums are combined in
 * the fixed tree of Note [Layer normalisation reductions], so the host twin
 * (src/test/cpp/options_host.cpp) gives the same bits. Part of recur.cu.
 *
 * Legend: B batch, T steps, H hidden (`hs`), G gate blocks, GH = G*H (`gh`, the row stride);
 * stats [rows, G, 2] hold (μ, rstd) per row and block; t the real time of a step, rows t*B + b.
 */
#include "options_math.cuh"
#include "recur_common.cuh"

#define RECUR_LN_WARPS 4

/** The fixed tree of Note [Layer normalisation reductions]; every lane gets lane 0's total. */
__device__ __forceinline__ float recur_warp_total(float v) {
    for (int o = RECUR_LN_LANES / 2; o > 0; o >>= 1) {
        v += __shfl_down_sync(0xffffffffu, v, o);
    }
    return __shfl_sync(0xffffffffu, v, 0);
}

/** The first warp of this thread in a grid-stride loop over warps, and its lane. */
#define RECUR_LN_WARP_LOOP(COUNT)                                                                   \
    int lane = (int) (threadIdx.x % RECUR_LN_LANES);                                                 \
    for (unsigned w = blockIdx.x * RECUR_LN_WARPS + threadIdx.x / RECUR_LN_LANES; w < (unsigned) (COUNT); \
         w += gridDim.x * RECUR_LN_WARPS)

/**
 * out = γ ⊙ (v - μ)·rstd + β for blocks [firstBlock, firstBlock + blockCount) of every row,
 * (μ, rstd) saved in stats. v and out are distinct.
 */
extern "C" __global__ void __launch_bounds__(RECUR_LN_WARPS * RECUR_LN_LANES) optLayerNorm(
        int rows, int hs, int gh, int firstBlock, int blockCount, float eps,
        const float* __restrict__ v,     // [rows, GH]
        const float* __restrict__ gain,  // [GH]
        const float* __restrict__ bias,  // [GH]
        float* __restrict__ out,         // [rows, GH]
        float* __restrict__ stats) {     // [rows, G, 2]
    RECUR_LN_WARP_LOOP(rows * blockCount) {
        int row = (int) (w / (unsigned) blockCount);
        int k = firstBlock + (int) (w % (unsigned) blockCount);
        size_t base = (size_t) row * gh + (size_t) k * hs;
        float mean = recur_warp_total(recur_ln_lane_sum(lane, hs, v + base)) / (float) hs;
        float rstd = recur_ln_rstd(recur_warp_total(recur_ln_lane_square_deviation(lane, hs, v + base, mean)), hs,
                                   eps);
        recur_ln_lane_apply(lane, hs, v + base, mean, rstd, gain + (size_t) k * hs, bias + (size_t) k * hs,
                            out + base);
        if (lane == 0) {
            size_t st = ((size_t) row * (gh / hs) + k) * 2;
            stats[st] = mean;
            stats[st + 1] = rstd;
        }
    }
}

/** The backward of optLayerNorm: dV from dOut, and the gain's per-row terms dOut ⊙ x̂. */
extern "C" __global__ void __launch_bounds__(RECUR_LN_WARPS * RECUR_LN_LANES) optLayerNormBackward(
        int rows, int hs, int gh, int firstBlock, int blockCount,
        const float* __restrict__ v,        // [rows, GH]  the raw input
        const float* __restrict__ stats,    // [rows, G, 2]
        const float* __restrict__ gain,     // [GH]
        const float* __restrict__ dOut,     // [rows, GH]
        float* __restrict__ dV,             // [rows, GH]
        float* __restrict__ gainTerm) {     // [rows, GH]
    RECUR_LN_WARP_LOOP(rows * blockCount) {
        int row = (int) (w / (unsigned) blockCount);
        int k = firstBlock + (int) (w % (unsigned) blockCount);
        size_t base = (size_t) row * gh + (size_t) k * hs;
        size_t st = ((size_t) row * (gh / hs) + k) * 2;
        float mean = stats[st];
        float rstd = stats[st + 1];
        float a;
        float b;
        recur_ln_lane_backward_sums(lane, hs, v + base, mean, rstd, gain + (size_t) k * hs, dOut + base, &a, &b);
        a = recur_warp_total(a);
        b = recur_warp_total(b);
        recur_ln_lane_backward_apply(lane, hs, v + base, mean, rstd, gain + (size_t) k * hs, dOut + base, a, b,
                                     dV + base, gainTerm + base);
    }
}

/** LSTM, step t: lnc = LN(c~; γ_c, β_c), tanhC = tanh(lnc), hCand = o ⊙ tanhC; (μ, rstd) in stats. */
extern "C" __global__ void __launch_bounds__(RECUR_LN_WARPS * RECUR_LN_LANES) optLayerNormCell(
        int batch, int hs, int t, int gh, int oAt, float eps,
        const float* __restrict__ cTilde,  // [T*B, H]
        const float* __restrict__ gates,   // [T*B, GH]  o at column oAt
        const float* __restrict__ gain,    // [H]
        const float* __restrict__ bias,    // [H]
        float* __restrict__ stats,         // [T*B, 2]
        float* __restrict__ tanhC,         // [T*B, H]
        float* __restrict__ hCand) {       // [B, H]
    RECUR_LN_WARP_LOOP(batch) {
        int b = (int) w;
        size_t row = (size_t) t * batch + b;
        const float* c = cTilde + row * hs;
        float mean = recur_warp_total(recur_ln_lane_sum(lane, hs, c)) / (float) hs;
        float rstd = recur_ln_rstd(recur_warp_total(recur_ln_lane_square_deviation(lane, hs, c, mean)), hs, eps);
        recur_ln_cell_lane_apply(lane, hs, c, mean, rstd, gain, bias, gates + row * gh + oAt, tanhC + row * hs,
                                 hCand + (size_t) b * hs);
        if (lane == 0) {
            stats[row * 2] = mean;
            stats[row * 2 + 1] = rstd;
        }
    }
}

/** The backward of optLayerNormCell: dcFromH reaches c~; the gain's and bias's per-row terms. */
extern "C" __global__ void __launch_bounds__(RECUR_LN_WARPS * RECUR_LN_LANES) optLayerNormCellBackward(
        int batch, int hs, int t, int gh, int oAt,
        const float* __restrict__ cTilde,   // [T*B, H]
        const float* __restrict__ gates,    // [T*B, GH]
        const float* __restrict__ gain,     // [H]
        const float* __restrict__ stats,    // [T*B, 2]
        const float* __restrict__ tanhC,    // [T*B, H]
        const float* __restrict__ dhCand,   // [B, H]
        float* __restrict__ dcFromH,        // [B, H]
        float* __restrict__ gainTerm,       // [T*B, H]
        float* __restrict__ biasTerm) {     // [T*B, H]
    RECUR_LN_WARP_LOOP(batch) {
        int b = (int) w;
        size_t row = (size_t) t * batch + b;
        const float* c = cTilde + row * hs;
        const float* o = gates + row * gh + oAt;
        float mean = stats[row * 2];
        float rstd = stats[row * 2 + 1];
        float a;
        float bb;
        recur_ln_cell_lane_backward_sums(lane, hs, c, mean, rstd, gain, o, tanhC + row * hs,
                                         dhCand + (size_t) b * hs, &a, &bb);
        a = recur_warp_total(a);
        bb = recur_warp_total(bb);
        recur_ln_cell_lane_backward_apply(lane, hs, c, mean, rstd, gain, o, tanhC + row * hs,
                                          dhCand + (size_t) b * hs, a, bb, dcFromH + (size_t) b * hs,
                                          gainTerm + row * hs, biasTerm + row * hs);
    }
}
