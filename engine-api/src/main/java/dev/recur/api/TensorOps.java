package dev.recur.api;

import java.util.List;

/**
 * The non-recurrent ops a training step needs besides GEMM: element-wise arithmetic, bias rows,
 * embedding gather and scatter-add, the time/batch transpose, dropout and gradient clipping.
 * Every public method checks its arguments (ranks, shapes, ownership, ranges) and then calls the
 * engine's {@code ...Impl}; nothing here reads a tensor back to the host, so a step stays on the
 * device. Reductions run in a fixed order: results are bitwise repeatable.
 */
public abstract class TensorOps {

    protected final Backend backend;

    protected TensorOps(Backend backend) {
        this.backend = backend;
    }

    /** {@code dst = src}; same shape. */
    public final void copy(Tensor src, Tensor dst) {
        String op = "copy";
        backend.open(op);
        sameShape(op, "src", src, "dst", dst);
        copyImpl(src, dst);
    }

    /** {@code y += alpha·x}; same shape. */
    public final void axpy(float alpha, Tensor x, Tensor y) {
        String op = "axpy";
        backend.open(op);
        Backend.scalars(op, alpha, 0f);
        sameShape(op, "x", x, "y", y);
        axpyImpl(alpha, x, y);
    }

    /** {@code x *= alpha}. */
    public final void scale(Tensor x, float alpha) {
        String op = "scale";
        backend.open(op);
        Backend.scalars(op, alpha, 0f);
        backend.owned(op, "x", x);
        scaleImpl(x, alpha);
    }

    /** {@code out = a ⊙ b}; same shapes ({@code out} may be {@code a} or {@code b}). */
    public final void multiply(Tensor a, Tensor b, Tensor out) {
        String op = "multiply";
        backend.open(op);
        sameShape(op, "a", a, "b", b);
        sameShape(op, "a", a, "out", out);
        multiplyImpl(a, b, out);
    }

    /** Adds {@code v [F]} to every row of {@code x [..., F]} (a bias), in place. */
    public final void addRowVector(Tensor x, Tensor v) {
        String op = "addRowVector";
        backend.open(op);
        backend.owned(op, "x", x);
        Backend.rank(op, "v", backend.owned(op, "v", v), 1);
        int f = x.shape().dim(x.shape().rank() - 1);
        Backend.expect(op, "v", v, new int[] {f}, "[F] (the last dimension of x " + x.shape() + ")");
        addRowVectorImpl(x, v, x.shape().size() / f, f);
    }

    /** {@code out[f] += Σ_rows x[row, f]} for {@code x [..., F]}, rows summed in order (a bias gradient). */
    public final void addColumnSums(Tensor x, Tensor out) {
        String op = "addColumnSums";
        backend.open(op);
        backend.owned(op, "x", x);
        Backend.rank(op, "out", backend.owned(op, "out", out), 1);
        int f = x.shape().dim(x.shape().rank() - 1);
        Backend.expect(op, "out", out, new int[] {f}, "[F] (the last dimension of x " + x.shape() + ")");
        addColumnSumsImpl(x, out, x.shape().size() / f, f);
    }

    /**
     * Embedding lookup: {@code out[i, :] = table[ids[i], :]} for {@code table [V, E]},
     * {@code ids} of any shape S and {@code out [S..., E]}. An id outside {@code [0, V)} is an
     * error naming it and its position.
     */
    public final void embeddingForward(Tensor table, IndexTensor ids, Tensor out) {
        String op = "embeddingForward";
        backend.open(op);
        Backend.rank(op, "table", backend.owned(op, "table", table), 2);
        backend.owned(op, "ids", ids);
        backend.owned(op, "out", out);
        Backend.expect(op, "out", out, withLast(ids.shape(), table.shape().dim(1)), "[ids..., E]");
        embeddingForwardImpl(table, ids, out, ids.shape().size(), table.shape().dim(0), table.shape().dim(1));
    }

