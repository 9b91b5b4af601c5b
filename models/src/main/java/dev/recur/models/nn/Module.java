package dev.recur.models.nn;

import dev.recur.api.Tensor;
import dev.recur.models.io.StoredTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A layer or a model: named parameters under PyTorch's names, a state dict, train and eval mode,
 * and {@link #close()} for the device memory it holds. PyTorch's {@code nn.Module} is the model:
 * {@link #stateDict()} maps one to one onto {@code module.state_dict()} of the same architecture.
 *
 * <p>Mode: a module is made in training mode. {@link #eval()} turns off what only training does
 * (dropout); a trainer switches a model to eval mode around validation and back.
 */
public interface Module extends AutoCloseable {

    /** The trainable parameters in a fixed order; unmodifiable. */
    List<Parameter> parameters();

    /** Whether the module is in training mode (dropout on). */
    boolean training();

    /** Sets training mode ({@code true}) or eval mode ({@code false}). */
    void train(boolean on);

    /** Eval mode: {@code train(false)}. */
    default void eval() {
        train(false);
    }

    /** Number of trainable values. */
    default long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.value().shape().size();
        }
        return n;
    }

    /** Every parameter's live value by name, in {@link #parameters()}' order; unmodifiable. */
    default Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : parameters()) {
            out.put(p.name(), p.value());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Copies values into the parameters, PyTorch's {@code load_state_dict(state, strict)}: every
     * parameter must be present with its shape and finite values, and with {@code strict} no other
     * name may be.
     * Nothing is copied unless everything fits.
     *
     * @throws IllegalArgumentException naming the missing, unexpected or mis-shaped entries
     */
    default void loadStateDict(Map<String, StoredTensor> state, boolean strict) {
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> nonFinite = new ArrayList<>();
        for (Parameter p : parameters()) {
            StoredTensor t = state.get(p.name());
            int[] shape = p.value().shape().toArray();
            if (t == null) {
                missing.add(p.name());
            } else if (!t.hasShape(shape)) {
                misShaped.add(p.name() + " is " + Arrays.toString(t.shape()) + ", the module's "
                        + Arrays.toString(shape));
            } else {
                float[] v = t.data();
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        nonFinite.add(p.name() + " holds " + v[i] + " at flat index " + i);
                        break;
                    }
                }
            }
        }
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        parameters().forEach(p -> unexpected.remove(p.name()));
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            problems.add("missing " + missing);
        }
        if (!misShaped.isEmpty()) {
            problems.add("shapes differ: " + String.join("; ", misShaped));
        }
        if (!nonFinite.isEmpty()) {
            problems.add("not finite: " + String.join("; ", nonFinite));
        }
        if (strict && !unexpected.isEmpty()) {
            problems.add("unexpected " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("state dict does not fit the module: " + String.join(", ", problems));
        }
        for (Parameter p : parameters()) {
            p.value().copyFrom(state.get(p.name()).data());
        }
    }

    /** Frees the device memory of the parameters and buffers; the module is unusable afterwards. */
    @Override
    void close();
}
