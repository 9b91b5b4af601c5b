package dev.recur.models.lm;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.StackedModel;
import dev.recur.models.nn.ModelKinds;
import java.util.Map;
import dev.recur.api.Backend;
import dev.recur.api.Cell;
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
import java.util.Random;
import java.util.SplittableRandom;

/**
 * A character-level language model: {@code embedding → recurrent stack → linear head}, trained
 * with softmax cross-entropy to predict each next character, by truncated BPTT: each call of
 * {@link #trainStep} runs one window of T steps and carries the final states into the next
 * window, cut from the gradient (they are copied, not back-propagated through).
 *
 * <p>Parameter names follow a PyTorch module with attributes {@code embedding}, {@code rnn} and
 * {@code head}: {@code embedding.weight}, {@code rnn.weight_ih_l0}, ..., {@code head.weight},
 * {@code head.bias}.
 */
public final class CharLanguageModel extends StackedModel {

    /** Extra-state key: the dropout stream's position. */
    public static final String DROPOUT_COUNTER = "dropout_counter";

    private final Backend be;
    private final CharModelConfig cfg;
    private final Embedding embedding;
    private final RecurrentStack rnn;
    private final Linear head;
    private final List<Parameter> parameters;
    private final List<Tensor> gradients; // the parameters' gradients, for clipping

    // Training buffers for the current (T, B).
    private int steps = -1;
    private int batch = -1;
    private Tensor embedded;  // [T, B, E]
    private Tensor logits;    // [T*B, V]
    private Tensor dLogits;   // [T*B, V]
    private Tensor dOutput;   // [T*B, D*H]
    private Tensor loss;      // [1]
    private State[] carry;    // states carried between windows, [layers*directions]
    private Tensor norm;      // [1]

    public CharLanguageModel(Backend backend, CharModelConfig config, long seed) {
        Model.requireMemory(config.parameterCount());
        this.be = backend;
        this.cfg = config;
        SplittableRandom random = new SplittableRandom(seed);
        this.embedding = new Embedding(backend, "embedding.", config.vocabulary(), config.embedding(), random);
        this.rnn = new RecurrentStack(backend, "rnn.", config.recurrentConfig(), random);
        this.head = new Linear(backend, "head.", rnn.config().outputSize(), config.vocabulary(), random);
        List<Parameter> all = new ArrayList<>(embedding.parameters());
        all.addAll(rnn.parameters());
        all.addAll(head.parameters());
        this.parameters = Collections.unmodifiableList(all);
        this.gradients = Parameter.gradients(all);
    }

    public CharModelConfig config() {
        return cfg;
    }

