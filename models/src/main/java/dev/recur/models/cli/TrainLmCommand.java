package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.lm.LmTraining;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.TrainingDivergedException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** {@code recur train-lm}: a character-level language model on a text file, printing samples as it trains. */
@Command(name = "train-lm", header = "train a character-level language model on a text file and print samples",
        showDefaultValues = true, sortOptions = false,
        description = {
            "Trains a character-level language model (embedding, stacked recurrent layers, softmax over",
            "characters) by truncated backpropagation through time, printing the loss, a validation loss on",
            "the last 10%% of the text, and generated samples. Without --data it trains on the short original",
            "corpus that ships with Recur. Checkpoints go to --checkpoint (the best validation also to",
            "NAME.best.safetensors), metrics to NAME.metrics.jsonl and the loss curve to NAME.loss.png",
            "beside it; --resume continues a run from --checkpoint."})
final class TrainLmCommand extends CliCommand {

    static final String DEFAULT_CHECKPOINT = "runs/char-lm.safetensors";

    @Option(names = "--data", paramLabel = "FILE", converter = Checks.FileName.class,
            description = "UTF-8 text to learn (default: the built-in corpus)")
    Path data;
    @Option(names = "--cell", paramLabel = "NAME", defaultValue = "lstm", converter = Checks.CellName.class,
            description = "lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu")
    Cell cell;
    @Option(names = "--layers", paramLabel = "N", defaultValue = "2", converter = Checks.Size.class,
            description = "stacked layers")
    int layers;
    @Option(names = "--hidden", paramLabel = "N", defaultValue = "128", converter = Checks.Size.class,
            description = "hidden units per layer")
    int hidden;
    @Option(names = "--embedding", paramLabel = "N", defaultValue = "32", converter = Checks.Size.class,
            description = "character embedding size")
    int embedding;
    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1", converter = Checks.Dropout.class,
            description = "dropout between layers while training")
    float dropout;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", converter = Checks.Size.class,
            description = "sequences per batch")
    int batch;
    @Option(names = "--window", paramLabel = "N", defaultValue = "64", converter = Checks.Size.class,
            description = "steps per truncated-BPTT window")
    int window;
    @Option(names = "--steps", paramLabel = "N", defaultValue = "400", converter = Checks.Positive.class,
            description = "optimizer steps")
    int steps;
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", converter = Checks.OptimizerName.class,
            description = "sgd, rmsprop, adam, adamw")
    Optimizer.Kind optimizer;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.005", converter = Checks.PositiveNumber.class,
            description = "learning rate")
    float lr;
    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "cosine",
            description = "learning-rate schedule: ${COMPLETION-CANDIDATES}")
    Schedule schedule;
    @Option(names = "--clip", paramLabel = "X", defaultValue = "5", converter = Checks.NonNegativeNumber.class,
            description = "clip gradients to this global norm, 0 = off")
    float clip;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of the weights, dropout and samples")
    long seed;
    @Option(names = "--checkpoint", paramLabel = "FILE", defaultValue = DEFAULT_CHECKPOINT,
            converter = Checks.FileName.class, description = "where to save")
    Path checkpoint;
    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "100", converter = Checks.NonNegative.class,
            description = "also save every N steps, 0 = only at the end")
    int checkpointEvery;
    @Mixin
    CellOptionFlags cellFlags;
    @Mixin
    RunOptions run;
    @Option(names = "--validate-every", paramLabel = "N", defaultValue = "100", converter = Checks.NonNegative.class,
            description = "validation loss every N steps, 0 = never")
    int validateEvery;
    @Option(names = "--patience", paramLabel = "N", defaultValue = "0", converter = Checks.NonNegative.class,
            description = "stop after N validations without improvement, 0 = never")
    int patience;
    @Option(names = "--sample-every", paramLabel = "N", defaultValue = "100", converter = Checks.NonNegative.class,
            description = "print a sample every N steps, 0 = only at the end")
    int sampleEvery;
    @Option(names = "--sample-length", paramLabel = "N", defaultValue = "200", converter = Checks.Positive.class,
            description = "characters per sample")
    int sampleLength;
    @Option(names = "--temperature", paramLabel = "X", defaultValue = "0.8", converter = Checks.PositiveNumber.class,
            description = "sampling temperature")
    float temperature;

    /** Learning-rate schedules, as the option spells them. */
    enum Schedule { constant, step, cosine }

    @Override
    protected void check() {
        run.check();
        cellFlags.options(cell, hidden);
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        try {
            return run.distributed(name(), out, err, o -> train(o, err));
        } catch (IOException e) { // train reports its own; distributed adds none of its own
            err.println("recur train-lm: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    private int train(PrintStream out, PrintStream err) {
        TextCorpus corpus;
        try {
            corpus = data != null ? TextCorpus.read(data) : TextCorpus.defaultCorpus();
        } catch (IOException e) {
            err.println("recur train-lm: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        CharModelConfig model;
        try {
            model = new CharModelConfig(corpus.vocabulary().size(), embedding, cell, hidden, layers, dropout,
                    cellFlags.options(cell, hidden));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        LmTraining.Options settings = new LmTraining.Options(model, batch, window, steps, lr, schedule.name(),
                OptimizerConfig.builder(optimizer).build(), clip, seed, checkpoint, checkpointEvery, run.resume,
                validateEvery, patience, sampleEvery, sampleLength, temperature, run.stopAfter,
                RunOptions.metrics(checkpoint), RunOptions.lossCurve(checkpoint), run.keep, run.resumeChanging);
        try (Backend be = openBackend()) {
            // Made before training, so a checkpoint folder that cannot exist fails at once, not
            // after the run (a fresh clone has no runs/ folder).
            CommandPaths.createParent(checkpoint);
            out.println("recur train-lm: " + corpus + " on the " + be.name() + " backend");
            out.println("  " + model);
            out.println("  batch " + batch + ", window " + window + ", steps " + steps + ", " + settings.optimizer()
                    + ", lr " + lr + " (" + schedule + "), clip " + clip + ", seed " + seed);
            Progress progress = new Progress(out, Progress.isTerminal(), steps, "tok", 20);
            LmTraining.Result r = LmTraining.run(be, corpus, settings, progress, run.collective());
            out.printf(Locale.ROOT, "done: %s; train loss %.4f, validation loss %.4f; checkpoint %s, metrics %s,"
                            + " loss curve %s%n", r.stoppedBecause(), r.trainLoss(), r.validationLoss(), checkpoint,
                    settings.metrics(), settings.lossCurve());
            out.println("sample: " + r.sample());
            return Recur.EXIT_OK;
        } catch (IOException | TrainingDivergedException e) {
            err.println("recur train-lm: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
