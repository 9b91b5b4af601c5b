package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.LabelledText;
import dev.recur.models.data.PaddedBatch;
import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.train.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code recur classify}: a many-to-one sentence classifier (word embedding, recurrent stack,
 * linear head on the final states) trained on files of {@code text<TAB>label} lines, reporting
 * test accuracy beside the majority-class baseline.
 *
 * <p>Shapes: every batch is {@code [T, B]} token ids with T = the longest (truncated) sentence
 * of the data, at most {@code --max-length}, and B = {@code --batch}, so the model's buffers are
 * made once. The engines skip the steps past each sentence's own length, so the fixed T costs
 * no work on padding. The last batch of an epoch (and of the test set) is filled up to B with
 * padding rows (one {@code <pad>} token, label {@value #IGNORE}) that the loss ignores.
 */
final class ClassifyCommand implements Subcommand {

    /** The label of padding rows; softmax cross-entropy skips rows with this target. */
    static final int IGNORE = -1;

    @Override
    public String name() {
        return "classify";
    }

    @Override
    public String summary() {
        return "train a sentence classifier on text<TAB>label files and report test accuracy";
    }

    @Override
    public String usage() {
        return """
                usage: recur classify --data FILE[,FILE...] [options]

                Trains a many-to-one classifier (word embedding, recurrent layers, a linear layer on
                the final hidden states, softmax cross-entropy) on lines of text<TAB>label, such as the
                UCI sentiment-labelled sentences ("Great phone, works well.<TAB>1"). The examples are
                shuffled with --seed and split into training and test parts; the word vocabulary is
                built from the training part only (test words never seen are <unk>). Each epoch
                prints the training loss and the test accuracy; the end prints the test accuracy beside
                the majority-class baseline (always answering the training part's most common label).

                Batches all hold --batch sentences, padded to the longest sentence (at most --max-length
                words; longer ones are cut). The last, partial batch of an epoch is filled with padding
                rows whose loss is ignored, so every example is used once per epoch.

                options (defaults in brackets):
                  --data FILE            text<TAB>label lines (UTF-8); repeat the option or separate
                                         files with commas to use several [required]
                  --cell NAME            lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu [gru]
                  --layers N             stacked layers [1]
                  --hidden N             hidden units per layer and direction [64]
                  --embedding N          word embedding size [64]
                  --bidirectional        read each sentence both ways
                  --dropout P            dropout between layers while training [0]
                  --epochs N             passes over the training part [10]
                  --batch N              sentences per batch [32]
                  --max-length N         words kept of each sentence [40]
                  --min-count N          words seen fewer times in training become <unk> [1]
                  --optimizer NAME       sgd, rmsprop, adam, adamw [adam]
                  --lr X                 learning rate [0.005]
                  --clip X               clip gradients to this global norm, 0 = off [5]
                  --test-fraction X      share of the examples held out for testing [0.2]
                  --seed N               seed of the split, the shuffling and the initial weights [1]
                  --checkpoint FILE      also save the model, its vocabulary and classes there [no file]
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>();
        List<Path> files = repeatedPaths(args, "--data", rest);
        Options o = Options.declare()
                .value("--cell").value("--layers").value("--hidden").value("--embedding").flag("--bidirectional")
                .value("--dropout").value("--epochs").value("--batch").value("--max-length").value("--min-count")
                .value("--optimizer").value("--lr").value("--clip").value("--test-fraction").value("--seed")
                .value("--checkpoint")
                .parse(rest).noPositional();
        if (files.isEmpty()) {
            throw new UsageException("option '--data' is required: there is no built-in classification data;"
                    + " give files of text<TAB>label lines");
        }
        Cell cell = TrainLmCommand.cell(o.string("--cell", "gru"));
        Optimizer.Kind kind = TrainLmCommand.kind(o.string("--optimizer", "adam"));
        int layers = TrainLmCommand.positive(o, "--layers", 1);
        int hidden = TrainLmCommand.positive(o, "--hidden", 64);
        int embedding = TrainLmCommand.positive(o, "--embedding", 64);
        boolean bidirectional = o.has("--bidirectional");
        float dropout = o.floatValue("--dropout", 0f);
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new UsageException("option '--dropout' must be in [0, 1), got " + dropout);
        }
        int epochs = TrainLmCommand.positive(o, "--epochs", 10);
        int batch = TrainLmCommand.positive(o, "--batch", 32);
        int maxLength = TrainLmCommand.positive(o, "--max-length", 40);
        int minCount = TrainLmCommand.positive(o, "--min-count", 1);
        float lr = o.floatValue("--lr", 0.005f);
        if (!(lr > 0f)) {
            throw new UsageException("option '--lr' must be > 0, got " + lr);
        }
        float clip = o.floatValue("--clip", 5f);
        if (clip < 0f) {
            throw new UsageException("option '--clip' must be >= 0, got " + clip);
        }
        double testFraction = fraction(o, "--test-fraction", 0.2f);
        long seed = o.longValue("--seed", 1);
        Path checkpoint = o.has("--checkpoint") ? CommandPaths.path("--checkpoint", o.string("--checkpoint", "")) : null;

        LabelledText data;
        LabelledText.Split split;
        try {
            data = LabelledText.read(files);
            split = data.split(testFraction, seed);
            if (checkpoint != null) {
                CommandPaths.createParent(checkpoint);
            }
        } catch (IOException e) {
            err.println("recur classify: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        List<String> trainTexts = new ArrayList<>();
        split.train().forEach(e -> trainTexts.add(e.text()));
        WordVocabulary vocabulary = WordVocabulary.build(trainTexts, minCount);
        int steps = longest(data.examples(), maxLength); // T
        SequenceModelConfig cfg = SequenceModelConfig.classifier(vocabulary.size(), embedding, cell, hidden, layers,
                bidirectional, dropout, data.classCount());
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(kind).build();
        int majority = majorityClass(split.train(), data.classCount());
        int batchesPerEpoch = (split.train().size() + batch - 1) / batch;

        long started = System.nanoTime();
        try (Backend be = Backends.best();
             SequenceModel model = new SequenceModel(be, cfg, seed);
             Optimizer optimizer = new Optimizer(be, optimizerConfig, model.parameters());
             IndexTensor ids = be.indices(steps, batch);   // [T, B]
             IndexTensor labels = be.indices(batch)) {     // [B]
            out.println("recur classify: " + data.source() + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d examples, classes %s with counts %s; %d for training, %d for testing%n",
                    data.examples().size(), data.classes(), Arrays.toString(data.classCounts()),
                    split.train().size(), split.test().size());
            out.printf(Locale.ROOT, "  vocabulary %d words (min count %d, from the training part); %d steps per"
                    + " batch (longest sentence, at most %d words)%n", vocabulary.size(), minCount, steps, maxLength);
            out.println("  " + cfg);
            out.println("  batch " + batch + ", epochs " + epochs + ", " + optimizerConfig + ", lr " + lr + ", clip "
                    + clip + ", seed " + seed);
            Batcher batcher = new Batcher(vocabulary, steps, batch, ids, labels);
            Progress progress = new Progress(out, Progress.isTerminal(), (long) epochs * batchesPerEpoch, "samples",
                    batchesPerEpoch);
            List<LabelledText.Example> order = new ArrayList<>(split.train());
            Random shuffle = new Random(seed + 1); // not the split's own sequence
            long step = 0;
            long samples = 0;
            double accuracy = 0;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Collections.shuffle(order, shuffle);
                double lossSum = 0;
                for (int from = 0; from < order.size(); from += batch) {
                    List<LabelledText.Example> chunk = order.subList(from, Math.min(order.size(), from + batch));
                    int[] lengths = batcher.load(chunk, true);
                    float loss;
                    try {
                        loss = CheckedStep.loss(() -> model.trainStep(ids, lengths, labels, optimizer, lr, clip),
                                ++step, epoch);
                    } catch (CheckedStep.Diverged e) {
                        progress.finish();
                        err.println("recur classify: " + e.getMessage());
                        return Recur.EXIT_FAILED;
                    }
                    lossSum += (double) loss * chunk.size();
                    samples += chunk.size();
                    progress.update(epoch, step, loss, samples);
                }
                int[] predicted = predict(model, batcher, split.test());
                accuracy = accuracy(predicted, split.test());
                progress.line(String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f, test accuracy %.4f",
                        epoch, epochs, lossSum / order.size(), accuracy));
            }
            progress.finish();
            double seconds = (System.nanoTime() - started) / 1e9;
            int correct = (int) Math.round(accuracy * split.test().size());
            int majorityCorrect = 0;
            for (LabelledText.Example e : split.test()) {
                majorityCorrect += e.label() == majority ? 1 : 0;
            }
            out.printf(Locale.ROOT, "test accuracy %.4f (%d/%d); majority-class baseline %.4f (always '%s'); %.1f s%n",
                    accuracy, correct, split.test().size(), (double) majorityCorrect / split.test().size(),
                    data.classes().get(majority), seconds);
            if (checkpoint != null) {
                save(model, cfg, optimizerConfig, vocabulary, data.classes(), steps, step, seed, checkpoint);
                out.println("checkpoint " + checkpoint);
            }
            return Recur.EXIT_OK;
        } catch (IOException e) {
            err.println("recur classify: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    /**
     * Fills the device's id and label buffers from a list of at most B examples, padding rows
     * after them; one host array of each, reused.
     */
    private static final class Batcher {
        private final WordVocabulary vocabulary;
        private final int steps;      // T
        private final int batch;      // B
        private final IndexTensor ids;
        private final IndexTensor labels;
        private final int[] tokens;   // [T, B]
        private final int[] targets;  // [B]

        Batcher(WordVocabulary vocabulary, int steps, int batch, IndexTensor ids, IndexTensor labels) {
            this.vocabulary = vocabulary;
            this.steps = steps;
            this.batch = batch;
            this.ids = ids;
            this.labels = labels;
            this.tokens = new int[steps * batch];
            this.targets = new int[batch];
        }

        /** Loads the examples (and the labels when {@code withLabels}); returns the lengths {@code [B]}. */
        int[] load(List<LabelledText.Example> examples, boolean withLabels) {
            PaddedBatch pb = vocabulary.batch(examples, steps);
            int n = examples.size();
            int[] real = pb.lengths();
            int[] lengths = new int[batch];
            Arrays.fill(tokens, WordVocabulary.PAD_ID);
            Arrays.fill(targets, IGNORE);
            for (int b = 0; b < n; b++) {
                lengths[b] = real[b];
                targets[b] = examples.get(b).label();
                for (int t = 0; t < lengths[b]; t++) {
                    tokens[t * batch + b] = pb.token(t, b);
                }
            }
            for (int b = n; b < batch; b++) {
                lengths[b] = 1; // a padding row: one <pad> token, label IGNORE
            }
            ids.copyFrom(tokens);
            if (withLabels) {
                labels.copyFrom(targets);
            }
            return lengths;
        }
    }

    /** The predicted class of each example, in batches of B. */
    private static int[] predict(SequenceModel model, Batcher batcher, List<LabelledText.Example> examples) {
        int classes = model.config().classes();
        int[] predicted = new int[examples.size()];
        for (int from = 0; from < examples.size(); from += batcher.batch) {
            List<LabelledText.Example> chunk = examples.subList(from, Math.min(examples.size(), from + batcher.batch));
            int[] lengths = batcher.load(chunk, false);
            float[] logits = model.predict(batcher.ids, lengths).toArray(); // [B, C]
            for (int b = 0; b < chunk.size(); b++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits[b * classes + c] > logits[b * classes + best]) {
                        best = c;
                    }
                }
                predicted[from + b] = best;
            }
        }
        return predicted;
    }

    private static double accuracy(int[] predicted, List<LabelledText.Example> examples) {
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == examples.get(i).label() ? 1 : 0;
        }
        return (double) correct / predicted.length;
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

    private static void save(SequenceModel model, SequenceModelConfig cfg, OptimizerConfig optimizer,
                             WordVocabulary vocabulary, List<String> classes, int maxLength, long step, long seed,
                             Path file) throws IOException {
        String json = String.format(Locale.ROOT, "{\"model\":\"sequence-classifier\",\"vocabulary\":%d,"
                        + "\"embedding\":%d,\"cell\":\"%s\",\"hidden\":%d,\"layers\":%d,\"bidirectional\":%b,"
                        + "\"dropout\":%s,\"classes\":%d,\"max_length\":%d}", cfg.vocabulary(), cfg.inputSize(),
                cfg.cell().id(), cfg.hidden(), cfg.layers(), cfg.bidirectional(), cfg.dropout(), cfg.classes(),
                maxLength);
        Checkpoint.Builder b = Checkpoint.builder().modelConfig(json).optimizer(optimizer.toString()).step(step)
                .seed(seed).metadata("vocabulary", vocabulary.toStorageString())
                .metadata("classes", String.join("\n", classes));
        for (Parameter p : model.parameters()) {
            b.tensor(p.name(), p.value().shape().toArray(), p.value().toArray());
        }
        b.build().write(file);
    }

    /**
     * Takes every {@code name VALUE} and {@code name=VALUE} out of {@code args} (before a
     * {@code --}), splitting each value on commas, and puts the other arguments in {@code rest}.
     * {@link Options} allows an option once; this one may be repeated.
     *
     * @throws UsageException when the option is last with no value, or a value is empty
     */
    static List<Path> repeatedPaths(List<String> args, String name, List<String> rest) {
        List<Path> paths = new ArrayList<>();
        boolean ended = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String value = null;
            if (!ended && a.equals(name)) {
                if (i + 1 >= args.size()) {
                    throw new UsageException("option '" + name + "' needs a value");
                }
                value = args.get(++i);
            } else if (!ended && a.startsWith(name + "=")) {
                value = a.substring(name.length() + 1);
            } else {
                ended |= a.equals("--");
                rest.add(a);
                continue;
            }
            for (String part : value.split(",", -1)) {
                if (part.isBlank()) {
                    throw new UsageException("option '" + name + "' has an empty file name in '" + value + "'");
                }
                paths.add(CommandPaths.path(name, part.strip()));
            }
        }
        return paths;
    }

    /** A value of the option in (0, 1). */
    static double fraction(Options o, String name, float fallback) {
        float v = o.floatValue(name, fallback);
        if (!(v > 0f && v < 1f)) {
            throw new UsageException("option '" + name + "' must be between 0 and 1 (exclusive), got " + v);
        }
        return v;
    }
}
