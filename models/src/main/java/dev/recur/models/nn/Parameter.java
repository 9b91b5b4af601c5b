package dev.recur.models.nn;

import dev.recur.api.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A trainable tensor and its gradient, under PyTorch's parameter name (for example
 * {@code rnn.weight_ih_l0}), so that a checkpoint maps one to one onto a PyTorch state dict.
 * Gradients accumulate until {@link #zeroGrad()}.
 */
public final class Parameter {

    private final String name;
    private final Tensor value;
    private final Tensor grad;

    public Parameter(String name, Tensor value, Tensor grad) {
        if (!value.shape().equals(grad.shape())) {
            throw new IllegalArgumentException("parameter " + name + ": gradient shape " + grad.shape()
                    + " differs from value shape " + value.shape());
        }
        this.name = name;
        this.value = value;
        this.grad = grad;
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    public void zeroGrad() {
        grad.fill(0f);
    }

    /** The gradients of these parameters, in their order (for clipping by global norm); unmodifiable. */
    public static List<Tensor> gradients(List<Parameter> parameters) {
        List<Tensor> grads = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            grads.add(p.grad());
        }
        return Collections.unmodifiableList(grads);
    }

    /** Closes the value and the gradient of each parameter (for models that own them). */
    public static void closeAll(List<Parameter> parameters) {
        for (Parameter p : parameters) {
            p.value().close();
            p.grad().close();
        }
    }

    @Override
    public String toString() {
        return name + value.shape();
    }
}
