package dev.recur.models.io;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

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
 *       .write(Path.of("forecast.png"));
 * </pre>
 *
 * <p>Drawn with {@code java.awt} into a {@link BufferedImage} and encoded by {@link ImageIO}: no
 * window, no display, no extra library; it works on a headless server (text needs at least one
 * font installed, which every JDK image with fontconfig has). The axes span the finite values
 * of all series, rounded out to "nice" ticks (1, 2 or 5 times a power of ten); a NaN or infinite
 * value leaves a gap in its line. Series {@code i} is drawn in {@link #color(int) color(i)}
 * unless given a colour, with a legend in the top-left corner of the plot area.
 *
 * <p>A builder: each call changes this plot and returns it; not thread-safe.
 */
public final class LinePlot {

    /** The default series colours, RGB, in order (the first five of Tableau 10, colour-blind friendly). */
    private static final int[] PALETTE = {0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F};

    private static final int MIN_WIDTH = 200;
    private static final int MIN_HEIGHT = 150;

    private record Series(String name, double[] x, double[] y, int rgb) {
    }

    private final int width;
    private final int height;
    private String title = "";
    private String xLabel = "";
    private String yLabel = "";
    private final List<Series> series = new ArrayList<>();

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

    /** A series at x = 0, 1, 2, ... */
    public LinePlot series(String name, double[] y) {
        return series(name, 0, y);
    }

    /** A series at x = xStart, xStart + 1, ... (a forecast that starts where the test part does). */
    public LinePlot series(String name, double xStart, double[] y) {
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = xStart + i;
        }
        return series(name, x, y, color(series.size()));
    }

    /** A series at x = 0, 1, 2, ... from float values (model outputs). */
    public LinePlot series(String name, float[] y) {
        double[] d = new double[y.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = y[i];
        }
        return series(name, 0, d);
    }

    /**
     * A series of points {@code (x[i], y[i])}, joined in order, in colour {@code rgb}
     * ({@code 0xRRGGBB}).
     *
     * @throws IllegalArgumentException when {@code x} and {@code y} differ in length
     */
    public LinePlot series(String name, double[] x, double[] y, int rgb) {
        Objects.requireNonNull(name, "name");
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        }
        series.add(new Series(name, x.clone(), y.clone(), rgb & 0xFFFFFF));
        return this;
    }

    /**
     * Writes the plot as a PNG file, replacing any file of that name.
     *
     * @throws IOException when the file cannot be written
     */
    public void write(Path file) throws IOException {
        BufferedImage image = render();
        try (OutputStream out = Files.newOutputStream(file)) {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException(file + ": no PNG writer in this Java runtime");
            }
        }
    }

    /** The plot as an RGB image of the requested size. */
    public BufferedImage render() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            draw(g);
        } finally {
            g.dispose();
        }
        return image;
    }

    // --------------------------------------------------------------------------------- drawing

    /** Data bounds and ticks of one axis. */
    private record Axis(double lo, double hi, double step) {
        double fraction(double v) {
            return (v - lo) / (hi - lo);
        }

        /** lo, lo + step, ..., hi; computed from the index so that rounding does not pile up. */
        double[] ticks() {
            int n = (int) Math.round((hi - lo) / step) + 1;
            double[] t = new double[n];
            for (int k = 0; k < n; k++) {
                t[k] = lo + k * step;
            }
            return t;
        }
    }

    private void draw(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);

        Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        Font bold = new Font(Font.SANS_SERIF, Font.BOLD, 15);
        g.setFont(plain);
        FontMetrics fm = g.getFontMetrics();

        Axis xAxis = axis(true);
        Axis yAxis = axis(false);
        int yTickWidth = 0;
        for (double v : yAxis.ticks()) {
            yTickWidth = Math.max(yTickWidth, fm.stringWidth(format(v, yAxis.step)));
        }
        int left = 14 + (yLabel.isEmpty() ? 0 : fm.getHeight() + 6) + yTickWidth + 8;
        int right = width - 20;
        int top = title.isEmpty() ? 16 : 16 + g.getFontMetrics(bold).getHeight() + 4;
        int bottom = height - (14 + fm.getHeight() + 6 + (xLabel.isEmpty() ? 0 : fm.getHeight() + 4));
        int plotW = right - left;
        int plotH = bottom - top;

        // Grid and tick labels.
        g.setStroke(new BasicStroke(1f));
        for (double v : yAxis.ticks()) {
            int py = (int) Math.round(bottom - yAxis.fraction(v) * plotH);
            g.setColor(new Color(0xE6E6E6));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            String s = format(v, yAxis.step);
            g.drawString(s, left - 6 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
        }
        for (double v : xAxis.ticks()) {
            int px = (int) Math.round(left + xAxis.fraction(v) * plotW);
            g.setColor(new Color(0xE6E6E6));
            g.drawLine(px, top, px, bottom);
            g.setColor(Color.DARK_GRAY);
            String s = format(v, xAxis.step);
            g.drawString(s, px - fm.stringWidth(s) / 2, bottom + 6 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, plotW, plotH);

        // Series, clipped to the plot area.
        Shape oldClip = g.getClip();
        g.clipRect(left, top, plotW + 1, plotH + 1);
        g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (Series s : series) {
            Path2D.Double path = new Path2D.Double();
            boolean penDown = false;
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.x[i]) || !Double.isFinite(s.y[i])) {
                    penDown = false;
                    continue;
                }
                double px = left + xAxis.fraction(s.x[i]) * plotW;
                double py = bottom - yAxis.fraction(s.y[i]) * plotH;
                if (penDown) {
                    path.lineTo(px, py);
                } else {
                    path.moveTo(px, py);
                    path.lineTo(px, py); // a lone point still shows, as a dot, with round caps
                    penDown = true;
                }
            }
            g.setColor(new Color(s.rgb));
            g.draw(path);
        }
        g.setClip(oldClip);

        // Legend.
        if (!series.isEmpty()) {
            int line = fm.getHeight() + 2;
            int boxW = 0;
            for (Series s : series) {
                boxW = Math.max(boxW, fm.stringWidth(s.name));
            }
            boxW += 40;
            int boxH = line * series.size() + 8;
            int bx = left + 10;
            int by = top + 10;
            g.setStroke(new BasicStroke(1f));
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(bx, by, boxW, boxH);
            g.setColor(Color.GRAY);
            g.drawRect(bx, by, boxW, boxH);
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                int cy = by + 4 + i * line + line / 2;
                g.setColor(new Color(s.rgb));
                g.fillRect(bx + 8, cy - 2, 20, 4);
                g.setColor(Color.BLACK);
                g.drawString(s.name, bx + 34, cy + fm.getAscent() / 2 - 1);
            }
        }

        // Title and axis labels.
        g.setColor(Color.BLACK);
        if (!title.isEmpty()) {
            g.setFont(bold);
            FontMetrics bm = g.getFontMetrics();
            g.drawString(title, (width - bm.stringWidth(title)) / 2, 12 + bm.getAscent());
            g.setFont(plain);
        }
        if (!xLabel.isEmpty()) {
            g.drawString(xLabel, left + (plotW - fm.stringWidth(xLabel)) / 2, height - 10 - fm.getDescent());
        }
        if (!yLabel.isEmpty()) {
            AffineTransform saved = g.getTransform();
            g.translate(14 + fm.getAscent(), top + (plotH + fm.stringWidth(yLabel)) / 2.0);
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, 0, 0);
            g.setTransform(saved);
        }
    }

    /** The axis over every finite value of x (or y), widened to whole ticks. */
    private Axis axis(boolean isX) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
                    double v = isX ? s.x[i] : s.y[i];
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) { // nothing to show
            lo = 0;
            hi = 1;
        } else if (lo == hi) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= pad;
            hi += pad;
        }
        double step = niceStep((hi - lo) / (isX ? 8 : 6));
        return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
    }

    /** The smallest of 1, 2, 5 times a power of ten that is at least {@code raw}. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    }

    /** A tick label with as many decimals as the step needs. */
    static String format(double v, double step) {
        if (Math.abs(v) < step * 1e-9) {
            v = 0; // no "-0" or "1e-17" from accumulated rounding
        }
        double mag = Math.max(Math.abs(v), step);
        if (mag >= 1e7 || step < 1e-5) {
            return String.format(Locale.ROOT, "%.3g", v);
        }
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
