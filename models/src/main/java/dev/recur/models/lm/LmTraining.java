package dev.recur.models.lm;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.CharBatch;
import dev.recur.models.data.CharBatches;
import dev.recur.models.data.DataException;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Model;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.TrainingListener;
import dev.recur.models.train.TrainingTask;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Trains a {@link CharLanguageModel} on a {@link TextCorpus} by truncated BPTT, through the
 * {@link Trainer}: progress, samples, validation, early stopping, a stop on divergence, and
 * checkpoints that a killed run resumes from, ending where an uninterrupted run with the same seed
 * ends (parameters, optimizer state, carried hidden state and dropout stream are all saved; step
 * {@code s} reads batch {@code s % batchesPerEpoch}, so the data position is the step).
 */
public final class LmTraining {

    /** Settings of a run. Immutable; {@code toString} shows every one. */
    public record Options(CharModelConfig model, int batch, int window, int totalSteps, float lr, String schedule,
                          OptimizerConfig optimizer, float clip, long seed, Path checkpoint, int checkpointEvery,
                          boolean resume, int validateEvery, int patience, int sampleEvery, int sampleLength,
                          float temperature, int stopAfter, Path metrics, Path lossCurve, int keepLast,
                          java.util.List<String> resumeChanging) {

        /** The settings without a metrics file, loss curve or extra kept checkpoints. */
        public Options(CharModelConfig model, int batch, int window, int totalSteps, float lr, String schedule,
                       OptimizerConfig optimizer, float clip, long seed, Path checkpoint, int checkpointEvery,
                       boolean resume, int validateEvery, int patience, int sampleEvery, int sampleLength,
                       float temperature, int stopAfter) {
            this(model, batch, window, totalSteps, lr, schedule, optimizer, clip, seed, checkpoint, checkpointEvery,
                    resume, validateEvery, patience, sampleEvery, sampleLength, temperature, stopAfter, null, null, 1,
                    java.util.List.of());
        }
    }

    /**
     * What a run ended with; in a data-parallel run also the seconds spent in the gradient
     * all-reduce (host copies included) over {@code allReduceSteps} steps and the float32 values
     * all-reduced in them (0 in a single process).
     */
    public record Result(int steps, float trainLoss, float validationLoss, String sample, String stoppedBecause,
                         double allReduceSeconds, long allReduceSteps, long allReducedFloats) {
    }

    private LmTraining() {
    }

    /**
     * Trains a new model, or resumes one from {@code o.checkpoint()}.
     *
     * @throws dev.recur.models.train.TrainingDivergedException when the run diverges
     * @throws IOException when a checkpoint cannot be read or written, or resuming is refused
     */
    public static Result run(Backend be, TextCorpus corpus, Options o, Progress progress) throws IOException {
        return run(be, corpus, o, progress, new dev.recur.api.SingleProcessCollective());
    }

