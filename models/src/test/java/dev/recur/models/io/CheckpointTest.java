package dev.recur.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {

    @TempDir
    Path dir;

    private static Checkpoint sample() {
        return CheckpointFixtures.v1Small();
    }

    @Test
    void roundTripKeepsTensorsBitExactAndEveryMetadataValue() throws IOException {
        Checkpoint c = sample();
        Path file = dir.resolve("ckpt.safetensors");
        c.write(file);
        Checkpoint back = Checkpoint.read(file);

        assertEquals(c.tensors(), back.tensors()); // StoredTensor.equals compares bits
        assertEquals(List.copyOf(c.tensors().keySet()), List.copyOf(back.tensors().keySet()));
        assertEquals(c.modelConfig(), back.modelConfig());
        assertEquals("adam lr=0.002 beta1=0.9 beta2=0.999 eps=1e-8", back.optimizer());
        assertEquals("42", back.dataPosition());
        assertEquals(7, back.step());
        assertEquals(1234567890123L, back.seed());
        assertEquals(Map.of("vocabulary", "\n !ab"), back.extraMetadata());
        assertEquals("\n !ab", back.metadata("vocabulary"));
        assertNull(back.metadata("nothing"));
        assertEquals(file, back.source());
        assertEquals(2, back.formatVersion());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(back.require("bias_hh_l0", 8).get(0)));
    }

    @Test
    void headerCarriesFormatVersionAndTheChecksumOfTheDataSection() throws Exception {
        Path file = dir.resolve("ckpt.safetensors");
        sample().write(file);
        SafeTensors raw = SafeTensors.read(file);
        Map<String, String> meta = raw.metadata();

        assertEquals(List.of("format", "format_version", "model_config", "optimizer", "data_position", "step", "seed",
                "vocabulary", "checksum"), List.copyOf(meta.keySet()));
        assertEquals("recur-checkpoint", meta.get("format"));
        assertEquals("2", meta.get("format_version"));
        assertEquals("7", meta.get("step"));

        byte[] bytes = Files.readAllBytes(file);
        int dataStart = 8 + (int) RawFiles.headerLength(bytes);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(bytes, dataStart, bytes.length - dataStart);
        assertEquals(HexFormat.of().formatHex(sha.digest()), raw.dataSha256());
        assertEquals(raw.contentSha256("checksum"), meta.get("checksum"));
        assertNotEquals(raw.dataSha256(), meta.get("checksum"), "the header is hashed too");
    }

    /** Rewrites the header of {@code file} with {@code edit} applied to its JSON text, same length. */
    private static void editHeader(Path file, java.util.function.UnaryOperator<String> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) RawFiles.headerLength(bytes);
        String header = new String(bytes, 8, n, java.nio.charset.StandardCharsets.UTF_8);
        byte[] changed = edit.apply(header).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(n, changed.length, "the edit keeps the header's length");
        System.arraycopy(changed, 0, bytes, 8, n);
        Files.write(file, bytes);
    }

    @Test
    void damageInTheHeaderThatStillParsesIsCorrupt() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        // A tensor's name with one bit flipped (m -> l): valid JSON, a plausible name.
        sample().write(file);
        editHeader(file, h -> h.replace("\"weight_hh_l0\"", "\"weight_hh_l1\""));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("corrupt: checksum mismatch"), e.getMessage());
        // The data offsets of two tensors of one size swapped: each now reads the other's values.
        sample().write(file);
        editHeader(file, h -> {
            java.util.regex.Matcher a = java.util.regex.Pattern.compile("\"bias_ih_l0\":\\{[^}]*\"data_offsets\":\\[(\\d+),(\\d+)\\]")
                    .matcher(h);
            java.util.regex.Matcher b = java.util.regex.Pattern.compile("\"bias_hh_l0\":\\{[^}]*\"data_offsets\":\\[(\\d+),(\\d+)\\]")
                    .matcher(h);
            assertTrue(a.find() && b.find(), h);
            String pa = "[" + a.group(1) + "," + a.group(2) + "]";
            String pb = "[" + b.group(1) + "," + b.group(2) + "]";
            assertEquals(pa.length(), pb.length(), "same digits: " + pa + " " + pb);
            return h.replace(pa, "#A#").replace(pb, pa).replace("#A#", pb);
        });
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("corrupt: checksum mismatch"), e.getMessage());
        // A metadata value edited: the step.
        sample().write(file);
        editHeader(file, h -> h.replace("\"step\":\"7\"", "\"step\":\"5\""));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("corrupt: checksum mismatch"), e.getMessage());
    }

    @Test
    void oneChangedByteOfDataIsCorrupt() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        sample().write(file);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 5] ^= 0x01; // a low mantissa bit: the file stays valid safetensors
        Files.write(file, bytes);

        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file + ": corrupt: checksum mismatch"), e.getMessage());
        // The plain reader has no checksum to check and still reads it.
        SafeTensors.read(file);
    }

    @Test
    void truncatedAndDamagedHeadersAreRefused() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        sample().write(file);
        byte[] bytes = Files.readAllBytes(file);

        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        byte[] damaged = bytes.clone();
        damaged[9] = '[';
        Files.write(file, damaged);
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("malformed JSON header"), e.getMessage());
    }

    /** Writes a file with the given metadata through the plain writer, checksum included. */
    private Path withMetadata(Map<String, String> meta, boolean checksum) throws IOException {
        Path file = dir.resolve("meta.safetensors");
        Map<String, StoredTensor> tensors = Map.of("w", new StoredTensor(new int[] {2}, new float[] {1, 2}));
        SafeTensors.write(file, tensors, meta, checksum ? Checkpoint.KEY_CHECKSUM : null, SafeTensors.WriteHook.NONE);
        return file;
    }

    private static Map<String, String> validMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "recur-checkpoint");
        m.put("format_version", "2");
        m.put("model_config", "{}");
        m.put("optimizer", "sgd");
        m.put("data_position", "0");
        m.put("step", "0");
        m.put("seed", "0");
        return m;
    }

    private void assertRefused(Map<String, String> meta, boolean checksum, String fragment) throws IOException {
        Path file = withMetadata(meta, checksum);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(fragment),
                "'" + fragment + "' in: " + e.getMessage());
    }

    @Test
    void theHandMadeValidMetadataIsAccepted() throws IOException {
        Checkpoint c = Checkpoint.read(withMetadata(validMetadata(), true));
        assertEquals("sgd", c.optimizer());
    }

    @Test
    void refusesFilesThatAreNotRecurCheckpointsOrTooNew() throws IOException {
        Map<String, String> m = validMetadata();
        m.remove("format");
        assertRefused(m, true, "not a Recur checkpoint: no 'format'");

        m = validMetadata();
        m.put("format", "someone-else");
        assertRefused(m, true, "not a Recur checkpoint: format is 'someone-else'");

        m = validMetadata();
        m.put("format_version", "3");
        assertRefused(m, true, "written by a newer Recur: format_version 3, this Recur reads format_version 2 and older");

        m = validMetadata();
        m.put("format_version", "one");
        assertRefused(m, true, "format_version is 'one'");

        m = validMetadata();
        m.put("format_version", "0");
        assertRefused(m, true, "format_version 0 does not exist");
    }

    @Test
    void refusesMissingOrMalformedRecurMetadata() throws IOException {
        assertRefused(validMetadata(), false, "no 'checksum'");

        Map<String, String> m = validMetadata();
        m.put("checksum", "00");
        assertRefused(m, false, "corrupt: checksum mismatch");

        m = validMetadata();
        m.put("model_config", "{\"hidden\":");
        assertRefused(m, true, "model_config is not a JSON object");

        m = validMetadata();
        m.put("model_config", "[1]");
        assertRefused(m, true, "model_config is not a JSON object: found array");

        m = validMetadata();
        m.put("step", "seven");
        assertRefused(m, true, "step is 'seven', expected an integer");

        m = validMetadata();
        m.put("step", "-1");
        assertRefused(m, true, "step is -1");

        m = validMetadata();
        m.remove("seed");
        assertRefused(m, true, "no 'seed' in __metadata__");
    }

    @Test
    void requireNamesFileAndShapes() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        sample().write(file);
        Checkpoint c = Checkpoint.read(file);
        assertArrayEquals(new int[] {8, 2}, c.require("weight_hh_l0", 8, 2).shape());
        CheckpointException e = assertThrows(CheckpointException.class, () -> c.require("weight_hh_l0", 8, 3));
        assertEquals(file + ": mismatched: weight_hh_l0 is [8, 2] in the file, the model needs [8, 3]", e.getMessage());
        // Built in memory: no file to name.
        e = assertThrows(CheckpointException.class, () -> sample().require("weight_hh_l0", 8, 3));
        assertEquals("mismatched: weight_hh_l0 is [8, 2] in the checkpoint, the model needs [8, 3]", e.getMessage());
    }

    // ------------------------------------------------------------------------ atomic writes

    private List<Path> folderContents() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void aWriteThatFailsMidwayLeavesThePreviousCheckpointAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint old = sample();
        old.write(file);
        byte[] before = Files.readAllBytes(file);

        Checkpoint next = old.toBuilder().step(8).dataPosition("43").build();
        CheckpointException e = assertThrows(CheckpointException.class, () -> next.write(file, name -> {
            if (name.equals("weight_hh_l0")) {
                throw new IOException("disk full (simulated)");
            }
        }));
        assertTrue(e.getMessage().startsWith(file + ": cannot write: disk full (simulated)"), e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(7, Checkpoint.read(file).step());
        assertEquals(List.of(file), folderContents());

        // A failure that is not an IOException cleans up too.
        assertThrows(IllegalStateException.class, () -> next.write(file, name -> {
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(file), folderContents());
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void aSuccessfulWriteReplacesTheOldFileAndLeavesNothingElse() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        sample().write(file);
        sample().toBuilder().step(99).build().write(file);
        assertEquals(99, Checkpoint.read(file).step());
        assertEquals(List.of(file), folderContents());
    }

    @Test
    void writingIntoAMissingFolderNamesTheFile() {
        Path file = dir.resolve("no/such/folder/ckpt.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class, () -> sample().write(file));
        assertTrue(e.getMessage().startsWith(file + ": cannot write: the folder"), e.getMessage());
    }

    // ------------------------------------------------------------------------------ builder

    @Test
    void builderRefusesReservedKeysTakenNamesAndBadConfig() {
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.builder().metadata("checksum", "x"));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.builder().metadata("step", "1"));
        Checkpoint.Builder b = Checkpoint.builder().tensor("w", new int[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> b.tensor("w", new int[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> b.tensor("__metadata__", new int[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.builder().modelConfig("{").build());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.builder().modelConfig("3").build());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.builder().step(-1));
    }

    @Test
    void builderCopiesArraysSoTrainingCanGoOn() {
        float[] w = {1, 2};
        Checkpoint c = Checkpoint.builder().tensor("w", new int[] {2}, w).build();
        w[0] = 5;
        assertEquals(1f, c.tensors().get("w").get(0));
        assertTrue(c.toString().contains("w[2]"), c.toString());
    }

    @Test
    void aPipeOrADeviceIsNotReadAsACheckpoint() throws Exception {
        Path pipe = dev.recur.models.data.TextCorpusTestAccess.fifo(dir);
        for (Path p : new Path[] {pipe, Path.of("/dev/zero")}) {
            if (p == null || !Files.exists(p)) {
                continue;
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(p));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
    }
}
