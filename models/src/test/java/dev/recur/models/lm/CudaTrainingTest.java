package dev.recur.models.lm;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.CpuAndCuda;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The model layer on the GPU: small models trained a few steps on the "cuda" engine and on the
 * "cpu" engine from the same seed lose the same, step by step, within rounding, and a checkpoint
 * written on one engine resumes on the other. The models find both engines at run time
 * ({@link dev.recur.api.Backends}), as every model does; without a usable CUDA engine each test is skipped and
 * the probe's reason printed.
 *
 * <p>Tolerances. The two engines start from the same weights (initialised on the host from the
 * seed) and draw the same dropout masks (a counter-based generator both compute bit for bit); the
 * embedding, element-wise ops and optimizer updates agree bit for bit. What differs is rounding:
 * GEMMs (cuBLAS and the CPU's blocked kernel sum in different orders; relative differences about
 * K·2^-24 ≈ 2e-6 for K = 32), the gate kernels' exp and tanh (an ulp or two), and the losses' exp
 * (expf on the GPU). So the first step's loss, computed from identical weights, agrees to about
 * 1e-5 relatively: {@link #FIRST_STEP_RTOL} = 1e-4. Later steps start from weights that moved by
 * updates of gradients that differ by that rounding; Adam's step, lr·m/√v, barely depends on the
 * gradient's size, so the weights differ by about lr·1e-5 per step, and by up to lr where a
 * gradient element is at the rounding level and its sign differs (a direction in which the loss
 * is flat). {@link #LATER_STEP_RTOL} = 2e-3 is well above that drift and well below the change of
 * the loss per step (0.02 to 0.1 here), which a wrong gradient on either engine would disturb.
 */
class CudaTrainingTest {

    private static final double FIRST_STEP_RTOL = 1e-4;
    private static final double LATER_STEP_RTOL = 2e-3;

    private static CpuAndCuda engines;
    private static Backend cpu;
    private static Backend cuda;

    @BeforeAll
    static void start() {
        engines = CpuAndCuda.open();
        cpu = engines.cpu();
        cuda = engines.cuda();
    }

    @AfterAll
    static void stop() {
        engines.close();
    }

    @BeforeEach
    void needCuda() {
        engines.assumeCuda();
    }

    /** Step-by-step agreement under the tolerances of the class comment. */
    private static void assertSameTrajectory(float[] onCpu, float[] onCuda, String what) {
        assertEquals(onCpu.length, onCuda.length);
        for (int s = 0; s < onCpu.length; s++) {
            double rtol = s == 0 ? FIRST_STEP_RTOL : LATER_STEP_RTOL;
            double diff = Math.abs((double) onCuda[s] - onCpu[s]);
            if (!(diff <= rtol * Math.abs(onCpu[s]))) {
                fail(what + ": step " + (s + 1) + " loss cpu " + onCpu[s] + ", cuda " + onCuda[s] + " (difference "
                        + diff + " > " + rtol + "·|cpu|); cpu " + java.util.Arrays.toString(onCpu) + ", cuda "
                        + java.util.Arrays.toString(onCuda));
            }
        }
    }

    /** A two-layer LSTM char-LM with dropout and clipping, on "the cat sat. " text, T = 10, B = 4. */
    private static float[] trainCharLm(Backend be, int steps) {
        CharModelConfig cfg = new CharModelConfig(8, 8, Cell.LSTM, 32, 2, 0.1f);
        try (CharLanguageModel model = new CharLanguageModel(be, cfg, 1)) {
            return CharLanguageModelTest.train(be, model, steps, 1f);
        }
    }

    @Test
    void aCharLanguageModelTrainsTheSameOnCudaAsOnCpu() {
        float[] onCpu = trainCharLm(cpu, 8);
        float[] onCuda = trainCharLm(cuda, 8);
        assertSameTrajectory(onCpu, onCuda, "char-LM");
    }

    /**
     * A two-layer bidirectional GRU classifier with dropout, variable lengths (padding past each
     * length) and clipping: is the first token id repeated later in the sequence? T = 9, B = 16.
     */
    private static float[] trainClassifier(Backend be, int steps) {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(6, 8, Cell.GRU, 16, 2, true, 0.1f, 2);
        int t = 9;
        int b = 16;
        Random r = new Random(12); // the same batches on both engines
        float[] losses = new float[steps];
        try (SequenceModel model = new SequenceModel(be, cfg, 4);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAMW).build(),
                     model.parameters());
             IndexTensor ids = be.indices(t, b);
             IndexTensor labels = be.indices(b)) {
            int[] x = new int[t * b];
            int[] y = new int[b];
            int[] lengths = new int[b];
            for (int s = 0; s < steps; s++) {
                for (int j = 0; j < b; j++) {
                    lengths[j] = 1 + r.nextInt(t);
                    boolean repeated = false;
                    for (int i = 0; i < t; i++) {
                        x[i * b + j] = r.nextInt(6);
                        repeated |= i > 0 && i < lengths[j] && x[i * b + j] == x[j];
                    }
                    y[j] = repeated ? 1 : 0;
                }
                ids.copyFrom(x);
                labels.copyFrom(y);
                losses[s] = model.trainStep(ids, lengths, labels, opt, 0.02f, 1f);
            }
        }
        return losses;
    }

    @Test
    void aSequenceClassifierTrainsTheSameOnCudaAsOnCpu() {
        float[] onCpu = trainClassifier(cpu, 8);
        float[] onCuda = trainClassifier(cuda, 8);
        assertSameTrajectory(onCpu, onCuda, "sequence classifier");
    }

    /**
     * A two-layer LSTM encoder-decoder (bidirectional encoder) with dropout and clipping on the
     * reversal task: the decoder's initial-state gradients (layerBackward's dInit) carry the whole
     * gradient of the encoder, so a wrong one on the GPU shows here.
     */
    @Test
    void aTranslatorTrainsTheSameOnCudaAsOnCpu() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 7, 9, 8, 16, 2, 0.1f, true);
        assertSameTrajectory(Seq2SeqModelTest.trainLosses(cpu, cfg, 8), Seq2SeqModelTest.trainLosses(cuda, cfg, 8),
                "seq2seq");
    }

    /**
     * The same with general attention and input feeding: the decoder then trains step by step on
     * the engine's per-step cell ops (cellForward/cellBackward), one workspace per step and layer.
     */
    @Test
    void aTranslatorWithInputFeedingTrainsTheSameOnCudaAsOnCpu() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 7, 9, 8, 16, 2, 0.1f, true,
                dev.recur.models.seq2seq.Attention.Kind.GENERAL, true);
        assertSameTrajectory(Seq2SeqModelTest.trainLosses(cpu, cfg, 8), Seq2SeqModelTest.trainLosses(cuda, cfg, 8),
                "seq2seq with input feeding");
    }

    private static LmTraining.Options options(TextCorpus c, Path file, boolean resume, int stopAfter) {
        CharModelConfig m = new CharModelConfig(c.vocabulary().size(), 8, Cell.LSTM, 16, 2, 0.2f);
        return new LmTraining.Options(m, 4, 12, 6, 0.01f, "constant",
                OptimizerConfig.builder(Optimizer.Kind.ADAMW).build(), 1f, 5, file, 0, resume, 0, 0, 0, 20, 0.8f,
                stopAfter);
    }

    @Test
    void aCheckpointWrittenOnOneEngineResumesOnTheOther(@TempDir Path dir) throws Exception {
        TextCorpus c = LmTrainingTest.corpus();
        LmTraining.Result cpuOnly = LmTraining.run(cpu, c, options(c, dir.resolve("cpu.safetensors"), false, 0),
                LmTrainingTest.quiet());
        assertEquals(6, cpuOnly.steps());
        for (Backend[] order : new Backend[][] {{cuda, cpu}, {cpu, cuda}}) {
            String what = "written on " + order[0].name() + ", resumed on " + order[1].name();
            Path file = dir.resolve(order[0].name() + "-then-" + order[1].name() + ".safetensors");
            LmTraining.Result first = LmTraining.run(order[0], c, options(c, file, false, 3), LmTrainingTest.quiet());
            assertEquals(3, first.steps(), what);
            Checkpoint written = Checkpoint.read(file);
            LmTraining.Result resumed = LmTraining.run(order[1], c, options(c, file, true, 0), LmTrainingTest.quiet());
            assertEquals(6, resumed.steps(), what);
            // Three steps on each engine: the loss of step 6 agrees with the CPU-only run's within
            // the later-step tolerance of the class comment.
            double diff = Math.abs(resumed.trainLoss() - cpuOnly.trainLoss());
            assertTrue(diff <= LATER_STEP_RTOL * Math.abs(cpuOnly.trainLoss()), what + ": step 6 loss "
                    + resumed.trainLoss() + ", cpu only " + cpuOnly.trainLoss());
            // The file holds what the first engine had: the same names and shapes as a CPU file,
            // and the values it read back load on the other engine unchanged.
            Checkpoint reference = Checkpoint.read(dir.resolve("cpu.safetensors"));
            assertEquals(reference.tensors().keySet(), written.tensors().keySet(), what);
            try (CharLanguageModel model = new CharLanguageModel(order[1], options(c, file, false, 0).model(), 9)) {
                for (Parameter p : model.parameters()) {
                    StoredTensor stored = written.require(p.name(), p.value().shape().toArray());
                    assertArrayEquals(reference.tensors().get(p.name()).shape(), stored.shape(), p.name());
                    p.value().copyFrom(stored.data());
                    // Exact: an upload and a download move bits, not numbers.
                    assertArrayEquals(stored.data(), p.value().toArray(), what + " " + p.name());
                }
            }
        }
    }
}
