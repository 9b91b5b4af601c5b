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

    /**
     * One row at a time, in index order: the largest valid score, then {@code e = exp(s - max)}
     * (float32 of the double exponential) summed in float32, then {@code p = e / sum}; the masked
     * tail is set to 0 without being read. The CUDA kernel runs the same row loop
     * (op_math.cuh's recur_masked_softmax_row) with expf.
     */
    @Override
    protected void maskedSoftmaxImpl(Tensor scores, IndexTensor lengths, Tensor probs, int n, int rows, int cols) {
        int[] len = checkedLengths("maskedSoftmax", lengths, cols);
        float[] s = data(scores);
        float[] p = data(probs);
        for (int b = 0; b < n; b++) {
            int valid = len[b];
            for (int r = 0; r < rows; r++) {
                int base = (b * rows + r) * cols;
                float max = s[base];
                for (int l = 1; l < valid; l++) {
                    max = Math.max(max, s[base + l]);
                }
                float sum = 0f;
                for (int l = 0; l < valid; l++) {
                    float e = (float) Math.exp(s[base + l] - max);
                    p[base + l] = e;
                    sum += e;
                }
                for (int l = 0; l < valid; l++) {
                    p[base + l] = p[base + l] / sum;
                }
                Arrays.fill(p, base + valid, base + cols, 0f);
            }
        }
    }

    /** Per row: {@code dot = Σ_{l < len} p·dp} in float32, index order; {@code ds = p·(dp - dot)}; 0 past len. */
    @Override
    protected void maskedSoftmaxBackwardImpl(Tensor probs, Tensor dProbs, IndexTensor lengths, Tensor dScores, int n,
                                             int rows, int cols) {
        int[] len = checkedLengths("maskedSoftmaxBackward", lengths, cols);
        float[] p = data(probs);
        float[] dp = data(dProbs);
        float[] ds = data(dScores);
        for (int b = 0; b < n; b++) {
            int valid = len[b];
            for (int r = 0; r < rows; r++) {
                int base = (b * rows + r) * cols;
                float dot = 0f;
                for (int l = 0; l < valid; l++) {
                    dot += p[base + l] * dp[base + l];
                }
                for (int l = 0; l < valid; l++) {
                    ds[base + l] = p[base + l] * (dp[base + l] - dot);
                }
                Arrays.fill(ds, base + valid, base + cols, 0f);
            }
        }
    }

    private static int[] checkedLengths(String op, IndexTensor lengths, int cols) {
        int[] len = data(lengths);
        for (int i = 0; i < len.length; i++) {
            if (len[i] < 1 || len[i] > cols) {
                throw lengthOutOfRange(op, i, len[i], cols);
            }
        }
        return len;
    }

    /** {@code y = (float) Math.tanh(x)}: the correctly rounded float of the double tanh (within 1 ulp of CUDA's tanhf). */
    @Override
    protected void tanhImpl(Tensor x, Tensor y) {
        float[] xs = data(x);
        float[] ys = data(y);
        for (int i = 0; i < xs.length; i++) {
            ys[i] = (float) Math.tanh(xs[i]);
        }
    }

    @Override
    protected void tanhBackwardImpl(Tensor y, Tensor dy, Tensor dx) {
        float[] ys = data(y);
        float[] dys = data(dy);
        float[] dxs = data(dx);
        for (int i = 0; i < ys.length; i++) {
            float d = 1f - ys[i] * ys[i];
            dxs[i] = dys[i] * d;
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
