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

/** {@code recur translate} end to end, on pairs the tests write, through {@link Recur#run}. */
class TranslateCommandTest {

    /** How every failure of the command begins on stderr. */
    static final String FAILS = "recur translate: ";

    @TempDir
    Path dir;

    private static final String[] ENGLISH = {"zero", "one", "two", "three", "four", "five", "six", "seven"};
    private static final String[] FRENCH = {"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept"};

    /**
     * Number words read out in English and in French, 1 to 4 of them, word for word, with
     * Tatoeba's third (attribution) column on every other line: a language pair a small model
     * learns in a few epochs, where every target word depends on the source.
     */
    private static String pairs(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int words = 1 + r.nextInt(4);
            StringBuilder en = new StringBuilder();
            StringBuilder fr = new StringBuilder();
            for (int w = 0; w < words; w++) {
                int k = r.nextInt(ENGLISH.length);
                en.append(w == 0 ? "" : " ").append(ENGLISH[k]);
                fr.append(w == 0 ? "" : " ").append(FRENCH[k]);
            }
            sb.append(en).append(".\t").append(fr).append('.');
            sb.append(i % 2 == 0 ? "\tCC-BY 2.0 (France) Attribution: test\n" : "\n");
        }
        return sb.toString();
    }

    @Test
    void learnsAWordForWordPairAndSavesACheckpoint() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(3), 1000));
        Path checkpoint = dir.resolve("out/translator.safetensors");
        Streams s = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--hidden", "64",
                "--embedding", "16", "--epochs", "10", "--batch", "32", "--lr", "0.01", "--examples", "3",
                "--checkpoint", checkpoint.toString(), "two seven one.");
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        String out = s.out();
        assertTrue(out.contains("1000 pairs, 1000 with at most 10 tokens on both sides; 900 for training, 100 for"
                + " testing"), out);
        assertTrue(out.contains("epoch 10/10: train loss "), out);
        double bleu = s.number("test BLEU-4 ([0-9.]+)");
        double exact = s.number("exact ([0-9.]+) \\(\\d+/100\\)");
        // Word for word over 8 words (and a full stop). A decoder that ignored the encoder could only
        // guess the words: BLEU near 0.
        assertTrue(bleu >= 80, "BLEU " + bleu + "\n" + out);
        assertTrue(exact >= 0.8, "exact " + exact + "\n" + out);
        assertTrue(out.contains("  two seven one. => deux sept un ."), out);

        Checkpoint c = Checkpoint.read(checkpoint);
        WordVocabulary target = WordVocabulary.fromStorageString(c.metadata("target_vocabulary"));
        assertEquals(2, target.id(WordVocabulary.BOS));
        assertEquals(3, target.id(WordVocabulary.EOS));
        assertTrue(target.id("quatre") > 3);
        WordVocabulary source = WordVocabulary.fromStorageString(c.metadata("source_vocabulary"));
        c.require("encoder.embedding.weight", source.size(), 16);
        c.require("decoder.head.weight", target.size(), 64);
        assertTrue(c.has("encoder.rnn.weight_hh_l0") && c.has("decoder.rnn.weight_hh_l0"), c.toString());
        assertTrue(c.modelConfig().contains("\"model\":\"seq2seq\""), c.modelConfig());

        // The saved model translates as the trained one did, without training.
        Streams again = Streams.run(Recur.standard(), "translate", "--from", checkpoint.toString(), "two seven one.",
                "five.");
        assertEquals(Recur.EXIT_OK, again.status, again.err() + again.out());
        assertEquals("  two seven one. => deux sept un .\n  five. => cinq .\n", again.out());
    }

    @Test
    void fromRefusesWhatIsNotATranslateCheckpointAndTrainingOptions() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        Streams.run(Recur.standard(), "translate", "--from", missing.toString(), "one.")
                .assertOneLineFailure(FAILS, missing.toString(), "no such file");
        Path classifier = dir.resolve("classifier.safetensors");
        Path labelled = TestFiles.write(dir, "labelled.txt", "good\t1\nbad\t0\ngreat\t1\nawful\t0\nfine\t1\n");
        assertEquals(Recur.EXIT_OK, Streams.run(Recur.standard(), "classify", "--data", labelled.toString(), "--epochs",
                "1", "--hidden", "4", "--embedding", "4", "--checkpoint", classifier.toString()).status);
        Streams.run(Recur.standard(), "translate", "--from", classifier.toString(), "one.")
                .assertOneLineFailure(FAILS, classifier.toString(), "not a translate checkpoint");
        for (List<String> args : List.of(List.of("translate", "--from", classifier.toString()),
                List.of("translate", "--from", classifier.toString(), "--epochs", "3", "one."))) {
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS), s.err());
        }
    }

    @Test
    void sameSeedSameResult() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(4), 60));
        String[] args = {"translate", "--data", data.toString(), "--hidden", "8", "--embedding", "4", "--epochs", "2",
            "--batch", "8"};
        Streams first = Streams.run(Recur.standard(), args);
        Streams second = Streams.run(Recur.standard(), args);
        assertEquals(Recur.EXIT_OK, first.status, first.err());
        String noTimes = "[0-9.]+k? pairs/s.*|; [0-9.]+ s";
        assertEquals(first.out().replaceAll(noTimes, ""), second.out().replaceAll(noTimes, ""));
    }

    /** --max-length filters the data; it does not size the decoding (a huge value once ran out of memory). */
    @Test
    void aHugeMaxLengthOnlyFilters() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(2), 20));
        Streams s = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--epochs", "1", "--max-length", String.valueOf(Integer.MAX_VALUE),
                "one two three four five six seven one two three four five six seven.");
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        String line = s.out().lines().filter(l -> l.startsWith("  one two three four five six seven one")).findFirst()
                .orElseThrow(() -> new AssertionError(s.out()));
        // 15 tokens in: at most 2 * 15 + 1 words out.
        assertTrue(line.substring(line.indexOf("=>") + 2).strip().split(" ").length <= 31, line);
    }

    @Test
    void badFilesAreOneLine() throws IOException {
        Path missing = dir.resolve("missing.txt");
        Streams.run(Recur.standard(), "translate", "--data", missing.toString())
                .assertOneLineFailure(FAILS, missing.toString(), "no such file");
        Path empty = TestFiles.write(dir, "empty.txt", "\n \n");
        Streams.run(Recur.standard(), "translate", "--data", empty.toString())
                .assertOneLineFailure(FAILS, "no pairs");
        Path bad = TestFiles.write(dir, "bad.txt", "one.\tun.\nno tab here\n");
        Streams.run(Recur.standard(), "translate", "--data", bad.toString())
                .assertOneLineFailure(FAILS, bad + ":2:", "no TAB");
        Path noTarget = TestFiles.write(dir, "no-target.txt", "one.\tun.\ntwo.\t \n");
        Streams.run(Recur.standard(), "translate", "--data", noTarget.toString())
                .assertOneLineFailure(FAILS, noTarget + ":2:", "no target sentence");
        Path longOnes = TestFiles.write(dir, "long.txt", "one two three\tun deux trois\n");
        Streams.run(Recur.standard(), "translate", "--data", longOnes.toString(), "--max-length", "2")
                .assertOneLineFailure(FAILS, "no pair has at most 2 tokens", "--max-length");
    }

    @Test
    void badArgumentsExitTwoWithOneLine() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(1), 10));
        for (List<String> args : List.of(
                List.of("translate"),
                List.of("translate", "--data"),
                List.of("translate", "--data", data.toString(), "--epochs", "x"),
                List.of("translate", "--data", data.toString(), "--hidden", "0"),
                List.of("translate", "--data", data.toString(), "--cell", "transformer"),
                List.of("translate", "--data", data.toString(), "--examples", "-1"),
                List.of("translate", "--data", data.toString(), "--test-fraction", "0"),
                List.of("translate", "--data", data.toString(), "--lr", "0"),
                List.of("translate", "--data", data.toString(), "--frobnicate"))) {
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertEquals(2, s.errLines().length, args + ": " + s.err());
            assertTrue(s.err().startsWith("recur translate: "), s.err());
            assertEquals("", s.out(), args.toString());
        }
        Streams none = Streams.run(Recur.standard(), "translate");
        assertTrue(none.err().contains("'--data' is required"), none.err());
    }
}
