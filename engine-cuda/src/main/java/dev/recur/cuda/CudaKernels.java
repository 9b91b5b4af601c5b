package dev.recur.cuda;

/** Local shim until the kernels branch is merged (the lead deletes this file then): only the probe's check. */
final class CudaKernels {
    static String missingReason() {
        return CudaKernels.class.getResource("/dev/recur/kernels/recur.fatbin") != null ? null : "CUDA kernels missing: class-path resource /dev/recur/kernels/recur.fatbin not found (build the kernels module with nvcc)";
    }
}
