package dev.recur.models.lm;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.data.TextCorpusTestAccess;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.Json;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutants of a real training checkpoint (a paused train-lm run): every one must be refused with
 * a one-line {@link CheckpointException}, by the reader or by the two users of a checkpoint
 * ({@code CharLanguageModel.load}, as {@code recur sample} does, and a resume), or be provably
 * equal to the original (the same tensors and metadata). Seeded, so a failure repeats. The counts
 * of each outcome are printed for the closing note.
 */
class CheckpointFuzzTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    enum Outcome { REFUSED_BY_READER, REFUSED_BY_USE, EQUAL, ACCEPTED_CORRUPT }

    private TextCorpus corpus;
    private Path original;
    private Path best;
    private Checkpoint want;
    private final Map<String, int[]> counts = new LinkedHashMap<>();
    private final List<String> accepted = new ArrayList<>();

    @Test
    void everyMutantIsRefusedInOneLineOrEqualToTheOriginal(@TempDir Path dir) throws Exception {
        corpus = LmTrainingTest.corpus();
        Path made = dir.resolve("orig/lm.safetensors");
        Files.createDirectories(made.getParent());
        LmTraining.run(be, corpus, LmTrainingTest.options(corpus, made, false, 6, 0.01f), LmTrainingTest.quiet());
        original = made;
        best = Trainer.sibling(made, ".best");
        want = Checkpoint.read(original);
        byte[] bytes = Files.readAllBytes(original);
        int headerEnd = 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random r = new Random(2026_12_06L);
        Path m = dir.resolve("m/lm.safetensors");
        Files.createDirectories(m.getParent());

        for (int i = 0; i < 150; i++) {
            byte[] b = bytes.clone();
            int at = 8 + r.nextInt(headerEnd - 8);
            b[at] ^= (byte) (1 << r.nextInt(8));
            record("header bit flip", m, b);
        }
        for (int i = 0; i < 100; i++) {
            byte[] b = bytes.clone();
            int at = headerEnd + r.nextInt(bytes.length - headerEnd);
            b[at] ^= (byte) (1 << r.nextInt(8));
            record("data bit flip", m, b);
        }
        for (int i = 0; i < 40; i++) {
            record("truncation", m, Arrays.copyOf(bytes, r.nextInt(bytes.length)));
        }
        for (int i = 0; i < 4; i++) {
            record("length prefix", m, withLength(bytes, r.nextLong()));
        }
        // Two tensors of one size trade data offsets; the header is written anew, checksum kept.
        List<String> sameSize = sameSizePairs();
        for (int i = 0; i + 1 < sameSize.size() && i < 20; i += 2) {
            String a = sameSize.get(i);
            String c = sameSize.get(i + 1);
            record("swapped offsets", m, rewriteHeader(bytes, h -> {
                ArrayNode x = (ArrayNode) h.get(a).get("data_offsets");
                ArrayNode y = (ArrayNode) h.get(c).get("data_offsets");
                ((ObjectNode) h.get(a)).set("data_offsets", y.deepCopy());
                ((ObjectNode) h.get(c)).set("data_offsets", x.deepCopy());
                return h;
            }));
        }
        // Metadata edited in place, the checksum kept.
        for (String[] kv : new String[][] {{"step", "5"}, {"model.dropout_counter", "-5"}, {"optimizer_steps", "x"},
            {"trainer.best_step", "999"}, {"vocabulary", "abc"}, {"seed", "2"}}) {
            record("metadata edited", m, rewriteHeader(bytes, h -> {
                ((ObjectNode) h.get("__metadata__")).put(kv[0], kv[1]);
                return h;
            }));
        }
        // Valid files (the checksum made for the change) holding content that must not be used.
        String vocabulary = want.metadata(LmTraining.VOCABULARY);
        CharModelConfig cfg = CharModelConfig.fromJson(want.modelConfig());
        List<UnaryOperator<Checkpoint.Builder>> fixedUp = List.of(
                b -> b.metadata("model.dropout_counter", "-5"),
                b -> b.metadata("optimizer_steps", "x"),
                b -> b.metadata("trainer.best_step", "999"),
                b -> b.metadata(LmTraining.VOCABULARY, vocabulary.substring(0, vocabulary.length() - 1)),
                b -> b.modelConfig(want.modelConfig().replace("\"model\":\"char-lm\"", "\"model\":\"seq2seq\"")),
                b -> b.modelConfig(new CharModelConfig(cfg.vocabulary(), cfg.embedding(), cfg.cell(), Integer.MAX_VALUE
                        / 8, cfg.layers(), cfg.dropout()).toJson()),
                b -> b.modelConfig(new CharModelConfig(cfg.vocabulary(), cfg.embedding(), cfg.cell(), 20000, cfg.layers(),
                        cfg.dropout()).toJson()),
                b -> b.removeTensor("optimizer.exp_avg.rnn.weight_hh_l0"),
                b -> b.tensor("optimizer.exp_avg.rnn.bogus", new int[] {1}, new float[] {0f}),
                b -> b.metadata("trainer.settings", want.metadata("trainer.settings").replace("\"clip\":1.0",
                        "\"clip\":2.0")));
        for (UnaryOperator<Checkpoint.Builder> f : fixedUp) {
            f.apply(want.toBuilder()).build().write(m);
            record("valid file, bad content", m, Files.readAllBytes(m));
        }
        for (int i = 0; i < 8; i++) {
            boolean optimizerState = i >= 5;
            List<String> names = want.tensors().keySet().stream()
                    .filter(n -> n.startsWith("optimizer.") == optimizerState && !n.startsWith("trainer.")).toList();
            String name = names.get(r.nextInt(names.size()));
            StoredTensor t = want.tensors().get(name);
            float[] data = t.data();
            data[r.nextInt(data.length)] = i % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
            want.toBuilder().removeTensor(name).tensor(name, t.shape(), data).build().write(m);
            record(optimizerState ? "non-finite optimizer state" : "non-finite weights", m, Files.readAllBytes(m));
        }
        // Special files in the checkpoint's place.
        Path pipe = TextCorpusTestAccess.fifo(dir);
        for (Path special : new Path[] {pipe, Path.of("/dev/zero"), dir}) {
            if (special != null && Files.exists(special)) {
                tally("special file", classify(special));
            }
        }

        StringBuilder report = new StringBuilder("checkpoint fuzz (tried, refused by reader, refused by use, equal,"
                + " accepted corrupt):\n");
        int[] total = new int[5];
        counts.forEach((k, v) -> {
            report.append(String.format("  %-28s %4d %4d %4d %4d %4d%n", k, v[0], v[1], v[2], v[3], v[4]));
            for (int j = 0; j < 5; j++) {
                total[j] += v[j];
            }
        });
        report.append(String.format("  %-28s %4d %4d %4d %4d %4d%n", "all", total[0], total[1], total[2], total[3],
                total[4]));
        System.out.print(report);
        assertTrue(total[0] > 300, report.toString());
        assertEquals(0, total[4], report + "accepted corrupt:\n" + String.join("\n", accepted));
    }

    private void record(String kind, Path m, byte[] content) throws Exception {
        Files.write(m, content);
        tally(kind, classify(m));
    }

    private void tally(String kind, Outcome o) {
        int[] c = counts.computeIfAbsent(kind, k -> new int[5]);
        c[0]++;
        c[1 + o.ordinal()]++;
    }

    private Outcome classify(Path m) throws Exception {
        Checkpoint c;
        try {
            c = Checkpoint.read(m);
        } catch (CheckpointException e) {
            assertOneLine(e);
            return Outcome.REFUSED_BY_READER;
        }
        if (c.tensors().equals(want.tensors()) && c.metadata().equals(want.metadata())) {
            return Outcome.EQUAL;
        }
        // Used as recur sample uses it: refused in one line, or the very text the original gives.
        String[] sample = sample(m);
        boolean sampleOk = sample[0].equals("1") || sample[1].equals(originalSample());
        // Resumed, next to the original's best weights as the run left them: must be refused.
        Files.copy(best, Trainer.sibling(m, ".best"), StandardCopyOption.REPLACE_EXISTING);
        boolean resumeRefused;
        try {
            LmTraining.run(be, corpus, LmTrainingTest.options(corpus, m, true, 0, 0.01f), LmTrainingTest.quiet());
            resumeRefused = false;
        } catch (CheckpointException e) {
            assertOneLine(e);
            resumeRefused = true;
        }
        if (sampleOk && resumeRefused) {
            return Outcome.REFUSED_BY_USE;
        }
        accepted.add((sampleOk ? "" : "sampled differently ") + (resumeRefused ? "" : "resumed ") + c);
        return Outcome.ACCEPTED_CORRUPT;
    }

    private String originalSample;

    private String originalSample() {
        if (originalSample == null) {
            String[] s = sample(original);
            assertEquals("0", s[0], s[2]);
            originalSample = s[1];
        }
        return originalSample;
    }

    /** {exit status, stdout, stderr} of recur sample on {@code file}; a failure must be one line. */
    private static String[] sample(Path file) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = dev.recur.models.cli.Recur.standard().run(new String[] {"sample", "--checkpoint", file.toString(),
            "--length", "40", "--backend", "cpu"}, new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8);
        if (status != 0) {
            assertEquals(1, e.split("\n").length, "one line: " + e);
        }
        return new String[] {Integer.toString(status), out.toString(StandardCharsets.UTF_8), e};
    }

    private static void assertOneLine(Exception e) {
        assertFalse(e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n"),
                "one line: " + e.getMessage());
    }

    /** Pairs of parameter or optimizer tensors of one size, consecutive in the list. */
    private List<String> sameSizePairs() {
        Map<Integer, List<String>> bySize = new LinkedHashMap<>();
        want.tensors().forEach((n, t) -> bySize.computeIfAbsent(t.size(), k -> new ArrayList<>()).add(n));
        List<String> out = new ArrayList<>();
        for (List<String> group : bySize.values()) {
            for (int i = 0; i + 1 < group.size(); i += 2) {
                out.add(group.get(i));
                out.add(group.get(i + 1));
            }
        }
        return out;
    }

    private static byte[] withLength(byte[] bytes, long length) {
        byte[] b = bytes.clone();
        ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(length);
        return b;
    }

    /** The file with its header parsed, edited and written again (padded to 8), data unchanged. */
    private static byte[] rewriteHeader(byte[] bytes, UnaryOperator<ObjectNode> edit) throws IOException {
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) Json.MAPPER.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8).strip());
        byte[] json = Json.MAPPER.writeValueAsBytes(edit.apply(h));
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        ByteBuffer out = ByteBuffer.allocate(8 + padded + bytes.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(header).put(bytes, 8 + n, bytes.length - 8 - n);
        return out.array();
    }
}
