package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Modules: state dicts as PyTorch's, train and eval mode, saving and loading a model in one call. */
class ModuleTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    private static SequenceModelConfig classifier(float dropout) {
        return SequenceModelConfig.classifier(20, 6, Cell.LSTM, 8, 2, true, dropout, 3);
    }

    @Test
    void stateDictHasPyTorchNamesAndLoadChecksEverythingBeforeCopying() {
        try (SequenceModel a = new SequenceModel(be, classifier(0f), 1);
             SequenceModel b = new SequenceModel(be, classifier(0f), 2)) {
            Map<String, Tensor> sd = a.stateDict();
            assertTrue(sd.containsKey("embedding.weight") && sd.containsKey("rnn.weight_hh_l1_reverse")
                    && sd.containsKey("head.bias"), sd.keySet().toString());
            assertEquals(a.parameterCount(), sd.values().stream().mapToLong(t -> t.shape().size()).sum());
            Map<String, StoredTensor> stored = new LinkedHashMap<>();
            sd.forEach((k, v) -> stored.put(k, new StoredTensor(v.shape().toArray(), v.toArray())));

            Map<String, StoredTensor> broken = new HashMap<>(stored);
            broken.remove("head.bias");
            broken.put("head.weight", new StoredTensor(new int[] {2, 2}, new float[4]));
            broken.put("extra.weight", new StoredTensor(new int[] {1}, new float[1]));
            float[] before = b.stateDict().get("embedding.weight").toArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.loadStateDict(broken, true));
            assertTrue(e.getMessage().contains("missing [head.bias]") && e.getMessage().contains("head.weight is [2, 2]")
                    && e.getMessage().contains("unexpected [extra.weight]"), e.getMessage());
            assertArrayEquals(before, b.stateDict().get("embedding.weight").toArray(), "nothing copied");

            b.loadStateDict(stored, true);
            for (String k : sd.keySet()) {
                assertArrayEquals(sd.get(k).toArray(), b.stateDict().get(k).toArray(), k);
            }
        }
    }

    /**
     * A forward with {@code training = false} runs the backend's inference ops: the same output
     * and final states, bit for bit, as a training forward in eval mode (no dropout), for a
     * bidirectional stack with variable lengths and a one-direction one; a backward after it is
     * refused, and a training forward after it still back-propagates.
     */
    @Test
    void anInferenceForwardGivesTheTrainingForwardsBitsAndRefusesABackward() {
        for (boolean bidirectional : new boolean[] {true, false}) {
            RecurrentConfig cfg = RecurrentConfig.builder(Cell.GRU, 3, 5).numLayers(2).bidirectional(bidirectional)
                    .dropout(0.5f).build();
            try (RecurrentStack stack = new RecurrentStack(be, "rnn.", cfg, new java.util.SplittableRandom(3));
                 Tensor x = be.tensor(new float[] {1, -2, 3, 0, 1, 2, -1, 1, 0, 2, 2, -3, 1, 1, 1, 0, -1, 2, 3, 0, 1, 1,
                         2, -2}, 4, 2, 3)) {
                int[] lengths = {4, 2};
                stack.eval();
                float[] trained = stack.forward(x, lengths, null, true).toArray();
                float[][] trainedFin = finals(stack);
                stack.backward(null, null);
                float[] inferred = stack.forward(x, lengths, null, false).toArray();
                assertArrayEquals(trained, inferred, "y, bidirectional " + bidirectional);
                float[][] inferredFin = finals(stack);
                for (int i = 0; i < trainedFin.length; i++) {
                    assertArrayEquals(trainedFin[i], inferredFin[i], "final state " + i);
                }
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> stack.backward(null, null));
                assertTrue(e.getMessage().contains("needs a training forward"), e.getMessage());
                stack.forward(x, lengths, null, true);
                stack.backward(null, null);
            }
        }
    }

    private static float[][] finals(RecurrentStack stack) {
        dev.recur.api.State[] fin = stack.finalStates();
        float[][] out = new float[fin.length][];
        for (int i = 0; i < fin.length; i++) {
            out[i] = fin[i].h().toArray();
        }
        return out;
    }

    @Test
    void evalModeTurnsDropoutOffInTrainingSteps() {
        SequenceModelConfig cfg = classifier(0.5f);
        float[][] losses = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (SequenceModel m = new SequenceModel(be, cfg, 7);
                 Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(), m.parameters());
                 IndexTensor ids = be.indices(5, 4);
                 IndexTensor labels = be.indices(4)) {
                ids.copyFrom(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1});
                labels.copyFrom(new int[] {0, 1, 2, 0});
                if (run == 1) {
                    m.eval();
                    assertFalse(m.training());
                }
                // lr 0: the weights stay; only dropout can make two losses differ.
                float first = m.trainStep(ids, null, labels, opt, 0f, 0f);
                float second = m.trainStep(ids, null, labels, opt, 0f, 0f);
                losses[run] = new float[] {first, second};
            }
        }
        assertNotEquals(losses[0][0], losses[0][1], "training mode: a new dropout mask each step");
        assertEquals(losses[1][0], losses[1][1], "eval mode: no dropout");
    }

    @Test
    void aModelSavesAndLoadsItselfAndRefusesAnotherKind(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (SequenceModel a = new SequenceModel(be, classifier(0.1f), 3);
             IndexTensor ids = be.indices(4, 2)) {
            ids.copyFrom(new int[] {1, 2, 3, 4, 5, 6, 7, 8});
            float[] expected = a.predict(ids, null).toArray();
            a.save(file, Map.of("vocabulary", "a b c"));
            Checkpoint c = Checkpoint.read(file);
            assertEquals("a b c", c.metadata("vocabulary"));
            try (SequenceModel b = SequenceModel.load(be, c)) {
                assertEquals(a.config(), b.config());
                assertArrayEquals(expected, b.predict(ids, null).toArray());
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> CharLanguageModel.load(be, c));
            assertTrue(e.getMessage().contains("holds a sequence-classifier model (made by recur classify), not a"
                    + " char-lm model (made by recur train-lm)"), e.getMessage());
        }
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(10, 4, Cell.GRU, 8, 1, 0f), 1)) {
            lm.save(file);
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> SequenceModel.load(be, Checkpoint.read(file)));
            assertTrue(e.getMessage().contains("holds a char-lm model"), e.getMessage());
        }
    }

    @Test
    void aConfigWhoseWeightsCannotFitOneTensorIsRefusedUpFront() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RecurrentConfig.builder(Cell.LSTM, 32, 100_000).build());
        assertTrue(e.getMessage().contains("[400000, 100000]"), e.getMessage());
    }

    @Test
    void configsCountTheirParametersExactly() {
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(11, 5, Cell.LSTM_PEEPHOLE, 7, 2, 0f), 1);
             SequenceModel cls = new SequenceModel(be, classifier(0f), 1);
             SequenceModel reg = new SequenceModel(be, SequenceModelConfig.regressor(3, Cell.GRU, 6, 3, 0f, 2), 1);
             dev.recur.models.seq2seq.Seq2SeqModel s2s = new dev.recur.models.seq2seq.Seq2SeqModel(be,
                     new dev.recur.models.seq2seq.Seq2SeqConfig(Cell.RNN_TANH, 9, 12, 4, 5, 2, 0f, true), 1)) {
            assertEquals(lm.parameterCount(), lm.config().parameterCount());
            assertEquals(cls.parameterCount(), cls.config().parameterCount());
            assertEquals(reg.parameterCount(), reg.config().parameterCount());
            assertEquals(s2s.parameterCount(), s2s.config().parameterCount());
        }
    }

    @Test
    void aStoredConfigAskingForMoreWeightsThanTheFileHoldsIsRefusedBeforeAllocating(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (CharLanguageModel lm = new CharLanguageModel(be, new CharModelConfig(10, 4, Cell.GRU, 8, 1, 0f), 1)) {
            // The checksum is made for the doctored header, so only the sizes can give it away.
            Checkpoint.Builder b = lm.checkpoint();
            b.modelConfig(new CharModelConfig(10, 4, Cell.GRU, 2_000_000, 1, 0f).toJson()).build().write(file);
        }
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CharLanguageModel.load(be, Checkpoint.read(file)));
        assertTrue(e.getMessage().contains("the file holds"), e.getMessage());
    }

    @Test
    void aModelTooLargeForThisJvmIsRefusedBeforeAllocating() {
        SequenceModelConfig huge = SequenceModelConfig.regressor(16384, Cell.LSTM, 16384, 64, 0f, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SequenceModel(be, huge, 1));
        assertTrue(e.getMessage().contains("GiB for its weights and gradients"), e.getMessage());
    }
}
