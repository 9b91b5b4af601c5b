/*
 * optimizers.cu — engine-cpu's CpuOptimizerOps, element by element with the same float32
 * operations in the same order (PyTorch's for-loop formulas); built with -fmad=false and IEEE
 * division and square root, so each update is the CPU engine's bit for bit. Part of recur.cu.
 *
 * Legend (T, B, I, H, G, N as in recur.cu): n elements of one parameter tensor; every state tensor has the parameter's shape.
 */
#include "op_math.cuh"
#include "recur_common.cuh"

/** CpuOptimizerOps.sgdImpl (recur_sgd_element). velocity is null when momentum is 0. */
extern "C" __global__ void sgd(int n, float lr, float momentum, float weightDecay, int nesterov,
                               float* __restrict__ param,          // [n]
                               const float* __restrict__ grad,     // [n]
                               float* __restrict__ velocity) {     // [n] or null
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_sgd_element(i, lr, momentum, weightDecay, nesterov, param, grad, velocity);
    }
}

/** CpuOptimizerOps.rmspropImpl (recur_rmsprop_element). */
extern "C" __global__ void rmsprop(int n, float lr, float alpha, float eps, float weightDecay,
                                   float* __restrict__ param,        // [n]
                                   const float* __restrict__ grad,   // [n]
                                   float* __restrict__ squareAvg) {  // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_rmsprop_element(i, lr, alpha, eps, weightDecay, param, grad, squareAvg);
    }
}

/**
 * CpuOptimizerOps.adamImpl (Adam, or AdamW when decoupled != 0; recur_adam_element). The step's
 * bias corrections are scalars the host computes as the CPU engine does: stepSize =
 * lr / (1 - β1^step) and bias2Sqrt = sqrt(1 - β2^step).
 */
extern "C" __global__ void adam(int n, float lr, float beta1, float beta2, float eps, float weightDecay,
                                int decoupled, float stepSize, float bias2Sqrt,
                                float* __restrict__ param,       // [n]
                                const float* __restrict__ grad,  // [n]
                                float* __restrict__ m,           // [n]
                                float* __restrict__ v) {         // [n]
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        recur_adam_element(i, lr, beta1, beta2, eps, weightDecay, decoupled, stepSize, bias2Sqrt, param, grad, m, v);
    }
}