    /**
     * {@link #run(Backend, TextCorpus, Options, Progress)} as one rank of a data-parallel job: each
     * of the collective's W ranks trains on B/W of the batch's B stripes (rank r on stripes
     * {@code [r·B/W, (r+1)·B/W)}) and carries their hidden states; rank 0 prints, samples and
     * writes the files (see {@link Trainer.Builder#collective}).
     *
     * @throws IllegalArgumentException when B is not a multiple of the world size
     */
    public static Result run(Backend be, TextCorpus corpus, Options o, Progress progress,
                             dev.recur.api.Collective collective) throws IOException {
        CharBatches train = corpus.trainBatches(o.batch(), o.window());
        CharBatches validation = validationOrNull(corpus, o);
        try (CharLanguageModel model = new CharLanguageModel(be, o.model(), o.seed());
             Optimizer opt = new Optimizer(be, o.optimizer(), model.parameters());
             Task task = new Task(model, opt, corpus, train, validation, o)) {
            Random sampler = new Random(o.seed() ^ 0x5DEECE66DL);
            String[] sample = {""};
            Trainer trainer = Trainer.builder().steps(o.totalSteps()).learningRate(schedule(o)).clip(o.clip())
                    .validateEvery(o.validateEvery()).patience(o.patience()).checkpoint(o.checkpoint())
                    .checkpointEvery(o.checkpointEvery() > 0 ? o.checkpointEvery() : o.totalSteps())
                    .keepLast(o.keepLast()).resume(o.resume()).allowChanged(o.resumeChanging())
                    .stopAfter(o.stopAfter()).seed(o.seed())
                    .metrics(o.metrics()).lossCurve(o.lossCurve()).progress(progress).collective(collective)
                    .listener(new TrainingListener() {
                        @Override
                        public void onStep(long step, int epoch, float lr, float loss, boolean last) {
                            if (collective.rank() == 0 && o.sampleEvery() > 0
                                    && (step % o.sampleEvery() == 0 || last)) {
                                sample[0] = task.sample(sampler);
                                progress.line("step " + step + " sample: " + sample[0].replace("\n", "\\n"));
                            }
                        }
                    })
                    .build();
            Trainer.Result r = trainer.fit(task);
            return new Result((int) r.steps(), r.lastLoss(), (float) r.lastValidation(), sample[0], r.stoppedBecause(),
                    trainer.allReduceSeconds(), trainer.allReduceSteps(), trainer.allReducedFloats());
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

    static final String VOCABULARY = "vocabulary";

    /** Truncated BPTT over the corpus' stripes, the hidden state carried from window to window. */
    private static final class Task implements TrainingTask, AutoCloseable {
        private final CharLanguageModel model;
        private final Optimizer opt;
        private final TextCorpus corpus;
        private final CharBatches train;
        private final CharBatches validation;
        private final Options o;
        private IndexTensor in;       // [T, Bl]
        private IndexTensor target;   // [T*Bl]
        private final String dataFingerprint;
        private int shardRank;
        private int shards = 1;
        private float[][][] gathered; // [layers][h, c][B*H]: every rank's carried state, for rank 0's save

        Task(CharLanguageModel model, Optimizer opt, TextCorpus corpus, CharBatches train, CharBatches validation,
             Options o) {
            this.model = model;
            this.opt = opt;
            this.corpus = corpus;
            this.train = train;
            this.validation = validation;
            this.o = o;
            this.in = model.backend().indices(o.window(), o.batch());
            this.target = model.backend().indices(o.window() * o.batch());
            this.dataFingerprint = corpus.length() + " characters, hash "
                    + Integer.toHexString(java.util.Arrays.hashCode(corpus.ids()));
            model.restoreCarriedState(null, o.window(), o.batch());
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
            return train.batchesPerEpoch();
        }

        @Override
        public long itemsPerStep() {
            return (long) o.batch() * o.window();
        }

        @Override
        public String unit() {
            return "tok";
        }

        /** This rank's stripes of every window: {@code B/W} of the B columns. */
        @Override
        public void shard(int rank, int worldSize) {
            if (o.batch() % worldSize != 0) {
                throw new IllegalArgumentException("a batch of " + o.batch() + " stripes does not split evenly over "
                        + worldSize + " ranks; choose a batch that is a multiple of the world size");
            }
            shardRank = rank;
            shards = worldSize;
            in.close();
            target.close();
            in = model.backend().indices(o.window(), local());
            target = model.backend().indices(o.window() * local());
            model.restoreCarriedState(null, o.window(), local());
        }

        /** Stripes of this rank, {@code Bl = B / W}. */
        private int local() {
            return o.batch() / shards;
        }

        @Override
        public double shardShare() {
            return 1.0 / shards; // Bl·T of the B·T tokens the loss is a mean over
        }

        /** Columns {@code [r·Bl, (r+1)·Bl)} of a time-major {@code [T, B]} array. */
        private int[] columns(int[] all) {
            if (shards == 1) {
                return all;
            }
            int bl = local();
            int[] out = new int[o.window() * bl];
            for (int t = 0; t < o.window(); t++) {
                System.arraycopy(all, t * o.batch() + shardRank * bl, out, t * bl, bl);
            }
            return out;
        }

        @Override
        public float trainStep(int epoch, int batch, float lr, float clip) {
            if (batch == 0) {
                model.resetState(); // a new pass starts each stripe from its beginning
            }
            CharBatch b = train.batch(batch);
            in.copyFrom(columns(b.inputs()));
            target.copyFrom(columns(b.targets()));
            return model.trainStep(in, target, opt, lr, clip);
        }

        @Override
        public boolean validates() {
            return validation != null;
        }

        /** Mean loss over every validation window; training's carried state is set aside and put back. */
        @Override
        public double validationLoss() {
            float[][][] kept = model.carriedState();
            model.resetState();
            double total = 0;
            int n = validation.batchesPerEpoch();
            for (int i = 0; i < n; i++) {
                CharBatch b = validation.batch(i);
                in.copyFrom(columns(b.inputs()));
                target.copyFrom(columns(b.targets()));
                total += model.evaluate(in, target);
            }
            model.restoreCarriedState(kept, o.window(), local());
            return total / n;
        }

        String sample(Random random) {
            int[] prime = {corpus.ids()[random.nextInt(corpus.length())]};
            int[] out = model.sample(prime, o.sampleLength(), o.temperature(), random);
            return corpus.vocabulary().decode(prime) + corpus.vocabulary().decode(out);
        }

        /** Batch, window and the text itself (its length and hash): a resume on other text is refused. */
        @Override
        public java.util.Map<String, String> settings() {
            return java.util.Map.of("batch", Integer.toString(o.batch()), "window", Integer.toString(o.window()),
                    "data", dataFingerprint);
        }

        /**
         * Rank r's carried rows {@code [Bl, H]} placed at rows {@code [r·Bl, (r+1)·Bl)} of a zero
         * {@code [B, H]}, summed over the ranks: every rank's rows, exactly (x + 0 = x).
         */
        @Override
        public void gatherShards(dev.recur.api.Collective collective) {
            float[][][] mine = model.carriedState();
            if (mine == null) {
                gathered = null;
                return;
            }
            gathered = new float[mine.length][2][];
            for (int l = 0; l < mine.length; l++) {
                for (int k = 0; k < 2; k++) {
                    if (mine[l][k] == null) {
                        continue;
                    }
                    int h = k == 0 ? stateWidth() : o.model().hidden(); // h [B, S], c [B, H]
                    float[] whole = new float[o.batch() * h]; // [B, H]
                    System.arraycopy(mine[l][k], 0, whole, shardRank * local() * h, local() * h);
                    collective.allReduce(whole, dev.recur.api.Collective.Reduction.SUM);
                    gathered[l][k] = whole;
                }
            }
        }

        @Override
        public void save(Checkpoint.Builder b) {
            float[][][] carry = shards > 1 ? gathered : model.carriedState();
            for (int l = 0; l < carry.length; l++) {
                b.tensor("trainer.carry.h_l" + l, new int[] {o.batch(), stateWidth()}, carry[l][0]);
                if (carry[l][1] != null) {
                    b.tensor("trainer.carry.c_l" + l, new int[] {o.batch(), o.model().hidden()}, carry[l][1]);
                }
            }
            b.metadata(VOCABULARY, corpus.vocabulary().toStorageString());
        }

        @Override
        public void restore(Checkpoint c) throws CheckpointException {
            String vocabulary = c.metadata(VOCABULARY);
            if (vocabulary == null || !vocabulary.equals(corpus.vocabulary().toStorageString())) {
                throw new CheckpointException(c.source(), "mismatched: the file was trained on another character"
                        + " set than this text's; resume on the same data or start afresh");
            }
            float[][][] carry = new float[o.model().layers()][][];
            for (int l = 0; l < carry.length; l++) {
                carry[l] = new float[][] {c.require("trainer.carry.h_l" + l, o.batch(), stateWidth()).data(),
                        c.has("trainer.carry.c_l" + l)
                                ? c.require("trainer.carry.c_l" + l, o.batch(), o.model().hidden()).data() : null};
            }
            if (shards > 1) { // this rank's rows [r·Bl, (r+1)·Bl) of each [B, H]
                for (float[][] layer : carry) {
                    for (int k = 0; k < 2; k++) {
                        int h = k == 0 ? stateWidth() : o.model().hidden();
                        if (layer[k] != null) {
                            layer[k] = java.util.Arrays.copyOfRange(layer[k], shardRank * local() * h,
                                    (shardRank + 1) * local() * h);
                        }
                    }
                }
            }
            model.restoreCarriedState(carry, o.window(), local());
        }

        /** S, the width of a carried {@code h} ({@link dev.recur.api.CellOptions#stateWidth}); c is H wide. */
        private int stateWidth() {
            return o.model().options().stateWidth(o.model().cell(), o.model().hidden());
        }

        @Override
        public void close() {
            in.close();
            target.close();
        }
    }
}
