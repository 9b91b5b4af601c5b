package dev.recur.api;

/**
 * The sizes of one recurrent layer call, as checked by {@link Backend}.
 *
 * @param steps  T, the padded sequence length (1 for the per-step cell ops)
 * @param batch  B, the number of sequences
 * @param input  I, input features per step
 * @param hidden H, hidden units per direction
 * @param gates  G, gate blocks of the cell ({@link Cell#gates()})
 */
public record LayerDims(int steps, int batch, int input, int hidden, int gates) {

    /** Forward FLOPs of one direction, counting a multiply-add as two: {@code 2·G·H·(I+H)·B·T}. */
    public long forwardFlops() {
        return 2L * gates * hidden * (long) (input + hidden) * batch * steps;
    }
}
