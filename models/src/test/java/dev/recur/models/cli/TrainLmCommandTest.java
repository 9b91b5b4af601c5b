package dev.recur.models.cli;

import dev.recur.models.io.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur train-lm} and {@code recur sample} end to end, through {@link Recur#run}, on text the test writes. */
class TrainLmCommandTest {

    @TempDir
    Path dir;

    private Path text() throws IOException {
        Path text = dir.resolve("text.txt");
        if (!Files.exists(text)) {
            Files.writeString(text, "the cat sat on the mat. the dog sat on the log. ".repeat(200),
                    StandardCharsets.UTF_8);
        }
        return text;
    }

    /** A tiny train-lm run writing {@code checkpoint}; {@code extra} adds options or replaces the defaults' values. */
    private Streams trainLm(Path checkpoint, String... extra) throws IOException {
        java.util.Map<String, String> options = new java.util.LinkedHashMap<>();
        for (String[] kv : new String[][] {{"--data", text().toString()}, {"--hidden", "8"}, {"--embedding", "4"},
            {"--layers", "1"}, {"--batch", "4"}, {"--window", "8"}, {"--sample-length", "5"}, {"--steps", "3"},
            {"--checkpoint", checkpoint.toString()}}) {
            options.put(kv[0], kv[1]);
        }
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < extra.length; i++) {
            if (extra[i].equals("--resume")) {
                flags.add(extra[i]);
            } else {
                options.put(extra[i], extra[++i]);
            }
        }
        List<String> args = new ArrayList<>(List.of("train-lm"));
        options.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        args.addAll(flags);
        return Streams.run(Recur.standard(), args.toArray(String[]::new));
    }

    @Test
    void makesTheCheckpointFolderWhenItDoesNotExist() throws IOException {
        // A fresh clone has no runs/ folder: the default checkpoint lives in one.
        Path checkpoint = dir.resolve("not/yet/made/lm.safetensors");
        Streams s = trainLm(checkpoint);
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        assertTrue(Files.isRegularFile(checkpoint), "checkpoint written: " + s.out());
    }

    @Test
    void writesMetricsAsJsonLinesAndALossCurve() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        Streams s = trainLm(checkpoint, "--validate-every", "2");
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        List<String> lines = Files.readAllLines(dir.resolve("lm.metrics.jsonl"));
        assertEquals(3, lines.stream().filter(l -> l.contains("\"loss\":")).count(), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("{\"step\":2,") && l.contains("\"validation_loss\":")),
                String.join("\n", lines));
        assertNotNull(ImageIO.read(dir.resolve("lm.loss.png").toFile()), "a PNG");
    }

    @Test
    void aCheckpointOfAnotherKindIsNotOverwritten() throws IOException {
        Path checkpoint = dir.resolve("sent.safetensors");
        Checkpoint.builder().modelConfig("{\"model\":\"sequence-classifier\"}").build().write(checkpoint);
        byte[] before = Files.readAllBytes(checkpoint);
        Streams s = trainLm(checkpoint);
        s.assertOneLineFailure("recur train-lm: ", "sent.safetensors", "sequence-classifier", "recur classify",
                "not overwriting");
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
    }

    @Test
    void overwritingAnEarlierRunSaysSo() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        assertEquals(Recur.EXIT_OK, trainLm(checkpoint).status);
        Streams s = trainLm(checkpoint);
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("overwriting " + checkpoint), s.out());
    }

    @Test
    void resumeRefusesAMissingFileAndAFinishedRun() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        trainLm(checkpoint, "--resume").assertOneLineFailure("recur train-lm: ", "lm.safetensors", "no such file");
        assertFalse(Files.exists(checkpoint), "a mistyped --resume path must not start a fresh run");
        assertEquals(Recur.EXIT_OK, trainLm(checkpoint).status);
        trainLm(checkpoint, "--resume").assertOneLineFailure("recur train-lm: ", "finished");
        Streams paused = trainLm(checkpoint, "--steps", "6", "--stop-after", "2");
        assertEquals(Recur.EXIT_OK, paused.status, paused.err());
        Streams resumed = trainLm(checkpoint, "--steps", "6", "--resume");
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err());
        assertTrue(resumed.out().contains("resuming from step 2 of 6"), resumed.out());
    }

    @Test
    void badValuesAreRefusedBeforeAnyWork() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        String[][] cases = {{"--lr", "-1", "--lr"}, {"--hidden", "100000", "--hidden"},
            {"--temperature", "0", "--temperature"}, {"--hiden", "8", "did you mean --hidden"},
            {"--cell", "lstn", "--cell"}, {"--schedule", "linear", "--schedule"}};
        for (String[] c : cases) {
            Streams s = trainLm(checkpoint, c[0], c[1]);
            assertEquals(Recur.EXIT_USAGE, s.status, Arrays.toString(c) + ": " + s.err());
            assertTrue(s.err().contains(c[2]), s.err());
            assertEquals(1, s.errLines().length - 1, "one line: " + s.err());
            assertFalse(Files.exists(checkpoint), "no work done for " + Arrays.toString(c));
        }
    }

    @Test
    void aDivergingRunFailsAndKeepsNoBrokenCheckpoint() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        Streams s = trainLm(checkpoint, "--lr", "1e6", "--steps", "40", "--optimizer", "sgd", "--clip", "0");
        s.assertOneLineFailure("recur train-lm: ", "diverged at step");
    }

    @Test
    void sampleRefusesACheckpointOfAnotherKindNamingBoth() throws IOException {
        Path checkpoint = dir.resolve("sent.safetensors");
        Checkpoint.builder().modelConfig("{\"model\":\"sequence-classifier\"}").build().write(checkpoint);
        Streams s = Streams.run(Recur.standard(), "sample", "--checkpoint", checkpoint.toString());
        s.assertOneLineFailure("recur sample: ", "sequence-classifier model (made by recur classify)",
                "not a char-lm model (made by recur train-lm)");
    }

    @Test
    void sampleGeneratesFromATrainedModel() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        assertEquals(Recur.EXIT_OK, trainLm(checkpoint).status);
        Streams s = Streams.run(Recur.standard(), "sample", "--checkpoint", checkpoint.toString(), "--prime", "the",
                "--length", "20");
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().startsWith("the") && s.out().strip().length() == 23, s.out());
    }

    @Test
    void anUpdateThatPoisonsTheWeightsNeverReplacesTheLastGoodCheckpoint() throws IOException {
        // Issue 19's case: SGD at lr 1e38 without clipping, a checkpoint every step.
        Path checkpoint = dir.resolve("lm.safetensors");
        Streams s = trainLm(checkpoint, "--hidden", "32", "--embedding", "8", "--batch", "8", "--window", "16",
                "--steps", "200", "--lr", "1e38", "--optimizer", "sgd", "--clip", "0", "--cell", "gru",
                "--checkpoint-every", "1");
        s.assertOneLineFailure("recur train-lm: ", "diverged at step");
        if (Files.exists(checkpoint)) {
            for (var t : Checkpoint.read(checkpoint).tensors().values()) {
                for (float v : t.data()) {
                    assertTrue(Float.isFinite(v), "a finite checkpoint is left");
                }
            }
        }
    }

    @Test
    void resumeRefusesAChangedSettingUnlessTold() throws IOException {
        Path checkpoint = dir.resolve("lm.safetensors");
        assertEquals(Recur.EXIT_OK, trainLm(checkpoint, "--steps", "6", "--stop-after", "2").status);
        trainLm(checkpoint, "--steps", "6", "--resume", "--clip", "1")
                .assertOneLineFailure("recur train-lm: ", "clip was 5.0, now 1.0");
        Streams told = trainLm(checkpoint, "--steps", "6", "--resume", "--clip", "1", "--resume-changing", "clip");
        assertEquals(Recur.EXIT_OK, told.status, told.err());
        assertTrue(told.out().contains("resuming with changed settings, as asked: clip was 5.0, now 1.0"), told.out());
        Streams misuse = trainLm(dir.resolve("other.safetensors"), "--resume-changing", "clip");
        assertEquals(Recur.EXIT_USAGE, misuse.status, misuse.err());
    }
}
