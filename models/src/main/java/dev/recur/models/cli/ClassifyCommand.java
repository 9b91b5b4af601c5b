package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.LabelledText;
import dev.recur.models.data.PaddedBatch;
import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.TrainingDivergedException;
import dev.recur.models.train.TrainingListener;
import dev.recur.models.train.ShuffledTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code recur classify}: a many-to-one sentence classifier (word embedding, recurrent stack,
 * linear head on the final states) trained through the {@link Trainer} on files of
 * {@code text<TAB>label} lines, reporting the test accuracy once, at the end, beside the
 * majority-class baseline; and, with {@code --from MODEL TEXT...}, the class of each text by a
 * saved model.
 *
 * <p>Shapes: every training batch is {@code [T, B]} token ids with T = the longest (truncated)
 * sentence of the training and validation parts, at most {@code --max-length}, and B =
 * {@code --batch}, so the model's buffers are made once. The engines skip the steps past each
 * sentence's own length, so the fixed T costs no work on padding. The last batch of an epoch (and
 * of the validation part) is filled up to B with padding rows (one {@code <pad>} token, label
 * {@value #IGNORE}) that the loss ignores.
 */
@Command(name = "classify", header = "train a sentence classifier on text<TAB>label files, or classify texts with one",
        showDefaultValues = true, sortOptions = false,
        customSynopsis = {"recur classify --data FILE[,FILE...] [options]",
            "       recur classify --from MODEL TEXT..."},
        description = {
            "Trains a many-to-one classifier (word embedding, recurrent layers, a linear layer on the final",
            "hidden states, softmax cross-entropy) on lines of text<TAB>label, such as the UCI",
            "sentiment-labelled sentences (\"Great phone, works well.<TAB>1\"). The examples are shuffled with",
            "--seed and split into training and test parts; a validation part is carved from the training",
            "part (--validation-fraction). The word vocabulary is built from what remains for training",
            "(words never seen there are <unk>). Each epoch prints the training and validation loss; training",
            "stops early after --patience epochs without a better validation loss and restores the best",
            "weights. Only then is the test part used, once: the test accuracy beside the majority-class",
            "baseline (always answering the training part's most common label).",
            "",
            "Batches all hold --batch sentences, padded to the longest sentence (at most --max-length words;",
            "longer ones are cut). The last, partial batch of an epoch is filled with padding rows whose loss",
            "is ignored, so every example is used once per epoch.",
            "",
            "The model, its vocabulary and class names go to --checkpoint (the best validation also to",
            "NAME.best.safetensors), metrics to NAME.metrics.jsonl and the loss curve to NAME.loss.png beside",
            "it; --resume continues a run. recur classify --from MODEL TEXT... prints, for each TEXT, the",
            "predicted class, its probability and the text, separated by TABs."})
final class ClassifyCommand extends CliCommand {

    /** The label of padding rows; softmax cross-entropy skips rows with this target. */
    static final int IGNORE = -1;

    static final String DEFAULT_CHECKPOINT = "runs/classify.safetensors";

    /** Checkpoint metadata: the word vocabulary, the class names (one a line) and the words kept of a text. */
    static final String VOCABULARY = "vocabulary";
    static final String CLASSES = "classes";
    static final String MAX_LENGTH = "max_length";

    /** Texts classified at once with --from. */
    private static final int INFERENCE_BATCH = 64;

    @Spec
    CommandSpec spec;

    // Not split by picocli (split = ","): it drops trailing empty parts, so "a,," would pass.
    @Option(names = "--data", paramLabel = "FILE[,FILE...]", showDefaultValue = Visibility.NEVER,
            description = "text<TAB>label lines (UTF-8); repeat the option or separate files with commas")
    List<String> dataArguments = new ArrayList<>();
    @Option(names = "--from", paramLabel = "MODEL", converter = Checks.FileName.class,
            description = "classify the TEXTs with this saved model instead of training")
    Path from;
    @Parameters(paramLabel = "TEXT", arity = "0..*", showDefaultValue = Visibility.NEVER, description = "texts to classify (with --from)")
    List<String> texts = new ArrayList<>();
    @Option(names = "--cell", paramLabel = "NAME", defaultValue = "gru", converter = Checks.CellName.class,
            description = "lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu")
    Cell cell;
    @Option(names = "--layers", paramLabel = "N", defaultValue = "1", converter = Checks.Size.class,
            description = "stacked layers")
    int layers;
    @Option(names = "--hidden", paramLabel = "N", defaultValue = "64", converter = Checks.Size.class,
            description = "hidden units per layer and direction")
    int hidden;
    @Option(names = "--embedding", paramLabel = "N", defaultValue = "64", converter = Checks.Size.class,
            description = "word embedding size")
    int embedding;
    @Option(names = "--bidirectional", description = "read each sentence both ways")
    boolean bidirectional;
    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0", converter = Checks.Dropout.class,
            description = "dropout between layers while training")
    float dropout;
    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10", converter = Checks.Positive.class,
            description = "passes over the training part, at most")
    int epochs;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", converter = Checks.Size.class,
            description = "sentences per batch")
    int batch;
    @Option(names = "--max-length", paramLabel = "N", defaultValue = "40", converter = Checks.Size.class,
            description = "words kept of each sentence")
    int maxLength;
    @Option(names = "--min-count", paramLabel = "N", defaultValue = "2", converter = Checks.Positive.class,
            description = "words seen fewer times in training become <unk>")
    int minCount;
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", converter = Checks.OptimizerName.class,
            description = "sgd, rmsprop, adam, adamw")
    Optimizer.Kind optimizer;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.005", converter = Checks.PositiveNumber.class,
            description = "learning rate")
    float lr;
    @Option(names = "--clip", paramLabel = "X", defaultValue = "5", converter = Checks.NonNegativeNumber.class,
            description = "clip gradients to this global norm, 0 = off")
    float clip;
    @Option(names = "--test-fraction", paramLabel = "X", defaultValue = "0.2", converter = Checks.Fraction.class,
            description = "share of the examples held out for testing")
    double testFraction;
    @Option(names = "--validation-fraction", paramLabel = "X", defaultValue = "0.1", converter = Checks.Fraction.class,
            description = "share of the training part held out for validation (at least one example)")
    double validationFraction;
    @Option(names = "--stratify", description = "hold out each class in its share of the data (test and validation)")
    boolean stratify;
    @Option(names = "--patience", paramLabel = "N", defaultValue = "3", converter = Checks.NonNegative.class,
            description = "stop after N epochs without a better validation loss, 0 = never")
    int patience;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "seed of the splits, the shuffling and the initial weights")
    long seed;
    @Option(names = "--checkpoint", paramLabel = "FILE", defaultValue = DEFAULT_CHECKPOINT,
            converter = Checks.FileName.class, description = "where to save the model, each epoch and at the end")
    Path checkpoint;
    @Mixin
    CellOptionFlags cellFlags;
    @Mixin
    RunOptions run;

    /** The files of --data, split at commas. */
    private final List<Path> data = new ArrayList<>();

    /** What --from allows beside it: every other option is about training. */
    private static final Set<String> INFERENCE_OPTIONS = Set.of("--from", "--backend");

    @Override
    protected void check() {
        data.clear();
        for (String value : dataArguments) {
            for (String part : value.split(",", -1)) {
                if (part.isBlank()) {
                    throw new UsageException("option '--data' has an empty file name in '" + value + "'");
                }
                data.add(CommandPaths.path("--data", part.strip()));
            }
        }
        if (from != null) {
            ParseResult parsed = spec.commandLine().getParseResult();
            for (OptionSpec o : spec.options()) {
                if (parsed.hasMatchedOption(o) && !INFERENCE_OPTIONS.contains(o.longestName())) {
                    throw new UsageException("option '" + o.longestName() + "' is for training; it cannot be used"
                            + " with --from");
                }
            }
            if (texts.isEmpty()) {
                throw new UsageException("--from needs at least one TEXT to classify: recur classify --from "
                        + from + " \"some text\"");
            }
            return;
        }
        if (!texts.isEmpty()) {
            throw new UsageException("unexpected argument '" + texts.get(0) + "' (texts to classify go with"
                    + " --from MODEL)");
        }
        if (data.isEmpty()) {
            throw new UsageException("option '--data' is required: there is no built-in classification data;"
                    + " give files of text<TAB>label lines (or classify texts with --from MODEL TEXT...)");
        }
        cellFlags.options(cell, hidden);
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        try {
            return from != null ? classify(out) : run.distributed(name(), out, err, this::train);
        } catch (IOException | TrainingDivergedException e) {
            err.println("recur classify: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    // ------------------------------------------------------------------ training

    private int train(PrintStream out) throws IOException {
        LabelledText all = LabelledText.read(data);
        LabelledText.Parts parts = all.split(testFraction, validationFraction, seed, stratify);
        List<String> trainTexts = new ArrayList<>();
        parts.train().forEach(e -> trainTexts.add(e.text()));
        WordVocabulary vocabulary = WordVocabulary.build(trainTexts, minCount);
        int steps = Math.max(longest(parts.train(), maxLength), longest(parts.validation(), maxLength)); // T
        SequenceModelConfig cfg = SequenceModelConfig.classifier(vocabulary.size(), embedding, cell, hidden, layers,
                bidirectional, dropout, all.classCount()).withOptions(cellFlags.options(cell, hidden));
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(optimizer).build();
        List<LabelledText.Example> fitted = new ArrayList<>(parts.train());
        fitted.addAll(parts.validation());
        int majority = majorityClass(fitted, all.classCount());
        // Made before training, so a checkpoint folder that cannot exist fails at once.
        CommandPaths.createParent(checkpoint);
        Path metrics = RunOptions.metrics(checkpoint);
        Path lossCurve = RunOptions.lossCurve(checkpoint);

        long started = System.nanoTime();
        try (Backend be = openBackend();
             SequenceModel model = new SequenceModel(be, cfg, seed);
             Optimizer opt = new Optimizer(be, optimizerConfig, model.parameters());
             Task task = new Task(be, model, opt, parts, vocabulary, all.classes(), steps, batch, maxLength, seed)) {
            out.println("recur classify: " + all.source() + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d examples, classes %s with counts %s; %d for training, %d for validation,"
                            + " %d for testing%s%n", all.examples().size(), all.classes(),
                    Arrays.toString(all.classCounts()), parts.train().size(), parts.validation().size(),
                    parts.test().size(), stratify ? " (stratified)" : "");
            out.printf(Locale.ROOT, "  vocabulary %d words (min count %d, from the training part); %d steps per"
                    + " batch (longest sentence, at most %d words)%n", vocabulary.size(), minCount, steps, maxLength);
            out.println("  " + cfg);
            out.println("  batch " + batch + ", epochs " + epochs + " (patience " + patience + "), " + optimizerConfig
                    + ", lr " + lr + ", clip " + clip + ", seed " + seed);
            Progress progress = new Progress(out, Progress.isTerminal(), (long) epochs * task.batchesPerEpoch(),
                    task.unit(), task.batchesPerEpoch());
            Trainer.Result r = run.apply(Trainer.builder(), checkpoint).epochs(epochs)
                    .learningRate(LearningRateSchedule.constant(lr)).clip(clip).patience(patience).seed(seed)
                    .progress(progress)
                    .listener(new TrainingListener() {
                        @Override
                        public void onValidation(long step, int epoch, double loss, boolean improved) {
                            progress.line(String.format(Locale.ROOT, "  epoch %d/%d: validation accuracy %.4f",
                                    epoch, epochs, task.validationAccuracy));
                        }
                    })
                    .build()
                    .fit(task);
            if (!r.finished()) {
                out.println(r.stoppedBecause() + "; checkpoint " + checkpoint);
                return Recur.EXIT_OK;
            }
            model.eval();
            int correct = 0;
            int majorityCorrect = 0;
            List<String> testTexts = new ArrayList<>();
            parts.test().forEach(e -> testTexts.add(e.text()));
            double[][] p = probabilities(be, model, vocabulary, testTexts, maxLength);
            for (int i = 0; i < p.length; i++) {
                int label = parts.test().get(i).label();
                correct += argmax(p[i]) == label ? 1 : 0;
                majorityCorrect += label == majority ? 1 : 0;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            int n = parts.test().size();
            out.printf(Locale.ROOT, "done: %s%n", r.stoppedBecause());
            out.printf(Locale.ROOT, "test accuracy %.4f (%d/%d); majority-class baseline %.4f (always '%s'); %.1f s%n",
                    (double) correct / n, correct, n, (double) majorityCorrect / n, all.classes().get(majority),
                    seconds);
            out.println("checkpoint " + checkpoint + ", metrics " + metrics + ", loss curve " + lossCurve);
            return Recur.EXIT_OK;
        }
    }

    /**
     * The classifier's training: shuffled batches of the training part, the validation part's
     * mean cross-entropy and accuracy, and the vocabulary, class names and max length in each
     * checkpoint so that {@code --from} can use it.
     */
    private static final class Task extends ShuffledTask implements AutoCloseable {
        private final SequenceModel model;
        private final Optimizer opt;
        private final List<LabelledText.Example> train;
        private final List<LabelledText.Example> validation;
        private final WordVocabulary vocabulary;
        private final List<String> classes;
        private final int steps;      // T
        private final int batch;      // B
        private final int maxLength;
        private final IndexTensor ids;    // [T, B]
        private final IndexTensor labels; // [B]
        private final int[] tokens;       // [T, B]
        private final int[] targets;      // [B]
        double validationAccuracy = Double.NaN;

        Task(Backend be, SequenceModel model, Optimizer opt, LabelledText.Parts parts, WordVocabulary vocabulary,
             List<String> classes, int steps, int batch, int maxLength, long seed) {
            super(model, opt, parts.train().size(), batch, seed, "samples");
            this.model = model;
            this.opt = opt;
            this.train = parts.train();
            this.validation = parts.validation();
            this.vocabulary = vocabulary;
            this.classes = classes;
            this.steps = steps;
            this.batch = batch;
            this.maxLength = maxLength;
            this.ids = be.indices(steps, batch);
            this.labels = be.indices(batch);
            this.tokens = new int[steps * batch];
            this.targets = new int[batch];
        }

        @Override
        public float trainStep(int epoch, int b, float lr, float clip) {
            List<LabelledText.Example> chunk = new ArrayList<>(batch);
            for (int i : batchOrder(epoch, b)) {
                chunk.add(train.get(i));
            }
            int[] lengths = load(chunk);
            return model.trainStep(ids, lengths, labels, opt, lr, clip);
        }

        /**
         * Fills the device's id and label buffers with at most B examples, padding rows after them;
         * returns the lengths {@code [B]}.
         */
        private int[] load(List<LabelledText.Example> examples) {
            PaddedBatch pb = vocabulary.batch(examples, steps);
            int n = examples.size();
            int[] lengths = new int[batch];
            Arrays.fill(tokens, WordVocabulary.PAD_ID);
            Arrays.fill(targets, IGNORE);
            for (int b = 0; b < n; b++) {
                lengths[b] = pb.lengths()[b];
                targets[b] = examples.get(b).label();
                for (int t = 0; t < lengths[b]; t++) {
                    tokens[t * batch + b] = pb.token(t, b);
                }
            }
            for (int b = n; b < batch; b++) {
                lengths[b] = 1; // a padding row: one <pad> token, label IGNORE
            }
            ids.copyFrom(tokens);
            labels.copyFrom(targets);
            return lengths;
        }

        @Override
        public boolean validates() {
            return true;
        }

        /** Mean cross-entropy over the validation part; sets {@link #validationAccuracy} too. */
        @Override
        public double validationLoss() {
            int c = classes.size();
            double loss = 0;
            int correct = 0;
            for (int from = 0; from < validation.size(); from += batch) {
                List<LabelledText.Example> chunk = validation.subList(from, Math.min(validation.size(), from + batch));
                float[] logits = model.predict(ids, load(chunk)).toArray(); // [B, C]
                for (int b = 0; b < chunk.size(); b++) {
                    double[] p = softmax(logits, b, c);
                    int label = chunk.get(b).label();
                    loss -= Math.log(Math.max(p[label], Double.MIN_NORMAL));
                    correct += argmax(p) == label ? 1 : 0;
                }
            }
            validationAccuracy = (double) correct / validation.size();
            return loss / validation.size();
        }

        @Override
        public void save(Checkpoint.Builder b) {
            b.metadata(VOCABULARY, vocabulary.toStorageString())
                    .metadata(CLASSES, String.join("\n", classes))
                    .metadata(MAX_LENGTH, Integer.toString(maxLength));
        }

        @Override
        public void restore(Checkpoint c) throws CheckpointException {
            if (!vocabulary.toStorageString().equals(c.metadata(VOCABULARY))
                    || !String.join("\n", classes).equals(c.metadata(CLASSES))) {
                throw new CheckpointException(c.source(), "mismatched: the file was trained on other words or classes"
                        + " than this data's training part; resume on the same data, split and seed, or start afresh");
            }
        }

        @Override
        public void close() {
            ids.close();
            labels.close();
        }
    }

    // ------------------------------------------------------------------ inference

    private int classify(PrintStream out) throws IOException {
        Checkpoint c = Checkpoint.read(from);
        ModelKinds.require(c, ModelKinds.CLASSIFIER);
        String words = c.metadata(VOCABULARY);
        String names = c.metadata(CLASSES);
        String length = c.metadata(MAX_LENGTH);
        if (words == null || names == null || length == null) {
            throw new CheckpointException(c.source(), "a sequence-classifier model without its vocabulary, class names"
                    + " or max length (not saved by recur classify)");
        }
        WordVocabulary vocabulary;
        int maxWords;
        try {
            vocabulary = WordVocabulary.fromStorageString(words);
            maxWords = Integer.parseInt(length);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source(), "corrupt metadata: " + e.getMessage());
        }
        List<String> classes = List.of(names.split("\n", -1));
        try (Backend be = openBackend();
             SequenceModel model = SequenceModel.load(be, c)) {
            if (model.config().classes() != classes.size() || model.config().vocabulary() != vocabulary.size()) {
                throw new CheckpointException(c.source(), "the model has " + model.config().classes() + " classes and "
                        + model.config().vocabulary() + " words, its metadata " + classes.size() + " and "
                        + vocabulary.size());
            }
            model.eval();
            double[][] p = probabilities(be, model, vocabulary, texts, maxWords);
            for (int i = 0; i < p.length; i++) {
                int best = argmax(p[i]);
                out.printf(Locale.ROOT, "%s\t%.4f\t%s%n", classes.get(best), p[i][best], texts.get(i));
            }
            return Recur.EXIT_OK;
        }
    }

    /**
     * The class probabilities {@code [n][C]} of each text, in batches of at most
     * {@value #INFERENCE_BATCH}, each padded to its own longest text (at most {@code maxLength} words).
     */
    static double[][] probabilities(Backend be, SequenceModel model, WordVocabulary vocabulary, List<String> texts,
                                    int maxLength) {
        int c = model.config().classes();
        double[][] out = new double[texts.size()][];
        for (int from = 0; from < texts.size(); from += INFERENCE_BATCH) {
            List<LabelledText.Example> chunk = new ArrayList<>();
            for (String t : texts.subList(from, Math.min(texts.size(), from + INFERENCE_BATCH))) {
                chunk.add(new LabelledText.Example(t, 0));
            }
            PaddedBatch pb = vocabulary.batch(chunk, maxLength);
            try (IndexTensor ids = be.indices(pb.maxLength(), pb.batchSize())) { // [L, b]
                ids.copyFrom(pb.tokens());
                float[] logits = model.predict(ids, pb.lengths()).toArray(); // [b, C]
                for (int b = 0; b < chunk.size(); b++) {
                    out[from + b] = softmax(logits, b, c);
                }
            }
        }
        return out;
    }

    /** The softmax of row {@code row} of logits {@code [*, classes]}, in double. */
    static double[] softmax(float[] logits, int row, int classes) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < classes; k++) {
            max = Math.max(max, logits[row * classes + k]);
        }
        double[] p = new double[classes];
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            p[k] = Math.exp(logits[row * classes + k] - max);
            sum += p[k];
        }
        for (int k = 0; k < classes; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** The index of the largest value; the lowest among ties. */
    static int argmax(double[] v) {
        int best = 0;
        for (int k = 1; k < v.length; k++) {
            if (v[k] > v[best]) {
                best = k;
            }
        }
        return best;
    }

    /** The most common label of these examples; the lowest class id among ties. */
    static int majorityClass(List<LabelledText.Example> examples, int classes) {
        int[] counts = new int[classes];
        examples.forEach(e -> counts[e.label()]++);
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (counts[c] > counts[best]) {
                best = c;
            }
        }
        return best;
    }

    /** T: the most tokens of any example, cut to {@code maxLength}, and at least 1. */
    private static int longest(List<LabelledText.Example> examples, int maxLength) {
        int longest = 1;
        for (LabelledText.Example e : examples) {
            longest = Math.max(longest, Math.min(maxLength, WordVocabulary.tokenize(e.text()).size()));
        }
        return longest;
    }
}
