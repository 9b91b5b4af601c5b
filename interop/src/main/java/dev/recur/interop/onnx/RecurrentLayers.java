package dev.recur.interop.onnx;

import dev.recur.api.Cell;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link dev.recur.models.nn.RecurrentStack} as ONNX {@code LSTM}, {@code GRU} or
 * {@code RNN} nodes, one per layer (both directions in one node), with the gate blocks moved
 * from PyTorch's order, which Recur keeps, into ONNX's.
 *
 * <p>Note [gate order]. Recur stores {@code weight_ih [G*H, I]} in blocks LSTM {@code i, f, g, o},
 * GRU {@code r, z, n}, and peepholes {@code [3H]} as {@code p_i, p_f, p_o}; ONNX wants LSTM
 * {@code i, o, f, c}, GRU {@code z, r, h}, and {@code P = [p_i, p_o, p_f]}. ONNX's
 * {@code B [D, 2*G*H]} is {@code [Wb, Rb]}: Recur's {@code bias_ih} then {@code bias_hh}.
 *
 * <p>Note [coupled LSTM]. Recur's coupled cell computes {@code f = σ(a_f)}, {@code i = 1 - f} and
 * stores only the {@code f, g, o} blocks. ONNX's {@code input_forget = 1} couples the other way,
 * as ONNX Runtime computes it: {@code i = σ(a_i)} from the input-gate weights, then
 * {@code f = 1 - i}. Since {@code σ(-a) = 1 - σ(a)}, writing {@code -W_f, -R_f, -b_f} as ONNX's
 * input gate gives {@code i = 1 - σ(a_f)} and {@code f = σ(a_f)}: Recur's cell exactly, up to
 * float rounding. ONNX's own forget block is then unused and written as zeros.
 */
final class RecurrentLayers {

    /**
     * What the stack leaves in the graph.
     *
     * @param output the last layer's output {@code [T, B, D*H]}
     * @param finalH each layer's final hidden state {@code [D, B, H]}
     * @param finalC each layer's final cell state {@code [D, B, H]} (LSTM family), else empty
     */
    record Result(String output, List<String> finalH, List<String> finalC) {
    }

    private RecurrentLayers() {
    }

