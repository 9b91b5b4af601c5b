package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model layer's side of the cell options (issue 17) that needs no engine op: the settings and
 * their checks, the parameters with their PyTorch names, shapes and first values, the exact
 * parameter count, the JSON of the configurations, checkpoints (old ones still load; one with a
 * projection or layer normalisation is refused by a model without them, naming the parameter) and
 * the draw counter in the extra state.
 */
class RecurrentOptionsConfigTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @Test
    void theBuilderTakesTheOptionsAndRefusesWhatTheCellCannotRunByName() {
        RecurrentConfig c = RecurrentConfig.builder(Cell.LSTM, 6, 8).numLayers(2).bidirectional(true).layerNorm(true)
                .recurrentDropout(0.25f).zoneout(0.1f, 0.05f).projectionSize(3).build();
        assertEquals(new CellOptions(true, 0.25f, 0.1f, 0.05f, 3), c.cellOptions());
        assertEquals(3, c.recurrentWidth());
        assertEquals(3, c.stateWidth(), "the LSTM's projected h is its state");
        assertEquals(6, c.outputSize(), "directions * P");
        assertTrue(c.toString().contains("layerNorm+recurrentDropout=0.25+zoneoutH=0.1+zoneoutC=0.05+projection=3"),
                c.toString());
        RecurrentConfig gru = RecurrentConfig.builder(Cell.GRU, 6, 8).projectionSize(5).build();
        assertEquals(8, gru.stateWidth(), "the GRU's state stays H wide");
        assertEquals(5, gru.outputSize());
        assertFalse(RecurrentConfig.builder(Cell.GRU, 6, 8).build().toString().contains("options"),
                "a plain config prints as before");

        assertRefused(() -> RecurrentConfig.builder(Cell.RNN_TANH, 4, 8).layerNorm(true).build(),
                "layerNorm needs an LSTM or GRU cell, not rnn_tanh");
        assertRefused(() -> RecurrentConfig.builder(Cell.RNN_RELU, 4, 8).projectionSize(2).build(),
                "projectionSize needs an LSTM or GRU cell, not rnn_relu");
        assertRefused(() -> RecurrentConfig.builder(Cell.LSTM, 4, 8).projectionSize(8).build(),
                "projectionSize must be smaller than the hidden size 8, got 8");
        assertRefused(() -> RecurrentConfig.builder(Cell.GRU, 4, 8).zoneoutC(0.1f).build(),
                "zoneoutC needs a cell with a cell state (LSTM), not gru");
        assertRefused(() -> RecurrentConfig.builder(Cell.GRU, 4, 8).recurrentDropout(1f), "recurrentDropout must be"
                + " in [0, 1), got 1.0");
        assertRefused(() -> RecurrentConfig.builder(Cell.GRU, 4, 8).zoneoutH(-0.1f), "zoneoutH must be in [0, 1)");
        assertRefused(() -> RecurrentConfig.builder(Cell.GRU, 4, 8).projectionSize(-1), "projectionSize must be >= 0");
    }

    private static void assertRefused(org.junit.jupiter.api.function.Executable what, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, what);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    /**
     * PyTorch's names and shapes ({@code nn.LSTM(6, 8, 2, bidirectional=True, proj_size=3)} has
     * {@code weight_ih_l1 [32, 6]}, {@code weight_hh_l0 [32, 3]}, {@code weight_hr_l0 [3, 8]}), the
     * layer-norm names of the contract, gains 1 and biases 0, and weight_hr drawn in ±1/sqrt(H).
     */
    @Test
    void parametersTakePyTorchNamesShapesAndFirstValues() {
        RecurrentConfig cfg = RecurrentConfig.builder(Cell.LSTM, 6, 8).numLayers(2).bidirectional(true)
                .layerNorm(true).projectionSize(3).build();
        try (RecurrentStack stack = new RecurrentStack(be, "rnn.", cfg, new SplittableRandom(5))) {
            Map<String, Tensor> sd = stack.stateDict();
            assertShape(sd, "rnn.weight_ih_l0", 32, 6);
            assertShape(sd, "rnn.weight_hh_l0", 32, 3);
            assertShape(sd, "rnn.weight_hr_l0", 3, 8);
            assertShape(sd, "rnn.weight_ih_l1", 32, 6);
            assertShape(sd, "rnn.weight_hr_l1_reverse", 3, 8);
            assertShape(sd, "rnn.ln_ih_weight_l0", 32);
            assertShape(sd, "rnn.ln_hh_bias_l1_reverse", 32);
            assertShape(sd, "rnn.ln_c_weight_l1", 8);
            assertShape(sd, "rnn.ln_c_bias_l0_reverse", 8);
            for (String k : sd.keySet()) {
                float[] v = sd.get(k).toArray();
                if (k.contains(".ln_") && k.contains("_weight_")) {
                    assertArrayEquals(filled(v.length, 1f), v, k + ": gains start at 1");
                } else if (k.contains(".ln_")) {
                    assertArrayEquals(new float[v.length], v, k + ": biases start at 0");
                } else if (k.contains("weight_hr")) {
                    double bound = 1 / Math.sqrt(8);
                    boolean nonZero = false;
                    for (float x : v) {
                        assertTrue(Math.abs(x) <= bound, k + " holds " + x + ", outside ±1/sqrt(H)");
                        nonZero |= x != 0f;
                    }
                    assertTrue(nonZero, k + " was drawn");
                }
            }
            assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                    "rnn.weight_hr_l0", "rnn.ln_ih_weight_l0", "rnn.ln_ih_bias_l0", "rnn.ln_hh_weight_l0",
                    "rnn.ln_hh_bias_l0", "rnn.ln_c_weight_l0", "rnn.ln_c_bias_l0"),
                    stack.parameters().subList(0, 11).stream().map(Parameter::name).toList());
        }
        try (RecurrentStack gru = new RecurrentStack(be, "", RecurrentConfig.builder(Cell.GRU, 4, 6).layerNorm(true)
                .build(), new SplittableRandom(1))) {
            assertShape(gru.stateDict(), "ln_hh_weight_l0", 18);
            assertFalse(gru.stateDict().containsKey("ln_c_weight_l0"), "a GRU has no c to normalise");
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static void assertShape(Map<String, Tensor> sd, String name, int... shape) {
        assertTrue(sd.containsKey(name), name + " not in " + sd.keySet());
        assertArrayEquals(shape, sd.get(name).shape().toArray(), name);
    }

    /** {@link RecurrentConfig#parameterCount} is exact for every cell, option, direction and depth. */
    @Test
    void parameterCountIsExact() {
        int tried = 0;
        for (Cell cell : Cell.values()) {
            boolean rnn = !cell.hasCellState() && cell.gates() == 1;
            for (boolean ln : new boolean[] {false, true}) {
                for (int p : new int[] {0, 3}) {
                    if (rnn && (ln || p > 0)) {
                        continue;
                    }
                    for (boolean bi : new boolean[] {false, true}) {
                        RecurrentConfig cfg = RecurrentConfig.builder(cell, 5, 7).numLayers(3).bidirectional(bi)
                                .layerNorm(ln).projectionSize(p).zoneoutH(0.1f).build();
                        try (RecurrentStack s = new RecurrentStack(be, "", cfg, new SplittableRandom(2))) {
                            long counted = s.parameters().stream().mapToLong(x -> x.value().shape().size()).sum();
                            assertEquals(counted, RecurrentConfig.parameterCount(cell, cfg.cellOptions(), 5, 7, 3,
                                    cfg.directions()), cfg.toString());
                            tried++;
                        }
                    }
                }
            }
        }
        assertTrue(tried >= 20, "tried " + tried);
        assertEquals(RecurrentConfig.parameterCount(Cell.LSTM, 5, 7, 2, 2),
                RecurrentConfig.parameterCount(Cell.LSTM, CellOptions.NONE, 5, 7, 2, 2));
    }

    /**
     * Options draw their own parameters after a layer's plain ones: a model with layer
     * normalisation (which draws nothing) starts from the plain model's weights exactly, head
     * included, so adding the options never moves a plain model's initialisation.
     */
    @Test
    void optionsLeaveThePlainWeightsWhereTheyWere() {
        CharModelConfig plain = new CharModelConfig(12, 4, Cell.GRU, 6, 2, 0.1f);
        CharModelConfig ln = new CharModelConfig(12, 4, Cell.GRU, 6, 2, 0.1f,
                new CellOptions(true, 0.2f, 0.1f, 0f, 0));
        try (CharLanguageModel a = new CharLanguageModel(be, plain, 9);
             CharLanguageModel b = new CharLanguageModel(be, ln, 9)) {
            Map<String, Tensor> sa = a.stateDict();
            Map<String, Tensor> sb = b.stateDict();
            for (String k : sa.keySet()) {
                assertArrayEquals(sa.get(k).toArray(), sb.get(k).toArray(), k);
            }
            assertEquals(sa.size() + 2 * 4, sb.size(), "4 layer-norm tensors per GRU layer");
        }
    }

    @Test
    void configurationsStoreTheOptionsAndOldJsonReadsAsPlain() {
        CellOptions o = new CellOptions(true, 0.25f, 0.1f, 0.05f, 3);
        CharModelConfig lm = new CharModelConfig(20, 8, Cell.LSTM, 16, 2, 0.1f, o);
        String json = lm.toJson();
        assertTrue(json.endsWith(",\"layer_norm\":true,\"recurrent_dropout\":0.25,\"zoneout_h\":0.1,"
                + "\"zoneout_c\":0.05,\"proj_size\":3}"), json);
        assertEquals(lm, CharModelConfig.fromJson(json));
        // What Recur wrote before the options existed, to the byte: it still reads, as plain cells.
        String old = "{\"model\":\"char-lm\",\"vocabulary\":20,\"embedding\":8,\"cell\":\"lstm\",\"hidden\":16,"
                + "\"layers\":2,\"dropout\":0.1}";
        assertEquals(CellOptions.NONE, CharModelConfig.fromJson(old).options());
        assertEquals(old, new CharModelConfig(20, 8, Cell.LSTM, 16, 2, 0.1f).toJson(),
                "a plain model writes the old JSON");

        SequenceModelConfig sm = SequenceModelConfig.classifier(30, 6, Cell.GRU, 10, 1, true, 0f, 3)
                .withOptions(new CellOptions(false, 0f, 0.2f, 0f, 4));
        assertEquals(sm, SequenceModelConfig.fromJson(sm.toJson()));
        assertEquals(2 * 10, sm.featureSize(), "the GRU's final h is H wide");
        assertEquals(CellOptions.NONE, SequenceModelConfig.fromJson(SequenceModelConfig.classifier(30, 6, Cell.GRU,
                10, 1, true, 0f, 3).toJson()).options());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CharModelConfig.fromJson(
                old.replace("}", ",\"proj_size\":16}")));
        assertTrue(e.getMessage().contains("projectionSize must be smaller than the hidden size 16, got 16"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CharModelConfig.fromJson(
                old.replace("}", ",\"zoneout_h\":1.5}")));
        assertTrue(e.getMessage().contains("zoneoutH must be in [0, 1), got 1.5"), e.getMessage());
    }

    /** The exact count of the model configurations matches the models' parameters with options on. */
    @Test
    void modelParameterCountsAreExactWithOptions() {
        CharModelConfig lm = new CharModelConfig(20, 8, Cell.LSTM_PEEPHOLE, 16, 2, 0f,
                new CellOptions(true, 0f, 0f, 0f, 5));
        try (CharLanguageModel m = new CharLanguageModel(be, lm, 1)) {
            assertEquals(lm.parameterCount(), m.parameterCount());
        }
        SequenceModelConfig sm = SequenceModelConfig.classifier(30, 6, Cell.GRU_ORIGINAL, 10, 2, true, 0f, 3)
                .withOptions(new CellOptions(true, 0f, 0f, 0f, 4));
        try (SequenceModel m = new SequenceModel(be, sm, 1)) {
            assertEquals(sm.parameterCount(), m.parameterCount());
        }
    }

    /**
     * A model with a projection and layer normalisation saves and loads them by name; a plain
     * model's checkpoint written in the old JSON loads as a plain model; the options' weights
     * are refused by a model without them, naming the parameter.
     */
    @Test
    void checkpointsCarryTheOptionsParametersByName(@TempDir Path dir) throws Exception {
        CharModelConfig cfg = new CharModelConfig(12, 4, Cell.LSTM, 6, 2, 0f, new CellOptions(true, 0f, 0f, 0f, 3));
        Path file = dir.resolve("ln-proj.safetensors");
        try (CharLanguageModel m = new CharLanguageModel(be, cfg, 4)) {
            m.stateDict().get("rnn.ln_c_bias_l1").copyFrom(new float[] {1, 2, 3, 4, 5, 6}); // not the initial zeros
            m.save(file);
            try (CharLanguageModel back = CharLanguageModel.load(be, Checkpoint.read(file))) {
                assertEquals(cfg, back.config());
                Map<String, Tensor> a = m.stateDict();
                Map<String, Tensor> b = back.stateDict();
                assertEquals(a.keySet(), b.keySet());
                for (String k : a.keySet()) {
                    assertArrayEquals(a.get(k).toArray(), b.get(k).toArray(), k);
                }
            }
            try (CharLanguageModel plain = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.LSTM, 6, 2, 0f),
                    4)) {
                CheckpointException e = assertThrows(CheckpointException.class,
                        () -> plain.loadWeights(Checkpoint.read(file)));
                assertTrue(e.getMessage().contains("holds rnn.ln_c_bias_l0 (layer normalisation), which this model's"
                        + " configuration has not"), e.getMessage());
            }
        }
        CharModelConfig projOnly = new CharModelConfig(12, 4, Cell.GRU, 6, 1, 0f,
                new CellOptions(false, 0f, 0f, 0f, 2));
        Path proj = dir.resolve("proj.safetensors");
        try (CharLanguageModel m = new CharLanguageModel(be, projOnly, 4);
             CharLanguageModel withLn = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.GRU, 6, 1, 0f,
                     new CellOptions(true, 0f, 0f, 0f, 2)), 4)) {
            m.save(proj);
            // The other direction: the file lacks what the model has.
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> withLn.loadWeights(Checkpoint.read(proj)));
            assertTrue(e.getMessage().contains("missing [rnn.ln_ih_weight_l0"), e.getMessage());
        }
        try (CharLanguageModel plain = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.GRU, 6, 1, 0f), 4)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> plain.loadWeights(Checkpoint.read(proj)));
            assertTrue(e.getMessage().contains("holds rnn.weight_hr_l0 (a projection)"), e.getMessage());
        }

        // A checkpoint as Recur wrote it before the options: the old JSON and the plain names.
        Path old = dir.resolve("old.safetensors");
        String oldJson = "{\"model\":\"char-lm\",\"vocabulary\":12,\"embedding\":4,\"cell\":\"gru\",\"hidden\":6,"
                + "\"layers\":1,\"dropout\":0.0}";
        try (CharLanguageModel m = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.GRU, 6, 1, 0f), 8)) {
            Checkpoint.Builder b = Checkpoint.builder().modelConfig(oldJson);
            for (Parameter p : m.parameters()) {
                b.tensor(p.name(), p.value().shape().toArray(), p.value().toArray());
            }
            b.build().write(old);
            try (CharLanguageModel back = CharLanguageModel.load(be, Checkpoint.read(old))) {
                assertEquals(CellOptions.NONE, back.config().options());
                for (String k : m.stateDict().keySet()) {
                    assertArrayEquals(m.stateDict().get(k).toArray(), back.stateDict().get(k).toArray(), k);
                }
            }
        }
    }

    /** Only stacks whose cells draw save a draw counter; it is restored as the dropout counter is. */
    @Test
    void theDrawCounterIsExtraStateOfStacksThatDraw() {
        try (CharLanguageModel plain = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.GRU, 6, 1, 0.1f), 1);
             CharLanguageModel zone = new CharLanguageModel(be, new CharModelConfig(12, 4, Cell.LSTM, 6, 1, 0.1f,
                     new CellOptions(false, 0.1f, 0.2f, 0.2f, 0)), 1)) {
            assertEquals(Map.of(CharLanguageModel.DROPOUT_COUNTER, "0"), plain.extraState());
            String key = CharLanguageModel.DROPOUT_COUNTER + StackedModel.CELL_DRAWS_SUFFIX;
            assertEquals("0", zone.extraState().get(key));
            zone.loadExtraState(Map.of(CharLanguageModel.DROPOUT_COUNTER, "5", key, "123456"));
            assertEquals(123456L, zone.rnn().cellDrawCounter());
            assertEquals(5L, zone.rnn().dropoutCounter());
            assertThrows(IllegalArgumentException.class, () -> zone.rnn().cellDrawCounter(-1));
            assertNull(plain.extraState().get(key));
        }
    }
}
