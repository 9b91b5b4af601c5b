/*
 * layers.cu — the data movement of one layer direction around the gate kernels: engine-cpu's
 * CpuLayer private helpers (gatherRows, scatterAddRows, loadState, storeState, addColumnSums,
 * addPeepholeGrads) and its inline loops (the bias rows before the input GEMM, copying a step's
 * h into y, adding dy into dh). Part of recur.cu.
 *
 * Legend: T time steps, B batch (sequences), I input size, H hidden units (`hs`), G gate blocks,
 * GH = G*H, N packed rows (sum of the lengths), W row width of a gathered or scattered matrix.
 * Where CpuLayer asks its StepPlan, these kernels read index arrays that the host builds from the
 * plan once per call and uploads:
 *   denseRows [N]  packed row -> row of the dense [T*B, ...] layout (StepPlan.denseRow)
 *   perm      [B]  packed row j -> sequence perm[j] (StepPlan.perm)
 * The packed rows of step s are off = offsets[s] .. off + rows, as in the gate kernels.
 */
#include "recur_common.cuh"

/** CpuLayer.gatherRows: dst[r, :] = src[denseRows[r], :] for every packed row r. */
extern "C" __global__ void gatherRows(int n, int width,
                                      const int* __restrict__ denseRows,  // [N]
                                      const float* __restrict__ src,      // [T*B, W]
                                      float* __restrict__ dst) {          // [N, W]
    unsigned total = (unsigned) n * (unsigned) width;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned r = e / width;
        unsigned k = e % width;
        dst[e] = src[(size_t) denseRows[r] * width + k];
    }
}

/**
 * CpuLayer.scatterAddRows: dst[denseRows[r], :] += src[r, :]. The plan maps packed rows to
 * distinct dense rows, so no two threads add into one element (no atomics needed).
 */
extern "C" __global__ void scatterAddRows(int n, int width,
                                          const int* __restrict__ denseRows,  // [N]
                                          const float* __restrict__ src,      // [N, W]
                                          float* __restrict__ dst) {          // [T*B, W]
    unsigned total = (unsigned) n * (unsigned) width;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned r = e / width;
        unsigned k = e % width;
        size_t d = (size_t) denseRows[r] * width + k;
        dst[d] = dst[d] + src[e];
    }
}

/** CpuLayer.loadState: packed[j, :] = state[perm[j], :], or zeros when state is null. */
extern "C" __global__ void loadState(int batch, int hs,
                                     const int* __restrict__ perm,     // [B]
                                     const float* __restrict__ state,  // [B, H] or null
                                     float* __restrict__ packed) {     // [B, H]
    unsigned total = (unsigned) batch * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned j = e / hs;
        unsigned u = e % hs;
        packed[e] = state == nullptr ? 0.0f : state[(size_t) perm[j] * hs + u];
    }
}

/** CpuLayer.storeState: state[perm[j], :] = packed[j, :]. */
extern "C" __global__ void storeState(int batch, int hs,
                                      const int* __restrict__ perm,      // [B]
                                      const float* __restrict__ packed,  // [B, H]
                                      float* __restrict__ state) {       // [B, H]
    unsigned total = (unsigned) batch * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned j = e / hs;
        unsigned u = e % hs;
        state[(size_t) perm[j] * hs + u] = packed[e];
    }
}

/**
 * CpuLayer.forward's bias rows before the input GEMM (which then adds with beta = 1):
 * x[r, :] = v for every row r.
 */
extern "C" __global__ void broadcastRows(int rows, int cols,
                                         const float* __restrict__ v,  // [C]
                                         float* __restrict__ x) {      // [R, C]
    unsigned total = (unsigned) rows * (unsigned) cols;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        x[e] = v[e % cols];
    }
}

/**
 * CpuLayer.forward's copy of a step's h rows into y: y[denseRows[off + j]*yStride + yCol + u]
 * = h[j, u] (yStride = H, or 2H for a bidirectional layer whose reverse half starts at yCol = H).
 */
extern "C" __global__ void storeStepOutput(int rows, int off, int hs, int yStride, int yCol,
                                           const int* __restrict__ denseRows,  // [N]
                                           const float* __restrict__ h,        // [B, H]
                                           float* __restrict__ y) {            // [T*B, yStride]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned j = e / hs;
        unsigned u = e % hs;
        y[(size_t) denseRows[off + j] * yStride + yCol + u] = h[e];
    }
}

/** CpuLayer.backward's dh[j, u] += dy[denseRows[off + j]*dyStride + dyCol + u]. */
extern "C" __global__ void addStepOutputGradient(int rows, int off, int hs, int dyStride, int dyCol,
                                                 const int* __restrict__ denseRows,  // [N]
                                                 const float* __restrict__ dy,       // [T*B, dyStride]
                                                 float* __restrict__ dh) {           // [B, H]
    unsigned total = (unsigned) rows * (unsigned) hs;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned j = e / hs;
        unsigned u = e % hs;
        dh[e] = dh[e] + dy[(size_t) denseRows[off + j] * dyStride + dyCol + u];
    }
}

