package dev.recur.api;

/**
 * In-place optimizer updates of one parameter tensor from its gradient and state, with
 * PyTorch's formulas ({@code torch.optim.SGD}, {@code RMSprop}, {@code Adam}, {@code AdamW}),
 * so that results can be compared one to one. State tensors have the parameter's shape, start
 * at zero, and are owned by the caller (the model layer saves them in checkpoints).
 */
public abstract class OptimizerOps {

    protected final Backend backend;

    protected OptimizerOps(Backend backend) {
        this.backend = backend;
    }

    /**
     * SGD with momentum: {@code g = grad + wd·param}; with momentum, {@code v = μ·v + g} and
     * {@code g = nesterov ? g + μ·v : v}; then {@code param -= lr·g}. {@code velocity} may be
     * null when {@code momentum == 0}.
     */
    public final void sgd(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                          boolean nesterov) {
        String op = "sgd";
        backend.open(op);
        same(op, param, "grad", grad);
        nonNegative(op, "lr", lr);
        nonNegative(op, "momentum", momentum);
        nonNegative(op, "weightDecay", weightDecay);
        if (momentum != 0f) {
            same(op, param, "velocity", velocity);
        } else if (nesterov) {
            throw new IllegalArgumentException(op + ": nesterov needs momentum > 0");
        }
        sgdImpl(param, grad, momentum != 0f ? velocity : null, lr, momentum, weightDecay, nesterov);
    }

    /**
     * RMSprop: {@code g = grad + wd·param}, {@code s = α·s + (1-α)·g²},
     * {@code param -= lr·g / (sqrt(s) + eps)}.
     */
    public final void rmsprop(Tensor param, Tensor grad, Tensor squareAvg, float lr, float alpha, float eps,
                              float weightDecay) {
        String op = "rmsprop";
        backend.open(op);
        same(op, param, "grad", grad);
        same(op, param, "squareAvg", squareAvg);
        nonNegative(op, "lr", lr);
        unit(op, "alpha", alpha);
        positive(op, "eps", eps);
        nonNegative(op, "weightDecay", weightDecay);
        rmspropImpl(param, grad, squareAvg, lr, alpha, eps, weightDecay);
    }

    /**
     * Adam, or AdamW when {@code decoupledWeightDecay}: Adam adds {@code wd·param} to the
     * gradient; AdamW instead multiplies {@code param} by {@code 1 - lr·wd}. Then
     * {@code m = β1·m + (1-β1)·g}, {@code v = β2·v + (1-β2)·g²},
     * {@code param -= lr·(m / (1-β1^step)) / (sqrt(v / (1-β2^step)) + eps)}. {@code step} counts
     * from 1.
     */
    public final void adam(Tensor param, Tensor grad, Tensor m, Tensor v, int step, float lr, float beta1,
                           float beta2, float eps, float weightDecay, boolean decoupledWeightDecay) {
        String op = decoupledWeightDecay ? "adamw" : "adam";
        backend.open(op);
        same(op, param, "grad", grad);
        same(op, param, "m", m);
        same(op, param, "v", v);
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step counts from 1, got " + step);
        }
        nonNegative(op, "lr", lr);
        unit(op, "beta1", beta1);
        unit(op, "beta2", beta2);
        positive(op, "eps", eps);
        nonNegative(op, "weightDecay", weightDecay);
        adamImpl(param, grad, m, v, step, lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
    }

    protected abstract void sgdImpl(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum,
                                    float weightDecay, boolean nesterov);

    protected abstract void rmspropImpl(Tensor param, Tensor grad, Tensor squareAvg, float lr, float alpha, float eps,
                                        float weightDecay);

    protected abstract void adamImpl(Tensor param, Tensor grad, Tensor m, Tensor v, int step, float lr, float beta1,
                                     float beta2, float eps, float weightDecay, boolean decoupledWeightDecay);

    private void same(String op, Tensor param, String name, Tensor t) {
        backend.owned(op, "param", param);
        backend.owned(op, name, t);
        if (!t.shape().equals(param.shape())) {
            throw new IllegalArgumentException(op + ": " + name + " must have the shape of param " + param.shape()
                    + ", got " + t.shape());
        }
    }

    private static void nonNegative(String op, String name, float v) {
        if (!(v >= 0f) || !Float.isFinite(v)) {
            throw new IllegalArgumentException(op + ": " + name + " must be a finite number >= 0, got " + v);
        }
    }

    private static void positive(String op, String name, float v) {
        if (!(v > 0f) || !Float.isFinite(v)) {
            throw new IllegalArgumentException(op + ": " + name + " must be a finite number > 0, got " + v);
        }
    }

    private static void unit(String op, String name, float v) {
        if (!(v >= 0f && v < 1f)) {
            throw new IllegalArgumentException(op + ": " + name + " must be in [0, 1), got " + v);
        }
    }
}
