package dev.recur.api;

/**
 * The gains and biases of a layer-normalised cell ({@link CellOptions#layerNorm()}), or their
 * gradients (same shapes). Checkpoint names (the model layer's):
 * {@code ln_ih_weight_l{k}}, {@code ln_ih_bias_l{k}}, {@code ln_hh_weight_l{k}},
 * {@code ln_hh_bias_l{k}}, {@code ln_c_weight_l{k}}, {@code ln_c_bias_l{k}}, with {@code _reverse}
 * for the backward direction.
 *
 * @param gainIh γ of the input pre-activations' gate blocks, {@code [G*H]} (ones to start)
 * @param biasIh β of the same, {@code [G*H]} (zeros to start)
 * @param gainHh γ of the recurrent pre-activations' gate blocks, {@code [G*H]}
 * @param biasHh β of the same, {@code [G*H]}
 * @param gainC  γ of the cell state's normalisation, {@code [H]}; null for cells without one (GRU)
 * @param biasC  β of the same, {@code [H]}; null likewise
 */
public record LayerNormParams(Tensor gainIh, Tensor biasIh, Tensor gainHh, Tensor biasHh, Tensor gainC,
                              Tensor biasC) {

    /** Gains of one and biases of zero for {@code cell} with hidden size H (or zeros, for gradients). */
    public static LayerNormParams initial(Backend backend, Cell cell, int hiddenSize, boolean zeros) {
        int gh = cell.gates() * hiddenSize;
        float one = zeros ? 0f : 1f;
        Tensor gIh = backend.tensor(gh);
        Tensor gHh = backend.tensor(gh);
        gIh.fill(one);
        gHh.fill(one);
        Tensor gC = null;
        Tensor bC = null;
        if (cell.hasCellState()) {
            gC = backend.tensor(hiddenSize);
            gC.fill(one);
            bC = backend.tensor(hiddenSize);
        }
        return new LayerNormParams(gIh, backend.tensor(gh), gHh, backend.tensor(gh), gC, bC);
    }

    /** The tensors in the order of the record, nulls left out. */
    public Tensor[] tensors() {
        return gainC == null ? new Tensor[] {gainIh, biasIh, gainHh, biasHh}
                : new Tensor[] {gainIh, biasIh, gainHh, biasHh, gainC, biasC};
    }
}
