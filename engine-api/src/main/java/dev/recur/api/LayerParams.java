package dev.recur.api;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameters of one direction of one recurrent layer, in PyTorch's layout, or their
 * gradients (same shapes). G is {@link Cell#gates()}, H the hidden size and R the recurrent
 * width ({@link CellOptions#recurrentWidth}: P with a projection, else H).
 *
 * @param weightIh  {@code weight_ih_l{k}}: {@code [G*H, I]}
 * @param weightHh  {@code weight_hh_l{k}}: {@code [G*H, R]}
 * @param biasIh    {@code bias_ih_l{k}}: {@code [G*H]}
 * @param biasHh    {@code bias_hh_l{k}}: {@code [G*H]}
 * @param peephole  {@code [3H]} ({@code p_i, p_f, p_o}) for {@link Cell#LSTM_PEEPHOLE}; null otherwise
 * @param weightHr  {@code weight_hr_l{k}}: {@code [P, H]} with a projection
 *                  ({@link CellOptions#projectionSize()}); null otherwise
 * @param layerNorm the gains and biases with {@link CellOptions#layerNorm()}; null otherwise
 */
public record LayerParams(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh, Tensor peephole,
                          Tensor weightHr, LayerNormParams layerNorm) {

    /** Parameters of a cell without peepholes, projection or layer normalisation. */
    public LayerParams(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh) {
        this(weightIh, weightHh, biasIh, biasHh, null, null, null);
    }

    /** Parameters of a plain cell (peephole null unless {@link Cell#LSTM_PEEPHOLE}). */
    public LayerParams(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh, Tensor peephole) {
        this(weightIh, weightHh, biasIh, biasHh, peephole, null, null);
    }

    /** Zero-filled parameters (or gradient buffers) of a plain cell of the given sizes on {@code backend}. */
    public static LayerParams zeros(Backend backend, Cell cell, int inputSize, int hiddenSize) {
        return zeros(backend, cell, CellOptions.NONE, inputSize, hiddenSize);
    }

    /**
     * Zero-filled parameters (or gradient buffers) of {@code cell} with {@code options}: every
     * tensor, the layer normalisation's gains included, is zero, so use
     * {@link LayerNormParams#initial} for the gains of real parameters.
     */
    public static LayerParams zeros(Backend backend, Cell cell, CellOptions options, int inputSize, int hiddenSize) {
        int gh = cell.gates() * hiddenSize;
        int r = options.recurrentWidth(hiddenSize);
        return new LayerParams(
                backend.tensor(gh, inputSize),
                backend.tensor(gh, r),
                backend.tensor(gh),
                backend.tensor(gh),
                cell.peepholes() > 0 ? backend.tensor(cell.peepholes() * hiddenSize) : null,
                options.projectionSize() > 0 ? backend.tensor(options.projectionSize(), hiddenSize) : null,
                options.layerNorm() ? LayerNormParams.initial(backend, cell, hiddenSize, true) : null);
    }

    /** Every tensor, in the order of the record (layer normalisation's in its own order), nulls left out. */
    public List<Tensor> tensors() {
        List<Tensor> all = new ArrayList<>(List.of(weightIh, weightHh, biasIh, biasHh));
        if (peephole != null) {
            all.add(peephole);
        }
        if (weightHr != null) {
            all.add(weightHr);
        }
        if (layerNorm != null) {
            all.addAll(List.of(layerNorm.tensors()));
        }
        return all;
    }

    /** Sets every tensor to zero (gradients before a new accumulation). */
    public void zero() {
        for (Tensor t : tensors()) {
            t.fill(0f);
        }
    }
}
