package dev.recur.interop.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.Json;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.nn.Model;
import dev.recur.interop.onnx.proto.OnnxProto.GraphProto;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.interop.onnx.proto.OnnxProto.NodeProto;
import dev.recur.interop.onnx.proto.OnnxProto.TensorProto;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Export then import, for every model kind, cell, 1 and 2 layers, one and two directions (where
 * the model has them), batch-first or not: the imported model has the same configuration, a state
 * dict equal tensor by tensor (the gate blocks move and change sign exactly, so equality, not a
 * tolerance), and the same outputs bit for bit on the CPU engine. Then a PyTorch-made file
 * (resources/onnx/make_fixtures.py) against PyTorch's own logits, and hostile files.
 */
class OnnxImportTest {

    static final int V = 11, E = 5, H = 7, T = 6, B = 3, CLASSES = 4, FEATURES = 3, OUTPUTS = 2;

    static Backend be;

    @BeforeAll
    static void setUp() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void tearDown() {
        be.close();
    }

    @ParameterizedTest(name = "char-lm {0} layers={1}")
    @MethodSource("dev.recur.interop.onnx.OnnxExportTest#cellsLayers")
    void charLanguageModelRoundTrip(Cell cell, int layers) throws Exception {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, cell, H, layers, 0.3f), 17)) {
            for (boolean batchFirst : new boolean[] {false, true}) {
                Checkpoint c = OnnxImport.read(OnnxExport.export(lm, batchFirst).toByteArray());
                assertEquals(lm.configJson(), c.modelConfig());
                try (Model m = OnnxImport.load(be, c)) {
                    CharLanguageModel back = (CharLanguageModel) m;
                    assertSameStateDict(lm, back);
                    lm.train(false);
                    back.train(false);
                    int[] ids = randomIds(T * B, 5);
                    try (IndexTensor in = be.indices(T, B)) {
                        in.copyFrom(ids);
                        float[] want = lm.logits(in).toArray();
                        lm.resetState();
                        assertArrayEquals(want, back.logits(in).toArray());
                    }
                    lm.resetState();
                }
            }
        }
    }

    @ParameterizedTest(name = "classifier {0} layers={1} bidirectional={2}")
    @MethodSource("dev.recur.interop.onnx.OnnxExportTest#cellsLayersDirections")
    void classifierRoundTrip(Cell cell, int layers, boolean bidirectional) throws Exception {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(V, E, cell, H, layers, bidirectional, 0.2f, CLASSES);
        try (SequenceModel sm = new SequenceModel(be, cfg, 29)) {
            Checkpoint c = OnnxImport.read(OnnxExport.export(sm, bidirectional).toByteArray());
            assertEquals(sm.configJson(), c.modelConfig());
            try (SequenceModel back = (SequenceModel) OnnxImport.load(be, c);
                 IndexTensor in = be.indices(T, B)) {
                assertSameStateDict(sm, back);
                sm.train(false);
                back.train(false);
                in.copyFrom(randomIds(T * B, 11));
                int[] lengths = {T, 2, 1};
                assertArrayEquals(sm.predict(in, lengths).toArray(), back.predict(in, lengths).toArray());
            }
        }
    }

    @ParameterizedTest(name = "regressor {0} layers={1} bidirectional={2}")
    @MethodSource("dev.recur.interop.onnx.OnnxExportTest#cellsLayersDirections")
    void regressorRoundTrip(Cell cell, int layers, boolean bidirectional) throws Exception {
        SequenceModelConfig cfg = new SequenceModelConfig(0, FEATURES, cell, H, layers, bidirectional, 0f, 0, OUTPUTS);
        try (SequenceModel sm = new SequenceModel(be, cfg, 31)) {
            Checkpoint c = OnnxImport.read(OnnxExport.export(sm, !bidirectional).toByteArray());
            assertEquals(sm.configJson(), c.modelConfig());
            try (SequenceModel back = (SequenceModel) OnnxImport.load(be, c);
                 Tensor in = be.tensor(T, B, FEATURES)) {
                assertSameStateDict(sm, back);
                in.copyFrom(randomFloats(T * B * FEATURES, 13));
                int[] lengths = {3, T, 1};
                assertArrayEquals(sm.predict(in, lengths).toArray(), back.predict(in, lengths).toArray());
            }
        }
    }

    /** Without Recur's metadata the configuration is inferred from the graph (dropout 0). */
    @Test
    void configurationIsInferredWithoutMetadata() throws Exception {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(V, E, Cell.GRU_ORIGINAL, H, 2, true, 0.2f, CLASSES);
        try (SequenceModel sm = new SequenceModel(be, cfg, 3)) {
            ModelProto p = OnnxExport.export(sm, false).toBuilder().clearMetadataProps().build();
            Checkpoint c = OnnxImport.read(p.toByteArray());
            SequenceModelConfig inferred = SequenceModelConfig.fromJson(c.modelConfig());
            assertEquals(SequenceModelConfig.classifier(V, E, Cell.GRU_ORIGINAL, H, 2, true, 0f, CLASSES), inferred);
            try (Model back = OnnxImport.load(be, c)) {
                assertSameStateDict(sm, back);
            }
        }
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, Cell.LSTM_COUPLED, H, 2, 0f), 4)) {
            ModelProto p = OnnxExport.export(lm, false).toBuilder().clearMetadataProps().build();
            Checkpoint c = OnnxImport.read(p.toByteArray());
            assertEquals(lm.configJson(), c.modelConfig());
        }
    }

    /** Metadata that contradicts the graph is refused, naming both. */
    @Test
    void metadataThatContradictsTheGraphIsRefused() throws Exception {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, Cell.GRU, H, 1, 0f), 4)) {
            ModelProto p = OnnxExport.export(lm, false);
            ModelProto.Builder b = p.toBuilder();
            b.getMetadataPropsBuilder(1).setValue(lm.configJson().replace("\"gru\"", "\"gru_original\""));
            OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(b.build()));
            assertOneLine(e, "does not describe its graph", "gru_original");
        }
    }

    // ---- a file made by PyTorch

    /**
     * {@code torch.onnx.export} of {@code nn.Embedding(11, 5) → nn.LSTM or nn.GRU (5, 7,
     * num_layers=2) → nn.Linear(7, 11)} (make_fixtures.py): zero initial states built from Shape,
     * Gather, Unsqueeze, Concat, ConstantOfShape and Slice, Squeeze between the layers, Add(bias, x)
     * after the head's MatMul, and for the GRU {@code batch_first=True} through Transpose. Imported
     * as a char-lm; its logits match PyTorch's to 1e-5 (float32 on both sides, different summation
     * orders; the measured worst is printed).
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({"torch_lstm2, lstm", "torch_gru2_bf, gru"})
    void pyTorchExportImportsAndReproducesPyTorchsLogits(String name, String cellId) throws Exception {
        byte[] onnx;
        JsonNode expected;
        try (InputStream f = OnnxImportTest.class.getResourceAsStream("/onnx/" + name + ".onnx");
             InputStream j = OnnxImportTest.class.getResourceAsStream("/onnx/" + name + ".json")) {
            onnx = f.readAllBytes();
            expected = Json.MAPPER.readTree(j);
        }
        Checkpoint c = OnnxImport.read(onnx);
        assertEquals(new CharModelConfig(11, 5, Cell.byId(cellId), 7, 2, 0f), CharModelConfig.fromJson(c.modelConfig()));
        int t = expected.get("T").asInt();
        int b = expected.get("B").asInt();
        int v = expected.get("V").asInt();
        boolean batchFirst = expected.get("batch_first").asBoolean();
        int[] ids = new int[t * b];    // [T, B]
        float[] want = new float[t * b * v]; // [T, B, V]
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < b; i++) {
                int at = batchFirst ? i * t + s : s * b + i; // in the graph's layout
                ids[s * b + i] = expected.get("ids").get(at).asInt();
                for (int k = 0; k < v; k++) {
                    want[(s * b + i) * v + k] = (float) expected.get("logits").get(at * v + k).asDouble();
                }
            }
        }
        try (CharLanguageModel lm = (CharLanguageModel) OnnxImport.load(be, c); IndexTensor in = be.indices(t, b)) {
            lm.train(false);
            in.copyFrom(ids);
            float[] got = lm.logits(in).toArray(); // [T*B, V]
            assertMatchesPyTorch(name, expected, want, got);
        }
    }

    /**
     * {@code torch.onnx.export} of PyTorch's usual classifier (make_fixtures.py):
     * {@code nn.Embedding(11, 5) → nn.LSTM / nn.GRU (5, 7) → nn.Linear(7, 3)} on {@code h_n[-1]},
     * written as Concat (axis 0) of the layers' Y_h, Gather(-1) and Gemm; the bidirectional one on
     * {@code torch.cat((h_n[-2], h_n[-1]), dim=1)}, Gathers -2 and -1 joined by Concat on axis 1.
     * Imported as a sequence-classifier; its logits on full-length sequences match PyTorch's to
     * 1e-5 (the measured worst is printed).
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({"torch_lstm2_cls, lstm", "torch_gru1_cls_bf, gru",
            "torch_bilstm2_cls, lstm"})
    void pyTorchClassifierOnFinalHiddenStateImportsAndReproducesPyTorchsLogits(String name, String cellId)
            throws Exception {
        byte[] onnx;
        JsonNode expected;
        try (InputStream f = OnnxImportTest.class.getResourceAsStream("/onnx/" + name + ".onnx");
             InputStream j = OnnxImportTest.class.getResourceAsStream("/onnx/" + name + ".json")) {
            onnx = f.readAllBytes();
            expected = Json.MAPPER.readTree(j);
        }
        int t = expected.get("T").asInt();
        int b = expected.get("B").asInt();
        int classes = expected.get("C").asInt();
        int layers = expected.get("layers").asInt();
        boolean bidirectional = expected.get("bidirectional").asBoolean();
        boolean batchFirst = expected.get("batch_first").asBoolean();
        Checkpoint c = OnnxImport.read(onnx);
        assertEquals(SequenceModelConfig.classifier(11, 5, Cell.byId(cellId), 7, layers, bidirectional, 0f, classes),
                SequenceModelConfig.fromJson(c.modelConfig()));
        int[] ids = new int[t * b]; // [T, B]
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < b; i++) {
                ids[s * b + i] = expected.get("ids").get(batchFirst ? i * t + s : s * b + i).asInt();
            }
        }
        float[] want = new float[b * classes]; // [B, C]
        for (int k = 0; k < want.length; k++) {
            want[k] = (float) expected.get("logits").get(k).asDouble();
        }
        try (SequenceModel sm = (SequenceModel) OnnxImport.load(be, c); IndexTensor in = be.indices(t, b)) {
            sm.train(false);
            in.copyFrom(ids);
            int[] lengths = new int[b];
            Arrays.fill(lengths, t);
            float[] got = sm.predict(in, lengths).toArray();
            assertMatchesPyTorch(name, expected, want, got);
        }
    }

    /** PyTorch's logits {@code want} and Recur's {@code got} agree to 1e-5; prints the worst difference. */
    private static void assertMatchesPyTorch(String name, JsonNode expected, float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs((double) got[i] - want[i]));
        }
        System.out.println("onnx import: " + name + ".onnx (torch " + expected.get("torch").asText()
                + "), max |recur - pytorch| = " + worst);
        assertTrue(worst <= 1e-5, "max |recur - pytorch| = " + worst);
    }

    /** {@code Slice(-1, MAX) + Squeeze(0)} of h_n in place of {@code Gather(-1)} imports to the same model. */
    @Test
    void sliceAndSqueezeOfTheFinalStatesIsTheSameHead() throws Exception {
        byte[] file;
        try (InputStream f = OnnxImportTest.class.getResourceAsStream("/onnx/torch_lstm2_cls.onnx")) {
            file = f.readAllBytes();
        }
        ModelProto.Builder p = ModelProto.parseFrom(file).toBuilder();
        GraphProto.Builder g = p.getGraphBuilder();
        int gemm = indexOf(g, "Gemm");
        String gathered = g.getNode(gemm).getInput(0);
        int gather = -1;
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOutput(0).equals(gathered)) {
                gather = i;
            }
        }
        String stacked = g.getNode(gather).getInput(0);
        long[][] consts = {{-1}, {Long.MAX_VALUE}, {0}};
        String[] names = {"slice_starts", "slice_ends", "slice_axes"};
        for (int k = 0; k < 3; k++) {
            g.addInitializer(TensorProto.newBuilder().setName(names[k]).setDataType(TensorProto.DataType.INT64_VALUE)
                    .addDims(1).addInt64Data(consts[k][0]));
        }
        g.setNode(gather, NodeProto.newBuilder().setOpType("Slice").setName("slice").addInput(stacked)
                .addInput(names[0]).addInput(names[1]).addInput(names[2]).addOutput("sliced"));
        g.addNode(gather + 1, NodeProto.newBuilder().setOpType("Squeeze").setName("squeeze").addInput("sliced")
                .addInput(names[2]).addOutput(gathered));
        Checkpoint want = OnnxImport.read(file);
        Checkpoint got = OnnxImport.read(p.build());
        assertEquals(want.modelConfig(), got.modelConfig());
        try (Model a = OnnxImport.load(be, want); Model b = OnnxImport.load(be, got)) {
            assertSameStateDict(a, b);
        }
    }

    /** A head on another row of h_n than the last layer's (h_n[0] of two layers) is refused, naming the rows. */
    @Test
    void headOnAnEarlierLayersFinalStateIsRefused() throws Exception {
        ModelProto.Builder p;
        try (InputStream f = OnnxImportTest.class.getResourceAsStream("/onnx/torch_lstm2_cls.onnx")) {
            p = ModelProto.parseFrom(f.readAllBytes()).toBuilder();
        }
        GraphProto.Builder g = p.getGraphBuilder();
        int gemm = indexOf(g, "Gemm");
        String gathered = g.getNode(gemm).getInput(0);
        for (NodeProto.Builder n : g.getNodeBuilderList()) {
            if (n.getOutput(0).equals(gathered)) {
                n.setInput(1, "row_zero");
            }
        }
        g.addInitializer(TensorProto.newBuilder().setName("row_zero").setDataType(TensorProto.DataType.INT64_VALUE)
                .addInt64Data(0));
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(p.build()));
        assertOneLine(e, "rows [0]", "reads rows [1]");
    }

    // ---- hostile files

    @Test
    void truncatedProtobufIsRefused() throws Exception {
        byte[] file = lmFile();
        byte[] cut = Arrays.copyOf(file, file.length / 2);
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(cut));
        assertOneLine(e, "truncated or corrupt");
    }

    @Test
    void unsupportedOperatorIsRefusedNamingTheNode() throws Exception {
        ModelProto.Builder p = ModelProto.parseFrom(lmFile()).toBuilder();
        GraphProto.Builder g = p.getGraphBuilder();
        int gather = indexOf(g, "Gather");
        g.getNodeBuilder(gather).setOpType("Conv").setName("conv_7");
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(p.build()));
        assertOneLine(e, "cannot import node 'conv_7' (Conv): operator not supported");

        ModelProto.Builder q = ModelProto.parseFrom(lmFile()).toBuilder();
        NodeProto.Builder att = q.getGraphBuilder().addNodeBuilder().setOpType("Attention").setName("attn")
                .addInput("logits").addOutput("attended");
        assertEquals("Attention", att.getOpType());
        e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(q.build()));
        assertOneLine(e, "cannot import node 'attn' (Attention)");
    }

    @Test
    void initializerWhoseDimsDisagreeWithItsDataIsRefused() throws Exception {
        ModelProto.Builder p = ModelProto.parseFrom(lmFile()).toBuilder();
        GraphProto.Builder g = p.getGraphBuilder();
        for (TensorProto.Builder t : g.getInitializerBuilderList()) {
            if (t.getName().equals("head.bias")) {
                t.setDims(0, V + 2);
            }
        }
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(p.build()));
        assertOneLine(e, "initializer 'head.bias' declares dims [" + (V + 2) + "] (" + (V + 2) + " values) but holds "
                + V + " values");
    }

    @Test
    void graphWithACycleIsRefused() throws Exception {
        ModelProto.Builder p = ModelProto.parseFrom(lmFile()).toBuilder();
        GraphProto.Builder g = p.getGraphBuilder();
        NodeProto.Builder gather = g.getNodeBuilder(indexOf(g, "Gather"));
        gather.setInput(1, "logits"); // the embedding now reads the model's own output
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(p.build()));
        assertOneLine(e, "the graph has a cycle");
    }

    @Test
    void graphWithoutRecurrentLayersIsRefused() {
        ModelProto p = ModelProto.newBuilder().setGraph(GraphProto.newBuilder().addNode(
                NodeProto.newBuilder().setOpType("Identity").setName("id").addInput("x").addOutput("y"))
                .addInput(new GraphWriter("g").value("x", TensorProto.DataType.FLOAT_VALUE, 2))).build();
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImport.read(p));
        assertOneLine(e, "no LSTM, GRU or RNN node");
    }

    private static byte[] lmFile() throws OnnxExportException {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, Cell.LSTM, H, 2, 0f), 9)) {
            return OnnxExport.export(lm, false).toByteArray();
        }
    }

    private static int indexOf(GraphProto.Builder g, String op) {
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals(op)) {
                return i;
            }
        }
        throw new AssertionError("no " + op + " node");
    }

    // ---- checks and inputs

    static void assertSameStateDict(Model want, Model got) {
        Map<String, Tensor> a = want.stateDict();
        Map<String, Tensor> b = got.stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).shape().toArray(), b.get(k).shape().toArray(), k);
            assertArrayEquals(a.get(k).toArray(), b.get(k).toArray(), k);
        }
    }

    static void assertOneLine(Exception e, String... fragments) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "'" + f + "' not in: " + m);
        }
    }

    private static int[] randomIds(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(V);
        }
        return ids;
    }

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return x;
    }

    @Test
    void aConstantIsZeroOnlyWhenEveryFloatIsZero() {
        java.util.function.Function<float[], TensorProto> raw = v -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                b.putFloat(f);
            }
            return TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE)
                    .setRawData(com.google.protobuf.ByteString.copyFrom(b.array())).build();
        };
        assertFalse(OnnxImport.anyNonZero(raw.apply(new float[] {0f, -0f, 0f})));
        // 1.17549435e-38 is stored as 00 00 80 00: its 0x80 byte is not a sign bit.
        assertTrue(OnnxImport.anyNonZero(raw.apply(new float[] {0f, Float.MIN_NORMAL})));
        assertTrue(OnnxImport.anyNonZero(raw.apply(new float[] {-2f})));
    }
}
