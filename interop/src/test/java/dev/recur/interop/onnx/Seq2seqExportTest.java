package dev.recur.interop.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.models.seq2seq.Attention;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seq2seq model's two ONNX graphs against {@link Seq2SeqModel} on the CPU engine, for every
 * cell, 1 and 2 layers, a one- and a two-directional encoder: the encoder graph's initial
 * decoder states equal {@link Seq2SeqModel#decoderStart} within {@link OnnxExportTest#TOLERANCE},
 * and a greedy decode run step by step with ONNX Runtime on the decoder graph gives
 * {@link Seq2SeqModel#translate}'s words exactly and each step's logits within the tolerance.
 * The worst differences go into {@link OnnxExportTest}'s table, printed with this class's.
 */
class Seq2seqExportTest {

    static final int SOURCE_V = OnnxExportTest.V, TARGET_V = 9, E = 5, H = 7, TS = 6, B = 3, BOS = 1, MAX = 7;

    static Backend be;
    static OrtEnvironment env;

    @BeforeAll
    static void setUp() {
        OnnxExportTest.setUp();
        be = OnnxExportTest.be;
        env = OnnxExportTest.env;
    }

    @AfterAll
    static void report() {
        OnnxExportTest.report();
    }

    static Stream<Arguments> cellsLayersDirections() {
        return OnnxExportTest.cellsLayersDirections();
    }

    @ParameterizedTest(name = "seq2seq {0} layers={1} bidirectional={2}")
    @MethodSource("cellsLayersDirections")
    void encoderStatesAndGreedyDecodeMatchOnnxRuntime(Cell cell, int layers, boolean bidirectional) throws Exception {
        Seq2SeqConfig cfg = new Seq2SeqConfig(cell, SOURCE_V, TARGET_V, E, H, layers, 0.2f, bidirectional);
        String name = "seq2seq " + cell.id() + " layers=" + layers + (bidirectional ? " bi" : " uni");
        try (Seq2SeqModel m = new Seq2SeqModel(be, cfg, 41)) {
            m.train(false);
            int[] ids = OnnxExportTest.randomIds(TS * B, 19);
            int[] lengths = {TS, 2, 4};
            OnnxExport.Seq2seqGraphs graphs = OnnxExport.exportSeq2seq(m, false);
            try (IndexTensor source = be.indices(TS, B);
                 OrtSession enc = env.createSession(graphs.encoder().toByteArray(), new OrtSession.SessionOptions());
                 OrtSession dec = env.createSession(graphs.decoder().toByteArray(), new OrtSession.SessionOptions())) {
                source.copyFrom(ids);
                // (a) the decoder's initial states
                float[][] start = m.decoderStart(source, lengths);
                Map<String, float[]> states = runEncoder(enc, ids, TS, lengths, false);
                OnnxExportTest.record(name + " encoder h0", start[0], states.get("h0"));
                if (cell.hasCellState()) {
                    OnnxExportTest.record(name + " encoder c0", start[1], states.get("c0"));
                }
                // (b) greedy decoding. The words fed back do not depend on EOS, only where each
                // sentence stops: once with an EOS that no sentence produces in MAX steps (every
                // step compared), once with sentence 0's third word as EOS (sentences stop early).
                int[][] free = m.translate(source, lengths, BOS, TARGET_V - 1, MAX);
                for (int eos : new int[] {unused(free), free[0].length > 2 ? free[0][2] : TARGET_V - 1}) {
                    List<float[]> recurLogits = new ArrayList<>();
                    int[][] recur = m.translate(source, lengths, BOS, eos, MAX, (t, l) -> recurLogits.add(l));
                    List<float[]> onnxLogits = new ArrayList<>();
                    int[][] onnx = greedy(dec, cell, states, B, eos, false, onnxLogits);
                    String run = name + " eos=" + eos + " decoder logits, " + recurLogits.size() + " steps";
                    assertEquals(recurLogits.size(), onnxLogits.size(), run + ": decoder steps");
                    for (int r = 0; r < B; r++) {
                        assertArrayEquals(recur[r], onnx[r], run + ": words of sentence " + r);
                    }
                    OnnxExportTest.record(run, concat(recurLogits), concat(onnxLogits));
                }
            }
        }
    }

    @Test
    void batchFirstWritesTwoFilesThatDecodeAlike(@TempDir Path dir) throws Exception {
        Cell cell = Cell.LSTM_PEEPHOLE;
        Seq2SeqConfig cfg = new Seq2SeqConfig(cell, SOURCE_V, TARGET_V, E, H, 2, 0f, true);
        try (Seq2SeqModel m = new Seq2SeqModel(be, cfg, 7); IndexTensor source = be.indices(TS, B)) {
            int[] ids = OnnxExportTest.randomIds(TS * B, 23);
            int[] lengths = {1, TS, 3};
            source.copyFrom(ids);
            List<Path> files = OnnxExport.write(m, dir.resolve("s2s.onnx"), true);
            assertEquals(List.of(dir.resolve("s2s.encoder.onnx"), dir.resolve("s2s.decoder.onnx")), files);
            assertEquals(List.of(dir.resolve("m.encoder.onnx"), dir.resolve("m.decoder.onnx")),
                    OnnxExport.seq2seqFiles(dir.resolve("m")));
            assertEquals("decoder", ModelProto.parseFrom(Files.readAllBytes(files.get(1))).getMetadataPropsList()
                    .stream().filter(e -> e.getKey().equals("recur.graph")).findFirst().orElseThrow().getValue());
            List<float[]> recurLogits = new ArrayList<>();
            int[][] recur = m.translate(source, lengths, BOS, TARGET_V - 1, MAX, (t, l) -> recurLogits.add(l));
            try (OrtSession enc = env.createSession(files.get(0).toString(), new OrtSession.SessionOptions());
                 OrtSession dec = env.createSession(files.get(1).toString(), new OrtSession.SessionOptions())) {
                Map<String, float[]> states = runEncoder(enc, transpose(ids, TS, B), TS, lengths, true);
                OnnxExportTest.record("seq2seq lstm_peephole layers=2 bi batch-first encoder h0",
                        m.decoderStart(source, lengths)[0], states.get("h0"));
                List<float[]> onnxLogits = new ArrayList<>();
                int[][] onnx = greedy(dec, cell, states, B, TARGET_V - 1, true, onnxLogits);
                for (int r = 0; r < B; r++) {
                    assertArrayEquals(recur[r], onnx[r], "words of sentence " + r);
                }
                OnnxExportTest.record("seq2seq lstm_peephole layers=2 bi batch-first decoder logits",
                        concat(recurLogits), concat(onnxLogits));
            }
        }
    }

    /** The highest id that no sentence of {@code words} holds (else {@code TARGET_V - 1}). */
    private static int unused(int[][] words) {
        boolean[] seen = new boolean[TARGET_V];
        for (int[] w : words) {
            for (int id : w) {
                seen[id] = true;
            }
        }
        for (int id = TARGET_V - 1; id >= 0; id--) {
            if (!seen[id]) {
                return id;
            }
        }
        return TARGET_V - 1;
    }

    // ---- ONNX Runtime

    private static Map<String, float[]> runEncoder(OrtSession s, int[] ids, int ts, int[] lengths, boolean batchFirst)
            throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("source", OnnxTensor.createTensor(env, LongBuffer.wrap(OnnxExportTest.longs(ids)),
                    batchFirst ? new long[] {B, ts} : new long[] {ts, B}));
            in.put("source_lengths", OnnxTensor.createTensor(env, IntBuffer.wrap(lengths), new long[] {B}));
            return run(s, in);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Greedy decoding as {@link Seq2SeqModel#translate} does it, around the decoder graph: BOS
     * first, then each sentence's most likely word (the lowest id among equals) fed back, until
     * every sentence has produced EOS or {@value #MAX} words.
     */
    private static int[][] greedy(OrtSession dec, Cell cell, Map<String, float[]> start, int b, int eos,
                                  boolean batchFirst, List<float[]> stepLogits) throws OrtException {
        return greedy(dec, cell, start, b, eos, batchFirst, stepLogits, null, null);
    }

    /**
     * {@link #greedy} of a model with attention: the encoder's {@code keys [B, Ts, K]} (in
     * {@code start}) and {@code lengths} go into every step; each step's {@code attention [B, Ts]}
     * into {@code stepWeights}.
     */
    private static int[][] greedy(OrtSession dec, Cell cell, Map<String, float[]> start, int b, int eos,
                                  boolean batchFirst, List<float[]> stepLogits, int[] lengths,
                                  List<float[]> stepWeights) throws OrtException {
        float[] h = start.get("h0");
        float[] c = start.get("c0");
        long layers = h.length / ((long) b * H);
        long[] previous = new long[b];
        Arrays.fill(previous, BOS);
        List<List<Integer>> words = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            words.add(new ArrayList<>());
        }
        boolean[] done = new boolean[b];
        int finished = 0;
        boolean feeding = dec.getInputNames().contains("attended0");
        float[] attended = new float[b * H]; // input feeding's h~ of the previous step: zeros first
        for (int t = 0; t < MAX && finished < b; t++) {
            Map<String, OnnxTensor> in = new HashMap<>();
            Map<String, float[]> out;
            try {
                in.put("previous", OnnxTensor.createTensor(env, LongBuffer.wrap(previous),
                        batchFirst ? new long[] {b, 1} : new long[] {1, b}));
                in.put("h0", OnnxTensor.createTensor(env, FloatBuffer.wrap(h), new long[] {layers, b, H}));
                if (cell.hasCellState()) {
                    in.put("c0", OnnxTensor.createTensor(env, FloatBuffer.wrap(c), new long[] {layers, b, H}));
                }
                if (feeding) {
                    in.put("attended0", OnnxTensor.createTensor(env, FloatBuffer.wrap(attended), new long[] {b, H}));
                }
                if (lengths != null) {
                    float[] keys = start.get("keys");
                    long ts = Arrays.stream(lengths).max().orElseThrow();
                    in.put("keys", OnnxTensor.createTensor(env, FloatBuffer.wrap(keys),
                            new long[] {b, TS, keys.length / ((long) b * TS)}));
                    in.put("source_lengths", OnnxTensor.createTensor(env, IntBuffer.wrap(lengths), new long[] {b}));
                    assertTrue(ts <= TS);
                }
                out = run(dec, in);
                if (stepWeights != null) {
                    stepWeights.add(out.get("attention"));
                }
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
            float[] logits = out.get("logits");
            assertEquals(b * TARGET_V, logits.length);
            stepLogits.add(logits);
            h = out.get("h_n");
            c = out.get("c_n");
            if (feeding) {
                attended = out.get("attended_n");
            }
            for (int r = 0; r < b; r++) {
                int best = 0;
                for (int k = 1; k < TARGET_V; k++) {
                    if (logits[r * TARGET_V + k] > logits[r * TARGET_V + best]) {
                        best = k;
                    }
                }
                previous[r] = best;
                if (!done[r]) {
                    if (best == eos) {
                        done[r] = true;
                        finished++;
                    } else {
                        words.get(r).add(best);
                    }
                }
            }
        }
        int[][] result = new int[b][];
        for (int r = 0; r < b; r++) {
            result[r] = words.get(r).stream().mapToInt(Integer::intValue).toArray();
        }
        return result;
    }

    private static Map<String, float[]> run(OrtSession s, Map<String, OnnxTensor> in) throws OrtException {
        try (OrtSession.Result r = s.run(in)) {
            Map<String, float[]> out = new HashMap<>();
            for (var e : r) {
                out.put(e.getKey(), OnnxExportTest.floats((OnnxTensor) e.getValue()));
            }
            return out;
        }
    }

    private static float[] concat(List<float[]> parts) {
        float[] out = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** {@code [rows, cols]} to {@code [cols, rows]}. */
    private static int[] transpose(int[] a, int rows, int cols) {
        int[] out = new int[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = a[r * cols + c];
            }
        }
        return out;
    }

    /**
     * A model with attention exports too: the encoder also gives the keys, the decoder step takes
     * them and the source lengths; a greedy decode with ONNX Runtime gives Seq2SeqModel's words
     * exactly, its logits within the tolerance, and weights that are 0 past each source length.
     */
    @Test
    void modelsWithAttentionDecodeAsOnnxRuntime() throws Exception {
        for (Object[] c : new Object[][] {{Cell.GRU, Attention.Kind.DOT, false}, {Cell.LSTM, Attention.Kind.GENERAL, true},
            {Cell.GRU, Attention.Kind.ADDITIVE, false}, {Cell.GRU, Attention.Kind.ADDITIVE, true}}) {
            Cell cell = (Cell) c[0];
            Attention.Kind kind = (Attention.Kind) c[1];
            boolean bi = (Boolean) c[2];
            Seq2SeqConfig cfg = new Seq2SeqConfig(cell, SOURCE_V, TARGET_V, E, H, 1, 0f, bi, kind);
            String name = "seq2seq " + cell.id() + " " + kind.id() + " attention" + (bi ? " bi" : " uni");
            try (Seq2SeqModel m = new Seq2SeqModel(be, cfg, 43)) {
                m.train(false);
                int[] ids = OnnxExportTest.randomIds(TS * B, 23);
                int[] lengths = {TS, 2, 4};
                OnnxExport.Seq2seqGraphs graphs = OnnxExport.exportSeq2seq(m, false);
                try (IndexTensor source = be.indices(TS, B);
                     OrtSession enc = env.createSession(graphs.encoder().toByteArray(),
                             new OrtSession.SessionOptions());
                     OrtSession dec = env.createSession(graphs.decoder().toByteArray(),
                             new OrtSession.SessionOptions())) {
                    source.copyFrom(ids);
                    Map<String, float[]> states = runEncoder(enc, ids, TS, lengths, false);
                    assertEquals(B * TS * cfg.keySize(), states.get("keys").length, name + ": keys [B, Ts, K]");
                    int[][] free = m.translate(source, lengths, BOS, TARGET_V - 1, MAX);
                    int eos = unused(free);
                    List<float[]> recurLogits = new ArrayList<>();
                    int[][] recur = m.translate(source, lengths, BOS, eos, MAX, (t, l) -> recurLogits.add(l));
                    List<float[]> onnxLogits = new ArrayList<>();
                    List<float[]> weights = new ArrayList<>();
                    int[][] onnx = greedy(dec, cell, states, B, eos, false, onnxLogits, lengths, weights);
                    for (int r = 0; r < B; r++) {
                        assertArrayEquals(recur[r], onnx[r], name + ": words of sentence " + r);
                    }
                    OnnxExportTest.record(name + " decoder logits", concat(recurLogits), concat(onnxLogits));
                    for (float[] w : weights) {
                        for (int r = 0; r < B; r++) {
                            for (int t = lengths[r]; t < TS; t++) {
                                assertEquals(0f, w[r * TS + t], 0f, name + ": weight past the length");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Input feeding exports too: the decoder step takes the previous step's {@code attended0}
     * and gives {@code attended_n}; a greedy decode with ONNX Runtime, feeding it back, gives
     * Seq2SeqModel's words exactly and its logits within the tolerance.
     */
    @Test
    void modelsWithInputFeedingDecodeAsOnnxRuntime() throws Exception {
        for (Object[] c : new Object[][] {{Cell.GRU, Attention.Kind.DOT, false, 1},
            {Cell.LSTM, Attention.Kind.GENERAL, true, 2}, {Cell.GRU, Attention.Kind.ADDITIVE, true, 1}}) {
            Cell cell = (Cell) c[0];
            Attention.Kind kind = (Attention.Kind) c[1];
            boolean bi = (Boolean) c[2];
            int layers = (Integer) c[3];
            Seq2SeqConfig cfg = new Seq2SeqConfig(cell, SOURCE_V, TARGET_V, E, H, layers, 0f, bi, kind, true);
            String name = "seq2seq " + cell.id() + " " + kind.id() + " input feeding" + (bi ? " bi" : " uni")
                    + " layers=" + layers;
            try (Seq2SeqModel m = new Seq2SeqModel(be, cfg, 47)) {
                m.train(false);
                int[] ids = OnnxExportTest.randomIds(TS * B, 29);
                int[] lengths = {3, TS, 1};
                OnnxExport.Seq2seqGraphs graphs = OnnxExport.exportSeq2seq(m, false);
                try (IndexTensor source = be.indices(TS, B);
                     OrtSession enc = env.createSession(graphs.encoder().toByteArray(),
                             new OrtSession.SessionOptions());
                     OrtSession dec = env.createSession(graphs.decoder().toByteArray(),
                             new OrtSession.SessionOptions())) {
                    assertTrue(dec.getInputNames().contains("attended0"), name + ": " + dec.getInputNames());
                    assertTrue(dec.getOutputNames().contains("attended_n"), name + ": " + dec.getOutputNames());
                    source.copyFrom(ids);
                    Map<String, float[]> states = runEncoder(enc, ids, TS, lengths, false);
                    int[][] free = m.translate(source, lengths, BOS, TARGET_V - 1, MAX);
                    int eos = unused(free);
                    List<float[]> recurLogits = new ArrayList<>();
                    int[][] recur = m.translate(source, lengths, BOS, eos, MAX, (t, l) -> recurLogits.add(l));
                    List<float[]> onnxLogits = new ArrayList<>();
                    int[][] onnx = greedy(dec, cell, states, B, eos, false, onnxLogits, lengths, new ArrayList<>());
                    assertEquals(recurLogits.size(), onnxLogits.size(), name + ": decoder steps");
                    for (int r = 0; r < B; r++) {
                        assertArrayEquals(recur[r], onnx[r], name + ": words of sentence " + r);
                    }
                    OnnxExportTest.record(name + " decoder logits", concat(recurLogits), concat(onnxLogits));
                }
            }
        }
    }
}
