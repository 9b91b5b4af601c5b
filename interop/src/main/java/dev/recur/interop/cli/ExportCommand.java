package dev.recur.interop.cli;

import dev.recur.api.Backend;
import dev.recur.models.cli.Checks;
import dev.recur.models.cli.CliCommand;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.CommandPaths;
import dev.recur.models.cli.UsageException;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.nn.Model;
import dev.recur.models.nn.ModelKinds;
import dev.recur.interop.onnx.OnnxExport;
import dev.recur.interop.onnx.OnnxExportException;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq2seq.Seq2SeqModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** {@code recur export --onnx OUT.onnx MODEL}: a checkpoint as an ONNX model (see {@link OnnxExport}). */
@Command(name = "export", header = "write a checkpoint's model as ONNX", showDefaultValues = true,
        sortOptions = false, description = {
            "Writes the model of a checkpoint made by train-lm, classify, forecast or translate as ONNX",
            "(opset " + OnnxExport.OPSET + ") that ONNX Runtime runs: the recurrent layers as ONNX's LSTM, GRU",
            "and RNN operators. Inputs and outputs: char-lm ids [T, B] int64, h0 (and c0) [layers, B, H]",
            "-> logits [T, B, V], h_n (and c_n); classifier ids [T, B] int64 and lengths [B] int32",
            "-> logits [B, classes]; regressor x [T, B, features] (normalised as in training) and",
            "lengths -> predictions [B, outputs]. A seq2seq model becomes two files, OUT.encoder.onnx",
            "(source [Ts, B] int64, source_lengths [B] int32 -> h0 (and c0) [layers, B, H]) and",
            "OUT.decoder.onnx, one decoder step (previous [1, B] int64, h0 (and c0) -> logits [B, V],",
            "h_n (and c_n)), for a greedy or beam search loop around it."})
public final class ExportCommand extends CliCommand {

    // Checked in check(), not `required`: picocli reports a missing required option before an
    // unknown one, so --onx would be "missing --onnx" rather than "did you mean --onnx?".
    @Option(names = "--onnx", paramLabel = "OUT.onnx", converter = Checks.FileName.class,
            description = "the ONNX file to write, required (replaced if it exists); for a seq2seq model "
                    + "OUT.encoder.onnx and OUT.decoder.onnx")
    Path onnx;
    @Option(names = "--batch-first", description = "inputs [B, T] (and the char-lm's logits [B, T, V]) instead of [T, B]")
    boolean batchFirst;
    @Parameters(paramLabel = "MODEL", arity = "1", converter = Checks.FileName.class,
            description = "a checkpoint written by train-lm, classify, forecast or translate")
    Path model;

    @Override
    protected void check() {
        if (onnx == null) {
            throw new UsageException("missing required option '--onnx=OUT.onnx'");
        }
        CommandPaths.requireParent("option '--onnx'", onnx);
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        try {
            Checkpoint c = Checkpoint.read(model);
            String kind = ModelKinds.require(c, ModelKinds.CHAR_LM, ModelKinds.CLASSIFIER, ModelKinds.REGRESSOR,
                    ModelKinds.SEQ2SEQ);
            try (Backend be = openBackend();
                 Model m = switch (kind) {
                     case ModelKinds.CHAR_LM -> CharLanguageModel.load(be, c);
                     case ModelKinds.SEQ2SEQ -> Seq2SeqModel.load(be, c);
                     default -> SequenceModel.load(be, c);
                 }) {
                List<Path> files = OnnxExport.write(m, onnx, batchFirst);
                out.println("recur export: wrote " + files.stream().map(Path::toString).collect(Collectors.joining(
                        " and ")) + " (" + kind + (files.size() > 1 ? ": encoder and decoder step" : "") + ", "
                        + m.parameters().size() + " parameter tensors, opset " + OnnxExport.OPSET
                        + (batchFirst ? ", batch-first" : "") + ")");
                return Recur.EXIT_OK;
            }
        } catch (IOException | OnnxExportException | IllegalArgumentException e) {
            err.println("recur export: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }
}
