package dev.recur.bench;

import dev.recur.api.Availability;
import dev.recur.api.Cell;
import dev.recur.models.cli.Recur;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {

    /** The whole report on tiny shapes, without the peer (its own test covers it): files and lines. */
    @Test
    void reportWritesMarkdownAndChart(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("results");
        Streams s = Streams.recur("bench", "report", "--no-peer", "--batch", "2", "--input", "8", "--hidden", "8",
                "--steps", "3", "--gemm", "16", "--iters", "1", "--warmup", "0", "--peak-seconds", "0.05",
                "--out", out.toString(), "--date", "2024-01-02");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        // The peak, three layers, one GEMM: a JSON line each.
        assertEquals(5, s.outLines().size(), s::toString);
        assertEquals("fma_peak", FlatJson.parse(s.outLines().get(0)).get("op"));
        for (String line : s.outLines()) {
            FlatJson.parse(line);
        }

        Path md = out.resolve("cpu-2024-01-02.md");
        Path png = out.resolve("cpu-2024-01-02.png");
        assertTrue(Files.isRegularFile(md), s::toString);
        String text = Files.readString(md);
        assertTrue(text.startsWith("# Recur cpu engine beside DL4J, 2024-01-02\n"), text);
        assertTrue(text.contains("| shape | Recur ms | DL4J ms | DL4J / Recur | Recur GFLOP/s | share of peak | share of paired peak "
                + "| DL4J GFLOP/s |"),
                text);
        assertTrue(text.contains("\n| LSTM training step, B=2 I=8 H=8 T=3 | "), text);
        assertTrue(text.contains("\n| GRU training step, B=2 I=8 H=8 T=3 | "), text);
        assertTrue(text.contains("\n| RNN (tanh) training step, B=2 I=8 H=8 T=3 | "), text);
        assertTrue(text.contains("\n| SGEMM 16×16×16 | "), text);
        assertTrue(text.contains("| peer | none: not run (--no-peer) |"), text);
        assertTrue(text.contains("| commit | `"), text);
        assertTrue(text.contains("![GFLOP/s of Recur and DL4J per shape](cpu-2024-01-02.png)"), text);
        assertTrue(text.contains("`recur bench report --no-peer --batch 2"), text);

        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "not a PNG: " + png);
        assertEquals(ReportChart.WIDTH, image.getWidth());
        assertEquals(ReportChart.HEIGHT, image.getHeight());
        assertEquals(List.of(), listTmp(out), "no temporary file left behind");
    }

    private static List<Path> listTmp(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".tmp")).toList();
        }
    }

    /** The table's arithmetic, on made-up lines: ratio DL4J / Recur, share of peak, missing peer. */
    @Test
    void tableRowsFromTheLines() {
        Report.Config config = new Report.Config("cpu", true, 64, 512, 512, 100, 1024, new Measurements.Runs(2, 5), 0.5,
                Path.of("x"), LocalDate.of(2025, 3, 4), "recur bench report");
        Machine machine = new Machine("Test CPU", 8, "25", "Linux", "abc1234");
        JsonLine peak = new JsonLine().put("op", "fma_peak").put("threads", 8).put("vector_bits", 256)
                .put("passes", 5).put("gflops", 1000.0);
        Measurements.LayerShape lstm = new Measurements.LayerShape(Cell.LSTM, 64, 512, 512, 100);
        Measurements.LayerShape gru = new Measurements.LayerShape(Cell.GRU, 64, 512, 512, 100);
        JsonLine mine = new JsonLine().put("engine", "cpu").put("train_step_ms", 400.0).put("forward_ms", 100.0)
                .put("gflops", 201.3).put("peak_share", 0.2013).put("peak_share_paired", 0.2215);
        JsonLine theirs = new JsonLine().put("engine", "dl4j").put("train_step_ms", 1000.0).put("forward_ms", 300.0)
                .put("gflops", 80.5).put("peak_share", 0.0805);
        JsonLine gruMine = new JsonLine().put("engine", "cpu").put("train_step_ms", 300.0).put("forward_ms", 90.0)
                .put("gflops", 150.0).put("peak_share", 0.15);
        Report.Data data = new Report.Data(config, machine, "cpu", peak, Availability.yes("ND4J CpuBackend, 8 threads"),
                List.of(new Report.Row(Report.layerLabel(lstm), mine, theirs, null),
                        new Report.Row(Report.layerLabel(gru), gruMine, null, Dl4jPeer.unsupportedReason(Cell.GRU))));
        String md = ReportMarkdown.render(data, "cpu-2025-03-04.png", null);
        assertTrue(md.contains("\n| LSTM training step, B=64 I=512 H=512 T=100 | 400.0 | 1,000.0 | 2.50× | 201.3 | 20.1% | 22.2% | 80.5 |\n"),
                md);
        assertTrue(md.contains("\n| GRU training step, B=64 I=512 H=512 T=100 | 300.0 | — | — | 150.0 | 15.0% | — | — |\n"), md);
        assertTrue(md.contains("- No DL4J number for GRU training step, B=64 I=512 H=512 T=100: DL4J 1.0.0-M2.1 has no GRU"),
                md);
        assertTrue(md.contains("\n| LSTM forward, B=64 I=512 H=512 T=100 | 100.0 | 300.0 | 3.00× |\n"), md);
        assertTrue(md.contains("| FMA peak | 1,000.0 GFLOP/s: the best of 5 passes of 8 threads × 12 chains of 256-bit "
                + "FloatVector FMA; a 50 ms pass also follows every timed run (the paired peak) |"), md);
        assertTrue(md.contains("| machine | Test CPU, 8 cores (available processors), Linux |"), md);
        assertEquals("a 50 ms pass also follows every DL4J run (the paired peak); the cuda engine's runs have "
                + "none, as they run on another device", ReportMarkdown.pairedPasses("cuda"));
    }
}
