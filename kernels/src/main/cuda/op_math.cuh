/*
 * op_math.cuh — the element functions of the element-wise ops whose results the CPU engine must
 * reproduce bit for bit: the dropout generator and the optimizer updates. Like cell_math.cuh,
 * compiled by nvcc into the kernels (tensors.cu, optimizers.cu) and by g++ into the host twin,
 * which CellMathHostTwinTest compares with engine-cpu.
 *
 * Legend: n elements of one tensor, i an element; every state tensor has the parameter's shape.
 * Every product and sum is a separate float32 operation, in CpuOptimizerOps' order (the kernels
 * are built with -fmad=false, the host twin with -ffp-contract=off); sqrtf and division are IEEE
 * (correctly rounded) on both, so these are the CPU engine's bits.
 */
#ifndef RECUR_OP_MATH_CUH
#define RECUR_OP_MATH_CUH

#include <math.h>
#include <stddef.h>

#include "host_device.cuh"

/**
 * TensorOps.uniform: SplitMix64 of (seed, index), top 24 bits, in [0, 1). Java's long arithmetic
 * wraps as unsigned 64-bit arithmetic does and >>> is the unsigned shift, so this is the same
 * function bit for bit.
 */
RECUR_HD float recur_uniform(unsigned long long seed, unsigned long long index) {
    unsigned long long z = seed + (index + 1ULL) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (float) (z >> 40) * (1.0f / 16777216.0f);   // exact: z >> 40 < 2^24
}

/** CpuTensorOps.dropoutImpl for element i: mask = uniform(seed, counter + i) >= p ? 1/(1-p) : 0, y = x·mask. */
RECUR_HD void recur_dropout_element(unsigned i, float p, long long seed, long long counter,
                                    const float* __restrict__ x,  // [n]
                                    float* __restrict__ y,        // [n]
                                    float* __restrict__ mask) {   // [n]
    float keep = 1.0f / (1.0f - p);
    float m = recur_uniform((unsigned long long) seed, (unsigned long long) counter + i) >= p ? keep : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
}

/**
 * CpuOptimizerOps.sgdImpl for element i: d = grad + wd·param; with a velocity, v = μ·v + d and
 * d = nesterov ? d + μ·v : v; then param -= lr·d. velocity is null when momentum is 0.
 */
RECUR_HD void recur_sgd_element(unsigned i, float lr, float momentum, float weightDecay, int nesterov,
                                float* __restrict__ param,       // [n]
                                const float* __restrict__ grad,  // [n]
                                float* __restrict__ velocity) {  // [n] or null
    float p = param[i];
    float d = grad[i] + weightDecay * p;
    if (velocity != nullptr) {
        float v = momentum * velocity[i] + d;
        velocity[i] = v;
        d = nesterov ? d + momentum * v : v;
    }
    param[i] = p - lr * d;
}

/** CpuOptimizerOps.rmspropImpl for element i: d = grad + wd·param, s = α·s + (1-α)·d², param -= lr·d / (sqrt(s) + eps). */
RECUR_HD void recur_rmsprop_element(unsigned i, float lr, float alpha, float eps, float weightDecay,
                                    float* __restrict__ param,        // [n]
                                    const float* __restrict__ grad,   // [n]
                                    float* __restrict__ squareAvg) {  // [n]
    float p = param[i];
    float d = grad[i] + weightDecay * p;
    float s = alpha * squareAvg[i] + (1.0f - alpha) * d * d;
    squareAvg[i] = s;
    param[i] = p - lr * d / (sqrtf(s) + eps);
}

/**
 * CpuOptimizerOps.adamImpl for element i (Adam, or AdamW when decoupled != 0). stepSize =
 * lr / (1 - β1^step) and bias2Sqrt = sqrt(1 - β2^step) are the host's, computed as the CPU engine
 * computes them.
 */
