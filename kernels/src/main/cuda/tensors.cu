/*
 * tensors.cu — engine-cpu's CpuTensorOps (the *Impl methods, one kernel or a fixed chain of
 * kernels each) and CpuBackend.firstNonFinite. Part of recur.cu. copyImpl is a
 * cuMemcpyDtoDAsync and needs no kernel; addColumnSumsImpl is addColumnSums in layers.cu;
 * embeddingBackwardImpl is in embedding.cu.
 *
 * Legend (T, B, I, H, G, N as in recur.cu): n element count of a flat tensor, R rows and C columns of a matrix, V vocabulary,
 * E embedding width, A and Bd the two leading dimensions of transpose01 and F its last, P the
 * fixed number of partial sums a first-stage reduction writes, one per block: its grid is
 * always CudaKernels.PARTIALS = 256 blocks of 256 threads, whatever the GPU (Note [Deterministic
 * reductions] in recur_common.cuh).
 */
#include "op_math.cuh"
#include "recur_common.cuh"

/** CpuTensorOps.axpyImpl: y += alpha·x (a product, then a sum, as Java rounds them). */
extern "C" __global__ void axpy(int n, float alpha,
                                const float* __restrict__ x,  // [n]
                                float* __restrict__ y) {      // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        y[i] = y[i] + alpha * x[i];
    }
}

/** CpuTensorOps.scaleImpl: x *= alpha. */
extern "C" __global__ void scale(int n, float alpha,
                                 float* __restrict__ x) {  // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        x[i] = x[i] * alpha;
    }
}

/** CpuTensorOps.multiplyImpl: out = a ⊙ b; out may be a or b (hence no __restrict__). */
extern "C" __global__ void multiply(int n,
                                    const float* a,  // [n]
                                    const float* b,  // [n]
                                    float* out) {    // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        out[i] = a[i] * b[i];
    }
}

/** CpuTensorOps.addRowVectorImpl: x[r, c] += v[c]. */
extern "C" __global__ void addRowVector(int rows, int cols,
                                        float* __restrict__ x,          // [R, C]
                                        const float* __restrict__ v) {  // [C]
    unsigned total = (unsigned) rows * (unsigned) cols;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        x[e] = x[e] + v[e % cols];
    }
}

/**
 * CpuTensorOps.embeddingForwardImpl: out[i, :] = table[ids[i], :]. An id outside [0, V) gives a
 * zero row and reports its position i in error[0] (the smallest such i; see recur_report), where
 * the CPU engine throws.
 */
extern "C" __global__ void embeddingForward(int n, int vocab, int dim,
                                            const float* __restrict__ table,  // [V, E]
                                            const int* __restrict__ ids,      // [n]
                                            float* __restrict__ out,          // [n, E]
                                            int* __restrict__ error) {        // [1] or null
    unsigned total = (unsigned) n * (unsigned) dim;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned i = e / dim;
        unsigned k = e % dim;
        int id = ids[i];
        if (id < 0 || id >= vocab) {
            out[e] = 0.0f;
            if (k == 0) {
                recur_report(error, (int) i);
            }
        } else {
            out[e] = table[(size_t) id * dim + k];
        }
    }
}

/**
 * CpuTensorOps.copyColumnsImpl: copies narrow [R, A] into columns [offset, offset + A) of
 * wide [R, W] (intoWide != 0), or those columns back into narrow.
 */
extern "C" __global__ void copyColumns(int rows, int a, int w, int offset, int intoWide,
                                       float* __restrict__ narrow,  // [R, A]
                                       float* __restrict__ wide) {  // [R, W]
    unsigned total = (unsigned) rows * (unsigned) a;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        unsigned r = e / a;
        unsigned k = e % a;
        size_t at = (size_t) r * w + offset + k;
        if (intoWide) {
            wide[at] = narrow[e];
        } else {
            narrow[e] = wide[at];
        }
    }
}

/** CpuTensorOps.transpose01Impl: out[j, i, :] = x[i, j, :] for x [A, Bd, F], out [Bd, A, F]. */
extern "C" __global__ void transpose01(int a, int b, int f,
                                       const float* __restrict__ x,  // [A, Bd, F]
                                       float* __restrict__ out) {    // [Bd, A, F]
    unsigned total = (unsigned) a * (unsigned) b * (unsigned) f;
    for (unsigned e = recur_first(); e < total; e += recur_stride()) {
        // e indexes out: (j, i, k) with j < Bd, i < A, k < F; consecutive threads write
        // consecutive elements of out and read runs of F consecutive elements of x.
        unsigned k = e % f;
        unsigned ji = e / f;
        unsigned i = ji % a;
        unsigned j = ji / a;
        out[e] = x[((size_t) i * b + j) * f + k];
    }
}

/**
 * CpuTensorOps.dropoutImpl: mask[i] = TensorOps.uniform(seed, counter + i) >= p ? 1/(1-p) : 0
 * and y = x ⊙ mask; the same mask bits as every engine (recur_uniform in op_math.cuh).
 */