    public Backend backend() {
        return be;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    public RecurrentStack rnn() {
        return rnn;
    }

    /**
     * The states carried between windows, as host arrays {@code [layers][h, c]} (c null without
     * a cell state), or null before the first window: for checkpoints, and to set training's
     * state aside during validation.
     */
    public float[][][] carriedState() {
        if (carry == null) {
            return null;
        }
        float[][][] out = new float[carry.length][][];
        for (int i = 0; i < carry.length; i++) {
            out[i] = new float[][] {carry[i].h().toArray(), carry[i].c() == null ? null : carry[i].c().toArray()};
        }
        return out;
    }

    /** Restores what {@link #carriedState()} returned, for windows of {@code batch} sequences. */
    public void restoreCarriedState(float[][][] saved, int windowSteps, int batchSize) {
        ensureBuffers(windowSteps, batchSize);
        if (saved == null) {
            resetState();
            return;
        }
        if (saved.length != carry.length) {
            throw new IllegalArgumentException("carried state has " + saved.length + " layers, the model "
                    + carry.length);
        }
        for (int i = 0; i < carry.length; i++) {
            carry[i].h().copyFrom(saved[i][0]);
            if (carry[i].c() != null) {
                carry[i].c().copyFrom(saved[i][1]);
            }
        }
    }

    /** Forgets the carried state (at the start of an epoch, or of validation). */
    public void resetState() {
        if (carry != null) {
            for (State s : carry) {
                s.h().fill(0f);
                if (s.c() != null) {
                    s.c().fill(0f);
                }
            }
        }
    }

    /**
     * One window of truncated BPTT: forward, loss, backward, clipping by global norm (when
     * {@code clip > 0}) and an optimizer step with learning rate {@code lr}.
     *
     * @param inputs  character ids {@code [T, B]}
     * @param targets the next character of each input, {@code [T*B]} in the same order
     * @return the window's mean loss (one float read back from the backend)
     */
    public float trainStep(IndexTensor inputs, IndexTensor targets, Optimizer optimizer, float lr, float clip) {
        optimizer.zeroGrad();
        forwardLoss(inputs, targets, true);
        Tensor outFlat = lastOutput.reshape(steps * batch, rnn.config().outputSize());
        head.backward(outFlat, dLogits, dOutput);
        Tensor dEmbedded = rnn.backward(dOutput.reshape(steps, batch, rnn.config().outputSize()), null);
        embedding.backward(inputs, dEmbedded);
        if (clip > 0f) {
            be.tensorOps().clipGlobalNorm(gradients, clip, norm);
        }
        optimizer.step(lr);
        keepFinalStates();
        return loss.toArray()[0];
    }

    /** The mean loss of one window without training (the state is carried as in training). */
    public float evaluate(IndexTensor inputs, IndexTensor targets) {
        forwardLoss(inputs, targets, false);
        keepFinalStates();
        return loss.toArray()[0];
    }

    private Tensor lastOutput;

    /**
     * The logits of one window {@code [T*B, V]} (row {@code t*B + b}), from zero states and
     * without dropout; the states carried between training windows are left alone. Owned by the
     * model, valid until its next call. For checks of exported models (ONNX) and for scoring.
     *
     * @param inputs character ids {@code [T, B]}
     */
    public Tensor logits(IndexTensor inputs) {
        forward(inputs, false, false);
        return logits;
    }

    private void forwardLoss(IndexTensor inputs, IndexTensor targets, boolean training) {
        lastOutput = forward(inputs, true, training);
        be.lossOps().softmaxCrossEntropy(logits, targets, -1, loss, training ? dLogits : null);
    }

    /**
     * Embedding, stack (from the carried states, or from zero ones) and head into {@code logits};
     * returns the stack's output.
     */
    private Tensor forward(IndexTensor inputs, boolean fromCarried, boolean training) {
        if (inputs.shape().rank() != 2) {
            throw new IllegalArgumentException("char LM: inputs must be [T, B], got " + inputs.shape());
        }
        ensureBuffers(inputs.shape().dim(0), inputs.shape().dim(1));
        embedding.forward(inputs, embedded);
        Tensor y = rnn.forward(embedded, null, fromCarried ? carry : null, training);
        head.forward(y.reshape(steps * batch, rnn.config().outputSize()), logits);
        return y;
    }

    private void keepFinalStates() {
        State[] fin = rnn.finalStates();
        for (int i = 0; i < fin.length; i++) {
            fin[i].copyTo(carry[i]);
        }
    }

    private void ensureBuffers(int t, int b) {
        if (t == steps && b == batch) {
            return;
        }
        closeBuffers();
        int v = cfg.vocabulary();
        int width = rnn.config().outputSize();
        embedded = be.tensor(t, b, cfg.embedding());
        logits = be.tensor(t * b, v);
        dLogits = be.tensor(t * b, v);
        dOutput = be.tensor(t * b, width);
        loss = be.tensor(1);
        norm = be.tensor(1);
        int states = cfg.layers();
        carry = new State[states];
        for (int i = 0; i < states; i++) {
            carry[i] = rnn.zeroState(b);
        }
        steps = t;
        batch = b;
    }

    private void closeBuffers() {
        if (embedded == null) {
            return;
        }
        for (Tensor t : new Tensor[] {embedded, logits, dLogits, dOutput, loss, norm}) {
            t.close();
        }
        for (State s : carry) {
            s.h().close();
            if (s.c() != null) {
                s.c().close();
            }
        }
        embedded = null;
        steps = -1;
        batch = -1;
    }

    /**
     * Generates {@code length} characters after {@code prime} (ids), sampling each from
     * {@code softmax(logits / temperature)} with {@code random}. Runs the per-step cell path of
     * the stack with T = 1, B = 1; the training buffers are left as they are.
     */
    public int[] sample(int[] prime, int length, float temperature, Random random) {
        if (!(temperature > 0f)) {
            throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        }
        if (prime.length == 0) {
            throw new IllegalArgumentException("prime must hold at least one character");
        }
        int v = cfg.vocabulary();
        int width = rnn.config().outputSize();
        int[] out = new int[length];
        try (Tensor emb = be.tensor(1, 1, cfg.embedding());
             Tensor logit = be.tensor(1, v);
             IndexTensor id = be.indices(1, 1)) {
            State[] state = null;
            State[] held = new State[cfg.layers()];
            for (int i = 0; i < held.length; i++) {
                held[i] = rnn.zeroState(1);
            }
            int next = prime[0];
            for (int i = 0; i < prime.length + length - 1; i++) {
                int cur = i < prime.length ? prime[i] : next;
                id.copyFrom(new int[] {cur});
                embedding.forward(id, emb);
                Tensor y = rnn.forward(emb, null, state, false);
                State[] fin = rnn.finalStates();
                for (int s = 0; s < fin.length; s++) {
                    fin[s].copyTo(held[s]);
                }
                state = held;
                if (i >= prime.length - 1) {
                    head.forward(y.reshape(1, width), logit);
                    next = draw(logit.toArray(), temperature, random);
                    out[i - prime.length + 1] = next;
                }
            }
            for (State s : held) {
                s.h().close();
                if (s.c() != null) {
                    s.c().close();
                }
            }
        }
        return out;
    }

    /** Samples an index from softmax(logits / temperature), in float64. */
    static int draw(float[] logits, float temperature, Random random) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[logits.length];
        double z = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            z += p[i];
        }
        double u = random.nextDouble() * z;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return p.length - 1;
    }

    @Override
    public String kind() {
        return ModelKinds.CHAR_LM;
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
    public static CharLanguageModel load(Backend backend, Checkpoint c) throws CheckpointException {
        return Model.load(c, CharModelConfig::fromJson, CharModelConfig::parameterCount,
                cfg -> new CharLanguageModel(backend, cfg, c.seed()), ModelKinds.CHAR_LM);
    }

    @Override
    public void close() {
        closeBuffers();
        rnn.close();
        Parameter.closeAll(embedding.parameters());
        Parameter.closeAll(head.parameters());
    }
}
