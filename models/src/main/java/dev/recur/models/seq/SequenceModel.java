package dev.recur.models.seq;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.StackedModel;
import dev.recur.models.nn.ModelKinds;
import java.util.Map;
import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Embedding;
import dev.recur.models.nn.Linear;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.Parameter;
import dev.recur.models.nn.RecurrentStack;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Many-to-one: sequence classification (sentiment) and forecasting (see {@link SequenceModelConfig}).
 * The features are the last layer's final hidden states: for a forward direction the state after
 * each sequence's own last step (so padding never reaches them), for the reverse direction the
 * state after step 0. Parameter names: {@code embedding.weight}, {@code rnn.*}, {@code head.*}.
 *
 * <p>Step masks: every call takes an optional {@code mask [T*B]} (index {@code t*B + b}, as the
 * ids and x are time-major) of 0 and 1, given to every layer ({@link dev.recur.api.StepControl},
 * Keras semantics): a skipped step leaves the state as it was, so the features are the state after
 * the last step that ran. Null: no holes.
 */
public final class SequenceModel extends StackedModel {

    /** Extra-state key: the dropout stream's position. */
    public static final String DROPOUT_COUNTER = "dropout_counter";

    private final Backend be;
    private final SequenceModelConfig cfg;
    private final Embedding embedding; // null for numeric input
    private final RecurrentStack rnn;
    private final Linear head;
    private final List<Parameter> parameters;
    private final List<Tensor> gradients; // the parameters' gradients, for clipping

    private int steps = -1;
    private int batch = -1;
    private Tensor embedded;   // [T, B, E]
    private Tensor features;   // [B, D*S]
    private Tensor output;     // [B, classes or outputs]
    private Tensor dOutput;    // [B, ...]
    private Tensor dFeatures;  // [B, D*S]
    private State[] dFinal;    // [layers*D]; only the last layer's h is non-zero
    private Tensor loss;       // [1]
    private Tensor norm;       // [1]

    public SequenceModel(Backend backend, SequenceModelConfig config, long seed) {
        Model.requireMemory(config.parameterCount());
        this.be = backend;
        this.cfg = config;
        SplittableRandom random = new SplittableRandom(seed);
        this.embedding = config.vocabulary() > 0
                ? new Embedding(backend, "embedding.", config.vocabulary(), config.inputSize(), random) : null;
        this.rnn = new RecurrentStack(backend, "rnn.", config.recurrentConfig(), random);
        this.head = new Linear(backend, "head.", config.featureSize(), config.headSize(), random);
        List<Parameter> all = new ArrayList<>();
        if (embedding != null) {
            all.addAll(embedding.parameters());
        }
        all.addAll(rnn.parameters());
        all.addAll(head.parameters());
        this.parameters = Collections.unmodifiableList(all);
        this.gradients = Parameter.gradients(all);
    }

