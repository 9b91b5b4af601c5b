package dev.recur.interop.cli;

import dev.recur.api.Backend;
import dev.recur.interop.keras.KerasImport;
import dev.recur.interop.keras.KerasImportException;
import dev.recur.models.cli.Checks;
import dev.recur.models.cli.CliCommand;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.CommandPaths;
import dev.recur.models.nn.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code recur import-keras IN.keras OUT.safetensors}: a Keras 3 model as a Recur checkpoint (see {@link KerasImport}). */
@Command(name = "import-keras", header = "read a Keras 3 .keras model into a Recur checkpoint", showDefaultValues = true,
        sortOptions = false, description = {
            "Reads a Keras 3 archive (.keras: config.json and model.weights.h5) of a Sequential model of",
            "Embedding, LSTM, GRU, SimpleRNN, Bidirectional and Dense layers (Dropout skipped) and writes",
            "it as a Recur checkpoint: a many-to-one model (last recurrent layer return_sequences=False)",
            "becomes a classifier (ids in) or regressor (numbers in), a per-step model a char-lm. A",
            "softmax head is stored as its logits. Other layers and settings are refused by name."})
public final class KerasImportCommand extends CliCommand {

    @Parameters(index = "0", paramLabel = "IN.keras", converter = Checks.FileName.class,
            description = "the Keras 3 archive to read")
    Path in;
    @Parameters(index = "1", paramLabel = "OUT.safetensors", converter = Checks.FileName.class,
            description = "the checkpoint to write (replaced if it exists)")
    Path out;

    @Override
    protected void check() {
        CommandPaths.requireParent("OUT.safetensors", out);
    }

    @Override
    protected int call(PrintStream stdout, PrintStream err) {
        // jHDF logs through SLF4J; without a provider SLF4J warns on stderr, which is not the
        // command's to say. A user's own setting of the property wins.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        if (!Files.isRegularFile(in)) {
            err.println("recur import-keras: " + in + ": no such file");
            return Recur.EXIT_FAILED;
        }
        try (Backend be = openBackend(); Model m = KerasImport.read(in, be)) {
            m.save(out);
            stdout.println("recur import-keras: wrote " + out + " (" + m.kind() + ", " + m.parameterCount()
                    + " parameters, " + m.configJson() + ")");
            return Recur.EXIT_OK;
        } catch (IOException | KerasImportException | IllegalArgumentException e) {
            err.println("recur import-keras: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
