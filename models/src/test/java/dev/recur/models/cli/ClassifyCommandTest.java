package dev.recur.models.cli;

import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    void learnsASeparableTaskWellAboveTheMajorityBaselineAndSavesACheckpoint() throws IOException {
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
        assertTrue(out.contains("192 for training, 48 for testing"), out);
        assertTrue(out.contains("epoch 8/8: train loss "), out);
        double accuracy = s.number("test accuracy ([0-9.]+) \\(\\d+/48\\)");
        double baseline = s.number("majority-class baseline ([0-9.]+)");
        // A token-level rule: a 16-unit GRU gets it all by epoch 6 here (0.92 after 3); the baseline is about 0.5.
        assertTrue(accuracy >= 0.9, "accuracy " + accuracy + "\n" + out);
        assertTrue(accuracy >= baseline + 0.3, "accuracy " + accuracy + " vs baseline " + baseline);

        Checkpoint c = Checkpoint.read(checkpoint);
        WordVocabulary v = WordVocabulary.fromStorageString(c.metadata("vocabulary"));
        assertTrue(v.id("great") > WordVocabulary.UNK_ID);
        assertEquals("0\n1", c.metadata("classes"));
        assertTrue(c.modelConfig().contains("\"classes\":2"), c.modelConfig());
        c.require("embedding.weight", v.size(), 8);
        assertTrue(c.has("head.weight"), c.toString());
    }

    @Test
    void sameSeedSameResult() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(3), 60));
        String[] args = {"classify", "--data", a.toString(), "--hidden", "8", "--embedding", "4", "--epochs", "2",
            "--batch", "8"};
        Streams first = Streams.run(Recur.standard(), args);
        Streams second = Streams.run(Recur.standard(), args);
        assertEquals(Recur.EXIT_OK, first.status, first.err());
        // Everything but the timings and rates.
        assertEquals(first.out().replaceAll("[0-9.]+k? samples/s.*|; [0-9.]+ s", ""),
                second.out().replaceAll("[0-9.]+k? samples/s.*|; [0-9.]+ s", ""));
    }

    @Test
    void missingFileIsOneLine() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(1), 10));
        Path missing = dir.resolve("missing.txt");
        Streams.run(Recur.standard(), "classify", "--data", a + "," + missing)
                .assertOneLineFailure(FAILS, missing.toString(), "no such file");
    }

    @Test
    void emptyFileIsOneLine() throws IOException {
        Path empty = TestFiles.write(dir, "empty.txt", "\n\n");
        Streams.run(Recur.standard(), "classify", "--data", empty.toString())
                .assertOneLineFailure(FAILS, empty.toString(), "no examples");
    }

    @Test
    void malformedLineIsOneLineNamingTheLine() throws IOException {
        Path bad = TestFiles.write(dir, "bad.txt", "good food\t1\nno tab on this line\nbad food\t0\n");
        Streams.run(Recur.standard(), "classify", "--data", bad.toString())
                .assertOneLineFailure(FAILS, bad + ":2:", "no TAB");
    }

    @Test
    void oneClassIsOneLine() throws IOException {
        Path one = TestFiles.write(dir, "one.txt", "good food\t1\ngreat food\t1\n");
        Streams.run(Recur.standard(), "classify", "--data", one.toString())
                .assertOneLineFailure(FAILS, "only one class");
    }

    @Test
    void badArgumentsExitTwoWithOneLine() throws IOException {
        Path a = TestFiles.write(dir, "a.txt", sentences(new Random(1), 10));
        for (List<String> args : List.of(
                List.of("classify"),
                List.of("classify", "--data"),
                List.of("classify", "--data", a + ",,"),
                List.of("classify", "--data", a.toString(), "--epochs", "x"),
                List.of("classify", "--data", a.toString(), "--hidden", "0"),
                List.of("classify", "--data", a.toString(), "--cell", "transformer"),
                List.of("classify", "--data", a.toString(), "--optimizer", "lbfgs"),
                List.of("classify", "--data", a.toString(), "--test-fraction", "1"),
                List.of("classify", "--data", a.toString(), "--dropout", "1.5"),
                List.of("classify", "--data", a.toString(), "--frobnicate"),
                List.of("classify", "--data", a.toString(), "extra"))) {
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertEquals(2, s.errLines().length, args + ": " + s.err());
            assertTrue(s.err().startsWith("recur classify: "), s.err());
            assertEquals("", s.out(), args.toString());
        }
        Streams none = Streams.run(Recur.standard(), "classify");
        assertTrue(none.err().contains("'--data' is required"), none.err());
    }

    @Test
    void helpNamesTheDefaultsAndThePaddingRule() {
        Streams s = Streams.run(Recur.standard(), "help", "classify");
        assertEquals(Recur.EXIT_OK, s.status);
        assertTrue(s.out().startsWith("usage: recur classify --data FILE"), s.out());
        assertTrue(s.out().replaceAll("\\s+", " ").contains("padding rows whose loss is ignored"), s.out());
        assertTrue(s.out().contains("--cell NAME") && s.out().contains("[gru]"), s.out());
    }
}