/*
 * Column sums with a fixed shape (Note [Deterministic reductions]): a block of
 * RECUR_COLUMN_LANES x RECUR_ROW_LANES threads owns RECUR_COLUMN_LANES adjacent columns; row lane k
 * adds rows k, k + RECUR_ROW_LANES, ... in ascending order (consecutive threads read consecutive
 * columns of a row: coalesced), then lane 0 adds the row lanes' sums in order k = 0, 1, ... The
 * shape depends on nothing but the row count. The kernels must be launched with exactly
 * 32 x 8 = 256 threads; __launch_bounds__ puts that number into the PTX (.maxntid), where
 * KernelSignatureTest compares it with CudaKernels' launch. Cost: every element is read once; the parallelism
 * is cols / 32 blocks of 256 threads (64 blocks for the 4H = 2048 columns of an H = 512 LSTM).
 */
#define RECUR_COLUMN_LANES 32
#define RECUR_ROW_LANES 8

template <typename Term>
__device__ void recur_column_sums(int rows, int cols, Term term, float* out, float* alsoOut) {
    __shared__ float partial[RECUR_ROW_LANES][RECUR_COLUMN_LANES];
    unsigned lane = threadIdx.x % RECUR_COLUMN_LANES;
    unsigned rowLane = threadIdx.x / RECUR_COLUMN_LANES;
    for (unsigned base = blockIdx.x * RECUR_COLUMN_LANES; base < (unsigned) cols;
         base += gridDim.x * RECUR_COLUMN_LANES) {
        unsigned c = base + lane;
        float sum = 0.0f;
        if (c < (unsigned) cols) {
            for (unsigned r = rowLane; r < (unsigned) rows; r += RECUR_ROW_LANES) {
                sum += term(r, c);
            }
        }
        partial[rowLane][lane] = sum;
        __syncthreads();
        if (rowLane == 0 && c < (unsigned) cols) {
            float total = partial[0][lane];
            for (int k = 1; k < RECUR_ROW_LANES; k++) {
                total += partial[k][lane];
            }
            out[c] += total;
            if (alsoOut != nullptr) {
                alsoOut[c] += total;
            }
        }
        __syncthreads();   // partial is rewritten by the next column group
    }
}

struct RecurMatrixTerm {
    const float* m;
    int cols;
    __device__ float operator()(unsigned r, unsigned c) const {
        return m[(size_t) r * cols + c];
    }
};

/**
 * CpuLayer.addColumnSums and CpuTensorOps.addColumnSumsImpl: out[c] += Σ_r m[r, c]; the same
 * sums are also added to alsoOut when it is not null (CpuLayer adds them to both biases when
 * their gradients are the same columns). Launched with blockDim = 256.
 */
extern "C" __global__ void __launch_bounds__(RECUR_COLUMN_LANES * RECUR_ROW_LANES) addColumnSums(int rows, int cols,
                                         const float* __restrict__ m,  // [R, C]
                                         float* __restrict__ out,      // [C]
                                         float* __restrict__ alsoOut) {// [C] or null
    recur_column_sums(rows, cols, RecurMatrixTerm{m, cols}, out, alsoOut);
}

struct RecurPeepholeTerm {
    const float* dG;
    const float* cPrev;
    const float* cNext;
    int hs;
    // Column c of dp: block k = c / H (p_i, p_f, p_o) and unit u; p_o pairs with gate o (block 3)
    // and c_t, the others with their own gate block and c_{t-1}.
    __device__ float operator()(unsigned r, unsigned c) const {
        unsigned k = c / hs;
        unsigned u = c % hs;
        size_t s = (size_t) r * hs + u;
        size_t g = (size_t) r * 4 * hs + u;
        return k == 2 ? dG[g + 3 * hs] * cNext[s] : dG[g + k * hs] * cPrev[s];
    }
};

/**
 * CpuLayer.addPeepholeGrads: dp_i += Σ_r da_i ⊙ c_{t-1}, dp_f += Σ_r da_f ⊙ c_{t-1},
 * dp_o += Σ_r da_o ⊙ c_t, over all N packed rows. Launched with blockDim = 256.
 */
extern "C" __global__ void __launch_bounds__(RECUR_COLUMN_LANES * RECUR_ROW_LANES) addPeepholeGrads(int rows, int hs,
                                            const float* __restrict__ dG,     // [N, 4H]
                                            const float* __restrict__ cPrev,  // [N, H]
                                            const float* __restrict__ cNext,  // [N, H]
                                            float* __restrict__ dp) {         // [3H]
    recur_column_sums(rows, 3 * hs, RecurPeepholeTerm{dG, cPrev, cNext, hs}, dp, nullptr);
}
