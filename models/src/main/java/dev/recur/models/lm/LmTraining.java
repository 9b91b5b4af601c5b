package dev.recur.models.lm;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.CharBatch;
import dev.recur.models.data.CharBatches;
import dev.recur.models.data.DataException;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import dev.recur.models.train.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains a {@link CharLanguageModel} on a {@link TextCorpus} by truncated BPTT: progress, samples,
 * validation, early stopping, a stop on a non-finite loss, and checkpoints that a killed run
 * resumes from, ending where an uninterrupted run with the same seed ends (parameters, optimizer
 * state, carried hidden state, data position and dropout stream are all saved).
 */
public final class LmTraining {

    /** Settings of a run. Immutable; {@code toString} shows every one. */
    public record Options(CharModelConfig model, int batch, int window, int totalSteps, float lr, String schedule,
                          OptimizerConfig optimizer, float clip, long seed, Path checkpoint, int checkpointEvery,
                          boolean resume, int validateEvery, int patience, int sampleEvery, int sampleLength,
                          float temperature, int stopAfter) {
    }

    /** What a run ended with. */
    public record Result(int steps, float trainLoss, float validationLoss, String sample, String stoppedBecause) {
    }

    /** A non-finite loss stopped training. */
    public static final class DivergedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DivergedException(String message) {
            super(message);
        }
    }

    private LmTraining() {
    }

    public static Result run(Backend be, TextCorpus corpus, Options o, Progress progress)
            throws IOException {
        CharBatches train = corpus.trainBatches(o.batch(), o.window());
        CharBatches validation = validationOrNull(corpus, o);
        try (CharLanguageModel model = new CharLanguageModel(be, o.model(), o.seed());
             Optimizer opt = new Optimizer(be, o.optimizer(), model.parameters());
             IndexTensor in = be.indices(o.window(), o.batch());
             IndexTensor target = be.indices(o.window() * o.batch())) {
            int start = 0;
            if (o.resume() && o.checkpoint() != null && Files.exists(o.checkpoint())) {
                start = restore(model, opt, train, o, corpus);
                progress.line("resumed from " + o.checkpoint() + " at step " + start);
            } else {
                model.restoreCarriedState(null, o.window(), o.batch());
            }
            LearningRateSchedule lr = schedule(o);
            Random sampler = new Random(o.seed() ^ 0x5DEECE66DL);
            float last = Float.NaN;
            float bestValidation = Float.POSITIVE_INFINITY;
            float lastValidation = Float.NaN;
            int sinceBest = 0;
            String stopped = "finished " + o.totalSteps() + " steps";
            String sample = "";
            int step = start;
            while (step < o.totalSteps()) {
                CharBatch batch = train.next();
                if (batch.startsEpoch()) {
                    model.resetState();
                }
                in.copyFrom(batch.inputs());
                target.copyFrom(batch.targets());
                try {
                    last = model.trainStep(in, target, opt, lr.at(step), o.clip());
                } catch (IllegalArgumentException e) {
                    // The backend refuses non-finite weights or activations before the loss shows them.
                    if (e.getMessage() != null && e.getMessage().matches("(?s).* holds -?(NaN|Infinity) .*")) {
                        throw new DivergedException("training diverged at step " + (step + 1) + ": " + e.getMessage()
                                + "; lower the learning rate (now " + lr.at(step) + ") or clip gradients");
                    }
                    throw e;
                }
                step++;
                if (!Float.isFinite(last)) {
                    throw new DivergedException("the loss became " + last + " at step " + step
                            + "; lower the learning rate (now " + lr.at(step - 1) + ") or clip gradients");
                }
                progress.update(batch.epoch() + 1, step, last, (long) step * o.batch() * o.window());
                boolean end = step == o.totalSteps();
                if (o.sampleEvery() > 0 && (step % o.sampleEvery() == 0 || end)) {
                    sample = sample(model, corpus, o, sampler);
                    progress.line("step " + step + " sample: " + sample.replace("\n", "\\n"));
                }
                if (validation != null && (step % o.validateEvery() == 0 || end)) {
                    lastValidation = validate(model, validation, o, in, target);
                    progress.line(String.format(Locale.ROOT, "step %d  train loss %.4f  validation loss %.4f", step,
                            last, lastValidation));
                    if (lastValidation < bestValidation - 1e-4f) {
                        bestValidation = lastValidation;
                        sinceBest = 0;
                    } else if (o.patience() > 0 && ++sinceBest >= o.patience()) {
                        stopped = "early stop at step " + step + ": validation loss did not improve in " + o.patience()
                                + " validations (best " + bestValidation + ")";
                        save(model, opt, train, corpus, o, step);
                        break;
                    }
                }
                boolean pause = o.stopAfter() > 0 && step - start >= o.stopAfter() && !end;
                if (o.checkpoint() != null && (end || pause
                        || (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0))) {
                    save(model, opt, train, corpus, o, step);
                }
                if (pause) {
                    stopped = "stopped after " + o.stopAfter() + " steps at step " + step + " as asked; continue with"
                            + " --resume";
                    break;
                }
            }
            progress.finish();
            return new Result(step, last, lastValidation, sample, stopped);
        }
    }

    private static CharBatches validationOrNull(TextCorpus corpus, Options o) {
        if (o.validateEvery() <= 0) {
            return null;
        }
        try {
            return corpus.validationBatches(o.batch(), o.window());
        } catch (DataException e) {
            return null; // too little validation text for one batch: train without validation
        }
    }

    private static LearningRateSchedule schedule(Options o) {
        return switch (o.schedule()) {
            case "constant" -> LearningRateSchedule.constant(o.lr());
            case "cosine" -> LearningRateSchedule.cosine(o.lr(), o.totalSteps(), o.lr() / 20);
            case "step" -> LearningRateSchedule.step(o.lr(), Math.max(1, o.totalSteps() / 3), 0.3f);
            default -> throw new IllegalArgumentException("unknown schedule '" + o.schedule()
                    + "'; known: constant, step, cosine");
        };
    }

    /** Mean loss over every validation window; training's carried state is set aside and put back. */
    private static float validate(CharLanguageModel model, CharBatches validation, Options o, IndexTensor in,
                                  IndexTensor target) {
        float[][][] kept = model.carriedState();
        model.resetState();
        double total = 0;
        int n = validation.batchesPerEpoch();
        for (int i = 0; i < n; i++) {
            CharBatch b = validation.batch(i);
            in.copyFrom(b.inputs());
            target.copyFrom(b.targets());
            total += model.evaluate(in, target);
        }
        model.restoreCarriedState(kept, o.window(), o.batch());
        return (float) (total / n);
    }

    private static String sample(CharLanguageModel model, TextCorpus corpus, Options o, Random random) {
        int[] prime = {corpus.ids()[random.nextInt(corpus.length())]};
        int[] out = model.sample(prime, o.sampleLength(), o.temperature(), random);
        return corpus.vocabulary().decode(prime) + corpus.vocabulary().decode(out);
    }

    // ---------------------------------------------------------------- checkpoints

    static final String VOCABULARY = "vocabulary";
    static final String DROPOUT_COUNTER = "dropout_counter";
    static final String OPTIMIZER_STEPS = "optimizer_steps";

    private static void save(CharLanguageModel model, Optimizer opt, CharBatches train, TextCorpus corpus, Options o,
                             int step) throws IOException {
        Checkpoint.Builder b = Checkpoint.builder()
                .modelConfig(o.model().toJson())
                .optimizer(o.optimizer().toString())
                .dataPosition(Integer.toString(train.position()))
                .step(step)
                .seed(o.seed())
                .metadata(DROPOUT_COUNTER, Long.toString(model.rnn().dropoutCounter()))
                .metadata(OPTIMIZER_STEPS, Integer.toString(opt.steps()));
        for (Parameter p : model.parameters()) {
            b.tensor(p.name(), p.value().shape().toArray(), p.value().toArray());
        }
        for (Map.Entry<String, dev.recur.api.Tensor> e : opt.state().entrySet()) {
            b.tensor(e.getKey(), e.getValue().shape().toArray(), e.getValue().toArray());
        }
        float[][][] carry = model.carriedState();
        for (int l = 0; l < carry.length; l++) {
            b.tensor("trainer.carry.h_l" + l, new int[] {o.batch(), o.model().hidden()}, carry[l][0]);
            if (carry[l][1] != null) {
                b.tensor("trainer.carry.c_l" + l, new int[] {o.batch(), o.model().hidden()}, carry[l][1]);
            }
        }
        b.metadata(VOCABULARY, corpus.vocabulary().toStorageString());
        b.build().write(o.checkpoint());
    }

    private static int restore(CharLanguageModel model, Optimizer opt, CharBatches train, Options o,
                               TextCorpus corpus) throws CheckpointException {
        Checkpoint c = Checkpoint.read(o.checkpoint());
        CharModelConfig saved = CharModelConfig.fromJson(c.modelConfig());
        if (!saved.equals(o.model())) {
            throw new CheckpointException(o.checkpoint(), "mismatched: the file holds " + saved
                    + ", this run asks for " + o.model() + "; resume with the same settings or start afresh");
        }
        String vocabulary = c.metadata(VOCABULARY);
        if (vocabulary == null || !vocabulary.equals(corpus.vocabulary().toStorageString())) {
            throw new CheckpointException(o.checkpoint(), "mismatched: the file was trained on another character"
                    + " set than this text's; resume on the same data or start afresh");
        }
        for (Parameter p : model.parameters()) {
            p.value().copyFrom(c.require(p.name(), p.value().shape().toArray()).data());
        }
        Map<String, float[]> state = new HashMap<>();
        for (Map.Entry<String, StoredTensor> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith("optimizer.")) {
                state.put(e.getKey(), e.getValue().data());
            }
        }
        opt.restore(Integer.parseInt(c.metadata(OPTIMIZER_STEPS)), state);
        float[][][] carry = new float[o.model().layers()][][];
        for (int l = 0; l < carry.length; l++) {
            carry[l] = new float[][] {c.require("trainer.carry.h_l" + l, o.batch(), o.model().hidden()).data(),
                    c.has("trainer.carry.c_l" + l)
                            ? c.require("trainer.carry.c_l" + l, o.batch(), o.model().hidden()).data() : null};
        }
        model.restoreCarriedState(carry, o.window(), o.batch());
        model.rnn().dropoutCounter(Long.parseLong(c.metadata(DROPOUT_COUNTER)));
        train.seek(Integer.parseInt(c.dataPosition()));
        return (int) c.step();
    }
}
