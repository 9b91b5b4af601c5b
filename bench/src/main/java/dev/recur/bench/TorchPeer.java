package dev.recur.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch peer of {@code recur bench --peer torch}: PyTorch's own CPU kernels (oneDNN's LSTM
 * and GRU, MKL or OpenBLAS GEMMs) on the same shape, the same thread count and the same runs, by
 * {@code bench/python/torch_rnn_bench.py --device cpu} in a child process, whose JSON lines (keys
 * of Recur's own, {@code "engine":"torch-cpu"}) are copied to the output.
 *
 * <p>The interpreter is {@code $RECUR_PYTHON}, else {@code python3} on the PATH; the script is
 * found beside the bench jar ({@code bench/target/bench.jar} → {@code bench/python/}) unless
 * {@code -Drecur.bench.torchScript} names it. Where either is missing, or PyTorch is not installed,
 * the peer's line says so ({@code "engine":"torch-cpu","unavailable":"..."}) and Recur's own line
 * stands.
 */
final class TorchPeer {

    static final String NAME = "torch";
    static final String ENGINE = "torch-cpu";
    private static final long TIMEOUT_MINUTES = 30;

    private TorchPeer() {
    }

    /** The shape of a layer as the script takes it: {@code CELL:B:I:H:T}; null for a cell PyTorch has no layer for. */
    static String layerShape(Measurements.LayerShape s) {
        String cell = switch (s.cell()) {
            case LSTM -> "lstm";
            case GRU -> "gru";
            case RNN_TANH -> "rnn_tanh";
            default -> null;
        };
        return cell == null ? null : cell + ":" + s.batch() + ":" + s.input() + ":" + s.hidden() + ":" + s.steps();
    }

    /** Runs the layer shape; false when the peer could not run (its line then says why). */
    static boolean layer(Measurements.LayerShape s, Measurements.Runs runs, double peakGflops, PrintStream out,
                         PrintStream err) {
        String shape = layerShape(s);
        if (shape == null) {
            return unavailable("PyTorch has no " + s.cell().id() + " layer", out, err);
        }
        return run(List.of("--shape", shape), runs, peakGflops, out, err);
    }

    /** Runs {@code torch.mm} on {@code [m, k] x [k, n]} ({@code [n, k]} transposed when transB). */
    static boolean gemm(int m, int n, int k, boolean transB, Measurements.Runs runs, double peakGflops, PrintStream out,
                        PrintStream err) {
        return run(List.of("--gemm", m + ":" + n + ":" + k + (transB ? ":T" : "")), runs, peakGflops, out, err);
    }

    /** The threads the cpu engine runs on, which the peer is given too. */
    static int threads() {
        Integer n = Integer.getInteger("recur.cpu.threads");
        return n != null && n > 0 ? n : Runtime.getRuntime().availableProcessors();
    }

    private static boolean run(List<String> what, Measurements.Runs runs, double peakGflops, PrintStream out,
                               PrintStream err) {
        Path script = script();
        if (script == null || !Files.isRegularFile(script)) {
            return unavailable("torch_rnn_bench.py not found" + (script == null ? "" : " at " + script)
                    + " (set -Drecur.bench.torchScript)", out, err);
        }
        String python = System.getenv().getOrDefault("RECUR_PYTHON", "python3");
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--device", "cpu",
                "--threads", Integer.toString(threads()), "--iters", Integer.toString(runs.iters()),
                "--warmup", Integer.toString(runs.warmup()), "--peak", String.format(Locale.ROOT, "%.3f", peakGflops)));
        cmd.addAll(what);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            return unavailable("cannot start " + python + ": " + e.getMessage(), out, err);
        }
        List<String> lines = new ArrayList<>();
        StringBuilder errors = new StringBuilder();
        Thread drain = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), errors));
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
            }
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return unavailable("the PyTorch peer ran past " + TIMEOUT_MINUTES + " minutes", out, err);
            }
            drain.join();
        } catch (IOException e) {
            return unavailable("reading the PyTorch peer: " + e.getMessage(), out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return unavailable("interrupted", out, err);
        }
        if (p.exitValue() != 0 || lines.isEmpty()) {
            String why = errors.toString().strip();
            int last = why.lastIndexOf('\n');
            return unavailable((last >= 0 ? why.substring(last + 1) : why).replaceFirst("^torch_rnn_bench: ", "")
                    + " (exit status " + p.exitValue() + ")", out, err);
        }
        String note = errors.toString().strip();
        if (!note.isEmpty()) {
            err.println(note);
        }
        lines.forEach(out::println);
        out.flush();
        return true;
    }

    private static void copy(java.io.InputStream in, StringBuilder into) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (into) {
                    into.append(line).append('\n');
                }
            }
        } catch (IOException ignored) {
            // the process ended; what was read is kept
        }
    }

    private static boolean unavailable(String why, PrintStream out, PrintStream err) {
        err.println("recur bench: no PyTorch peer: " + why);
        out.println(new JsonLine().put("engine", ENGINE).put("unavailable", why));
        out.flush();
        return false;
    }

    /** {@code -Drecur.bench.torchScript}, else {@code ../python/torch_rnn_bench.py} from the folder of the bench jar. */
    private static Path script() {
        String forced = System.getProperty("recur.bench.torchScript");
        if (forced != null) {
            return Path.of(forced);
        }
        try {
            var source = TorchPeer.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return null;
            }
            Path jar = Path.of(source.getLocation().toURI()); // bench/target/bench.jar, or bench/target/classes
            return jar.getParent().resolveSibling("python").resolve("torch_rnn_bench.py");
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
