package dev.recur.models.io;

import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.axis.ValueTick;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleEdge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinePlotTest {

    @TempDir
    Path dir;

    /** A plot's image with where its data area and x axis ended up. */
    private record Drawn(BufferedImage image, Rectangle2D area, XYPlot plot) {
        /** The pixel column of x. */
        double column(double x) {
            return plot.getDomainAxis().valueToJava2D(x, area, plot.getDomainAxisEdge());
        }
    }

    /** Draws as {@link LinePlot#render()} does, keeping the rendering info. */
    private static Drawn draw(LinePlot p, int width, int height) {
        JFreeChart chart = p.chart();
        ChartRenderingInfo info = new ChartRenderingInfo();
        BufferedImage img = chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, info);
        return new Drawn(img, info.getPlotInfo().getDataArea(), chart.getXYPlot());
    }

    /** Pixels within 24 of {@code rgb} in every channel (the line's core; antialiased edges blend). */
    private static int count(BufferedImage img, int rgb, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = Math.max(0, x0); x < Math.min(img.getWidth(), x1); x++) {
                if (near(img.getRGB(x, y), rgb)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static int count(BufferedImage img, int rgb) {
        return count(img, rgb, 0, img.getWidth());
    }

    private static boolean near(int a, int b) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF)) > 24) {
                return false;
            }
        }
        return true;
    }

    private static double[] wave(int n) {
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = 100 + 40 * Math.sin(i / 4.0) + i;
        }
        return y;
    }

    private static void assertMessage(String expectedPart, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(expectedPart), "expected '" + expectedPart + "' in: " + e.getMessage());
    }

    @Test
    void writesAPngOfTheRequestedSizeWithEverySeriesColour() throws IOException {
        double[] truth = wave(48);
        double[] forecast = new double[12];
        for (int i = 0; i < forecast.length; i++) {
            forecast[i] = truth[36 + i] + 5;
        }
        Path file = dir.resolve("forecast.png");
        Files.writeString(file, "an older file, replaced whole");
        new LinePlot(640, 360).title("Passengers: truth and forecast").xLabel("month").yLabel("passengers")
                .series("truth", truth)
                .series("forecast", 36, forecast)
                .write(file);

        assertTrue(Files.size(file) > 1000);
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, "decodes as an image");
        assertEquals(640, img.getWidth());
        assertEquals(360, img.getHeight());
        // 48 points over ~550 columns at 2 pixels wide: well over a thousand pixels of the
        // truth's colour; the forecast spans a quarter of the width.
        int truthPixels = count(img, LinePlot.color(0));
        int forecastPixels = count(img, LinePlot.color(1));
        assertTrue(truthPixels > 600, "truth pixels: " + truthPixels);
        assertTrue(forecastPixels > 150, "forecast pixels: " + forecastPixels);
        assertTrue(count(img, 0xFFFFFF) > 640 * 360 / 2, "mostly white background");
        assertTrue(count(img, 0x000000) > 300, "black outline and text");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left beside it");
        }
    }

    @Test
    void aSeriesIsDrawnInTheColourGivenAndTheImageIsWhatRenderGives() {
        LinePlot p = new LinePlot(300, 200).series("green", new double[] {0, 1, 2, 3}, new double[] {1, 3, 2, 4}, 0x00AA00);
        BufferedImage img = p.render();
        assertEquals(300, img.getWidth());
        assertEquals(200, img.getHeight());
        assertTrue(count(img, 0x00AA00) > 150, "drawn in the colour given: " + count(img, 0x00AA00));
        assertEquals(0, count(img, LinePlot.color(0)), "not in the default colour");
        BufferedImage again = draw(p, 300, 200).image();
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                assertEquals(img.getRGB(x, y), again.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void aShadeChangesPixelsInsideItsIntervalOnly() {
        double[] x = new double[101];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        double[] y = wave(101);
        Drawn plain = draw(new LinePlot(640, 360).series("s", x, y), 640, 360);
        Drawn shaded = draw(new LinePlot(640, 360).series("s", x, y).shade(40, 60, "test"), 640, 360);
        assertEquals(plain.area(), shaded.area(), "a shade moves nothing");
        int from = (int) Math.floor(shaded.column(40));
        int to = (int) Math.ceil(shaded.column(60));
        assertTrue(to - from > 80, "the interval is a fifth of the width: " + from + ".." + to);
        Rectangle2D area = shaded.area();
        int changedInside = 0;
        for (int row = 0; row < 360; row++) {
            for (int col = 0; col < 640; col++) {
                if (plain.image().getRGB(col, row) != shaded.image().getRGB(col, row)) {
                    assertTrue(col >= from - 1 && col <= to + 1 && row >= area.getMinY() - 1 && row <= area.getMaxY() + 1,
                            "pixel " + col + "," + row + " changed outside the interval " + from + ".." + to);
                    changedInside++;
                }
            }
        }
        double inside = (to - from - 2) * (area.getHeight() - 2);
        assertTrue(changedInside > 0.8 * inside, changedInside + " of ~" + inside + " pixels inside changed");
        // Bad shades.
        assertMessage("fromX must be below toX, got 60.0 to 40.0", () -> new LinePlot(300, 200).shade(60, 40, "x"));
        assertMessage("bounds must be finite", () -> new LinePlot(300, 200).shade(Double.NaN, 40, "x"));
    }

    @Test
    void aDateAxisLabelsTheXValuesAsUtcDates() {
        int months = 144;
        long[] millis = new long[months];
        double[] y = wave(months);
        LocalDate first = LocalDate.of(1949, 1, 1);
        for (int i = 0; i < months; i++) {
            millis[i] = first.plusMonths(i).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        }
        double testFrom = millis[120];
        LinePlot p = new LinePlot(800, 400).xLabel("month").series("passengers", millis, y)
                .shade(testFrom, millis[months - 1], "test");
        Drawn d = draw(p, 800, 400);
        DateAxis axis = assertInstanceOf(DateAxis.class, d.plot().getDomainAxis());
        assertTrue(axis.getLowerBound() <= millis[0] && axis.getUpperBound() >= millis[months - 1],
                "the axis spans the data: " + axis.getRange());
        Graphics2D g = d.image().createGraphics();
        List<? extends ValueTick> ticks;
        try {
            @SuppressWarnings("unchecked")
            List<? extends ValueTick> t = (List<? extends ValueTick>) axis.refreshTicks(g, new AxisState(), d.area(),
                    RectangleEdge.BOTTOM);
            ticks = t;
        } finally {
            g.dispose();
        }
        assertTrue(ticks.size() >= 3, "ticks: " + ticks.size());
        int years = 0;
        for (ValueTick tick : ticks) {
            String text = tick.getText();
            if (text.matches("\\d{4}")) {
                // Each year tick sits on that year's first instant, in UTC.
                assertEquals(Integer.parseInt(text),
                        java.time.Instant.ofEpochMilli((long) tick.getValue()).atZone(ZoneOffset.UTC).getYear(), text);
                years++;
            }
        }
        assertTrue(years >= 3, "year labels among " + ticks.stream().map(ValueTick::getText).toList());
        assertTrue(d.column(testFrom) > d.area().getCenterX(), "the test part is on the right");

        // The same x values on a number axis are plain numbers.
        Drawn numbers = draw(new LinePlot(800, 400).dateAxis(false)
                .series("passengers", java.util.Arrays.stream(millis).asDoubleStream().toArray(), y), 800, 400);
        assertInstanceOf(NumberAxis.class, numbers.plot().getDomainAxis());
        assertTrue(new LinePlot(800, 400).dateAxis(true).series("p", y).chart().getXYPlot().getDomainAxis()
                instanceof DateAxis, "dateAxis(true) turns it on for double x values too");
    }

    @Test
    void nanAndInfiniteValuesLeaveGapsAndDoNotStretchTheAxis() {
        double[] x = {0, 1, 2, 3, 4, 5};
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            Drawn gappy = draw(new LinePlot(400, 250).series("gappy", x, new double[] {1, 2, bad, 4, 5, 6}, 0x00AA00), 400, 250);
            Drawn joined = draw(new LinePlot(400, 250)
                    .series("joined", new double[] {0, 1, 3, 4, 5}, new double[] {1, 2, 4, 5, 6}, 0x00AA00), 400, 250);
            ValueAxis yAxis = gappy.plot().getRangeAxis();
            assertTrue(yAxis.getUpperBound() < 7 && yAxis.getLowerBound() > 0, "y axis " + yAxis.getRange());
            // Between x = 1 and x = 3 the joined series has a segment; the gappy one has none.
            // Only rows of the data area count: the legend's swatch sits under it.
            int a = (int) Math.ceil(gappy.column(1)) + 3;
            int b = (int) Math.floor(gappy.column(3)) - 3;
            int dataBottom = (int) gappy.area().getMaxY();
            int inGap = countRows(gappy.image(), 0x00AA00, a, b, dataBottom);
            int inJoined = countRows(joined.image(), 0x00AA00, a, b, dataBottom);
            assertEquals(0, inGap, "nothing drawn across the gap at " + bad);
            assertTrue(inJoined > (b - a) / 2, "the joined series crosses it: " + inJoined);
            assertTrue(count(gappy.image(), 0x00AA00) > 100, "the rest is drawn");
        }
    }

    /** Pixels near {@code rgb} in columns [x0, x1) and rows above {@code maxRow}. */
    private static int countRows(BufferedImage img, int rgb, int x0, int x1, int maxRow) {
        int n = 0;
        for (int y = 0; y < maxRow; y++) {
            for (int x = x0; x < x1; x++) {
                if (near(img.getRGB(x, y), rgb)) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void emptyPlotsAndConstantSeriesStillRender() {
        assertEquals(200, new LinePlot(200, 150).render().getWidth());
        BufferedImage flat = new LinePlot(200, 150).series("flat", new double[] {3, 3, 3}).render();
        assertEquals(150, flat.getHeight());
        assertTrue(count(flat, LinePlot.color(0)) > 40, "a flat line is drawn");
        assertEquals(300, new LinePlot(300, 200).series("one", new float[] {1f, 2f, 0.5f}).render().getWidth());
    }

    @Test
    void badInputIsRefusedNamingTheProblem() {
        assertMessage("at least 200 x 150 pixels, got 100 x 100", () -> new LinePlot(100, 100));
        assertMessage("series 'bad': 2 x values but 1 y values",
                () -> new LinePlot(300, 200).series("bad", new double[] {1, 2}, new double[] {1}, 0));
        assertMessage("series 'none' has no points", () -> new LinePlot(300, 200).series("none", new double[0]));
        assertMessage("series 'x': x[1] is NaN",
                () -> new LinePlot(300, 200).series("x", new double[] {0, Double.NaN}, new double[] {1, 2}));
        assertMessage("series 'inf': x[0] is Infinity",
                () -> new LinePlot(300, 200).series("inf", Double.POSITIVE_INFINITY, new double[] {1, 2}));
    }

    @Test
    void aFailedWriteLeavesNoFileBehind() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("plot.png"));
        IOException e = assertThrows(IOException.class,
                () -> new LinePlot(300, 200).series("s", new double[] {1, 2}).write(folder));
        assertTrue(e.getMessage().contains("it is a folder"), e.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> new LinePlot(300, 200).series("s", new double[] {1, 2}).write(dir.resolve("no/such/p.png")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(folder), files.toList(), "no temporary file left");
        }
    }
}
