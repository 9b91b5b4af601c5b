package dev.recur.interop.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.io.Json;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.seq.SequenceModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keras 3 archives made by {@code src/test/resources/keras/make_fixtures.py} import and reproduce
 * Keras's own outputs (pre-softmax, written by the script beside them); hostile files are refused
 * in one line naming the problem.
 */
class KerasImportTest {

    /** float32 through a few small layers: Keras (torch backend) and Recur differ in summation order only. */
    private static final double TOLERANCE = 1e-5;

    static Backend be;
    static final Map<String, Double> worst = new TreeMap<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void close() {
        System.out.println("keras import: " + worst.size() + " fixtures, max |recur - keras| = "
                + worst.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
        worst.forEach((k, v) -> System.out.printf("  %-18s %.3g%n", k, v));
        be.close();
    }

    static Path fixture(String name) {
        try {
            return Path.of(KerasImportTest.class.getResource("/keras/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @CsvSource({
        "lstm_classifier,  sequence-classifier, lstm",
        "bigru_classifier, sequence-classifier, gru",
        "rnn_regressor,    sequence-regressor,  rnn_tanh",
        "gru_lm,           char-lm,    gru_original",
        "relu_lm,          char-lm,    rnn_relu",
    })
    void reproducesKerasOutputs(String name, String kind, String cell) throws Exception {
        JsonNode expected = Json.MAPPER.readTree(Files.readString(fixture(name + ".json")));
        JsonNode inputs = expected.get("inputs");   // [B, T] ids or [B, T, F]
        JsonNode outputs = expected.get("outputs"); // [B, out] or [B, T, out]
        int b = inputs.size();
        int t = inputs.get(0).size();
        try (Model m = KerasImport.read(fixture(name + ".keras"), be)) {
            assertEquals(kind, m.kind());
            assertTrue(m.configJson().contains("\"cell\":\"" + cell + "\""), m.configJson());
            assertFalse(m.training(), "imported in eval mode");
            double max = 0;
            if (m instanceof CharLanguageModel lm) {
                try (IndexTensor ids = be.indices(t, b)) {
                    ids.copyFrom(timeMajorIds(inputs));
                    float[] logits = lm.logits(ids).toArray(); // [T*B, V], row t*B + b
                    int v = outputs.get(0).get(0).size();
                    for (int i = 0; i < b; i++) {
                        for (int s = 0; s < t; s++) {
                            for (int k = 0; k < v; k++) {
                                max = Math.max(max, Math.abs(logits[(s * b + i) * v + k]
                                        - outputs.get(i).get(s).get(k).asDouble()));
                            }
                        }
                    }
                }
            } else {
                SequenceModel sm = (SequenceModel) m;
                int[] lengths = new int[b];
                Arrays.fill(lengths, t);
                float[] y;
                if (kind.equals(ModelKinds.CLASSIFIER)) {
                    try (IndexTensor ids = be.indices(t, b)) {
                        ids.copyFrom(timeMajorIds(inputs));
                        y = sm.predict(ids, lengths).toArray();
                    }
                } else {
                    int f = inputs.get(0).get(0).size();
                    try (Tensor x = be.tensor(t, b, f)) {
                        float[] v = new float[t * b * f];
                        for (int i = 0; i < b; i++) {
                            for (int s = 0; s < t; s++) {
                                for (int k = 0; k < f; k++) {
                                    v[(s * b + i) * f + k] = (float) inputs.get(i).get(s).get(k).asDouble();
                                }
                            }
                        }
                        x.copyFrom(v);
                        y = sm.predict(x, lengths).toArray();
                    }
                }
                int out = outputs.get(0).size();
                assertEquals(b * out, y.length);
                for (int i = 0; i < b; i++) {
                    for (int k = 0; k < out; k++) {
                        max = Math.max(max, Math.abs(y[i * out + k] - outputs.get(i).get(k).asDouble()));
                    }
                }
            }
            worst.put(name, max);
            System.out.printf("keras import %s (%s, %s): max |recur - keras| = %.3g%n", name, kind, cell, max);
            assertTrue(max <= TOLERANCE, name + ": max difference " + max);
        }
    }

    private static int[] timeMajorIds(JsonNode inputs) {
        int b = inputs.size();
        int t = inputs.get(0).size();
        int[] ids = new int[t * b];
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                ids[s * b + i] = inputs.get(i).get(s).asInt();
            }
        }
        return ids;
    }

    private String refusal(Path file) {
        KerasImportException e = assertThrows(KerasImportException.class, () -> KerasImport.read(file, be).close());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        System.out.println("refused: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void refusesAnArchiveWithoutWeights() throws IOException {
        Path file = dir.resolve("no-weights.keras");
        try (ZipFile in = new ZipFile(fixture("lstm_classifier.keras").toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (String n : new String[] {"metadata.json", "config.json"}) {
                out.putNextEntry(new ZipEntry(n));
                in.getInputStream(in.getEntry(n)).transferTo(out);
                out.closeEntry();
            }
        }
        String m = refusal(file);
        assertTrue(m.contains("no model.weights.h5"), m);
    }

    @Test
    void refusesAFileThatIsNotAZip() throws IOException {
        Path file = dir.resolve("model.keras");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write("\u0089HDF\r\n\u001a\n not a zip".getBytes());
        }
        String m = refusal(file);
        assertTrue(m.contains("not a Keras 3 archive"), m);
    }

    @Test
    void refusesADatasetOfTheWrongShape() {
        String m = refusal(fixture("damaged.keras"));
        // Keras keys the second LSTM's group "lstm_1" (by class); the message names the layer, lstm_2.
        assertTrue(m.contains("layer 'lstm_2' (LSTM): recurrent_kernel /layers/lstm_1/cell/vars/1"), m);
        assertTrue(m.contains("is [7, 27], expected [7, 28]"), m);
    }

    @Test
    void refusesGarbageAndTruncatedWeights() throws IOException {
        byte[] weights;
        try (ZipFile in = new ZipFile(fixture("gru_lm.keras").toFile())) {
            weights = in.getInputStream(in.getEntry("model.weights.h5")).readAllBytes();
        }
        String m = refusal(replaceWeights("gru_lm.keras", "not hdf5 at all".getBytes()));
        assertTrue(m.contains("model.weights.h5 is"), m);
        m = refusal(replaceWeights("gru_lm.keras", Arrays.copyOf(weights, weights.length / 2)));
        assertTrue(m.contains("model.weights.h5 is"), m);
    }

    /** A copy of a fixture with {@code weights} as its model.weights.h5. */
    private Path replaceWeights(String name, byte[] weights) throws IOException {
        Path file = dir.resolve("weights-" + weights.length + "-" + name);
        try (ZipFile in = new ZipFile(fixture(name).toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (String n : new String[] {"metadata.json", "config.json", "model.weights.h5"}) {
                out.putNextEntry(new ZipEntry(n));
                out.write(n.equals("model.weights.h5") ? weights : in.getInputStream(in.getEntry(n)).readAllBytes());
                out.closeEntry();
            }
        }
        return file;
    }

    @Test
    void refusesAnUnsupportedLayerNamingIt() {
        String m = refusal(fixture("conv_lstm.keras"));
        assertTrue(m.contains("conv_lstm.keras: layer 'conv' (Conv1D) has no Recur equivalent"), m);
    }

    @Test
    void refusesANonDefaultActivationAndAFunctionalModel() throws IOException {
        Path tanh = rewriteConfig("bigru_classifier.keras", "\"recurrent_activation\": \"sigmoid\"",
                "\"recurrent_activation\": \"hard_sigmoid\"");
        String m = refusal(tanh);
        assertTrue(m.contains("layer 'bidirectional' (Bidirectional): recurrent_activation 'hard_sigmoid'"), m);
        Path functional = rewriteConfig("rnn_regressor.keras", "\"class_name\": \"Sequential\"",
                "\"class_name\": \"Functional\"");
        m = refusal(functional);
        assertTrue(m.contains("is a Functional; only Sequential models are imported"), m);
    }

    /** A copy of a fixture with {@code from} replaced by {@code to} in its config.json. */
    private Path rewriteConfig(String name, String from, String to) throws IOException {
        Path file = dir.resolve("edited-" + name);
        try (ZipFile in = new ZipFile(fixture(name).toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (String n : new String[] {"metadata.json", "config.json", "model.weights.h5"}) {
                out.putNextEntry(new ZipEntry(n));
                byte[] data = in.getInputStream(in.getEntry(n)).readAllBytes();
                if (n.equals("config.json")) {
                    String s = new String(data, java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(s.contains(from), from);
                    data = s.replace(from, to).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
                out.write(data);
                out.closeEntry();
            }
        }
        return file;
    }
}
