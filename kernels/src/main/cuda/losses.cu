/*
 * losses.cu — engine-cpu's CpuLossOps: each loss as a fixed chain of kernels that writes the
 * mean loss into a [1] device tensor and, when asked, the gradient; nothing goes back to the
 * host. Part of recur.cu.
 *
 * Legend (T, B, I, H, G, N as in recur.cu): n rows (cross-entropy, T*B for a sequence batch) or elements (the others), C classes, P = CudaKernels.PARTIALS partial
 * sums (tensors.cu). Sums are float64 in a fixed shape (Note [Deterministic reductions]), as the
 * CPU engine sums in float64 in index order. Per-element exponentials are expf for the softmax
 * (float logits, float64 sums: the sum's rounding dominates nothing at float32 output precision)
 * and float64 exp/log1p for the binary cross-entropy, as CpuLossOps computes it.
 */
#include "recur_common.cuh"

/**
 * CpuLossOps.softmaxCrossEntropyImpl, stage 1 of 3, one block: count[0] = the number of rows
 * whose target is not ignoreIndex. A target outside [0, C) that is not ignoreIndex (the CPU
 * engine throws) is reported in error[0] and the row is treated as ignored.
 */
extern "C" __global__ void softmaxCrossEntropyCount(int n, int c, int ignoreIndex,
                                                    const int* __restrict__ targets,  // [n]
                                                    int* __restrict__ count,          // [1]
                                                    int* __restrict__ error) {        // [1] or null
    int mine = 0;
    for (unsigned i = threadIdx.x; i < (unsigned) n; i += blockDim.x) {
        int t = targets[i];
        if (t == ignoreIndex) {
            continue;
        }
        if (t < 0 || t >= c) {
            recur_report(error, (int) i);
        } else {
            mine++;
        }
    }
    int total = recur_block_sum_int(mine);
    if (threadIdx.x == 0) {
        count[0] = total;
    }
}

/**
 * Stage 2, one block per row (grid-stride over rows): rowLoss[i] = logZ_i - x[i, t_i] with
 * logZ_i = log Σ_k e^{x[i,k] - max_i} + max_i, and, when dLogits is not null,
 * dLogits[i, k] = softmax(x_i)_k / count - [k == t_i] / count. Ignored rows get rowLoss 0 and a
 * zero gradient row.
 */
extern "C" __global__ void softmaxCrossEntropyRows(int n, int c, int ignoreIndex,
                                                   const float* __restrict__ logits,   // [n, C]
                                                   const int* __restrict__ targets,    // [n]
                                                   const int* __restrict__ count,      // [1]
                                                   double* __restrict__ rowLoss,       // [n]
                                                   float* __restrict__ dLogits) {      // [n, C] or null
    int counted = count[0];
    float inv = counted == 0 ? 0.0f : 1.0f / (float) counted;
    for (unsigned i = blockIdx.x; i < (unsigned) n; i += gridDim.x) {
        int t = targets[i];
        const float* x = logits + (size_t) i * c;
        float* d = dLogits == nullptr ? nullptr : dLogits + (size_t) i * c;
        if (t == ignoreIndex || t < 0 || t >= c) {   // the same for every thread of the block
            if (d != nullptr) {
                for (unsigned k = threadIdx.x; k < (unsigned) c; k += blockDim.x) {
                    d[k] = 0.0f;
                }
            }
            if (threadIdx.x == 0) {
                rowLoss[i] = 0.0;
            }
            continue;
        }
        float mx = -INFINITY;
        for (unsigned k = threadIdx.x; k < (unsigned) c; k += blockDim.x) {
            mx = fmaxf(mx, x[k]);
        }
        mx = recur_block_max(mx);
        double z = 0.0;
        for (unsigned k = threadIdx.x; k < (unsigned) c; k += blockDim.x) {
            z += (double) expf(x[k] - mx);
        }
        z = recur_block_sum(z);
        double logZ = log(z) + (double) mx;
        if (threadIdx.x == 0) {
            rowLoss[i] = logZ - (double) x[t];
        }
        if (d != nullptr) {
            for (unsigned k = threadIdx.x; k < (unsigned) c; k += blockDim.x) {
                float v = expf((float) ((double) x[k] - logZ)) * inv;
                if (k == (unsigned) t) {
                    v -= inv;
                }
                d[k] = v;
            }
        }
    }
}

/** Stage 3, one block: loss[0] = Σ rowLoss / count, or 0 when no row counted. */
extern "C" __global__ void softmaxCrossEntropyTotal(int n,
                                                    const int* __restrict__ count,       // [1]
                                                    const double* __restrict__ rowLoss,  // [n]
                                                    float* __restrict__ loss) {          // [1]
    double sum = 0.0;
    for (unsigned i = threadIdx.x; i < (unsigned) n; i += blockDim.x) {
        sum += rowLoss[i];
    }
    double total = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        int counted = count[0];
        loss[0] = counted == 0 ? 0.0f : (float) (total / counted);
    }
}

/**
 * CpuLossOps.meanSquaredErrorImpl, stage 1 of 2, P blocks: partials[b] = Σ (pred - target)² over
 * block b's elements (float64); dPred = 2 (pred - target) / n when not null.
 */
extern "C" __global__ void meanSquaredErrorPartials(int n,
                                                    const float* __restrict__ pred,    // [n]
                                                    const float* __restrict__ target,  // [n]
                                                    float* __restrict__ dPred,         // [n] or null
                                                    double* __restrict__ partials) {   // [P]
    float scale = 2.0f / (float) n;
    double sum = 0.0;
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        float e = pred[i] - target[i];
        sum += (double) e * e;
        if (dPred != nullptr) {
            dPred[i] = scale * e;
        }
    }
    double block = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = block;
    }
}

/**
 * CpuLossOps.binaryCrossEntropyWithLogitsImpl, stage 1 of 2, P blocks: partials[b] = Σ
 * max(x, 0) - x·t + log(1 + e^{-|x|}) over block b's elements, in float64;
 * dLogits = (σ(x) - t) / n when not null.
 */
extern "C" __global__ void binaryCrossEntropyWithLogitsPartials(int n,
                                                                const float* __restrict__ logits,  // [n]
                                                                const float* __restrict__ target,  // [n]
                                                                float* __restrict__ dLogits,       // [n] or null
                                                                double* __restrict__ partials) {   // [P]
    float inv = 1.0f / (float) n;
    double sum = 0.0;
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        double v = logits[i];
        double t = target[i];
        sum += fmax(v, 0.0) - v * t + log1p(exp(-fabs(v)));
        if (dLogits != nullptr) {
            dLogits[i] = (float) ((1.0 / (1.0 + exp(-v)) - t) * (double) inv);
        }
    }
    double block = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = block;
    }
}

/** Stage 2 of the mean losses, one block: loss[0] = Σ partials / divisor. */
extern "C" __global__ void meanOfPartials(int count, int divisor,
                                          const double* __restrict__ partials,  // [count]
                                          float* __restrict__ loss) {           // [1]
    double sum = 0.0;
    for (unsigned i = threadIdx.x; i < (unsigned) count; i += blockDim.x) {
        sum += partials[i];
    }
    double total = recur_block_sum(sum);
    if (threadIdx.x == 0) {
        loss[0] = (float) (total / divisor);
    }
}
