package dev.recur.bench;

import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.bench.jmh.FmaPeakBenchmark;
import dev.recur.bench.jmh.GemmShape;
import dev.recur.models.cli.Recur;
import dev.recur.models.cli.UsageException;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * {@code recur bench jmh [JMH options]}: runs the JMH benchmarks of {@code dev.recur.bench.jmh}
 * with JMH's own command line, defaulting {@code -p backend=} to every available engine, then
 * prints each result again as GFLOP/s and share of the FMA peak (from {@code FmaPeakBenchmark}
 * when it ran, else measured here), one JSON line each.
 */
final class JmhRun {

    private JmhRun() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws RunnerException {
        List<String> jmhArgs = new ArrayList<>(args);
        if (!jmhArgs.isEmpty() && jmhArgs.get(0).equals("--")) {
            jmhArgs.remove(0);
        }
        CommandLineOptions cmd;
        try {
            cmd = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        } catch (CommandLineOptionException e) {
            throw new UsageException("JMH: " + e.getMessage());
        }
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            throw new UsageException("JMH's listing and help options are not passed on; run the benchmarks, "
                    + "or see https://github.com/openjdk/jmh for JMH's options");
        }
        OptionsBuilder options = new OptionsBuilder();
        options.parent(cmd);
        if (!cmd.getParameter("backend").hasValue()) {
            List<String> engines = new ArrayList<>();
            for (Backends.Found f : Backends.discover()) {
                if (f.availability().available()) {
                    engines.add(f.name());
                }
            }
            if (engines.isEmpty()) {
                err.println("recur bench jmh: no engine is available; the Recur benchmarks will fail");
            } else {
                options.param("backend", engines.toArray(String[]::new));
            }
        }
        Collection<RunResult> results = new Runner(options.build(),
                OutputFormatFactory.createFormatInstance(out, VerboseMode.NORMAL)).run();

        double peak = Double.NaN;
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().endsWith(".FmaPeakBenchmark.fma")) {
                peak = opsPerSecond(r) * flopsPerOp(r.getParams());
            }
        }
        if (Double.isNaN(peak)) {
            peak = FmaPeak.measure().gflops() * 1e9;
        }
        out.println();
        out.println("GFLOP/s (FLOPs as DESIGN.md counts them) and share of the FMA peak, "
                + String.format(Locale.ROOT, "%.1f GFLOP/s:", peak / 1e9));
        for (RunResult r : results) {
            out.println(line(r, peak / 1e9));
        }
        return Recur.EXIT_OK;
    }

    static JsonLine line(RunResult r, double peakGflops) {
        BenchmarkParams p = r.getParams();
        JsonLine line = new JsonLine().put("benchmark", shortName(p.getBenchmark()));
        for (String key : p.getParamsKeys()) {
            line.put(key, p.getParam(key));
        }
        double ops = opsPerSecond(r);
        long flops = flopsPerOp(p);
        double gflops = flops > 0 ? ops * flops / 1e9 : Double.NaN;
        return line.put("ops_per_s", ops)
                .put("ms_per_op", 1e3 / ops)
                .put("gflops", gflops)
                .put("peak_share", gflops / peakGflops);
    }

    /** {@code dev.recur.bench.jmh.LayerBenchmark.trainStep} becomes {@code LayerBenchmark.trainStep}. */
    static String shortName(String benchmark) {
        int method = benchmark.lastIndexOf('.');
        int type = method > 0 ? benchmark.lastIndexOf('.', method - 1) : -1;
        return benchmark.substring(type + 1);
    }

    /** The primary score as operations per second, whatever mode and unit JMH was told to use. */
    static double opsPerSecond(RunResult r) {
        double score = r.getPrimaryResult().getScore();
        String unit = r.getPrimaryResult().getScoreUnit();
        String[] parts = unit.split("/");
        if (parts.length != 2) {
            return Double.NaN;
        }
        if (parts[0].equals("ops")) {
            return score / seconds(parts[1]);
        }
        if (parts[1].equals("op")) {
            return 1 / (score * seconds(parts[0]));
        }
        return Double.NaN;
    }

    private static double seconds(String unit) {
        return switch (unit) {
            case "ns" -> 1e-9;
            case "us" -> 1e-6;
            case "ms" -> 1e-3;
            case "s" -> 1;
            case "min" -> 60;
            case "hr" -> 3600;
            case "day" -> 86400;
            default -> Double.NaN;
        };
    }

    /** FLOPs of one op of a benchmark of {@code dev.recur.bench.jmh}, or -1 for one it does not know. */
    static long flopsPerOp(BenchmarkParams p) {
        String name = shortName(p.getBenchmark());
        String type = name.substring(0, name.indexOf('.'));
        String method = name.substring(name.indexOf('.') + 1);
        return switch (type) {
            case "GemmBenchmark", "Dl4jGemmBenchmark" -> GemmShape.parse(p.getParam("shape")).flops();
            case "CellBenchmark" -> {
                long f = Flops.layerForward(Cell.byId(p.getParam("cell")), intParam(p, "batch"), intParam(p, "input"),
                        intParam(p, "hidden"), 1);
                yield method.equals("forward") ? f : Flops.TRAIN_FACTOR * f;
            }
            case "LayerBenchmark", "Dl4jLayerBenchmark" -> {
                long f = Flops.layerForward(Cell.byId(p.getParam("cell")), intParam(p, "batch"), intParam(p, "input"),
                        intParam(p, "hidden"), intParam(p, "steps"));
                yield method.equals("forward") ? f : Flops.TRAIN_FACTOR * f;
            }
            case "FmaPeakBenchmark" -> FmaPeak.flopsPerKernel(FmaPeakBenchmark.ITERATIONS);
            default -> -1;
        };
    }

    private static int intParam(BenchmarkParams p, String key) {
        return Integer.parseInt(p.getParam(key));
    }
}
