package dev.recur.models.train;

import dev.recur.api.NonFiniteException;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.Json;
import dev.recur.models.io.LinePlot;
import dev.recur.models.io.RunLock;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.Parameter;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The one training loop of Recur, for every command and every library user: steps and epochs,
 * a learning-rate schedule, clipping, progress, divergence detection, validation, early stopping
 * that restores the best weights, checkpoints (the latest, the last N and the best), resume, a
 * metrics log and a loss-curve PNG, and {@link TrainingListener}s.
 * <pre>{@code
 * Trainer.Result r = Trainer.builder().epochs(20).learningRate(LearningRateSchedule.constant(1e-3f))
 *         .clip(5f).patience(3).checkpoint(Path.of("runs/model.safetensors")).build()
 *         .fit(task);
 * }</pre>
 *
 * <p>Checkpoints: the file given to {@link Builder#checkpoint} always holds the latest save; with
 * {@link Builder#keepLast keepLast(n)} the n-1 saves before it stay as {@code NAME.step-S.EXT}; with
 * validation, {@code NAME.best.EXT} holds the weights of the lowest validation loss. A run that ends
 * (all steps done, or stopped early) writes a final checkpoint marked finished, holding the weights
 * the run ends with (the best ones, by default). A fresh run over an existing checkpoint says it
 * overwrites it, and refuses one that holds another kind of model.
 *
 * <p>Resume ({@link Builder#resume}): the model, the optimizer, the task's own state, the best
 * validation so far and the early-stopping count come back from the checkpoint, and the run ends
 * bit for bit where an uninterrupted run with the same settings ends. A missing file or a finished
 * run is refused with a {@link CheckpointException}.
 *
 * <p>Data parallelism ({@link Builder#collective}): every rank of an {@code mpirun} or {@code srun}
 * job runs the same trainer; each trains on its shard of every global batch, the gradients are
 * all-reduced before each update ({@link DataParallel}), every rank starts from rank 0's weights,
 * and rank 0 alone writes checkpoints, metrics, the loss curve and progress while the others wait.
 * A checkpoint records the world size it was written with; resuming it with another is refused,
 * and its weights load in a single process as any other's.
 */
public final class Trainer {

    /** Metadata keys of the trainer's own state in a checkpoint. */
    static final String FINISHED = "trainer.finished";
    static final String TOTAL_STEPS = "trainer.total_steps";
    static final String BEST_VALIDATION = "trainer.best_validation";
    static final String BEST_STEP = "trainer.best_step";
    static final String SINCE_BEST = "trainer.since_best";
    static final String FIRST_LOSS = "trainer.first_loss";
    static final String OPTIMIZER_STEPS = "optimizer_steps";
    static final String EXTRA_STATE = "model.";
    static final String SETTINGS = "trainer.settings";
    static final String WORLD_SIZE = "trainer.world_size";

    /** How a run ended. */
    public record Result(long steps, long totalSteps, float lastLoss, double lastValidation,
                         double bestValidation, long bestStep, boolean finished, String stoppedBecause) {
    }

    private final Builder s;

    private Trainer(Builder b) {
        this.s = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a {@link Trainer}; each has a default but the length of the run. */
    public static final class Builder {
        private int epochs;
        private long steps;
        private LearningRateSchedule schedule = LearningRateSchedule.constant(1e-3f);
        private float clip;
        private long validateEvery;
        private int patience;
        private float minDelta = 1e-4f;
        private boolean restoreBest = true;
        private Path checkpoint;
        private long checkpointEvery;
        private int keepLast = 1;
        private boolean resume;
        private long stopAfter;
        private Path metrics;
        private Path lossCurve;
        private float divergenceFactor = 100f;
        private java.util.Set<String> allowChanged = java.util.Set.of();
        private long seed;
        private Progress progress;
        private dev.recur.api.Collective collective = new dev.recur.api.SingleProcessCollective();
        private long bucketBytes = DataParallel.DEFAULT_BUCKET_BYTES;
        private final List<TrainingListener> listeners = new ArrayList<>();

        private Builder() {
        }

        /** Train for this many passes over the data (or set {@link #steps}). */
        public Builder epochs(int epochs) {
            require(epochs >= 1, "epochs must be >= 1, got " + epochs);
            this.epochs = epochs;
            this.steps = 0;
            return this;
        }

        /** Train for this many optimizer steps (or set {@link #epochs}). */
        public Builder steps(long steps) {
            require(steps >= 1, "steps must be >= 1, got " + steps);
            this.steps = steps;
            this.epochs = 0;
            return this;
        }

        /** The learning rate at each step (0-based). Default: constant 1e-3. */
        public Builder learningRate(LearningRateSchedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /** Clip gradients to this global norm; 0 (the default) turns clipping off. */
        public Builder clip(float clip) {
            require(clip >= 0f && Float.isFinite(clip), "clip must be a finite number >= 0, got " + clip);
            this.clip = clip;
            return this;
        }

        /** Validate every this many steps; 0 (the default) validates at the end of each epoch. */
        public Builder validateEvery(long steps) {
            require(steps >= 0, "validateEvery must be >= 0, got " + steps);
            this.validateEvery = steps;
            return this;
        }

        /** Stop after this many validations without improvement; 0 (the default) never stops early. */
        public Builder patience(int validations) {
            require(validations >= 0, "patience must be >= 0, got " + validations);
            this.patience = validations;
            return this;
        }

        /** A validation loss counts as better when it is at least this much lower. Default 1e-4. */
        public Builder minDelta(float minDelta) {
            require(minDelta >= 0f, "minDelta must be >= 0, got " + minDelta);
            this.minDelta = minDelta;
            return this;
        }

        /** At the end, put back the weights of the best validation (default true; Keras' restore_best_weights). */
        public Builder restoreBest(boolean restoreBest) {
            this.restoreBest = restoreBest;
            return this;
        }

        /** Where checkpoints go; null (the default): none. */
        public Builder checkpoint(Path file) {
            this.checkpoint = file;
            return this;
        }

        /** Save every this many steps; 0 (the default): at the end of each epoch. */
        public Builder checkpointEvery(long steps) {
            require(steps >= 0, "checkpointEvery must be >= 0, got " + steps);
            this.checkpointEvery = steps;
            return this;
        }

        /** Keep the last this many saves (the latest in the checkpoint file itself). Default 1. */
        public Builder keepLast(int n) {
            require(n >= 1, "keepLast must be >= 1, got " + n);
            this.keepLast = n;
            return this;
        }

        /** Continue from the checkpoint file, which must exist and hold an unfinished run. */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /**
         * Settings a resume may change (names as the refusal lists them: {@code clip}, {@code lr_next},
         * ...); the run then goes on where no uninterrupted run goes, as the caller asked.
         */
        public Builder allowChanged(java.util.Collection<String> settings) {
            this.allowChanged = java.util.Set.copyOf(settings);
            return this;
        }

        /** Pause after this many steps of this run, saving a checkpoint to resume from; 0: never. */
        public Builder stopAfter(long steps) {
            require(steps >= 0, "stopAfter must be >= 0, got " + steps);
            this.stopAfter = steps;
            return this;
        }

        /** Write metrics as JSON lines to this file; null (the default): none. */
        public Builder metrics(Path file) {
            this.metrics = file;
            return this;
        }

        /** Draw the loss curves into this PNG at the end; null (the default): none. */
        public Builder lossCurve(Path file) {
            this.lossCurve = file;
            return this;
        }

        /**
         * Call the run diverged when the mean loss of the last 10 steps exceeds this many times the
         * first step's loss; 0 turns the check off (a non-finite loss always stops the run). Default 100.
         */
        public Builder divergenceFactor(float factor) {
            require(factor >= 0f, "divergenceFactor must be >= 0, got " + factor);
            this.divergenceFactor = factor;
            return this;
        }

        /** The run's seed, recorded in checkpoints. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Where progress and the trainer's lines go; default: none. */
        public Builder progress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /**
         * Data parallelism over this collective's ranks (default: a single process). Every rank
         * runs the same trainer with the same settings; each trains on its shard of every batch
         * ({@link TrainingTask#shard}), the gradients are all-reduced before each update, and rank
         * 0 alone writes checkpoints, metrics, the loss curve and progress while the others wait.
         * The caller owns the collective (the trainer does not close it).
         */
        public Builder collective(dev.recur.api.Collective collective) {
            this.collective = Objects.requireNonNull(collective, "collective");
            return this;
        }

        /** Gradients are all-reduced in buckets of at most this many bytes. Default 25 MiB (PyTorch DDP's). */
        public Builder bucketBytes(long bytes) {
            require(bytes >= Float.BYTES, "bucketBytes must be >= 4, got " + bytes);
            this.bucketBytes = bytes;
            return this;
        }

        public Builder listener(TrainingListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public Trainer build() {
            require(epochs > 0 || steps > 0, "the length of the run is not set: call epochs(n) or steps(n)");
            require(!resume || checkpoint != null, "resume needs a checkpoint file");
            require(stopAfter == 0 || checkpoint != null, "stopAfter needs a checkpoint file to resume from");
            return new Trainer(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }

    /** Total optimizer steps of a run of {@code task}. */
    public long totalSteps(TrainingTask task) {
        return s.steps > 0 ? s.steps : (long) s.epochs * task.batchesPerEpoch();
    }

    // ------------------------------------------------------------------ the loop

    private double best = Double.POSITIVE_INFINITY;
    private long bestStep;
    private int sinceBest;
    private float firstLoss = Float.NaN;
    private Map<String, float[]> bestWeights;
    private DataParallel dp;

    /**
     * Time in the gradient all-reduce of the last {@link #fit} (host copies included), in seconds,
     * over {@link #allReduceSteps()} steps; 0 in a single process.
     */
    public double allReduceSeconds() {
        return dp == null ? 0 : dp.reduceSeconds();
    }

    /** float32 gradient values the last {@link #fit} all-reduced (over all its steps). */
    public long allReducedFloats() {
        return dp == null ? 0 : dp.reducedFloats();
    }

    /** Steps whose gradients the last {@link #fit} all-reduced. */
    public long allReduceSteps() {
        return dp == null ? 0 : dp.reduceCalls();
    }

    /** Whether this process writes the run's files: rank 0, or the only process. */
    private boolean lead() {
        return s.collective.rank() == 0;
    }

    /**
     * Trains {@code task}'s model.
     *
     * @throws TrainingDivergedException when the run diverges (checkpoints already written are kept)
     * @throws CheckpointException       when resuming is impossible, a checkpoint of another kind
     *                                   would be overwritten, or a checkpoint cannot be written
     * @throws IOException               when the metrics or the plot cannot be written
     */
    public Result fit(TrainingTask task) throws IOException {
        int perEpoch = task.batchesPerEpoch();
        if (perEpoch < 1) {
            throw new IllegalArgumentException("the task has " + perEpoch + " batches per epoch; it needs at least 1");
        }
        List<Parameter> params = task.model().parameters();
        dp = new DataParallel(s.collective, params.isEmpty() ? null : params.get(0).value().backend(), s.bucketBytes);
        if (dp.distributed()) {
            task.shard(s.collective.rank(), s.collective.worldSize());
        }
        if (s.checkpoint == null || !lead()) {
            // Only rank 0 writes the checkpoint, so only it holds the run's lock.
            return run(task, perEpoch);
        }
        Path folder = s.checkpoint.toAbsolutePath().getParent();
        if (folder != null && !Files.isDirectory(folder)) {
            throw new CheckpointException(s.checkpoint, "cannot write checkpoints: the folder " + folder
                    + " does not exist");
        }
        try (RunLock lock = RunLock.acquire(s.checkpoint)) {
            return run(task, perEpoch);
        }
    }

    private Result run(TrainingTask task, int perEpoch) throws IOException {
        Model model = task.model();
        Optimizer opt = task.optimizer();
        long total = totalSteps(task);
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the run would take " + total + " steps (" + s.epochs + " epochs of "
                    + perEpoch + "), more than 2^31 - 1; ask for fewer epochs");
        }
        // A trainer may fit more than once: nothing of an earlier run carries over.
        best = Double.POSITIVE_INFINITY;
        bestStep = 0;
        sinceBest = 0;
        firstLoss = Float.NaN;
        bestWeights = null;
        lastSaved = 0;
        long start = s.resume ? restore(task, total) : 0;
        if (s.resume) {
            say(String.format(Locale.ROOT, "resuming from step %d of %d (%s)", start, total, s.checkpoint));
        } else if (lead()) {
            checkOverwrite(model);
        }
        if (dp.distributed()) {
            // One starting point for every rank, whatever each one's initialisation drew.
            dp.broadcastWeights(model);
            float clip = s.clip;
            opt.beforeUpdate(params -> dp.reduceGradients(params, task.shardShare(), clip));
            say("data parallel: rank 0 of " + dp.worldSize() + ", gradients through " + dp.description()
                    + "; each rank trains on its shard of every batch");
        }
        try {
            return loop(task, perEpoch, model, total, start);
        } finally {
            opt.beforeUpdate(null);
            dp.close();
        }
    }

    private Result loop(TrainingTask task, int perEpoch, Model model, long total, long start) throws IOException {
        boolean validates = task.validates();
        long checkpointEvery = s.checkpointEvery > 0 ? s.checkpointEvery : perEpoch;
        long started = System.nanoTime();
        float last = Float.NaN;
        double lastValidation = Double.NaN;
        String stopped = "finished " + total + " steps";
        boolean finished = false;
        float[] recent = new float[10];
        try (MetricsLog log = new MetricsLog(lead() ? s.metrics : null, s.resume ? start : -1)) {
            model.train(true);
            long step = start;
            while (step < total) {
                int epoch = (int) (step / perEpoch);
                int batch = (int) (step % perEpoch);
                float lr = s.schedule.at((int) step); // total <= 2^31 - 1, checked above
                last = checkedStep(task, step + 1, epoch + 1, batch, lr);
                step++;
                if (Float.isNaN(firstLoss)) {
                    firstLoss = last;
                }
                recent[(int) (step % recent.length)] = last;
                if (s.divergenceFactor > 0 && firstLoss > 0 && step - start >= recent.length) {
                    double mean = 0;
                    for (float v : recent) {
                        mean += v / recent.length;
                    }
                    if (mean > s.divergenceFactor * firstLoss) {
                        throw new TrainingDivergedException(step, epoch + 1, lr, String.format(Locale.ROOT,
                                "the loss grew from %.4g at the first step to %.4g (mean of the last %d steps)",
                                firstLoss, mean, recent.length), null);
                    }
                }
                boolean end = step == total;
                log.step(step, epoch + 1, lr, last, (System.nanoTime() - started) / 1e9);
                if (s.progress != null && lead()) {
                    s.progress.update(epoch + 1, step, last, (step - start) * task.itemsPerStep());
                }
                for (TrainingListener l : s.listeners) {
                    l.onStep(step, epoch + 1, lr, last, end);
                }
                boolean earlyStop = false;
                boolean epochEnd = step % perEpoch == 0;
                if (validates && (end || (s.validateEvery > 0 ? step % s.validateEvery == 0 : epochEnd))) {
                    lastValidation = validate(task, model);
                    boolean improved = lastValidation < best - s.minDelta;
                    if (improved) {
                        best = lastValidation;
                        bestStep = step;
                        sinceBest = 0;
                        if (s.restoreBest) {
                            bestWeights = copyWeights(model);
                        }
                    } else {
                        sinceBest++;
                    }
                    log.validation(step, epoch + 1, lastValidation, improved);
                    say(String.format(Locale.ROOT, "step %d (epoch %d)  train loss %.4f  validation loss %.4f%s", step,
                            epoch + 1, last, lastValidation, improved ? "  (best)" : ""));
                    for (TrainingListener l : s.listeners) {
                        l.onValidation(step, epoch + 1, lastValidation, improved);
                    }
                    if (improved && s.checkpoint != null) {
                        save(task, step, total, false, sibling(s.checkpoint, ".best"));
                    }
                    if (!end && s.patience > 0 && sinceBest >= s.patience) {
                        earlyStop = true;
                        stopped = String.format(Locale.ROOT, "stopped early at step %d: the validation loss did not"
                                + " improve in %d validations (best %.4f at step %d)", step, s.patience, best, bestStep);
                    }
                }
                if (end || earlyStop) {
                    finished = true;
                    break;
                }
                boolean pause = s.stopAfter > 0 && step - start >= s.stopAfter;
                if (s.checkpoint != null && (pause || step % checkpointEvery == 0)) {
                    saveLatest(task, step, total, false);
                }
                if (pause) {
                    stopped = "paused after " + s.stopAfter + " steps at step " + step + " as asked; resume to go on";
                    break;
                }
            }
            if (s.progress != null && lead()) {
                s.progress.finish();
            }
            if (finished && s.restoreBest && bestWeights != null && bestStep != step) {
                restoreWeights(model, bestWeights);
                say(String.format(Locale.ROOT, "restored the weights of step %d (validation loss %.4f)", bestStep,
                        best));
            }
            if (s.checkpoint != null && finished) {
                saveLatest(task, step, total, true);
            }
            if (s.lossCurve != null && lead()) {
                drawLossCurve(log, s.lossCurve);
            }
            model.train(true);
            return new Result(step, total, last, lastValidation, validates ? best : Double.NaN, bestStep, finished,
                    stopped);
        }
    }

    private float checkedStep(TrainingTask task, long step, int epoch, int batch, float lr) {
        float loss;
        try {
            // Data parallel: the task must not clip its shard's gradients; the trainer clips the
            // all-reduced ones (DataParallel.reduceGradients, before the update).
            loss = task.trainStep(epoch - 1, batch, lr, dp.distributed() ? 0f : s.clip);
        } catch (NonFiniteException e) {
            throw new TrainingDivergedException(step, epoch, lr, e.getMessage(), e);
        }
        if (dp.distributed()) {
            loss = dp.reduceLoss(loss, task.shardShare());
        }
        if (!Float.isFinite(loss)) {
            throw new TrainingDivergedException(step, epoch, lr, "the loss is " + loss, null);
        }
        return loss;
    }

    private double validate(TrainingTask task, Model model) {
        model.eval();
        try {
            return dp.average(task.validationLoss());
        } finally {
            model.train(true);
        }
    }

    private void say(String line) {
        if (s.progress != null && lead()) {
            s.progress.line(line);
        }
    }

    // ------------------------------------------------------------------ checkpoints

    /** {@code runs/a.safetensors} with {@code ".best"} gives {@code runs/a.best.safetensors}. */
    public static Path sibling(Path file, String infix) {
        return sibling(file, infix, stemAndExtension(file)[1]);
    }

    /** {@code runs/a.safetensors} with {@code ".loss", ".png"} gives {@code runs/a.loss.png}. */
    public static Path sibling(Path file, String infix, String extension) {
        return file.resolveSibling(stemAndExtension(file)[0] + infix + extension);
    }

    /** {@code runs/a.safetensors} gives {@code "a", ".safetensors"}; no dot past the first character: no extension. */
    private static String[] stemAndExtension(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? new String[] {name.substring(0, dot), name.substring(dot)} : new String[] {name, ""};
    }

    private void saveLatest(TrainingTask task, long step, long total, boolean finished) throws IOException {
        Path file = s.checkpoint;
        if (lead() && s.keepLast > 1 && lastSaved > 0 && lastSaved != step && Files.isRegularFile(file)) {
            Files.copy(file, sibling(file, ".step-" + lastSaved), StandardCopyOption.REPLACE_EXISTING);
            prune(file);
        }
        save(task, step, total, finished, file);
        lastSaved = step;
    }

    private long lastSaved;

    /** Deletes the oldest {@code NAME.step-S.EXT} files beyond the {@code keepLast - 1} newest. */
    private void prune(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        String[] stemAndExtension = stemAndExtension(file);
        String stem = stemAndExtension[0];
        String ext = stemAndExtension[1];
        TreeMap<Long, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, stem + ".step-*" + ext)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                String middle = n.substring(stem.length() + ".step-".length(), n.length() - ext.length());
                if (middle.matches("\\d{1,18}")) {
                    found.put(Long.parseLong(middle), p);
                }
            }
        }
        while (found.size() > s.keepLast - 1) {
            Files.deleteIfExists(found.pollFirstEntry().getValue());
        }
    }

    private void save(TrainingTask task, long step, long total, boolean finished, Path file) throws IOException {
        if (dp.distributed()) {
            // Every rank reaches every save (the same steps, the same validation losses); the task
            // gathers what differs between ranks, rank 0 writes, and the others wait for the file.
            task.gatherShards(s.collective);
            if (lead()) {
                write(task, step, total, finished, file);
            }
            s.collective.barrier();
            return;
        }
        write(task, step, total, finished, file);
    }

    private void write(TrainingTask task, long step, long total, boolean finished, Path file) throws IOException {
        Model model = task.model();
        Optimizer opt = task.optimizer();
        Checkpoint.Builder b = model.checkpoint()
                .optimizer(opt.config().toString())
                .step(step)
                .seed(s.seed)
                .metadata(FINISHED, Boolean.toString(finished))
                .metadata(TOTAL_STEPS, Long.toString(total))
                .metadata(BEST_VALIDATION, Double.toString(best))
                .metadata(BEST_STEP, Long.toString(bestStep))
                .metadata(SINCE_BEST, Integer.toString(sinceBest))
                .metadata(FIRST_LOSS, Float.toString(firstLoss))
                .metadata(OPTIMIZER_STEPS, Integer.toString(opt.steps()))
                .metadata(SETTINGS, settings(task, total, step).toString())
                .metadata(WORLD_SIZE, Integer.toString(dp.worldSize()));
        model.extraState().forEach((k, v) -> b.metadata(EXTRA_STATE + k, v));
        for (Map.Entry<String, Tensor> e : opt.state().entrySet()) {
            b.tensor(e.getKey(), e.getValue().shape().toArray(), e.getValue().toArray());
        }
        task.save(b);
        Checkpoint checkpoint = b.build();
        requireFiniteWeights(model, checkpoint, step);
        checkpoint.write(file);
        for (TrainingListener l : s.listeners) {
            l.onCheckpoint(step, file);
        }
    }

    /**
     * Refuses to save weights that hold NaN or an infinity: the update of the last step can make
     * them so after its loss was checked, and such a checkpoint must not replace a good one.
     */
    private static void requireFiniteWeights(Model model, Checkpoint checkpoint, long step) {
        // The host copies the checkpoint already holds: no second copy of the weights.
        for (Parameter p : model.parameters()) {
            StoredTensor t = checkpoint.tensors().get(p.name());
            for (int i = 0; i < t.size(); i++) {
                if (!Float.isFinite(t.get(i))) {
                    throw new TrainingDivergedException(step, 0, Float.NaN, p.name() + " holds " + t.get(i)
                            + " after the update of this step; the checkpoint was not written, the previous one"
                            + " is kept", null);
                }
            }
        }
    }

    /**
     * What decides the run's course beyond the model's configuration: resuming with any of these
     * changed would end somewhere no uninterrupted run ends, so it is refused.
     */
    private com.fasterxml.jackson.databind.node.ObjectNode settings(TrainingTask task, long total, long step) {
        com.fasterxml.jackson.databind.node.ObjectNode o = Json.MAPPER.createObjectNode()
                .put("total_steps", total)
                .put("batches_per_epoch", task.batchesPerEpoch())
                .put("optimizer", task.optimizer().config().toString())
                .put("lr_first", s.schedule.at(0))
                .put("lr_next", s.schedule.at((int) Math.min(Integer.MAX_VALUE, step)))
                .put("lr_last", s.schedule.at((int) Math.min(Integer.MAX_VALUE, total - 1)))
                .put("clip", s.clip)
                .put("seed", s.seed)
                .put("validate_every", s.validateEvery)
                .put("patience", s.patience)
                .put("min_delta", s.minDelta)
                .put("restore_best", s.restoreBest);
        task.settings().forEach(o::put);
        return o;
    }

    /** Fresh run: says it overwrites a checkpoint of the same kind, refuses one of another kind. */
    private void checkOverwrite(Model model) throws CheckpointException {
        if (s.checkpoint == null || !Files.exists(s.checkpoint)) {
            return;
        }
        Checkpoint old;
        try {
            old = Checkpoint.read(s.checkpoint);
        } catch (CheckpointException e) {
            throw new CheckpointException(s.checkpoint, "is in the way and is not a checkpoint Recur can read ("
                    + e.problem() + "); move it or choose another checkpoint file");
        }
        String kind = ModelKinds.of(old.modelConfig());
        if (!model.kind().equals(kind)) {
            throw new CheckpointException(s.checkpoint, "holds " + ModelKinds.describe(kind) + "; not overwriting it"
                    + " with " + ModelKinds.describe(model.kind()) + "; choose another checkpoint file");
        }
        say("overwriting " + s.checkpoint + " (a " + kind + " checkpoint at step " + old.step()
                + "); resume instead to continue it");
    }

    private long restore(TrainingTask task, long total) throws IOException {
        Path file = s.checkpoint;
        if (!Files.exists(file)) {
            throw new CheckpointException(file, "cannot resume: no such file (start a fresh run without resuming, or"
                    + " give the checkpoint's path)");
        }
        Checkpoint c = Checkpoint.read(file);
        Model model = task.model();
        ModelKinds.require(c, model.kind());
        if (!sameConfig(c.modelConfig(), model.configJson())) {
            throw new CheckpointException(file, "mismatched: the file holds " + c.modelConfig() + ", this run asks for "
                    + model.configJson() + "; resume with the same settings or start afresh");
        }
        if (Boolean.parseBoolean(c.metadata(FINISHED)) || c.step() >= total) {
            throw new CheckpointException(file, "cannot resume: that run is finished (step " + c.step() + " of "
                    + c.metadata(TOTAL_STEPS) + "); start a fresh run, or load the model from it");
        }
        int written;
        try {
            written = c.metadata(WORLD_SIZE) == null ? 1 : Integer.parseInt(c.metadata(WORLD_SIZE));
        } catch (NumberFormatException e) {
            throw new CheckpointException(file, "cannot resume: its " + WORLD_SIZE + " is '" + c.metadata(WORLD_SIZE)
                    + "', not a number");
        }
        if (written != dp.worldSize()) {
            throw new CheckpointException(file, "cannot resume: it was written by a run of " + written + " rank"
                    + (written == 1 ? "" : "s") + ", this run has " + dp.worldSize() + "; resume it with "
                    + (written == 1 ? "a single process" : "mpirun -np " + written) + " (each rank's shard of the"
                    + " data and its carried state depend on it), or load its weights into a fresh run");
        }
        String saved = c.metadata(SETTINGS);
        if (saved != null) {
            com.fasterxml.jackson.databind.JsonNode before = Json.MAPPER.readTree(saved);
            com.fasterxml.jackson.databind.node.ObjectNode now = settings(task, total, c.step());
            List<String> changed = new ArrayList<>();
            List<String> allowed = new ArrayList<>();
            now.properties().forEach(e -> {
                com.fasterxml.jackson.databind.JsonNode was = before.get(e.getKey());
                if (was == null || !was.asText().equals(e.getValue().asText())) {
                    String what = e.getKey() + " was " + (was == null ? "not set" : was.asText()) + ", now "
                            + e.getValue().asText();
                    (s.allowChanged.contains(e.getKey()) ? allowed : changed).add(what);
                }
            });
            if (!allowed.isEmpty() && changed.isEmpty()) {
                say("resuming with changed settings, as asked: " + String.join("; ", allowed));
            }
            if (!changed.isEmpty()) {
                throw new CheckpointException(file, "cannot resume with other settings than the run had: "
                        + String.join("; ", changed) + "; resume with the same settings, start afresh, or name"
                        + " the settings to change (" + String.join(", ", now.properties().stream()
                        .map(Map.Entry::getKey).toList()) + ")");
            }
        }
        model.loadWeights(c);
        Map<String, float[]> state = new HashMap<>();
        for (Map.Entry<String, StoredTensor> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith("optimizer.")) {
                state.put(e.getKey(), e.getValue().data());
            }
        }
        try {
            task.optimizer().restore(Integer.parseInt(required(c, OPTIMIZER_STEPS)), state);
            Map<String, String> extra = new LinkedHashMap<>();
            c.extraMetadata().forEach((k, v) -> {
                if (k.startsWith(EXTRA_STATE)) {
                    extra.put(k.substring(EXTRA_STATE.length()), v);
                }
            });
            model.loadExtraState(extra);
            best = Double.parseDouble(required(c, BEST_VALIDATION));
            bestStep = Long.parseLong(required(c, BEST_STEP));
            sinceBest = Integer.parseInt(required(c, SINCE_BEST));
            firstLoss = Float.parseFloat(required(c, FIRST_LOSS));
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new CheckpointException(file, "cannot resume: " + e.getMessage());
        }
        task.restore(c);
        if (bestStep > 0 && s.restoreBest) {
            Path bestFile = sibling(file, ".best");
            if (!Files.exists(bestFile)) {
                throw new CheckpointException(bestFile, "cannot resume: the best weights (step " + bestStep
                        + ") were saved here and the file is missing");
            }
            Checkpoint b = Checkpoint.read(bestFile);
            if (b.step() != bestStep) {
                throw new CheckpointException(bestFile, "holds step " + b.step() + ", the run's best is step "
                        + bestStep + "; it belongs to another run");
            }
            bestWeights = new HashMap<>();
            for (Parameter p : model.parameters()) {
                bestWeights.put(p.name(), b.require(p.name(), p.value().shape().toArray()).data());
            }
        }
        lastSaved = c.step();
        return c.step();
    }

    private static String required(Checkpoint c, String key) throws CheckpointException {
        String v = c.metadata(key);
        if (v == null) {
            throw new CheckpointException(c.source(), "cannot resume: no '" + key + "' in the checkpoint (not written"
                    + " by Recur's trainer)");
        }
        return v;
    }

    private static boolean sameConfig(String a, String b) {
        try {
            return Json.MAPPER.readTree(a).equals(Json.MAPPER.readTree(b));
        } catch (IOException e) {
            return false;
        }
    }

    private static Map<String, float[]> copyWeights(Model model) {
        Map<String, float[]> out = new HashMap<>();
        for (Parameter p : model.parameters()) {
            out.put(p.name(), p.value().toArray());
        }
        return out;
    }

    private static void restoreWeights(Model model, Map<String, float[]> weights) {
        for (Parameter p : model.parameters()) {
            p.value().copyFrom(weights.get(p.name()));
        }
    }

    private static void drawLossCurve(MetricsLog log, Path file) throws IOException {
        LinePlot plot = new LinePlot(900, 500).title("loss").xLabel("step").yLabel("loss");
        plot.series("train loss", column(log.train, 0), column(log.train, 1), LinePlot.color(0));
        if (!log.validation.isEmpty()) {
            plot.series("validation loss", column(log.validation, 0), column(log.validation, 1), LinePlot.color(1));
        }
        try {
            plot.write(file);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static double[] column(List<double[]> rows, int i) {
        double[] out = new double[rows.size()];
        for (int r = 0; r < out.length; r++) {
            out[r] = rows.get(r)[i];
        }
        return out;
    }
}
