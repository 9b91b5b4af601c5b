package dev.recur.api;

/**
 * The recurrent cells Recur runs: each variant is a value of this enum, not a new layer class.
 *
 * <p>Weights follow PyTorch's layout: {@code weight_ih [G*H, I]}, {@code weight_hh [G*H, H]},
 * {@code bias_ih [G*H]}, {@code bias_hh [G*H]}; gate blocks are stacked in the order given
 * below. With {@code a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh} split into gate blocks:
 * <ul>
 *   <li>{@link #RNN_TANH}, {@link #RNN_RELU} (G = 1): {@code h = tanh(a)} or {@code relu(a)}.</li>
 *   <li>{@link #LSTM} (G = 4, gates {@code i, f, g, o}): {@code i = σ(a_i)}, {@code f = σ(a_f)},
 *       {@code g = tanh(a_g)}, {@code o = σ(a_o)}, {@code c = f⊙c_{t-1} + i⊙g},
 *       {@code h = o⊙tanh(c)}.</li>
 *   <li>{@link #LSTM_PEEPHOLE} (G = 4, plus {@code peephole [3H]} = {@code p_i, p_f, p_o}):
 *       {@code i = σ(a_i + p_i⊙c_{t-1})}, {@code f = σ(a_f + p_f⊙c_{t-1})},
 *       {@code o = σ(a_o + p_o⊙c_t)}; otherwise as LSTM.</li>
 *   <li>{@link #LSTM_COUPLED} (G = 3, gates {@code f, g, o}): the input gate is {@code i = 1 - f};
 *       since it has no weights of its own, its block is not stored (a quarter less work).</li>
 *   <li>{@link #GRU} (G = 3, gates {@code r, z, n}), the cuDNN/PyTorch form:
 *       {@code n = tanh(W_in x + b_in + r⊙(W_hn h_{t-1} + b_hn))}.</li>
 *   <li>{@link #GRU_ORIGINAL} (G = 3, gates {@code r, z, n}), the form of Cho et al. (2014):
 *       {@code n = tanh(W_in x + b_in + W_hn (r⊙h_{t-1}) + b_hn)}.</li>
 * </ul>
 * Both GRU forms use {@code r = σ(a_r)}, {@code z = σ(a_z)}, {@code h = (1-z)⊙n + z⊙h_{t-1}}.
 */
public enum Cell {
    RNN_TANH(1, false, 0, "rnn_tanh"),
    RNN_RELU(1, false, 0, "rnn_relu"),
    LSTM(4, true, 0, "lstm"),
    LSTM_PEEPHOLE(4, true, 3, "lstm_peephole"),
    LSTM_COUPLED(3, true, 0, "lstm_coupled"),
    GRU(3, false, 0, "gru"),
    GRU_ORIGINAL(3, false, 0, "gru_original");

    private final int gates;
    private final boolean cellState;
    private final int peepholes;
    private final String id;

    Cell(int gates, boolean cellState, int peepholes, String id) {
        this.gates = gates;
        this.cellState = cellState;
        this.peepholes = peepholes;
        this.id = id;
    }

    /** G: the number of gate blocks in {@code weight_ih}, {@code weight_hh} and the biases. */
    public int gates() {
        return gates;
    }

    /** Whether the cell carries a cell state {@code c} beside {@code h} (the LSTM family). */
    public boolean hasCellState() {
        return cellState;
    }

    /** Number of peephole vectors of length H (3 for {@link #LSTM_PEEPHOLE}, else 0). */
    public int peepholes() {
        return peepholes;
    }

    /** A lower-case name for files and command lines, e.g. {@code lstm_peephole}. */
    public String id() {
        return id;
    }

    /** The cell named by {@link #id()} (case-insensitive). */
    public static Cell byId(String id) {
        for (Cell c : values()) {
            if (c.id.equalsIgnoreCase(id) || c.name().equalsIgnoreCase(id)) {
                return c;
            }
        }
        StringBuilder known = new StringBuilder();
        for (Cell c : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(c.id);
        }
        throw new IllegalArgumentException("unknown cell '" + id + "'; known cells: " + known);
    }
}