extern "C" __global__ void dropout(int n, float p, long long seed, long long counter,
                                   const float* __restrict__ x,  // [n]
                                   float* __restrict__ y,        // [n]
                                   float* __restrict__ mask) {   // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_dropout_element(i, p, seed, counter, x, y, mask);
    }
}

/**
 * CpuTensorOps.clipGlobalNormImpl, stage 1 of 3, once per gradient tensor: partials[b] = the sum
 * of x[i]² over the elements that block b of a fixed grid of P blocks visits, in float64 (as the
 * CPU engine sums). Launched with P blocks.
 */
extern "C" __global__ void clipGlobalNormPartials(int n,
                                                  const float* __restrict__ x,   // [n]
                                                  double* __restrict__ partials) {// [P]
    double sum = 0.0;
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        double v = x[i];
        sum += v * v;
    }
    double block = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = block;
    }
}

/**
 * Stage 2, one block: norm[0] = sqrt(Σ partials) over all tensors' partials, in a fixed order.
 */
extern "C" __global__ void clipGlobalNormTotal(int count,
                                               const double* __restrict__ partials,  // [count]
                                               float* __restrict__ norm) {           // [1]
    double sum = 0.0;
    for (unsigned i = threadIdx.x; i < (unsigned) count; i += blockDim.x) {
        sum += partials[i];
    }
    double total = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        norm[0] = (float) sqrt(total);
    }
}

/**
 * Stage 3, once per gradient tensor: when norm[0] > maxNorm, x *= maxNorm / (norm[0] + 1e-6),
 * PyTorch's clip_grad_norm_. The norm is read on the device: no host round trip. A NaN norm
 * compares false and leaves x as it is, as on the CPU.
 */
extern "C" __global__ void clipGlobalNormScale(int n, float maxNorm,
                                               const float* __restrict__ norm,  // [1]
                                               float* __restrict__ x) {         // [n]
    float total = norm[0];
    if (!(total > maxNorm)) {
        return;
    }
    float s = maxNorm / (total + 1e-6f);
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        x[i] = x[i] * s;
    }
}

/**
 * CpuBackend.firstNonFinite, stage 1 of 2: partials[b] = the smallest index of a NaN or ±Inf
 * among the elements block b visits, or INT_MAX. A thread's indices ascend, so its first hit is
 * its smallest and it stops there. Launched with P blocks.
 */
extern "C" __global__ void firstNonFinitePartials(int n,
                                                  const float* __restrict__ x,    // [n]
                                                  int* __restrict__ partials) {   // [P]
    int first = INT_MAX;
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        if (!isfinite(x[i])) {
            first = (int) i;
            break;
        }
    }
    int block = recur_block_min_int(first);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = block;
    }
}

/** Stage 2, one block: result[0] = the smallest partial, or -1 when every element is finite. */
extern "C" __global__ void firstNonFiniteTotal(int count,
                                               const int* __restrict__ partials,  // [count]
                                               int* __restrict__ result) {        // [1]
    int first = INT_MAX;
    for (unsigned i = threadIdx.x; i < (unsigned) count; i += blockDim.x) {
        first = min(first, partials[i]);
    }
    int total = recur_block_min_int(first);
    if (threadIdx.x == 0) {
        result[0] = total == INT_MAX ? -1 : total;
    }
}

/**
 * CpuTensorOps.maskedSoftmaxImpl: probs[n, r, l] = softmax over l < lengths[n] of scores[n, r, :],
 * 0 past it; one thread per row of the N·R rows (recur_masked_softmax_row in op_math.cuh).
 */
extern "C" __global__ void maskedSoftmax(int rows, int rowsPerBlock, int cols,
                                         const int* __restrict__ lengths,  // [N]
                                         const float* scores,              // [N, R, L]
                                         float* probs) {                   // [N, R, L]
    for (unsigned row = recur_first(); row < (unsigned) rows; row += recur_stride()) {
        recur_masked_softmax_row(row, rowsPerBlock, cols, lengths, scores, probs);
    }
}

/** CpuTensorOps.maskedSoftmaxBackwardImpl: dScores = p ⊙ (dProbs - Σ p·dProbs) per row, 0 past lengths[n]. */
extern "C" __global__ void maskedSoftmaxBackward(int rows, int rowsPerBlock, int cols,
                                                 const int* __restrict__ lengths,  // [N]
                                                 const float* __restrict__ probs,  // [N, R, L]
                                                 const float* dProbs,              // [N, R, L]
                                                 float* dScores) {                 // [N, R, L]
    for (unsigned row = recur_first(); row < (unsigned) rows; row += recur_stride()) {
        recur_masked_softmax_backward_row(row, rowsPerBlock, cols, lengths, probs, dProbs, dScores);
    }
}

/** CpuTensorOps.tanhImpl: y = tanh(x). */
extern "C" __global__ void tanhForward(int n, const float* x, float* y) {
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_tanh_element(i, x, y);
    }
}

/** CpuTensorOps.tanhBackwardImpl: dx = dy ⊙ (1 - y ⊙ y). */
extern "C" __global__ void tanhBackward(int n, const float* __restrict__ y, const float* dy, float* dx) {
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_tanh_backward_element(i, y, dy, dx);
    }
}
