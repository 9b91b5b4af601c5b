package dev.recur.bench;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The report's bar chart: GFLOP/s of the Recur engine and of DL4J for each shape, with the FMA
 * peak drawn as a line. GFLOP/s rather than milliseconds, so that shapes of very different cost
 * share one axis. Drawn headless with JFreeChart.
 */
final class ReportChart {

    static final int WIDTH = 1000;
    static final int HEIGHT = 560;

    private ReportChart() {
    }

    static void write(Report.Data d, Path png) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        String recur = "Recur " + d.engine();
        String peer = "DL4J 1.0.0-M2.1";
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Report.Row r : d.rows()) {
            String category = shortLabel(r.label()) + (r.peer() == null ? " (no DL4J)" : "");
            data.addValue(r.recur().number("gflops"), recur, category);
            // A missing peer keeps an empty slot, so every category has the same two bars.
            data.addValue(r.peer() == null ? null : (Number) r.peer().number("gflops"), peer, category);
        }
        double peak = d.peak().number("gflops");
        JFreeChart chart = ChartFactory.createBarChart(
                "Recur " + d.engine() + " vs DL4J, " + d.config().date() + " (" + d.machine().cpuModel() + ", "
                        + d.machine().cores() + " cores)",
                "training step (layers, B=" + d.config().batch() + " I=" + d.config().input() + " H="
                        + d.config().hidden() + " T=" + d.config().steps() + "); SGEMM",
                "GFLOP/s", data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.getDomainAxis().setMaximumCategoryLabelLines(2);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setSeriesPaint(0, new Color(0x1f77b4));
        bars.setSeriesPaint(1, new Color(0xff7f0e));
        if (Double.isFinite(peak)) {
            ValueMarker marker = new ValueMarker(peak, Color.DARK_GRAY, new BasicStroke(1.5f, BasicStroke.CAP_BUTT,
                    BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            marker.setLabel(String.format(java.util.Locale.ROOT, "FMA peak %.0f GFLOP/s", peak));
            marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
            plot.addRangeMarker(marker);
            // Keep the marker inside the axis range.
            plot.getRangeAxis().setUpperBound(Math.max(plot.getRangeAxis().getUpperBound(), peak * 1.08));
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** "LSTM training step, B=64 ..." becomes "LSTM"; "SGEMM 1024×1024×1024" becomes "SGEMM 1024". */
    static String shortLabel(String label) {
        int step = label.indexOf(" training step");
        if (step > 0) {
            return label.substring(0, step);
        }
        int times = label.indexOf('×');
        return times > 0 ? label.substring(0, times) : label;
    }
}
