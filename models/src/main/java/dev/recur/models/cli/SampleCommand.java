package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.models.data.CharVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.nn.ModelKinds;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Random;

/** {@code recur sample}: text from a character-level language model checkpoint. */
@Command(name = "sample", header = "generate text from a train-lm checkpoint", showDefaultValues = true,
        sortOptions = false, description = {
            "Generates characters from a checkpoint written by recur train-lm, starting from --prime,",
            "sampling each from the softmax of the logits divided by --temperature (lower is more",
            "conservative)."})
final class SampleCommand extends CliCommand {

    @Option(names = "--checkpoint", paramLabel = "FILE", defaultValue = TrainLmCommand.DEFAULT_CHECKPOINT,
            converter = Checks.FileName.class, description = "a train-lm checkpoint")
    Path checkpoint;
    @Option(names = "--length", paramLabel = "N", defaultValue = "300", converter = Checks.Length.class,
            description = "characters to generate")
    int length;
    @Option(names = "--temperature", paramLabel = "X", defaultValue = "0.8", converter = Checks.PositiveNumber.class,
            description = "sampling temperature")
    float temperature;
    @Option(names = "--prime", paramLabel = "TEXT",
            description = "text to start from; every character must be in the model's vocabulary (default: a newline)")
    String prime;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of the sampling")
    long seed;

    @Override
    protected void check() {
        if (prime != null && prime.isEmpty()) {
            throw new UsageException("option '--prime' must hold at least one character");
        }
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        Checkpoint c;
        CharVocabulary vocabulary;
        try {
            c = Checkpoint.read(checkpoint);
            ModelKinds.require(c, ModelKinds.CHAR_LM);
            String stored = c.metadata("vocabulary");
            if (stored == null) {
                err.println("recur sample: " + checkpoint + ": a char-lm model without its vocabulary");
                return Recur.EXIT_FAILED;
            }
            vocabulary = CharVocabulary.fromStorageString(stored);
        } catch (IOException | IllegalArgumentException e) {
            err.println("recur sample: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        String start = prime != null ? prime : vocabulary.contains('\n') ? "\n" : vocabulary.decode(0);
        int[] primeIds = new int[start.codePointCount(0, start.length())];
        int i = 0;
        for (int cp : start.codePoints().toArray()) {
            if (!vocabulary.contains(cp)) {
                throw new UsageException("option '--prime': the character '" + Character.toString(cp)
                        + "' is not in the model's vocabulary");
            }
            primeIds[i++] = vocabulary.id(cp);
        }
        try (Backend be = openBackend();
             CharLanguageModel model = CharLanguageModel.load(be, c)) {
            if (vocabulary.size() != model.config().vocabulary()) {
                err.println("recur sample: " + checkpoint + ": the vocabulary holds " + vocabulary.size()
                        + " characters, the model " + model.config().vocabulary() + "; the file is damaged");
                return Recur.EXIT_FAILED;
            }
            int[] ids = model.sample(primeIds, length, temperature, new Random(seed));
            out.println(start + vocabulary.decode(ids));
            return Recur.EXIT_OK;
        } catch (IOException e) {
            err.println("recur sample: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
