package dev.recur.interop.cli;

import dev.recur.models.cli.Recur;
import dev.recur.models.cli.Streams;
import com.fasterxml.jackson.databind.JsonNode;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.IndexTensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.Json;
import dev.recur.models.seq.SequenceModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur import-keras IN.keras OUT.safetensors} through {@link Recur#run}, on the Keras fixtures. */
class KerasImportCommandTest {

    @TempDir
    Path dir;

    private static Streams recur(String... args) {
        return Streams.run(Recur.standard(), args);
    }

    private static Path fixture(String name) throws Exception {
        return Path.of(KerasImportCommandTest.class.getResource("/keras/" + name).toURI());
    }

    @Test
    void writesACheckpointThatPredictsKerasLogits() throws Exception {
        Path out = dir.resolve("bigru.safetensors");
        Streams s = recur("import-keras", "--backend", "cpu", fixture("bigru_classifier.keras").toString(),
                out.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().startsWith("recur import-keras: wrote " + out + " (sequence-classifier, "), s.out());
        JsonNode expected = Json.MAPPER.readTree(Files.readString(fixture("bigru_classifier.json")));
        JsonNode inputs = expected.get("inputs"); // [B, T]
        int b = inputs.size();
        int t = inputs.get(0).size();
        int[] ids = new int[t * b];
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < t; k++) {
                ids[k * b + i] = inputs.get(i).get(k).asInt();
            }
        }
        int[] lengths = new int[b];
        Arrays.fill(lengths, t);
        try (Backend be = Backends.named("cpu");
             SequenceModel m = SequenceModel.load(be, Checkpoint.read(out));
             IndexTensor in = be.indices(t, b)) {
            in.copyFrom(ids);
            float[] y = m.predict(in, lengths).toArray(); // [B, classes]
            int classes = expected.get("outputs").get(0).size();
            double max = 0;
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, Math.abs(y[i * classes + c] - expected.get("outputs").get(i).get(c).asDouble()));
                }
            }
            System.out.println("import-keras bigru_classifier checkpoint: max |recur - keras| = " + max);
            assertTrue(max <= 1e-5, "max difference " + max);
        }
    }

    @Test
    void refusesAnUnsupportedLayerInOneLine() throws Exception {
        Path out = dir.resolve("conv.safetensors");
        Streams s = recur("import-keras", "--backend", "cpu", fixture("conv_lstm.keras").toString(), out.toString());
        s.assertOneLineFailure("recur import-keras: ", "layer 'conv' (Conv1D) has no Recur equivalent");
        assertTrue(Files.notExists(out));
    }

    @Test
    void refusesAWrongShapeAndAMissingFileInOneLine() throws Exception {
        recur("import-keras", "--backend", "cpu", fixture("damaged.keras").toString(), dir.resolve("d.safetensors")
                .toString()).assertOneLineFailure("recur import-keras: ", "is [7, 27], expected [7, 28]");
        recur("import-keras", "--backend", "cpu", dir.resolve("absent.keras").toString(), dir.resolve("a.safetensors")
                .toString()).assertOneLineFailure("recur import-keras: ", "absent.keras: no such file");
    }

    @Test
    void aMissingArgumentOrAnUnknownOptionExits2() {
        Streams s = recur("import-keras", "in.keras");
        assertEquals(2, s.status, s.err());
        s = recur("import-keras", "--bakend", "cpu", "in.keras", "out.safetensors");
        assertEquals(2, s.status, s.err());
        assertTrue(s.err().contains("unknown option '--bakend'"), s.err());
    }
}
