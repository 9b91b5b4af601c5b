package dev.recur.models.cli;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cell options end to end through the commands, on the cpu engine: stored in the
 * checkpoint's configuration with their weights, so {@code recur sample} and {@code --from}
 * rebuild the same model, and a paused and resumed run with recurrent dropout and zoneout ends
 * bit for bit where an uninterrupted run ends (the draw counter travels in the checkpoint).
 */
class CellOptionsCommandTest {

    @TempDir
    Path dir;

    private static final String[] OPTIONS = {"--layer-norm", "--recurrent-dropout", "0.2", "--zoneout", "0.1",
        "--proj-size", "5"};

    private static void assertSameTensors(Checkpoint x, Checkpoint y) {
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
    }

    private Streams trainLm(Path checkpoint, String... extra) throws IOException {
        Path text = TestFiles.write(dir, "text.txt", "the cat sat on the mat. the dog sat on the log. ".repeat(100));
        List<String> args = new ArrayList<>(List.of("train-lm", "--data", text.toString(), "--hidden", "8",
                "--embedding", "4", "--layers", "2", "--batch", "4", "--window", "8", "--sample-length", "5",
                "--steps", "6", "--checkpoint-every", "2", "--validate-every", "3", "--checkpoint",
                checkpoint.toString()));
        args.addAll(Arrays.asList(OPTIONS));
        args.addAll(Arrays.asList(extra));
        return Streams.run(Recur.standard(), args.toArray(String[]::new));
    }

