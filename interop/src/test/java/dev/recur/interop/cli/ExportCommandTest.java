package dev.recur.interop.cli;

import dev.recur.models.cli.Recur;
import dev.recur.models.cli.Streams;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur export --onnx OUT.onnx MODEL} through {@link Recur#run}, on checkpoints the test saves. */
class ExportCommandTest {

    @TempDir
    Path dir;

    static Backend be;

    @BeforeAll
    static void open() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void close() {
        be.close();
    }

    private static Streams recur(String... args) {
        return Streams.run(Recur.standard(), args);
    }

    @Test
    void theInteropJarRegistersItsCommandsWithTheStandardCommandLine() {
        // Found through META-INF/services on this module's class path, after models' own commands.
        Streams s = recur("bogus");
        assertTrue(s.err().contains("(commands: info, train-lm, sample, classify, forecast, translate, export, import,"
                + " import-keras, help)"), s.err());
    }

    @Test
    void exportsACharLmCheckpointThatOnnxRuntimeRunsToTheSameLogits() throws Exception {
        Path ckpt = dir.resolve("lm.safetensors");
        int t = 4, b = 2, layers = 2, h = 6;
        int[] ids = {1, 2, 3, 0, 4, 5, 6, 1};
        float[] recurLogits;
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(9, 4, Cell.LSTM, h, layers, 0f), 7);
             IndexTensor in = be.indices(t, b)) {
            lm.save(ckpt);
            in.copyFrom(ids);
            recurLogits = lm.logits(in).toArray();
        }
        Path out = dir.resolve("lm.onnx");
        Streams s = recur("export", "--backend", "cpu", "--onnx", out.toString(), ckpt.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("wrote " + out + " (char-lm"), s.out());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] idsLong = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            idsLong[i] = ids[i];
        }
        float[] zeros = new float[layers * b * h];
        try (OrtSession session = env.createSession(out.toString(), new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, LongBuffer.wrap(idsLong), new long[] {t, b});
             OnnxTensor h0 = OnnxTensor.createTensor(env, FloatBuffer.wrap(zeros), new long[] {layers, b, h});
             OnnxTensor c0 = OnnxTensor.createTensor(env, FloatBuffer.wrap(zeros), new long[] {layers, b, h});
             OrtSession.Result r = session.run(Map.of("ids", x, "h0", h0, "c0", c0))) {
            assertEquals("recur", session.getMetadata().getProducerName());
            FloatBuffer logits = ((OnnxTensor) r.get("logits").orElseThrow()).getFloatBuffer();
            double max = 0;
            for (float v : recurLogits) {
                max = Math.max(max, Math.abs(v - logits.get()));
            }
            assertTrue(max <= 1e-5, "max |recur - onnxruntime| = " + max);
        }
    }

    @Test
    void exportsAClassifierBatchFirstWithLengthsAsAnInput() throws Exception {
        Path ckpt = dir.resolve("cls.safetensors");
        try (SequenceModel m = new SequenceModel(be,
                SequenceModelConfig.classifier(10, 4, Cell.GRU, 5, 1, true, 0f, 3), 3)) {
            m.save(ckpt);
        }
        Path out = dir.resolve("cls.onnx");
        Streams s = recur("export", "--onnx", out.toString(), "--batch-first", "--backend", "cpu", ckpt.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        try (OrtSession session = OrtEnvironment.getEnvironment().createSession(out.toString(),
                new OrtSession.SessionOptions())) {
            assertEquals(Set.of("ids", "lengths"), session.getInputNames());
            assertEquals(Set.of("logits"), session.getOutputNames());
        }
    }

    @Test
    void aSeq2seqCheckpointBecomesAnEncoderAndADecoderStepFileNamedFromOut() throws Exception {
        Path ckpt = dir.resolve("s2s.safetensors");
        int ts = 3, b = 2, layers = 2, h = 5, v = 9;
        int[] source = {1, 2, 3, 4, 5, 0};
        int[] lengths = {3, 2};
        float[] first = new float[b * v];
        try (Seq2SeqModel m = new Seq2SeqModel(be, new Seq2SeqConfig(Cell.LSTM, 8, v, 4, h, layers, 0f, true), 1);
             IndexTensor in = be.indices(ts, b)) {
            in.copyFrom(source);
            m.translate(in, lengths, 1, 2, 1, (t, l) -> System.arraycopy(l, 0, first, 0, l.length));
            m.save(ckpt);
        }
        Path out = dir.resolve("s2s.onnx");
        Path encoder = dir.resolve("s2s.encoder.onnx");
        Path decoder = dir.resolve("s2s.decoder.onnx");
        Streams s = recur("export", "--backend", "cpu", "--onnx", out.toString(), ckpt.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("wrote " + encoder + " and " + decoder + " (seq2seq"), s.out());
        assertFalse(Files.exists(out));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession enc = env.createSession(encoder.toString(), new OrtSession.SessionOptions());
             OrtSession dec = env.createSession(decoder.toString(), new OrtSession.SessionOptions());
             OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {1, 2, 3, 4, 5, 0}),
                     new long[] {ts, b});
             OnnxTensor lens = OnnxTensor.createTensor(env, IntBuffer.wrap(lengths), new long[] {b});
             OrtSession.Result states = enc.run(Map.of("source", ids, "source_lengths", lens));
             OnnxTensor bos = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {1, 1}), new long[] {1, b});
             OrtSession.Result step = dec.run(Map.of("previous", bos,
                     "h0", (OnnxTensor) states.get("h0").orElseThrow(),
                     "c0", (OnnxTensor) states.get("c0").orElseThrow()))) {
            assertEquals(Set.of("h0", "c0"), enc.getOutputNames());
            assertEquals(Set.of("logits", "h_n", "c_n"), dec.getOutputNames());
            FloatBuffer logits = ((OnnxTensor) step.get("logits").orElseThrow()).getFloatBuffer();
            double max = 0;
            for (float x : first) {
                max = Math.max(max, Math.abs(x - logits.get()));
            }
            assertTrue(max <= 1e-5, "max |recur - onnxruntime| = " + max);
        }
    }

    /** A model with a projection (issue 17's cell options) is refused in one line naming the option; no file. */
    @Test
    void aModelWithCellOptionsOnnxCannotExpressIsRefusedInOneLine() throws Exception {
        Path ckpt = dir.resolve("proj.safetensors");
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(9, 4, Cell.LSTM, 6, 1, 0f,
                new dev.recur.api.CellOptions(false, 0f, 0f, 0f, 3)), 7)) {
            lm.save(ckpt);
        }
        Path out = dir.resolve("proj.onnx");
        recur("export", "--backend", "cpu", "--onnx", out.toString(), ckpt.toString())
                .assertOneLineFailure("recur export: ", "a projection (--proj-size 3)", "cannot express");
        assertFalse(Files.exists(out));
    }

    @Test
    void aMissingOrForeignCheckpointIsRefusedInOneLine() throws Exception {
        Path out = dir.resolve("x.onnx");
        recur("export", "--onnx", out.toString(), dir.resolve("nothing.safetensors").toString())
                .assertOneLineFailure("recur export: ", "nothing.safetensors");
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a checkpoint\n");
        recur("export", "--onnx", out.toString(), text.toString()).assertOneLineFailure("recur export: ", "notes.txt");
        assertFalse(Files.exists(out));
    }

    @Test
    void badArgumentsExit2BeforeAnyWork() {
        Path out = dir.resolve("y.onnx");
        Path missingFolder = dir.resolve("no-such-folder").resolve("y.onnx");
        String[][] bad = {
            {"export", "m.safetensors"},                                       // no --onnx
            {"export", "--onnx", out.toString()},                               // no MODEL
            {"export", "--onx", out.toString(), "m.safetensors"},               // typo
            {"export", "--onnx", "", "m.safetensors"},                          // empty name
            {"export", "--onnx", missingFolder.toString(), "m.safetensors"},    // folder missing
            {"export", "--onnx", out.toString(), "a.safetensors", "b.safetensors"},
        };
        Streams typo = recur("export", "--onx", out.toString(), "m.safetensors");
        assertTrue(typo.err().contains("unknown option '--onx' (did you mean --onnx?)"), typo.err());
        for (String[] args : bad) {
            Streams s = recur(args);
            assertEquals(Recur.EXIT_USAGE, s.status, String.join(" ", args) + ": " + s.err());
            assertEquals(1, s.err().strip().lines().count(), s.err());
        }
        assertFalse(Files.exists(out));
    }
}
