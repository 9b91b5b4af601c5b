package dev.recur.interop.cli;

import dev.recur.models.cli.Recur;
import dev.recur.models.cli.Streams;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.Tensor;
import dev.recur.models.data.CharVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.interop.onnx.OnnxExport;
import dev.recur.interop.onnx.proto.OnnxProto.GraphProto;
import dev.recur.interop.onnx.proto.OnnxProto.ModelProto;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur import --onnx IN.onnx OUT.safetensors} through {@link Recur#run}. */
class ImportCommandTest {

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

    /** export, import with the original's metadata, sample: the imported checkpoint serves recur sample as the original does. */
    @Test
    void exportedCharLmImportsWithItsVocabularyAndSamplesTheSameText() throws Exception {
        CharVocabulary vocabulary = CharVocabulary.of("hello world\n");
        Path original = dir.resolve("lm.safetensors");
        try (CharLanguageModel lm = new CharLanguageModel(be,
                new CharModelConfig(vocabulary.size(), 4, Cell.GRU, 6, 2, 0.1f), 7)) {
            lm.save(original, Map.of("vocabulary", vocabulary.toStorageString()));
        }
        Path onnx = dir.resolve("lm.onnx");
        assertEquals(Recur.EXIT_OK, recur("export", "--backend", "cpu", "--onnx", onnx.toString(),
                original.toString()).status);
        Path imported = dir.resolve("imported.safetensors");
        Streams s = recur("import", "--backend", "cpu", "--onnx", onnx.toString(), "--metadata-from",
                original.toString(), imported.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("wrote " + imported + " (char-lm, 11 parameter tensors"), s.out());
        Checkpoint a = Checkpoint.read(original);
        Checkpoint b = Checkpoint.read(imported);
        assertEquals(a.modelConfig(), b.modelConfig());
        assertEquals(a.extraMetadata(), b.extraMetadata());
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String k : a.tensors().keySet()) {
            assertArrayEquals(a.tensors().get(k).data(), b.tensors().get(k).data(), k);
        }
        Streams fromOriginal = recur("sample", "--backend", "cpu", "--checkpoint", original.toString(), "--seed", "3");
        Streams fromImported = recur("sample", "--backend", "cpu", "--checkpoint", imported.toString(), "--seed", "3");
        assertEquals(Recur.EXIT_OK, fromImported.status, fromImported.err());
        assertEquals(fromOriginal.out(), fromImported.out());
    }

    /** Without --metadata-from the checkpoint holds the model only, and the command says what else the commands need. */
    @Test
    void withoutMetadataTheLibraryLoadsIt() throws Exception {
        SequenceModelConfig cfg = new SequenceModelConfig(0, 3, Cell.LSTM_PEEPHOLE, 5, 2, true, 0f, 0, 2);
        Path onnx = dir.resolve("reg.onnx");
        float[] want;
        try (SequenceModel m = new SequenceModel(be, cfg, 5); Tensor x = be.tensor(4, 2, 3)) {
            OnnxExport.write(m, onnx, false);
            x.copyFrom(new float[] {1, -2, 3, 0.5f, 0, -1, 2, 2, 1, -0.5f, 1, 0, 3, 1, -1, 0, 0.25f, 2, -3, 1, 0, 1, 1,
                1});
            want = m.predict(x, new int[] {4, 3}).toArray();
        }
        Path out = dir.resolve("reg.safetensors");
        Streams s = recur("import", "--backend", "cpu", "--onnx", onnx.toString(), out.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("no metadata") && s.out().contains("--metadata-from"), s.out());
        Checkpoint c = Checkpoint.read(out);
        assertNull(c.metadata("normalization"));
        try (SequenceModel m = SequenceModel.load(be, c); Tensor x = be.tensor(4, 2, 3)) {
            assertEquals(cfg, m.config());
            x.copyFrom(new float[] {1, -2, 3, 0.5f, 0, -1, 2, 2, 1, -0.5f, 1, 0, 3, 1, -1, 0, 0.25f, 2, -3, 1, 0, 1, 1,
                1});
            assertArrayEquals(want, m.predict(x, new int[] {4, 3}).toArray());
        }
    }

    @Test
    void hostileFilesFailInOneLine() throws Exception {
        byte[] good;
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(9, 4, Cell.LSTM, 6, 1, 0f), 1)) {
            good = OnnxExport.export(lm, false).toByteArray();
        }
        Path out = dir.resolve("out.safetensors");

        Path truncated = dir.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(good, good.length - 40));
        recur("import", "--backend", "cpu", "--onnx", truncated.toString(), out.toString())
                .assertOneLineFailure("recur import: " + truncated + ": ", "truncated or corrupt");

        ModelProto.Builder conv = ModelProto.parseFrom(good).toBuilder();
        conv.getGraphBuilder().getNodeBuilder(0).setOpType("Conv").setName("conv_0");
        Path convFile = dir.resolve("conv.onnx");
        Files.write(convFile, conv.build().toByteArray());
        recur("import", "--backend", "cpu", "--onnx", convFile.toString(), out.toString())
                .assertOneLineFailure("recur import: ", "cannot import node 'conv_0' (Conv)");

        ModelProto.Builder dims = ModelProto.parseFrom(good).toBuilder();
        GraphProto.Builder g = dims.getGraphBuilder();
        g.getInitializerBuilder(0).setDims(0, 10); // embedding.weight [9, 4] declared [10, 4]
        Path dimsFile = dir.resolve("dims.onnx");
        Files.write(dimsFile, dims.build().toByteArray());
        recur("import", "--backend", "cpu", "--onnx", dimsFile.toString(), out.toString())
                .assertOneLineFailure("recur import: ", "initializer 'embedding.weight' declares dims [10, 4]",
                        "but holds 36 values");

        ModelProto.Builder cycle = ModelProto.parseFrom(good).toBuilder();
        cycle.getGraphBuilder().getNodeBuilder(0).setInput(1, "logits");
        Path cycleFile = dir.resolve("cycle.onnx");
        Files.write(cycleFile, cycle.build().toByteArray());
        recur("import", "--backend", "cpu", "--onnx", cycleFile.toString(), out.toString())
                .assertOneLineFailure("recur import: ", "the graph has a cycle");

        recur("import", "--backend", "cpu", "--onnx", dir.resolve("absent.onnx").toString(), out.toString())
                .assertOneLineFailure("recur import: ", "absent.onnx");
        assertTrue(!Files.exists(out));
    }

    @Test
    void missingOnnxIsAUsageError() {
        Streams s = recur("import", dir.resolve("out.safetensors").toString());
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertTrue(s.err().contains("missing required option '--onnx=IN.onnx'"), s.err());
    }
}
