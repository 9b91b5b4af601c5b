package dev.recur.models.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur train-lm} end to end, through {@link Recur#run}, on text the test writes. */
class TrainLmCommandTest {

    @TempDir
    Path dir;

    @Test
    void makesTheCheckpointFolderWhenItDoesNotExist() throws IOException {
        // A fresh clone has no runs/ folder: the default checkpoint lives in one.
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "the cat sat on the mat. the dog sat on the log. ".repeat(200),
                StandardCharsets.UTF_8);
        Path checkpoint = dir.resolve("not/yet/made/lm.safetensors");
        Streams s = Streams.run(Recur.standard(), "train-lm", "--data", text.toString(), "--steps", "3",
                "--hidden", "8", "--embedding", "4", "--layers", "1", "--batch", "4", "--window", "8",
                "--checkpoint", checkpoint.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        assertTrue(Files.isRegularFile(checkpoint), "checkpoint written: " + s.out());
    }
}
