package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SGD (with momentum, Nesterov), RMSprop, Adam and AdamW with PyTorch's formulas, run on the
 * backend ({@link dev.recur.api.OptimizerOps}). State tensors are made on the first step, one set
 * per parameter, and can be exported and restored by name for checkpoints
 * ({@code optimizer.<slot>.<parameter name>}).
 *
 * <p>Order of calls: zero the gradients, run forward and backward, optionally clip, then
 * {@link #step(float)} with the learning rate of this step (see {@link LearningRateSchedule}).
 */
public final class Optimizer implements AutoCloseable {

    /** The algorithms. */
    public enum Kind { SGD, RMSPROP, ADAM, ADAMW }

    private final Backend be;
    private final OptimizerConfig cfg;
    private final List<Parameter> params;
    private final Map<String, Tensor> state = new LinkedHashMap<>();
    private int steps;

    public Optimizer(Backend backend, OptimizerConfig config, List<Parameter> parameters) {
        this.be = backend;
        this.cfg = config;
        this.params = new ArrayList<>(parameters);
    }

    public OptimizerConfig config() {
        return cfg;
    }

    /** Steps taken so far. */
    public int steps() {
        return steps;
    }

    public void zeroGrad() {
        for (Parameter p : params) {
            p.zeroGrad();
        }
    }

    /** One update of every parameter with learning rate {@code lr}. */
    public void step(float lr) {
        steps++;
        for (Parameter p : params) {
            switch (cfg.kind()) {
                case SGD -> be.optimizerOps().sgd(p.value(), p.grad(),
                        cfg.momentum() > 0f ? slot("momentum", p) : null, lr, cfg.momentum(), cfg.weightDecay(),
                        cfg.nesterov());
                case RMSPROP -> be.optimizerOps().rmsprop(p.value(), p.grad(), slot("square_avg", p), lr,
                        cfg.alpha(), cfg.eps(), cfg.weightDecay());
                case ADAM, ADAMW -> be.optimizerOps().adam(p.value(), p.grad(), slot("exp_avg", p),
                        slot("exp_avg_sq", p), steps, lr, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(),
                        cfg.kind() == Kind.ADAMW);
            }
        }
    }

    private Tensor slot(String slot, Parameter p) {
        return state.computeIfAbsent("optimizer." + slot + "." + p.name(), k -> be.tensor(p.value().shape().toArray()));
    }

    /** The state tensors by name, in the order they were made (for checkpoints). */
    public Map<String, Tensor> state() {
        return java.util.Collections.unmodifiableMap(state);
    }

    /** Restores the step count and a state tensor saved by {@link #state()} (host data). */
    public void restore(int stepCount, Map<String, float[]> saved) {
        this.steps = stepCount;
        for (Parameter p : params) {
            for (String slot : new String[] {"momentum", "square_avg", "exp_avg", "exp_avg_sq"}) {
                float[] v = saved.get("optimizer." + slot + "." + p.name());
                if (v != null) {
                    slot(slot, p).copyFrom(v);
                }
            }
        }
    }

    @Override
    public void close() {
        for (Tensor t : state.values()) {
            t.close();
        }
        state.clear();
    }

    /** Parses a kind name such as {@code adamw} (case-insensitive). */
    public static Kind kind(String name) {
        try {
            return Kind.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown optimizer '" + name + "'; known: sgd, rmsprop, adam, adamw");
        }
    }
}
