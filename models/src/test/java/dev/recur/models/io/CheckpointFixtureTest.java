package dev.recur.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoint files written by earlier versions of Recur must keep loading. Each committed fixture
 * (made by {@link CheckpointFixtures}) is read and compared with what its generator builds.
 */
class CheckpointFixtureTest {

    @Test
    void formatVersion1FileStillLoads() throws IOException {
        assertTrue(Files.isRegularFile(CheckpointFixtures.V1_SMALL), "fixture missing: " + CheckpointFixtures.V1_SMALL.toAbsolutePath());
        Checkpoint c = Checkpoint.read(CheckpointFixtures.V1_SMALL);
        Checkpoint want = CheckpointFixtures.v1Small();

        assertEquals(1, c.formatVersion());
        assertEquals(want.tensors(), c.tensors());
        assertEquals(want.metadata(), c.metadata());
        assertEquals(7, c.step());
        assertEquals("42", c.dataPosition());
        assertEquals(8, c.require("weight_ih_l0", 8, 3).dim(0));
    }

    @Test
    void formatVersion2FileLoads() throws IOException {
        Checkpoint c = Checkpoint.read(CheckpointFixtures.V2_SMALL);
        Checkpoint want = CheckpointFixtures.v1Small();
        assertEquals(2, c.formatVersion());
        assertEquals(want.tensors(), c.tensors());
        assertEquals(want.metadata(), c.metadata());
    }

    /**
     * While the writer's format version is 2, it must produce the committed bytes. When the format
     * changes on purpose, bump {@link Checkpoint#FORMAT_VERSION}, keep the old fixtures and their
     * reading tests, and add a new one (see {@link CheckpointFixtures#main}).
     */
    @Test
    void theWriterStillProducesTheVersion2Bytes(@TempDir Path dir) throws IOException {
        assertEquals(2, Checkpoint.FORMAT_VERSION, "a new format version needs a new fixture and this test moved to it");
        Path file = dir.resolve("again.safetensors");
        CheckpointFixtures.v1Small().write(file);
        assertArrayEquals(Files.readAllBytes(CheckpointFixtures.V2_SMALL), Files.readAllBytes(file));
    }
}
