/*
 * optimizers.cu — engine-cpu's CpuOptimizerOps, element by element with the same float32
 * operations in the same order (PyTorch's for-loop formulas); built with -fmad=false and IEEE
 * division and square root, so each update is the CPU engine's bit for bit. Part of recur.cu.
 *
 * Legend: n elements of one parameter tensor; every state tensor has the parameter's shape.
 */
#include "recur_common.cuh"

/**
 * CpuOptimizerOps.sgdImpl: d = grad + wd·param; with a velocity, v = μ·v + d and
 * d = nesterov ? d + μ·v : v; then param -= lr·d. velocity is null when momentum is 0.
 */
extern "C" __global__ void sgd(int n, float lr, float momentum, float weightDecay, int nesterov,
                               float* __restrict__ param,          // [n]
                               const float* __restrict__ grad,     // [n]
                               float* __restrict__ velocity) {     // [n] or null
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        float p = param[i];
        float d = grad[i] + weightDecay * p;
        if (velocity != nullptr) {
            float v = momentum * velocity[i] + d;
            velocity[i] = v;
            d = nesterov ? d + momentum * v : v;
        }
        param[i] = p - lr * d;
    }
}

/** CpuOptimizerOps.rmspropImpl: d = grad + wd·param, s = α·s + (1-α)·d², param -= lr·d / (sqrt(s) + eps). */
extern "C" __global__ void rmsprop(int n, float lr, float alpha, float eps, float weightDecay,
                                   float* __restrict__ param,        // [n]
                                   const float* __restrict__ grad,   // [n]
                                   float* __restrict__ squareAvg) {  // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        float p = param[i];
        float d = grad[i] + weightDecay * p;
        float s = alpha * squareAvg[i] + (1.0f - alpha) * d * d;
        squareAvg[i] = s;
        param[i] = p - lr * d / (sqrtf(s) + eps);
    }
}

/**
 * CpuOptimizerOps.adamImpl (Adam, or AdamW when decoupled != 0). The step's bias corrections are
 * scalars the host computes as the CPU engine does: stepSize = lr / (1 - β1^step) and
 * bias2Sqrt = sqrt(1 - β2^step).
 */
extern "C" __global__ void adam(int n, float lr, float beta1, float beta2, float eps, float weightDecay,
                                int decoupled, float stepSize, float bias2Sqrt,
                                float* __restrict__ param,       // [n]
                                const float* __restrict__ grad,  // [n]
                                float* __restrict__ m,           // [n]
                                float* __restrict__ v) {         // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
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
}
