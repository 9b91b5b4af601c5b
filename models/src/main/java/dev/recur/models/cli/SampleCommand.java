package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.models.data.CharVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.nn.Parameter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** {@code recur sample}: text from a character-level language model checkpoint. */
final class SampleCommand implements Subcommand {

    @Override
    public String name() {
        return "sample";
    }

    @Override
    public String summary() {
        return "generate text from a train-lm checkpoint";
    }

    @Override
    public String usage() {
        return """
                usage: recur sample [--checkpoint FILE] [--length N] [--temperature X] [--prime TEXT] [--seed N]

                Generates characters from a checkpoint written by recur train-lm, starting from
                --prime, sampling each from the softmax of the logits divided by --temperature
                (lower is more conservative).

                options (defaults in brackets):
                  --checkpoint FILE   [runs/char-lm.safetensors]
                  --length N          characters to generate [300]
                  --temperature X     [0.8]
                  --prime TEXT        text to start from; every character must be in the model's vocabulary [a newline]
                  --seed N            seed of the sampling [1]
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Options o = Options.declare().value("--checkpoint").value("--length").value("--temperature").value("--prime")
                .value("--seed").parse(args).noPositional();
        Path file = Path.of(o.string("--checkpoint", TrainLmCommand.DEFAULT_CHECKPOINT));
        int length = TrainLmCommand.positive(o, "--length", 300);
        float temperature = o.floatValue("--temperature", 0.8f);
        if (!(temperature > 0f)) {
            throw new UsageException("option '--temperature' must be > 0, got " + temperature);
        }
        Checkpoint c;
        CharModelConfig cfg;
        CharVocabulary vocabulary;
        try {
            c = Checkpoint.read(file);
            String stored = c.metadata("vocabulary");
            if (stored == null || c.modelConfig() == null) {
                err.println("recur sample: " + file + " is not a train-lm checkpoint (no vocabulary or model config)");
                return Recur.EXIT_FAILED;
            }
            cfg = CharModelConfig.fromJson(c.modelConfig());
            vocabulary = CharVocabulary.fromStorageString(stored);
        } catch (IOException | IllegalArgumentException e) {
            err.println("recur sample: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        String prime = o.string("--prime", vocabulary.contains('\n') ? "\n" : vocabulary.decode(0));
        if (prime.isEmpty()) {
            throw new UsageException("option '--prime' must hold at least one character");
        }
        int[] primeIds = new int[prime.codePointCount(0, prime.length())];
        int i = 0;
        for (int cp : prime.codePoints().toArray()) {
            if (!vocabulary.contains(cp)) {
                throw new UsageException("option '--prime': the character '" + Character.toString(cp)
                        + "' is not in the model's vocabulary");
            }
            primeIds[i++] = vocabulary.id(cp);
        }
        try (Backend be = Backends.best();
             CharLanguageModel model = new CharLanguageModel(be, cfg, 0)) {
            for (Parameter p : model.parameters()) {
                p.value().copyFrom(c.require(p.name(), p.value().shape().toArray()).data());
            }
            int[] ids = model.sample(primeIds, length, temperature, new Random(o.longValue("--seed", 1)));
            out.println(prime + vocabulary.decode(ids));
            return Recur.EXIT_OK;
        } catch (IOException e) {
            err.println("recur sample: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
