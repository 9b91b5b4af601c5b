package dev.recur.interop.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.interop.onnx.proto.OnnxProto.NodeProto;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every exportable model kind, every cell, 1 and 2 layers, one and two directions (where the
 * model has them), with and without lengths: Recur's forward on the CPU engine and ONNX Runtime
 * on the exported file, on the same random input, agree to {@value #TOLERANCE}.
 *
 * <p>Tolerance: both sides compute in float32 with different summation orders (Recur's GEMMs,
 * ONNX Runtime's MLAS) and ONNX Runtime's own sigmoid and tanh approximations; with H = 7 and
 * T = 6 the measured worst difference is printed at the end and stays well under 1e-5.
 */
class OnnxExportTest {

    static final double TOLERANCE = 1e-5;
    static final int V = 11, E = 5, H = 7, T = 6, B = 3, CLASSES = 4, FEATURES = 3, OUTPUTS = 2;

    static Backend be;
    static OrtEnvironment env;
    static final Map<String, Double> worst = new TreeMap<>();

    @BeforeAll
    static void setUp() {
        be = Backends.named("cpu");
        env = OrtEnvironment.getEnvironment();
    }

    @AfterAll
    static void report() {
        double max = worst.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        System.out.println("onnx export: " + worst.size() + " comparisons, max |recur - onnxruntime| = " + max);
        worst.forEach((k, v) -> System.out.printf("  %-58s %.3g%n", k, v));
    }

    static Stream<Arguments> cellsLayers() {
        List<Arguments> out = new ArrayList<>();
        for (Cell c : Cell.values()) {
            for (int layers = 1; layers <= 2; layers++) {
                out.add(Arguments.of(c, layers));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> cellsLayersDirections() {
        List<Arguments> out = new ArrayList<>();
        for (Cell c : Cell.values()) {
            for (int layers = 1; layers <= 2; layers++) {
                out.add(Arguments.of(c, layers, false));
                out.add(Arguments.of(c, layers, true));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "char-lm {0} layers={1}")
    @MethodSource("cellsLayers")
    void charLanguageModelMatchesOnnxRuntime(Cell cell, int layers) throws Exception {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, cell, H, layers, 0.3f), 17)) {
            lm.train(false);
            int[] ids = randomIds(2 * T * B, 5);
            // Recur: logits of two windows back to back (2T steps) from zero states.
            float[] recur;
            try (IndexTensor in = be.indices(2 * T, B)) {
                in.copyFrom(ids);
                recur = lm.logits(in).toArray(); // [2T*B, V]
            }
            byte[] file = OnnxExport.export(lm, false).toByteArray();
            try (OrtSession s = env.createSession(file, new OrtSession.SessionOptions())) {
                // ONNX Runtime: the first window from zeros, the second from the first's h_n, c_n.
                float[] zeros = new float[layers * B * H];
                Map<String, float[]> w1 = runLm(s, cell, slice(ids, 0, T * B), zeros, zeros, false);
                Map<String, float[]> w2 = runLm(s, cell, slice(ids, T * B, T * B), w1.get("h_n"), w1.get("c_n"), false);
                float[] both = concat(w1.get("logits"), w2.get("logits"));
                record("char-lm " + cell.id() + " layers=" + layers + " two windows", recur, both);
            }
        }
    }

    @Test
    void charLanguageModelBatchFirst() throws Exception {
        Cell cell = Cell.LSTM;
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, cell, H, 2, 0f), 3)) {
            int[] ids = randomIds(T * B, 8);
            float[] recur;
            try (IndexTensor in = be.indices(T, B)) {
                in.copyFrom(ids);
                recur = lm.logits(in).toArray(); // [T*B, V]
            }
            try (OrtSession s = env.createSession(OnnxExport.export(lm, true).toByteArray(),
                    new OrtSession.SessionOptions())) {
                float[] zeros = new float[2 * B * H];
                float[] bf = runLm(s, cell, transpose(ids, T, B, 1), zeros, zeros, true).get("logits"); // [B, T, V]
                record("char-lm lstm layers=2 batch-first", recur, transposeFloats(bf, B, T, V));
            }
        }
    }

    @ParameterizedTest(name = "classifier {0} layers={1} bidirectional={2}")
    @MethodSource("cellsLayersDirections")
    void classifierMatchesOnnxRuntime(Cell cell, int layers, boolean bidirectional) throws Exception {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(V, E, cell, H, layers, bidirectional, 0.2f, CLASSES);
        try (SequenceModel m = new SequenceModel(be, cfg, 29)) {
            m.train(false);
            int[] ids = randomIds(T * B, 11);
            int[] lengths = {T, 2, 1};
            int[] full = {T, T, T};
            byte[] file = OnnxExport.export(m, false).toByteArray();
            try (OrtSession s = env.createSession(file, new OrtSession.SessionOptions());
                 IndexTensor in = be.indices(T, B)) {
                in.copyFrom(ids);
                String name = "classifier " + cell.id() + " layers=" + layers + (bidirectional ? " bi" : " uni");
                record(name + " no lengths", m.predict(in, null).toArray(), runSeq(s, ids, null, full, false));
                record(name + " lengths", m.predict(in, lengths).toArray(), runSeq(s, ids, null, lengths, false));
            }
        }
    }

    @ParameterizedTest(name = "regressor {0} layers={1} bidirectional={2}")
    @MethodSource("cellsLayersDirections")
    void regressorMatchesOnnxRuntime(Cell cell, int layers, boolean bidirectional) throws Exception {
        SequenceModelConfig cfg = new SequenceModelConfig(0, FEATURES, cell, H, layers, bidirectional, 0f, 0, OUTPUTS);
        try (SequenceModel m = new SequenceModel(be, cfg, 31)) {
            float[] x = randomFloats(T * B * FEATURES, 13);
            int[] lengths = {3, T, 1};
            byte[] file = OnnxExport.export(m, false).toByteArray();
            try (OrtSession s = env.createSession(file, new OrtSession.SessionOptions());
                 Tensor in = be.tensor(T, B, FEATURES)) {
                in.copyFrom(x);
                String name = "regressor " + cell.id() + " layers=" + layers + (bidirectional ? " bi" : " uni");
                record(name + " lengths", m.predict(in, lengths).toArray(), runSeq(s, null, x, lengths, false));
            }
        }
    }

    @Test
    void classifierBatchFirst() throws Exception {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(V, E, Cell.GRU, H, 2, true, 0f, CLASSES);
        try (SequenceModel m = new SequenceModel(be, cfg, 5);
             OrtSession s = env.createSession(OnnxExport.export(m, true).toByteArray(), new OrtSession.SessionOptions());
             IndexTensor in = be.indices(T, B)) {
            int[] ids = randomIds(T * B, 2);
            int[] lengths = {4, T, 2};
            in.copyFrom(ids);
            record("classifier gru layers=2 bi batch-first lengths", m.predict(in, lengths).toArray(),
                    runSeq(s, transpose(ids, T, B, 1), null, lengths, true));
        }
    }

    @Test
    void fileRecordsProducerOpsetAndMapsCellsToOnnxOperators() throws Exception {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(V, E, Cell.LSTM_COUPLED, H, 2, 0f), 1)) {
            ModelProto p = ModelProto.parseFrom(OnnxExport.export(lm, false).toByteArray());
            assertEquals("recur", p.getProducerName());
            assertEquals(OnnxExport.producerVersion(), p.getProducerVersion());
            assertEquals(17, p.getOpsetImport(0).getVersion());
            assertEquals("", p.getOpsetImport(0).getDomain());
            assertEquals(8, p.getIrVersion());
            assertEquals("char-lm", p.getMetadataPropsList().stream()
                    .filter(e -> e.getKey().equals("recur.kind")).findFirst().orElseThrow().getValue());
            List<NodeProto> lstm = p.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("LSTM")).toList();
            assertEquals(2, lstm.size());
            assertTrue(lstm.get(0).getAttributeList().stream()
                    .anyMatch(a -> a.getName().equals("input_forget") && a.getI() == 1));
        }
    }

    @Test
    void seq2seqAsOneGraphIsRefusedNamingTheTwoGraphCalls() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 8, 9, 4, 5, 1, 0f);
        try (Seq2SeqModel m = new Seq2SeqModel(be, cfg, 1)) {
            OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxExport.export(m, false));
            assertTrue(e.getMessage().startsWith("a seq2seq model is two ONNX graphs"), e.getMessage());
            assertTrue(e.getMessage().contains("OnnxExport.exportSeq2seq"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"));
        }
    }

    /**
     * Layer normalisation, zoneout and projections change what inference computes and ONNX's
     * recurrent ops have none of them: refused in one line naming the option. Recurrent dropout
     * is the identity at inference, so a model with it alone exports.
     */
    @Test
    void cellOptionsThatChangeInferenceAreRefusedNamingTheOption() throws Exception {
        String[][] cases = {{"true", "0", "0", "layer normalisation (--layer-norm)"},
            {"false", "0.1", "0", "zoneout (--zoneout)"}, {"false", "0", "3", "a projection (--proj-size 3)"}};
        for (String[] c : cases) {
            dev.recur.api.CellOptions o = new dev.recur.api.CellOptions(Boolean.parseBoolean(c[0]), 0f,
                    Float.parseFloat(c[1]), 0f, Integer.parseInt(c[2]));
            try (CharLanguageModel m = new CharLanguageModel(be, new CharModelConfig(6, 4, Cell.LSTM, 5, 1, 0f, o), 1);
                 SequenceModel s = new SequenceModel(be, SequenceModelConfig.classifier(9, 4, Cell.GRU, 5, 1, false,
                         0f, 2).withOptions(o), 1)) {
                for (dev.recur.models.nn.Model model : List.<dev.recur.models.nn.Model>of(m, s)) {
                    OnnxExportException e = assertThrows(OnnxExportException.class,
                            () -> OnnxExport.export(model, false));
                    assertEquals("the model's cells use " + c[3] + ", which ONNX's LSTM/GRU/RNN ops cannot express;"
                            + " only models without layer norm, zoneout and projections export", e.getMessage());
                }
            }
        }
        try (Seq2SeqModel s = new Seq2SeqModel(be, new Seq2SeqConfig(Cell.GRU, 8, 9, 4, 5, 1, 0f, false,
                dev.recur.models.seq2seq.Attention.Kind.NONE, false,
                new dev.recur.api.CellOptions(true, 0f, 0f, 0f, 0)), 1)) {
            OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxExport.exportSeq2seq(s, false));
            assertTrue(e.getMessage().startsWith("the model's cells use layer normalisation (--layer-norm)"),
                    e.getMessage());
        }
        // Exported as its plain cell, which is what its inference (no dropout) computes: the
        // engine's option path's logits equal ONNX Runtime's.
        try (CharLanguageModel m = new CharLanguageModel(be, new CharModelConfig(V, E, Cell.LSTM, H, 2, 0f,
                new dev.recur.api.CellOptions(false, 0.3f, 0f, 0f, 0)), 1);
             IndexTensor in = be.indices(T, B)) {
            ModelProto proto = OnnxExport.export(m, false);
            assertEquals(2, proto.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("LSTM")).count());
            int[] ids = randomIds(T * B, 8);
            in.copyFrom(ids);
            float[] recur = m.logits(in).toArray();
            try (OrtSession s = env.createSession(proto.toByteArray(), new OrtSession.SessionOptions())) {
                float[] zeros = new float[2 * B * H];
                record("char-lm lstm recurrent dropout 0.3", recur, runLm(s, Cell.LSTM, ids, zeros, zeros, false)
                        .get("logits"));
            }
        }
    }

    // ---- ONNX Runtime calls

    private static Map<String, float[]> runLm(OrtSession s, Cell cell, int[] ids, float[] h0, float[] c0,
                                              boolean batchFirst) throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("ids", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(ids)),
                    batchFirst ? new long[] {B, ids.length / B} : new long[] {ids.length / B, B}));
            long layers = h0.length / (B * H);
            in.put("h0", OnnxTensor.createTensor(env, FloatBuffer.wrap(h0), new long[] {layers, B, H}));
            if (cell.hasCellState()) {
                in.put("c0", OnnxTensor.createTensor(env, FloatBuffer.wrap(c0), new long[] {layers, B, H}));
            }
            try (OrtSession.Result r = s.run(in)) {
                Map<String, float[]> out = new HashMap<>();
                for (var e : r) {
                    out.put(e.getKey(), floats((OnnxTensor) e.getValue()));
                }
                return out;
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    private static float[] runSeq(OrtSession s, int[] ids, float[] x, int[] lengths, boolean batchFirst)
            throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            long[] shape = batchFirst ? new long[] {B, T} : new long[] {T, B};
            if (ids != null) {
                in.put("ids", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(ids)), shape));
            } else {
                in.put("x", OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {shape[0], shape[1], FEATURES}));
            }
            in.put("lengths", OnnxTensor.createTensor(env, IntBuffer.wrap(lengths), new long[] {B}));
            try (OrtSession.Result r = s.run(in)) {
                return floats((OnnxTensor) r.get(0));
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    static float[] floats(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    // ---- comparison and inputs

    static void record(String name, float[] recur, float[] onnx) {
        assertEquals(recur.length, onnx.length, name + ": output sizes");
        double max = 0;
        for (int i = 0; i < recur.length; i++) {
            assertTrue(Float.isFinite(recur[i]) && Float.isFinite(onnx[i]), name + ": non-finite output at " + i);
            max = Math.max(max, Math.abs((double) recur[i] - onnx[i]));
        }
        synchronized (worst) {
            worst.put(name, max);
        }
        assertTrue(max <= TOLERANCE, name + ": max |recur - onnxruntime| = " + max + " > " + TOLERANCE);
    }

    static int[] randomIds(int n, long seed) {
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

    static long[] longs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static int[] slice(int[] a, int from, int n) {
        int[] out = new int[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code [rows, cols, inner]} to {@code [cols, rows, inner]}. */
    private static int[] transpose(int[] a, int rows, int cols, int inner) {
        int[] out = new int[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                System.arraycopy(a, (r * cols + c) * inner, out, (c * rows + r) * inner, inner);
            }
        }
        return out;
    }

    private static float[] transposeFloats(float[] a, int rows, int cols, int inner) {
        float[] out = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                System.arraycopy(a, (r * cols + c) * inner, out, (c * rows + r) * inner, inner);
            }
        }
        return out;
    }
}
