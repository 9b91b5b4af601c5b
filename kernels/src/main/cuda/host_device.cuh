/*
 * host_device.cuh — RECUR_HD marks the element functions that both nvcc (for the kernels) and
 * plain g++ (for the host twin test, src/test/cpp/cell_math_host.cpp) compile.
 */
#ifndef RECUR_HOST_DEVICE_CUH
#define RECUR_HOST_DEVICE_CUH

#ifdef __CUDACC__
#define RECUR_HD __host__ __device__ __forceinline__
#else
#define RECUR_HD static inline
#endif

#endif  // RECUR_HOST_DEVICE_CUH
