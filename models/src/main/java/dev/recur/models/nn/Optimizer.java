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
    private java.util.function.Consumer<List<Parameter>> beforeUpdate;

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

    /**
     * A step that {@link #step} runs first, on the complete gradients and before any parameter
     * changes: where data parallelism all-reduces them (dev.recur.models.train.Trainer). null
     * removes it.
     */
    public void beforeUpdate(java.util.function.Consumer<List<Parameter>> hook) {
        this.beforeUpdate = hook;
    }

    /** One update of every parameter with learning rate {@code lr}. */
    public void step(float lr) {
        if (beforeUpdate != null) {
            beforeUpdate.accept(params);
        }
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

    /** The state slots this optimizer keeps per parameter once it has stepped. */
    private List<String> slotNames() {
        return switch (cfg.kind()) {
            case SGD -> cfg.momentum() > 0f ? List.of("momentum") : List.of();
            case RMSPROP -> List.of("square_avg");
            case ADAM, ADAMW -> List.of("exp_avg", "exp_avg_sq");
        };
    }

    /**
     * Restores the step count and the state tensors saved by {@link #state()} (host data), all or
     * nothing: after a step, every slot of every parameter must be there with the parameter's
     * size, and no other; before one, none.
     *
     * @throws IllegalArgumentException naming the missing, unexpected or mis-sized slots
     */
    public void restore(int stepCount, Map<String, float[]> saved) {
        if (stepCount < 0) {
            throw new IllegalArgumentException("optimizer state: step count " + stepCount + " is negative");
        }
        java.util.Set<String> unexpected = new java.util.TreeSet<>(saved.keySet());
        List<String> problems = new java.util.ArrayList<>();
        // Before the first step no slot exists: whatever was saved is unexpected.
        List<Parameter> slotted = stepCount == 0 ? List.of() : params;
        for (Parameter p : slotted) {
            for (String slot : slotNames()) {
                String name = "optimizer." + slot + "." + p.name();
                float[] v = saved.get(name);
                unexpected.remove(name);
                if (v == null) {
                    problems.add("missing " + name);
                } else if (v.length != p.value().shape().size()) {
                    problems.add(name + " holds " + v.length + " values, the parameter " + p.value().shape().size());
                } else {
                    for (float x : v) {
                        if (!Float.isFinite(x)) {
                            problems.add(name + " holds " + x);
                            break;
                        }
                    }
                }
            }
        }
        if (!unexpected.isEmpty()) {
            problems.add("unexpected " + unexpected + " for " + cfg.kind().name().toLowerCase(Locale.ROOT)
                    + (stepCount == 0 ? " before its first step" : ""));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("optimizer state does not fit: " + String.join("; ", problems));
        }
        this.steps = stepCount;
        for (Parameter p : params) {
            for (String slot : slotNames()) {
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
