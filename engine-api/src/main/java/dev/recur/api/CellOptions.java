package dev.recur.api;

/**
 * What a recurrent layer adds to its plain {@link Cell}: layer normalisation inside the cell,
 * recurrent dropout, zoneout and a projection. Each is a setting that composes with the others,
 * with every cell that supports it, with both directions and with lengths and step masks
 * ({@link StepControl}). Made once per layer and given to {@link Backend#workspace(Cell,
 * CellOptions, int, int, int, int, boolean)}; every layer op on that workspace then runs the
 * cell with these options. {@link #NONE} is the plain cell.
 *
 * <h2>Widths</h2>
 * H is the hidden size, P the projection size ({@code projectionSize}, 0 for none) and
 * R = {@link #recurrentWidth(int) recurrentWidth(H)} (P when projecting, else H): the width of
 * what the recurrent GEMM reads and of the layer's output {@code y [T, B, R]}. The state's
 * {@code h} is {@link #stateWidth(Cell, int) stateWidth(cell, H)} wide: R for the LSTM family
 * (its projected {@code h} is the state, as in PyTorch's {@code proj_size}), H for the GRU family
 * (the GRU's state stays full; only what it feeds back and outputs is projected). {@code c} is
 * always H wide. Parameters: {@code weight_ih [G*H, I]}, {@code weight_hh [G*H, R]}, biases
 * {@code [G*H]}, peepholes {@code [3H]}, {@code weight_hr [P, H]} ({@link LayerParams#weightHr()}),
 * and with layer normalisation the gains and biases of {@link LayerNormParams}.
 *
 * <h2>One step, for one sequence (the contract every engine and oracle follows)</h2>
 * <ol>
 *   <li><b>Recurrent input</b> {@code r_{t-1}} [R]: the LSTM family's {@code h_{t-1}}; the GRU's
 *       {@code h_{t-1}}, or with a projection {@code W_hr h_{t-1}}; the RNN's {@code h_{t-1}}.</li>
 *   <li><b>Recurrent dropout</b> (Gal and Ghahramani; Keras's {@code recurrent_dropout}):
 *       {@code q = m ⊙ r_{t-1}} with one mask {@code m [B, R]} per call, the same at every step and
 *       for every gate, {@code m = u >= p ? 1/(1-p) : 0} as {@link TensorOps#dropout} draws it.
 *       Only the recurrent GEMM's input is dropped: the GRU's {@code z ⊙ h_{t-1}} reads the
 *       undropped state. Inference ({@link Backend#layerInference}) uses {@code m = 1}.</li>
 *   <li><b>Pre-activations</b> without biases: {@code a_x = W_ih x_t}, {@code a_h = W_hh q} (the
 *       original GRU's n block: {@code W_hn (r ⊙ q)}; with a projection r [H] gates the state
 *       before it is projected, {@code W_hn (m ⊙ W_hr (r ⊙ h_{t-1}))}).</li>
 *   <li><b>Layer normalisation</b> (Ba et al., 2016), when on: each gate block k of {@code a_x}
 *       and of {@code a_h} separately, {@code LN(v) = γ ⊙ (v - μ) / sqrt(σ² + ε) + β} with μ and
 *       the biased σ² over the block's H values, {@value #LAYER_NORM_EPSILON} for ε, and the
 *       block's own γ and β ({@code gainIh/biasIh} for {@code a_x}, {@code gainHh/biasHh} for
 *       {@code a_h}). The cell's biases are then added as usual (the GRU's {@code b_hn} inside
 *       {@code r ⊙ (LN(a_h^n) + b_hn)}).</li>
 *   <li><b>The cell's gate math</b>, unchanged, gives the new candidate state: {@code c̃} and
 *       {@code h̃} for the LSTM family, where with layer normalisation
 *       {@code h̃ = o ⊙ tanh(LN(c̃; gainC, biasC))} and with a projection
 *       {@code h̃ = W_hr (o ⊙ tanh(·))}; the peephole {@code p_o} reads {@code c̃};
 *       {@code h̃ = (1 - z) ⊙ n + z ⊙ h_{t-1}} for the GRU; {@code h̃ = act(a)} for the RNN.</li>
 *   <li><b>Zoneout</b> (Krueger et al., 2017), training: {@code h_t = d_h ⊙ h_{t-1} + (1 - d_h) ⊙ h̃},
 *       {@code c_t = d_c ⊙ c_{t-1} + (1 - d_c) ⊙ c̃}, with a fresh 0/1 mask per step and unit,
 *       {@code d = u < zoneout ? 1 : 0}; inference uses the expectation, {@code d = zoneout}.
 *       {@code h̃} is computed from {@code c̃}, not from the zoned {@code c_t}, as in the paper.</li>
 *   <li><b>Output</b> {@code y_t}: {@code h_t}, except the projected GRU's {@code W_hr h_t}.</li>
 * </ol>
 * Step masks and lengths ({@link StepControl}) then decide whether the step happens at all.
 *
 * <h2>Random draws</h2>
 * Every engine draws the same numbers: {@code u = TensorOps.uniform(seed, counter + index)} with
 * the {@code seed} and {@code counter} of the call's {@link StepControl}, T and B the call's, t
 * the real time index (also in the reverse direction) and:
 * <ul>
 *   <li>recurrent dropout of sequence b, unit j: {@code index = b*R + j};</li>
 *   <li>zoneout of {@code h}: {@code index = B*R + (t*B + b)*S + j}, S the state width;</li>
 *   <li>zoneout of {@code c}: {@code index = B*R + T*B*S + (t*B + b)*H + j}.</li>
 * </ul>
 * A call of one direction uses {@link #draws} counter values; the reverse direction of a
 * bidirectional call starts at {@code counter + draws(...)}, so a bidirectional call uses twice
 * that. Numbers are drawn only for the features that are on, but the ranges are reserved anyway.
 *
 * @param layerNorm        layer normalisation of the pre-activations (and of {@code c})
 * @param recurrentDropout probability in [0, 1) of dropping a unit of the recurrent input
 * @param zoneoutH         probability in [0, 1) that a unit of {@code h} keeps its previous value
 * @param zoneoutC         likewise for {@code c}; only for cells with a cell state
 * @param projectionSize   P, 0 for no projection; only for the LSTM and GRU families
 */