    @Test
    void trainLmStoresTheOptionsSamplesFromThemAndResumesBitForBit() throws IOException {
        Path whole = dir.resolve("whole.safetensors");
        Streams s = trainLm(whole);
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        Checkpoint c = Checkpoint.read(whole);
        assertTrue(c.modelConfig().endsWith(",\"layer_norm\":true,\"recurrent_dropout\":0.2,\"zoneout_h\":0.1,"
                + "\"zoneout_c\":0.1,\"proj_size\":5}"), c.modelConfig());
        c.require("rnn.weight_hr_l1", 5, 8);
        c.require("rnn.weight_hh_l0", 32, 5);
        c.require("rnn.ln_c_weight_l1", 8);
        c.require("trainer.carry.h_l0", 4, 5); // the LSTM's projected h is its state
        c.require("trainer.carry.c_l0", 4, 8);
        assertTrue(c.metadata().keySet().stream().anyMatch(k -> k.endsWith("dropout_counter.cell_draws")),
                c.metadata().keySet().toString());

        Streams sample = Streams.run(Recur.standard(), "sample", "--checkpoint", whole.toString(), "--prime", "the",
                "--length", "12");
        assertEquals(Recur.EXIT_OK, sample.status, sample.err());
        assertEquals(15, sample.out().strip().length(), sample.out());

        Path parts = dir.resolve("parts.safetensors");
        Streams paused = trainLm(parts, "--stop-after", "3");
        assertEquals(Recur.EXIT_OK, paused.status, paused.err() + paused.out());
        Streams resumed = trainLm(parts, "--resume");
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("resuming from step 3 of 6"), resumed.out());
        assertSameTensors(c, Checkpoint.read(parts));
    }

    /** Lines "words TAB label": label 1 when the line holds "good", 0 when it holds "bad". */
    private Path sentences(int n) throws IOException {
        Random r = new Random(5);
        String[] filler = {"the", "a", "meal", "was", "very", "and", "staff", "place"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            boolean positive = r.nextBoolean();
            int words = 3 + r.nextInt(5);
            int at = r.nextInt(words);
            for (int w = 0; w < words; w++) {
                sb.append(w == 0 ? "" : " ").append(w == at ? (positive ? "good" : "bad")
                        : filler[r.nextInt(filler.length)]);
            }
            sb.append('\t').append(positive ? 1 : 0).append('\n');
        }
        return TestFiles.write(dir, "s.txt", sb.toString());
    }

    private Streams classify(Path data, Path checkpoint, String... extra) {
        List<String> args = new ArrayList<>(List.of("classify", "--data", data.toString(), "--hidden", "8",
                "--embedding", "4", "--batch", "8", "--layers", "2", "--bidirectional", "--dropout", "0.2",
                "--epochs", "3", "--patience", "0", "--checkpoint", checkpoint.toString()));
        args.addAll(Arrays.asList(OPTIONS));
        args.addAll(Arrays.asList(extra));
        return Streams.run(Recur.standard(), args.toArray(String[]::new));
    }

    @Test
    void classifyResumesBitForBitAndClassifiesFromTheSavedModel() throws IOException {
        Path data = sentences(80);
        Path whole = dir.resolve("whole.safetensors");
        Streams s = classify(data, whole);
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        Path parts = dir.resolve("parts.safetensors");
        Streams paused = classify(data, parts, "--stop-after", "10");
        assertEquals(Recur.EXIT_OK, paused.status, paused.err() + paused.out());
        Streams resumed = classify(data, parts, "--resume");
        assertEquals(Recur.EXIT_OK, resumed.status, resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("resuming from step 10 of"), resumed.out());
        Checkpoint c = Checkpoint.read(whole);
        assertSameTensors(c, Checkpoint.read(parts));
        c.require("rnn.weight_hr_l1_reverse", 5, 8);
        c.require("rnn.weight_ih_l1", 24, 10); // a GRU (the default cell); layer 1 reads 2 directions of P
        c.require("head.weight", 2, 16);        // the head reads each direction's final h: the GRU's is H wide

        Streams from = Streams.run(Recur.standard(), "classify", "--from", whole.toString(), "good meal",
                "bad place");
        assertEquals(Recur.EXIT_OK, from.status, from.err());
        assertEquals(2, from.out().strip().split("\n").length, from.out());
    }

    @Test
    void forecastFromASavedModelWithOptionsForecastsWhatTheRunForecast() throws IOException {
        StringBuilder sb = new StringBuilder("step,value\n");
        Random r = new Random(11);
        for (int i = 0; i < 100; i++) {
            sb.append(i).append(',').append(String.format(Locale.ROOT, "%.4f",
                    50 + 10 * Math.sin(2 * Math.PI * i / 20) + r.nextGaussian())).append('\n');
        }
        Path csv = TestFiles.write(dir, "sine.csv", sb.toString());
        Path checkpoint = dir.resolve("fc.safetensors");
        List<String> args = new ArrayList<>(List.of("forecast", "--data", csv.toString(), "--window", "8",
                "--hidden", "8", "--epochs", "2", "--horizon", "4", "--checkpoint", checkpoint.toString(), "--plot",
                dir.resolve("p.png").toString(), "--cell", "gru", "--layer-norm", "--zoneout", "0.1", "--proj-size",
                "3"));
        Streams trained = Streams.run(Recur.standard(), args.toArray(String[]::new));
        assertEquals(Recur.EXIT_OK, trained.status, trained.err() + trained.out());
        Streams from = Streams.run(Recur.standard(), "forecast", "--from", checkpoint.toString(), "--data",
                csv.toString(), "--horizon", "4", "--plot", dir.resolve("q.png").toString());
        assertEquals(Recur.EXIT_OK, from.status, from.err() + from.out());
        assertEquals(tail(trained.out()), tail(from.out()));
        assertTrue(Checkpoint.read(checkpoint).modelConfig().contains("\"proj_size\":3"));
    }

    /** The lines after the {@code ahead,} line: the forecast. */
    private static String tail(String out) {
        int at = out.lastIndexOf("ahead,");
        assertTrue(at >= 0, out);
        return out.substring(at).lines().filter(l -> l.matches("\\d+,.*|ahead,.*")).toList().toString();
    }
}
