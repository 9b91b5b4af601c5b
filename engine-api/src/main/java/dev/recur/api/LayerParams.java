package dev.recur.api;

/**
 * The parameters of one direction of one recurrent layer, in PyTorch's layout, or their
 * gradients (same shapes). G is {@link Cell#gates()}.
 *
 * @param weightIh {@code weight_ih_l{k}}: {@code [G*H, I]}
 * @param weightHh {@code weight_hh_l{k}}: {@code [G*H, H]}
 * @param biasIh   {@code bias_ih_l{k}}: {@code [G*H]}
 * @param biasHh   {@code bias_hh_l{k}}: {@code [G*H]}
 * @param peephole {@code [3H]} ({@code p_i, p_f, p_o}) for {@link Cell#LSTM_PEEPHOLE}; null otherwise
 */
public record LayerParams(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh, Tensor peephole) {

    /** Parameters of a cell without peepholes. */
    public LayerParams(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh) {
        this(weightIh, weightHh, biasIh, biasHh, null);
    }

    /** Zero-filled parameters (or gradient buffers) of the given sizes on {@code backend}. */
    public static LayerParams zeros(Backend backend, Cell cell, int inputSize, int hiddenSize) {
        int gh = cell.gates() * hiddenSize;
        return new LayerParams(
                backend.tensor(gh, inputSize),
                backend.tensor(gh, hiddenSize),
                backend.tensor(gh),
                backend.tensor(gh),
                cell.peepholes() > 0 ? backend.tensor(cell.peepholes() * hiddenSize) : null);
    }

    /** Sets every tensor to zero (gradients before a new accumulation). */
    public void zero() {
        weightIh.fill(0f);
        weightHh.fill(0f);
        biasIh.fill(0f);
        biasHh.fill(0f);
        if (peephole != null) {
            peephole.fill(0f);
        }
    }
}
