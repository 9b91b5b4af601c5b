package dev.recur.models.seq2seq;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.StackedModel;
import dev.recur.models.nn.ModelKinds;
import java.util.Map;
import dev.recur.api.Backend;
import dev.recur.api.LayerParams;
import dev.recur.api.Workspace;
import dev.recur.api.IndexTensor;
import dev.recur.api.Shape;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Embedding;
import dev.recur.models.nn.Linear;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.Parameter;
import dev.recur.models.nn.RecurrentConfig;
import dev.recur.models.nn.RecurrentStack;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Sequence to sequence, the encoder-decoder of Sutskever et al. (2014) and Cho et al. (2014):
 * an encoder reads the source sentence and its final states (each layer's state after each
 * sentence's own last word) become the initial states of a decoder, which is trained with
 * teacher forcing to predict the target sentence one word at a time from the words before it,
 * and translates greedily, feeding each predicted word back in until it predicts EOS.
 *
 * <pre>
 *   source [Ts, B] → encoder.embedding → encoder.rnn ──(h_n, c_n per layer)──┐
 *   BOS y1 .. yn [Tt, B] → decoder.embedding → decoder.rnn (from those states) → decoder.head → y1 .. yn EOS
 * </pre>
 *
 * <p>With a bidirectional encoder, each decoder layer starts from the sum of the encoder layer's
 * two final states (the forward direction's after each sentence's last word, the reverse
 * direction's after its first), and both receive that sum's gradient.
 *
 * <p>The gradient reaches the encoder only through the decoder's initial states:
 * {@link RecurrentStack#backward(Tensor, State[], State[])} gives the decoder's, which are the
 * encoder's final-state gradients. Parameter names follow a PyTorch module with attributes
 * {@code encoder.embedding}, {@code encoder.rnn}, {@code decoder.embedding}, {@code decoder.rnn}
 * and {@code decoder.head}.
 *
 * <p>With attention ({@link Seq2SeqConfig#attention()}), the decoder's outputs do not go to the
 * head directly: an {@link Attention} module (parameters {@code decoder.attention.*}) reads them
 * as queries over the encoder's outputs (the source padding masked) and gives the head Luong's
 * attentional states {@code h~_t = tanh(W_c [c_t; h_t] + b_c)}; the encoder then also receives
 * the gradient of its outputs. With input feeding ({@link Seq2SeqConfig#inputFeeding()}, Luong
 * et al. 2015) the decoder's input at step t is {@code [emb(y_t); h~_{t-1}]} ({@code h~_{-1} = 0}):
 * training then runs the decoder one step at a time on the engine's per-step cell ops
 * ({@link Backend#cellForward}, one workspace per step and layer), each step's attention
 * ({@code [B, 1, H]} queries against all the keys) right after it, and the backward in reverse
 * through the same steps, the gradient of each {@code h~_t} reaching the head's step t and the
 * decoder's step t + 1. Decoding can be greedy ({@link #translate}) or a beam search
 * ({@link #beamSearch}), which also returns the attention weights of the best hypothesis.
 *
 * <p>Order of calls: {@link #trainStep} and {@link #loss} any number of times;
 * {@link #translate} between them (it leaves the training buffers alone, though the recurrent
 * stacks remake theirs when the shape changes).
 */
public final class Seq2SeqModel extends StackedModel {

    /** Extra-state keys: the dropout streams' positions. */
    public static final String ENCODER_DROPOUT_COUNTER = "encoder_dropout_counter";
    public static final String DECODER_DROPOUT_COUNTER = "decoder_dropout_counter";

    private final Backend be;
    private final Seq2SeqConfig cfg;
    private final Embedding sourceEmbedding;
    private final RecurrentStack encoder;
    private final Embedding targetEmbedding;
    private final RecurrentStack decoder;
    private final Linear head;
    private final Attention attention; // null without attention
    private final List<Parameter> parameters;
    private final List<Tensor> gradients; // the parameters' gradients, for clipping

    // Training buffers for the current (Ts, Tt, B); remade when the shape changes.
    private int sourceSteps = -1;
    private int targetSteps = -1;
    private int batch = -1;
    private Tensor sourceEmbedded; // [Ts, B, E]
    private Tensor targetEmbedded; // [Tt, B, E]
    private Tensor logits;         // [Tt*B, V]
    private Tensor dLogits;        // [Tt*B, V]
    private Tensor dOutput;        // [Tt*B, H]
    private State[] start;         // [layers]: the decoder's initial states, from the encoder's final ones
    private State[] dStart;        // [layers]: their gradients
    private State[] dEncoderFinal; // [layers*D]: the encoder's final-state gradients (dStart[l] for each direction)
    private Tensor loss;           // [1]
    private Tensor norm;           // [1]
    private Tensor lastOutput;     // the head's input of the last forward, [Tt, B, H]
    // With attention only (else null):
    private Tensor keys;           // [B, Ts, K]: the encoder's outputs, batch-first
    private Tensor queries;        // [B, Tt, H]: the decoder's outputs, batch-first
    private Tensor attended;       // [Tt, B, H]: h~, time-major for the head
    private Tensor dAttended;      // [B, Tt, H]
    private Tensor dQueries;       // [B, Tt, H]
    private Tensor dKeys;          // [B, Ts, K]
    private Tensor dDecoded;       // [Tt, B, H]
    private Tensor dEncoded;       // [Ts, B, K]
    private IndexTensor validSource; // [B]: the source lengths, for the masked softmax
    // With input feeding only (else null / unused):
    private final long feedDropoutSeed;       // the decoder's dropout stream when it runs step by step
    private final LayerParams[] decoderParams; // [layers]: the decoder's weights, for the per-step cell ops
    private final LayerParams[] decoderGrads;  // [layers]: their gradients
    private FeedBuffers feed;

    public Seq2SeqModel(Backend backend, Seq2SeqConfig config, long seed) {
        Model.requireMemory(config.parameterCount());
        this.be = backend;
        this.cfg = config;
        SplittableRandom random = new SplittableRandom(seed);
        RecurrentConfig.Builder rnn = config.recurrentConfig(config.embedding());
        this.sourceEmbedding = new Embedding(backend, "encoder.embedding.", config.sourceVocabulary(),
                config.embedding(), random);
        this.encoder = new RecurrentStack(backend, "encoder.rnn.",
                rnn.bidirectional(config.bidirectionalEncoder()).build(), random);
        this.targetEmbedding = new Embedding(backend, "decoder.embedding.", config.targetVocabulary(),
                config.embedding(), random);
        this.decoder = new RecurrentStack(backend, "decoder.rnn.",
                config.recurrentConfig(config.decoderInputSize()).build(), random);
        this.head = new Linear(backend, "decoder.head.", config.hidden(), config.targetVocabulary(), random);
        // Drawn after the rest: a model without attention starts from the weights it always had.
        this.attention = config.attention() == Attention.Kind.NONE ? null
                : new Attention(backend, "decoder.attention.", config.attention(), config.hidden(), config.keySize(),
                random);
        this.feedDropoutSeed = config.inputFeeding() ? random.nextLong() : 0L;
        List<Parameter> all = new ArrayList<>(sourceEmbedding.parameters());
        all.addAll(encoder.parameters());
        all.addAll(targetEmbedding.parameters());
        all.addAll(decoder.parameters());
        all.addAll(head.parameters());
        if (attention != null) {
            all.addAll(attention.parameters());
        }
        this.parameters = Collections.unmodifiableList(all);
        this.gradients = Parameter.gradients(all);
        this.decoderParams = new LayerParams[config.layers()];
        this.decoderGrads = new LayerParams[config.layers()];
        List<Parameter> rnnParams = decoder.parameters(); // per layer: weight_ih, weight_hh, bias_ih, bias_hh[, peephole]
        int per = rnnParams.size() / config.layers();
        for (int l = 0; l < config.layers(); l++) {
            List<Parameter> p = rnnParams.subList(l * per, (l + 1) * per);
            Parameter peep = config.cell().peepholes() > 0 ? p.get(4) : null;
            decoderParams[l] = new LayerParams(p.get(0).value(), p.get(1).value(), p.get(2).value(), p.get(3).value(),
                    peep == null ? null : peep.value());
            decoderGrads[l] = new LayerParams(p.get(0).grad(), p.get(1).grad(), p.get(2).grad(), p.get(3).grad(),
                    peep == null ? null : peep.grad());
        }
    }

    public Seq2SeqConfig config() {
        return cfg;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * One teacher-forced training step: forward, the mean cross-entropy over the target words
     * (EOS included), backward through decoder and encoder, clipping by global norm (when
     * {@code clip > 0}) and an optimizer step with learning rate {@code lr}.
     *
     * @param source        source ids {@code [Ts, B]}, anything past each length
     * @param sourceLengths {@code [B]}, each 1..Ts
     * @param decoderInput  {@code [Tt, B]}: BOS, then the target's words
     * @param targetLengths {@code [B]}, each 1..Tt: the target's words plus one
     * @param decoderTarget {@code [Tt*B]} in the order of {@code decoderInput}: the target's
     *                      words, then EOS, then {@code ignoreIndex} past each length
     * @param ignoreIndex   the id that marks padding in {@code decoderTarget} (not a word's id)
     * @return the step's mean loss (one float read back from the backend)
     */
    public float trainStep(IndexTensor source, int[] sourceLengths, IndexTensor decoderInput, int[] targetLengths,
                           IndexTensor decoderTarget, int ignoreIndex, Optimizer optimizer, float lr, float clip) {
        optimizer.zeroGrad();
        forwardLoss(source, sourceLengths, decoderInput, targetLengths, decoderTarget, ignoreIndex, true);
        if (feed != null) {
            feedBackward(source, decoderInput);
            if (clip > 0f) {
                be.tensorOps().clipGlobalNorm(gradients, clip, norm);
            }
            optimizer.step(lr);
            return loss.toArray()[0];
        }
        head.backward(lastOutput.reshape(targetSteps * batch, cfg.hidden()), dLogits, dOutput);
        Tensor dDecoderOutput = dOutput.reshape(targetSteps, batch, cfg.hidden());
        Tensor dEncoderOutput = null; // without attention the encoder's outputs are not used
        if (attention != null) {
            be.tensorOps().transpose01(dDecoderOutput, dAttended);
            attention.backward(dAttended, dQueries, dKeys);
            be.tensorOps().transpose01(dQueries, dDecoded);
            be.tensorOps().transpose01(dKeys, dEncoded);
            dDecoderOutput = dDecoded;
            dEncoderOutput = dEncoded;
        }
        Tensor dTargetEmbedded = decoder.backward(dDecoderOutput, null, dStart);
        targetEmbedding.backward(decoderInput, dTargetEmbedded);
        Tensor dSourceEmbedded = encoder.backward(dEncoderOutput, dEncoderFinal);
        sourceEmbedding.backward(source, dSourceEmbedded);
        if (clip > 0f) {
            be.tensorOps().clipGlobalNorm(gradients, clip, norm);
        }
        optimizer.step(lr);
        return loss.toArray()[0];
    }

    /** The mean loss of {@link #trainStep}'s arguments without training (no dropout, no update). */
    public float loss(IndexTensor source, int[] sourceLengths, IndexTensor decoderInput, int[] targetLengths,
                      IndexTensor decoderTarget, int ignoreIndex) {
        forwardLoss(source, sourceLengths, decoderInput, targetLengths, decoderTarget, ignoreIndex, false);
        return loss.toArray()[0];
    }

    private void forwardLoss(IndexTensor source, int[] sourceLengths, IndexTensor decoderInput, int[] targetLengths,
                             IndexTensor decoderTarget, int ignoreIndex, boolean training) {
        int ts = timeMajor("source", source).dim(0);
        int b = source.shape().dim(1);
        int tt = timeMajor("decoderInput", decoderInput).dim(0);
        if (decoderInput.shape().dim(1) != b) {
            throw new IllegalArgumentException("seq2seq: decoderInput has batch " + decoderInput.shape().dim(1)
                    + ", source " + b);
        }
        if (decoderTarget.shape().rank() != 1 || decoderTarget.shape().dim(0) != tt * b) {
            throw new IllegalArgumentException("seq2seq: decoderTarget must be [Tt*B] = [" + tt * b + "], got "
                    + decoderTarget.shape());
        }
        ensureBuffers(ts, tt, b);
        sourceEmbedding.forward(source, sourceEmbedded);
        Tensor encoded = encoder.forward(sourceEmbedded, sourceLengths, null, training); // [Ts, B, K]
        targetEmbedding.forward(decoderInput, targetEmbedded);
        startStates(encoder.finalStates(), start);
        if (feed != null) {
            be.tensorOps().transpose01(encoded, keys);
            validSource.copyFrom(sourceLengths);
            lastOutput = feedForward(training);                                          // [Tt, B, H]
            head.forward(lastOutput.reshape(tt * b, cfg.hidden()), logits);
            be.lossOps().softmaxCrossEntropy(logits, decoderTarget, ignoreIndex, loss, training ? dLogits : null);
            return;
        }
        lastOutput = decoder.forward(targetEmbedded, targetLengths, start, training);    // [Tt, B, H]
        if (attention != null) {
            be.tensorOps().transpose01(encoded, keys);
            be.tensorOps().transpose01(lastOutput, queries);
            validSource.copyFrom(sourceLengths);
            be.tensorOps().transpose01(attention.forward(keys, validSource, queries), attended);
            lastOutput = attended;
        }
        head.forward(lastOutput.reshape(tt * b, cfg.hidden()), logits);
        be.lossOps().softmaxCrossEntropy(logits, decoderTarget, ignoreIndex, loss, training ? dLogits : null);
    }

    /**
     * The input-feeding decoder's forward, step by step: for each t, each layer's cell on
     * {@code [emb_t; h~_{t-1}]} (layer 0) or the layer below's output, then the attention of the
     * top layer's state over {@link #keys}; {@code h~_t} goes to the next step's input and to
     * the head's. The decoder runs past each target's length too: those steps' outputs get no
     * gradient from the loss (their targets are ignored) and feed only later such steps.
     *
     * @return the attentional states {@code h~}, time-major {@code [Tt, B, H]}
     */
    private Tensor feedForward(boolean training) {
        int tt = targetSteps;
        int b = batch;
        int e = cfg.embedding();
        int h = cfg.hidden();
        int layers = cfg.layers();
        FeedBuffers f = feed;
        f.dropout = training && decoder.training() && cfg.dropout() > 0f;
        be.tensorOps().transpose01(targetEmbedded, f.embeddedBatchFirst.reshape(b, tt, e));
        for (int t = 0; t < tt; t++) {
            be.tensorOps().copyFromColumns(f.embeddedBatchFirst, t * e, f.embeddedStep);
            be.tensorOps().copyIntoColumns(f.embeddedStep, f.input[t], 0); // columns e.. hold h~_{t-1} (0 at t = 0)
            Tensor x = f.input[t];
            for (int l = 0; l < layers; l++) {
                be.cellForward(cfg.cell(), x, t == 0 ? start[l] : f.states[t - 1][l], decoderParams[l], f.states[t][l],
                        f.workspaces[t][l]);
                x = f.states[t][l].h();
                if (l < layers - 1 && f.dropout) {
                    long counter = decoder.dropoutCounter();
                    be.tensorOps().dropout(x, f.dropped[t][l], f.masks[t][l], cfg.dropout(), feedDropoutSeed, counter);
                    decoder.dropoutCounter(counter + (long) b * h);
                    x = f.dropped[t][l];
                }
            }
            Tensor attended = attention.forward(keys, validSource, x.reshape(b, 1, h)).reshape(b, h); // h~_t [B, H]
            be.tensorOps().copyIntoColumns(attended, f.attendedBatchFirst, t * h);
            if (t + 1 < tt) {
                be.tensorOps().copyIntoColumns(attended, f.input[t + 1], e);
            }
        }
        be.tensorOps().transpose01(f.attendedBatchFirst.reshape(b, tt, h), this.attended);
        return this.attended;
    }

    /**
     * The backward of {@link #feedForward} and of everything below it, after the loss: the head,
     * then the steps in reverse (each step's attention computed again from the kept query, its
     * backward, the cells' backward from the top layer down), the target embedding, the encoder
     * (from its outputs' and its final states' gradients) and the source embedding. Adds to every
     * parameter's gradient.
     */
    private void feedBackward(IndexTensor source, IndexTensor decoderInput) {
        int tt = targetSteps;
        int b = batch;
        int e = cfg.embedding();
        int h = cfg.hidden();
        int layers = cfg.layers();
        FeedBuffers f = feed;
        head.backward(lastOutput.reshape(tt * b, h), dLogits, dOutput);
        be.tensorOps().transpose01(dOutput.reshape(tt, b, h), f.dAttendedBatchFirst.reshape(b, tt, h));
        dKeys.fill(0f);
        for (int l = 0; l < layers; l++) {
            f.dNext[l].h().fill(0f); // the final states are not used: no gradient
            if (f.dNext[l].c() != null) {
                f.dNext[l].c().fill(0f);
            }
        }
        for (int t = tt - 1; t >= 0; t--) {
            be.tensorOps().copyFromColumns(f.dAttendedBatchFirst, t * h, f.dAttendedStep); // from the head
            if (t + 1 < tt) {
                be.tensorOps().axpy(1f, f.dFed, f.dAttendedStep);                        // from step t + 1's input
            }
            Tensor query = f.states[t][layers - 1].h();
            attention.forward(keys, validSource, query.reshape(b, 1, h)); // step t's attention again, for its backward
            attention.backward(f.dAttendedStep.reshape(b, 1, h), f.dQuery, f.dKeysStep);
            be.tensorOps().axpy(1f, f.dKeysStep, dKeys);
            Tensor fromAbove = f.dQuery.reshape(b, h);
            for (int l = layers - 1; l >= 0; l--) {
                be.tensorOps().axpy(1f, fromAbove, f.dNext[l].h());
                Tensor x = l == 0 ? f.input[t] : f.dropout ? f.dropped[t][l - 1] : f.states[t][l - 1].h();
                be.cellBackward(cfg.cell(), x, decoderParams[l], f.workspaces[t][l], f.dNext[l], f.dInput[l],
                        f.dPrevious[l], decoderGrads[l]);
                State swap = f.dNext[l]; // the gradient of the state before step t is the next step's dNext
                f.dNext[l] = f.dPrevious[l];
                f.dPrevious[l] = swap;
                if (l > 0) {
                    if (f.dropout) {
                        be.tensorOps().multiply(f.dInput[l], f.masks[t][l - 1], f.dDropped);
                        fromAbove = f.dDropped;
                    } else {
                        fromAbove = f.dInput[l];
                    }
                }
            }
            be.tensorOps().copyFromColumns(f.dInput[0], 0, f.embeddedStep);               // d emb_t
            be.tensorOps().copyIntoColumns(f.embeddedStep, f.dEmbeddedBatchFirst, t * e);
            be.tensorOps().copyFromColumns(f.dInput[0], e, f.dFed);                       // d h~_{t-1}
        }
        for (int l = 0; l < layers; l++) {
            f.dNext[l].copyTo(dStart[l]);
        }
        be.tensorOps().transpose01(f.dEmbeddedBatchFirst.reshape(b, tt, e), f.dEmbedded);
        targetEmbedding.backward(decoderInput, f.dEmbedded);
        be.tensorOps().transpose01(dKeys, dEncoded);
        Tensor dSourceEmbedded = encoder.backward(dEncoded, dEncoderFinal);
        sourceEmbedding.backward(source, dSourceEmbedded);
    }

    /** The input-feeding decoder's per-step buffers for one (Tt, B). */
    private final class FeedBuffers implements AutoCloseable {
        final Workspace[][] workspaces;  // [Tt][layers], one step each
        final Tensor[] input;            // [Tt] [B, E + H]: [emb_t; h~_{t-1}]
        final State[][] states;          // [Tt][layers]: each layer's state after step t
        final Tensor[][] masks;          // [Tt][layers - 1] [B, H]: dropout masks between layers
        final Tensor[][] dropped;        // [Tt][layers - 1] [B, H]
        final Tensor embeddedBatchFirst; // [B, Tt*E]
        final Tensor embeddedStep;       // [B, E]
        final Tensor attendedBatchFirst; // [B, Tt*H]
        final Tensor dAttendedBatchFirst; // [B, Tt*H]
        final Tensor dAttendedStep;      // [B, H]
        final Tensor dFed;               // [B, H]: the gradient of h~_t from step t + 1's input
        final Tensor dQuery;             // [B, 1, H]
        final Tensor dKeysStep;          // [B, Ts, K]
        final Tensor dDropped;           // [B, H]
        final Tensor[] dInput;           // [layers] [B, in_l]
        final Tensor dEmbeddedBatchFirst; // [B, Tt*E]
        final Tensor dEmbedded;          // [Tt, B, E]
        State[] dNext;                   // [layers]: the gradient of the state after the step being undone
        State[] dPrevious;               // [layers]: that of the state before it
        boolean dropout;                 // the last forward applied dropout between layers

        FeedBuffers(int ts, int tt, int b) {
            int e = cfg.embedding();
            int h = cfg.hidden();
            int layers = cfg.layers();
            workspaces = new Workspace[tt][layers];
            input = new Tensor[tt];
            states = new State[tt][layers];
            masks = new Tensor[tt][Math.max(0, layers - 1)];
            dropped = new Tensor[tt][Math.max(0, layers - 1)];
            for (int t = 0; t < tt; t++) {
                input[t] = be.tensor(b, e + h);
                for (int l = 0; l < layers; l++) {
                    workspaces[t][l] = be.workspace(cfg.cell(), 1, b, l == 0 ? e + h : h, h, false);
                    states[t][l] = State.zeros(be, cfg.cell(), b, h);
                    if (l < layers - 1 && cfg.dropout() > 0f) {
                        masks[t][l] = be.tensor(b, h);
                        dropped[t][l] = be.tensor(b, h);
                    }
                }
            }
            embeddedBatchFirst = be.tensor(b, tt * e);
            embeddedStep = be.tensor(b, e);
            attendedBatchFirst = be.tensor(b, tt * h);
            dAttendedBatchFirst = be.tensor(b, tt * h);
            dAttendedStep = be.tensor(b, h);
            dFed = be.tensor(b, h);
            dQuery = be.tensor(b, 1, h);
            dKeysStep = be.tensor(b, ts, cfg.keySize());
            dDropped = be.tensor(b, h);
            dInput = new Tensor[layers];
            dNext = new State[layers];
            dPrevious = new State[layers];
            for (int l = 0; l < layers; l++) {
                dInput[l] = be.tensor(b, l == 0 ? e + h : h);
                dNext[l] = State.zeros(be, cfg.cell(), b, h);
                dPrevious[l] = State.zeros(be, cfg.cell(), b, h);
            }
            dEmbeddedBatchFirst = be.tensor(b, tt * e);
            dEmbedded = be.tensor(tt, b, e);
        }

        @Override
        public void close() {
            for (int t = 0; t < input.length; t++) {
                input[t].close();
                for (int l = 0; l < workspaces[t].length; l++) {
                    workspaces[t][l].close();
                    closeState(states[t][l]);
                }
                for (int l = 0; l < masks[t].length; l++) {
                    if (masks[t][l] != null) {
                        masks[t][l].close();
                        dropped[t][l].close();
                    }
                }
            }
            for (Tensor x : new Tensor[] {embeddedBatchFirst, embeddedStep, attendedBatchFirst, dAttendedBatchFirst,
                dAttendedStep, dFed, dQuery, dKeysStep, dDropped, dEmbeddedBatchFirst, dEmbedded}) {
                x.close();
            }
            for (int l = 0; l < dInput.length; l++) {
                dInput[l].close();
                closeState(dNext[l]);
                closeState(dPrevious[l]);
            }
        }
    }

    private static Shape timeMajor(String name, IndexTensor ids) {
        if (ids.shape().rank() != 2) {
            throw new IllegalArgumentException("seq2seq: " + name + " must be [T, B] ids, got " + ids.shape());
        }
        return ids.shape();
    }

    /**
     * Greedy translation of a batch of source sentences: the decoder starts from BOS and each
     * step feeds back its most likely word (the lowest id among equals), until every sentence
     * has produced EOS or {@code maxLength} words.
     *
     * @param source        source ids {@code [Ts, B]}
     * @param sourceLengths {@code [B]}, each 1..Ts
     * @return for each sentence its words' ids, EOS not included
     */
    public int[][] translate(IndexTensor source, int[] sourceLengths, int bos, int eos, int maxLength) {
        return translate(source, sourceLengths, bos, eos, maxLength, null);
    }

    /** Sees each decoder step of {@link #translate}: its number (from 0) and its logits {@code [B, V]}. */
    @FunctionalInterface
    public interface StepListener {
        void step(int t, float[] logits);
    }

    /**
     * {@link #translate(IndexTensor, int[], int, int, int)}, telling {@code listener} (when not
     * null) each step's logits, for every sentence, finished or not.
     */
    public int[][] translate(IndexTensor source, int[] sourceLengths, int bos, int eos, int maxLength,
                             StepListener listener) {
        int ts = timeMajor("source", source).dim(0);
        int b = source.shape().dim(1);
        int v = cfg.targetVocabulary();
        if (bos < 0 || bos >= v || eos < 0 || eos >= v) {
            throw new IllegalArgumentException("seq2seq: bos " + bos + " and eos " + eos + " must be ids in [0, " + v
                    + ")");
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("seq2seq: maxLength must be >= 1, got " + maxLength);
        }
        int[][] words = new int[b][Math.min(maxLength, 16)]; // grown as needed
        int[] count = new int[b];
        boolean[] done = new boolean[b];
        State[] held = new State[cfg.layers()];
        try (Tensor embedded = be.tensor(ts, b, cfg.embedding());
             Tensor step = be.tensor(1, b, cfg.embedding());
             Tensor stepLogits = be.tensor(b, v);
             IndexTensor previous = be.indices(1, b);
             Tensor sentenceKeys = attention == null ? null : be.tensor(b, ts, cfg.keySize());
             IndexTensor valid = attention == null ? null : be.indices(sourceLengths, b);
             Feed fed = feedFor(b)) {
            Tensor encoded = encode(source, sourceLengths, embedded, held);
            if (attention != null) {
                be.tensorOps().transpose01(encoded, sentenceKeys);
            }
            int[] next = new int[b];
            Arrays.fill(next, bos);
            int finished = 0;
            for (int t = 0; t < maxLength && finished < b; t++) {
                previous.copyFrom(next);
                targetEmbedding.forward(previous, step);
                decodeStep(step, held, sentenceKeys, valid, stepLogits, fed);
                float[] l = stepLogits.toArray(); // [B, V]
                if (listener != null) {
                    listener.step(t, l.clone());
                }
                for (int r = 0; r < b; r++) {
                    int best = 0;
                    for (int k = 1; k < v; k++) {
                        if (l[r * v + k] > l[r * v + best]) {
                            best = k;
                        }
                    }
                    next[r] = best;
                    if (!done[r]) {
                        if (best == eos) {
                            done[r] = true;
                            finished++;
                        } else {
                            if (count[r] == words[r].length) {
                                words[r] = Arrays.copyOf(words[r], 2 * count[r]);
                            }
                            words[r][count[r]++] = best;
                        }
                    }
                }
            }
        } finally {
            for (State s : held) {
                if (s != null) {
                    closeState(s);
                }
            }
        }
        int[][] out = new int[b][];
        for (int r = 0; r < b; r++) {
            out[r] = Arrays.copyOf(words[r], count[r]);
        }
        return out;
    }

    /**
     * One decoder step of inference: {@code step [1, R, E]} (the previous words' embeddings) from
     * the states {@code held} (replaced by the new ones), attending over {@code keys [R, S, K]}
     * with {@code valid [R]} lengths when there is attention, into {@code logits [R, V]}. With
     * input feeding ({@code fed} not null) the decoder reads {@code [emb; fed.attended]} and
     * {@code fed.attended} becomes this step's {@code h~}.
     */
    private void decodeStep(Tensor step, State[] held, Tensor keys, IndexTensor valid, Tensor logits, Feed fed) {
        int rows = step.shape().dim(1);
        Tensor input = step;
        if (fed != null) { // [emb; h~ of the previous step]
            Tensor joined = fed.input().reshape(rows, cfg.decoderInputSize());
            be.tensorOps().copyIntoColumns(step.reshape(rows, cfg.embedding()), joined, 0);
            be.tensorOps().copyIntoColumns(fed.attended(), joined, cfg.embedding());
            input = fed.input();
        }
        Tensor y = decoder.forward(input, null, held, false); // [1, R, H]
        State[] fin = decoder.finalStates();
        for (int l = 0; l < held.length; l++) {
            fin[l].copyTo(held[l]);
        }
        if (attention != null) {
            y = attention.forward(keys, valid, y.reshape(rows, 1, cfg.hidden())); // [1, R, H] is [R, 1, H]
            if (fed != null) {
                be.tensorOps().copy(y.reshape(rows, cfg.hidden()), fed.attended());
            }
        }
        head.forward(y.reshape(rows, cfg.hidden()), logits);
    }

    /**
     * Input feeding's state between inference steps: {@code attended [R, H]}, the last step's
     * {@code h~} (zero before the first), and {@code input [1, R, E + H]}, the step's input.
     */
    private record Feed(Tensor attended, Tensor input) implements AutoCloseable {
        @Override
        public void close() {
            attended.close();
            input.close();
        }
    }

    private Feed feedFor(int rows) {
        return cfg.inputFeeding() ? new Feed(be.tensor(rows, cfg.hidden()), be.tensor(1, rows, cfg.decoderInputSize()))
                : null;
    }

    /**
     * Beam search ({@link BeamSearch}) of a batch of source sentences, all {@code sentences × beam}
     * rows decoded at once on the engine: the encoder runs once per sentence, its states and outputs
     * are copied to the sentence's K rows, and each step reorders the rows' states by the beams'
     * parents with a row gather ({@link dev.recur.api.TensorOps#embeddingForward}); only the
     * logits {@code [rows, V]} are read back. With {@code beam = 1} the words are those of
     * {@link #translate} exactly.
     *
     * @param source        source ids {@code [Ts, B]}
     * @param sourceLengths {@code [B]}, each 1..Ts
     * @param maxLength     the most words a translation may have
     * @param alpha         GNMT's length penalty exponent ({@link BeamSearch#lengthPenalty}), {@code >= 0}
     * @return each sentence's best hypothesis; its attention weights ({@code [tokens][Ts]}, zero
     *         past the sentence's length) with attention, else null
     */
    public BeamSearch.Hypothesis[] beamSearch(IndexTensor source, int[] sourceLengths, int bos, int eos,
                                              int maxLength, int beam, double alpha) {
        int ts = timeMajor("source", source).dim(0);
        int b = source.shape().dim(1);
        int v = cfg.targetVocabulary();
        if (beam < 1) {
            throw new IllegalArgumentException("seq2seq: beam must be >= 1, got " + beam);
        }
        int rows = b * beam;
        int h = cfg.hidden();
        int k = cfg.keySize();
        State[] held = new State[cfg.layers()];
        State[] rowStates = new State[cfg.layers()];
        int[] sentenceOf = new int[rows];
        int[] rowLengths = new int[rows];
        for (int r = 0; r < rows; r++) {
            sentenceOf[r] = r / beam;
            rowLengths[r] = sourceLengths[r / beam];
        }
        try (Tensor embedded = be.tensor(ts, b, cfg.embedding());
             Tensor step = be.tensor(1, rows, cfg.embedding());
             Tensor stepLogits = be.tensor(rows, v);
             Tensor gathered = be.tensor(rows, h);
             IndexTensor previous = be.indices(1, rows);
             IndexTensor parentIds = be.indices(rows);
             IndexTensor expand = be.indices(sentenceOf, rows);
             Tensor sentenceKeys = attention == null ? null : be.tensor(b, ts * k);
             Tensor rowKeys = attention == null ? null : be.tensor(rows, ts * k);
             IndexTensor valid = attention == null ? null : be.indices(rowLengths, rows);
             Feed fed = feedFor(rows)) {
            Tensor encoded = encode(source, sourceLengths, embedded, held);
            for (int l = 0; l < held.length; l++) {
                rowStates[l] = State.zeros(be, cfg.cell(), rows, h);
                be.tensorOps().embeddingForward(held[l].h(), expand, rowStates[l].h()); // [B, H] -> [R, H]
                if (held[l].c() != null) {
                    be.tensorOps().embeddingForward(held[l].c(), expand, rowStates[l].c());
                }
            }
            Tensor keysOfRows = null;
            if (attention != null) {
                be.tensorOps().transpose01(encoded, sentenceKeys.reshape(b, ts, k));
                be.tensorOps().embeddingForward(sentenceKeys, expand, rowKeys);
                keysOfRows = rowKeys.reshape(rows, ts, k);
            }
            Tensor keysView = keysOfRows;
            BeamSearch.Decoder decoderSteps = new BeamSearch.Decoder() {
                @Override
                public float[] step(int[] parents, int[] tokens) {
                    parentIds.copyFrom(parents);
                    for (State s : rowStates) {
                        reorder(s.h(), parentIds, gathered);
                        if (s.c() != null) {
                            reorder(s.c(), parentIds, gathered);
                        }
                    }
                    if (fed != null) {
                        reorder(fed.attended(), parentIds, gathered); // h~ follows its beam like the states
                    }
                    previous.copyFrom(tokens);
                    targetEmbedding.forward(previous, step);
                    decodeStep(step, rowStates, keysView, valid, stepLogits, fed);
                    return stepLogits.toArray();
                }

                @Override
                public float[] attention() {
                    return attention == null ? null : attention.weights();
                }
            };
            return BeamSearch.search(decoderSteps, b, beam, v, bos, eos, maxLength, alpha, ts);
        } finally {
            for (State s : held) {
                if (s != null) {
                    closeState(s);
                }
            }
            for (State s : rowStates) {
                if (s != null) {
                    closeState(s);
                }
            }
        }
    }

    /** {@code x[r] = x[parents[r]]} for the rows of {@code x [R, H]}, through {@code scratch [R, H]}. */
    private void reorder(Tensor x, IndexTensor parents, Tensor scratch) {
        be.tensorOps().embeddingForward(x, parents, scratch);
        be.tensorOps().copy(scratch, x);
    }

    /**
     * The decoder's initial states for a batch of source sentences, as {@link #translate} starts
     * from them: {@code [0]} the hidden states {@code [layers, B, H]}, {@code [1]} the cell states
     * likewise for the LSTM cells, else null.
     *
     * @param source        source ids {@code [Ts, B]}
     * @param sourceLengths {@code [B]}, each 1..Ts
     */
    public float[][] decoderStart(IndexTensor source, int[] sourceLengths) {
        int ts = timeMajor("source", source).dim(0);
        int b = source.shape().dim(1);
        int n = b * cfg.hidden();
        State[] held = new State[cfg.layers()];
        float[] h = new float[cfg.layers() * n];
        float[] c = cfg.cell().hasCellState() ? new float[cfg.layers() * n] : null;
        try (Tensor embedded = be.tensor(ts, b, cfg.embedding())) {
            encode(source, sourceLengths, embedded, held);
            for (int l = 0; l < held.length; l++) {
                System.arraycopy(held[l].h().toArray(), 0, h, l * n, n);
                if (c != null) {
                    System.arraycopy(held[l].c().toArray(), 0, c, l * n, n);
                }
            }
        } finally {
            for (State s : held) {
                if (s != null) {
                    closeState(s);
                }
            }
        }
        return new float[][] {h, c};
    }

    /**
     * Runs the encoder (inference) on {@code source}, leaves the decoder's initial states in
     * {@code held} and returns the encoder's outputs {@code [Ts, B, K]} (owned by the encoder).
     */
    private Tensor encode(IndexTensor source, int[] sourceLengths, Tensor embedded, State[] held) {
        sourceEmbedding.forward(source, embedded);
        Tensor out = encoder.forward(embedded, sourceLengths, null, false);
        startStates(encoder.finalStates(), held);
        return out;
    }

    /**
     * The decoder's initial states from the encoder's final ones ({@code layers*D} of them): a
     * copy, or with two directions their sum; {@code to}'s states are made on first use.
     */
    private void startStates(State[] encoderFinal, State[] to) {
        int dirs = encoderFinal.length / to.length;
        for (int l = 0; l < to.length; l++) {
            State f = encoderFinal[l * dirs];
            if (to[l] == null) {
                to[l] = State.zeros(be, cfg.cell(), f.h().shape().dim(0), cfg.hidden());
            }
            f.copyTo(to[l]);
            if (dirs == 2) {
                State r = encoderFinal[l * 2 + 1];
                be.tensorOps().axpy(1f, r.h(), to[l].h());
                if (r.c() != null) {
                    be.tensorOps().axpy(1f, r.c(), to[l].c());
                }
            }
        }
    }

    private void ensureBuffers(int ts, int tt, int b) {
        if (ts == sourceSteps && tt == targetSteps && b == batch) {
            return;
        }
        closeBuffers();
        int v = cfg.targetVocabulary();
        sourceEmbedded = be.tensor(ts, b, cfg.embedding());
        targetEmbedded = be.tensor(tt, b, cfg.embedding());
        logits = be.tensor(tt * b, v);
        dLogits = be.tensor(tt * b, v);
        dOutput = be.tensor(tt * b, cfg.hidden());
        loss = be.tensor(1);
        norm = be.tensor(1);
        start = new State[cfg.layers()];
        dStart = new State[cfg.layers()];
        int dirs = cfg.bidirectionalEncoder() ? 2 : 1;
        dEncoderFinal = new State[cfg.layers() * dirs];
        for (int i = 0; i < dStart.length; i++) {
            start[i] = State.zeros(be, cfg.cell(), b, cfg.hidden());
            dStart[i] = State.zeros(be, cfg.cell(), b, cfg.hidden());
            for (int d = 0; d < dirs; d++) {
                dEncoderFinal[i * dirs + d] = dStart[i]; // the sum's gradient reaches both directions
            }
        }
        if (attention != null) {
            int h = cfg.hidden();
            int k = cfg.keySize();
            keys = be.tensor(b, ts, k);
            queries = be.tensor(b, tt, h);
            attended = be.tensor(tt, b, h);
            dAttended = be.tensor(b, tt, h);
            dQueries = be.tensor(b, tt, h);
            dKeys = be.tensor(b, ts, k);
            dDecoded = be.tensor(tt, b, h);
            dEncoded = be.tensor(ts, b, k);
            validSource = be.indices(b);
        }
        if (cfg.inputFeeding()) {
            feed = new FeedBuffers(ts, tt, b);
        }
        sourceSteps = ts;
        targetSteps = tt;
        batch = b;
    }

    private void closeBuffers() {
        if (loss == null) {
            return;
        }
        for (Tensor t : new Tensor[] {sourceEmbedded, targetEmbedded, logits, dLogits, dOutput, loss, norm, keys,
            queries, attended, dAttended, dQueries, dKeys, dDecoded, dEncoded}) {
            if (t != null) {
                t.close();
            }
        }
        if (validSource != null) {
            validSource.close();
            validSource = null;
        }
        if (feed != null) {
            feed.close();
            feed = null;
        }
        for (State s : dStart) {
            closeState(s);
        }
        for (State s : start) {
            closeState(s);
        }
        loss = null;
        sourceSteps = -1;
        targetSteps = -1;
        batch = -1;
    }

    private static void closeState(State s) {
        s.h().close();
        if (s.c() != null) {
            s.c().close();
        }
    }

    @Override
    public String kind() {
        return ModelKinds.SEQ2SEQ;
    }

    @Override
    public String configJson() {
        return cfg.toJson();
    }

    @Override
    protected Map<String, RecurrentStack> stacks() {
        Map<String, RecurrentStack> m = new java.util.LinkedHashMap<>();
        m.put(ENCODER_DROPOUT_COUNTER, encoder);
        m.put(DECODER_DROPOUT_COUNTER, decoder);
        return m;
    }

    /**
     * The model saved in {@code c} (by {@link #save} or a training checkpoint), on {@code backend}.
     *
     * @throws CheckpointException when {@code c} holds another kind of model, or a configuration or
     *                             weights that do not fit
     */
    public static Seq2SeqModel load(Backend backend, Checkpoint c) throws CheckpointException {
        return Model.load(c, Seq2SeqConfig::fromJson, Seq2SeqConfig::parameterCount,
                cfg -> new Seq2SeqModel(backend, cfg, c.seed()), ModelKinds.SEQ2SEQ);
    }

    @Override
    public void close() {
        closeBuffers();
        encoder.close();
        decoder.close();
        Parameter.closeAll(sourceEmbedding.parameters());
        Parameter.closeAll(targetEmbedding.parameters());
        Parameter.closeAll(head.parameters());
        if (attention != null) {
            attention.close();
        }
    }
}
