package dev.recur.cuda;

import jcuda.driver.CUstream;

/**
 * Where {@link CudaKernels} sends a launch once it has checked it: {@code cuLaunchKernel} on a
 * loaded module, or, in tests without a GPU, a recorder that compares what each launch method
 * would launch with the kernels' PTX.
 */
@FunctionalInterface
interface CudaKernelLauncher {

    /**
     * Launches {@code kernel} on a 1-D grid of {@code grid} blocks of {@code block} threads, no
     * dynamic shared memory, on {@code stream} (null: the legacy default stream).
     */
    void launch(String kernel, int grid, int block, CUstream stream, CudaKernelArgs args);
}
