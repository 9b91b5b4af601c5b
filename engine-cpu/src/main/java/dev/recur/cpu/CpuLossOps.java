package dev.recur.cpu;

import dev.recur.api.IndexTensor;
import dev.recur.api.LossOps;
import dev.recur.api.Tensor;

import static dev.recur.cpu.CpuTensorOps.data;

/** {@link LossOps} on Java arrays; sums in float64, in index order. */
final class CpuLossOps extends LossOps {

    CpuLossOps(CpuBackend backend) {
        super(backend);
    }

    @Override
    protected void softmaxCrossEntropyImpl(Tensor logits, IndexTensor targets, int ignoreIndex, Tensor loss,
                                           Tensor dLogits, int n, int c) {
        float[] x = data(logits);
        int[] t = data(targets);
        float[] d = dLogits == null ? null : data(dLogits);
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (t[i] == ignoreIndex) {
                continue;
            }
            if (t[i] < 0 || t[i] >= c) {
                throw new IllegalArgumentException("softmaxCrossEntropy: targets[" + i + "] = " + t[i]
                        + " is outside [0, " + c + ") and is not the ignore index " + ignoreIndex);
            }
            count++;
        }
        double total = 0;
        float inv = count == 0 ? 0f : 1f / count;
        for (int i = 0; i < n; i++) {
            int base = i * c;
            if (t[i] == ignoreIndex) {
                if (d != null) {
                    java.util.Arrays.fill(d, base, base + c, 0f);
                }
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, x[base + k]);
            }
            double z = 0;
            for (int k = 0; k < c; k++) {
                z += Math.exp(x[base + k] - max);
            }
            double logZ = Math.log(z) + max;
            total += logZ - x[base + t[i]];
            if (d != null) {
                for (int k = 0; k < c; k++) {
                    d[base + k] = (float) Math.exp(x[base + k] - logZ) * inv;
                }
                d[base + t[i]] -= inv;
            }
        }
        data(loss)[0] = count == 0 ? 0f : (float) (total / count);
    }

    @Override
    protected void meanSquaredErrorImpl(Tensor pred, Tensor target, Tensor loss, Tensor dPred) {
        float[] p = data(pred);
        float[] t = data(target);
        float[] d = dPred == null ? null : data(dPred);
        double total = 0;
        float scale = 2f / p.length;
        for (int i = 0; i < p.length; i++) {
            float e = p[i] - t[i];
            total += (double) e * e;
            if (d != null) {
                d[i] = scale * e;
            }
        }
        data(loss)[0] = (float) (total / p.length);
    }

    @Override
    protected void binaryCrossEntropyWithLogitsImpl(Tensor logits, Tensor target, Tensor loss, Tensor dLogits) {
        float[] x = data(logits);
        float[] t = data(target);
        float[] d = dLogits == null ? null : data(dLogits);
        double total = 0;
        float inv = 1f / x.length;
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            total += Math.max(v, 0) - v * t[i] + Math.log1p(Math.exp(-Math.abs(v)));
            if (d != null) {
                d[i] = (float) ((1 / (1 + Math.exp(-v)) - t[i]) * inv);
            }
        }
        data(loss)[0] = (float) (total / x.length);
    }
}
