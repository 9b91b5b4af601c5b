package dev.recur.models.seq2seq;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A PNG of one translation's attention weights: source words along x, target words (EOS last
 * when the translation ended with it) down y, each cell's grey level its weight (white 0, black
 * 1), as Bahdanau et al. (2015) drew them. Drawn by JFreeChart ({@link XYBlockRenderer}),
 * headless.
 */
public final class AttentionHeatmap {

    private AttentionHeatmap() {
    }

    /**
     * The chart of {@code weights [targetWords.size()][≥ sourceWords.size()]} (columns past the
     * source words, the padding, are left out).
     *
     * @throws IllegalArgumentException when the rows do not match the target words or are too short
     */
    public static JFreeChart chart(String title, List<String> sourceWords, List<String> targetWords,
                                   float[][] weights) {
        if (weights.length != targetWords.size()) {
            throw new IllegalArgumentException("attention heatmap: " + weights.length + " rows of weights for "
                    + targetWords.size() + " target words");
        }
        int s = sourceWords.size();
        int t = targetWords.size();
        double[] xs = new double[s * t];
        double[] ys = new double[s * t];
        double[] zs = new double[s * t];
        for (int i = 0; i < t; i++) {
            if (weights[i].length < s) {
                throw new IllegalArgumentException("attention heatmap: row " + i + " has " + weights[i].length
                        + " weights for " + s + " source words");
            }
            for (int j = 0; j < s; j++) {
                xs[i * s + j] = j;
                ys[i * s + j] = i;
                zs[i * s + j] = weights[i][j];
            }
        }
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // before the first AWT class that asks
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("attention", new double[][] {xs, ys, zs});
        SymbolAxis x = new SymbolAxis("source", sourceWords.toArray(String[]::new));
        x.setVerticalTickLabels(true);
        SymbolAxis y = new SymbolAxis("translation", targetWords.toArray(String[]::new));
        y.setInverted(true); // the first word at the top
        XYBlockRenderer renderer = new XYBlockRenderer();
        GrayPaintScale scale = new GrayPaintScale(0, 1);
        renderer.setPaintScale(new InvertedGray(scale));
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setDomainAxisLocation(AxisLocation.TOP_OR_LEFT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.PLAIN, 14), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        NumberAxis legendAxis = new NumberAxis("weight");
        legendAxis.setRange(0, 1);
        PaintScaleLegend legend = new PaintScaleLegend(new InvertedGray(scale), legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 4, 4);
        chart.addSubtitle(legend);
        return chart;
    }

    /** White for 0, black for 1 (GrayPaintScale runs the other way). */
    private record InvertedGray(GrayPaintScale scale) implements org.jfree.chart.renderer.PaintScale {
        @Override
        public double getLowerBound() {
            return scale.getLowerBound();
        }

        @Override
        public double getUpperBound() {
            return scale.getUpperBound();
        }

        @Override
        public java.awt.Paint getPaint(double value) {
            return scale.getPaint(scale.getUpperBound() - value + scale.getLowerBound());
        }
    }

    /**
     * Writes {@link #chart} as a PNG, about 60 pixels per word, replacing {@code file} through a
     * temporary file beside it (a failed write leaves the old file or none).
     */
    public static void write(Path file, String title, List<String> sourceWords, List<String> targetWords,
                             float[][] weights) throws IOException {
        JFreeChart chart = chart(title, sourceWords, targetWords, weights);
        int width = 260 + 48 * sourceWords.size();
        int height = 200 + 36 * targetWords.size();
        BufferedImage image = chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
        Path abs = file.toAbsolutePath();
        // Not Files.createTempFile: its 0600 mode would stay on the renamed file; this one gets the umask's.
        Path tmp = abs.getParent().resolve("." + abs.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                if (!ImageIO.write(image, "png", out)) {
                    throw new IOException("no PNG writer in this Java runtime");
                }
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
