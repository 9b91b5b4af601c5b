package dev.recur.bench;

import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.models.cli.Checks;
import dev.recur.models.cli.CliCommand;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * {@code recur bench <what> [options]}: measures a Recur engine, and PyTorch or DL4J beside it,
 * and prints one JSON line per measurement on stdout. Registered through
 * {@code META-INF/services/dev.recur.models.cli.Subcommand}, so {@link Recur#standard()} finds it
 * whenever the bench jar is on the class path ({@code ./recur} puts it there for {@code bench}).
 *
 * <p>Each measurement ({@code lstm}, {@code gru}, {@code rnn}, {@code gemm}, {@code peak},
 * {@code report}, {@code jmh}) is a picocli subcommand with its own options, defaults and checks,
 * so {@code recur help bench} is generated: this command's description and list, then each
 * measurement's options. {@code --backend}, which {@link CliCommand} declares on the command
 * itself, is moved onto the measurements that run an engine (see {@link Layout}), where it has
 * always been written: {@code recur bench lstm --backend cpu}. Everything is parsed and checked
 * before the first measurement starts.
 */
@Command(name = "bench",
        header = "measure an engine beside PyTorch and DL4J (layers, GEMM, FMA peak), write the report, run JMH",
        customSynopsis = {"recur bench <what> [options]", ""},
        description = {
            "Measures a Recur engine and prints one JSON line per measurement on stdout. Every time is the",
            "median of --iters timed runs after --warmup untimed ones; GFLOP/s count FLOPs as DESIGN.md does",
            "(layer forward 2*G*H*(I+H)*B*T, training step 3x that; GEMM 2*M*N*K), and peak_share divides",
            "them by this machine's FMA peak (measured first: the best of 5 passes in about half a second,",
            "unless --peak is given). When it is measured, a 50 ms FMA pass also follows each timed run,",
            "and peak_share_paired is the median of each run's share of the pass after it: the share of",
            "what a shared machine offered at that moment.",
            "",
            "Output (one line each):",
            "  {\"engine\":\"cpu\",\"cell\":\"lstm\",\"B\":64,\"I\":512,\"H\":512,\"T\":100,\"train_step_ms\":...,",
            "   \"forward_ms\":...,\"gflops\":...,\"peak_share\":...,\"forward_gflops\":...,\"peak_gflops\":...,...,",
            "   \"inference_ms\":...,\"inference_gflops\":...}",
            "  {\"engine\":\"cpu\",\"op\":\"sgemm\",\"M\":1024,\"N\":1024,\"K\":1024,\"trans_b\":false,\"ms\":...,",
            "   \"gflops\":...,...}",
            "  {\"op\":\"fma_peak\",\"threads\":2,\"vector_bits\":256,\"lanes\":8,\"chains\":12,\"seconds\":...,",
            "   \"gflops\":...}",
            "Exit status: 0 done, 1 failed (engine or peer unavailable, engine error), 2 bad arguments.",
            "",
            "What to measure (the options of each follow):"},
        commandListHeading = "",
        subcommands = {BenchCommand.Lstm.class, BenchCommand.Gru.class, BenchCommand.Rnn.class,
            BenchCommand.CellOptionsRun.class,
            BenchCommand.Gemm.class, BenchCommand.Peak.class, BenchCommand.DataParallelRun.class,
            BenchCommand.WriteReport.class, BenchCommand.Jmh.class},
        modelTransformer = BenchCommand.Layout.class)
public final class BenchCommand extends CliCommand {

    static final String WHAT = "lstm, gru, rnn, options, gemm, peak, data-parallel, report, jmh";

    @Spec
    CommandSpec spec;

    /**
     * What came before the measurement's name: a misspelt name, or options written first. Only
     * collected, to say which of the two it is (see {@link #check()}).
     */
    @Parameters(hidden = true)
    List<String> before = new ArrayList<>();

    @Override
    public String usage() {
        StringBuilder text = new StringBuilder(super.usage()); // builds the command line, so spec is set
        for (CommandLine m : new LinkedHashSet<>(spec.commandLine().getSubcommands().values())) {
            if (m.getCommand() instanceof Gru || m.getCommand() instanceof Rnn) {
                continue; // the same options as lstm, whose help names all three
            }
            text.append('\n').append(m.getUsageMessage(CommandLine.Help.Ansi.OFF));
        }
        return text.toString();
    }

    @Override
    protected void check() {
        if (!before.isEmpty()) {
            String first = before.get(0);
            throw new UsageException(first.startsWith("-")
                    ? "say what to measure before the options: " + WHAT
                    : "unknown measurement '" + first + "' (one of: " + WHAT + ")");
        }
        Measurement m = measurement();
        if (m == null) {
            throw new UsageException("say what to measure: " + WHAT);
        }
        if (m.usesEngine()) {
            if (backend.isBlank()) {
                throw new UsageException("option '--backend' needs an engine name");
            }
            if (backend.equalsIgnoreCase(Dl4jPeer.NAME)) {
                throw new UsageException("dl4j is a peer, not a Recur engine: use --peer dl4j");
            }
        }
        m.check();
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        Measurement m = measurement();
        try {
            return m.measure(this, out, err);
        } catch (UsageException | BackendUnavailableException e) {
            throw e; // Recur prints these as one line (exit 2 and 1)
        } catch (Exception | OutOfMemoryError e) {
            err.println("recur bench " + m.name() + ": failed: " + e);
            return Recur.EXIT_FAILED;
        }
    }

    /** The measurement named on the command line, or null when none was. */
    private Measurement measurement() {
        ParseResult sub = spec.commandLine().getParseResult().subcommand();
        return sub == null ? null : (Measurement) sub.commandSpec().userObject();
    }

    /** --backend as {@link Report.Config} takes it: null for {@code auto}. */
    private String engineName() {
        return backend.equalsIgnoreCase("auto") ? null : backend;
    }

    /** The original arguments after {@code bench}, for the report's record of how it was asked for. */
    private List<String> arguments() {
        return spec.commandLine().getParseResult().originalArgs();
    }

    /**
     * The command model after picocli built it from the annotations: {@code --backend} moves from
     * this command to the measurements that run an engine (first in their option lists), names of
     * measurements are case-insensitive ({@code LSTM}), whatever comes before the name is kept for
     * {@link #check()} rather than refused by picocli, and {@code jmh} takes JMH's options as they
     * come, with or without {@code --} before them.
     */
    public static final class Layout implements IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec bench) {
            OptionSpec backend = bench.findOption("--backend");
            bench.remove(backend);
            for (CommandLine line : new LinkedHashSet<>(bench.subcommands().values())) {
                CommandSpec m = line.getCommandSpec();
                if (m.userObject() instanceof Measurement measurement && measurement.usesEngine()) {
                    List<OptionSpec> own = List.copyOf(m.options());
                    own.forEach(m::remove);
                    m.addOption(OptionSpec.builder(backend).build()); // sets BenchCommand's field
                    own.forEach(m::addOption);
                }
                if (m.userObject() instanceof Jmh) {
                    m.parser().unmatchedOptionsArePositionalParams(true);
                }
            }
            bench.subcommandsCaseInsensitive(true);
            bench.parser().unmatchedOptionsArePositionalParams(true);
            return bench;
        }
    }

    // ---------------------------------------------------------------- the measurements

    /** One thing {@code recur bench} measures: a subcommand of it. */
    abstract static sealed class Measurement permits Timed, CellOptionsRun, Peak, DataParallelRun, WriteReport, Jmh {

        /** Whether it runs a Recur engine, and so takes {@code --backend}. */
        abstract boolean usesEngine();

        /** The name it is asked for by. */
        final String name() {
            return getClass().getAnnotation(Command.class).name();
        }

        /** Checks that involve several options; throws {@link UsageException}. */
        void check() {
        }

        /** Measures and prints the lines; returns the exit status. */
        abstract int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception;
    }

    /** {@code --iters} and {@code --warmup}. */
    static final class RunCounts {
        @Option(names = "--iters", paramLabel = "N", defaultValue = "5", converter = Checks.Positive.class,
                description = "timed runs")
        int iters;
        @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", converter = Checks.NonNegative.class,
                description = "untimed runs first")
        int warmup;

        Measurements.Runs runs() {
            return new Measurements.Runs(warmup, iters);
        }
    }

    /** The shape of one layer: {@code --batch}, {@code --input}, {@code --hidden}, {@code --steps}. */
    static final class LayerShape {
        @Option(names = "--batch", paramLabel = "B", defaultValue = "64", converter = Checks.Positive.class,
                description = "sequences per batch")
        int batch;
        @Option(names = "--input", paramLabel = "I", defaultValue = "512", converter = Checks.Positive.class,
                description = "input features")
        int input;
        @Option(names = "--hidden", paramLabel = "H", defaultValue = "512", converter = Checks.Positive.class,
                description = "hidden units")
        int hidden;
        @Option(names = "--steps", paramLabel = "T", defaultValue = "100", converter = Checks.Positive.class,
                description = "time steps")
        int steps;
    }

    /** The options of a measurement timed beside a peer: {@code --peer}, the run counts, {@code --peak}. */
    abstract static sealed class Timed extends Measurement permits Layer, Gemm {
        @Option(names = "--peer", paramLabel = "NAME", converter = PeerName.class, description = {
            "torch: also run the same shape on PyTorch's CPU kernels (bench/python/torch_rnn_bench.py --device cpu,"
                + " $RECUR_PYTHON or python3), on the engine's thread count and the same runs: a second line with"
                + " \"engine\":\"torch-cpu\" (for layers also \"inference_ms\", the forward under"
                + " torch.inference_mode), or, where PyTorch is missing, \"unavailable\" with the reason.",
            "dl4j: also run the same shape on Deeplearning4j 1.0.0-M2.1 (ND4J native CPU, OpenBLAS): a second"
                + " line with \"engine\":\"dl4j\". DL4J has LSTM and SimpleRnn (rnn) layers but no GRU; for gru the"
                + " peer is skipped with a note on stderr."})
        String peer;
        @Mixin
        RunCounts counts;
        @Option(names = "--peak", paramLabel = "GFLOPS", converter = PositiveNumber.class,
                description = "use this FMA peak instead of measuring it")
        Double peak;

        @Override
        final boolean usesEngine() {
            return true;
        }

        boolean torch() {
            return TorchPeer.NAME.equals(peer);
        }

        boolean dl4j() {
            return Dl4jPeer.NAME.equals(peer);
        }

        /** The peak given by {@code --peak}, or the one measured now. */
        Measurements.Peak peakNow() {
            return peak == null ? Measurements.Peak.measured(FmaPeak.measure()) : Measurements.Peak.given(peak);
        }
    }

    /** {@code lstm}, {@code gru}, {@code rnn}: one layer's training step and forward. */
    abstract static sealed class Layer extends Timed permits Lstm, Gru, Rnn {
        @Mixin
        LayerShape shape;

        abstract Cell cell();

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception {
            Cell cell = cell();
            Measurements.LayerShape s = new Measurements.LayerShape(cell, shape.batch, shape.input, shape.hidden,
                    shape.steps);
            Measurements.Runs runs = counts.runs();
            if (dl4j() && Dl4jPeer.supports(cell) && !dl4jOnClassPath(err)) {
                return Recur.EXIT_FAILED; // said before measuring, not after minutes of it
            }
            try (Backend backend = bench.openBackend()) {
                Measurements.Peak peak = peakNow();
                out.println(Measurements.recurLayer(backend, s, runs, peak));
                out.flush();
                if (torch()) {
                    TorchPeer.layer(s, runs, peak.gflops(), out, err);
                }
                if (dl4j()) {
                    String why = Dl4jPeer.unsupportedReason(cell);
                    if (why != null) {
                        err.println("recur bench " + cell.id() + ": no DL4J peer: " + why);
                        return Recur.EXIT_OK;
                    }
                    if (!dl4jAvailable(err)) {
                        return Recur.EXIT_FAILED;
                    }
                    out.println(Measurements.dl4jLayer(s, runs, peak));
                }
                return Recur.EXIT_OK;
            }
        }
    }

    private static final String LAYER_SYNOPSIS = "recur bench lstm | gru | rnn [options]";
    private static final String LAYER_DESCRIPTION = "one layer, one direction, time-major, zero initial state: training"
            + " step (layerForward + layerBackward, dx included), forward alone, and inference (layerInference)";

    @Command(name = "lstm", description = LAYER_DESCRIPTION, customSynopsis = LAYER_SYNOPSIS, showDefaultValues = true,
            sortOptions = false)
    static final class Lstm extends Layer {
        @Override
        Cell cell() {
            return Cell.LSTM;
        }
    }

    @Command(name = "gru", description = "the same for a GRU layer (no DL4J peer: DL4J has no GRU)",
            customSynopsis = LAYER_SYNOPSIS, showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class Gru extends Layer {
        @Override
        Cell cell() {
            return Cell.GRU;
        }
    }

    @Command(name = "rnn", aliases = "rnn_tanh", description = "the same for a vanilla RNN layer (tanh)",
            customSynopsis = LAYER_SYNOPSIS, showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class Rnn extends Layer {
        @Override
        Cell cell() {
            return Cell.RNN_TANH;
        }
    }

    @Command(name = "options", description = {
        "one layer's training step (layerForward + layerBackward) with each cell option on and off, in one run:",
        "plain, --layer-norm, recurrent dropout, zoneout (h and c), a projection, and all of them. One line each:",
        "train_step_ms, ratio_to_plain (the plain row of the same run), and gflops counting what the option adds",
        "(projection 2*P*H per step and sequence, W_hh G*H*P instead of G*H*H; layer norm 8 FLOPs per normalised",
        "element, (2G+1)*H elements with c; dropout 1 per element of R; zoneout 3 per element of h and c;",
        "training 3x the forward), the counts written beside as flops_note."},
            showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class CellOptionsRun extends Measurement {
        @Option(names = "--cell", paramLabel = "NAME", defaultValue = "lstm", converter = Checks.CellName.class,
                description = "an LSTM or GRU cell")
        Cell cell;
        @Mixin
        LayerShape shape;
        @Mixin
        RunCounts counts;
        @Option(names = "--proj-size", paramLabel = "P", defaultValue = "256", converter = Checks.Positive.class,
                description = "P of the projection rows")
        int projSize;
        @Option(names = "--recurrent-dropout", paramLabel = "P", defaultValue = "0.25",
                converter = Checks.Dropout.class, description = "p of the recurrent-dropout rows")
        float recurrentDropout;
        @Option(names = "--zoneout", paramLabel = "P", defaultValue = "0.1", converter = Checks.Dropout.class,
                description = "p of the zoneout rows (h, and c for LSTM cells)")
        float zoneout;

        @Override
        boolean usesEngine() {
            return true;
        }

        @Override
        void check() {
            if (!cell.hasCellState() && cell.gates() == 1) {
                throw new UsageException("option '--cell' needs an LSTM or GRU cell for the cell options, got "
                        + cell.id());
            }
            if (projSize >= shape.hidden) {
                throw new UsageException("option '--proj-size' must be smaller than --hidden " + shape.hidden
                        + ", got " + projSize);
            }
            if (recurrentDropout == 0f || zoneout == 0f) {
                throw new UsageException("options '--recurrent-dropout' and '--zoneout' must be > 0 here (a row"
                        + " with them off is the plain row), got " + recurrentDropout + " and " + zoneout);
            }
        }

        /** The rows: a name and the options. */
        LinkedHashMap<String, CellOptions> rows() {
            float zc = cell.hasCellState() ? zoneout : 0f;
            LinkedHashMap<String, CellOptions> rows = new LinkedHashMap<>();
            rows.put("plain", CellOptions.NONE);
            rows.put("layer_norm", new CellOptions(true, 0f, 0f, 0f, 0));
            rows.put("recurrent_dropout", new CellOptions(false, recurrentDropout, 0f, 0f, 0));
            rows.put("zoneout", new CellOptions(false, 0f, zoneout, zc, 0));
            rows.put("projection", new CellOptions(false, 0f, 0f, 0f, projSize));
            rows.put("all", new CellOptions(true, recurrentDropout, zoneout, zc, projSize));
            return rows;
        }

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception {
            Measurements.Runs runs = counts.runs();
            try (Backend backend = bench.openBackend()) {
                double plainMs = Double.NaN;
                for (var row : rows().entrySet()) {
                    JsonLine line = Measurements.recurOptionLayer(backend, cell, row.getKey(), row.getValue(),
                            shape.batch, shape.input, shape.hidden, shape.steps, runs);
                    double ms = line.number("train_step_ms");
                    if (row.getValue().isPlain()) {
                        plainMs = ms;
                    }
                    out.println(line.put("ratio_to_plain", ms / plainMs));
                    out.flush();
                }
                return Recur.EXIT_OK;
            }
        }
    }

    @Command(name = "gemm", description = "C[M, N] = A[M, K] * op(B)", showDefaultValues = true, sortOptions = false,
            sortSynopsis = false)
    static final class Gemm extends Timed {
        @Option(names = "--m", paramLabel = "M", defaultValue = "1024", converter = Checks.Positive.class,
                description = "rows of A and C")
        int m;
        @Option(names = "--n", paramLabel = "N", defaultValue = "1024", converter = Checks.Positive.class,
                description = "columns of C")
        int n;
        @Option(names = "--k", paramLabel = "K", defaultValue = "1024", converter = Checks.Positive.class,
                description = "columns of A")
        int k;
        @Option(names = "--trans-b", description = "op(B) = B[N, K] transposed, as a layer's weights")
        boolean transB;

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception {
            Measurements.Runs runs = counts.runs();
            if (dl4j() && !dl4jOnClassPath(err)) {
                return Recur.EXIT_FAILED;
            }
            try (Backend backend = bench.openBackend()) {
                Measurements.Peak peak = peakNow();
                out.println(Measurements.recurGemm(backend, m, n, k, transB, runs, peak));
                out.flush();
                if (torch()) {
                    TorchPeer.gemm(m, n, k, transB, runs, peak.gflops(), out, err);
                }
                if (dl4j()) {
                    if (!dl4jAvailable(err)) {
                        return Recur.EXIT_FAILED;
                    }
                    out.println(Measurements.nd4jGemm(m, n, k, transB, runs, peak));
                }
                return Recur.EXIT_OK;
            }
        }
    }

    @Command(name = "peak", description = "the FMA peak alone: one thread per core of Vector API FMA chains",
            showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class Peak extends Measurement {
        @Option(names = "--threads", paramLabel = "N", converter = Checks.Positive.class,
                description = "threads (default: all processors)")
        Integer threads;
        @Option(names = "--seconds", paramLabel = "S", defaultValue = "0.5", converter = PositiveNumber.class,
                description = "length of the timed pass")
        double seconds;

        @Override
        boolean usesEngine() {
            return false;
        }

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) {
            int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            out.println(Measurements.peakLine(FmaPeak.measure(n, seconds)));
            return Recur.EXIT_OK;
        }
    }

    @Command(name = "data-parallel", description = {
        "the char-LM's training (LSTM, Adam, the built-in corpus) in 1 process with --threads engine threads,",
        "then in --ranks ranks of --threads/--ranks threads each, started with mpirun -np R over TCP (the same",
        "cores and the same global batch): tokens/s of each, their ratio, and the milliseconds and bytes of",
        "the gradient all-reduce per step. Under a launcher (mpirun -np R ./recur bench data-parallel) it",
        "measures that job alone."},
            showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class DataParallelRun extends Measurement {
        @Option(names = "--hidden", paramLabel = "H", defaultValue = "512", converter = Checks.Positive.class,
                description = "hidden units per layer")
        int hidden;
        @Option(names = "--layers", paramLabel = "N", defaultValue = "2", converter = Checks.Positive.class,
                description = "LSTM layers")
        int layers;
        @Option(names = "--embedding", paramLabel = "E", defaultValue = "64", converter = Checks.Positive.class,
                description = "character embedding size")
        int embedding;
        @Option(names = "--batch", paramLabel = "B", defaultValue = "64", converter = Checks.Positive.class,
                description = "global batch: sequences per step over all ranks")
        int batch;
        @Option(names = "--window", paramLabel = "T", defaultValue = "100", converter = Checks.Positive.class,
                description = "time steps per window")
        int window;
        @Option(names = "--iters", paramLabel = "N", defaultValue = "6", converter = Checks.Positive.class,
                description = "timed training steps")
        int iters;
        @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", converter = Checks.Positive.class,
                description = "untimed training steps first")
        int warmup;
        @Option(names = "--threads", paramLabel = "N", converter = Checks.Positive.class,
                description = "engine threads of the 1-process run, shared out over the ranks (default: all"
                        + " processors)")
        Integer threads;
        @Option(names = "--ranks", paramLabel = "R", defaultValue = "2", converter = Checks.Positive.class,
                description = "ranks of the data-parallel run")
        int ranks;
        @Option(names = "--peer", paramLabel = "NAME", description = "torch: also run the same model, steps and"
                + " configurations on PyTorch (bench/python/torch_ddp_char_lm.py: DDP on gloo over TCP) and print"
                + " the ratios Recur/PyTorch")
        String peer;

        @Override
        boolean usesEngine() {
            return true;
        }

        @Override
        void check() {
            if (peer != null && !peer.equals(TorchPeer.NAME)) {
                throw new UsageException("option '--peer' of data-parallel takes torch, got '" + peer + "'");
            }
            if (batch % ranks != 0) {
                throw new UsageException("option '--batch' must be a multiple of --ranks (" + ranks + "), got " + batch);
            }
        }

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception {
            int all = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            DataParallelBench.Shape s = new DataParallelBench.Shape(hidden, layers, embedding, batch, window, warmup,
                    iters);
            if (DataParallelBench.launched()) {
                // One rank of a job someone launched: --threads is this rank's.
                System.setProperty("recur.cpu.threads", Integer.toString(all));
                try (dev.recur.api.Collective c = DataParallelBench.collective(); Backend be = bench.openBackend()) {
                    JsonLine line = DataParallelBench.measureHere(be, c, s, all);
                    if (line != null) {
                        out.println(line);
                    }
                    c.barrier();
                }
                return Recur.EXIT_OK;
            }
            System.setProperty("recur.cpu.threads", Integer.toString(all));
            JsonLine one;
            try (Backend be = bench.openBackend()) {
                one = DataParallelBench.measureHere(be, new dev.recur.api.SingleProcessCollective(), s, all);
            }
            out.println(one);
            out.flush();
            int each = Math.max(1, all / ranks);
            String two = DataParallelBench.launch(ranks, List.of("--backend", bench.backend, "--hidden",
                    Integer.toString(hidden), "--layers", Integer.toString(layers), "--embedding",
                    Integer.toString(embedding), "--batch", Integer.toString(batch), "--window",
                    Integer.toString(window), "--iters", Integer.toString(iters), "--warmup", Integer.toString(warmup),
                    "--threads", Integer.toString(each)));
            out.println(two);
            double ratio = new com.fasterxml.jackson.databind.ObjectMapper().readTree(two).get("tokens_per_s").asDouble()
                    / one.number("tokens_per_s");
            out.println(new JsonLine().put("op", "data_parallel_ratio").put("ranks", ranks)
                    .put("threads_per_rank", each).put("threads_one_process", all)
                    .put("tokens_per_s_ratio", ratio).put("cpu", Machine.readCpuModel())
                    .put("load_average_1min", DataParallelBench.loadAverage()));
            if (peer != null) {
                out.flush();
                var json = new com.fasterxml.jackson.databind.ObjectMapper();
                List<String> torch = DataParallelBench.torch(s,
                        dev.recur.models.data.TextCorpus.defaultCorpus().vocabulary().size(), all, ranks);
                torch.forEach(out::println);
                double torchOne = json.readTree(torch.get(0)).get("tokens_per_s").asDouble();
                double torchMany = json.readTree(torch.get(1)).get("tokens_per_s").asDouble();
                double recurMany = json.readTree(two).get("tokens_per_s").asDouble();
                out.println(new JsonLine().put("op", "data_parallel_vs_torch")
                        .put("recur_over_torch_1_rank", one.number("tokens_per_s") / torchOne)
                        .put("recur_over_torch_" + ranks + "_ranks", recurMany / torchMany)
                        .put("torch_tokens_per_s_ratio", torchMany / torchOne));
            }
            return Recur.EXIT_OK;
        }
    }

    @Command(name = "report", description = "the comparison set (lstm, gru, rnn at B=64 I=H=512 T=100; SGEMM 1024; the"
            + " peak) with DL4J beside Recur; writes <engine>-<date>.md and .png in --out",
            showDefaultValues = true, sortOptions = false, sortSynopsis = false)
    static final class WriteReport extends Measurement {
        @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench/results", converter = Checks.FileName.class,
                description = "where the two files go (made when missing)")
        Path out;
        @Option(names = "--date", paramLabel = "YYYY-MM-DD", converter = Date.class,
                description = "the date in the file names and the title (default: today)")
        LocalDate date;
        @Option(names = "--no-peer", description = "leave DL4J out")
        boolean noPeer;
        @Option(names = "--gemm", paramLabel = "N", defaultValue = "1024", converter = Checks.Positive.class,
                description = "the size of the square SGEMM")
        int gemm;
        @Mixin
        LayerShape shape;
        @Mixin
        RunCounts counts;
        @Option(names = "--peak-seconds", paramLabel = "S", defaultValue = "0.5", converter = PositiveNumber.class,
                description = "length of the FMA peak's timed pass")
        double peakSeconds;

        @Override
        boolean usesEngine() {
            return true;
        }

        @Override
        int measure(BenchCommand bench, PrintStream stdout, PrintStream err) throws Exception {
            Report.Config config = new Report.Config(bench.engineName(), !noPeer, shape.batch, shape.input,
                    shape.hidden, shape.steps, gemm, counts.runs(), peakSeconds, out,
                    date != null ? date : LocalDate.now(), "recur bench " + String.join(" ", bench.arguments()));
            return Report.run(config, stdout, err);
        }
    }

    @Command(name = "jmh", description = "the JMH benchmarks (all, or those matching a regexp; JMH's own options), then"
            + " GFLOP/s and share of peak per result; -p backend=... defaults to every available engine",
            customSynopsis = {"recur bench jmh [--] [JMH options]",
                "  e.g. recur bench jmh -- LayerBenchmark -p cell=lstm -f 1"})
    static final class Jmh extends Measurement {
        @Parameters(paramLabel = "JMH-OPTION", description = "passed to JMH as they are")
        List<String> jmh = new ArrayList<>();

        @Override
        boolean usesEngine() {
            return false;
        }

        @Override
        int measure(BenchCommand bench, PrintStream out, PrintStream err) throws Exception {
            return JmhRun.run(jmh, out, err);
        }
    }

    // ---------------------------------------------------------------- checks and peers

    /** {@code --peer}: {@value TorchPeer#NAME} or {@value Dl4jPeer#NAME}, any case. */
    static final class PeerName implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            for (String known : new String[] {TorchPeer.NAME, Dl4jPeer.NAME}) {
                if (value.strip().equalsIgnoreCase(known)) {
                    return known;
                }
            }
            throw new TypeConversionException("unknown peer '" + value + "' (the peers are: " + TorchPeer.NAME + ", "
                    + Dl4jPeer.NAME + ")");
        }
    }

    /**
     * A finite number > 0, kept as a double: {@code --peak 123.4} is printed back in the lines as
     * {@code "peak_gflops":123.4}, which a float would not give.
     */
    static final class PositiveNumber implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double v;
            try {
                v = Double.parseDouble(value.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("not a number: '" + value + "'");
            }
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new TypeConversionException("must be a number > 0, got '" + value + "'");
            }
            return v;
        }
    }

    /** {@code --date}: an ISO date. */
    static final class Date implements ITypeConverter<LocalDate> {
        @Override
        public LocalDate convert(String value) {
            try {
                return LocalDate.parse(value.strip());
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("needs YYYY-MM-DD, got '" + value + "'");
            }
        }
    }

    /** Whether DL4J's jars are on the class path (a cheap look, no native code); says why not on {@code err}. */
    private static boolean dl4jOnClassPath(PrintStream err) {
        String missing = Dl4jPeer.missingReason();
        if (missing != null) {
            err.println("recur bench: the DL4J peer is not available: " + missing);
        }
        return missing == null;
    }

    private static boolean dl4jAvailable(PrintStream err) {
        var a = Dl4jPeer.probe();
        if (!a.available()) {
            err.println("recur bench: the DL4J peer is not available: " + a.reason());
        }
        return a.available();
    }
}
