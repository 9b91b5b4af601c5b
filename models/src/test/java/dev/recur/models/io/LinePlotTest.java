package dev.recur.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinePlotTest {

    @TempDir
    Path dir;

    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void writesAPngOfTheRequestedSizeWithEverySeriesColour() throws IOException {
        double[] truth = new double[48];
        double[] forecast = new double[12];
        for (int i = 0; i < truth.length; i++) {
            truth[i] = 100 + 40 * Math.sin(i / 4.0) + i;
        }
        for (int i = 0; i < forecast.length; i++) {
            forecast[i] = truth[36 + i] + 5;
        }
        Path file = dir.resolve("forecast.png");
        new LinePlot(640, 360).title("Passengers: truth and forecast").xLabel("month").yLabel("passengers")
                .series("truth", truth)
                .series("forecast", 36, forecast)
                .write(file);

        assertTrue(Files.size(file) > 1000);
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, "decodes as an image");
        assertEquals(640, img.getWidth());
        assertEquals(360, img.getHeight());
        // The legend swatch alone is 20 x 4 = 80 pixels of each colour; the lines add far more.
        int truthPixels = count(img, LinePlot.color(0));
        int forecastPixels = count(img, LinePlot.color(1));
        assertTrue(truthPixels > 300, "truth pixels: " + truthPixels);
        assertTrue(forecastPixels > 120, "forecast pixels: " + forecastPixels);
        assertTrue(count(img, 0xFFFFFF) > 640 * 360 / 2, "mostly white background");
        assertTrue(count(img, 0x000000) > 500, "black frame and text");
    }

    @Test
    void linesStayInsideThePlotAreaAndGapsAtNaN() {
        double[] y = {1, 2, Double.NaN, 4, Double.POSITIVE_INFINITY, 6};
        BufferedImage img = new LinePlot(300, 200).series("gappy", new double[] {0, 1, 2, 3, 4, 5}, y, 0x00FF00).render();
        assertEquals(300, img.getWidth());
        assertTrue(count(img, 0x00FF00) > 80, "drawn in the colour given");
        // Nothing drawn in the outer 5-pixel border: the series are clipped to the plot.
        for (int x = 0; x < 300; x++) {
            for (int yy = 0; yy < 5; yy++) {
                assertEquals(0xFFFFFF, img.getRGB(x, yy) & 0xFFFFFF);
            }
        }
    }

    @Test
    void emptyAndConstantSeriesStillRender() {
        assertEquals(200, new LinePlot(200, 150).render().getWidth());
        assertEquals(150, new LinePlot(200, 150).series("flat", new double[] {3, 3, 3}).render().getHeight());
        assertThrows(IllegalArgumentException.class, () -> new LinePlot(100, 100));
        assertThrows(IllegalArgumentException.class,
                () -> new LinePlot(300, 200).series("bad", new double[] {1, 2}, new double[] {1}, 0));
    }

    @Test
    void ticksAreNiceNumbers() {
        assertEquals(1, LinePlot.niceStep(0.8));
        assertEquals(2, LinePlot.niceStep(1.3));
        assertEquals(5, LinePlot.niceStep(4.1));
        assertEquals(10, LinePlot.niceStep(7));
        assertEquals(0.05, LinePlot.niceStep(0.04), 1e-15);
        assertEquals("0.15", LinePlot.format(0.15000000000000002, 0.05));
        assertEquals("0", LinePlot.format(-1e-17, 0.1).replace(".0", ""));
        assertEquals("200", LinePlot.format(200, 50));
        assertEquals("1.00e+08", LinePlot.format(1e8, 2e7));
    }
}
