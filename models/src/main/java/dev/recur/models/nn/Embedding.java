package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/** A lookup table {@code weight [V, E]}: ids of any shape S give vectors {@code [S..., E]}. */
public final class Embedding implements Module {

    private final Backend backend;
    private boolean training = true;
    private final Parameter weight;

    public Embedding(Backend backend, String prefix, int vocabulary, int dim, SplittableRandom random) {
        this.backend = backend;
        this.weight = new Parameter(prefix + "weight", Init.normal(backend, random, vocabulary, dim),
                backend.tensor(vocabulary, dim));
    }

    public int vocabulary() {
        return weight.value().shape().dim(0);
    }

    public int dim() {
        return weight.value().shape().dim(1);
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight);
    }

    /** {@code out[S..., E] = weight[ids]}. */
    public void forward(IndexTensor ids, Tensor out) {
        backend.tensorOps().embeddingForward(weight.value(), ids, out);
    }

    /** Accumulates {@code dOut} into the rows of the weight's gradient. */
    public void backward(IndexTensor ids, Tensor dOut) {
        backend.tensorOps().embeddingBackward(ids, dOut, weight.grad());
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
