package dev.recur.cuda;

import dev.recur.api.OptimizerOps;
import dev.recur.api.Tensor;

import static dev.recur.cuda.CudaBackend.address;

/**
 * {@link OptimizerOps} on the GPU: one element-wise kernel per update ({@link CudaKernels#sgd},
 * {@link CudaKernels#rmsprop}, {@link CudaKernels#adam}) on the backend's main stream. Each
 * element goes through the same float32 operations in the same order as in engine-cpu's
 * {@code CpuOptimizerOps} (the kernels are built with {@code -fmad=false}, IEEE division and
 * square root, and Adam's bias corrections are computed on the host exactly as the CPU engine
 * computes them), so an update is the CPU engine's bit for bit. Needs no memory of its own.
 */
final class CudaOptimizerOps extends OptimizerOps {

    private final CudaBackend cuda;

    CudaOptimizerOps(CudaBackend backend) {
        super(backend);
        this.cuda = backend;
    }

    @Override
    protected void sgdImpl(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                           boolean nesterov) {
        cuda.currentKernels().sgd(cuda.mainStreamHandle(), param.shape().size(), lr, momentum, weightDecay, nesterov,
                address(param), address(grad), velocity == null ? 0L : address(velocity));
    }

    @Override
    protected void rmspropImpl(Tensor param, Tensor grad, Tensor squareAvg, float lr, float alpha, float eps,
                               float weightDecay) {
        cuda.currentKernels().rmsprop(cuda.mainStreamHandle(), param.shape().size(), lr, alpha, eps, weightDecay,
                address(param), address(grad), address(squareAvg));
    }

    @Override
    protected void adamImpl(Tensor param, Tensor grad, Tensor m, Tensor v, int step, float lr, float beta1,
                            float beta2, float eps, float weightDecay, boolean decoupledWeightDecay) {
        cuda.currentKernels().adam(cuda.mainStreamHandle(), param.shape().size(), step, lr, beta1, beta2, eps,
                weightDecay, decoupledWeightDecay, address(param), address(grad), address(m), address(v));
    }
}
