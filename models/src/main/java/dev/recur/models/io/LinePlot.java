package dev.recur.models.io;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TimeZone;

/**
 * A line chart of one or more series, written as a PNG: for example a forecast against the
 * truth, or training and validation loss against the step.
 *
 * <pre>
 *   new LinePlot(900, 500)
 *       .title("Airline passengers: test months")
 *       .xLabel("month").yLabel("passengers")
 *       .series("truth", truth)                       // x = 0, 1, 2, ...
 *       .series("LSTM forecast", firstTestIndex, prediction)
 *       .shade(firstTestIndex, truth.length - 1, "test")
 *       .write(Path.of("forecast.png"));
 * </pre>
 *
 * <p>Drawn by JFreeChart into a {@link BufferedImage}, headless: the first {@link #render()}
 * sets {@code java.awt.headless=true} unless the JVM was started with a value, so no display is
 * ever looked for (text needs at least one font installed, which every JDK image with
 * fontconfig has). The axes span the finite values of all series with a small margin, and do
 * not have to include zero; a NaN or infinite y leaves a gap in its line. With
 * {@link #dateAxis(boolean) dateAxis(true)} the x values are epoch milliseconds, labelled as UTC
 * dates. Series {@code i} is drawn in {@link #color(int) color(i)} unless given a colour; the
 * legend sits under the plot.
 *
 * <p>A builder: each call changes this plot and returns it; not thread-safe.
 */
public final class LinePlot {

    /** The default series colours, RGB, in order (the first five of Tableau 10, colour-blind friendly). */
    private static final int[] PALETTE = {0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F};

    /** A shaded region: light grey, a quarter opaque, so the lines and grid show through. */
    private static final Color SHADE = new Color(0x80, 0x80, 0x80, 0x40);

    private static final int MIN_WIDTH = 200;
    private static final int MIN_HEIGHT = 150;

    private record Series(String name, double[] x, double[] y, int rgb) {
    }

    private record Shade(double from, double to, String label) {
    }

    private final int width;
    private final int height;
    private String title = "";
    private String xLabel = "";
    private String yLabel = "";
    private boolean dates;
    private final List<Series> series = new ArrayList<>();
    private final List<Shade> shades = new ArrayList<>();

    /**
     * An empty plot of this size in pixels.
     *
     * @throws IllegalArgumentException below 200 x 150
     */
    public LinePlot(int width, int height) {
        if (width < MIN_WIDTH || height < MIN_HEIGHT) {
            throw new IllegalArgumentException("plot must be at least " + MIN_WIDTH + " x " + MIN_HEIGHT + " pixels, got "
                    + width + " x " + height);
        }
        this.width = width;
        this.height = height;
    }

    /** The default colour (RGB, {@code 0xRRGGBB}) of series {@code i}; the palette repeats after 8. */
    public static int color(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    /** The title above the plot. */
    public LinePlot title(String title) {
        this.title = Objects.requireNonNull(title, "title");
        return this;
    }

    /** The label under the x axis. */
    public LinePlot xLabel(String label) {
        this.xLabel = Objects.requireNonNull(label, "xLabel");
        return this;
    }

    /** The label beside the y axis. */
    public LinePlot yLabel(String label) {
        this.yLabel = Objects.requireNonNull(label, "yLabel");
        return this;
    }

    /**
     * With {@code true}, the x values of every series and shade are instants in epoch
     * milliseconds (a CSV's date column, for example {@code LocalDate.atStartOfDay(UTC)}), and
     * the x axis is labelled with dates, in UTC. Off by default.
     */
    public LinePlot dateAxis(boolean dates) {
        this.dates = dates;
        return this;
    }

    /** A series at x = 0, 1, 2, ... */
    public LinePlot series(String name, double[] y) {
        return series(name, 0, y);
    }

    /** A series at x = xStart, xStart + 1, ... (a forecast that starts where the test part does). */
    public LinePlot series(String name, double xStart, double[] y) {
        Objects.requireNonNull(y, "y");
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = xStart + i;
        }
        return series(name, x, y, color(series.size()));
    }

    /** A series at x = 0, 1, 2, ... from float values (model outputs). */
    public LinePlot series(String name, float[] y) {
        Objects.requireNonNull(y, "y");
        double[] d = new double[y.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = y[i];
        }
        return series(name, 0, d);
    }

    /** A series of points {@code (x[i], y[i])}, joined in order, in the next default colour. */
    public LinePlot series(String name, double[] x, double[] y) {
        return series(name, x, y, color(series.size()));
    }

    /**
     * A series at instants {@code epochMillis[i]}, joined in order, in the next default colour;
     * turns on {@link #dateAxis(boolean) the date axis}.
     */
    public LinePlot series(String name, long[] epochMillis, double[] y) {
        Objects.requireNonNull(epochMillis, "epochMillis");
        double[] x = new double[epochMillis.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = epochMillis[i];
        }
        dates = true;
        return series(name, x, y, color(series.size()));
    }

