package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code y = x·Wᵀ + b} with PyTorch's layout ({@code weight [O, I]}, {@code bias [O]}), applied
 * to every row of {@code x [N, I]}: over a sequence, pass {@code [T*B, I]} (a time-distributed
 * layer).
 */
public final class Linear implements Module {

    private final Backend backend;
    private boolean training = true;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(Backend backend, String prefix, int in, int out, SplittableRandom random) {
        this.backend = backend;
        float bound = (float) (1 / Math.sqrt(in));
        this.weight = new Parameter(prefix + "weight", Init.uniform(backend, random, bound, out, in),
                backend.tensor(out, in));
        this.bias = new Parameter(prefix + "bias", Init.uniform(backend, random, bound, out), backend.tensor(out));
    }

    public int in() {
        return weight.value().shape().dim(1);
    }

    public int out() {
        return weight.value().shape().dim(0);
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    /** {@code y [N, O] = x [N, I]·Wᵀ + b}. */
    public void forward(Tensor x, Tensor y) {
        backend.gemm(false, true, 1f, x, weight.value(), 0f, y);
        backend.tensorOps().addRowVector(y, bias.value());
    }

    /** Accumulates the weight and bias gradients; {@code dx [N, I] = dy·W} when {@code dx} is not null. */
    public void backward(Tensor x, Tensor dy, Tensor dx) {
        backend.gemm(true, false, 1f, dy, x, 1f, weight.grad());
        backend.tensorOps().addColumnSums(dy, bias.grad());
        if (dx != null) {
            backend.gemm(false, false, 1f, dy, weight.value(), 0f, dx);
        }
    }

    /** Nothing here differs between modes; kept for {@link Module}. */
    @Override
    public boolean training() {
        return training;
    }

    @Override
    public void train(boolean on) {
        training = on;
    }

    @Override
    public void close() {
        Parameter.closeAll(parameters());
    }
}
