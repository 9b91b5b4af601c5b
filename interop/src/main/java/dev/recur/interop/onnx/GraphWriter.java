package dev.recur.interop.onnx;

import com.google.protobuf.ByteString;
import dev.recur.interop.onnx.proto.OnnxProto.AttributeProto;
import dev.recur.interop.onnx.proto.OnnxProto.GraphProto;
import dev.recur.interop.onnx.proto.OnnxProto.NodeProto;
import dev.recur.interop.onnx.proto.OnnxProto.TensorProto;
import dev.recur.interop.onnx.proto.OnnxProto.TensorShapeProto;
import dev.recur.interop.onnx.proto.OnnxProto.TypeProto;
import dev.recur.interop.onnx.proto.OnnxProto.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds one ONNX graph: initializers (weights, constants), nodes, inputs and outputs, each value
 * named once. Node outputs get fresh names from {@link #fresh}; an initializer or node output
 * whose name is taken is an error, since ONNX requires single assignment.
 */
final class GraphWriter {

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();
    private int counter;

    GraphWriter(String name) {
        graph.setName(name);
    }

    GraphProto build() {
        return graph.build();
    }

    /** A new value name starting with {@code stem}. */
    String fresh(String stem) {
        String name;
        do {
            name = stem + "_" + counter++;
        } while (names.contains(name));
        names.add(name);
        return name;
    }

    private void claim(String name) {
        if (!names.add(name)) {
            throw new IllegalStateException("onnx graph: value '" + name + "' is assigned twice");
        }
    }

    /** A float32 initializer of the given shape, stored little-endian in raw_data. */
    String floats(String name, float[] data, long... shape) {
        claim(name);
        ByteBuffer buf = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(boxed(shape)).setRawData(ByteString.copyFrom(buf.array())));
        return name;
    }

    /** A 1-D int64 initializer (shapes, axes, indices). */
    String longs(String stem, long... data) {
        String name = fresh(stem);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.INT64_VALUE).addDims(data.length);
        for (long v : data) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    /**
     * Adds a node; {@code inputs} may hold "" for an optional input left out. Returns the node
     * builder so attributes can be added (it is part of the graph already).
     */
    NodeProto.Builder node(String op, List<String> inputs, List<String> outputs) {
        for (String o : outputs) {
            if (!o.isEmpty() && !names.contains(o)) {
                claim(o);
            }
        }
        NodeProto.Builder n = graph.addNodeBuilder().setOpType(op).setName(op + "_" + graph.getNodeCount());
        n.addAllInput(inputs).addAllOutput(outputs);
        return n;
    }

    /** A node with one output, named fresh from {@code stem}; returns that name. */
    String node1(String op, String stem, String... inputs) {
        String out = fresh(stem);
        node(op, List.of(inputs), List.of(out));
        return out;
    }

    /** A node with one output and an int-list attribute (Transpose's perm). */
    String transpose(String input, String stem, long... perm) {
        String out = fresh(stem);
        node("Transpose", List.of(input), List.of(out)).addAttribute(ints("perm", perm));
        return out;
    }

    /** A graph input or output of element type {@code dataType} and dimensions (String for a symbolic one). */
    ValueInfoProto value(String name, int dataType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String s) {
                shape.addDimBuilder().setDimParam(s);
            } else {
                shape.addDimBuilder().setDimValue(((Number) d).longValue());
            }
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(dataType).setShape(shape))).build();
    }

    void input(String name, int dataType, Object... dims) {
        claim(name);
        graph.addInput(value(name, dataType, dims));
    }

    void output(String name, int dataType, Object... dims) {
        graph.addOutput(value(name, dataType, dims));
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto string(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto strings(String name, String... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.STRINGS);
        for (String v : values) {
            a.addStrings(ByteString.copyFromUtf8(v));
        }
        return a.build();
    }

    private static List<Long> boxed(long[] shape) {
        return java.util.Arrays.stream(shape).boxed().toList();
    }
}
