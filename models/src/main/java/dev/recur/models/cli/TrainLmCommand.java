package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.lm.LmTraining;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.train.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code recur train-lm}: a character-level language model on a text file, printing samples as it trains. */
final class TrainLmCommand implements Subcommand {

    static final String DEFAULT_CHECKPOINT = "runs/char-lm.safetensors";

    @Override
    public String name() {
        return "train-lm";
    }

    @Override
    public String summary() {
        return "train a character-level language model on a text file and print samples";
    }

    @Override
    public String usage() {
        return """
                usage: recur train-lm [--data FILE] [options]

                Trains a character-level language model (embedding, stacked recurrent layers, softmax
                over characters) by truncated backpropagation through time, printing the loss, a
                validation loss on the last 10% of the text, and generated samples. Without --data it
                trains on the short original corpus that ships with Recur. Checkpoints are written to
                --checkpoint; --resume continues a run from it.

                options (defaults in brackets):
                  --data FILE            UTF-8 text to learn [the built-in corpus]
                  --cell NAME            lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu [lstm]
                  --layers N             stacked layers [2]
                  --hidden N             hidden units per layer [128]
                  --embedding N          character embedding size [32]
                  --dropout P            dropout between layers while training [0.1]
                  --batch N              sequences per batch [32]
                  --window N             steps per truncated-BPTT window [64]
                  --steps N              optimizer steps [400]
                  --optimizer NAME       sgd, rmsprop, adam, adamw [adam]
                  --lr X                 learning rate [0.005]
                  --schedule NAME        constant, step, cosine [cosine]
                  --clip X               clip gradients to this global norm, 0 = off [5]
                  --seed N               seed of the initial weights, dropout and samples [1]
                  --checkpoint FILE      where to save [runs/char-lm.safetensors]
                  --checkpoint-every N   also save every N steps [100]
                  --resume               continue from --checkpoint if it exists
                  --stop-after N         stop after N steps of this run, saving a checkpoint, 0 = never [0]
                  --validate-every N     validation loss every N steps, 0 = never [100]
                  --patience N           stop after N validations without improvement, 0 = never [0]
                  --sample-every N       print a sample every N steps, 0 = only at the end [100]
                  --sample-length N      characters per sample [200]
                  --temperature X        sampling temperature [0.8]
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Options o = Options.declare()
                .value("--data").value("--cell").value("--layers").value("--hidden").value("--embedding")
                .value("--dropout").value("--batch").value("--window").value("--steps").value("--optimizer")
                .value("--lr").value("--schedule").value("--clip").value("--seed").value("--checkpoint")
                .value("--checkpoint-every").flag("--resume").value("--validate-every").value("--patience")
                .value("--sample-every").value("--sample-length").value("--temperature").value("--stop-after")
                .parse(args).noPositional();
        Cell cell = cell(o.string("--cell", "lstm"));
        Optimizer.Kind kind = kind(o.string("--optimizer", "adam"));
        int steps = positive(o, "--steps", 400);
        String schedule = o.string("--schedule", "cosine").toLowerCase(Locale.ROOT);
        if (!List.of("constant", "step", "cosine").contains(schedule)) {
            throw new UsageException("option '--schedule' must be constant, step or cosine, got '" + schedule + "'");
        }
        TextCorpus corpus;
        try {
            corpus = o.has("--data") ? TextCorpus.read(Path.of(o.string("--data", ""))) : TextCorpus.defaultCorpus();
        } catch (IOException e) {
            err.println("recur train-lm: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        CharModelConfig model;
        try {
            model = new CharModelConfig(corpus.vocabulary().size(), positive(o, "--embedding", 32), cell,
                    positive(o, "--hidden", 128), positive(o, "--layers", 2), o.floatValue("--dropout", 0.1f));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        LmTraining.Options run = new LmTraining.Options(model, positive(o, "--batch", 32), positive(o, "--window", 64),
                steps, o.floatValue("--lr", 0.005f), schedule, OptimizerConfig.builder(kind).build(),
                o.floatValue("--clip", 5f), o.longValue("--seed", 1), Path.of(o.string("--checkpoint",
                DEFAULT_CHECKPOINT)), o.intValue("--checkpoint-every", 100), o.has("--resume"),
                o.intValue("--validate-every", 100), o.intValue("--patience", 0), o.intValue("--sample-every", 100),
                positive(o, "--sample-length", 200), o.floatValue("--temperature", 0.8f),
                o.intValue("--stop-after", 0));
        try (Backend be = Backends.best()) {
            // Made before training, so a checkpoint folder that cannot exist fails at once, not
            // after the run (a fresh clone has no runs/ folder).
            CommandPaths.createParent(run.checkpoint());
            out.println("recur train-lm: " + corpus + " on the " + be.name() + " backend");
            out.println("  " + model);
            out.println("  batch " + run.batch() + ", window " + run.window() + ", steps " + steps + ", "
                    + run.optimizer() + ", lr " + run.lr() + " (" + schedule + "), clip " + run.clip() + ", seed "
                    + run.seed());
            Progress progress = new Progress(out, Progress.isTerminal(), steps, "tok", 20);
            LmTraining.Result r = LmTraining.run(be, corpus, run, progress);
            out.printf(Locale.ROOT, "done: %s; train loss %.4f, validation loss %.4f; checkpoint %s%n",
                    r.stoppedBecause(), r.trainLoss(), r.validationLoss(), run.checkpoint());
            out.println("sample: " + r.sample());
            return Recur.EXIT_OK;
        } catch (IOException | dev.recur.models.train.TrainingDivergedException e) {
            err.println("recur train-lm: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    static Cell cell(String name) {
        try {
            return Cell.byId(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static Optimizer.Kind kind(String name) {
        try {
            return Optimizer.kind(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static int positive(Options o, String name, int fallback) {
        int v = o.intValue(name, fallback);
        if (v < 1) {
            throw new UsageException("option '" + name + "' must be >= 1, got " + v);
        }
        return v;
    }
}
