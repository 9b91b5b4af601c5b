package dev.recur.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example program runs as a user would run it, and does what its comment says. */
class StackedLstmExampleTest {

    @Test
    void fitsSavesLoadsAndForecastsBetterThanNaive(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        StackedLstmExample.Report r = StackedLstmExample.run(dir, 12, new PrintStream(log, true));
        assertTrue(r.sameForecasts(), "the loaded model forecasts exactly as the trained one");
        assertEquals(r.trainedRmse(), r.loadedRmse());
        assertTrue(r.bestValidation() < r.firstValidation() / 2, "validation loss fell: " + r + "\n" + log);
        assertTrue(r.trainedRmse() < r.naiveRmse(), "beats the naive forecast: " + r + "\n" + log);
        assertTrue(Files.isRegularFile(dir.resolve("sine-lstm.safetensors")));
        assertTrue(Files.readAllLines(dir.resolve("metrics.jsonl")).stream().anyMatch(l -> l.contains("validation_loss")));
    }

    @Test
    void mainRunsIntoTheFolderItIsGiven(@TempDir Path dir) throws Exception {
        StackedLstmExample.main(new String[] {dir.toString()});
        assertTrue(Files.isRegularFile(dir.resolve("sine-lstm.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("checkpoint.safetensors")));
    }
}
