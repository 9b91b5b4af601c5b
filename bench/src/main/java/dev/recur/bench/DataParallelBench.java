package dev.recur.bench;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Collective;
import dev.recur.api.Collectives;
import dev.recur.api.Launcher;
import dev.recur.models.data.TextCorpus;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.lm.LmTraining;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.train.Progress;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code recur bench data-parallel}: the char-LM's training throughput in one process with T
 * threads against R ranks of T/R threads each (the same cores, the same global batch), and the time
 * each step spends in the gradient all-reduce.
 *
 * <p>Each configuration trains {@code --warmup} steps (JIT, buffers), then, in a fresh run,
 * {@code --iters} timed steps of the whole loop ({@link LmTraining#run}: forward, backward,
 * all-reduce, clipping, Adam), on the built-in corpus. Tokens per second count the global batch:
 * {@code B · T · steps / seconds}. Under a launcher ({@code mpirun -np R ./recur bench
 * data-parallel}) it measures that job; without one it measures 1 rank in this process and then
 * starts {@code mpirun -np R} over TCP itself for the R-rank line.
 */
final class DataParallelBench {

    /** What one configuration is. */
    record Shape(int hidden, int layers, int embedding, int batch, int window, int warmup, int iters) {
    }

    private DataParallelBench() {
    }

    /**
     * Measures this process' part of the job (a single process without a launcher) with
     * {@code threads} engine threads; returns the line rank 0 prints (null on the other ranks).
     */
    static JsonLine measureHere(Backend be, Collective c, Shape s, int threads) throws IOException {
        TextCorpus corpus = TextCorpus.defaultCorpus();
        run(be, corpus, s, s.warmup(), c); // JIT and buffers; its numbers are dropped
        long t0 = System.nanoTime();
        LmTraining.Result r = run(be, corpus, s, s.iters(), c);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (c.rank() != 0) {
            return null;
        }
        double tokens = (double) s.batch() * s.window() * s.iters();
        JsonLine line = new JsonLine().put("op", "data_parallel_char_lm").put("engine", be.name())
                .put("ranks", c.worldSize()).put("threads_per_rank", threads)
                .put("collective", c.description())
                .put("B", s.batch()).put("T", s.window()).put("H", s.hidden()).put("layers", s.layers())
                .put("steps", s.iters()).put("seconds", seconds).put("tokens_per_s", tokens / seconds)
                .put("step_ms", 1e3 * seconds / s.iters());
        if (c.worldSize() > 1) {
            double perStep = r.allReduceSeconds() / Math.max(1, r.allReduceSteps());
            line.put("allreduce_ms_per_step", 1e3 * perStep)
                    .put("allreduce_share", perStep / (seconds / s.iters()))
                    .put("allreduce_bytes_per_step", 4L * r.allReducedFloats() / Math.max(1, r.allReduceSteps()));
        }
        return line;
    }

    private static LmTraining.Result run(Backend be, TextCorpus corpus, Shape s, int steps, Collective c)
            throws IOException {
        CharModelConfig model = new CharModelConfig(corpus.vocabulary().size(), s.embedding(), Cell.LSTM,
                s.hidden(), s.layers(), 0f);
        LmTraining.Options o = new LmTraining.Options(model, s.batch(), s.window(), steps, 2e-3f, "constant",
                OptimizerConfig.builder(Optimizer.Kind.ADAM).build(), 5f, 1, null, 0, false, 0, 0, 0, 1, 1f, 0);
        Progress quiet = new Progress(new PrintStream(OutputStream.nullOutputStream()), false, steps, "tok", 1000);
        return LmTraining.run(be, corpus, o, quiet, c);
    }

    /**
     * Starts {@code mpirun -np ranks} over TCP of this same JVM's class path running
     * {@code recur bench data-parallel ARGS}, and returns its rank 0's JSON line.
     *
     * @throws IOException when mpirun is missing or the job fails (its output in the message)
     */
    static String launch(int ranks, List<String> args) throws IOException, InterruptedException {
        String mpirun = null;
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, "mpirun");
            if (mpirun == null && Files.isExecutable(p)) {
                mpirun = p.toString();
            }
        }
        if (mpirun == null) {
            throw new IOException("no mpirun on the PATH for the " + ranks + "-rank run (install openmpi-bin), or"
                    + " start it yourself: mpirun -np " + ranks + " ./recur bench data-parallel ...");
        }
        List<String> cmd = new ArrayList<>(List.of(mpirun, "--oversubscribe", "--bind-to", "none", "-np",
                Integer.toString(ranks), "--mca", "btl", "tcp,self", "--mca", "pml", "ob1",
                // Through env: mpirun rewrites the arguments of an application named java.
                "/usr/bin/env", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Djava.awt.headless=true",
                "-cp", System.getProperty("java.class.path"), "dev.recur.models.cli.Recur", "bench", "data-parallel"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("the " + ranks + "-rank run failed:\n" + out);
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("{\"op\":\"data_parallel_char_lm\"")) {
                return line;
            }
        }
        throw new IOException("the " + ranks + "-rank run printed no result:\n" + out);
    }

    /**
     * Runs the PyTorch peer ({@code bench/python/torch_ddp_char_lm.py}, {@code $RECUR_PYTHON} or
     * python3) on the same shape: 1 process with {@code threads} threads, then {@code ranks}
     * processes under DDP on gloo over TCP. Returns its two JSON lines.
     *
     * @throws IOException when the script is missing or fails (its stderr in the message)
     */
    static List<String> torch(Shape s, int vocabulary, int threads, int ranks) throws IOException,
            InterruptedException {
        Path script;
        try {
            Path jar = Path.of(DataParallelBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            script = jar.getParent().resolveSibling("python").resolve("torch_ddp_char_lm.py"); // bench/python
        } catch (java.net.URISyntaxException | RuntimeException e) {
            throw new IOException("cannot find bench/python/torch_ddp_char_lm.py: " + e);
        }
        if (!Files.isRegularFile(script)) {
            throw new IOException(script + " not found");
        }
        List<String> cmd = List.of(System.getenv().getOrDefault("RECUR_PYTHON", "python3"), script.toString(),
                "--ranks", Integer.toString(ranks), "--threads", Integer.toString(threads),
                "--hidden", Integer.toString(s.hidden()), "--layers", Integer.toString(s.layers()),
                "--embedding", Integer.toString(s.embedding()), "--batch", Integer.toString(s.batch()),
                "--window", Integer.toString(s.window()), "--vocab", Integer.toString(vocabulary),
                "--iters", Integer.toString(s.iters()), "--warmup", Integer.toString(s.warmup()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("the PyTorch peer failed:\n" + out);
        }
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("{")) {
                lines.add(line);
            }
        }
        if (lines.size() != 2) {
            throw new IOException("the PyTorch peer printed " + lines.size() + " result lines, not 2:\n" + out);
        }
        return lines;
    }

    /**
     * The 1-minute load average ({@code /proc/loadavg}), or NaN: a figure measured while other work
     * shares the cores says so.
     */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Whether a launcher started this process. */
    static boolean launched() {
        return Launcher.detect().isPresent();
    }

    /** The job's collective (a single process without a launcher). */
    static Collective collective() {
        return Collectives.open();
    }
}
