package dev.recur.models.train;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer, once, with a real model: a small GRU regressor whose validation loss is made to
 * rise after a few epochs (the validation targets are the training targets negated past epoch 2),
 * so that early stopping, best-weight restore and their checkpoints have something to do.
 */
class TrainerTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** Sums of 5 random steps, in 6 batches of 8; validation on 8 more. Dropout 0.2, shuffled per epoch. */
    static final class Sums implements TrainingTask, AutoCloseable {
        final SequenceModel model = new SequenceModel(be, SequenceModelConfig.regressor(1, Cell.GRU, 8, 2, 0.2f, 1), 3);
        final Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(), model.parameters());
        final Tensor x = be.tensor(5, 8, 1);
        final Tensor y = be.tensor(8, 1);
        final float[][] xs = new float[56][5];
        final float[] ys = new float[56];
        int validations;
        boolean spoilValidation;

        Sums() {
            Random r = new Random(9);
            for (int i = 0; i < xs.length; i++) {
                for (int t = 0; t < 5; t++) {
                    xs[i][t] = r.nextFloat() - 0.5f;
                    ys[i] += xs[i][t];
                }
            }
        }

        private void load(int[] rows, boolean negate) {
            float[] xh = new float[40];
            float[] yh = new float[8];
            for (int b = 0; b < 8; b++) {
                for (int t = 0; t < 5; t++) {
                    xh[t * 8 + b] = xs[rows[b]][t];
                }
                yh[b] = negate ? -ys[rows[b]] : ys[rows[b]];
            }
            x.copyFrom(xh);
            y.copyFrom(yh);
        }

        @Override
        public Model model() {
            return model;
        }

        @Override
        public Optimizer optimizer() {
            return opt;
        }

        @Override
        public int batchesPerEpoch() {
            return 6;
        }

        @Override
        public long itemsPerStep() {
            return 8;
        }

        @Override
        public String unit() {
            return "samples";
        }

        @Override
        public float trainStep(int epoch, int batch, float lr, float clip) {
            int[] rows = new int[8];
            Random r = new Random(epoch * 31L + batch);
            for (int b = 0; b < 8; b++) {
                rows[b] = r.nextInt(48);
            }
            load(rows, false);
            return model.trainStep(x, null, y, opt, lr, clip);
        }

        @Override
        public boolean validates() {
            return true;
        }

        @Override
        public double validationLoss() {
            assertFalse(model.training(), "validation runs in eval mode");
            validations++;
            load(new int[] {48, 49, 50, 51, 52, 53, 54, 55}, spoilValidation && validations > 2);
            float[] p = model.predict(x, null).toArray();
            double sum = 0;
            float[] t = y.toArray();
            for (int b = 0; b < 8; b++) {
                sum += (p[b] - t[b]) * (p[b] - t[b]);
            }
            return sum / 8;
        }

        @Override
        public void save(Checkpoint.Builder b) {
            b.metadata("validations", Integer.toString(validations));
        }

        @Override
        public void restore(Checkpoint c) {
            validations = Integer.parseInt(c.metadata("validations"));
        }

        @Override
        public void close() {
            x.close();
            y.close();
            opt.close();
            model.close();
        }
    }

    private static Trainer.Result fit(Sums task, UnaryOperator<Trainer.Builder> settings) throws Exception {
        Progress quiet = new Progress(new PrintStream(new ByteArrayOutputStream()), false, 1, "x", 1000);
        return settings.apply(Trainer.builder().epochs(8).learningRate(LearningRateSchedule.constant(0.01f))
                .clip(1f).progress(quiet)).build().fit(task);
    }

    private static void assertSameTensors(Checkpoint a, Checkpoint b) {
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : a.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), b.tensors().get(e.getKey()).data(), e.getKey());
        }
    }

    @Test
    void earlyStoppingRestoresTheBestWeightsWhichTheBestFileHolds(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            Trainer.Result r = fit(task, b -> b.patience(2).checkpoint(file));
            assertTrue(r.finished());
            // Validated every epoch (6 steps); patience 2: the stop comes two epochs after the best.
            assertTrue(r.bestStep() > 0 && r.bestStep() % 6 == 0, r.toString());
            assertEquals(r.bestStep() + 12, r.steps(), r.toString());
            assertTrue(r.stoppedBecause().startsWith("stopped early at step " + r.steps()), r.stoppedBecause());
            Checkpoint best = Checkpoint.read(Trainer.sibling(file, ".best"));
            assertEquals(r.bestStep(), best.step());
            for (Parameter p : task.model.parameters()) {
                assertArrayEquals(best.tensors().get(p.name()).data(), p.value().toArray(), p.name());
            }
            Checkpoint last = Checkpoint.read(file);
            assertEquals("true", last.metadata(Trainer.FINISHED));
            assertEquals(r.steps(), last.step());
            assertTrue(task.model.training(), "left in training mode");
        }
    }

    @Test
    void aPausedRunResumesBitForBitWithItsBestAndPatienceState(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole.safetensors");
        Path parts = dir.resolve("parts.safetensors");
        Trainer.Result a;
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            a = fit(task, b -> b.patience(3).checkpoint(whole).metrics(dir.resolve("whole.jsonl")));
        }
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            Trainer.Result first = fit(task, b -> b.patience(3).checkpoint(parts).stopAfter(21)
                    .metrics(dir.resolve("parts.jsonl")));
            assertFalse(first.finished());
        }
        // A killed run may have logged steps past its last checkpoint: they go on resume.
        Files.writeString(dir.resolve("parts.jsonl"), "{\"step\":22,\"loss\":9}\n",
                java.nio.file.StandardOpenOption.APPEND);
        Trainer.Result b;
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            b = fit(task, s -> s.patience(3).checkpoint(parts).resume(true).metrics(dir.resolve("parts.jsonl")));
        }
        assertEquals(a.steps(), b.steps());
        assertEquals(a.stoppedBecause(), b.stoppedBecause());
        assertEquals(a.lastLoss(), b.lastLoss());
        assertSameTensors(Checkpoint.read(whole), Checkpoint.read(parts));
        List<String> x = Files.readAllLines(dir.resolve("whole.jsonl"));
        List<String> y = Files.readAllLines(dir.resolve("parts.jsonl"));
        assertEquals(x.size(), y.size(), "same metrics lines, the stray one dropped");
        for (int i = 0; i < x.size(); i++) {
            assertEquals(x.get(i).replaceAll(",\"seconds\":[0-9.]+", ""), y.get(i).replaceAll(",\"seconds\":[0-9.]+",
                    ""));
        }
    }

    @Test
    void keepLastKeepsThatManySavesAndResumeRefusesAFinishedRun(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (Sums task = new Sums()) {
            fit(task, b -> b.checkpoint(file).checkpointEvery(6).keepLast(3).lossCurve(dir.resolve("loss.png")));
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.containsAll(List.of("m.safetensors", "m.step-36.safetensors", "m.step-42.safetensors",
                    "m.best.safetensors", "loss.png")), names.toString());
            assertFalse(names.contains("m.step-30.safetensors"), names.toString());
        }
        try (Sums task = new Sums()) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> fit(task, b -> b.checkpoint(file).resume(true)));
            assertTrue(e.getMessage().contains("finished"), e.getMessage());
        }
    }

    @Test
    void aLossThatGrowsFarPastItsStartIsDivergence() throws Exception {
        try (Sums task = new Sums()) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> fit(task, b -> b.learningRate(LearningRateSchedule.constant(30f)).clip(0f)
                            .divergenceFactor(5f)));
            assertTrue(e.getMessage().contains("diverged at step " + e.step()), e.getMessage());
        }
    }

    @Test
    void resumingWithAChangedSettingIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (Sums task = new Sums()) {
            fit(task, b -> b.checkpoint(file).stopAfter(7));
        }
        try (Sums task = new Sums()) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> fit(task, b -> b.checkpoint(file).resume(true).clip(0.5f)));
            assertTrue(e.getMessage().contains("clip was 1.0, now 0.5"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> fit(task, b -> b.checkpoint(file).resume(true)
                    .learningRate(LearningRateSchedule.constant(0.02f))));
            assertTrue(e.getMessage().contains("lr_first was 0.01, now 0.02"), e.getMessage());
        }
    }

    @Test
    void aSecondRunOnTheSameCheckpointIsRefusedAndStaleTemporariesGo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        Path stale = dir.resolve(".m.safetensors.0123abcd.tmp");
        Files.write(stale, new byte[1000]);
        try (dev.recur.models.io.RunLock held = dev.recur.models.io.RunLock.acquire(file);
             Sums task = new Sums()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> fit(task, b -> b.checkpoint(file)));
            assertTrue(e.getMessage().contains("in use by another run (pid " + ProcessHandle.current().pid()),
                    e.getMessage());
            assertFalse(Files.exists(file), "the refused run wrote nothing");
        }
        assertFalse(Files.exists(stale), "the holder removed the killed write's temporary file");
        try (Sums task = new Sums()) {
            assertTrue(fit(task, b -> b.checkpoint(file)).finished(), "free again once released");
        }
    }

    @Test
    void oneTrainerFitsTwiceAsTwoTrainersWould() throws Exception {
        Progress quiet = new Progress(new PrintStream(new ByteArrayOutputStream()), false, 1, "x", 1000);
        Trainer trainer = Trainer.builder().epochs(6).learningRate(LearningRateSchedule.constant(0.01f)).clip(1f)
                .patience(2).progress(quiet).build();
        Trainer.Result a;
        Trainer.Result b;
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            a = trainer.fit(task);
        }
        try (Sums task = new Sums()) {
            task.spoilValidation = true;
            b = trainer.fit(task);
        }
        assertEquals(a, b, "the second fit starts from nothing of the first");
    }
}
