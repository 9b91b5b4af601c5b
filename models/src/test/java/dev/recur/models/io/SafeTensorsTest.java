package dev.recur.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.recur.models.io.RawFiles.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    /** Random finite float32 values over the whole range, with -0.0, subnormals and the extremes. */
    private static float[] awkwardValues(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float x;
            do {
                x = Float.intBitsToFloat(r.nextInt());
            } while (!Float.isFinite(x));
            v[i] = x;
        }
        float[] special = {-0.0f, 0.0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL};
        System.arraycopy(special, 0, v, 0, Math.min(n, special.length));
        return v;
    }

    @Test
    void roundTripIsBitExactAndKeepsOrderAndMetadata() throws IOException {
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        tensors.put("weight_ih_l0", new StoredTensor(new int[] {12, 5}, awkwardValues(60, 1)));
        tensors.put("scalar", new StoredTensor(new int[] {}, new float[] {-0.0f}));
        tensors.put("empty", new StoredTensor(new int[] {0, 3}, new float[0]));
        tensors.put("a.b", new StoredTensor(new int[] {2, 3, 4}, awkwardValues(24, 2)));
        tensors.put("big", new StoredTensor(new int[] {300_001}, awkwardValues(300_001, 3))); // > one 1 MiB chunk
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("z", "last letter first");
        meta.put("unicode", "é ✓ \"quoted\" \\ \n\t");
        Path file = dir.resolve("t.safetensors");

        new SafeTensors(tensors, meta).write(file);
        SafeTensors back = SafeTensors.read(file);

        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()));
        for (String name : tensors.keySet()) {
            StoredTensor want = tensors.get(name);
            StoredTensor got = back.tensors().get(name);
            assertArrayEquals(want.shape(), got.shape(), name);
            float[] w = want.data();
            float[] g = got.data();
            for (int i = 0; i < w.length; i++) {
                assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(g[i]), name + "[" + i + "]");
            }
            assertEquals(want, got);
        }
        assertEquals(meta, back.metadata());
        assertEquals(List.copyOf(meta.keySet()), List.copyOf(back.metadata().keySet()));
        assertEquals(file, back.source());
    }

    @Test
    void writtenHeaderIsPaddedWithSpacesToEightBytesAndStartsWithABrace() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafeTensors(Map.of("w", new StoredTensor(new int[] {3}, new float[] {1, 2, 3})), Map.of()).write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = RawFiles.headerLength(bytes);
        assertEquals(0, n % 8);
        assertEquals('{', bytes[8]);
        assertEquals(8 + n + 12, bytes.length);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", header.strip());
    }

    @Test
    void dataSha256IsTheHashOfTheBytesAfterTheHeader() throws Exception {
        Path file = dir.resolve("t.safetensors");
        new SafeTensors(Map.of("w", new StoredTensor(new int[] {2, 2}, new float[] {1, -2, 3.5f, 0})), Map.of()).write(file);
        byte[] bytes = Files.readAllBytes(file);
        int start = 8 + (int) RawFiles.headerLength(bytes);
        var sha = java.security.MessageDigest.getInstance("SHA-256");
        sha.update(bytes, start, bytes.length - start);
        assertEquals(java.util.HexFormat.of().formatHex(sha.digest()), SafeTensors.read(file).dataSha256());
    }

    /** As PyTorch's safetensors writes: no __metadata__, keys sorted, header padded with spaces. */
    @Test
    void readsAHandBuiltFileWithoutMetadata() throws IOException {
        String header = "{\"bias_hh_l0\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"weight_hh_l0\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[8,16]}}";
        assertTrue(header.length() % 8 != 0, "the test needs padding to happen");
        Path file = RawFiles.write(dir.resolve("torch.safetensors"), header, RawFiles.concat(f32(0.5f, -1f), f32(2f, -0.0f)));

        SafeTensors st = SafeTensors.read(file);

        assertEquals(Map.of(), st.metadata());
        assertEquals(List.of("bias_hh_l0", "weight_hh_l0"), List.copyOf(st.tensors().keySet()));
        assertEquals(new StoredTensor(new int[] {2}, new float[] {0.5f, -1f}), st.require("bias_hh_l0", 2));
        assertEquals(new StoredTensor(new int[] {2, 1}, new float[] {2f, -0.0f}), st.require("weight_hh_l0", 2, 1));
    }

    @Test
    void tensorOrderInTheDataNeedNotFollowTheHeader() throws IOException {
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        SafeTensors st = SafeTensors.read(RawFiles.write(dir.resolve("t"), header, f32(1f, 2f)));
        assertEquals(List.of("b", "a"), List.copyOf(st.tensors().keySet()));
        assertEquals(2f, st.tensors().get("b").get(0));
        assertEquals(1f, st.tensors().get("a").get(0));
    }

    @Test
    void metadataNullIsNoMetadata() throws IOException {
        String header = "{\"__metadata__\":null,\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertEquals(Map.of(), SafeTensors.read(RawFiles.write(dir.resolve("t"), header, f32(1f))).metadata());
    }

    @Test
    void requireNamesTheFileAndBothShapes() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafeTensors(Map.of("weight_hh_l0", new StoredTensor(new int[] {16, 4}, new float[64])), Map.of()).write(file);
        SafeTensors st = SafeTensors.read(file);

        CheckpointException e = assertThrows(CheckpointException.class, () -> st.require("weight_hh_l0", 16, 5));
        assertEquals(file + ": mismatched: weight_hh_l0 is [16, 4] in the file, the model needs [16, 5]", e.getMessage());

        e = assertThrows(CheckpointException.class, () -> st.require("weight_hh_l1", 16, 4));
        assertTrue(e.getMessage().startsWith(file + ": missing: the model needs weight_hh_l1 [16, 4]"), e.getMessage());
        assertTrue(e.getMessage().contains("weight_hh_l0"), "lists what is there: " + e.getMessage());
    }

    // ---------------------------------------------------------------------------- refusals

    private CheckpointException refused(Path file) {
        return assertThrows(CheckpointException.class, () -> SafeTensors.read(file));
    }

    private void assertRefused(Path file, String fragment) {
        CheckpointException e = refused(file);
        assertTrue(e.getMessage().startsWith(file + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
        assertEquals(file, e.file());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private Path header(String json, byte[] data) throws IOException {
        return RawFiles.write(dir.resolve("bad.safetensors"), json, data);
    }

    private static String one(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void refusesAMissingFileAndAFolder() {
        assertRefused(dir.resolve("nope.safetensors"), "no such file");
        assertRefused(dir, "is a folder");
    }

    @Test
    void refusesAFileTooShortForTheHeaderLength() throws IOException {
        Path file = Files.write(dir.resolve("short"), new byte[] {1, 2, 3, 4, 5});
        assertRefused(file, "too short: 5 bytes");
        assertRefused(Files.write(dir.resolve("empty"), new byte[0]), "too short: 0 bytes");
    }

    @Test
    void refusesAHeaderLengthLargerThanTheFile() throws IOException {
        assertRefused(RawFiles.writeExact(dir.resolve("t"), 1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 1000 is larger than the file (10 bytes)");
        // A length with the top bit set is a huge unsigned number, not a negative one.
        assertRefused(RawFiles.writeExact(dir.resolve("t"), -1, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 18446744073709551615 is larger");
    }

    @Test
    void refusesAHeaderOverTheLimit() throws IOException {
        Path file = dir.resolve("huge");
        RawFiles.writeExact(file, SafeTensors.MAX_HEADER_BYTES + 8, new byte[0], new byte[0]);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SafeTensors.MAX_HEADER_BYTES + 64); // sparse: costs no disk
        }
        assertRefused(file, "exceeds the limit of 100000000 bytes");
    }

    @Test
    void refusesMalformedJson() throws IOException {
        assertRefused(header("{\"a\":", new byte[0]), "malformed JSON header");
        assertRefused(header("[1, 2]", new byte[0]), "malformed JSON header: expected one JSON object, found array");
        assertRefused(header("", new byte[0]), "malformed JSON header: expected one JSON object, found nothing");
        assertRefused(header("{} {}", new byte[0]), "malformed JSON header");
        assertRefused(header("{" + one("a", "F32", "[1]", "[0,4]") + "," + one("a", "F32", "[1]", "[0,4]") + "}", f32(1)),
                "Duplicate field 'a'");
        Path badUtf8 = RawFiles.writeExact(dir.resolve("t"), 8, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}', ' '}, new byte[0]);
        assertRefused(badUtf8, "not valid UTF-8");
    }

    @Test
    void refusesUnknownAndUnsupportedDtypes() throws IOException {
        assertRefused(header("{" + one("w", "Q7", "[1]", "[0,4]") + "}", f32(1)), "tensor 'w' has unknown dtype 'Q7'");
        assertRefused(header("{" + one("steps", "I64", "[1]", "[0,8]") + "}", new byte[8]),
                "tensor 'steps' has dtype I64, which Recur does not read");
    }

    @Test
    void refusesBadShapesAndOffsets() throws IOException {
        assertRefused(header("{" + one("w", "F32", "[-1]", "[0,4]") + "}", f32(1)), "shape [-1] must hold integers");
        assertRefused(header("{" + one("w", "F32", "[1.5]", "[0,4]") + "}", f32(1)), "shape [1.5] must hold integers");
        assertRefused(header("{" + one("w", "F32", "[1]", "[0]") + "}", f32(1)), "data_offsets must be [begin, end]");
        assertRefused(header("{" + one("w", "F32", "[1]", "[4,0]") + "}", f32(1)), "end before they begin");
        assertRefused(header("{" + one("w", "F32", "[2, 3]", "[0,20]") + "}", new byte[20]),
                "tensor 'w': data_offsets [0,20] span 20 bytes, but shape [2, 3] of F32 needs 24");
        assertRefused(header("{\"w\":[1,2]}", new byte[0]), "tensor 'w': expected an object");
        assertRefused(header("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "dtype missing");
    }

    @Test
    void refusesOverlapsGapsAndOffsetsOutsideTheData() throws IOException {
        assertRefused(header("{" + one("a", "F32", "[2]", "[0,8]") + "," + one("b", "F32", "[2]", "[4,12]") + "}", new byte[12]),
                "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
        assertRefused(header("{" + one("a", "F32", "[1]", "[0,4]") + "," + one("b", "F32", "[1]", "[8,12]") + "}", new byte[12]),
                "bytes [4, 8) of the data section belong to no tensor");
        assertRefused(header("{" + one("a", "F32", "[1]", "[0,4]") + "," + one("b", "F32", "[1]", "[4,8]") + "}", new byte[6]),
                "truncated: the header describes 8 bytes of tensor data, the file holds only 6");
        assertRefused(header("{" + one("a", "F32", "[1]", "[0,4]") + "}", new byte[9]),
                "trailing bytes: 5 bytes after the last tensor");
    }

    @Test
    void refusesATruncatedFile() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafeTensors(Map.of("w", new StoredTensor(new int[] {10}, new float[10])), Map.of()).write(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertRefused(file, "truncated: the header describes 40 bytes of tensor data, the file holds only 37");
        Files.write(file, java.util.Arrays.copyOf(bytes, 20)); // inside the header
        assertRefused(file, "is larger than the file (20 bytes)");
    }

    @Test
    void refusesMetadataThatIsNotStrings() throws IOException {
        assertRefused(header("{\"__metadata__\":{\"step\":7}}", new byte[0]), "__metadata__ must map strings to strings; 'step' is number 7");
        assertRefused(header("{\"__metadata__\":[\"a\"]}", new byte[0]), "__metadata__ must be an object of strings, found array");
    }

    @Test
    void inMemoryValuesRefuseBadNames() {
        StoredTensor t = new StoredTensor(new int[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> new SafeTensors(Map.of("", t), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new SafeTensors(Map.of(SafeTensors.METADATA_KEY, t), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new StoredTensor(new int[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new StoredTensor(new int[] {-1}, new float[0]));
        assertNull(new SafeTensors(Map.of(), Map.of()).source());
    }

    @Test
    void storedTensorsAreImmutable() {
        float[] data = {1, 2};
        int[] shape = {2};
        StoredTensor t = new StoredTensor(shape, data);
        data[0] = 9;
        shape[0] = 9;
        t.data()[1] = 9;
        t.shape()[0] = 9;
        assertEquals(new StoredTensor(new int[] {2}, new float[] {1, 2}), t);
    }
}