    /**
     * The embedding's gradient: {@code dTable[ids[i], :] += dOut[i, :]}, accumulated in the
     * order of {@code i} (deterministic, no atomics).
     */
    public final void embeddingBackward(IndexTensor ids, Tensor dOut, Tensor dTable) {
        String op = "embeddingBackward";
        backend.open(op);
        Backend.rank(op, "dTable", backend.owned(op, "dTable", dTable), 2);
        backend.owned(op, "ids", ids);
        backend.owned(op, "dOut", dOut);
        Backend.expect(op, "dOut", dOut, withLast(ids.shape(), dTable.shape().dim(1)), "[ids..., E]");
        embeddingBackwardImpl(ids, dOut, dTable, ids.shape().size(), dTable.shape().dim(0), dTable.shape().dim(1));
    }

    /**
     * Column blocks: {@code dst[:, offset + j] = src[:, j]} for {@code src [N, A]} and
     * {@code dst [N, W]}, {@code offset + A <= W} (concatenating features side by side).
     */
    public final void copyIntoColumns(Tensor src, Tensor dst, int offset) {
        String op = "copyIntoColumns";
        backend.open(op);
        int[] nw = columnBlock(op, "src", src, "dst", dst, offset);
        copyColumnsImpl(src, dst, nw[0], src.shape().dim(1), nw[1], offset, true);
    }

    /** The reverse of {@link #copyIntoColumns}: {@code dst[:, j] = src[:, offset + j]} for {@code dst [N, A]}. */
    public final void copyFromColumns(Tensor src, int offset, Tensor dst) {
        String op = "copyFromColumns";
        backend.open(op);
        int[] nw = columnBlock(op, "dst", dst, "src", src, offset);
        copyColumnsImpl(dst, src, nw[0], dst.shape().dim(1), nw[1], offset, false);
    }

    private int[] columnBlock(String op, String narrowName, Tensor narrow, String wideName, Tensor wide, int offset) {
        Backend.rank(op, narrowName, backend.owned(op, narrowName, narrow), 2);
        Backend.rank(op, wideName, backend.owned(op, wideName, wide), 2);
        int n = narrow.shape().dim(0);
        int a = narrow.shape().dim(1);
        int w = wide.shape().dim(1);
        if (wide.shape().dim(0) != n || offset < 0 || offset + a > w) {
            throw new IllegalArgumentException(op + ": " + narrowName + " " + narrow.shape() + " does not fit at column "
                    + offset + " of " + wideName + " " + wide.shape());
        }
        return new int[] {n, w};
    }

    /** {@code out[b, a, :] = x[a, b, :]}: batch-first to time-major and back. */
    public final void transpose01(Tensor x, Tensor out) {
        String op = "transpose01";
        backend.open(op);
        Backend.rank(op, "x", backend.owned(op, "x", x), 3);
        backend.owned(op, "out", out);
        Shape s = x.shape();
        Backend.expect(op, "out", out, new int[] {s.dim(1), s.dim(0), s.dim(2)}, "[B, A, F] for x [A, B, F]");
        transpose01Impl(x, out, s.dim(0), s.dim(1), s.dim(2));
    }