public record CellOptions(boolean layerNorm, float recurrentDropout, float zoneoutH, float zoneoutC,
                          int projectionSize) {

    /** ε of every layer normalisation (PyTorch's {@code nn.LayerNorm} default). */
    public static final float LAYER_NORM_EPSILON = 1e-5f;

    /** The plain cell. */
    public static final CellOptions NONE = new CellOptions(false, 0f, 0f, 0f, 0);

    public CellOptions {
        probability("recurrentDropout", recurrentDropout);
        probability("zoneoutH", zoneoutH);
        probability("zoneoutC", zoneoutC);
        if (projectionSize < 0) {
            throw new IllegalArgumentException("CellOptions: projectionSize must be >= 0 (0: none), got "
                    + projectionSize);
        }
    }

    /** Whether no option is on. */
    public boolean isPlain() {
        return !layerNorm && recurrentDropout == 0f && zoneoutH == 0f && zoneoutC == 0f && projectionSize == 0;
    }

    /** Whether a training forward draws random numbers (recurrent dropout or zoneout is on). */
    public boolean draws() {
        return recurrentDropout > 0f || zoneoutH > 0f || zoneoutC > 0f;
    }

    /** R: P when projecting, else H; the width of the recurrent input and of the output. */
    public int recurrentWidth(int hidden) {
        return projectionSize > 0 ? projectionSize : hidden;
    }

    /** The width of the state's {@code h}: R for cells with a cell state, else H. */
    public int stateWidth(Cell cell, int hidden) {
        return cell.hasCellState() ? recurrentWidth(hidden) : hidden;
    }

    /** Counter values one direction of a call of T steps and B sequences reserves (see the class notes). */
    public long draws(Cell cell, int steps, int batch, int hidden) {
        return zoneoutCOffset(cell, steps, batch, hidden) + (long) steps * batch * hidden;
    }

    /** Where zoneout of {@code h}'s draws start after the call's counter: {@code B*R} (see the class notes). */
    public long zoneoutHOffset(int batch, int hidden) {
        return (long) batch * recurrentWidth(hidden);
    }

    /** Where zoneout of {@code c}'s draws start after the call's counter: {@code B*R + T*B*S}. */
    public long zoneoutCOffset(Cell cell, int steps, int batch, int hidden) {
        return zoneoutHOffset(batch, hidden) + (long) steps * batch * stateWidth(cell, hidden);
    }

    /**
     * Throws, naming the option, when {@code cell} cannot take these options with hidden size
     * {@code hidden}: layer normalisation and projections need an LSTM or GRU, zoneout of
     * {@code c} a cell state, and a projection must be smaller than H.
     */
    public void check(Cell cell, int hidden) {
        boolean rnn = cell == Cell.RNN_TANH || cell == Cell.RNN_RELU;
        if (layerNorm && rnn) {
            throw new IllegalArgumentException("CellOptions: layerNorm needs an LSTM or GRU cell, not " + cell.id());
        }
        if (projectionSize > 0 && rnn) {
            throw new IllegalArgumentException("CellOptions: projectionSize needs an LSTM or GRU cell, not "
                    + cell.id());
        }
        if (projectionSize >= hidden) {
            throw new IllegalArgumentException("CellOptions: projectionSize must be smaller than the hidden size "
                    + hidden + ", got " + projectionSize + " (PyTorch's proj_size rule)");
        }
        if (zoneoutC > 0f && !cell.hasCellState()) {
            throw new IllegalArgumentException("CellOptions: zoneoutC needs a cell with a cell state (LSTM), not "
                    + cell.id() + "; use zoneoutH");
        }
    }

    private static void probability(String name, float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("CellOptions: " + name + " must be in [0, 1), got " + p);
        }
    }

    @Override
    public String toString() {
        if (isPlain()) {
            return "plain";
        }
        StringBuilder s = new StringBuilder();
        if (layerNorm) {
            s.append("layerNorm");
        }
        if (recurrentDropout > 0f) {
            s.append(s.isEmpty() ? "" : "+").append("recurrentDropout=").append(recurrentDropout);
        }
        if (zoneoutH > 0f) {
            s.append(s.isEmpty() ? "" : "+").append("zoneoutH=").append(zoneoutH);
        }
        if (zoneoutC > 0f) {
            s.append(s.isEmpty() ? "" : "+").append("zoneoutC=").append(zoneoutC);
        }
        if (projectionSize > 0) {
            s.append(s.isEmpty() ? "" : "+").append("projection=").append(projectionSize);
        }
        return s.toString();
    }
}
