package dev.recur.interop.onnx;

import dev.recur.api.Cell;

/**
 * Where each of ONNX's gate blocks comes from in Recur's weights, shared by the export
 * ({@link RecurrentLayers}) and the import ({@link OnnxImport}); see Note [gate order] and
 * Note [coupled LSTM] in {@link RecurrentLayers}.
 *
 * <p>ONNX block {@code k} is Recur's block {@code source[k]} times {@code scale[k]}; a scale of 0
 * is a block ONNX has and Recur does not (the coupled LSTM's unused forget block), written as
 * zeros. The scales are ±1 or 0, so both directions are exact.
 *
 * @param source for each ONNX block, Recur's block
 * @param scale  for each ONNX block, 1, -1 or 0
 */
record GateOrder(int[] source, float[] scale) {

    /** Peepholes: Recur {@code p_i, p_f, p_o}, ONNX {@code P = [p_i, p_o, p_f]}. */
    static final GateOrder PEEPHOLES = new GateOrder(new int[] {0, 2, 1}, new float[] {1, 1, 1});

    /** The gate blocks of {@code cell}'s weights and biases. */
    static GateOrder of(Cell cell) {
        return switch (cell) {
            case LSTM, LSTM_PEEPHOLE -> new GateOrder(new int[] {0, 3, 1, 2}, new float[] {1, 1, 1, 1}); // ifgo -> iofc
            case LSTM_COUPLED -> new GateOrder(new int[] {0, 2, 0, 1}, new float[] {-1, 1, 0, 1});      // fgo -> i(-f) o 0 c
            case GRU, GRU_ORIGINAL -> new GateOrder(new int[] {1, 0, 2}, new float[] {1, 1, 1});          // rzn -> zrh
            case RNN_TANH, RNN_RELU -> new GateOrder(new int[] {0}, new float[] {1});
        };
    }

    /** ONNX's number of blocks (4 for every LSTM, 3 for GRU, 1 for RNN). */
    int onnxBlocks() {
        return source.length;
    }

    /**
     * Copies Recur's blocks of {@code rows} rows of {@code cols} values each into ONNX's order at
     * {@code dst[offset..]}.
     */
    void toOnnx(float[] recur, int rows, int cols, float[] dst, int offset) {
        int block = rows * cols;
        for (int k = 0; k < source.length; k++) {
            float s = scale[k];
            int at = offset + k * block;
            int base = source[k] * block;
            for (int i = 0; i < block; i++) {
                dst[at + i] = s == 0f ? 0f : s * recur[base + i];
            }
        }
    }

    /**
     * The inverse of {@link #toOnnx}: Recur's {@code recurBlocks} blocks from ONNX's blocks at
     * {@code onnx[offset..]}; each Recur block is read from the first ONNX block with a non-zero
     * scale that comes from it, divided by that scale (a sign flip, exact).
     */
    float[] toRecur(float[] onnx, int offset, int rows, int cols, int recurBlocks) {
        int block = rows * cols;
        float[] out = new float[recurBlocks * block];
        for (int j = 0; j < recurBlocks; j++) {
            int k = 0;
            while (source[k] != j || scale[k] == 0f) {
                k++;
            }
            float s = scale[k];
            int from = offset + k * block;
            for (int i = 0; i < block; i++) {
                out[j * block + i] = s == 1f ? onnx[from + i] : onnx[from + i] / s;
            }
        }
        return out;
    }
}