    /**
     * Inverted dropout: {@code mask[i] = u_i >= p ? 1/(1-p) : 0} with {@code u_i} uniform in
     * [0, 1) from a counter-based generator of {@code (seed, counter + i)} (the same numbers on
     * every engine), then {@code y = x ⊙ mask}. The backward is {@link #multiply}{@code (dy, mask, dx)}.
     * {@code p} in [0, 1).
     */
    public final void dropout(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        String op = "dropout";
        backend.open(op);
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(op + ": p must be in [0, 1), got " + p);
        }
        sameShape(op, "x", x, "y", y);
        sameShape(op, "x", x, "mask", mask);
        dropoutImpl(x, y, mask, p, seed, counter);
    }

    /**
     * Clipping by global norm: {@code norm = sqrt(Σ over all grads of Σ g²)} is written to
     * {@code norm [1]}; when it exceeds {@code maxNorm} every gradient is scaled in place by
     * {@code maxNorm / (norm + 1e-6)}, as PyTorch's {@code clip_grad_norm_} does. The sum runs
     * in a fixed order.
     */
    public final void clipGlobalNorm(List<Tensor> grads, float maxNorm, Tensor norm) {
        String op = "clipGlobalNorm";
        backend.open(op);
        if (!(maxNorm > 0f) || !Float.isFinite(maxNorm)) {
            throw new IllegalArgumentException(op + ": maxNorm must be a positive finite number, got " + maxNorm);
        }
        if (grads == null || grads.isEmpty()) {
            throw new IllegalArgumentException(op + ": grads is empty");
        }
        for (int i = 0; i < grads.size(); i++) {
            backend.owned(op, "grads[" + i + "]", grads.get(i));
        }
        Backend.expect(op, "norm", backend.owned(op, "norm", norm), new int[] {1}, "[1]");
        clipGlobalNormImpl(grads, maxNorm, norm);
    }

    // ---------------------------------------------------------------- attention

    /**
     * A softmax over the last axis with a valid length per block of rows, for attention over
     * padded source sentences: for {@code scores [N, R, L]} and {@code lengths [N]} (each in
     * {@code 1..L}), {@code probs[n, r, l] = exp(s[n, r, l] - m) / Σ_{l' < len} exp(s[n, r, l'] - m)}
     * for {@code l < len = lengths[n]}, with {@code m} the row's largest valid score, and exactly
     * {@code 0} for {@code l >= len}: the masked positions are never read, so padding may hold
     * anything (even NaN). Every row of block {@code n} (e.g. every target step of sentence n)
     * shares its length. {@code probs} may be {@code scores}. A length outside {@code 1..L} is an
     * error naming it and its position (checked on the host: the CUDA engine keeps the bounds of
     * an index tensor's values at upload).
     */
    public final void maskedSoftmax(Tensor scores, IndexTensor lengths, Tensor probs) {
        String op = "maskedSoftmax";
        backend.open(op);
        Backend.rank(op, "scores", backend.owned(op, "scores", scores), 3);
        sameShape(op, "scores", scores, "probs", probs);
        int n = scores.shape().dim(0);
        requireLengths(op, lengths, n);
        maskedSoftmaxImpl(scores, lengths, probs, n, scores.shape().dim(1), scores.shape().dim(2));
    }

    /**
     * The backward of {@link #maskedSoftmax}: {@code dScores = p ⊙ (dProbs - Σ_{l < len} p·dProbs)}
     * per row for {@code l < len}, and exactly {@code 0} for {@code l >= len} (neither {@code probs}
     * nor {@code dProbs} is read there). {@code probs} is the forward's output; all three are
     * {@code [N, R, L]}; {@code dScores} may be {@code dProbs}. Overwrites {@code dScores}.
     */
    public final void maskedSoftmaxBackward(Tensor probs, Tensor dProbs, IndexTensor lengths, Tensor dScores) {
        String op = "maskedSoftmaxBackward";
        backend.open(op);
        Backend.rank(op, "probs", backend.owned(op, "probs", probs), 3);
        sameShape(op, "probs", probs, "dProbs", dProbs);
        sameShape(op, "probs", probs, "dScores", dScores);
        int n = probs.shape().dim(0);
        requireLengths(op, lengths, n);
        maskedSoftmaxBackwardImpl(probs, dProbs, lengths, dScores, n, probs.shape().dim(1), probs.shape().dim(2));
    }

    private void requireLengths(String op, IndexTensor lengths, int n) {
        backend.owned(op, "lengths", lengths);
        if (lengths.shape().rank() != 1 || lengths.shape().dim(0) != n) {
            throw new IllegalArgumentException(op + ": lengths must be [N] = [" + n + "] (one per block of rows),"
                    + " got " + lengths.shape());
        }
    }

    /** {@code y = tanh(x)} element-wise; same shape ({@code y} may be {@code x}). */
    public final void tanh(Tensor x, Tensor y) {
        String op = "tanh";
        backend.open(op);
        sameShape(op, "x", x, "y", y);
        tanhImpl(x, y);
    }

    /**
     * The backward of {@link #tanh} from its output: {@code dx = dy ⊙ (1 - y ⊙ y)}, each element
     * {@code d = 1 - y·y} then {@code dy·d} as two float32 operations; same shapes ({@code dx} may
     * be {@code dy}).
     */
    public final void tanhBackward(Tensor y, Tensor dy, Tensor dx) {
        String op = "tanhBackward";
        backend.open(op);
        sameShape(op, "y", y, "dy", dy);
        sameShape(op, "y", y, "dx", dx);
        tanhBackwardImpl(y, dy, dx);
    }

    /**
     * Computes {@link #maskedSoftmax} for {@code scores [n, rows, cols]}; throws an
     * {@link IllegalArgumentException} {@code "maskedSoftmax: lengths[i] = v is outside 1..cols"}
     * when a length is out of range (see {@link #lengthOutOfRange}).
     */
    protected abstract void maskedSoftmaxImpl(Tensor scores, IndexTensor lengths, Tensor probs, int n, int rows,
                                              int cols);

    /** Computes {@link #maskedSoftmaxBackward}; the same length check as {@link #maskedSoftmaxImpl}. */
    protected abstract void maskedSoftmaxBackwardImpl(Tensor probs, Tensor dProbs, IndexTensor lengths,
                                                      Tensor dScores, int n, int rows, int cols);

    protected abstract void tanhImpl(Tensor x, Tensor y);

    protected abstract void tanhBackwardImpl(Tensor y, Tensor dy, Tensor dx);

    /** The message of a valid length outside {@code 1..cols}, the same on every engine. */
    protected static IllegalArgumentException lengthOutOfRange(String op, int index, int value, int cols) {
        return new IllegalArgumentException(op + ": lengths[" + index + "] = " + value + " is outside 1.." + cols
                + " (each block of rows needs at least one valid position, at most L = " + cols + ")");
    }

    protected abstract void copyImpl(Tensor src, Tensor dst);

    protected abstract void axpyImpl(float alpha, Tensor x, Tensor y);

    protected abstract void scaleImpl(Tensor x, float alpha);

    protected abstract void multiplyImpl(Tensor a, Tensor b, Tensor out);

    protected abstract void addRowVectorImpl(Tensor x, Tensor v, int rows, int cols);

    protected abstract void addColumnSumsImpl(Tensor x, Tensor out, int rows, int cols);

    protected abstract void embeddingForwardImpl(Tensor table, IndexTensor ids, Tensor out, int n, int vocab, int dim);

    protected abstract void embeddingBackwardImpl(IndexTensor ids, Tensor dOut, Tensor dTable, int n, int vocab,
                                                  int dim);

    /** Copies {@code narrow [n, a]} into columns {@code [offset, offset+a)} of {@code wide [n, w]}, or back. */
    protected abstract void copyColumnsImpl(Tensor narrow, Tensor wide, int n, int a, int w, int offset,
                                            boolean intoWide);

    protected abstract void transpose01Impl(Tensor x, Tensor out, int a, int b, int f);

    protected abstract void dropoutImpl(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter);

    protected abstract void clipGlobalNormImpl(List<Tensor> grads, float maxNorm, Tensor norm);

    /**
     * The uniform number in [0, 1) that dropout draws for element {@code index}: SplitMix64 of
     * {@code seed} and {@code index}, top 24 bits. Every engine computes exactly this.
     */
    public static float uniform(long seed, long index) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * 0x1.0p-24f;
    }

    void sameShape(String op, String an, Tensor a, String bn, Tensor b) {
        backend.owned(op, an, a);
        backend.owned(op, bn, b);
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": " + bn + " must have the shape of " + an + " " + a.shape()
                    + ", got " + b.shape());
        }
    }

    static int[] withLast(Shape s, int last) {
        int[] d = new int[s.rank() + 1];
        for (int i = 0; i < s.rank(); i++) {
            d[i] = s.dim(i);
        }
        d[s.rank()] = last;
        return d;
    }
}
