package dev.recur.api;

/**
 * Losses, each computing the mean loss into a one-element tensor and, when asked, the gradient
 * of that mean with respect to its input in the same pass. Nothing is read back to the host;
 * call {@code loss.toArray()[0]} when the value is wanted (once per logging interval, say).
 */
public abstract class LossOps {

    protected final Backend backend;

    protected LossOps(Backend backend) {
        this.backend = backend;
    }

    /**
     * Softmax cross-entropy with a padding mask: {@code loss = mean over rows i with
     * targets[i] != ignoreIndex of -log softmax(logits[i])[targets[i]]}, and, when
     * {@code dLogits} is not null, {@code dLogits[i] = (softmax(logits[i]) - onehot(targets[i])) / count}
     * for those rows and zero for ignored ones. With no counted row the loss and gradient are 0.
     *
     * @param logits  {@code [N, C]}
     * @param targets {@code [N]}, each in {@code [0, C)} or {@code ignoreIndex}
     * @param loss    {@code [1]}, receives the mean loss
     * @param dLogits {@code [N, C]} or null; not {@code logits} itself
     */
    public final void softmaxCrossEntropy(Tensor logits, IndexTensor targets, int ignoreIndex, Tensor loss,
                                          Tensor dLogits) {
        String op = "softmaxCrossEntropy";
        backend.open(op);
        Backend.rank(op, "logits", backend.owned(op, "logits", logits), 2);
        int n = logits.shape().dim(0);
        int c = logits.shape().dim(1);
        Backend.rank(op, "targets", backend.owned(op, "targets", targets).shape(), 1);
        if (targets.shape().dim(0) != n) {
            throw new IllegalArgumentException(op + ": targets must have shape [N] = [" + n + "], got " + targets.shape());
        }
        Backend.expect(op, "loss", backend.owned(op, "loss", loss), new int[] {1}, "[1]");
        if (dLogits != null) {
            Backend.expect(op, "dLogits", backend.owned(op, "dLogits", dLogits), new int[] {n, c}, "[N, C]");
            if (dLogits == logits) {
                // An engine may write a row's gradient while another thread still reads the row.
                throw new IllegalArgumentException(op + ": dLogits and logits are the same tensor; give the"
                        + " gradient its own");
            }
        }
        backend.finite(op, "logits", logits);
        softmaxCrossEntropyImpl(logits, targets, ignoreIndex, loss, dLogits, n, c);
    }

    /** {@code loss = mean((pred - target)²)}; {@code dPred = 2 (pred - target) / size} when not null. */
    public final void meanSquaredError(Tensor pred, Tensor target, Tensor loss, Tensor dPred) {
        String op = "meanSquaredError";
        backend.open(op);
        checkPair(op, "pred", pred, target, loss, dPred);
        meanSquaredErrorImpl(pred, target, loss, dPred);
    }

    /**
     * Binary cross-entropy on logits, computed stably as
     * {@code max(x, 0) - x·t + log(1 + e^{-|x|})}, averaged; {@code dLogits = (σ(x) - t) / size}.
     * Targets in [0, 1].
     */
    public final void binaryCrossEntropyWithLogits(Tensor logits, Tensor target, Tensor loss, Tensor dLogits) {
        String op = "binaryCrossEntropyWithLogits";
        backend.open(op);
        checkPair(op, "logits", logits, target, loss, dLogits);
        binaryCrossEntropyWithLogitsImpl(logits, target, loss, dLogits);
    }

    private void checkPair(String op, String name, Tensor x, Tensor target, Tensor loss, Tensor dx) {
        backend.owned(op, name, x);
        backend.owned(op, "target", target);
        if (!x.shape().equals(target.shape())) {
            throw new IllegalArgumentException(op + ": target must have the shape of " + name + " " + x.shape()
                    + ", got " + target.shape());
        }
        Backend.expect(op, "loss", backend.owned(op, "loss", loss), new int[] {1}, "[1]");
        if (dx != null) {
            backend.owned(op, "d" + Character.toUpperCase(name.charAt(0)) + name.substring(1), dx);
            if (!dx.shape().equals(x.shape())) {
                throw new IllegalArgumentException(op + ": the gradient must have the shape of " + name + " "
                        + x.shape() + ", got " + dx.shape());
            }
        }
        backend.finite(op, name, x);
        backend.finite(op, "target", target);
    }

    protected abstract void softmaxCrossEntropyImpl(Tensor logits, IndexTensor targets, int ignoreIndex, Tensor loss,
                                                    Tensor dLogits, int n, int c);

    protected abstract void meanSquaredErrorImpl(Tensor pred, Tensor target, Tensor loss, Tensor dPred);

    protected abstract void binaryCrossEntropyWithLogitsImpl(Tensor logits, Tensor target, Tensor loss,
                                                             Tensor dLogits);
}