    public SequenceModelConfig config() {
        return cfg;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    /** Classification step on token ids {@code [T, B]} with {@code lengths} and labels {@code [B]}. */
    public float trainStep(IndexTensor ids, int[] lengths, IndexTensor labels, Optimizer opt, float lr, float clip) {
        return trainStep(ids, lengths, null, labels, opt, lr, clip);
    }

    /**
     * {@link #trainStep(IndexTensor, int[], IndexTensor, Optimizer, float, float)} with a step mask
     * {@code [T*B]} or null.
     */
    public float trainStep(IndexTensor ids, int[] lengths, byte[] mask, IndexTensor labels, Optimizer opt, float lr,
                           float clip) {
        requireClassifier(true);
        opt.zeroGrad();
        forward(ids, null, lengths, mask, true);
        be.lossOps().softmaxCrossEntropy(output, labels, -1, loss, dOutput);
        backward(ids);
        return finish(opt, lr, clip);
    }

    /** Regression step on numbers {@code [T, B, I]} with {@code lengths} and targets {@code [B, outputs]}. */
    public float trainStep(Tensor x, int[] lengths, Tensor targets, Optimizer opt, float lr, float clip) {
        return trainStep(x, lengths, null, targets, opt, lr, clip);
    }

    /** {@link #trainStep(Tensor, int[], Tensor, Optimizer, float, float)} with a step mask {@code [T*B]} or null. */
    public float trainStep(Tensor x, int[] lengths, byte[] mask, Tensor targets, Optimizer opt, float lr,
                           float clip) {
        requireClassifier(false);
        opt.zeroGrad();
        forward(null, x, lengths, mask, true);
        be.lossOps().meanSquaredError(output, targets, loss, dOutput);
        backward(null);
        return finish(opt, lr, clip);
    }

    /** Class scores (logits) {@code [B, classes]}, owned by the model. */
    public Tensor predict(IndexTensor ids, int[] lengths) {
        return predict(ids, lengths, null);
    }

    /** Class scores with a step mask {@code [T*B]} (or null). */
    public Tensor predict(IndexTensor ids, int[] lengths, byte[] mask) {
        requireClassifier(true);
        forward(ids, null, lengths, mask, false);
        return output;
    }

    /** Predictions {@code [B, outputs]}, owned by the model. */
    public Tensor predict(Tensor x, int[] lengths) {
        return predict(x, lengths, null);
    }

    /** Predictions with a step mask {@code [T*B]} (or null). */
    public Tensor predict(Tensor x, int[] lengths, byte[] mask) {
        requireClassifier(false);
        forward(null, x, lengths, mask, false);
        return output;
    }

    /** The recurrent stack (for tests and tools that call the backend directly). */
    public RecurrentStack rnn() {
        return rnn;
    }

    private void requireClassifier(boolean classifier) {
        if (cfg.classifies() != classifier) {
            throw new IllegalStateException("this sequence model " + (cfg.classifies() ? "classifies token ids"
                    : "regresses numeric sequences") + "; " + cfg);
        }
    }

    private void forward(IndexTensor ids, Tensor x, int[] lengths, byte[] mask, boolean training) {
        int t = ids != null ? ids.shape().dim(0) : x.shape().dim(0);
        int b = ids != null ? ids.shape().dim(1) : x.shape().dim(1);
        ensureBuffers(t, b);
        Tensor input = x;
        if (ids != null) {
            embedding.forward(ids, embedded);
            input = embedded;
        }
        rnn.forward(input, lengths, mask, null, training);
        State[] fin = rnn.finalStates();
        int last = (cfg.layers() - 1) * dirs();
        for (int d = 0; d < dirs(); d++) {
            be.tensorOps().copyIntoColumns(fin[last + d].h(), features, d * stateWidth());
        }
        head.forward(features, output);
    }

    private void backward(IndexTensor ids) {
        head.backward(features, dOutput, dFeatures);
        int last = (cfg.layers() - 1) * dirs();
        for (int d = 0; d < dirs(); d++) {
            be.tensorOps().copyFromColumns(dFeatures, d * stateWidth(), dFinal[last + d].h());
        }
        Tensor dInput = rnn.backward(null, dFinal);
        if (ids != null) {
            embedding.backward(ids, dInput);
        }
    }

    private float finish(Optimizer opt, float lr, float clip) {
        if (clip > 0f) {
            be.tensorOps().clipGlobalNorm(gradients, clip, norm);
        }
        opt.step(lr);
        return loss.toArray()[0];
    }

    /** S: the width of a final h. */
    private int stateWidth() {
        return rnn.config().stateWidth();
    }

    private int dirs() {
        return cfg.bidirectional() ? 2 : 1;
    }

    private void ensureBuffers(int t, int b) {
        if (t == steps && b == batch) {
            return;
        }
        closeBuffers();
        int width = cfg.featureSize();
        embedded = embedding != null ? be.tensor(t, b, cfg.inputSize()) : null;
        features = be.tensor(b, width);
        output = be.tensor(b, cfg.headSize());
        dOutput = be.tensor(b, cfg.headSize());
        dFeatures = be.tensor(b, width);
        loss = be.tensor(1);
        norm = be.tensor(1);
        dFinal = new State[cfg.layers() * dirs()];
        int last = (cfg.layers() - 1) * dirs();
        for (int d = 0; d < dirs(); d++) {
            dFinal[last + d] = State.of(be.tensor(b, stateWidth()));
        }
        steps = t;
        batch = b;
    }

    private void closeBuffers() {
        if (features == null) {
            return;
        }
        for (Tensor t : new Tensor[] {embedded, features, output, dOutput, dFeatures, loss, norm}) {
            if (t != null) {
                t.close();
            }
        }
        for (State s : dFinal) {
            if (s != null) {
                s.h().close();
            }
        }
        features = null;
        steps = -1;
        batch = -1;
    }

    @Override
    public String kind() {
        return cfg.kind();
    }

    @Override
    public String configJson() {
        return cfg.toJson();
    }

    @Override
    protected Map<String, RecurrentStack> stacks() {
        return Map.of(DROPOUT_COUNTER, rnn);
    }

    /**
     * The model saved in {@code c} (by {@link #save} or a training checkpoint), on {@code backend}.
     *
     * @throws CheckpointException when {@code c} holds another kind of model, or a configuration or
     *                             weights that do not fit
     */
    public static SequenceModel load(Backend backend, Checkpoint c) throws CheckpointException {
        return Model.load(c, SequenceModelConfig::fromJson, SequenceModelConfig::parameterCount,
                cfg -> new SequenceModel(backend, cfg, c.seed()), ModelKinds.CLASSIFIER, ModelKinds.REGRESSOR);
    }

    @Override
    public void close() {
        closeBuffers();
        rnn.close();
        Parameter.closeAll(head.parameters());
        if (embedding != null) {
            Parameter.closeAll(embedding.parameters());
        }
    }
}
