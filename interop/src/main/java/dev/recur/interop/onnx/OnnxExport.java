package dev.recur.interop.onnx;

import dev.recur.api.Cell;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.Parameter;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.interop.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.recur.interop.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.recur.interop.onnx.proto.OnnxProto.TensorProto;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.seq2seq.Attention;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Recur model as an ONNX model (opset {@value #OPSET}) that ONNX Runtime and other ONNX
 * runtimes run for inference: the recurrent layers as ONNX's own {@code LSTM}, {@code GRU} and
 * {@code RNN} operators (see {@link RecurrentLayers} for the gate order and the coupled LSTM),
 * the embedding as {@code Gather}, heads as {@code MatMul + Add} or {@code Gemm}, and dropout left
 * out (it does nothing at inference).
 *
 * <p>Graphs, by model kind ({@code T} steps, {@code B} sequences, both symbolic; with
 * {@code batchFirst} the {@code [T, B]} inputs and the language model's logits are {@code [B, T]}
 * instead, through {@code Transpose}):
 * <ul>
 *   <li>char-lm: inputs {@code ids} int64 {@code [T, B]}, {@code h0} float {@code [layers, B, H]}
 *       (zeros to start; a window's {@code h_n} to carry on) and, for the LSTM cells,
 *       {@code c0}; outputs {@code logits [T, B, V]}, {@code h_n} and {@code c_n}.</li>
 *   <li>sequence-classifier: inputs {@code ids} int64 {@code [T, B]} and {@code lengths} int32
 *       {@code [B]} (ONNX's {@code sequence_lens}: each sequence's own length, 1..T); output
 *       {@code logits [B, classes]} from the last layer's final hidden states, both directions
 *       concatenated, as {@link SequenceModel} computes them.</li>
 *   <li>sequence-regressor: inputs {@code x} float {@code [T, B, features]} (normalised as in
 *       training) and {@code lengths}; output {@code predictions [B, outputs]}.</li>
 * </ul>
 * A seq2seq model is two graphs ({@link #exportSeq2seq}), so that a caller runs greedy or beam
 * decoding around the second:
 * <ul>
 *   <li>encoder: inputs {@code source} int64 {@code [Ts, B]} and {@code source_lengths} int32
 *       {@code [B]} (1..Ts); outputs the decoder's initial states {@code h0} (and {@code c0} for
 *       the LSTM cells) {@code [layers, B, H]}: each encoder layer's final states, with a
 *       bidirectional encoder the sum of its two directions' ({@code ReduceSum}), as
 *       {@link Seq2SeqModel} starts its decoder.</li>
 *   <li>decoder, one step: inputs {@code previous} int64 {@code [1, B]} (BOS first, then each
 *       sentence's last word), {@code h0} (and {@code c0}); outputs {@code logits [B, V]},
 *       {@code h_n} (and {@code c_n}), the next step's {@code h0} and {@code c0}.</li>
 * </ul>
 * With attention the encoder also outputs {@code keys [B, Ts, K]} (its last layer's outputs, zero
 * past each length) and the decoder takes them and {@code source_lengths} as inputs, masks the
 * padding (positions {@code >= length} get weight 0: {@code Where} to -inf, then {@code Softmax}),
 * and also outputs the step's {@code attention [B, Ts]}; the scores, context and
 * {@code tanh(W_c [context; h])} are MatMul, Concat, Gemm and Tanh nodes. With input feeding
 * ({@link Seq2SeqConfig#inputFeeding()}) the decoder step also takes {@code attended0 [B, H]},
 * the previous step's attentional state {@code h~} (zeros at the first step), concatenated to the
 * word's embedding, and outputs this step's as {@code attended_n [B, H]}, the next step's
 * {@code attended0}; a beam search reorders it with {@code h_n} and {@code c_n}.
 *
 * <p>The file records the producer ({@value #PRODUCER} and its version), the opset, and in
 * {@code metadata_props} the model's kind ({@code recur.kind}) and configuration JSON
 * ({@code recur.config}); a seq2seq model's two files also {@code recur.graph}
 * ({@code encoder} or {@code decoder}).
 */
public final class OnnxExport {

    /** The ONNX opset the graphs use (LSTM, GRU, RNN version 14; Reshape 14; Gather 13). */
    public static final int OPSET = 17;
    /** ONNX IR version 8 is the one that goes with opset 17. */
    public static final int IR_VERSION = 8;
    public static final String PRODUCER = "recur";

    private OnnxExport() {
    }

    /**
     * Refuses the cell options (issue 17) that change inference, which ONNX's LSTM, GRU and RNN ops
     * cannot express: layer normalisation, zoneout (its expectation mixes old and new state) and
     * projections. Recurrent dropout is the identity at inference, so such a model exports as
     * its plain cell.
     */
    private static void plainCells(dev.recur.api.CellOptions options) throws OnnxExportException {
        String option = options.layerNorm() ? "layer normalisation (--layer-norm)"
                : options.zoneoutH() > 0f || options.zoneoutC() > 0f ? "zoneout (--zoneout)"
                : options.projectionSize() > 0 ? "a projection (--proj-size " + options.projectionSize() + ")" : null;
        if (option != null) {
            throw new OnnxExportException("the model's cells use " + option + ", which ONNX's LSTM/GRU/RNN ops cannot"
                    + " express; only models without layer norm, zoneout and projections export");
        }
    }

    /** The producer version written into files: the jar's version, or "dev" from class folders. */
    public static String producerVersion() {
        String v = OnnxExport.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /**
     * The ONNX model of {@code model}.
     *
     * @throws OnnxExportException when the model cannot be exported, with the reason in one line
     */
    public static ModelProto export(Model model, boolean batchFirst) throws OnnxExportException {
        Map<String, float[]> params = parameters(model);
        GraphWriter g = new GraphWriter("recur_" + model.kind().replace('-', '_'));
        switch (model) {
            case CharLanguageModel lm -> {
                plainCells(lm.config().options());
                charLm(g, lm.config(), params, batchFirst);
            }
            case SequenceModel sm -> {
                plainCells(sm.config().options());
                sequenceModel(g, sm.config(), params, batchFirst);
            }
            case Seq2SeqModel s -> throw new OnnxExportException("a " + model.kind() + " model is two ONNX graphs, "
                    + "an encoder and a decoder step: use OnnxExport.exportSeq2seq, or OnnxExport.write");
            default -> throw new OnnxExportException("a " + model.kind() + " model cannot be exported to ONNX");
        }
        return model(model, g, null);
    }

    /**
     * A seq2seq model's two ONNX models (see the class comment).
     *
     * @param encoder source ids and lengths to the decoder's initial states
     * @param decoder one decoder step: the previous words and states to the logits and the next states
     */
    public record Seq2seqGraphs(ModelProto encoder, ModelProto decoder) {
    }

    /**
     * The encoder and decoder-step graphs of {@code model}; with {@code batchFirst} the id inputs
     * are {@code [B, Ts]} and {@code [B, 1]} (states and logits are the same either way).
     */
    public static Seq2seqGraphs exportSeq2seq(Seq2SeqModel model, boolean batchFirst) throws OnnxExportException {
        plainCells(model.config().options());
        Map<String, float[]> params = parameters(model);
        GraphWriter enc = new GraphWriter("recur_seq2seq_encoder");
        seq2seqEncoder(enc, model.config(), params, batchFirst);
        GraphWriter dec = new GraphWriter("recur_seq2seq_decoder");
        seq2seqDecoder(dec, model.config(), params, batchFirst);
        return new Seq2seqGraphs(model(model, enc, "encoder"), model(model, dec, "decoder"));
    }

    /**
     * The files {@link #write} writes for a seq2seq model asked to go to {@code file}:
     * {@code X.encoder.onnx} and {@code X.decoder.onnx}, where {@code X} is {@code file} less a
     * final {@code .onnx}.
     */
    public static List<Path> seq2seqFiles(Path file) {
        String name = file.getFileName().toString();
        String stem = name.endsWith(".onnx") ? name.substring(0, name.length() - ".onnx".length()) : name;
        return List.of(file.resolveSibling(stem + ".encoder.onnx"), file.resolveSibling(stem + ".decoder.onnx"));
    }

    private static Map<String, float[]> parameters(Model model) {
        Map<String, float[]> params = new HashMap<>();
        for (Parameter p : model.parameters()) {
            params.put(p.name(), p.value().toArray());
        }
        return params;
    }

    /** The ONNX model around graph {@code g}: producer, opset, metadata ({@code recur.graph} when not null). */
    private static ModelProto model(Model model, GraphWriter g, String graph) {
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName(PRODUCER)
                .setProducerVersion(producerVersion())
                .setDocString("A " + model.kind() + " model exported by recur " + producerVersion())
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("recur.kind").setValue(model.kind()))
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("recur.config")
                        .setValue(model.configJson()))
                .setGraph(g.build());
        if (graph != null) {
            m.setDocString("The " + graph + " of a " + model.kind() + " model exported by recur " + producerVersion())
                    .addMetadataProps(StringStringEntryProto.newBuilder().setKey("recur.graph").setValue(graph));
        }
        return m.build();
    }

    /**
     * Writes {@link #export}'s model to {@code file}, or a seq2seq model's two graphs to
     * {@link #seq2seqFiles}{@code (file)}: each to a temporary file beside it first, then renamed,
     * so a reader never sees half a file.
     *
     * @return the files written: {@code file}, or the seq2seq encoder's and decoder's
     */
    public static List<Path> write(Model model, Path file, boolean batchFirst) throws OnnxExportException,
            IOException {
        if (model instanceof Seq2SeqModel s) {
            Seq2seqGraphs graphs = exportSeq2seq(s, batchFirst);
            List<Path> files = seq2seqFiles(file);
            writeAtomically(graphs.encoder().toByteArray(), files.get(0));
            writeAtomically(graphs.decoder().toByteArray(), files.get(1));
            return files;
        }
        writeAtomically(export(model, batchFirst).toByteArray(), file);
        return List.of(file);
    }

    private static void writeAtomically(byte[] bytes, Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        // Not Files.createTempFile: its 0600 mode would stay on the renamed file; this one gets the umask's.
        Path tmp = dir.resolve("." + abs.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int INT64 = TensorProto.DataType.INT64_VALUE;
    private static final int INT32 = TensorProto.DataType.INT32_VALUE;

    private static void charLm(GraphWriter g, CharModelConfig cfg, Map<String, float[]> params, boolean batchFirst)
            throws OnnxExportException {
        Cell cell = cfg.cell();
        int h = cfg.hidden();
        g.input("ids", INT64, batchFirst ? "B" : "T", batchFirst ? "T" : "B");
        g.input("h0", FLOAT, cfg.layers(), "B", h);
        if (cell.hasCellState()) {
            g.input("c0", FLOAT, cfg.layers(), "B", h);
        }
        String ids = batchFirst ? g.transpose("ids", "ids_tb", 1, 0) : "ids";
        String x = embed(g, params, "embedding.weight", ids, cfg.vocabulary(), cfg.embedding()); // [T, B, E]
        RecurrentLayers.Result rnn = RecurrentLayers.write(g, params, "rnn.", cell, cfg.embedding(), h, cfg.layers(),
                false, x, null, "h0", cell.hasCellState() ? "c0" : null);
        String logits = head(g, params, rnn.output(), h, cfg.vocabulary()); // [T, B, V]
        if (batchFirst) {
            g.node("Transpose", List.of(logits), List.of("logits")).addAttribute(GraphWriter.ints("perm", 1, 0, 2));
        } else {
            g.node("Identity", List.of(logits), List.of("logits"));
        }
        g.output("logits", FLOAT, batchFirst ? "B" : "T", batchFirst ? "T" : "B", cfg.vocabulary());
        concat(g, rnn.finalH(), "h_n");
        g.output("h_n", FLOAT, cfg.layers(), "B", h);
        if (cell.hasCellState()) {
            concat(g, rnn.finalC(), "c_n");
            g.output("c_n", FLOAT, cfg.layers(), "B", h);
        }
    }

    private static void sequenceModel(GraphWriter g, SequenceModelConfig cfg, Map<String, float[]> params,
                                      boolean batchFirst) throws OnnxExportException {
        int h = cfg.hidden();
        int dirs = cfg.bidirectional() ? 2 : 1;
        String x;
        if (cfg.classifies()) {
            g.input("ids", INT64, batchFirst ? "B" : "T", batchFirst ? "T" : "B");
            String ids = batchFirst ? g.transpose("ids", "ids_tb", 1, 0) : "ids";
            x = embed(g, params, "embedding.weight", ids, cfg.vocabulary(), cfg.inputSize()); // [T, B, E]
        } else {
            g.input("x", FLOAT, batchFirst ? "B" : "T", batchFirst ? "T" : "B", cfg.inputSize());
            x = batchFirst ? g.transpose("x", "x_tbf", 1, 0, 2) : "x";
        }
        g.input("lengths", INT32, "B");
        RecurrentLayers.Result rnn = RecurrentLayers.write(g, params, "rnn.", cfg.cell(), cfg.inputSize(), h,
                cfg.layers(), cfg.bidirectional(), x, "lengths", null, null);
        // SequenceModel's features: the last layer's final h, [D, B, H] -> [B, D, H] -> [B, D*H].
        String last = rnn.finalH().getLast();
        String bdh = g.transpose(last, "features_bdh", 1, 0, 2);
        String features = g.node1("Reshape", "features", bdh, g.longs("features_shape", 0, -1));
        String out = cfg.classifies() ? "logits" : "predictions";
        gemm(g, params, "head.", features, dirs * h, cfg.headSize(), out);
        g.output(out, FLOAT, "B", cfg.headSize());
    }

    /** {@code x [B, in] · weightᵀ + bias} as one {@code Gemm} ({@code transB = 1}) writing {@code out}. */
    private static void gemm(GraphWriter g, Map<String, float[]> params, String prefix, String x, int in, int outSize,
                             String out) throws OnnxExportException {
        float[] w = need(params, prefix + "weight", outSize * in);
        float[] b = need(params, prefix + "bias", outSize);
        g.node("Gemm", List.of(x, g.floats(prefix + "weight", w, outSize, in), g.floats(prefix + "bias", b, outSize)),
                List.of(out)).addAttribute(GraphWriter.integer("transB", 1));
    }

    private static void seq2seqEncoder(GraphWriter g, Seq2SeqConfig cfg, Map<String, float[]> params,
                                       boolean batchFirst) throws OnnxExportException {
        Cell cell = cfg.cell();
        int h = cfg.hidden();
        g.input("source", INT64, batchFirst ? "B" : "Ts", batchFirst ? "Ts" : "B");
        g.input("source_lengths", INT32, "B");
        String ids = batchFirst ? g.transpose("source", "source_tb", 1, 0) : "source";
        String x = embed(g, params, "encoder.embedding.weight", ids, cfg.sourceVocabulary(), cfg.embedding());
        RecurrentLayers.Result rnn = RecurrentLayers.write(g, params, "encoder.rnn.", cell, cfg.embedding(), h,
                cfg.layers(), cfg.bidirectionalEncoder(), x, "source_lengths", null, null);
        concat(g, directionSums(g, rnn.finalH(), cfg.bidirectionalEncoder()), "h0");
        g.output("h0", FLOAT, cfg.layers(), "B", h);
        if (cfg.attention() != Attention.Kind.NONE) {
            g.node("Transpose", List.of(rnn.output()), List.of("keys")).addAttribute(GraphWriter.ints("perm", 1, 0, 2));
            g.output("keys", FLOAT, "B", "Ts", cfg.keySize());
        }
        if (cell.hasCellState()) {
            concat(g, directionSums(g, rnn.finalC(), cfg.bidirectionalEncoder()), "c0");
            g.output("c0", FLOAT, cfg.layers(), "B", h);
        }
    }

    /** Each layer's final state {@code [D, B, H]} as {@code [1, B, H]}: itself, or its two directions' sum. */
    private static List<String> directionSums(GraphWriter g, List<String> finals, boolean bidirectional) {
        if (!bidirectional) {
            return finals;
        }
        List<String> sums = new ArrayList<>();
        for (String f : finals) {
            String sum = g.fresh(f + "_sum");
            g.node("ReduceSum", List.of(f, g.longs("sum_axes", 0)), List.of(sum))
                    .addAttribute(GraphWriter.integer("keepdims", 1));
            sums.add(sum);
        }
        return sums;
    }

    private static void seq2seqDecoder(GraphWriter g, Seq2SeqConfig cfg, Map<String, float[]> params,
                                       boolean batchFirst) throws OnnxExportException {
        Cell cell = cfg.cell();
        int h = cfg.hidden();
        g.input("previous", INT64, batchFirst ? "B" : 1, batchFirst ? 1 : "B");
        g.input("h0", FLOAT, cfg.layers(), "B", h);
        if (cell.hasCellState()) {
            g.input("c0", FLOAT, cfg.layers(), "B", h);
        }
        String ids = batchFirst ? g.transpose("previous", "previous_tb", 1, 0) : "previous";
        String x = embed(g, params, "decoder.embedding.weight", ids, cfg.targetVocabulary(), cfg.embedding());
        if (cfg.inputFeeding()) { // the step's input is [emb; h~ of the previous step]
            g.input("attended0", FLOAT, "B", h);
            String fed = g.node1("Unsqueeze", "attended0_tb", "attended0", g.longs("attended0_axes", 0)); // [1, B, H]
            String joined = g.fresh("decoder_input");
            g.node("Concat", List.of(x, fed), List.of(joined)).addAttribute(GraphWriter.integer("axis", 2));
            x = joined;                                                                             // [1, B, E + H]
        }
        RecurrentLayers.Result rnn = RecurrentLayers.write(g, params, "decoder.rnn.", cell, cfg.decoderInputSize(), h,
                cfg.layers(), false, x, null, "h0", cell.hasCellState() ? "c0" : null);
        String y = g.node1("Reshape", "decoder_output", rnn.output(), g.longs("decoder_output_shape", -1, h));
        if (cfg.attention() != Attention.Kind.NONE) {
            y = attention(g, cfg, params, y);
            if (cfg.inputFeeding()) {
                g.node("Identity", List.of(y), List.of("attended_n"));
                g.output("attended_n", FLOAT, "B", h);
            }
        }
        gemm(g, params, "decoder.head.", y, h, cfg.targetVocabulary(), "logits");
        g.output("logits", FLOAT, "B", cfg.targetVocabulary());
        concat(g, rnn.finalH(), "h_n");
        g.output("h_n", FLOAT, cfg.layers(), "B", h);
        if (cell.hasCellState()) {
            concat(g, rnn.finalC(), "c_n");
            g.output("c_n", FLOAT, cfg.layers(), "B", h);
        }
    }

    /**
     * The attention of one decoder step (Seq2SeqModel's {@code Attention}) over the inputs
     * {@code keys [B, Ts, K]} and {@code source_lengths [B]}: from the decoder's output
     * {@code y [B, H]} to {@code tanh(W_c [context; y] + b_c) [B, H]}; also the output
     * {@code attention [B, Ts]}.
     */
    private static String attention(GraphWriter g, Seq2SeqConfig cfg, Map<String, float[]> params, String y)
            throws OnnxExportException {
        int h = cfg.hidden();
        int k = cfg.keySize();
        String p = "decoder.attention.";
        g.input("keys", FLOAT, "B", "Ts", k);
        g.input("source_lengths", INT32, "B");
        String q = g.node1("Reshape", "query", y, g.longs("query_shape", -1, 1, h));               // [B, 1, H]
        String scores = switch (cfg.attention()) {
            case DOT -> g.node1("MatMul", "scores", q, g.transpose("keys", "keys_t", 0, 2, 1));
            case GENERAL -> {
                String kp = g.node1("MatMul", "keys_proj", "keys",
                        g.floats(p + "weight_t", transposed(need(params, p + "weight", h * k), h, k), k, h));
                yield g.node1("MatMul", "scores", q, g.transpose(kp, "keys_proj_t", 0, 2, 1));
            }
            case ADDITIVE -> {
                String qp = g.fresh("query_proj");
                g.node("Gemm", List.of(y, g.floats(p + "query.weight", need(params, p + "query.weight", h * h), h, h),
                                g.floats(p + "query.bias", need(params, p + "query.bias", h), h)), List.of(qp))
                        .addAttribute(GraphWriter.integer("transB", 1));                         // [B, A]
                String q4 = g.node1("Reshape", "query_proj4", qp, g.longs("query_proj4_shape", -1, 1, 1, h));
                String kp = g.node1("MatMul", "keys_proj", "keys", g.floats(p + "key.weight_t",
                        transposed(need(params, p + "key.weight", h * k), h, k), k, h));        // [B, Ts, A]
                String k4 = g.node1("Unsqueeze", "keys_proj4", kp, g.longs("keys_proj4_axes", 1)); // [B, 1, Ts, A]
                String t = g.node1("Tanh", "additive_hidden", g.node1("Add", "additive_sum", q4, k4));
                String e = g.node1("MatMul", "additive_scores", t,
                        g.floats(p + "v.weight_t", need(params, p + "v.weight", h), h, 1));       // [B, 1, Ts, 1]
                yield g.node1("Squeeze", "scores", e, g.longs("scores_axes", 3));
            }
            default -> throw new IllegalStateException("attention " + cfg.attention());
        };                                                                                          // [B, 1, Ts]
        // mask [B, 1, Ts]: position < source_lengths[b]
        String ts = g.node1("Squeeze", "ts", g.node1("Gather", "ts_1", g.node1("Shape", "keys_shape", "keys"),
                g.longs("ts_index", 1)), g.longs("ts_axes", 0));
        String zero = g.node1("Squeeze", "zero", g.longs("zero_1", 0), g.longs("zero_axes", 0));
        String one = g.node1("Squeeze", "one", g.longs("one_1", 1), g.longs("one_axes", 0));
        String positions = g.node1("Range", "positions", zero, ts, one);                          // [Ts]
        String lengths = g.fresh("lengths64");
        g.node("Cast", List.of("source_lengths"), List.of(lengths))
                .addAttribute(GraphWriter.integer("to", INT64));
        String valid = g.node1("Less", "valid", positions,
                g.node1("Unsqueeze", "lengths_col", lengths, g.longs("lengths_axes", 1)));          // [B, Ts]
        String mask = g.node1("Unsqueeze", "mask", valid, g.longs("mask_axes", 1));
        String masked = g.node1("Where", "masked_scores", mask, scores,
                g.floats("minus_infinity", new float[] {Float.NEGATIVE_INFINITY}));
        String weights = g.fresh("weights");
        g.node("Softmax", List.of(masked), List.of(weights)).addAttribute(GraphWriter.integer("axis", -1));
        g.node("Reshape", List.of(weights, g.longs("attention_shape", 0, -1)), List.of("attention"));
        g.output("attention", FLOAT, "B", "Ts");
        String context = g.node1("MatMul", "context", weights, "keys");                            // [B, 1, K]
        String joined = g.fresh("joined");
        g.node("Concat", List.of(context, q), List.of(joined)).addAttribute(GraphWriter.integer("axis", 2));
        String flat = g.node1("Reshape", "joined_flat", joined, g.longs("joined_shape", -1, k + h)); // [B, K + H]
        String pre = g.fresh("combined");
        g.node("Gemm", List.of(flat, g.floats(p + "combine.weight", need(params, p + "combine.weight", h * (k + h)),
                        h, k + h), g.floats(p + "combine.bias", need(params, p + "combine.bias", h), h)),
                List.of(pre)).addAttribute(GraphWriter.integer("transB", 1));
        return g.node1("Tanh", "attended", pre);                                                   // [B, H]
    }

    /** {@code w [rows, cols]} as {@code [cols, rows]}. */
    private static float[] transposed(float[] w, int rows, int cols) {
        float[] t = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = w[r * cols + c];
            }
        }
        return t;
    }

    /** {@code Gather} of the embedding {@code name} {@code [vocabulary, dim]} at {@code ids}. */
    private static String embed(GraphWriter g, Map<String, float[]> params, String name, String ids, int vocabulary,
                                int dim) throws OnnxExportException {
        String emb = g.floats(name, need(params, name, vocabulary * dim), vocabulary, dim);
        return g.node1("Gather", "embedded", emb, ids);
    }

    /** {@code x [T, B, in] · head.weightᵀ + head.bias}: MatMul with the weight stored transposed, then Add. */
    private static String head(GraphWriter g, Map<String, float[]> params, String x, int in, int out)
            throws OnnxExportException {
        float[] w = need(params, "head.weight", out * in); // [out, in]
        float[] wt = new float[w.length];                  // [in, out]
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                wt[i * out + o] = w[o * in + i];
            }
        }
        String y = g.node1("MatMul", "head_matmul", x, g.floats("head.weight_t", wt, in, out));
        return g.node1("Add", "head_out", y, g.floats("head.bias", need(params, "head.bias", out), out));
    }

    private static void concat(GraphWriter g, List<String> parts, String out) {
        g.node("Concat", parts, List.of(out)).addAttribute(GraphWriter.integer("axis", 0));
    }

    private static float[] need(Map<String, float[]> params, String name, int size) throws OnnxExportException {
        return RecurrentLayers.param(params, name, size);
    }
}
