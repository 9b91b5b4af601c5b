package dev.recur.models.lm;

import dev.recur.models.train.TrainingDivergedException;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.train.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Training runs end to end: resume equivalence, the PyTorch names in checkpoints, refusals, divergence. */
class LmTrainingTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    static TextCorpus corpus() throws Exception {
        StringBuilder s = new StringBuilder();
        String[] words = {"river", "stone", "light", "wind", "over", "under", "the", "a", "slow", "bright"};
        java.util.Random r = new java.util.Random(4);
        while (s.length() < 6000) {
            s.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        }
        return TextCorpus.of("generated", s.toString());
    }

    static LmTraining.Options options(TextCorpus c, Path file, boolean resume, int stopAfter, float lr) {
        CharModelConfig m = new CharModelConfig(c.vocabulary().size(), 8, Cell.LSTM, 16, 2, 0.2f);
        return new LmTraining.Options(m, 4, 12, 14, lr, "cosine", OptimizerConfig.builder(Optimizer.Kind.ADAMW)
                .build(), 1f, 5, file, 0, resume, 4, 0, 5, 20, 0.8f, stopAfter);
    }

    static Progress quiet() {
        return new Progress(new PrintStream(new ByteArrayOutputStream()), false, 14, "tok", 1000);
    }

    @Test
    void aRunKilledMidwayResumesToTheSameEnd(@TempDir Path dir) throws Exception {
        TextCorpus c = corpus();
        Path whole = dir.resolve("whole.safetensors");
        Path parts = dir.resolve("parts.safetensors");
        LmTraining.Result a = LmTraining.run(be, c, options(c, whole, false, 0, 0.01f), quiet());
        LmTraining.Result first = LmTraining.run(be, c, options(c, parts, false, 6, 0.01f), quiet());
        assertEquals(6, first.steps());
        assertTrue(first.stoppedBecause().contains("paused after 6 steps"), first.stoppedBecause());
        LmTraining.Result b = LmTraining.run(be, c, options(c, parts, true, 0, 0.01f), quiet());
        assertEquals(14, b.steps());
        assertEquals(a.trainLoss(), b.trainLoss(), "same last loss");
        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        assertEquals(14, y.step());
    }

    @Test
    void checkpointsUsePyTorchNames(@TempDir Path dir) throws Exception {
        TextCorpus c = corpus();
        Path f = dir.resolve("lm.safetensors");
        LmTraining.run(be, c, options(c, f, false, 0, 0.01f), quiet());
        Checkpoint k = Checkpoint.read(f);
        int v = c.vocabulary().size();
        // What torch.nn.Embedding / nn.LSTM(8, 16, num_layers=2) / nn.Linear(16, v) name their parameters,
        // under module attributes embedding, rnn and head.
        k.require("embedding.weight", v, 8);
        k.require("rnn.weight_ih_l0", 64, 8);
        k.require("rnn.weight_hh_l0", 64, 16);
        k.require("rnn.bias_ih_l0", 64);
        k.require("rnn.bias_hh_l0", 64);
        k.require("rnn.weight_ih_l1", 64, 16);
        k.require("rnn.weight_hh_l1", 64, 16);
        k.require("head.weight", v, 16);
        k.require("head.bias", v);
        k.require("optimizer.exp_avg.rnn.weight_ih_l0", 64, 8);
        k.require("trainer.carry.c_l1", 4, 16);
        assertEquals(CharModelConfig.fromJson(k.modelConfig()), options(c, f, false, 0, 0.01f).model());
    }

    @Test
    void resumingWithOtherSettingsIsRefused(@TempDir Path dir) throws Exception {
        TextCorpus c = corpus();
        Path f = dir.resolve("lm.safetensors");
        LmTraining.run(be, c, options(c, f, false, 3, 0.01f), quiet());
        LmTraining.Options o = options(c, f, true, 0, 0.01f);
        LmTraining.Options bigger = new LmTraining.Options(new CharModelConfig(o.model().vocabulary(), 8, Cell.LSTM,
                32, 2, 0.2f), o.batch(), o.window(), o.totalSteps(), o.lr(), o.schedule(), o.optimizer(), o.clip(),
                o.seed(), f, 0, true, 4, 0, 5, 20, 0.8f, 0);
        CheckpointException e = assertThrows(CheckpointException.class, () -> LmTraining.run(be, c, bigger, quiet()));
        assertTrue(e.getMessage().contains("mismatched"), e.getMessage());
        Files.write(f, new byte[] {1, 2, 3});
        e = assertThrows(CheckpointException.class, () -> LmTraining.run(be, c, o, quiet()));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void aDivergingRunStopsWithTheStepNumber(@TempDir Path dir) throws Exception {
        TextCorpus c = corpus();
        // A learning rate of 1e30 with no clipping overflows the weights within a step or two.
        LmTraining.Options o = options(c, dir.resolve("lm.safetensors"), false, 0, 1e30f);
        LmTraining.Options noClip = new LmTraining.Options(o.model(), o.batch(), o.window(), o.totalSteps(), o.lr(),
                "constant", OptimizerConfig.builder(Optimizer.Kind.SGD).build(), 0f, o.seed(), o.checkpoint(), 0, false,
                0, 0, 0, 20, 0.8f, 0);
        RuntimeException e = assertThrows(RuntimeException.class, () -> LmTraining.run(be, c, noClip, quiet()));
        assertTrue(e instanceof TrainingDivergedException, e.toString());
        assertTrue(e.getMessage().matches("(?s).*diverged at step [1-9].*"),
                e.getMessage());
    }
}