RECUR_HD void recur_adam_element(unsigned i, float lr, float beta1, float beta2, float eps, float weightDecay,
                                 int decoupled, float stepSize, float bias2Sqrt,
                                 float* __restrict__ param,       // [n]
                                 const float* __restrict__ grad,  // [n]
                                 float* __restrict__ m,           // [n]
                                 float* __restrict__ v) {         // [n]
    float p = param[i];
    float d = grad[i];
    if (decoupled) {
        p = p * (1.0f - lr * weightDecay);
    } else {
        d = d + weightDecay * p;
    }
    float mi = beta1 * m[i] + (1.0f - beta1) * d;
    float vi = beta2 * v[i] + (1.0f - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    float denom = sqrtf(vi) / bias2Sqrt + eps;
    param[i] = p - stepSize * mi / denom;
}

/**
 * CpuTensorOps.maskedSoftmaxImpl for row `row` of scores [N, R, L] (R = rows per block): the
 * largest of the first len = lengths[row / R] scores, e = expf(s - max) summed in float32 in index
 * order, p = e / sum; p = 0 past len, where nothing is read. One thread per row: L is a source
 * sentence's length (tens), so a row is a short serial loop, and the order of the sum is the CPU's.
 */
RECUR_HD void recur_masked_softmax_row(unsigned row, int rowsPerBlock, int cols,
                                       const int* __restrict__ lengths,   // [N]
                                       const float* scores,               // [N, R, L] (may be probs)
                                       float* probs) {                    // [N, R, L]
    int len = lengths[row / (unsigned) rowsPerBlock];
    size_t base = (size_t) row * cols;
    float max = scores[base];
    for (int l = 1; l < len; l++) {
        float v = scores[base + l];
        max = v > max ? v : max;   // Math.max: NaN is not valid input here; the CPU takes the larger
    }
    float sum = 0.0f;
    for (int l = 0; l < len; l++) {
        float e = expf(scores[base + l] - max);
        probs[base + l] = e;
        sum += e;
    }
    for (int l = 0; l < len; l++) {
        probs[base + l] = probs[base + l] / sum;
    }
    for (int l = len; l < cols; l++) {
        probs[base + l] = 0.0f;
    }
}

/**
 * CpuTensorOps.maskedSoftmaxBackwardImpl for one row: dot = Σ_{l < len} p·dp in float32, index
 * order; ds = p·(dp - dot) for l < len; ds = 0 past len (p and dp not read there).
 */
RECUR_HD void recur_masked_softmax_backward_row(unsigned row, int rowsPerBlock, int cols,
                                                const int* __restrict__ lengths,  // [N]
                                                const float* __restrict__ probs,  // [N, R, L]
                                                const float* dProbs,              // [N, R, L] (may be dScores)
                                                float* dScores) {                 // [N, R, L]
    int len = lengths[row / (unsigned) rowsPerBlock];
    size_t base = (size_t) row * cols;
    float dot = 0.0f;
    for (int l = 0; l < len; l++) {
        dot += probs[base + l] * dProbs[base + l];
    }
    for (int l = 0; l < len; l++) {
        dScores[base + l] = probs[base + l] * (dProbs[base + l] - dot);
    }
    for (int l = len; l < cols; l++) {
        dScores[base + l] = 0.0f;
    }
}

/** CpuTensorOps.tanhImpl for element i: y = tanhf(x) (the CPU rounds the double tanh; within 2 ulp). */
RECUR_HD void recur_tanh_element(unsigned i, const float* x, float* y) {
    y[i] = tanhf(x[i]);
}

/** CpuTensorOps.tanhBackwardImpl for element i: d = 1 - y·y, dx = dy·d, two float32 operations (bit for bit). */
RECUR_HD void recur_tanh_backward_element(unsigned i, const float* __restrict__ y, const float* dy, float* dx) {
    float d = 1.0f - y[i] * y[i];
    dx[i] = dy[i] * d;
}

#endif  // RECUR_OP_MATH_CUH
