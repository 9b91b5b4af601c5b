package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.LayerNormParams;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A stack of recurrent layers, one or two directions each, with dropout between layers: the
 * model layer's {@code nn.LSTM} / {@code nn.GRU} / {@code nn.RNN}. It calls the backend's
 * whole-sequence ops, one per layer (both directions in one call when bidirectional), and
 * owns every buffer it needs, made once for a (T, B) and reused while the shape stays.
 *
 * <p>Order of calls: {@link #forward}, then (when training) {@link #backward}; a forward with
 * {@code training = false} (evaluation, generation, prediction) uses the backend's inference
 * ops and cannot be followed by a backward. Parameter
 * gradients accumulate until {@link #zeroGrad()}. States are indexed as PyTorch's {@code h_n}:
 * {@code layer * directions + direction}.
 *
 * <p>Cell options ({@link RecurrentConfig#cellOptions()}): every layer's workspace is made with
 * them, so the backend runs layer normalisation, recurrent dropout, zoneout and the projection
 * inside its layer ops. Their parameters take PyTorch's names where PyTorch has them
 * ({@code weight_hr_l{k}} {@code [P, H]}, uniform in ±1/sqrt(H) as PyTorch initialises it; with a
 * projection {@code weight_hh_l{k}} is {@code [G*H, P]}) and {@code ln_ih_weight_l{k}},
 * {@code ln_ih_bias_l{k}}, {@code ln_hh_weight_l{k}}, {@code ln_hh_bias_l{k}},
 * {@code ln_c_weight_l{k}}, {@code ln_c_bias_l{k}} for layer normalisation (gains 1, biases 0),
 * each with {@code _reverse} for the backward direction. The random numbers of recurrent dropout
 * and zoneout come from the stack's own seed and a counter ({@link #cellDrawCounter()}) that each
 * training forward advances by {@link CellOptions#draws} per layer and direction, so a run that
 * restores the counter draws the same masks. States are {@code h [B, S]} and {@code c [B, H]}
 * ({@link RecurrentConfig#stateWidth()}); outputs {@code [T, B, D*R]}.
 *
 * <p>Step masks ({@link StepControl}, Keras semantics): {@link #forward(Tensor, int[], byte[],
 * State[], boolean)} takes one mask for every layer, {@code [T*B]} (index {@code t*B + b}), or
 * {@code [B*T]} (index {@code b*T + t}) when batch-first, transposed once at the edge as x is.
 */
public final class RecurrentStack implements Module {

    private final Backend be;
    private final RecurrentConfig cfg;
    private final LayerParams[][] params; // [layer][direction]
    private final LayerParams[][] grads;
    private final List<Parameter> parameters = new ArrayList<>();
    private long dropoutSeed;
    private long dropoutCounter;
    private final long cellSeed;     // the seed of the cells' recurrent dropout and zoneout
    private long cellCounter;        // where the cells' draws stand

    // Buffers for the current (T, B); remade when the shape changes.
    private int steps = -1;
    private int batch = -1;
    private Workspace[] ws;     // [layer]
    private Tensor[] out;       // [layer] [T, B, D*H]
    private Tensor[] masks;     // [layer] [T, B, D*H], dropout masks (layers but the last)
    private Tensor[] dropped;   // [layer] out ⊙ mask, the next layer's input
    private Tensor[] dOut;      // [layer] gradient with respect to out[layer]
    private Tensor[] dIn;       // [layer] gradient with respect to the layer's input [T, B, I_l]
    private State[] fin;        // [layer*D + d]
    private Tensor xTimeMajor;  // batch-first input, transposed
    private Tensor yBatchFirst; // output, transposed back
    private Tensor dyTimeMajor;
    private Tensor dxBatchFirst;
    // The last forward, for the backward.
    private Tensor lastInput;
    private int[] lastLengths;
    private StepControl[] lastControls; // [layer], what each layer's forward took, for its backward
    private boolean lastTraining;
    private boolean lastDropout;   // the last forward applied dropout between layers
    private boolean trainingMode = true;

    public RecurrentStack(Backend backend, String prefix, RecurrentConfig config, SplittableRandom random) {
        this.be = backend;
        this.cfg = config;
        int layers = config.numLayers();
        int dirs = config.directions();
        int hs = config.hiddenSize();
        CellOptions options = config.cellOptions();
        int r = config.recurrentWidth();
        float bound = (float) (1 / Math.sqrt(hs));
        Cell cell = config.cell();
        int gh = cell.gates() * hs;
        params = new LayerParams[layers][dirs];
        grads = new LayerParams[layers][dirs];
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? config.inputSize() : config.outputSize();
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                // Drawn in the order of a plain stack first, so that a plain model's weights do not change.
                Tensor wIh = Init.uniform(be, random, bound, gh, in);      // [G*H, I_l]
                Tensor wHh = Init.uniform(be, random, bound, gh, r);       // [G*H, R]
                Tensor bIh = Init.uniform(be, random, bound, gh);          // [G*H]
                Tensor bHh = Init.uniform(be, random, bound, gh);          // [G*H]
                Tensor peep = cell.peepholes() > 0 ? Init.uniform(be, random, bound, cell.peepholes() * hs) : null;
                Tensor wHr = options.projectionSize() > 0
                        ? Init.uniform(be, random, bound, options.projectionSize(), hs) : null; // [P, H]
                LayerNormParams ln = options.layerNorm() ? LayerNormParams.initial(be, cell, hs, false) : null;
                LayerParams p = new LayerParams(wIh, wHh, bIh, bHh, peep, wHr, ln);
                LayerParams g = LayerParams.zeros(be, cell, options, in, hs);
                params[l][d] = p;
                grads[l][d] = g;
                parameters.add(new Parameter(prefix + "weight_ih" + sfx, p.weightIh(), g.weightIh()));
                parameters.add(new Parameter(prefix + "weight_hh" + sfx, p.weightHh(), g.weightHh()));
                parameters.add(new Parameter(prefix + "bias_ih" + sfx, p.biasIh(), g.biasIh()));
                parameters.add(new Parameter(prefix + "bias_hh" + sfx, p.biasHh(), g.biasHh()));
                if (p.peephole() != null) {
                    parameters.add(new Parameter(prefix + "weight_peephole" + sfx, p.peephole(), g.peephole()));
                }
                if (p.weightHr() != null) {
                    parameters.add(new Parameter(prefix + "weight_hr" + sfx, p.weightHr(), g.weightHr()));
                }
                if (ln != null) {
                    LayerNormParams gl = g.layerNorm();
                    parameters.add(new Parameter(prefix + "ln_ih_weight" + sfx, ln.gainIh(), gl.gainIh()));
                    parameters.add(new Parameter(prefix + "ln_ih_bias" + sfx, ln.biasIh(), gl.biasIh()));
                    parameters.add(new Parameter(prefix + "ln_hh_weight" + sfx, ln.gainHh(), gl.gainHh()));
                    parameters.add(new Parameter(prefix + "ln_hh_bias" + sfx, ln.biasHh(), gl.biasHh()));
                    if (ln.gainC() != null) {
                        parameters.add(new Parameter(prefix + "ln_c_weight" + sfx, ln.gainC(), gl.gainC()));
                        parameters.add(new Parameter(prefix + "ln_c_bias" + sfx, ln.biasC(), gl.biasC()));
                    }
                }
            }
        }
        dropoutSeed = random.nextLong();
        // Derived from the dropout seed rather than drawn from random, which would move every
        // weight drawn after the stack (a plain model's head) away from what it was.
        cellSeed = new SplittableRandom(dropoutSeed ^ 0x9E3779B97F4A7C15L).nextLong();
    }

    public RecurrentConfig config() {
        return cfg;
    }

    /** In PyTorch's order: per layer, weight_ih, weight_hh, bias_ih, bias_hh, then the reverse direction. */
    public List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    public void zeroGrad() {
        for (Parameter p : parameters) {
            p.zeroGrad();
        }
    }

    /** Where the dropout stream stands, for checkpoints (a resumed run draws the same masks). */
    public long dropoutCounter() {
        return dropoutCounter;
    }

    public void dropoutCounter(long counter) {
        if (counter < 0) {
            throw new IllegalArgumentException("dropout counter must be >= 0, got " + counter);
        }
        this.dropoutCounter = counter;
    }

    /**
     * Where the stream of the cells' random numbers (recurrent dropout, zoneout) stands, for
     * checkpoints; it moves only when the options draw ({@link CellOptions#draws()}).
     */
    public long cellDrawCounter() {
        return cellCounter;
    }

    public void cellDrawCounter(long counter) {
        if (counter < 0) {
            throw new IllegalArgumentException("cell draw counter must be >= 0, got " + counter);
        }
        this.cellCounter = counter;
    }

    /** The seed of the cells' random numbers (for tests that call the backend directly). */
    public long cellDrawSeed() {
        return cellSeed;
    }

    /**
     * Runs the stack.
     *
     * @param x        {@code [T, B, I]}, or {@code [B, T, I]} when batch-first
     * @param lengths  per-sequence lengths {@code [B]} or null
     * @param init     initial states, {@code layers*directions} of them (entries may be null), or null for zeros
     * @param training applies dropout between layers (in training mode) and keeps what the
     *                 backward needs; false runs the backend's inference ops
     *                 ({@link Backend#layerInference}), which save nothing, so no
     *                 {@link #backward} may follow (it is refused)
     * @return the last layer's output {@code [T, B, D*R]} (or batch-first), owned by the stack
     */
    public Tensor forward(Tensor x, int[] lengths, State[] init, boolean training) {
        return forward(x, lengths, null, init, training);
    }

    /**
     * {@link #forward(Tensor, int[], State[], boolean)} with a step mask with holes (Keras's
     * {@code mask}, see {@link StepControl}), given to every layer: a skipped step leaves the
     * state as it was and repeats the previous output.
     *
     * @param mask {@code [T*B]} of 0 and 1, index {@code t*B + b}; when batch-first {@code [B*T]},
     *             index {@code b*T + t}; null for no holes
     */
    public Tensor forward(Tensor x, int[] lengths, byte[] mask, State[] init, boolean training) {
        int layers = cfg.numLayers();
        int dirs = cfg.directions();
        if (x.shape().rank() != 3) {
            throw new IllegalArgumentException("recurrent stack: input must be " + (cfg.batchFirst() ? "[B, T, I]"
                    : "[T, B, I]") + ", got " + x.shape());
        }
        int t = cfg.batchFirst() ? x.shape().dim(1) : x.shape().dim(0);
        int b = cfg.batchFirst() ? x.shape().dim(0) : x.shape().dim(1);
        if (init != null && init.length != layers * dirs) {
            throw new IllegalArgumentException("recurrent stack: init has " + init.length
                    + " states, expected layers*directions = " + layers * dirs);
        }
        byte[] stepMask = timeMajorMask(mask, t, b);
        ensureBuffers(t, b);
        Tensor input = x;
        if (cfg.batchFirst()) {
            be.tensorOps().transpose01(x, xTimeMajor);
            input = xTimeMajor;
        }
        Cell cell = cfg.cell();
        boolean dropout = training && trainingMode && cfg.dropout() > 0f;
        CellOptions options = cfg.cellOptions();
        StepControl[] controls = new StepControl[layers];
        for (int l = 0; l < layers; l++) {
            StepControl control = stepMask == null && !options.draws() ? StepControl.NONE
                    : new StepControl(stepMask, cellSeed, cellCounter);
            controls[l] = control;
            if (training && options.draws()) {
                cellCounter += dirs * options.draws(cell, t, b, cfg.hiddenSize());
            }
            // A forward that no backward follows runs the backend's inference ops: same outputs,
            // nothing saved (the workspace is scratch then).
            if (dirs == 2) {
                PerDirection<State> in = new PerDirection<>(state(init, l, 0), state(init, l, 1));
                PerDirection<LayerParams> p = new PerDirection<>(params[l][0], params[l][1]);
                PerDirection<State> fn = new PerDirection<>(fin[l * 2], fin[l * 2 + 1]);
                if (training) {
                    be.bidirectionalForward(cell, input, lengths, control, in, p, out[l], fn, ws[l]);
                } else {
                    be.bidirectionalInference(cell, input, lengths, control, in, p, out[l], fn, ws[l]);
                }
            } else if (training) {
                be.layerForward(cell, Direction.FORWARD, input, lengths, control, state(init, l, 0), params[l][0],
                        out[l], fin[l], ws[l]);
            } else {
                be.layerInference(cell, Direction.FORWARD, input, lengths, control, state(init, l, 0), params[l][0],
                        out[l], fin[l], ws[l]);
            }
            input = out[l];
            if (l < layers - 1 && dropout) {
                be.tensorOps().dropout(out[l], dropped[l], masks[l], cfg.dropout(), dropoutSeed, dropoutCounter);
                dropoutCounter += out[l].shape().size();
                input = dropped[l];
            }
        }
        lastInput = x;
        lastLengths = lengths == null ? null : lengths.clone();
        lastControls = controls;
        lastTraining = training;
        lastDropout = dropout;
        if (cfg.batchFirst()) {
            be.tensorOps().transpose01(out[layers - 1], yBatchFirst);
            return yBatchFirst;
        }
        return out[layers - 1];
    }

    /** The final states of the last forward, {@code layers*directions} of them, owned by the stack. */
    public State[] finalStates() {
        return fin.clone();
    }

    /**
     * Back-propagates through the last {@link #forward} (which must have been a training one).
     *
     * @param dOutput gradient with respect to the output (same shape as it); null means zero
     * @param dFinal  gradients with respect to the final states (entries may be null), or null
     * @return the gradient with respect to the input, owned by the stack
     */
    public Tensor backward(Tensor dOutput, State[] dFinal) {
        return backward(dOutput, dFinal, null);
    }

    /**
     * {@link #backward(Tensor, State[])} that also gives the gradients with respect to the
     * initial states, as {@code h0.grad} and {@code c0.grad} in PyTorch: what an encoder needs
     * back from a decoder that started from its final states.
     *
     * @param dInit receives (overwrites) the gradient with respect to each initial state,
     *              {@code layers*directions} of them indexed as {@code h_n} (entries, or a null
     *              {@code c}, may be null when not wanted), {@code h [B, S]}, {@code c [B, H]}; or null
     */
    public Tensor backward(Tensor dOutput, State[] dFinal, State[] dInit) {
        if (lastInput == null || !lastTraining) {
            throw new IllegalStateException("recurrent stack: backward needs a training forward first");
        }
        int layers = cfg.numLayers();
        int dirs = cfg.directions();
        if (dFinal != null && dFinal.length != layers * dirs) {
            throw new IllegalArgumentException("recurrent stack: dFinal has " + dFinal.length
                    + " states, expected layers*directions = " + layers * dirs);
        }
        if (dInit != null && dInit.length != layers * dirs) {
            throw new IllegalArgumentException("recurrent stack: dInit has " + dInit.length
                    + " states, expected layers*directions = " + layers * dirs);
        }
        Cell cell = cfg.cell();
        Tensor dy = dOutput;
        if (cfg.batchFirst() && dOutput != null) {
            be.tensorOps().transpose01(dOutput, dyTimeMajor);
            dy = dyTimeMajor;
        }
        for (int l = layers - 1; l >= 0; l--) {
            Tensor input = l == 0 ? (cfg.batchFirst() ? xTimeMajor : lastInput)
                    : (lastDropout ? dropped[l - 1] : out[l - 1]);
            if (dirs == 2) {
                be.bidirectionalBackward(cell, input, lastLengths, lastControls[l],
                        new PerDirection<>(params[l][0], params[l][1]),
                        ws[l], dy, new PerDirection<>(state(dFinal, l, 0), state(dFinal, l, 1)), dIn[l],
                        dInit == null ? null : new PerDirection<>(state(dInit, l, 0), state(dInit, l, 1)),
                        new PerDirection<>(grads[l][0], grads[l][1]));
            } else {
                be.layerBackward(cell, Direction.FORWARD, input, lastLengths, lastControls[l], params[l][0], ws[l], dy,
                        state(dFinal, l, 0), dIn[l], state(dInit, l, 0), grads[l][0]);
            }
            if (l > 0) {
                if (lastDropout) {
                    be.tensorOps().multiply(dIn[l], masks[l - 1], dOut[l - 1]);
                    dy = dOut[l - 1];
                } else {
                    dy = dIn[l];
                }
            }
        }
        if (cfg.batchFirst()) {
            be.tensorOps().transpose01(dIn[0], dxBatchFirst);
            return dxBatchFirst;
        }
        return dIn[0];
    }

    /** The mask in time-major order {@code [T*B]} (a copy), or null; checks its length. */
    private byte[] timeMajorMask(byte[] mask, int t, int b) {
        if (mask == null) {
            return null;
        }
        if (mask.length != t * b) {
            throw new IllegalArgumentException("recurrent stack: mask has " + mask.length + " entries, expected "
                    + (cfg.batchFirst() ? "B*T = " + b + "*" + t : "T*B = " + t + "*" + b) + " = " + t * b);
        }
        if (!cfg.batchFirst()) {
            return mask.clone();
        }
        byte[] out = new byte[t * b];
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                out[s * b + i] = mask[i * t + s];
            }
        }
        return out;
    }

    private State state(State[] states, int layer, int dir) {
        return states == null ? null : states[layer * cfg.directions() + dir];
    }

    private void ensureBuffers(int t, int b) {
        if (t == steps && b == batch) {
            return;
        }
        closeBuffers();
        int layers = cfg.numLayers();
        int dirs = cfg.directions();
        int hs = cfg.hiddenSize();
        int width = cfg.outputSize();
        ws = new Workspace[layers];
        out = new Tensor[layers];
        masks = new Tensor[layers];
        dropped = new Tensor[layers];
        dOut = new Tensor[layers];
        dIn = new Tensor[layers];
        fin = new State[layers * dirs];
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? cfg.inputSize() : width;
            ws[l] = be.workspace(cfg.cell(), cfg.cellOptions(), t, b, in, hs, dirs == 2);
            out[l] = be.tensor(t, b, width);
            dIn[l] = be.tensor(t, b, in);
            if (l < layers - 1) {
                dOut[l] = be.tensor(t, b, width);
                if (cfg.dropout() > 0f) {
                    masks[l] = be.tensor(t, b, width);
                    dropped[l] = be.tensor(t, b, width);
                }
            }
            for (int d = 0; d < dirs; d++) {
                fin[l * dirs + d] = zeroState(b);
            }
        }
        if (cfg.batchFirst()) {
            xTimeMajor = be.tensor(t, b, cfg.inputSize());
            yBatchFirst = be.tensor(b, t, width);
            dyTimeMajor = be.tensor(t, b, width);
            dxBatchFirst = be.tensor(b, t, cfg.inputSize());
        }
        steps = t;
        batch = b;
    }

    /** A zero state of this stack's widths: {@code h [B, S]}, and {@code c [B, H]} for cells with one. */
    public State zeroState(int batchSize) {
        return new State(be.tensor(batchSize, cfg.stateWidth()),
                cfg.cell().hasCellState() ? be.tensor(batchSize, cfg.hiddenSize()) : null);
    }

    private void closeBuffers() {
        if (ws == null) {
            return;
        }
        for (int l = 0; l < ws.length; l++) {
            ws[l].close();
            closeAll(out[l], masks[l], dropped[l], dOut[l], dIn[l]);
        }
        for (State s : fin) {
            closeAll(s.h(), s.c());
        }
        closeAll(xTimeMajor, yBatchFirst, dyTimeMajor, dxBatchFirst);
        ws = null;
        steps = -1;
        batch = -1;
    }

    private static void closeAll(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null) {
                t.close();
            }
        }
    }

    @Override
    public boolean training() {
        return trainingMode;
    }

    /**
     * Training mode applies dropout between layers in a {@code forward(..., true)}; eval mode never
     * does. The cells' recurrent dropout and zoneout are part of the training forward the backend
     * runs ({@link Backend#layerForward} draws them in either mode, and the counter moves); a
     * forward with {@code training = false} uses their inference form (no dropout, zoneout's
     * expectation) in either mode.
     */
    @Override
    public void train(boolean on) {
        trainingMode = on;
    }

    @Override
    public void close() {
        closeBuffers();
        Parameter.closeAll(parameters);
    }
}
