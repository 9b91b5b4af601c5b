package dev.recur.bench;

import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.models.cli.Options;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.Subcommand;
import dev.recur.models.cli.UsageException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;

/**
 * {@code recur bench}: measures a Recur engine, and DL4J beside it, and prints one JSON line per
 * measurement on stdout. Registered through {@code META-INF/services/dev.recur.models.cli.Subcommand},
 * so {@link Recur#standard()} finds it whenever the bench jar is on the class path ({@code ./recur}
 * puts it there for {@code bench}).
 */
public final class BenchCommand implements Subcommand {

    static final String WHAT = "lstm, gru, rnn, gemm, peak, report, jmh";

    private static final Options.Declaration LAYER = Options.declare()
            .value("--backend").value("--peer").value("--batch").value("--input").value("--hidden").value("--steps")
            .value("--iters").value("--warmup").value("--peak");
    private static final Options.Declaration GEMM = Options.declare()
            .value("--backend").value("--peer").value("--m").value("--n").value("--k").flag("--trans-b")
            .value("--iters").value("--warmup").value("--peak");
    private static final Options.Declaration PEAK = Options.declare().value("--threads").value("--seconds");
    private static final Options.Declaration REPORT = Options.declare()
            .value("--backend").flag("--no-peer").value("--batch").value("--input").value("--hidden").value("--steps")
            .value("--gemm").value("--iters").value("--warmup").value("--out").value("--date").value("--peak-seconds");

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "measure an engine beside PyTorch and DL4J (layers, GEMM, FMA peak), write the report, run JMH";
    }

    @Override
    public String usage() {
        return """
                Usage: recur bench <what> [options]

                Measures a Recur engine and prints one JSON line per measurement on stdout. Every time is the
                median of --iters timed runs after --warmup untimed ones; GFLOP/s count FLOPs as DESIGN.md does
                (layer forward 2*G*H*(I+H)*B*T, training step 3x that; GEMM 2*M*N*K), and peak_share divides
                them by this machine's FMA peak (measured first: the best of 5 passes in about half a second,
                unless --peak is given). When it is measured, a 50 ms FMA pass also follows each timed run,
                and peak_share_paired is the median of each run's share of the pass after it: the share of
                what a shared machine offered at that moment.

                  lstm | gru | rnn     one layer, one direction, time-major, zero initial state: training step
                                       (layerForward + layerBackward, dx included) and forward alone
                      --batch B (64)  --input I (512)  --hidden H (512)  --steps T (100)
                  gemm                 C[M, N] = A[M, K] * op(B)
                      --m M (1024)  --n N (1024)  --k K (1024)  --trans-b (op(B) = B[N, K] transposed, as a layer's weights)
                  peak                 the FMA peak alone: one thread per core of Vector API FMA chains
                      --threads N (all processors)  --seconds S (0.5)
                  report               the comparison set (lstm, gru, rnn at B=64 I=H=512 T=100; SGEMM 1024; the
                                       peak) with DL4J beside Recur; writes <engine>-<date>.md and .png in --out
                      --out DIR (bench/results)  --date YYYY-MM-DD (today)  --no-peer  --gemm N (1024)
                      --batch/--input/--hidden/--steps as above  --peak-seconds S (0.5)
                  jmh [JMH options]    the JMH benchmarks (all, or those matching a regexp; JMH's own options,
                                       e.g. `recur bench jmh -- LayerBenchmark -p cell=lstm -f 1`), then GFLOP/s and
                                       share of peak per result; -p backend=... defaults to every available engine

                Options of lstm, gru, rnn, gemm (and report where they apply):
                  --backend NAME   the Recur engine (default: the one recur would choose)
                  --peer torch     also run the same shape on PyTorch's CPU kernels (bench/python/torch_rnn_bench.py
                                   --device cpu, $RECUR_PYTHON or python3), on the engine's thread count and the
                                   same runs: a second line with "engine":"torch-cpu" (for layers also
                                   "inference_ms", the forward under torch.inference_mode), or, where PyTorch is
                                   missing, "unavailable" with the reason
                  --peer dl4j      also run the same shape on Deeplearning4j 1.0.0-M2.1 (ND4J native CPU,
                                   OpenBLAS): a second line with "engine":"dl4j". DL4J has LSTM and SimpleRnn
                                   (rnn) layers but no GRU; for gru the peer is skipped with a note on stderr.
                  --iters N (5)    timed runs
                  --warmup N (2)   untimed runs first
                  --peak GFLOPS    use this FMA peak instead of measuring it

                Output (one line each):
                  {"engine":"cpu","cell":"lstm","B":64,"I":512,"H":512,"T":100,"train_step_ms":...,"forward_ms":...,
                   "gflops":...,"peak_share":...,"forward_gflops":...,"peak_gflops":...,...}
                  {"engine":"cpu","op":"sgemm","M":1024,"N":1024,"K":1024,"trans_b":false,"ms":...,"gflops":...,...}
                  {"op":"fma_peak","threads":2,"vector_bits":256,"lanes":8,"chains":12,"seconds":...,"gflops":...}
                Exit status: 0 done, 1 failed (engine or peer unavailable, engine error), 2 bad arguments.
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            throw new UsageException("say what to measure: " + WHAT);
        }
        String what = args.get(0);
        List<String> rest = args.subList(1, args.size());
        try {
            return switch (what.toLowerCase(Locale.ROOT)) {
                case "lstm" -> layer(Cell.LSTM, rest, out, err);
                case "gru" -> layer(Cell.GRU, rest, out, err);
                case "rnn", "rnn_tanh" -> layer(Cell.RNN_TANH, rest, out, err);
                case "gemm" -> gemm(rest, out, err);
                case "peak" -> peak(rest, out);
                case "report" -> report(rest, out, err);
                case "jmh" -> JmhRun.run(rest, out, err);
                default -> throw new UsageException(what.startsWith("-")
                        ? "say what to measure before the options: " + WHAT
                        : "unknown measurement '" + what + "' (one of: " + WHAT + ")");
            };
        } catch (UsageException | BackendUnavailableException e) {
            throw e; // Recur prints these as one line (exit 2 and 1)
        } catch (Exception | OutOfMemoryError e) {
            err.println("recur bench " + what + ": failed: " + e);
            return Recur.EXIT_FAILED;
        }
    }

    // ---------------------------------------------------------------- lstm, gru, rnn

    private int layer(Cell cell, List<String> args, PrintStream out, PrintStream err) throws Exception {
        Options o = LAYER.parse(args).noPositional();
        String peerName = peer(o);
        boolean peer = Dl4jPeer.NAME.equals(peerName);
        Measurements.LayerShape shape = new Measurements.LayerShape(cell, positive(o, "--batch", 64),
                positive(o, "--input", 512), positive(o, "--hidden", 512), positive(o, "--steps", 100));
        Measurements.Runs runs = runs(o);
        double given = peakOption(o);
        if (peer && Dl4jPeer.supports(cell) && !dl4jOnClassPath(err)) {
            return Recur.EXIT_FAILED; // said before measuring, not after minutes of it
        }
        try (Backend backend = backend(o)) {
            Measurements.Peak peak = peakFor(given);
            out.println(Measurements.recurLayer(backend, shape, runs, peak));
            out.flush();
            if (TorchPeer.NAME.equals(peerName)) {
                TorchPeer.layer(shape, runs, peak.gflops(), out, err);
            }
            if (peer) {
                String why = Dl4jPeer.unsupportedReason(cell);
                if (why != null) {
                    err.println("recur bench " + cell.id() + ": no DL4J peer: " + why);
                    return Recur.EXIT_OK;
                }
                if (!dl4jAvailable(err)) {
                    return Recur.EXIT_FAILED;
                }
                out.println(Measurements.dl4jLayer(shape, runs, peak));
            }
            return Recur.EXIT_OK;
        }
    }

    // ---------------------------------------------------------------- gemm

    private int gemm(List<String> args, PrintStream out, PrintStream err) throws Exception {
        Options o = GEMM.parse(args).noPositional();
        String peerName = peer(o);
        boolean peer = Dl4jPeer.NAME.equals(peerName);
        int m = positive(o, "--m", 1024);
        int n = positive(o, "--n", 1024);
        int k = positive(o, "--k", 1024);
        boolean transB = o.has("--trans-b");
        Measurements.Runs runs = runs(o);
        double given = peakOption(o);
        if (peer && !dl4jOnClassPath(err)) {
            return Recur.EXIT_FAILED;
        }
        try (Backend backend = backend(o)) {
            Measurements.Peak peak = peakFor(given);
            out.println(Measurements.recurGemm(backend, m, n, k, transB, runs, peak));
            out.flush();
            if (TorchPeer.NAME.equals(peerName)) {
                TorchPeer.gemm(m, n, k, transB, runs, peak.gflops(), out, err);
            }
            if (peer) {
                if (!dl4jAvailable(err)) {
                    return Recur.EXIT_FAILED;
                }
                out.println(Measurements.nd4jGemm(m, n, k, transB, runs, peak));
            }
            return Recur.EXIT_OK;
        }
    }

    // ---------------------------------------------------------------- peak

    private int peak(List<String> args, PrintStream out) {
        Options o = PEAK.parse(args).noPositional();
        int threads = positive(o, "--threads", Runtime.getRuntime().availableProcessors());
        double seconds = positiveDouble(o, "--seconds", 0.5);
        out.println(Measurements.peakLine(FmaPeak.measure(threads, seconds)));
        return Recur.EXIT_OK;
    }

    // ---------------------------------------------------------------- report

    private int report(List<String> args, PrintStream out, PrintStream err) throws Exception {
        Options o = REPORT.parse(args).noPositional();
        LocalDate date;
        try {
            date = o.has("--date") ? LocalDate.parse(o.string("--date", "")) : LocalDate.now();
        } catch (DateTimeParseException e) {
            throw new UsageException("option '--date' needs YYYY-MM-DD, got '" + o.string("--date", "") + "'");
        }
        String outDir = o.string("--out", "bench/results");
        if (outDir.isBlank()) {
            throw new UsageException("option '--out' needs a folder");
        }
        Report.Config config = new Report.Config(
                o.string("--backend", null),
                !o.has("--no-peer"),
                positive(o, "--batch", 64), positive(o, "--input", 512), positive(o, "--hidden", 512),
                positive(o, "--steps", 100), positive(o, "--gemm", 1024),
                runs(o), positiveDouble(o, "--peak-seconds", 0.5), Path.of(outDir), date,
                "recur bench report" + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        return Report.run(config, out, err);
    }

    // ---------------------------------------------------------------- helpers

    private static Backend backend(Options o) {
        String name = o.string("--backend", null);
        if (name != null && name.isBlank()) {
            throw new UsageException("option '--backend' needs an engine name");
        }
        if (name != null && name.equalsIgnoreCase(Dl4jPeer.NAME)) {
            throw new UsageException("dl4j is a peer, not a Recur engine: use --peer dl4j");
        }
        return name == null ? Backends.best() : Backends.named(name);
    }

    /** {@code --peer}: {@value TorchPeer#NAME}, {@value Dl4jPeer#NAME}, or null when not given. */
    private static String peer(Options o) {
        String p = o.string("--peer", null);
        if (p == null) {
            return null;
        }
        for (String known : new String[] {TorchPeer.NAME, Dl4jPeer.NAME}) {
            if (p.equalsIgnoreCase(known)) {
                return known;
            }
        }
        throw new UsageException("unknown peer '" + p + "' (the peers are: " + TorchPeer.NAME + ", " + Dl4jPeer.NAME + ")");
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

    static Measurements.Runs runs(Options o) {
        int iters = positive(o, "--iters", 5);
        int warmup = o.intValue("--warmup", 2);
        if (warmup < 0) {
            throw new UsageException("option '--warmup' must be >= 0, got " + warmup);
        }
        return new Measurements.Runs(warmup, iters);
    }

    static int positive(Options o, String name, int fallback) {
        int v = o.intValue(name, fallback);
        if (v < 1) {
            throw new UsageException("option '" + name + "' must be >= 1, got " + v);
        }
        return v;
    }

    static double positiveDouble(Options o, String name, double fallback) {
        String s = o.string(name, null);
        if (s == null) {
            return fallback;
        }
        double v;
        try {
            v = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option '" + name + "' needs a number, got '" + s + "'");
        }
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new UsageException("option '" + name + "' must be a number > 0, got '" + s + "'");
        }
        return v;
    }

    /** The peak given by {@code --peak}, or, when that is NaN (not given), the one measured now. */
    private static Measurements.Peak peakFor(double given) {
        return Double.isNaN(given) ? Measurements.Peak.measured(FmaPeak.measure()) : Measurements.Peak.given(given);
    }

    /** {@code --peak}, or NaN when it was not given (then it is measured). */
    private static double peakOption(Options o) {
        return o.has("--peak") ? positiveDouble(o, "--peak", 1) : Double.NaN;
    }
}