    /**
     * @param params  Recur's parameters by name (PyTorch names under {@code prefix})
     * @param x       the input {@code [T, B, I]}
     * @param lengths an int32 {@code [B]} value for {@code sequence_lens}, or null
     * @param h0      initial hidden states {@code [layers*D, B, H]} (indexed as {@code h_n}), or null for zeros
     * @param c0      initial cell states likewise (LSTM family), or null
     */
    static Result write(GraphWriter g, Map<String, float[]> params, String prefix, Cell cell, int inputSize,
                        int hidden, int layers, boolean bidirectional, String x, String lengths, String h0, String c0)
            throws OnnxExportException {
        int dirs = bidirectional ? 2 : 1;
        String op = switch (cell) {
            case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> "LSTM";
            case GRU, GRU_ORIGINAL -> "GRU";
            case RNN_TANH, RNN_RELU -> "RNN";
        };
        GateOrder order = GateOrder.of(cell);
        int onnxGates = order.onnxBlocks();
        List<String> finalH = new ArrayList<>();
        List<String> finalC = new ArrayList<>();
        String input = x;
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? inputSize : dirs * hidden;
            float[] w = new float[dirs * onnxGates * hidden * in];          // [D, G*H, I]
            float[] r = new float[dirs * onnxGates * hidden * hidden];      // [D, G*H, H]
            float[] b = new float[dirs * 2 * onnxGates * hidden];           // [D, 2*G*H]
            float[] p = cell.peepholes() > 0 ? new float[dirs * 3 * hidden] : null; // [D, 3H]
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                float[] wih = param(params, prefix + "weight_ih" + sfx, cell.gates() * hidden * in);
                float[] whh = param(params, prefix + "weight_hh" + sfx, cell.gates() * hidden * hidden);
                float[] bih = param(params, prefix + "bias_ih" + sfx, cell.gates() * hidden);
                float[] bhh = param(params, prefix + "bias_hh" + sfx, cell.gates() * hidden);
                order.toOnnx(wih, hidden, in, w, d * onnxGates * hidden * in);
                order.toOnnx(whh, hidden, hidden, r, d * onnxGates * hidden * hidden);
                order.toOnnx(bih, 1, hidden, b, d * 2 * onnxGates * hidden);
                order.toOnnx(bhh, 1, hidden, b, (d * 2 + 1) * onnxGates * hidden);
                if (p != null) {
                    float[] ph = param(params, prefix + "weight_peephole" + sfx, 3 * hidden);
                    GateOrder.PEEPHOLES.toOnnx(ph, 1, hidden, p, d * 3 * hidden);
                }
            }
            String stem = prefix.replace('.', '_') + "l" + l;
            String wName = g.floats(stem + "_W", w, dirs, (long) onnxGates * hidden, in);
            String rName = g.floats(stem + "_R", r, dirs, (long) onnxGates * hidden, hidden);
            String bName = g.floats(stem + "_B", b, dirs, 2L * onnxGates * hidden);
            String pName = p == null ? "" : g.floats(stem + "_P", p, dirs, 3L * hidden);
            String hInit = "";
            String cInit = "";
            if (h0 != null) {
                long[] idx = new long[dirs];
                for (int d = 0; d < dirs; d++) {
                    idx[d] = (long) l * dirs + d;
                }
                String indices = g.longs(stem + "_state_index", idx);
                hInit = g.node1("Gather", stem + "_h0", h0, indices);
                if (c0 != null) {
                    cInit = g.node1("Gather", stem + "_c0", c0, indices);
                }
            }
            List<String> inputs = new ArrayList<>(List.of(input, wName, rName, bName,
                    lengths == null ? "" : lengths, hInit));
            if (op.equals("LSTM")) {
                inputs.add(cInit);
                inputs.add(pName);
            }
            while (inputs.getLast().isEmpty()) {
                inputs.removeLast();
            }
            String y = g.fresh(stem + "_Y");
            String yh = g.fresh(stem + "_Y_h");
            List<String> outputs = new ArrayList<>(List.of(y, yh));
            if (op.equals("LSTM")) {
                String yc = g.fresh(stem + "_Y_c");
                outputs.add(yc);
                finalC.add(yc);
            }
            var node = g.node(op, inputs, outputs);
            node.addAttribute(GraphWriter.integer("hidden_size", hidden));
            node.addAttribute(GraphWriter.string("direction", bidirectional ? "bidirectional" : "forward"));
            switch (cell) {
                case GRU -> node.addAttribute(GraphWriter.integer("linear_before_reset", 1));
                case GRU_ORIGINAL -> node.addAttribute(GraphWriter.integer("linear_before_reset", 0));
                case LSTM_COUPLED -> node.addAttribute(GraphWriter.integer("input_forget", 1));
                case RNN_RELU -> node.addAttribute(bidirectional ? GraphWriter.strings("activations", "Relu", "Relu")
                        : GraphWriter.strings("activations", "Relu"));
                default -> { }
            }
            finalH.add(yh);
            // Y [T, D, B, H] -> [T, B, D, H] -> [T, B, D*H], the next layer's input.
            String yt = g.transpose(y, stem + "_Y_tbdh", 0, 2, 1, 3);
            input = g.node1("Reshape", stem + "_out", yt, g.longs(stem + "_shape", 0, 0, -1));
        }
        return new Result(input, finalH, finalC);
    }

    /** Recur's parameter {@code name}, checked to hold {@code size} values. */
    static float[] param(Map<String, float[]> params, String name, int size) throws OnnxExportException {
        float[] v = params.get(name);
        if (v == null) {
            throw new OnnxExportException("the model has no parameter " + name);
        }
        if (v.length != size) {
            throw new OnnxExportException("parameter " + name + " has " + v.length + " values, expected " + size);
        }
        return v;
    }
}
