package dev.recur.models.cli;

import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;

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
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
        assertTrue(out.contains("1000 pairs, 1000 with at most 10 tokens on both sides; 810 for training, 90 for"
                + " validation, 100 for testing"), out);
        // 810 pairs in batches of 32: 26 steps an epoch, a validation loss after each epoch.
        assertTrue(out.contains("step 260 (epoch 10)  train loss "), out);
        // The test part is evaluated once, at the end; each epoch reports the validation loss only.
        assertEquals(10, out.lines().filter(l -> l.contains("validation loss")).count(), out);
        assertEquals(1, out.lines().filter(l -> l.contains("test loss")).count(), out);
        assertTrue(out.lines().filter(l -> l.contains("validation loss")).noneMatch(l -> l.contains("test")), out);
        double bleu = s.number("BLEU-4 ([0-9.]+)");
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
        // The longest target (4 words and a full stop) plus <eos>.
        assertEquals("6", c.metadata("target_steps"));

        // The saved model translates as the trained one did, without training.
        Streams again = Streams.run(Recur.standard(), "translate", "--from", checkpoint.toString(), "two seven one.",
                "five.");
        assertEquals(Recur.EXIT_OK, again.status, again.err() + again.out());
        assertEquals("  two seven one. => deux sept un .\n  five. => cinq .\n", again.out());
        // So does the best validation's, which the trainer keeps beside it.
        Path best = dir.resolve("out/translator.best.safetensors");
        Streams fromBest = Streams.run(Recur.standard(), "translate", "--from", best.toString(), "five.");
        assertEquals(Recur.EXIT_OK, fromBest.status, fromBest.err() + fromBest.out());
    }

    /** A small run of translate writing {@code checkpoint}, with {@code extra} arguments after the defaults. */
    private Streams small(Path checkpoint, String... extra) throws IOException {
        Path data = dir.resolve("small.txt");
        if (!Files.exists(data)) {
            TestFiles.write(dir, "small.txt", pairs(new Random(5), 80));
        }
        List<String> args = new ArrayList<>(List.of("translate", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--batch", "8", "--dropout", "0.2", "--layers", "2", "--checkpoint",
                checkpoint.toString()));
        args.addAll(Arrays.asList(extra));
        if (!args.contains("--epochs")) {
            args.addAll(List.of("--epochs", "3"));
        }
        return Streams.run(Recur.standard(), args.toArray(String[]::new));
    }

    @Test
    void resumeAfterStopAfterEndsBitForBitAsAnUninterruptedRun() throws IOException {
        Path whole = dir.resolve("whole.safetensors");
        Streams uninterrupted = small(whole);
        assertEquals(Recur.EXIT_OK, uninterrupted.status, uninterrupted.err() + uninterrupted.out());
        Path parts = dir.resolve("parts.safetensors");
        // 80 pairs: 8 for testing, 7 for validation, 65 for training in 9 batches of 8; pause mid-epoch.
        Streams paused = small(parts, "--stop-after", "13");
        assertEquals(Recur.EXIT_OK, paused.status, paused.err() + paused.out());
        assertTrue(paused.out().contains("paused after 13 steps"), paused.out());
        assertFalse(paused.out().contains("BLEU"), "a paused run leaves the test part for its end: " + paused.out());
        Streams resumed = small(parts, "--resume");
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("resuming from step 13 of 27"), resumed.out());

        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        assertEquals(27, y.step());
        String noTimes = "; [0-9.]+ s";
        assertEquals(result(uninterrupted).replaceAll(noTimes, ""), result(resumed).replaceAll(noTimes, ""));

        List<String> metrics = Files.readAllLines(dir.resolve("parts.metrics.jsonl"));
        assertEquals(27, metrics.stream().filter(l -> l.contains("\"loss\":")).count(), String.join("\n", metrics));
        assertEquals(3, metrics.stream().filter(l -> l.contains("\"validation_loss\":")).count());
        assertNotNull(ImageIO.read(dir.resolve("parts.loss.png").toFile()), "a PNG");
        small(parts, "--resume").assertOneLineFailure(FAILS, "finished");
    }

    /**
     * --input-feeding (with attention, dropout 0.2 between 2 layers): stored in the checkpoint, so
     * --from translates with it (a beam of 1 as greedy); a run paused and resumed ends bit for bit
     * as an uninterrupted one (the step-by-step decoder's dropout stream is in the checkpoint).
     */
    @Test
    void inputFeedingIsStoredResumesAndTranslatesFrom() throws IOException {
        Path whole = dir.resolve("fed.safetensors");
        Streams uninterrupted = small(whole, "--attention", "dot", "--input-feeding");
        assertEquals(Recur.EXIT_OK, uninterrupted.status, uninterrupted.err() + uninterrupted.out());
        assertTrue(uninterrupted.out().contains("attention=dot, inputFeeding=true"), uninterrupted.out());
        assertTrue(Checkpoint.read(whole).modelConfig().contains("\"input_feeding\":1"));
        Path parts = dir.resolve("fed-parts.safetensors");
        assertEquals(Recur.EXIT_OK, small(parts, "--attention", "dot", "--input-feeding", "--stop-after", "13").status);
        Streams resumed = small(parts, "--attention", "dot", "--input-feeding", "--resume");
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err() + resumed.out());
        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        Streams greedy = Streams.run(Recur.standard(), "translate", "--from", whole.toString(), "two seven one.",
                "five.");
        assertEquals(Recur.EXIT_OK, greedy.status, greedy.err() + greedy.out());
        assertTrue(greedy.out().startsWith("  two seven one. => "), greedy.out());
        Streams beamOne = Streams.run(Recur.standard(), "translate", "--from", whole.toString(), "--beam", "1",
                "two seven one.", "five.");
        assertEquals(greedy.out(), beamOne.out());
        assertEquals(Recur.EXIT_OK, Streams.run(Recur.standard(), "translate", "--from", whole.toString(), "--beam",
                "3", "two seven one.").status);
    }

    /**
     * Cell options on both stacks (layer norm, recurrent dropout, zoneout; 2 layers, dropout 0.2,
     * general attention): stored in the checkpoint with the ln_* weights of encoder and decoder, a
     * paused and resumed run ends bit for bit as an uninterrupted one (both stacks' draw counters
     * are in the checkpoint), --from translates and beam 1 = greedy. --proj-size, and the options
     * with --input-feeding, exit 2 naming the option.
     */
    @Test
    void cellOptionsAreStoredResumeAndTranslateFrom() throws IOException {
        String[] options = {"--attention", "general", "--layer-norm", "--recurrent-dropout", "0.2", "--zoneout",
            "0.1", "--cell", "lstm"};
        Path whole = dir.resolve("opt.safetensors");
        Streams uninterrupted = small(whole, options);
        assertEquals(Recur.EXIT_OK, uninterrupted.status, uninterrupted.err() + uninterrupted.out());
        Checkpoint x = Checkpoint.read(whole);
        assertTrue(x.modelConfig().endsWith("\"layer_norm\":true,\"recurrent_dropout\":0.2,\"zoneout_h\":0.1,"
                + "\"zoneout_c\":0.1}"), x.modelConfig());
        x.require("encoder.rnn.ln_c_weight_l1", 8);
        x.require("decoder.rnn.ln_ih_bias_l0", 32);
        Path parts = dir.resolve("opt-parts.safetensors");
        List<String> paused = new ArrayList<>(Arrays.asList(options));
        paused.addAll(List.of("--stop-after", "13"));
        assertEquals(Recur.EXIT_OK, small(parts, paused.toArray(String[]::new)).status);
        List<String> resume = new ArrayList<>(Arrays.asList(options));
        resume.add("--resume");
        Streams resumed = small(parts, resume.toArray(String[]::new));
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err() + resumed.out());
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        Streams greedy = Streams.run(Recur.standard(), "translate", "--from", whole.toString(), "two seven one.");
        assertEquals(Recur.EXIT_OK, greedy.status, greedy.err() + greedy.out());
        Streams beamOne = Streams.run(Recur.standard(), "translate", "--from", whole.toString(), "--beam", "1",
                "two seven one.");
        assertEquals(greedy.out(), beamOne.out());

        Streams proj = small(dir.resolve("p.safetensors"), "--proj-size", "4");
        assertEquals(Recur.EXIT_USAGE, proj.status, proj.err());
        assertTrue(proj.err().contains("option '--proj-size' is not supported by translate"), proj.err());
        Streams fed = small(dir.resolve("f.safetensors"), "--attention", "dot", "--input-feeding", "--zoneout", "0.1");
        assertEquals(Recur.EXIT_USAGE, fed.status, fed.err());
        assertTrue(fed.err().contains("option '--input-feeding' runs the decoder on plain cells"), fed.err());
        Streams rnn = small(dir.resolve("r.safetensors"), "--cell", "rnn_tanh", "--layer-norm");
        assertEquals(Recur.EXIT_USAGE, rnn.status, rnn.err());
        assertTrue(rnn.err().contains("option '--layer-norm' needs an LSTM or GRU cell"), rnn.err());
    }

    /** --input-feeding without attention exits 2 naming both options, before any work. */
    @Test
    void inputFeedingWithoutAttentionExitsTwoNamingBothOptions() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(1), 10));
        for (String[] extra : new String[][] {{}, {"--attention", "none"}}) {
            List<String> args = new ArrayList<>(List.of("translate", "--data", data.toString(), "--checkpoint",
                    dir.resolve("bad.safetensors").toString(), "--input-feeding"));
            args.addAll(Arrays.asList(extra));
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS), s.err());
            assertTrue(s.err().contains("--input-feeding") && s.err().contains("--attention"), s.err());
            assertFalse(Files.exists(dir.resolve("bad.safetensors")));
        }
    }

    /** The line of test figures. */
    private static String result(Streams s) {
        return s.out().lines().filter(l -> l.startsWith("test loss")).findFirst()
                .orElseThrow(() -> new AssertionError(s.out()));
    }

    @Test
    void patienceStopsEarlyAndRestoreBestEndsWithTheBestWeights() throws IOException {
        Path checkpoint = dir.resolve("t.safetensors");
        // Adam with a learning rate this high makes the validation loss jump about after the first epochs.
        Streams s = small(checkpoint, "--epochs", "12", "--lr", "0.3", "--patience", "1", "--restore-best");
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        assertTrue(s.out().contains("stopped early at step"), s.out());
        Checkpoint last = Checkpoint.read(checkpoint);
        Checkpoint best = Checkpoint.read(dir.resolve("t.best.safetensors"));
        assertTrue(last.step() > best.step(), last.step() + " vs " + best.step());
        for (Map.Entry<String, StoredTensor> e : best.tensors().entrySet()) {
            if (!e.getKey().startsWith("optimizer.")) {
                assertArrayEquals(e.getValue().data(), last.tensors().get(e.getKey()).data(), e.getKey());
            }
        }
    }

    @Test
    void aDivergingRunFailsInOneLine() throws IOException {
        small(dir.resolve("d.safetensors"), "--lr", "1e6", "--optimizer", "sgd", "--clip", "0")
                .assertOneLineFailure(FAILS, "diverged at step");
    }

    @Test
    void fromRefusesACheckpointOfAnotherKindNamingBoth() throws IOException {
        Path classifier = dir.resolve("classifier.safetensors");
        Checkpoint.builder().modelConfig("{\"model\":\"sequence-classifier\"}").build().write(classifier);
        Streams.run(Recur.standard(), "translate", "--from", classifier.toString(), "one.")
                .assertOneLineFailure(FAILS, classifier.toString(),
                        "sequence-classifier model (made by recur classify)",
                        "not a seq2seq model (made by recur translate)");
        // Nor does training overwrite it.
        byte[] before = Files.readAllBytes(classifier);
        small(classifier).assertOneLineFailure(FAILS, "not overwriting");
        assertArrayEquals(before, Files.readAllBytes(classifier));
    }

    @Test
    void fromRefusesAMissingFileTrainingOptionsAndNoSentence() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        Streams.run(Recur.standard(), "translate", "--from", missing.toString(), "one.")
                .assertOneLineFailure(FAILS, missing.toString(), "no such file");
        for (String[] c : new String[][] {{"--epochs", "3"}, {"--checkpoint", "x.safetensors"}, {"--resume"},
            {"--data", "pairs.txt"}, {"--bidirectional"}}) {
            List<String> args = new ArrayList<>(List.of("translate", "--from", missing.toString()));
            args.addAll(Arrays.asList(c));
            args.add("one.");
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS + "option '" + c[0] + "' is for training"), s.err());
        }
        Streams none = Streams.run(Recur.standard(), "translate", "--from", missing.toString());
        assertEquals(Recur.EXIT_USAGE, none.status, none.err());
        assertTrue(none.err().contains("at least one SENTENCE"), none.err());
    }

    @Test
    void sameSeedSameResult() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(4), 60));
        String[] args = {"translate", "--data", data.toString(), "--hidden", "8", "--embedding", "4", "--epochs", "2",
            "--batch", "8", "--checkpoint", dir.resolve("a.safetensors").toString()};
        Streams first = Streams.run(Recur.standard(), args);
        Streams second = Streams.run(Recur.standard(), args);
        assertEquals(Recur.EXIT_OK, first.status, first.err());
        String noTimes = "[0-9.]+k? pairs/s.*|; [0-9.]+ s";
        // The second run overwrites the first's checkpoint, and says so.
        assertEquals(first.out().replaceAll(noTimes, ""), second.out().replaceAll(noTimes, "")
                .replaceFirst("overwriting .*\n", ""));
        assertTrue(second.out().contains("overwriting " + dir.resolve("a.safetensors")), second.out());
    }

    /** --max-length filters the data; it does not size the decoding (a huge value once ran out of memory). */
    @Test
    void aHugeMaxLengthOnlyFilters() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(2), 20));
        Streams s = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--epochs", "1", "--max-length", String.valueOf(Integer.MAX_VALUE),
                "--checkpoint", dir.resolve("a.safetensors").toString(),
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

    /**
     * Attention, a beam and heatmaps end to end: training with --attention general --beam 3 reports
     * the beam search, draws the first test sentences' weights as PNGs (one row per target token,
     * one column per source word); --from translates with the saved model by beam and draws each
     * SENTENCE; a beam of 1 on the same checkpoint gives the greedy words of a run without --beam.
     */
    @Test
    void attentionBeamSearchAndHeatmaps() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(3), 300));
        Path checkpoint = dir.resolve("att.safetensors");
        Path maps = dir.resolve("maps");
        Streams s = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--hidden", "16",
                "--embedding", "8", "--epochs", "3", "--batch", "16", "--lr", "0.01", "--attention", "general",
                "--beam", "3", "--length-penalty", "0.6", "--heatmaps", maps.toString(), "--checkpoint",
                checkpoint.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        assertTrue(s.out().contains("attention=general"), s.out());
        assertTrue(s.out().contains("by beam search (beam 3, length penalty 0.6)"), s.out());
        for (int i = 1; i <= 3; i++) {
            Path png = maps.resolve("attention-" + i + ".png");
            assertNotNull(ImageIO.read(png.toFile()), png + " is a PNG");
            assertTrue(s.out().contains("attention heatmap " + png), s.out());
        }
        Streams from = Streams.run(Recur.standard(), "translate", "--from", checkpoint.toString(), "--beam", "4",
                "--heatmaps", dir.resolve("from").toString(), "two seven one.", "three.");
        assertEquals(Recur.EXIT_OK, from.status, from.err() + from.out());
        assertTrue(from.out().contains("  two seven one. => "), from.out());
        assertNotNull(ImageIO.read(dir.resolve("from/attention-2.png").toFile()));
        Streams greedy = Streams.run(Recur.standard(), "translate", "--from", checkpoint.toString(), "two seven one.");
        Streams beamOne = Streams.run(Recur.standard(), "translate", "--from", checkpoint.toString(), "--beam", "1",
                "two seven one.");
        assertEquals(greedy.out(), beamOne.out());
        // A model without attention has no weights to draw.
        Path plain = dir.resolve("plain.safetensors");
        assertEquals(Recur.EXIT_OK, small(plain, "--epochs", "1").status);
        Streams.run(Recur.standard(), "translate", "--from", plain.toString(), "--heatmaps", maps.toString(), "one.")
                .assertOneLineFailure(FAILS, "without attention", "--attention");
    }

    @Test
    void badAttentionBeamAndHeatmapOptionsExitTwoNamingTheOption() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(1), 10));
        String[][] cases = {
            {"--attention", "luong"}, {"--beam", "0"}, {"--length-penalty", "-1"}, {"--length-penalty", "x"},
            {"--heatmaps", dir.resolve("maps").toString()}, {"--attention", "dot", "--bidirectional"}};
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("translate", "--data", data.toString(), "--checkpoint",
                    dir.resolve("bad.safetensors").toString()));
            args.addAll(Arrays.asList(c));
            Streams s = Streams.run(Recur.standard(), args.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS), s.err());
            assertTrue(s.err().contains(c[0]), args + ": the message names the option: " + s.err());
            assertFalse(Files.exists(dir.resolve("bad.safetensors")), "no work done for " + args);
        }
        Streams luong = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--attention", "luong");
        assertTrue(luong.err().contains("none, additive, dot, general"), luong.err());
    }

    /** --save-split writes what the run trains and tests on, as ids, for a peer to use. */
    @Test
    void saveSplitWritesThePartsAndVocabularies() throws IOException {
        Path data = TestFiles.write(dir, "pairs.txt", pairs(new Random(3), 100));
        Path split = dir.resolve("out/split.json");
        Streams s = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--epochs", "1", "--save-split", split.toString(), "--checkpoint",
                dir.resolve("a.safetensors").toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        var json = dev.recur.models.io.Json.MAPPER.readTree(split.toFile());
        assertTrue(s.out().contains("100 pairs, 100 with at most 10 tokens on both sides; " + json.get("train").size()
                + " for training, " + json.get("validation").size() + " for validation, " + json.get("test").size()
                + " for testing"), s.out());
        assertEquals(json.get("test").size(), json.get("test_references").size());
        assertEquals(WordVocabulary.BOS, json.get("target_vocabulary").get(json.get("bos").asInt()).asText());
        assertEquals(WordVocabulary.EOS, json.get("target_vocabulary").get(json.get("eos").asInt()).asText());
        // The first test pair's target ids spell its reference.
        var first = json.get("test").get(0).get(1);
        var reference = json.get("test_references").get(0);
        assertEquals(reference.size(), first.size());
        for (int i = 0; i < first.size(); i++) {
            assertEquals(reference.get(i).asText(), json.get("target_vocabulary").get(first.get(i).asInt()).asText());
        }
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
                List.of("translate", "--data", data.toString(), "--validation-fraction", "1"),
                List.of("translate", "--data", data.toString(), "--patience", "-1"),
                List.of("translate", "--data", data.toString(), "--stop-after", "x"),
                List.of("translate", "--data", data.toString(), "--epoch", "3"),
                List.of("translate", "--data", data.toString(), "--frobnicate"))) {
            List<String> all = new ArrayList<>(List.of("translate", "--checkpoint", dir.resolve("bad.safetensors")
                    .toString()));
            all.addAll(args.subList(1, args.size()));
            Streams s = Streams.run(Recur.standard(), all.toArray(String[]::new));
            assertEquals(Recur.EXIT_USAGE, s.status, args + ": " + s.err());
            assertEquals(2, s.errLines().length, args + ": " + s.err());
            assertTrue(s.err().startsWith("recur translate: "), s.err());
            assertEquals("", s.out(), args.toString());
            assertFalse(Files.exists(dir.resolve("bad.safetensors")), "no work done for " + args);
        }
        Streams typo = Streams.run(Recur.standard(), "translate", "--data", data.toString(), "--epoch", "3");
        assertTrue(typo.err().contains("did you mean --epochs"), typo.err());
        Streams none = Streams.run(Recur.standard(), "translate");
        assertTrue(none.err().contains("'--data' is required"), none.err());
    }
}
