package dev.recur.models.cli;

import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur classify} end to end, on data the tests write, through {@link Recur#run}. */
class ClassifyCommandTest {

    /** How every failure of the command begins on stderr. */
    static final String FAILS = "recur classify: ";

    @TempDir
    Path dir;

    private static final String[] FILLER = {"the", "food", "was", "really", "and", "service", "place", "our", "waiter",
        "quite", "very", "this", "it", "staff", "menu", "today", "a", "so"};
    private static final String[] POSITIVE = {"good", "great", "excellent", "lovely"};
    private static final String[] NEGATIVE = {"bad", "awful", "terrible", "poor"};

    /**
     * Sentences of 3 to 9 filler words with one sentiment word somewhere among them: label 1 for
     * a positive word, 0 for a negative one. Separable by a single token, so a small model learns
     * it in a few epochs; the filler makes the model find that token at any position.
     */
    private static String sentences(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            boolean positive = r.nextBoolean();
            int words = 3 + r.nextInt(7);
            int at = r.nextInt(words + 1);
            StringBuilder s = new StringBuilder();
            for (int w = 0; w <= words; w++) {
                String word = w == at ? (positive ? POSITIVE : NEGATIVE)[r.nextInt(4)]
                        : FILLER[r.nextInt(FILLER.length)];
                s.append(w == 0 ? "" : " ").append(word);
            }
            sb.append(s).append(r.nextInt(3) == 0 ? "!" : ".").append('\t').append(positive ? 1 : 0).append('\n');
        }
        return sb.toString();
    }

    /** {@code classify} with small settings, the checkpoint in the test's folder, then {@code extra}. */
    private Streams classify(Path data, Path checkpoint, String... extra) {
        List<String> args = new ArrayList<>(List.of("classify", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--batch", "8", "--checkpoint", checkpoint.toString()));
        args.addAll(Arrays.asList(extra));
        if (!args.contains("--epochs")) {
            args.addAll(List.of("--epochs", "2"));
        }
        return Streams.run(Recur.standard(), args.toArray(String[]::new));
    }

    @Test
    void learnsASeparableTaskWellAboveTheMajorityBaselineAndClassifiesWithTheSavedModel() throws IOException {
        Random r = new Random(7);
        // Two files, one given with a repeated option and one with --data=, to check both forms.
        Path a = TestFiles.write(dir, "a.txt", sentences(r, 160));
        Path b = TestFiles.write(dir, "b.txt", sentences(r, 80));
        Path checkpoint = dir.resolve("out/classifier.safetensors");
        Streams s = Streams.run(Recur.standard(), "classify", "--data", a.toString(), "--data=" + b, "--hidden", "16",
                "--embedding", "8", "--epochs", "8", "--batch", "16", "--lr", "0.01", "--checkpoint",
                checkpoint.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        String out = s.out();
        assertTrue(out.contains("240 examples, classes [0, 1]"), out);
        // 48 held out for testing; 10% of the other 192 (19) for validation.
        assertTrue(out.contains("173 for training, 19 for validation, 48 for testing"), out);
        assertTrue(out.contains("validation loss "), out);
        assertTrue(out.contains("validation accuracy "), out);
        // The test part is used once, at the end, never while training.
        assertEquals(1, out.split("test accuracy", -1).length - 1, out);
        double accuracy = s.number("test accuracy ([0-9.]+) \\(\\d+/48\\)");
        double baseline = s.number("majority-class baseline ([0-9.]+)");
        // A token-level rule: a 16-unit GRU gets nearly all of it in 8 epochs; the baseline is about 0.5.
        assertTrue(accuracy >= 0.9, "accuracy " + accuracy + "\n" + out);
        assertTrue(accuracy >= baseline + 0.3, "accuracy " + accuracy + " vs baseline " + baseline);

        List<String> metrics = Files.readAllLines(dir.resolve("out/classifier.metrics.jsonl"));
        assertTrue(metrics.stream().anyMatch(l -> l.contains("\"validation_loss\":")), String.join("\n", metrics));
        assertFalse(String.join("\n", metrics).contains("test"), "metrics never see the test part");
        assertTrue(Files.isRegularFile(dir.resolve("out/classifier.loss.png")));

        Checkpoint c = Checkpoint.read(checkpoint);
        WordVocabulary v = WordVocabulary.fromStorageString(c.metadata("vocabulary"));
        assertTrue(v.id("great") > WordVocabulary.UNK_ID);
        assertEquals("0\n1", c.metadata("classes"));
        assertEquals("40", c.metadata("max_length"));
        assertTrue(c.modelConfig().contains("\"model\":\"sequence-classifier\""), c.modelConfig());
        assertTrue(c.modelConfig().contains("\"classes\":2"), c.modelConfig());
        c.require("embedding.weight", v.size(), 8);
        assertTrue(c.has("head.weight"), c.toString());

        Streams from = Streams.run(Recur.standard(), "classify", "--from", checkpoint.toString(),
                "the food was great and the staff lovely", "awful service", "so bad.");
        assertEquals(Recur.EXIT_OK, from.status, from.err());
        String[] lines = from.out().split("\n");
        assertEquals(3, lines.length, from.out());
        String[] first = lines[0].split("\t");
        assertEquals("1", first[0], from.out());
        double p = Double.parseDouble(first[1]);
        assertTrue(p > 0.5 && p <= 1, from.out());
        assertEquals("the food was great and the staff lovely", first[2]);
        assertTrue(lines[1].startsWith("0\t") && lines[1].endsWith("\tawful service"), from.out());
        assertTrue(lines[2].startsWith("0\t"), from.out());
    }

    @Test
    void sameSeedSameResult() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(3), 60));
        Path one = dir.resolve("one/c.safetensors");
        Path two = dir.resolve("two/c.safetensors");
        Streams first = classify(a, one);
        Streams second = classify(a, two);
        assertEquals(Recur.EXIT_OK, first.status, first.err());
        // Everything but the timings, rates and file names.
        String timing = "[0-9.]+k? samples/s.*|; [0-9.]+ s";
        assertEquals(first.out().replaceAll(timing, "").replace(one.getParent().toString(), "DIR"),
                second.out().replaceAll(timing, "").replace(two.getParent().toString(), "DIR"));
    }

    @Test
    void aResumedRunEndsBitForBitWhereAnUninterruptedRunEnds() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(5), 80));
        Path whole = dir.resolve("whole.safetensors");
        Path parts = dir.resolve("parts.safetensors");
        // 80 examples: 16 test, 64 left, 6 validation, 58 training = 8 batches of 8 per epoch, 24 steps;
        // dropout between the two layers checks that the dropout stream resumes too.
        String[] settings = {"--epochs", "3", "--layers", "2", "--dropout", "0.2", "--patience", "0"};
        assertEquals(Recur.EXIT_OK, classify(a, whole, settings).status);
        List<String> paused = new ArrayList<>(Arrays.asList(settings));
        paused.addAll(List.of("--stop-after", "11"));
        Streams first = classify(a, parts, paused.toArray(String[]::new));
        assertEquals(Recur.EXIT_OK, first.status, first.err());
        assertTrue(first.out().contains("paused after 11 steps"), first.out());
        assertFalse(first.out().contains("test accuracy"), "a paused run does not test: " + first.out());
        List<String> resumed = new ArrayList<>(Arrays.asList(settings));
        resumed.add("--resume");
        Streams second = classify(a, parts, resumed.toArray(String[]::new));
        assertEquals(Recur.EXIT_OK, second.status, second.err());
        assertTrue(second.out().contains("resuming from step 11 of 24"), second.out());
        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        assertEquals(24, y.step());
        classify(a, parts, resumed.toArray(String[]::new)).assertOneLineFailure(FAILS, "finished");
    }

    @Test
    void fromRefusesACheckpointOfAnotherKindNamingBoth() throws IOException {
        Path lm = dir.resolve("x.safetensors");
        Checkpoint.builder().modelConfig("{\"model\":\"char-lm\"}").build().write(lm);
        Streams.run(Recur.standard(), "classify", "--from", lm.toString(), "some text")
                .assertOneLineFailure(FAILS, lm + ": holds a char-lm model (made by recur train-lm), not a"
                        + " sequence-classifier model (made by recur classify)");
        Streams.run(Recur.standard(), "classify", "--from", dir.resolve("none.safetensors").toString(), "text")
                .assertOneLineFailure(FAILS, "none.safetensors");
    }

    @Test
    void fromTakesTextsAndNoTrainingOptions() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(1), 10));
        Path model = dir.resolve("m.safetensors");
        for (String[] c : new String[][] {
            {"--from", model.toString(), "--hidden", "8", "text", "'--hidden' is for training"},
            {"--from", model.toString(), "--data", a.toString(), "text", "'--data' is for training"},
            {"--from", model.toString(), "--epochs", "3", "text", "'--epochs' is for training"},
            {"--from", model.toString(), "--from needs at least one TEXT"},
            {"--data", a.toString(), "--checkpoint", model.toString(), "stray", "unexpected argument 'stray'"}}) {
            List<String> args = new ArrayList<>(List.of("classify"));
            args.addAll(Arrays.asList(c).subList(0, c.length - 1));
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertEquals(2, s.errLines().length, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS) && s.err().contains(c[c.length - 1]), s.err());
            assertEquals("", s.out(), args.toString());
        }
        assertFalse(Files.exists(model));
    }

    @Test
    void aDivergingRunFailsWithOneLine() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(2), 80));
        classify(a, dir.resolve("c.safetensors"), "--lr", "1e6", "--optimizer", "sgd", "--clip", "0", "--epochs", "5")
                .assertOneLineFailure(FAILS, "diverged at step");
    }

    @Test
    void missingFileIsOneLine() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(1), 10));
        Path missing = dir.resolve("missing.txt");
        classify(Path.of(a + "," + missing), dir.resolve("c.safetensors"))
                .assertOneLineFailure(FAILS, missing.toString(), "no such file");
    }

    @Test
    void emptyFileIsOneLine() throws IOException {
        Path empty = TestFiles.write(dir, "empty.txt", "\n\n");
        classify(empty, dir.resolve("c.safetensors")).assertOneLineFailure(FAILS, empty.toString(), "no examples");
    }

    @Test
    void malformedLineIsOneLineNamingTheLine() throws IOException {
        Path bad = TestFiles.write(dir, "bad.txt", "good food\t1\nno tab on this line\nbad food\t0\n");
        classify(bad, dir.resolve("c.safetensors")).assertOneLineFailure(FAILS, bad + ":2:", "no TAB");
    }

    @Test
    void oneClassIsOneLine() throws IOException {
        Path one = TestFiles.write(dir, "one.txt", "good food\t1\ngreat food\t1\n");
        classify(one, dir.resolve("c.safetensors")).assertOneLineFailure(FAILS, "only one class");
    }

    @Test
    void badArgumentsExitTwoWithOneLineBeforeAnyWork() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(1), 10));
        Path checkpoint = dir.resolve("c.safetensors");
        String data = a.toString();
        String[][] cases = {
            {"--data", "--data"},
            {"--data", data + ",,", "empty file name"},
            {"--data", "," + data, "empty file name"},
            {"--data", data, "--epochs", "x", "--epochs"},
            {"--data", data, "--hidden", "0", "--hidden"},
            // Sizes are bounded: --hidden 50000 used to end in a NegativeArraySizeException.
            {"--data", data, "--hidden", "50000", "--hidden"},
            {"--data", data, "--embedding", "50000", "--embedding"},
            {"--data", data, "--layers", "50000", "--layers"},
            {"--data", data, "--batch", "50000", "--batch"},
            {"--data", data, "--max-length", "50000", "--max-length"},
            {"--data", data, "--cell", "transformer", "--cell"},
            {"--data", data, "--optimizer", "lbfgs", "--optimizer"},
            {"--data", data, "--test-fraction", "1", "--test-fraction"},
            {"--data", data, "--validation-fraction", "0", "--validation-fraction"},
            {"--data", data, "--dropout", "1.5", "--dropout"},
            {"--data", data, "--lr", "-1", "--lr"},
            {"--data", data, "--patience", "-1", "--patience"},
            {"--data", data, "--hiden", "8", "did you mean --hidden"},
            {"--data", data, "--frobnicate", "--frobnicate"},
            {"--data", data, "extra", "unexpected argument 'extra'"},
            {"--hidden", "8", "'--data' is required"}};
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("classify", "--checkpoint", checkpoint.toString()));
            args.addAll(Arrays.asList(c).subList(0, c.length - 1));
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertEquals(2, s.errLines().length, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS), s.err());
            assertTrue(s.err().contains(c[c.length - 1]), args + ": " + s.err());
            assertEquals("", s.out(), args.toString());
            assertFalse(Files.exists(checkpoint), "no work done for " + args);
        }
    }

    @Test
    void helpNamesTheDefaultsThePaddingRuleAndFrom() {
        Streams s = Streams.run(Recur.standard(), "help", "classify");
        assertEquals(Recur.EXIT_OK, s.status);
        String help = s.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("Usage: recur classify --data FILE[,FILE...] [options]"), s.out());
        assertTrue(help.contains("recur classify --from MODEL TEXT..."), s.out());
        assertTrue(help.contains("padding rows whose loss is ignored"), s.out());
        assertTrue(help.contains("--cell=NAME") && help.contains("Default: gru"), s.out());
        assertTrue(help.contains("--patience=N") && help.contains("Default: 3"), s.out());
        assertTrue(help.contains("Default: runs/classify.safetensors"), s.out());
    }
}
