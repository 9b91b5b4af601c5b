package dev.recur.models.nn;

/**
 * Optimizer settings with PyTorch's defaults (SGD momentum 0; RMSprop alpha 0.99, eps 1e-8;
 * Adam betas 0.9/0.999, eps 1e-8; AdamW weight decay 0.01). Immutable.
 */
public final class OptimizerConfig {

    private final Optimizer.Kind kind;
    private final float momentum;
    private final boolean nesterov;
    private final float alpha;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;

    private OptimizerConfig(Builder b) {
        this.kind = b.kind;
        this.momentum = b.momentum;
        this.nesterov = b.nesterov;
        this.alpha = b.alpha;
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay == null ? (b.kind == Optimizer.Kind.ADAMW ? 0.01f : 0f) : b.weightDecay;
    }

    public static Builder builder(Optimizer.Kind kind) {
        return new Builder(kind);
    }

    public Optimizer.Kind kind() {
        return kind;
    }

    public float momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public float alpha() {
        return alpha;
    }

    public float beta1() {
        return beta1;
    }

    public float beta2() {
        return beta2;
    }

    public float eps() {
        return eps;
    }

    public float weightDecay() {
        return weightDecay;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case SGD -> "OptimizerConfig[sgd, momentum=" + momentum + ", nesterov=" + nesterov + ", weightDecay="
                    + weightDecay + "]";
            case RMSPROP -> "OptimizerConfig[rmsprop, alpha=" + alpha + ", eps=" + eps + ", weightDecay=" + weightDecay
                    + "]";
            case ADAM, ADAMW -> "OptimizerConfig[" + kind.name().toLowerCase(java.util.Locale.ROOT) + ", beta1="
                    + beta1 + ", beta2=" + beta2 + ", eps=" + eps + ", weightDecay=" + weightDecay + "]";
        };
    }

    public static final class Builder {
        private final Optimizer.Kind kind;
        private float momentum;
        private boolean nesterov;
        private float alpha = 0.99f;
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float eps = 1e-8f;
        private Float weightDecay;

        private Builder(Optimizer.Kind kind) {
            if (kind == null) {
                throw new IllegalArgumentException("optimizer kind is null");
            }
            this.kind = kind;
        }

        public Builder momentum(float m) {
            this.momentum = m;
            return this;
        }

        public Builder nesterov(boolean n) {
            this.nesterov = n;
            return this;
        }

        public Builder alpha(float a) {
            this.alpha = a;
            return this;
        }

        public Builder betas(float b1, float b2) {
            this.beta1 = b1;
            this.beta2 = b2;
            return this;
        }

        public Builder eps(float e) {
            this.eps = e;
            return this;
        }

        public Builder weightDecay(float wd) {
            this.weightDecay = wd;
            return this;
        }

        public OptimizerConfig build() {
            return new OptimizerConfig(this);
        }
    }
}
