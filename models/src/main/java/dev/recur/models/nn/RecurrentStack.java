package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
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
 */
public final class RecurrentStack implements Module {

    private final Backend be;
    private final RecurrentConfig cfg;
    private final LayerParams[][] params; // [layer][direction]
    private final LayerParams[][] grads;
    private final List<Parameter> parameters = new ArrayList<>();
    private long dropoutSeed;
    private long dropoutCounter;

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
    private boolean lastTraining;
    private boolean lastDropout;   // the last forward applied dropout between layers
    private boolean trainingMode = true;

    public RecurrentStack(Backend backend, String prefix, RecurrentConfig config, SplittableRandom random) {
        this.be = backend;
        this.cfg = config;
        int layers = config.numLayers();
        int dirs = config.directions();
        int hs = config.hiddenSize();
        float bound = (float) (1 / Math.sqrt(hs));
        Cell cell = config.cell();
        int gh = cell.gates() * hs;
        params = new LayerParams[layers][dirs];
        grads = new LayerParams[layers][dirs];
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? config.inputSize() : config.outputSize();
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                LayerParams p = new LayerParams(Init.uniform(be, random, bound, gh, in),
                        Init.uniform(be, random, bound, gh, hs), Init.uniform(be, random, bound, gh),
                        Init.uniform(be, random, bound, gh),
                        cell.peepholes() > 0 ? Init.uniform(be, random, bound, cell.peepholes() * hs) : null);
                LayerParams g = LayerParams.zeros(be, cell, in, hs);
                params[l][d] = p;
                grads[l][d] = g;
                parameters.add(new Parameter(prefix + "weight_ih" + sfx, p.weightIh(), g.weightIh()));
                parameters.add(new Parameter(prefix + "weight_hh" + sfx, p.weightHh(), g.weightHh()));
                parameters.add(new Parameter(prefix + "bias_ih" + sfx, p.biasIh(), g.biasIh()));
                parameters.add(new Parameter(prefix + "bias_hh" + sfx, p.biasHh(), g.biasHh()));
                if (p.peephole() != null) {
                    parameters.add(new Parameter(prefix + "weight_peephole" + sfx, p.peephole(), g.peephole()));
                }
            }
        }
        dropoutSeed = random.nextLong();
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
     * Runs the stack.
     *
     * @param x        {@code [T, B, I]}, or {@code [B, T, I]} when batch-first
     * @param lengths  per-sequence lengths {@code [B]} or null
     * @param init     initial states, {@code layers*directions} of them (entries may be null), or null for zeros
     * @param training applies dropout between layers (in training mode) and keeps what the
     *                 backward needs; false runs the backend's inference ops
     *                 ({@link Backend#layerInference}), which save nothing, so no
     *                 {@link #backward} may follow (it is refused)
     * @return the last layer's output {@code [T, B, D*H]} (or batch-first), owned by the stack
     */
    public Tensor forward(Tensor x, int[] lengths, State[] init, boolean training) {
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
        ensureBuffers(t, b);
        Tensor input = x;
        if (cfg.batchFirst()) {
            be.tensorOps().transpose01(x, xTimeMajor);
            input = xTimeMajor;
        }
        Cell cell = cfg.cell();
        boolean dropout = training && trainingMode && cfg.dropout() > 0f;
        for (int l = 0; l < layers; l++) {
            // A forward that no backward follows runs the backend's inference ops: same outputs,
            // nothing saved (the workspace is scratch then).
            if (dirs == 2) {
                PerDirection<State> in = new PerDirection<>(state(init, l, 0), state(init, l, 1));
                PerDirection<LayerParams> p = new PerDirection<>(params[l][0], params[l][1]);
                PerDirection<State> fn = new PerDirection<>(fin[l * 2], fin[l * 2 + 1]);
                if (training) {
                    be.bidirectionalForward(cell, input, lengths, in, p, out[l], fn, ws[l]);
                } else {
                    be.bidirectionalInference(cell, input, lengths, in, p, out[l], fn, ws[l]);
                }
            } else if (training) {
                be.layerForward(cell, Direction.FORWARD, input, lengths, state(init, l, 0), params[l][0], out[l],
                        fin[l], ws[l]);
            } else {
                be.layerInference(cell, Direction.FORWARD, input, lengths, state(init, l, 0), params[l][0], out[l],
                        fin[l], ws[l]);
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
     *              {@code c}, may be null when not wanted), each {@code [B, H]}; or null
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
                be.bidirectionalBackward(cell, input, lastLengths, new PerDirection<>(params[l][0], params[l][1]),
                        ws[l], dy, new PerDirection<>(state(dFinal, l, 0), state(dFinal, l, 1)), dIn[l],
                        dInit == null ? null : new PerDirection<>(state(dInit, l, 0), state(dInit, l, 1)),
                        new PerDirection<>(grads[l][0], grads[l][1]));
            } else {
                be.layerBackward(cell, Direction.FORWARD, input, lastLengths, params[l][0], ws[l], dy,
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
            ws[l] = be.workspace(cfg.cell(), t, b, in, hs, dirs == 2);
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
                fin[l * dirs + d] = State.zeros(be, cfg.cell(), b, hs);
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

    /** Training mode applies dropout between layers in a {@code forward(..., true)}; eval mode never does. */
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
