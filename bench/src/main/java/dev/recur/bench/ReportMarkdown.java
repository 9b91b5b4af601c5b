package dev.recur.bench;

import java.util.Locale;

/**
 * The Markdown of {@code recur bench report}: title, where and how it was measured, the table
 * (one row per shape: Recur ms, DL4J ms, DL4J / Recur, Recur GFLOP/s, its share of the FMA peak,
 * DL4J GFLOP/s), the forward-only times, the chart and the raw JSON lines.
 */
final class ReportMarkdown {

    private ReportMarkdown() {
    }

    /**
     * @param chartFile    the PNG's file name (beside the Markdown), or null when there is none
     * @param chartProblem why there is no chart, or null
     */
    static String render(Report.Data d, String chartFile, String chartProblem) {
        Report.Config c = d.config();
        Machine m = d.machine();
        StringBuilder sb = new StringBuilder();
        sb.append("# Recur ").append(d.engine()).append(" engine beside DL4J, ").append(c.date()).append("\n\n");
        sb.append("| | |\n| --- | --- |\n");
        row(sb, "date", c.date().toString());
        row(sb, "commit", "`" + m.commit() + "`");
        row(sb, "machine", m.cpuModel() + ", " + m.cores() + " cores (available processors), " + m.os().strip());
        row(sb, "JDK", m.jdk());
        row(sb, "FMA peak", fmt(d.peak().number("gflops"), 1) + " GFLOP/s: the best of " + d.peak().get("passes")
                + " passes of " + d.peak().get("threads") + " threads × " + FmaPeak.CHAINS + " chains of "
                + d.peak().get("vector_bits") + "-bit FloatVector FMA; " + pairedPasses(d.engine()));
        row(sb, "Recur engine", "`" + d.engine() + "`, every available processor");
        row(sb, "peer", d.peer().available()
                ? "Deeplearning4j 1.0.0-M2.1, ND4J nd4j-native (linux-x86_64, OpenBLAS): " + d.peer().reason()
                : "none: " + d.peer().reason());
        row(sb, "runs", c.runs().warmup() + " warm-up, then the median of " + c.runs().iters() + " timed");
        row(sb, "command", "`" + c.commandLine() + "`");
        sb.append('\n');

        sb.append("Training step: one layer, one direction, forward and backward over T steps with the input ")
                .append("gradient, zero initial state, float32. Recur: `layerForward` + `layerBackward` (gradients ")
                .append("zeroed first). DL4J: `MultiLayerNetwork.computeGradientAndScore()` on the layer and a ")
                .append("parameterless `RnnLossLayer` (MSE), no optimizer update. FLOPs as DESIGN.md counts them: ")
                .append("3 × 2·G·H·(I+H)·B·T for a training step, 2·M·N·K for SGEMM; the same count for both ")
                .append("engines, so the GFLOP/s ratio is the inverse time ratio.\n\n");

        sb.append("Share of peak: the median run's GFLOP/s over the best FMA pass. Share of paired peak: the ")
                .append("median over the timed runs of each run's GFLOP/s over the FMA pass right after it, so ")
                .append("that a run slowed by a busy machine is set against a pass slowed alike.\n\n");
        sb.append("| shape | Recur ms | DL4J ms | DL4J / Recur | Recur GFLOP/s | share of peak | share of paired peak ")
                .append("| DL4J GFLOP/s |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Report.Row r : d.rows()) {
            double mine = ms(r.recur());
            double theirs = r.peer() == null ? Double.NaN : ms(r.peer());
            sb.append("| ").append(r.label())
                    .append(" | ").append(fmt(mine, 1))
                    .append(" | ").append(r.peer() == null ? "—" : fmt(theirs, 1))
                    .append(" | ").append(r.peer() == null ? "—" : fmt(theirs / mine, 2) + "×")
                    .append(" | ").append(fmt(r.recur().number("gflops"), 1))
                    .append(" | ").append(percent(r.recur().number("peak_share")))
                    .append(" | ").append(r.recur().get("peak_share_paired") == null ? "—"
                            : percent(r.recur().number("peak_share_paired")))
                    .append(" | ").append(r.peer() == null ? "—" : fmt(r.peer().number("gflops"), 1))
                    .append(" |\n");
        }
        sb.append('\n');
        for (Report.Row r : d.rows()) {
            if (r.peer() == null && r.peerAbsent() != null) {
                sb.append("- No DL4J number for ").append(r.label()).append(": ").append(r.peerAbsent()).append(".\n");
            }
        }

        sb.append("\nForward alone (Recur `layerForward`, which also fills the workspace for the backward; DL4J ")
                .append("`output(x, false)`, inference):\n\n");
        sb.append("| shape | Recur forward ms | DL4J forward ms | DL4J / Recur |\n| --- | ---: | ---: | ---: |\n");
        for (Report.Row r : d.rows()) {
            if (r.recur().get("forward_ms") == null) {
                continue;
            }
            double mine = r.recur().number("forward_ms");
            double theirs = r.peer() == null ? Double.NaN : r.peer().number("forward_ms");
            sb.append("| ").append(r.label().replace("training step", "forward"))
                    .append(" | ").append(fmt(mine, 1))
                    .append(" | ").append(r.peer() == null ? "—" : fmt(theirs, 1))
                    .append(" | ").append(r.peer() == null ? "—" : fmt(theirs / mine, 2) + "×")
                    .append(" |\n");
        }
        sb.append('\n');

        if (chartFile != null) {
            sb.append("![GFLOP/s of Recur and DL4J per shape](").append(chartFile).append(")\n\n");
        } else {
            sb.append("No chart: ").append(chartProblem).append("\n\n");
        }

        sb.append("Raw measurements (`recur bench` JSON lines):\n\n```json\n");
        sb.append(d.peak()).append('\n');
        for (Report.Row r : d.rows()) {
            sb.append(r.recur()).append('\n');
            if (r.peer() != null) {
                sb.append(r.peer()).append('\n');
            }
        }
        sb.append("```\n");
        return sb.toString();
    }

    /** The time a row compares: the training step for a layer, the call for a GEMM. */
    static double ms(JsonLine line) {
        return line.get("train_step_ms") != null ? line.number("train_step_ms") : line.number("ms");
    }

    /** Which timed runs a paired FMA pass follows: only those on this CPU ({@link Measurements.Peak#forEngine}). */
    static String pairedPasses(String engine) {
        return Measurements.CPU_ENGINE.equals(engine)
                ? "a 50 ms pass also follows every timed run (the paired peak)"
                : "a 50 ms pass also follows every DL4J run (the paired peak); the " + engine
                        + " engine's runs have none, as they run on another device";
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append("| ").append(key).append(" | ").append(value.replace("|", "\\|")).append(" |\n");
    }

    static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,." + decimals + "f", v) : "—";
    }

    static String percent(double share) {
        return Double.isFinite(share) ? String.format(Locale.ROOT, "%.1f%%", share * 100) : "—";
    }
}
