package dev.recur.models.io;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by the reference safetensors implementation (the one PyTorch users call), made by
 * {@code src/test/resources/safetensors/make_reference.py}: Recur must read them exactly.
 */
class SafeTensorsReferenceTest {

    private static final Path FOLDER = Path.of("src/test/resources/safetensors");

    /** What make_reference.py stores: value i is ((i * 7 + seed) % 17 - 8) / 8, exact in every dtype. */
    private static float[] values(int n, int seed) {
        return CheckpointFixtures.ramp(n, seed);
    }

    @Test
    void readsAnLstmStateDictWithoutMetadata() throws IOException {
        SafeTensors st = SafeTensors.read(FOLDER.resolve("lstm-state-dict.safetensors"));

        assertEquals(Map.of(), st.metadata());
        // nn.LSTM(input_size=3, hidden_size=2): G*H = 8.
        assertEquals(new StoredTensor(new int[] {8, 3}, values(24, 0)), st.require("weight_ih_l0", 8, 3));
        assertEquals(new StoredTensor(new int[] {8, 2}, values(16, 1)), st.require("weight_hh_l0", 8, 2));
        assertEquals(new StoredTensor(new int[] {8}, values(8, 2)), st.require("bias_ih_l0", 8));
        assertEquals(new StoredTensor(new int[] {8}, values(8, 3)), st.require("bias_hh_l0", 8));
        assertEquals(4, st.tensors().size());
    }

    @Test
    void readsHalfDoubleAndScalarTensorsAndMetadata() throws IOException {
        SafeTensors st = SafeTensors.read(FOLDER.resolve("mixed-dtypes.safetensors"));

        assertEquals(Map.of("source", "make_reference.py", "note", "k/8 values"), st.metadata());
        assertEquals(new StoredTensor(new int[] {2, 3}, values(6, 0)), st.require("half", 2, 3));     // F16
        assertEquals(new StoredTensor(new int[] {5}, values(5, 1)), st.require("double", 5));         // F64
        assertEquals(new StoredTensor(new int[] {}, values(1, 2)), st.require("single"));             // F32 scalar
        assertEquals(List.of("double", "single", "half"), List.copyOf(st.tensors().keySet()));       // the file's order
    }

    @Test
    void aPlainFileIsNotARecurCheckpoint() {
        Path file = FOLDER.resolve("lstm-state-dict.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("not a Recur checkpoint") && e.getMessage().contains("SafeTensors.read"), e.getMessage());
    }

    @Test
    void readsBf16() throws IOException {
        // numpy has no bfloat16, so this one is built by hand: the top halves of float32 values.
        byte[] data = {(byte) 0xC0, 0x3F, 0x00, (byte) 0xC0, 0x00, (byte) 0x80}; // 1.5, -2.0, -0.0
        Path file = RawFiles.write(java.nio.file.Files.createTempFile("bf16", ".safetensors"),
                "{\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]}}", data);
        try {
            assertEquals(new StoredTensor(new int[] {3}, new float[] {1.5f, -2f, -0.0f}), SafeTensors.read(file).require("b", 3));
        } finally {
            java.nio.file.Files.delete(file);
        }
    }
}
