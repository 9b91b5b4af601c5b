package dev.recur.interop.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.interop.onnx.proto.OnnxProto.AttributeProto;
import dev.recur.interop.onnx.proto.OnnxProto.GraphProto;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.interop.onnx.proto.OnnxProto.NodeProto;
import dev.recur.interop.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.recur.interop.onnx.proto.OnnxProto.TensorProto;
import dev.recur.interop.onnx.proto.OnnxProto.ValueInfoProto;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an ONNX model whose graph is an embedding ({@code Gather}) or numeric input, a stack of
 * ONNX {@code LSTM}, {@code GRU} or {@code RNN} nodes (one per layer, either direction or both)
 * and a linear head ({@code MatMul + Add} on every step, or {@code Gemm} or {@code MatMul + Add} on
 * the last layer's final hidden states), and makes the Recur checkpoint of the same model: the configuration and the
 * weights under PyTorch's names, with the gate blocks moved back from ONNX's order into Recur's
 * (see {@link GateOrder}). It reads what {@link OnnxExport} writes and what
 * {@code torch.onnx.export} writes for {@code nn.Embedding → nn.LSTM/GRU/RNN → nn.Linear}.
 *
 * <p>What each node may be, checked in graph order: between layers, {@code Transpose(0, 2, 1, 3)
 * + Reshape(0, 0, -1)} (Recur, PyTorch bidirectional) or {@code Squeeze(axis 1)} (PyTorch, one
 * direction); the initial states a graph input, {@code Gather} rows of one, or zeros
 * ({@code ConstantOfShape(0)}, as PyTorch makes them from {@code Shape}, {@code Gather},
 * {@code Unsqueeze}, {@code Concat} and {@code Slice}); {@code sequence_lens} a graph input;
 * {@code Transpose} of the input for batch-first graphs; {@code Identity}, and {@code Concat} or
 * {@code Transpose} of outputs; for a head on PyTorch's {@code h_n}, {@code Concat} on axis 0 of the
 * layers' {@code Y_h}, then {@code Gather} (or {@code Slice + Squeeze}) of its last layer's rows, joined
 * by {@code Concat} on axis 1 when there are two directions ({@code h_n[-1]},
 * {@code torch.cat((h_n[-2], h_n[-1]), dim=1)}). Any other node, and any of these used otherwise, is refused,
 * naming it. So is a cell setting Recur lacks ({@code clip}, other {@code activations},
 * {@code layout = 1}).
 *
 * <p>Cells: {@code LSTM} is Recur's {@code lstm}, with {@code P} {@code lstm_peephole}, with
 * {@code input_forget = 1} {@code lstm_coupled} (its forget gate is ONNX's negated input gate,
 * Note [coupled LSTM]); {@code GRU} with {@code linear_before_reset = 1} is {@code gru}, with 0
 * {@code gru_original}; {@code RNN} is {@code rnn_tanh}, or {@code rnn_relu} with
 * {@code activations = Relu}.
 *
 * <p>The model: when the file records {@code recur.kind} and {@code recur.config} (files written
 * by {@link OnnxExport}), that configuration, checked against the graph; otherwise inferred from
 * it: a per-step head over an embedding makes a {@code char-lm} (the head's width must be the
 * vocabulary), a head on the final hidden states a {@code sequence-classifier} (over an embedding)
 * or a {@code sequence-regressor} (over numeric input); dropout 0.
 */
public final class OnnxImport {

    private OnnxImport() {
    }

    /**
     * The checkpoint (configuration and weights, no metadata) of the model in {@code file}.
     *
     * @throws OnnxImportException naming what cannot be read or mapped, in one line
     * @throws IOException         when the file cannot be read
     */
    public static Checkpoint read(Path file) throws OnnxImportException, IOException {
        return read(Files.readAllBytes(file));
    }

    /** {@link #read(Path)} of the bytes of an ONNX file. */
    public static Checkpoint read(byte[] onnx) throws OnnxImportException {
        ModelProto model;
        try {
            model = ModelProto.parseFrom(onnx);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxImportException("not an ONNX model: the protobuf is truncated or corrupt ("
                    + oneLine(e.getMessage()) + ")");
        }
        return read(model);
    }

    /** {@link #read(Path)} of a parsed ONNX model. */
    public static Checkpoint read(ModelProto model) throws OnnxImportException {
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new OnnxImportException("not an ONNX model of a network: the file has no graph nodes");
        }
        for (var opset : model.getOpsetImportList()) {
            if (!opset.getDomain().isEmpty() && !opset.getDomain().equals("ai.onnx")) {
                continue; // an extra domain is harmless unless a node uses it, which the op check refuses
            }
            if (opset.getVersion() < 7) {
                throw new OnnxImportException("opset " + opset.getVersion() + " is older than 7, the first with"
                        + " today's LSTM, GRU and RNN operators");
            }
        }
        Map<String, String> meta = new HashMap<>();
        for (StringStringEntryProto e : model.getMetadataPropsList()) {
            meta.put(e.getKey(), e.getValue());
        }
        Reader r = new Reader(model.getGraph());
        r.run();
        return r.checkpoint(meta.get("recur.kind"), meta.get("recur.config"));
    }

    /**
     * The model in {@code file}, on {@code backend}, ready to run or train further.
     *
     * @throws OnnxImportException naming what cannot be read or mapped, in one line
     */
    public static Model load(Backend backend, Path file) throws OnnxImportException, IOException {
        return load(backend, read(file));
    }

    /** The model of a checkpoint {@link #read} made. */
    public static Model load(Backend backend, Checkpoint c) throws OnnxImportException {
        try {
            return ModelKinds.of(c.modelConfig()).equals(ModelKinds.CHAR_LM)
                    ? CharLanguageModel.load(backend, c) : SequenceModel.load(backend, c);
        } catch (CheckpointException e) {
            throw new OnnxImportException(e.problem());
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    // ---- what each value of the graph is

    /** What a value of the graph holds, as far as the import is concerned. */
    private sealed interface Val {
    }

    /** An initializer or a Constant node's output: known data. */
    private record Const(String name, TensorProto tensor) implements Val {
    }

    /** A graph input (not an initializer): token ids, features, lengths or initial states, told apart by use. */
    private record Input(String name, int elemType, int rank) implements Val {
    }

    /** Integers computed from shapes (PyTorch's batch size for its zero states). */
    private record ShapeArith() implements Val {
    }

    /** A float tensor known to be all zeros (an initial state). */
    private record Zeros() implements Val {
    }

    /** Token ids (a graph input, maybe transposed). */
    private record Ids(String input) implements Val {
    }

    /** Rows of an initial-state graph input. */
    private record StateRows(String input, long[] rows) implements Val {
    }

    /** A sequence {@code [T, B, F]} (or batch-first): the embedded input or numeric input (layer -1) or a layer's output. */
    private record Seq(int layer, int width) implements Val {
    }

    /** A layer's {@code Y [T, D, B, H]}; {@code transposed}: after {@code Transpose(0, 2, 1, 3)}. */
    private record LayerY(int layer, boolean transposed) implements Val {
    }

    /** A layer's {@code Y_h [D, B, H]}; {@code transposed}: after {@code Transpose(1, 0, 2)}. */
    private record FinalH(int layer, boolean transposed) implements Val {
    }

    /**
     * The {@code Concat} on axis 0 of layers 0 to {@code layer}'s {@code Y_h}: PyTorch's
     * {@code h_n}, {@code [(layer+1)*D, B, H]}.
     */
    private record StackedH(int layer) implements Val {
    }

    /**
     * Rows of a {@link StackedH} (or of one layer's {@code Y_h}), as indices into the stack of
     * layers 0 to {@code layer} ({@code row = layer * D + direction}); {@code squeezed}: the row
     * axis is gone ({@code Gather} by a scalar, {@code Squeeze}), and several rows are then joined
     * side by side ({@code Concat} on axis 1): PyTorch's {@code h_n[-1]}, or
     * {@code torch.cat((h_n[-2], h_n[-1]), dim=1)}.
     */
    private record HRows(int layer, long[] rows, boolean squeezed) implements Val {
    }

    /** The last layer's final hidden states as {@code [B, D*H]}, a head's input. */
    private record Features(int layer) implements Val {
    }

    /** {@code MatMul(Seq, W)} before its bias. */
    private record StepHeadNoBias(int layer) implements Val {
    }

    /** An output the model does not depend on (logits, final states, transposed or joined). */
    private record Result() implements Val {
    }

    /** One recurrent layer as read from its node. */
    private record Layer(String node, Cell cell, int dirs, int input, int hidden, Map<String, float[]> weights) {
    }

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int INT64 = TensorProto.DataType.INT64_VALUE;
    private static final int INT32 = TensorProto.DataType.INT32_VALUE;

    private static final class Reader {

        private final GraphProto graph;
        private final Map<String, Val> values = new HashMap<>();
        private final List<Layer> layers = new ArrayList<>();
        private float[] embedding; // [V, E]
        private int vocabulary;
        private int inputWidth = -1; // numeric input's features, when there is no embedding
        private float[] headWeight; // [out, in]
        private float[] headBias;   // [out]
        private int headOut = -1;
        private int headIn = -1;
        private boolean stepHead;   // MatMul + Add on every step (char-lm), else Gemm on the final states
        private String headNode;
        private NodeProto current;

        Reader(GraphProto graph) {
            this.graph = graph;
        }

        private OnnxImportException refuse(String why) {
            return new OnnxImportException("cannot import node '" + current.getName() + "' (" + current.getOpType()
                    + "): " + why);
        }

        void run() throws OnnxImportException {
            for (TensorProto t : graph.getInitializerList()) {
                checkTensor(t, "initializer");
                if (values.put(t.getName(), new Const(t.getName(), t)) != null) {
                    throw new OnnxImportException("initializer '" + t.getName() + "' is defined twice");
                }
            }
            for (ValueInfoProto in : graph.getInputList()) {
                if (values.containsKey(in.getName())) {
                    continue; // IR < 4 lists initializers among the inputs too
                }
                var type = in.getType().getTensorType();
                values.put(in.getName(), new Input(in.getName(), type.getElemType(), type.getShape().getDimCount()));
            }
            for (NodeProto n : topologicalOrder()) {
                current = n;
                if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                    throw refuse("operators of domain '" + n.getDomain() + "' are not supported");
                }
                Val out = interpret(n);
                if (out != null && n.getOutputCount() > 0) {
                    values.put(n.getOutput(0), out);
                }
            }
            current = null;
            if (layers.isEmpty()) {
                throw new OnnxImportException("the graph has no LSTM, GRU or RNN node: not a recurrent model Recur"
                        + " can import");
            }
            if (headOut < 0) {
                throw new OnnxImportException("the graph has no linear head (MatMul + Add or Gemm) after its last"
                        + " recurrent layer");
            }
            if (headBias == null) {
                headBias = new float[headOut]; // MatMul without Add
            }
        }

        /**
         * The nodes in an order where each reads only values defined before it (ONNX requires the
         * file's order to be one; Kahn's algorithm accepts any and finds cycles).
         */
        private List<NodeProto> topologicalOrder() throws OnnxImportException {
            List<NodeProto> nodes = graph.getNodeList();
            Map<String, Integer> producer = new HashMap<>();
            for (int i = 0; i < nodes.size(); i++) {
                for (String o : nodes.get(i).getOutputList()) {
                    if (o.isEmpty()) {
                        continue;
                    }
                    if (values.containsKey(o) || producer.put(o, i) != null) {
                        current = nodes.get(i);
                        throw refuse("its output '" + o + "' is already defined; ONNX values are assigned once");
                    }
                }
            }
            int[] waiting = new int[nodes.size()];
            List<List<Integer>> readers = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                readers.add(new ArrayList<>());
            }
            for (int i = 0; i < nodes.size(); i++) {
                for (String in : nodes.get(i).getInputList()) {
                    if (in.isEmpty() || values.containsKey(in)) {
                        continue;
                    }
                    Integer p = producer.get(in);
                    if (p == null) {
                        current = nodes.get(i);
                        throw refuse("it reads '" + in + "', which no node, graph input or initializer defines");
                    }
                    waiting[i]++;
                    readers.get(p).add(i);
                }
            }
            ArrayDeque<Integer> ready = new ArrayDeque<>();
            for (int i = 0; i < nodes.size(); i++) {
                if (waiting[i] == 0) {
                    ready.add(i);
                }
            }
            List<NodeProto> order = new ArrayList<>();
            boolean[] done = new boolean[nodes.size()];
            while (!ready.isEmpty()) {
                int i = ready.poll();
                done[i] = true;
                order.add(nodes.get(i));
                for (int j : readers.get(i)) {
                    if (--waiting[j] == 0) {
                        ready.add(j);
                    }
                }
            }
            for (int i = 0; i < nodes.size(); i++) {
                if (!done[i]) {
                    current = nodes.get(i);
                    throw refuse("the graph has a cycle through this node (a value it reads depends on its own"
                            + " output)");
                }
            }
            return order;
        }

        private Val in(int k) throws OnnxImportException {
            if (k >= current.getInputCount() || current.getInput(k).isEmpty()) {
                return null;
            }
            Val v = values.get(current.getInput(k));
            if (v == null) { // a value defined by a node that produced nothing the import tracks
                throw refuse("input '" + current.getInput(k) + "' is not one the import can follow");
            }
            return v;
        }

        private Val interpret(NodeProto n) throws OnnxImportException {
            String op = n.getOpType();
            Val a = n.getInputCount() > 0 ? in(0) : null;
            switch (op) {
                case "Constant" -> {
                    AttributeProto v = attr("value");
                    if (v == null || !v.hasT()) {
                        throw refuse("only Constant with a tensor 'value' is supported");
                    }
                    checkTensor(v.getT(), "constant");
                    return new Const(n.getOutput(0), v.getT());
                }
                case "Identity" -> {
                    return a;
                }
                case "Shape" -> {
                    return new ShapeArith();
                }
                case "ConstantOfShape" -> {
                    AttributeProto v = attr("value");
                    if (v != null && anyNonZero(v.getT())) {
                        throw refuse("only a ConstantOfShape of zeros (initial states) is supported");
                    }
                    return new Zeros();
                }
                case "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Expand", "Reshape", "Gather", "Transpose" -> {
                    if (a instanceof Zeros && !op.equals("Concat") && !op.equals("Gather")) {
                        return new Zeros();
                    }
                    if (allShapeArith()) {
                        return new ShapeArith();
                    }
                    return switch (op) {
                        case "Gather" -> gather(a);
                        case "Transpose" -> transpose(a);
                        case "Reshape" -> reshape(a);
                        case "Squeeze" -> squeeze(a);
                        case "Concat" -> concat();
                        case "Slice" -> slice(a);
                        default -> throw refuse(op + " of a " + describe(a) + " is not part of a recurrent model"
                                + " Recur can import");
                    };
                }
                case "LSTM", "GRU", "RNN" -> {
                    recurrent(n);
                    return null; // recurrent() defines the outputs
                }
                case "MatMul" -> {
                    return matMul(a, in(1));
                }
                case "Add" -> {
                    return add(a, in(1));
                }
                case "Gemm" -> {
                    return gemm(a, in(1), in(2));
                }
                default -> throw refuse("operator not supported; Recur imports Gather embeddings, LSTM, GRU and RNN"
                        + " layers, and MatMul + Add or Gemm heads");
            }
        }

        private boolean allShapeArith() {
            boolean any = false;
            for (String i : current.getInputList()) {
                if (i.isEmpty()) {
                    continue;
                }
                Val v = values.get(i);
                if (v instanceof ShapeArith) {
                    any = true;
                } else if (!(v instanceof Const c) || c.tensor().getDataType() == FLOAT) {
                    return false;
                }
            }
            return any;
        }

        private Val gather(Val data) throws OnnxImportException {
            Val idx = in(1);
            if (data instanceof Const c && c.tensor().getDataType() == FLOAT && c.tensor().getDimsCount() == 2
                    && (idx instanceof Ids || idx instanceof Input i && isInt(i.elemType()) && i.rank() == 2)) {
                if (embedding != null) {
                    throw refuse("a second embedding; Recur models have one");
                }
                if (longAttr("axis", 0) != 0) {
                    throw refuse("an embedding Gather must take rows (axis 0)");
                }
                vocabulary = (int) c.tensor().getDims(0);
                int width = (int) c.tensor().getDims(1);
                embedding = floats(c.tensor());
                return new Seq(-1, width);
            }
            if (data instanceof Input s && s.elemType() == FLOAT && s.rank() == 3 && idx instanceof Const c
                    && longAttr("axis", 0) == 0) {
                return new StateRows(s.name(), longs(c.tensor()));
            }
            if ((data instanceof StackedH || data instanceof FinalH h && !h.transposed()) && idx instanceof Const c
                    && isInt(c.tensor().getDataType()) && c.tensor().getDimsCount() <= 1) {
                if (longAttr("axis", 0) != 0) {
                    throw refuse("a Gather of final hidden states must take rows (axis 0)");
                }
                long[] local = longs(c.tensor());
                return rowsOf(data, local, local, c.tensor().getDimsCount() == 0);
            }
            throw refuse("Gather of a " + describe(data) + " by a " + describe(idx) + " is neither an embedding"
                    + ", rows of an initial state, nor rows of the final hidden states");
        }

        /**
         * {@code local} rows (negative from the end) of a {@link StackedH} or a layer's
         * {@code Y_h}, as an {@link HRows}; {@code shown} is what the message names.
         */
        private HRows rowsOf(Val data, long[] local, long[] shown, boolean squeezed) throws OnnxImportException {
            int layer = stackLayer(data);
            long n = stackRows(data);
            long first = data instanceof StackedH ? 0 : (long) layer * layerOf(layer).dirs();
            long[] rows = new long[local.length];
            for (int i = 0; i < local.length; i++) {
                long r = local[i] < 0 ? local[i] + n : local[i];
                if (r < 0 || r >= n) {
                    throw refuse("rows " + Arrays.toString(shown) + " of a " + describe(data) + " of " + n + " rows");
                }
                rows[i] = first + r;
            }
            return new HRows(layer, rows, squeezed);
        }

        /** The layer of a {@link StackedH} or of a layer's {@code Y_h}. */
        private static int stackLayer(Val data) {
            return data instanceof StackedH st ? st.layer() : ((FinalH) data).layer();
        }

        /** The rows of a {@link StackedH} (every direction of layers 0 to its layer) or of a layer's {@code Y_h}. */
        private long stackRows(Val data) {
            int layer = stackLayer(data);
            int dirs = layerOf(layer).dirs();
            return data instanceof StackedH ? (long) (layer + 1) * dirs : dirs;
        }

        /** {@code Slice} of final hidden states on axis 0 (PyTorch's {@code h_n[-1:]}, say). */
        private Val slice(Val a) throws OnnxImportException {
            if (!(a instanceof StackedH || a instanceof FinalH h && !h.transposed())) {
                throw refuse("Slice of a " + describe(a) + " is not part of a recurrent model Recur can import");
            }
            long[] starts = constLongs(1, "starts");
            long[] ends = constLongs(2, "ends");
            long[] axes = current.getInputCount() > 3 && !current.getInput(3).isEmpty() ? constLongs(3, "axes")
                    : new long[] {0};
            long[] steps = current.getInputCount() > 4 && !current.getInput(4).isEmpty() ? constLongs(4, "steps")
                    : new long[] {1};
            if (starts.length != 1 || ends.length != 1 || axes.length != 1 || axes[0] != 0 || steps.length != 1
                    || steps[0] != 1) {
                throw refuse("only a Slice of consecutive rows (axis 0, step 1) of the final hidden states is"
                        + " supported, got starts " + Arrays.toString(starts) + " ends " + Arrays.toString(ends)
                        + " axes " + Arrays.toString(axes) + " steps " + Arrays.toString(steps));
            }
            long n = stackRows(a);
            long from = Math.clamp(starts[0] < 0 ? starts[0] + n : starts[0], 0, n);
            long to = Math.clamp(ends[0] < 0 ? ends[0] + n : ends[0], 0, n);
            if (to <= from) {
                throw refuse("the Slice [" + starts[0] + ", " + ends[0] + ") of a " + describe(a) + " is empty");
            }
            long[] local = new long[(int) (to - from)];
            for (int i = 0; i < local.length; i++) {
                local[i] = from + i;
            }
            return rowsOf(a, local, new long[] {starts[0], ends[0]}, false);
        }

        private long[] constLongs(int k, String what) throws OnnxImportException {
            Val v = in(k);
            long[] out = v instanceof Const c ? longs(c.tensor()) : null;
            if (out == null) {
                throw refuse(what + " is a " + describe(v) + ", not an integer constant");
            }
            return out;
        }

        /**
         * A head's input: the last layer's final hidden states, all its directions in order
         * ({@link Features}, or the same rows taken from PyTorch's {@code h_n}); null otherwise.
         */
        private Features features(Val x) throws OnnxImportException {
            if (x instanceof Features f) {
                return f;
            }
            if (x instanceof HRows r) {
                int dirs = layerOf(r.layer()).dirs();
                long[] want = new long[dirs];
                for (int d = 0; d < dirs; d++) {
                    want[d] = (long) r.layer() * dirs + d;
                }
                if (!r.squeezed() || !Arrays.equals(r.rows(), want)) {
                    throw refuse("its input is rows " + Arrays.toString(r.rows()) + (r.squeezed() ? "" : " (unsqueezed)")
                            + " of the final hidden states; a Recur classifier's head reads rows " + Arrays.toString(want)
                            + " (layer " + r.layer() + ", " + (dirs == 2 ? "forward then backward" : "its one direction")
                            + ") joined side by side");
                }
                return new Features(r.layer());
            }
            return null;
        }

        private Val transpose(Val a) throws OnnxImportException {
            long[] perm = longsAttr("perm");
            if (a instanceof Input i && isInt(i.elemType()) && i.rank() == 2 && Arrays.equals(perm, new long[] {1, 0})) {
                return new Ids(i.name()); // batch-first ids
            }
            if (a instanceof Ids && Arrays.equals(perm, new long[] {1, 0})) {
                return a;
            }
            if (Arrays.equals(perm, new long[] {1, 0, 2})) {
                if (a instanceof Input i && i.elemType() == FLOAT && i.rank() == 3 && embedding == null) {
                    return new Seq(-1, -1); // batch-first numeric input; its width comes from the first layer
                }
                if (a instanceof Seq s) {
                    return s; // PyTorch's batch_first: [B, T, F] <-> [T, B, F]
                }
                if (a instanceof FinalH h && !h.transposed()) {
                    return new FinalH(h.layer(), true);
                }
                if (a instanceof Result || a instanceof StackedH) {
                    return new Result();
                }
            }
            if (a instanceof LayerY y && !y.transposed() && Arrays.equals(perm, new long[] {0, 2, 1, 3})) {
                return new LayerY(y.layer(), true);
            }
            throw refuse("Transpose " + Arrays.toString(perm) + " of a " + describe(a) + " is not a layout change"
                    + " Recur knows");
        }

        private Val reshape(Val a) throws OnnxImportException {
            long[] shape = in(1) instanceof Const c ? longs(c.tensor()) : null;
            if (shape == null) {
                throw refuse("a Reshape to a computed shape");
            }
            if (a instanceof LayerY y && y.transposed() && shape.length == 3 && shape[0] == 0 && shape[1] == 0
                    && (shape[2] == -1 || shape[2] == (long) layerOf(y.layer()).dirs() * layerOf(y.layer()).hidden())) {
                Layer l = layerOf(y.layer());
                return new Seq(y.layer(), l.dirs() * l.hidden());
            }
            if (a instanceof FinalH h && h.transposed() && shape.length == 2 && (shape[0] == 0 || shape[0] == -1)
                    && (shape[1] == -1 || shape[1] == (long) layerOf(h.layer()).dirs() * layerOf(h.layer()).hidden())
                    && shape[0] != shape[1]) {
                return new Features(h.layer());
            }
            throw refuse("Reshape of a " + describe(a) + " to " + Arrays.toString(shape) + " is not one between"
                    + " layers or before a head");
        }

        private Val squeeze(Val a) throws OnnxImportException {
            long[] axes = current.getInputCount() > 1 && in(1) instanceof Const c ? longs(c.tensor()) : longsAttr("axes");
            if (a instanceof LayerY y && !y.transposed() && Arrays.equals(axes, new long[] {1})
                    && layerOf(y.layer()).dirs() == 1) {
                return new Seq(y.layer(), layerOf(y.layer()).hidden());
            }
            if (a instanceof FinalH h && !h.transposed() && Arrays.equals(axes, new long[] {0})
                    && layerOf(h.layer()).dirs() == 1) {
                return new Features(h.layer());
            }
            if (a instanceof HRows r && !r.squeezed() && r.rows().length == 1
                    && (axes.length == 0 || Arrays.equals(axes, new long[] {0}))) {
                return new HRows(r.layer(), r.rows(), true);
            }
            throw refuse("Squeeze " + Arrays.toString(axes) + " of a " + describe(a) + " is not one between layers"
                    + " or before a head");
        }

        private Val concat() throws OnnxImportException {
            long axis = longAttr("axis", 0);
            if (current.getInputCount() > 0 && in(0) instanceof HRows first) {
                // torch.cat((h_n[-2], h_n[-1]), dim=1): rows of the final states side by side
                List<Long> rows = new ArrayList<>();
                for (int k = 0; k < current.getInputCount(); k++) {
                    if (!(in(k) instanceof HRows r) || !r.squeezed() || r.layer() != first.layer()) {
                        throw refuse("Concat of rows of the final hidden states with a " + describe(in(k)));
                    }
                    for (long row : r.rows()) {
                        rows.add(row);
                    }
                }
                if (axis != 1 && axis != -1) {
                    throw refuse("Concat of rows of the final hidden states on axis " + axis + "; a head's input"
                            + " joins them on axis 1");
                }
                return new HRows(first.layer(), rows.stream().mapToLong(Long::longValue).toArray(), true);
            }
            boolean stack = axis == 0;
            for (int k = 0; k < current.getInputCount(); k++) {
                Val v = in(k);
                if (!(v instanceof Result || v instanceof StackedH || v instanceof FinalH h && !h.transposed())) {
                    throw refuse("Concat of a " + describe(v) + "; only final states are joined");
                }
                stack &= v instanceof FinalH h && h.layer() == k;
            }
            return stack ? new StackedH(current.getInputCount() - 1) : new Result();
        }

        private Val matMul(Val x, Val w) throws OnnxImportException {
            // A head on every step of the last layer's output, or on its final hidden states.
            boolean perStep = x instanceof Seq s && s.layer() >= 0;
            Features f = perStep ? null : features(x);
            if (!(w instanceof Const c) || !perStep && f == null) {
                throw refuse("MatMul of a " + describe(x) + " and a " + describe(w) + " is not a head on the last"
                        + " layer's output or final hidden states");
            }
            int layer = perStep ? ((Seq) x).layer() : f.layer();
            int in = perStep ? ((Seq) x).width() : layerOf(layer).dirs() * layerOf(layer).hidden();
            TensorProto t = c.tensor();
            if (t.getDataType() != FLOAT || t.getDimsCount() != 2 || t.getDims(0) != in) {
                throw refuse("the head weight '" + c.name() + "' is " + dims(t) + ", expected float [" + in
                        + ", outputs]");
            }
            headIn = in;
            headOut = (int) t.getDims(1);
            headWeight = transposed(floats(t), headIn, headOut);
            setHead(layer, perStep);
            return new StepHeadNoBias(layer);
        }

        private Val add(Val a, Val b) throws OnnxImportException {
            if (b instanceof StepHeadNoBias) { // PyTorch writes Add(bias, x)
                Val t = a;
                a = b;
                b = t;
            }
            if (a instanceof StepHeadNoBias && b instanceof Const c && headBias == null) {
                if (c.tensor().getDataType() != FLOAT || elementCount(c.tensor()) != headOut) {
                    throw refuse("the head bias '" + c.name() + "' is " + dims(c.tensor()) + ", expected float ["
                            + headOut + "]");
                }
                headBias = floats(c.tensor());
                return new Result();
            }
            throw refuse("Add of a " + describe(a) + " and a " + describe(b) + " is not a head's bias");
        }

        private Val gemm(Val x, Val w, Val b) throws OnnxImportException {
            Features f = features(x);
            if (f == null || !(w instanceof Const wc)) {
                throw refuse("Gemm of a " + describe(x) + " and a " + describe(w) + " is not a head on the last"
                        + " layer's final hidden states");
            }
            if (longAttr("transA", 0) != 0 || floatAttr("alpha", 1f) != 1f || floatAttr("beta", 1f) != 1f) {
                throw refuse("a head Gemm must have transA = 0, alpha = 1, beta = 1");
            }
            Layer l = layerOf(f.layer());
            int in = l.dirs() * l.hidden();
            TensorProto t = wc.tensor();
            boolean transB = longAttr("transB", 0) == 1;
            if (t.getDataType() != FLOAT || t.getDimsCount() != 2 || t.getDims(transB ? 1 : 0) != in) {
                throw refuse("the head weight '" + wc.name() + "' is " + dims(t) + ", expected float "
                        + (transB ? "[outputs, " + in + "]" : "[" + in + ", outputs]"));
            }
            headIn = in;
            headOut = (int) t.getDims(transB ? 0 : 1);
            headWeight = transB ? floats(t) : transposed(floats(t), in, headOut);
            if (b == null) {
                headBias = new float[headOut];
            } else if (b instanceof Const bc && bc.tensor().getDataType() == FLOAT
                    && elementCount(bc.tensor()) == headOut) {
                headBias = floats(bc.tensor());
            } else {
                throw refuse("the head bias must be a float initializer of " + headOut + " values, got a "
                        + describe(b));
            }
            setHead(f.layer(), false);
            return new Result();
        }

        private void setHead(int layer, boolean perStep) throws OnnxImportException {
            if (headNode != null) {
                throw refuse("a second head; the first is node '" + headNode + "'");
            }
            if (layer != layers.size() - 1) {
                throw refuse("the head reads layer " + layer + ", not the last one (" + (layers.size() - 1) + ")");
            }
            headNode = current.getName();
            stepHead = perStep;
        }

        private void recurrent(NodeProto n) throws OnnxImportException {
            String op = n.getOpType();
            if (headNode != null) {
                throw refuse("a recurrent layer after the head");
            }
            Val x = in(0);
            int index = layers.size();
            int inWidth;
            if (x instanceof Seq s && s.layer() == index - 1) {
                inWidth = s.width();
            } else if (index == 0 && x instanceof Input i && i.elemType() == FLOAT && i.rank() == 3) {
                inWidth = -1;
            } else {
                throw refuse("its input is a " + describe(x) + ", not " + (index == 0 ? "the embedded or numeric input"
                        : "layer " + (index - 1) + "'s output"));
            }
            if (longAttr("layout", 0) != 0) {
                throw refuse("layout = 1 (batch-first inside the node) is not supported");
            }
            if (attr("clip") != null) {
                throw refuse("clip is not supported (Recur's cells do not clip)");
            }
            String direction = stringAttr("direction", "forward");
            int dirs;
            switch (direction) {
                case "forward" -> dirs = 1;
                case "bidirectional" -> dirs = 2;
                default -> throw refuse("direction '" + direction + "' is not supported (forward or bidirectional)");
            }
            TensorProto w = weight(1, "W");
            TensorProto r = weight(2, "R");
            int gh = (int) r.getDims(1);
            int hidden = (int) r.getDims(2);
            int onnxBlocks = switch (op) {
                case "LSTM" -> 4;
                case "GRU" -> 3;
                default -> 1;
            };
            long declared = longAttr("hidden_size", hidden);
            if (declared != hidden || gh != onnxBlocks * hidden || r.getDims(0) != dirs) {
                throw refuse("R is " + dims(r) + ", expected [" + dirs + ", " + onnxBlocks + "*hidden_size, hidden_size]"
                        + " with hidden_size " + declared);
            }
            if (w.getDimsCount() != 3 || w.getDims(0) != dirs || w.getDims(1) != gh
                    || (inWidth >= 0 && w.getDims(2) != inWidth)) {
                throw refuse("W is " + dims(w) + ", expected [" + dirs + ", " + gh + ", "
                        + (inWidth >= 0 ? inWidth : "input") + "]");
            }
            int input = (int) w.getDims(2);
            if (inWidth < 0 && index == 0) {
                if (embedding == null) {
                    inputWidth = input;
                }
            }
            float[] b = optionalWeight(3, "B", (long) dirs * 2 * gh, dirs, 2L * gh);
            Val lengths = in(4);
            if (lengths != null && !(lengths instanceof Input li && isInt(li.elemType()) && li.rank() == 1)) {
                throw refuse("sequence_lens is a " + describe(lengths) + ", not a graph input");
            }
            checkState(in(5), "initial_h", index, dirs);
            Cell cell;
            float[] p = null;
            switch (op) {
                case "LSTM" -> {
                    checkState(in(6), "initial_c", index, dirs);
                    p = optionalWeight(7, "P", (long) dirs * 3 * hidden, dirs, 3L * hidden);
                    boolean coupled = longAttr("input_forget", 0) == 1;
                    checkActivations(dirs, "Sigmoid", "Tanh", "Tanh");
                    if (coupled && p != null) {
                        throw refuse("input_forget = 1 together with peepholes P: Recur has no such cell");
                    }
                    cell = coupled ? Cell.LSTM_COUPLED : p != null ? Cell.LSTM_PEEPHOLE : Cell.LSTM;
                }
                case "GRU" -> {
                    checkActivations(dirs, "Sigmoid", "Tanh");
                    cell = longAttr("linear_before_reset", 0) == 1 ? Cell.GRU : Cell.GRU_ORIGINAL;
                }
                default -> {
                    String[] acts = stringsAttr("activations");
                    boolean relu = acts.length > 0 && acts[0].equals("Relu");
                    checkActivations(dirs, relu ? "Relu" : "Tanh");
                    cell = relu ? Cell.RNN_RELU : Cell.RNN_TANH;
                }
            }
            if (!layers.isEmpty() && layers.getFirst().cell() != cell) {
                throw refuse("its cell is " + cell.id() + ", layer 0's (node '" + layers.getFirst().node() + "') "
                        + layers.getFirst().cell().id() + "; Recur's layers share one cell");
            }
            if (!layers.isEmpty() && (layers.getFirst().dirs() != dirs || layers.getFirst().hidden() != hidden)) {
                throw refuse("its direction or hidden size differs from layer 0's; Recur's layers share both");
            }
            float[] wd = floats(w);
            float[] rd = floats(r);
            GateOrder order = GateOrder.of(cell);
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + index + (d == 1 ? "_reverse" : "");
                int g = cell.gates();
                weights.put("rnn.weight_ih" + sfx, order.toRecur(wd, d * gh * input, hidden, input, g));
                weights.put("rnn.weight_hh" + sfx, order.toRecur(rd, d * gh * hidden, hidden, hidden, g));
                weights.put("rnn.bias_ih" + sfx, b == null ? new float[g * hidden]
                        : order.toRecur(b, d * 2 * gh, 1, hidden, g));
                weights.put("rnn.bias_hh" + sfx, b == null ? new float[g * hidden]
                        : order.toRecur(b, (d * 2 + 1) * gh, 1, hidden, g));
                if (p != null) {
                    weights.put("rnn.weight_peephole" + sfx, GateOrder.PEEPHOLES.toRecur(p, d * 3 * hidden, 1, hidden, 3));
                }
            }
            layers.add(new Layer(n.getName(), cell, dirs, input, hidden, weights));
            if (n.getOutputCount() > 0 && !n.getOutput(0).isEmpty()) {
                values.put(n.getOutput(0), new LayerY(index, false));
            }
            if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
                values.put(n.getOutput(1), new FinalH(index, false));
            }
            if (n.getOutputCount() > 2 && !n.getOutput(2).isEmpty()) {
                values.put(n.getOutput(2), new Result());
            }
        }

        private void checkState(Val v, String what, int layer, int dirs) throws OnnxImportException {
            if (v == null || v instanceof Zeros || v instanceof Input i && i.elemType() == FLOAT && i.rank() == 3) {
                return;
            }
            if (v instanceof Const c && c.tensor().getDataType() == FLOAT && !anyNonZero(c.tensor())) {
                return;
            }
            if (v instanceof StateRows s) {
                long[] want = new long[dirs];
                for (int d = 0; d < dirs; d++) {
                    want[d] = (long) layer * dirs + d;
                }
                if (Arrays.equals(s.rows(), want)) {
                    return;
                }
                throw refuse(what + " reads rows " + Arrays.toString(s.rows()) + " of '" + s.input() + "', expected "
                        + Arrays.toString(want) + " for layer " + layer);
            }
            throw refuse(what + " is a " + describe(v) + "; Recur starts from zeros or from a graph input");
        }

        private void checkActivations(int dirs, String... expected) throws OnnxImportException {
            String[] acts = stringsAttr("activations");
            if (acts.length == 0) {
                if (expected[0].equals("Relu")) {
                    throw refuse("internal: Relu without activations");
                }
                return;
            }
            if (acts.length != expected.length * dirs) {
                throw refuse("activations " + Arrays.toString(acts) + ": expected " + expected.length * dirs);
            }
            for (int i = 0; i < acts.length; i++) {
                if (!acts[i].equalsIgnoreCase(expected[i % expected.length])) {
                    throw refuse("activations " + Arrays.toString(acts) + " are not Recur's "
                            + Arrays.toString(expected) + " per direction");
                }
            }
            if (attr("activation_alpha") != null || attr("activation_beta") != null) {
                throw refuse("activation_alpha and activation_beta are not supported");
            }
        }

        private TensorProto weight(int k, String what) throws OnnxImportException {
            Val v = in(k);
            if (!(v instanceof Const c) || c.tensor().getDataType() != FLOAT || c.tensor().getDimsCount() != 3) {
                throw refuse(what + " must be a float initializer of rank 3, got a " + describe(v));
            }
            return c.tensor();
        }

        private float[] optionalWeight(int k, String what, long size, long d0, long d1) throws OnnxImportException {
            Val v = in(k);
            if (v == null) {
                return null;
            }
            if (!(v instanceof Const c) || c.tensor().getDataType() != FLOAT) {
                throw refuse(what + " must be a float initializer, got a " + describe(v));
            }
            TensorProto t = c.tensor();
            if (t.getDimsCount() != 2 || t.getDims(0) != d0 || t.getDims(1) != d1 || elementCount(t) != size) {
                throw refuse(what + " is " + dims(t) + ", expected [" + d0 + ", " + d1 + "]");
            }
            return floats(t);
        }

        private Layer layerOf(int index) {
            return layers.get(index);
        }

        // ---- the checkpoint

        Checkpoint checkpoint(String kind, String configJson) throws OnnxImportException {
            Layer first = layers.getFirst();
            Cell cell = first.cell();
            int hidden = first.hidden();
            int dirs = first.dirs();
            boolean bi = dirs == 2;
            int in = first.input();
            String inferredKind;
            String inferred;
            try {
                if (stepHead) {
                    if (embedding == null) {
                        throw new OnnxImportException("a per-step head over numeric input (a sequence-to-sequence"
                                + " regressor) is not a model Recur has");
                    }
                    if (bi) {
                        throw new OnnxImportException("a bidirectional stack with a per-step head: Recur's char-lm is"
                                + " one-directional");
                    }
                    if (headOut != vocabulary) {
                        throw new OnnxImportException("the per-step head (node '" + headNode + "') has " + headOut
                                + " outputs over a vocabulary of " + vocabulary + "; Recur's char-lm predicts the"
                                + " next token of the same vocabulary");
                    }
                    inferred = new CharModelConfig(vocabulary, in, cell, hidden, layers.size(), 0f).toJson();
                    inferredKind = ModelKinds.CHAR_LM;
                } else if (embedding != null) {
                    if (headOut < 2) {
                        throw new OnnxImportException("a classifier head (node '" + headNode + "') of " + headOut
                                + " output; Recur's classifiers have at least 2 classes");
                    }
                    inferred = SequenceModelConfig.classifier(vocabulary, in, cell, hidden, layers.size(), bi, 0f,
                            headOut).toJson();
                    inferredKind = ModelKinds.CLASSIFIER;
                } else {
                    inferred = new SequenceModelConfig(0, in, cell, hidden, layers.size(), bi, 0f, 0, headOut).toJson();
                    inferredKind = ModelKinds.REGRESSOR;
                }
            } catch (IllegalArgumentException e) {
                throw new OnnxImportException(oneLine(e.getMessage()));
            }
            String config = inferred;
            if (kind != null && configJson != null) {
                if (!kind.equals(inferredKind)) {
                    throw new OnnxImportException("the file's metadata says recur.kind " + kind + ", its graph is a "
                            + inferredKind);
                }
                String stated;
                try {
                    stated = kind.equals(ModelKinds.CHAR_LM) ? CharModelConfig.fromJson(configJson).toJson()
                            : SequenceModelConfig.fromJson(configJson).toJson();
                } catch (IllegalArgumentException e) {
                    throw new OnnxImportException("the file's metadata recur.config: " + oneLine(e.getMessage()));
                }
                if (!withoutDropout(stated).equals(withoutDropout(inferred))) {
                    throw new OnnxImportException("the file's metadata recur.config " + stated
                            + " does not describe its graph, which is " + inferred);
                }
                config = configJson;
            }
            Checkpoint.Builder c = Checkpoint.builder().modelConfig(config);
            if (embedding != null) {
                c.tensor("embedding.weight", new int[] {vocabulary, in}, embedding);
            }
            for (Layer l : layers) {
                for (var e : l.weights().entrySet()) {
                    String name = e.getKey();
                    int[] shape;
                    int g = cell.gates() * hidden;
                    if (name.contains("weight_ih")) {
                        shape = new int[] {g, l.input()};
                    } else if (name.contains("weight_hh")) {
                        shape = new int[] {g, hidden};
                    } else {
                        shape = new int[] {e.getValue().length};
                    }
                    c.tensor(name, shape, e.getValue());
                }
            }
            c.tensor("head.weight", new int[] {headOut, headIn}, headWeight);
            c.tensor("head.bias", new int[] {headOut}, headBias);
            return c.build();
        }

        private static String withoutDropout(String json) {
            return json.replaceAll("\"dropout\":[^,}]*", "");
        }

        // ---- attributes

        private AttributeProto attr(String name) {
            for (AttributeProto a : current.getAttributeList()) {
                if (a.getName().equals(name)) {
                    return a;
                }
            }
            return null;
        }

        private long longAttr(String name, long otherwise) {
            AttributeProto a = attr(name);
            return a == null ? otherwise : a.getI();
        }

        private float floatAttr(String name, float otherwise) {
            AttributeProto a = attr(name);
            return a == null ? otherwise : a.getF();
        }

        private String stringAttr(String name, String otherwise) {
            AttributeProto a = attr(name);
            return a == null ? otherwise : a.getS().toStringUtf8();
        }

        private long[] longsAttr(String name) {
            AttributeProto a = attr(name);
            return a == null ? new long[0] : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }

        private String[] stringsAttr(String name) {
            AttributeProto a = attr(name);
            return a == null ? new String[0] : a.getStringsList().stream().map(s -> s.toStringUtf8())
                    .toArray(String[]::new);
        }

        private String describe(Val v) {
            return switch (v) {
                case null -> "missing input";
                case Const c -> "constant '" + c.name() + "' " + dims(c.tensor());
                case Input i -> "graph input '" + i.name() + "'";
                case ShapeArith s -> "shape computation";
                case Zeros z -> "tensor of zeros";
                case Ids i -> "token ids input";
                case StateRows s -> "slice of state input '" + s.input() + "'";
                case Seq s -> s.layer() < 0 ? "model input sequence" : "layer " + s.layer() + " output sequence";
                case LayerY y -> "layer " + y.layer() + " Y";
                case FinalH h -> "layer " + h.layer() + " Y_h";
                case StackedH h -> "Concat of the Y_h of layers 0 to " + h.layer();
                case HRows r -> "rows " + Arrays.toString(r.rows()) + " of the final hidden states";
                case Features f -> "final hidden states of layer " + f.layer();
                case StepHeadNoBias h -> "head MatMul";
                case Result r -> "model output";
            };
        }
    }

    // ---- tensors

    private static boolean isInt(int elemType) {
        return elemType == INT64 || elemType == INT32;
    }

    private static String dims(TensorProto t) {
        return t.getDimsList().toString();
    }

    private static long elementCount(TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return n;
    }

    /**
     * Refuses a tensor whose declared dimensions disagree with the data it holds, or whose data
     * lives outside the file.
     */
    private static void checkTensor(TensorProto t, String what) throws OnnxImportException {
        String name = what + " '" + t.getName() + "'";
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new OnnxImportException(name + " keeps its data in an external file; Recur reads self-contained"
                    + " ONNX files only");
        }
        long n = 1;
        for (long d : t.getDimsList()) {
            if (d < 0) {
                throw new OnnxImportException(name + " declares a negative dimension: " + dims(t));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new OnnxImportException(name + " declares dims " + dims(t) + ", more than 2^63 values");
            }
        }
        int type = t.getDataType();
        int width = switch (type) {
            case FLOAT, INT32 -> 4;
            case INT64 -> 8;
            default -> 0;
        };
        if (width == 0) {
            return; // other types are only refused when used (ConstantOfShape's bool, say)
        }
        long held;
        if (!t.getRawData().isEmpty()) {
            if (t.getRawData().size() % width != 0) {
                throw new OnnxImportException(name + " holds " + t.getRawData().size() + " raw bytes, not a whole"
                        + " number of " + width + "-byte values");
            }
            held = t.getRawData().size() / width;
        } else {
            held = switch (type) {
                case FLOAT -> t.getFloatDataCount();
                case INT32 -> t.getInt32DataCount();
                default -> t.getInt64DataCount();
            };
        }
        if (held != n) {
            throw new OnnxImportException(name + " declares dims " + dims(t) + " (" + n + " values) but holds "
                    + held + " values");
        }
    }

    private static float[] floats(TensorProto t) {
        int n = (int) elementCount(t);
        float[] out = new float[n];
        if (!t.getRawData().isEmpty()) {
            ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = t.getFloatData(i);
            }
        }
        return out;
    }

    private static long[] longs(TensorProto t) {
        int n = (int) elementCount(t);
        long[] out = new long[n];
        if (t.getDataType() == INT64) {
            if (!t.getRawData().isEmpty()) {
                ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt64Data(i);
                }
            }
        } else if (t.getDataType() == INT32) {
            if (!t.getRawData().isEmpty()) {
                var b = ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = b.get(i);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt32Data(i);
                }
            }
        } else {
            return null;
        }
        return out;
    }

    /** Whether a tensor holds a non-zero value (of any type: raw bytes, or the typed fields). */
    /** Whether a constant holds anything but zeros (-0.0 counts as zero). */
    static boolean anyNonZero(TensorProto t) {
        java.nio.ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (t.getDataType() == FLOAT) {
            // Whole floats: a non-zero float may hold a 0x80 byte (1.17e-38 is 00 00 80 00).
            while (raw.remaining() >= 4) {
                if (raw.getFloat() != 0f) {
                    return true;
                }
            }
        }
        while (raw.hasRemaining()) {
            if (raw.get() != 0) {
                return true;
            }
        }
        return t.getFloatDataList().stream().anyMatch(f -> f != 0f) || t.getInt32DataList().stream().anyMatch(i -> i != 0)
                || t.getInt64DataList().stream().anyMatch(i -> i != 0) || t.getDoubleDataCount() > 0
                && t.getDoubleDataList().stream().anyMatch(d -> d != 0);
    }

    private static float[] transposed(float[] a, int rows, int cols) {
        float[] out = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = a[r * cols + c];
            }
        }
        return out;
    }
}
