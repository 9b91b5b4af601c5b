package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.onnx.OnnxExport;
import dev.recur.models.onnx.OnnxExportException;
import dev.recur.models.seq.SequenceModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code recur export --onnx OUT.onnx MODEL}: a checkpoint as an ONNX model (see {@link OnnxExport}). */
@Command(name = "export", header = "write a checkpoint's model as ONNX", showDefaultValues = true,
        sortOptions = false, description = {
            "Writes the model of a checkpoint made by train-lm, classify or forecast as an ONNX file",
            "(opset " + OnnxExport.OPSET + ") that ONNX Runtime runs: the recurrent layers as ONNX's LSTM, GRU",
            "and RNN operators. Inputs and outputs: char-lm ids [T, B] int64, h0 (and c0) [layers, B, H]",
            "-> logits [T, B, V], h_n (and c_n); classifier ids [T, B] int64 and lengths [B] int32",
            "-> logits [B, classes]; regressor x [T, B, features] (normalised as in training) and",
            "lengths -> predictions [B, outputs]. Seq2seq models are refused."})
final class ExportCommand extends CliCommand {

    // Checked in check(), not `required`: picocli reports a missing required option before an
    // unknown one, so --onx would be "missing --onnx" rather than "did you mean --onnx?".
    @Option(names = "--onnx", paramLabel = "OUT.onnx", converter = Checks.FileName.class,
            description = "the ONNX file to write, required (replaced if it exists)")
    Path onnx;
    @Option(names = "--batch-first", description = "inputs [B, T] (and the char-lm's logits [B, T, V]) instead of [T, B]")
    boolean batchFirst;
    @Parameters(paramLabel = "MODEL", arity = "1", converter = Checks.FileName.class,
            description = "a checkpoint written by train-lm, classify or forecast")
    Path model;

    @Override
    protected void check() {
        if (onnx == null) {
            throw new UsageException("missing required option '--onnx=OUT.onnx'");
        }
        Path parent = onnx.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UsageException("option '--onnx': the folder " + parent + " does not exist");
        }
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        try {
            Checkpoint c = Checkpoint.read(model);
            String kind = ModelKinds.require(c, ModelKinds.CHAR_LM, ModelKinds.CLASSIFIER, ModelKinds.REGRESSOR,
                    ModelKinds.SEQ2SEQ);
            if (kind.equals(ModelKinds.SEQ2SEQ)) {
                err.println("recur export: " + model + ": a seq2seq model cannot be exported to ONNX yet (its greedy"
                        + " decoding loop needs an encoder graph, a decoder-step graph and the loop around them)");
                return Recur.EXIT_FAILED;
            }
            try (Backend be = openBackend();
                 Model m = kind.equals(ModelKinds.CHAR_LM) ? CharLanguageModel.load(be, c) : SequenceModel.load(be, c)) {
                OnnxExport.write(m, onnx, batchFirst);
                out.println("recur export: wrote " + onnx + " (" + kind + ", " + m.parameters().size()
                        + " parameter tensors, opset " + OnnxExport.OPSET + (batchFirst ? ", batch-first" : "") + ")");
                return Recur.EXIT_OK;
            }
        } catch (IOException | OnnxExportException | IllegalArgumentException e) {
            err.println("recur export: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
