package dev.recur.interop.cli;

import dev.recur.api.Backend;
import dev.recur.models.cli.Checks;
import dev.recur.models.cli.CliCommand;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.CommandPaths;
import dev.recur.models.cli.UsageException;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.interop.onnx.OnnxImport;
import dev.recur.interop.onnx.OnnxImportException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/** {@code recur import --onnx IN.onnx OUT.safetensors}: an ONNX model as a Recur checkpoint (see {@link OnnxImport}). */
@Command(name = "import", header = "read an ONNX model into a Recur checkpoint", showDefaultValues = true,
        sortOptions = false, description = {
            "Reads an ONNX file whose graph is an embedding (Gather) or numeric input, ONNX LSTM, GRU or RNN",
            "layers (stacked, bidirectional) and a linear head (MatMul + Add, or Gemm): what recur export",
            "writes, or torch.onnx.export of nn.Embedding -> nn.LSTM/GRU/RNN -> nn.Linear. Writes a Recur",
            "checkpoint of the same model (char-lm, sequence-classifier or sequence-regressor) that the",
            "library loads and trains further. Any other node is refused, naming it.",
            "An ONNX file holds no vocabulary, class names or normalisation: recur sample, classify --from",
            "and forecast --from need them, so give --metadata-from the checkpoint the model was exported",
            "from (or one trained on the same data) to copy them."})
public final class ImportCommand extends CliCommand {

    @Option(names = "--onnx", paramLabel = "IN.onnx", converter = Checks.FileName.class,
            description = "the ONNX file to read, required")
    Path onnx;
    @Option(names = "--metadata-from", paramLabel = "CHECKPOINT", converter = Checks.FileName.class,
            description = "a Recur checkpoint whose metadata (vocabulary, classes, normalisation) to copy")
    Path metadataFrom;
    @Parameters(paramLabel = "OUT.safetensors", arity = "1", converter = Checks.FileName.class,
            description = "the checkpoint to write (replaced if it exists)")
    Path out;

    @Override
    protected void check() {
        if (onnx == null) {
            throw new UsageException("missing required option '--onnx=IN.onnx'");
        }
        CommandPaths.requireParent("OUT.safetensors", out);
    }

    @Override
    protected int call(PrintStream stdout, PrintStream err) {
        try {
            Checkpoint c = OnnxImport.read(onnx);
            String kind = ModelKinds.of(c.modelConfig());
            Map<String, String> metadata = Map.of();
            if (metadataFrom != null) {
                Checkpoint from = Checkpoint.read(metadataFrom);
                ModelKinds.require(from, kind);
                metadata = from.extraMetadata();
            }
            try (Backend be = openBackend(); Model m = OnnxImport.load(be, c)) {
                m.save(out, metadata);
                stdout.println("recur import: wrote " + out + " (" + kind + ", " + m.parameters().size()
                        + " parameter tensors, " + m.parameterCount() + " weights"
                        + (metadata.isEmpty() ? ", no metadata" : ", metadata from " + metadataFrom) + ")");
                if (metadata.isEmpty()) {
                    stdout.println("recur import: the library loads it; recur sample, classify --from and forecast"
                            + " --from also need its vocabulary or normalisation (--metadata-from)");
                }
                return Recur.EXIT_OK;
            }
        } catch (OnnxImportException e) {
            err.println("recur import: " + onnx + ": " + e.getMessage());
            return Recur.EXIT_FAILED;
        } catch (IOException | IllegalArgumentException e) {
            err.println("recur import: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
