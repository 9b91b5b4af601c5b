/*
 * recur_common.cuh — what every kernel file shares: the grid-stride loop and the deterministic
 * block reductions.
 *
 * Note [Deterministic reductions]: every sum in these kernels has a fixed shape that depends only
 * on the problem size and on block sizes that CudaKernels fixes as constants, never on the GPU,
 * on timing or on the number of SMs: a thread adds its elements in ascending order, then the
 * block adds the threads' values in a fixed tree (shared memory, halving strides), then one
 * single-block kernel adds the blocks' values in the same way. No floating-point atomics anywhere;
 * integer atomics only where their result does not depend on order (a minimum index). So a run
 * repeats bit for bit on any GPU, as the CPU engine does (whose sums run in index order; the two
 * engines differ in rounding, not in repeatability).
 */
#ifndef RECUR_COMMON_CUH
#define RECUR_COMMON_CUH

#include <limits.h>

/** Largest block any kernel here is launched with (the shared reduction arrays are this long). */
#define RECUR_MAX_THREADS 1024

/** First element of this thread in a grid-stride loop over a 1-D range. */
__device__ __forceinline__ unsigned recur_first() {
    return blockIdx.x * blockDim.x + threadIdx.x;
}

/**
 * The grid-stride step. Indices are unsigned: a range holds at most INT_MAX elements (Java
 * arrays and Recur shapes are int-indexed), so index + stride < 2^32 never wraps.
 */
__device__ __forceinline__ unsigned recur_stride() {
    return blockDim.x * gridDim.x;
}

/**
 * v combined over the block in a fixed tree (shared memory, halving strides): op(a, b) folds b
 * into a in place. Every thread gets the result. blockDim.x must be a power of two <=
 * RECUR_MAX_THREADS and every thread of the block must call it. Each caller below passes its own
 * lambda, so each has its own shared array.
 */
template <typename T, typename Op>
__device__ __forceinline__ T recur_block_reduce(T v, Op op) {
    __shared__ T s[RECUR_MAX_THREADS];
    unsigned t = threadIdx.x;
    s[t] = v;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
        if (t < half) {
            op(s[t], s[t + half]);
        }
        __syncthreads();
    }
    T r = s[0];
    __syncthreads();   // s may be reused by the next call
    return r;
}

/** Sum of v over the block in a fixed tree (recur_block_reduce); every thread gets the result. */
__device__ double recur_block_sum(double v) {
    return recur_block_reduce(v, [](double& a, double b) { a += b; });
}

/** Integer sum over the block (exact, so any order would do; the same tree for simplicity). */
__device__ int recur_block_sum_int(int v) {
    return recur_block_reduce(v, [](int& a, int b) { a += b; });
}

/** Minimum over the block; every thread gets it. */
__device__ int recur_block_min_int(int v) {
    return recur_block_reduce(v, [](int& a, int b) { a = min(a, b); });
}

/** Maximum over the block; NaN-free inputs (the losses check finiteness first). */
__device__ float recur_block_max(float v) {
    return recur_block_reduce(v, [](float& a, float b) { a = fmaxf(a, b); });
}

/**
 * Records position i as a bad input in error[0] (a device int that the caller set to INT_MAX):
 * the smallest bad position wins whatever the order (an integer minimum). error may be null.
 */
__device__ __forceinline__ void recur_report(int* error, int i) {
    if (error != nullptr) {
        atomicMin(error, i);
    }
}

#endif  // RECUR_COMMON_CUH
