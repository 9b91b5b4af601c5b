package dev.recur.cpu;

import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;

import java.util.Arrays;
import java.util.List;

/** {@link TensorOps} on Java arrays. Sums run in index order (deterministic). */
final class CpuTensorOps extends TensorOps {

    CpuTensorOps(CpuBackend backend) {
        super(backend);
    }

    static float[] data(Tensor t) {
        return ((CpuTensor) t).data();
    }

    static int[] data(IndexTensor t) {
        return ((CpuIndexTensor) t).data();
    }

    @Override
    protected void copyImpl(Tensor src, Tensor dst) {
        System.arraycopy(data(src), 0, data(dst), 0, src.shape().size());
    }

    @Override
    protected void axpyImpl(float alpha, Tensor x, Tensor y) {
        float[] xs = data(x);
        float[] ys = data(y);
        for (int i = 0; i < xs.length; i++) {
            ys[i] += alpha * xs[i];
        }
    }

    @Override
    protected void scaleImpl(Tensor x, float alpha) {
        float[] xs = data(x);
        for (int i = 0; i < xs.length; i++) {
            xs[i] *= alpha;
        }
    }

    @Override
    protected void multiplyImpl(Tensor a, Tensor b, Tensor out) {
        float[] as = data(a);
        float[] bs = data(b);
        float[] os = data(out);
        for (int i = 0; i < as.length; i++) {
            os[i] = as[i] * bs[i];
        }
    }

    @Override
    protected void addRowVectorImpl(Tensor x, Tensor v, int rows, int cols) {
        float[] xs = data(x);
        float[] vs = data(v);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                xs[base + c] += vs[c];
            }
        }
    }

    @Override
    protected void addColumnSumsImpl(Tensor x, Tensor out, int rows, int cols) {
        float[] xs = data(x);
        float[] sums = new float[cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                sums[c] += xs[base + c];
            }
        }
        float[] os = data(out);
        for (int c = 0; c < cols; c++) {
            os[c] += sums[c];
        }
    }

    @Override
    protected void embeddingForwardImpl(Tensor table, IndexTensor ids, Tensor out, int n, int vocab, int dim) {
        float[] t = data(table);
        int[] is = data(ids);
        float[] o = data(out);
        for (int i = 0; i < n; i++) {
            int id = checkId(is, i, vocab, "embeddingForward");
            System.arraycopy(t, id * dim, o, i * dim, dim);
        }
    }

    @Override
    protected void embeddingBackwardImpl(IndexTensor ids, Tensor dOut, Tensor dTable, int n, int vocab, int dim) {
        int[] is = data(ids);
        float[] d = data(dOut);
        float[] t = data(dTable);
        for (int i = 0; i < n; i++) { // every id first: a bad one leaves dTable as it was, as on the GPU
            checkId(is, i, vocab, "embeddingBackward");
        }
        for (int i = 0; i < n; i++) {
            int dst = is[i] * dim;
            int src = i * dim;
            for (int e = 0; e < dim; e++) {
                t[dst + e] += d[src + e];
            }
        }
    }

    private static int checkId(int[] ids, int i, int vocab, String op) {
        int id = ids[i];
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException(op + ": ids[" + i + "] = " + id + " is outside the vocabulary [0, "
                    + vocab + ")");
        }
        return id;
    }

    @Override
    protected void copyColumnsImpl(Tensor narrow, Tensor wide, int n, int a, int w, int offset, boolean intoWide) {
        float[] ns = data(narrow);
        float[] ws = data(wide);
        for (int r = 0; r < n; r++) {
            if (intoWide) {
                System.arraycopy(ns, r * a, ws, r * w + offset, a);
            } else {
                System.arraycopy(ws, r * w + offset, ns, r * a, a);
            }
        }
    }

    @Override
    protected void transpose01Impl(Tensor x, Tensor out, int a, int b, int f) {
        float[] xs = data(x);
        float[] os = data(out);
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(xs, (i * b + j) * f, os, (j * a + i) * f, f);
            }
        }
    }

    @Override
    protected void dropoutImpl(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        float[] xs = data(x);
        float[] ys = data(y);
        float[] ms = data(mask);
        float keep = 1f / (1f - p);
        for (int i = 0; i < xs.length; i++) {
            float m = uniform(seed, counter + i) >= p ? keep : 0f;
            ms[i] = m;
            ys[i] = xs[i] * m;
        }
    }

    @Override
    protected void clipGlobalNormImpl(List<Tensor> grads, float maxNorm, Tensor norm) {
        double sum = 0; // float64 accumulation, in tensor then index order
        for (Tensor g : grads) {
            for (float v : data(g)) {
                sum += (double) v * v;
            }
        }
        float n = (float) Math.sqrt(sum);
        data(norm)[0] = n;
        if (n > maxNorm) {
            float s = maxNorm / (n + 1e-6f);
            for (Tensor g : grads) {
                float[] gs = data(g);
                for (int i = 0; i < gs.length; i++) {
                    gs[i] *= s;
                }
            }
        }
    }

    static void zero(float[] a) {
        Arrays.fill(a, 0f);
    }
}