    /**
     * A series of points {@code (x[i], y[i])}, joined in order, in colour {@code rgb}
     * ({@code 0xRRGGBB}). A NaN or infinite {@code y[i]} leaves a gap.
     *
     * @throws IllegalArgumentException when the series is empty, {@code x} and {@code y} differ
     *                                  in length, or an x value is NaN or infinite
     */
    public LinePlot series(String name, double[] x, double[] y, int rgb) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        }
        if (x.length == 0) {
            throw new IllegalArgumentException("series '" + name + "' has no points");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException("series '" + name + "': x[" + i + "] is " + x[i]
                        + "; x values must be finite (a NaN or infinite y leaves a gap instead)");
            }
        }
        series.add(new Series(name, x.clone(), y.clone(), rgb & 0xFFFFFF));
        return this;
    }

    /**
     * Shades the part of the plot from {@code fromX} to {@code toX} (the test part of a series,
     * the future of a forecast) in translucent grey behind the lines, with {@code label} at its
     * top left; an empty label draws none. With a {@link #dateAxis(boolean) date axis} the bounds
     * are epoch milliseconds. A shade does not widen the axes.
     *
     * @throws IllegalArgumentException when a bound is NaN or infinite, or {@code fromX >= toX}
     */
    public LinePlot shade(double fromX, double toX, String label) {
        Objects.requireNonNull(label, "label");
        if (!Double.isFinite(fromX) || !Double.isFinite(toX)) {
            throw new IllegalArgumentException("shade '" + label + "': bounds must be finite, got " + fromX + " to " + toX);
        }
        if (fromX >= toX) {
            throw new IllegalArgumentException("shade '" + label + "': fromX must be below toX, got " + fromX + " to " + toX);
        }
        shades.add(new Shade(fromX, toX, label));
        return this;
    }

    /**
     * Writes the plot as a PNG file, replacing any file of that name: the image goes to a
     * temporary file beside it that is then renamed, so a failed write leaves the old file (or
     * none), never half a PNG.
     *
     * @throws IOException when the file cannot be written; the message says why, without the
     *                     file name (callers name it)
     */
    public void write(Path file) throws IOException {
        BufferedImage image = render();
        try {
            AtomicFiles.replace(file, channel -> {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel));
                if (!ImageIO.write(image, "png", out)) {
                    throw new IOException("no PNG writer in this Java runtime");
                }
                out.flush(); // not closed: AtomicFiles forces and closes the channel
            });
        } catch (CheckpointException e) {
            // AtomicFiles speaks of checkpoints; this is a plot, and callers name the file.
            throw new IOException(e.problem().replaceFirst("^cannot write: ", ""), e);
        }
    }

    /** The plot as an RGB image of the requested size. */
    public BufferedImage render() {
        return chart().createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    }

    /** A new chart of the settings so far; {@link #render()} draws one. Package-private for tests. */
    JFreeChart chart() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // before the first AWT class that asks
        }
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setDrawSeriesLineAsPath(false); // segment by segment, so a null y breaks the line
        for (int s = 0; s < series.size(); s++) {
            Series ser = series.get(s);
            // Unsorted and with duplicates allowed: the points are joined in the order given.
            XYSeries xy = new XYSeries(s + ": " + ser.name, false, true);
            for (int i = 0; i < ser.x.length; i++) {
                xy.add(ser.x[i], Double.isFinite(ser.y[i]) ? (Number) ser.y[i] : null, false);
            }
            data.addSeries(xy);
            renderer.setSeriesPaint(s, new Color(ser.rgb));
            renderer.setSeriesStroke(s, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        }
        // Legend entries show the names as given (the keys above carry an index so that two
        // series may share a name).
        renderer.setLegendItemLabelGenerator((dataset, s) -> series.get(s).name);

        ValueAxis x;
        if (dates) {
            x = new DateAxis(xLabel, TimeZone.getTimeZone("UTC"), Locale.ROOT);
        } else {
            NumberAxis n = new NumberAxis(xLabel);
            n.setAutoRangeIncludesZero(false);
            x = n;
        }
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);

        XYPlot plot = new XYPlot(data, x, y, renderer);
        // Later series on top, as in matplotlib: a forecast added after the data lies over it.
        plot.setSeriesRenderingOrder(org.jfree.chart.plot.SeriesRenderingOrder.FORWARD);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlinePaint(Color.BLACK);
        for (Shade sh : shades) {
            IntervalMarker m = new IntervalMarker(sh.from, sh.to, SHADE);
            m.setAlpha(1f); // SHADE carries its own alpha
            m.setOutlinePaint(null); // no edge lines: the region alone
            if (!sh.label.isEmpty()) {
                m.setLabel(sh.label);
                m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                m.setLabelPaint(Color.DARK_GRAY);
                m.setLabelBackgroundColor(new Color(0, 0, 0, 0)); // JFreeChart's default is a grey box
                m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
                m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            }
            plot.addDomainMarker(m, Layer.BACKGROUND);
        }

        JFreeChart chart = new JFreeChart(title.isEmpty() ? null : title, new Font(Font.SANS_SERIF, Font.BOLD, 15),
                plot, !series.isEmpty());
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        if (legend != null) {
            legend.setPosition(RectangleEdge.BOTTOM);
        }
        return chart;
    }
}
