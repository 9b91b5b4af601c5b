package dev.recur.cpu;

import dev.recur.api.OptimizerOps;
import dev.recur.api.Tensor;

import static dev.recur.cpu.CpuTensorOps.data;

/** {@link OptimizerOps} on Java arrays, element by element as PyTorch's for-loop implementations. */
final class CpuOptimizerOps extends OptimizerOps {

    CpuOptimizerOps(CpuBackend backend) {
        super(backend);
    }

    @Override
    protected void sgdImpl(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                           boolean nesterov) {
        float[] p = data(param);
        float[] g = data(grad);
        float[] v = velocity == null ? null : data(velocity);
        for (int i = 0; i < p.length; i++) {
            float d = g[i] + weightDecay * p[i];
            if (v != null) {
                v[i] = momentum * v[i] + d;
                d = nesterov ? d + momentum * v[i] : v[i];
            }
            p[i] -= lr * d;
        }
    }

    @Override
    protected void rmspropImpl(Tensor param, Tensor grad, Tensor squareAvg, float lr, float alpha, float eps,
                               float weightDecay) {
        float[] p = data(param);
        float[] g = data(grad);
        float[] s = data(squareAvg);
        for (int i = 0; i < p.length; i++) {
            float d = g[i] + weightDecay * p[i];
            s[i] = alpha * s[i] + (1f - alpha) * d * d;
            p[i] -= lr * d / ((float) Math.sqrt(s[i]) + eps);
        }
    }

    @Override
    protected void adamImpl(Tensor param, Tensor grad, Tensor m, Tensor v, int step, float lr, float beta1,
                            float beta2, float eps, float weightDecay, boolean decoupledWeightDecay) {
        float[] p = data(param);
        float[] g = data(grad);
        float[] ms = data(m);
        float[] vs = data(v);
        float bias1 = (float) (1 - Math.pow(beta1, step));
        float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / bias1;
        for (int i = 0; i < p.length; i++) {
            float d = g[i];
            if (decoupledWeightDecay) {
                p[i] *= 1f - lr * weightDecay;
            } else {
                d += weightDecay * p[i];
            }
            ms[i] = beta1 * ms[i] + (1f - beta1) * d;
            vs[i] = beta2 * vs[i] + (1f - beta2) * d * d;
            float denom = (float) Math.sqrt(vs[i]) / bias2Sqrt + eps;
            p[i] -= stepSize * ms[i] / denom;
        }
    }
}
