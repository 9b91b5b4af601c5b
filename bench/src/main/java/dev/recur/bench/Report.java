package dev.recur.bench;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.models.cli.Recur;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code recur bench report}: the comparison set of the issue "CPU engine speed: five times DL4J
 * on the LSTM training step, measured side by side". In one JVM, in this order: the FMA peak;
 * for LSTM, GRU and vanilla RNN (tanh) at one shape, the Recur engine's training step and
 * forward, then DL4J's on the same shape (none for GRU: DL4J has no GRU layer); SGEMM square on
 * the engine, then on ND4J (OpenBLAS). Prints each measurement's JSON line as it is taken, then
 * writes {@code <engine>-<date>.md} (the table, the machine, the raw lines) and
 * {@code <engine>-<date>.png} (GFLOP/s bars) in the output folder.
 */
public final class Report {

    /**
     * What to run.
     *
     * @param backend     the Recur engine's name, or null for the one recur would choose
     * @param peer        whether to run DL4J beside it
     * @param gemm        the size of the square SGEMM
     * @param peakSeconds how long the FMA peak's timed pass runs
     * @param outDir      where the two files go (made when missing)
     * @param date        the date in the file names and the title
     * @param commandLine how the report was asked for, written into it
     */
    public record Config(String backend, boolean peer, int batch, int input, int hidden, int steps, int gemm,
                         Measurements.Runs runs, double peakSeconds, Path outDir, LocalDate date, String commandLine) {
    }

    /**
     * One row of the table: the engine's line and the peer's (null when there is none, with the reason).
     *
     * @param label      the shape, as the table shows it
     * @param recur      the engine's measurement
     * @param peer       DL4J's, or null
     * @param peerAbsent why there is no DL4J measurement, or null
     */
    public record Row(String label, JsonLine recur, JsonLine peer, String peerAbsent) {
    }

    /** Everything the Markdown and the chart are made from. */
    public record Data(Config config, Machine machine, String engine, JsonLine peak, Availability peer,
                       List<Row> rows) {
    }

    private Report() {
    }

    /** Runs the set and writes the files. Returns the exit status. */
    public static int run(Config c, PrintStream out, PrintStream err) throws Exception {
        Machine machine = Machine.current();
        try (Backend backend = c.backend() == null ? Backends.best() : Backends.named(c.backend())) {
            err.println("recur bench report: measuring the FMA peak");
            FmaPeak.Result peakResult = FmaPeak.measure(machine.cores(), c.peakSeconds());
            JsonLine peak = Measurements.peakLine(peakResult);
            print(out, peak);
            Measurements.Peak peakOf = Measurements.Peak.measured(peakResult);

            Availability peer = c.peer() ? Dl4jPeer.probe() : Availability.no("not run (--no-peer)");
            if (c.peer() && !peer.available()) {
                err.println("recur bench report: DL4J is not available, the DL4J column stays empty: " + peer.reason());
            }

            List<Row> rows = new ArrayList<>();
            for (Cell cell : List.of(Cell.LSTM, Cell.GRU, Cell.RNN_TANH)) {
                Measurements.LayerShape s = new Measurements.LayerShape(cell, c.batch(), c.input(), c.hidden(), c.steps());
                err.println("recur bench report: " + s.label() + " on " + backend.name());
                JsonLine mine = print(out, Measurements.recurLayer(backend, s, c.runs(), peakOf));
                JsonLine theirs = null;
                String absent = peer.available() ? Dl4jPeer.unsupportedReason(cell) : peer.reason();
                if (absent == null) {
                    err.println("recur bench report: " + s.label() + " on dl4j");
                    theirs = print(out, Measurements.dl4jLayer(s, c.runs(), peakOf));
                }
                rows.add(new Row(layerLabel(s), mine, theirs, absent));
            }
            int g = c.gemm();
            // A GEMM call takes tens of milliseconds, so it gets at least 20 untimed and 20 timed
            // runs: with the layer set's 2 warm-up runs the JIT had not finished compiling the
            // kernel and its median came out 20% slow (measured here). Both engines get the same.
            Measurements.Runs gemmRuns = new Measurements.Runs(Math.max(20, c.runs().warmup()),
                    Math.max(20, c.runs().iters()));
            err.println("recur bench report: sgemm " + g + " on " + backend.name());
            JsonLine mine = print(out, Measurements.recurGemm(backend, g, g, g, false, gemmRuns, peakOf));
            JsonLine theirs = null;
            if (peer.available()) {
                err.println("recur bench report: sgemm " + g + " on ND4J");
                theirs = print(out, Measurements.nd4jGemm(g, g, g, false, gemmRuns, peakOf));
            }
            rows.add(new Row("SGEMM " + g + "×" + g + "×" + g, mine, theirs, peer.available() ? null : peer.reason()));

            Data data = new Data(c, machine, backend.name(), peak, peer, rows);
            write(data, err);
            return Recur.EXIT_OK;
        }
    }

    static String layerLabel(Measurements.LayerShape s) {
        String name = switch (s.cell()) {
            case LSTM -> "LSTM";
            case GRU -> "GRU";
            case RNN_TANH -> "RNN (tanh)";
            default -> s.cell().id();
        };
        return name + " training step, B=" + s.batch() + " I=" + s.input() + " H=" + s.hidden() + " T=" + s.steps();
    }

    /** The base name of the files: {@code <engine>-<date>}. */
    static String baseName(Data d) {
        return d.engine() + "-" + d.config().date();
    }

    /** Writes the chart, then the Markdown (which names the chart, or why there is none). */
    static void write(Data d, PrintStream err) throws IOException {
        Path dir = d.config().outDir();
        Files.createDirectories(dir);
        Path png = dir.resolve(baseName(d) + ".png");
        String chartProblem = null;
        try {
            ReportChart.write(d, png);
            err.println("recur bench report: wrote " + png);
        } catch (IOException | RuntimeException | LinkageError e) { // AWTError, no fonts on a bare image
            chartProblem = e.toString();
            err.println("recur bench report: no chart: " + chartProblem);
        }
        Path md = dir.resolve(baseName(d) + ".md");
        Path tmp = dir.resolve(baseName(d) + ".md.tmp");
        Files.writeString(tmp, ReportMarkdown.render(d, chartProblem == null ? png.getFileName().toString() : null,
                chartProblem), StandardCharsets.UTF_8);
        Files.move(tmp, md, StandardCopyOption.REPLACE_EXISTING);
        err.println("recur bench report: wrote " + md);
    }

    private static JsonLine print(PrintStream out, JsonLine line) {
        out.println(line);
        out.flush();
        return line;
    }
}
