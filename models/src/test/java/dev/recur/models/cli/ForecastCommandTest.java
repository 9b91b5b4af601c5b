package dev.recur.models.cli;

import dev.recur.models.data.TimeSeries;
import dev.recur.models.data.TimeSeries.DateColumn;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code recur forecast} end to end, on series the tests write, through {@link Recur#run}. */
class ForecastCommandTest {

    /** How every failure of the command begins on stderr. */
    static final String FAILS = "recur forecast: ";

    @TempDir
    Path dir;

    private static final Pattern RESULT = Pattern.compile(
            "test RMSE ([0-9.eE+-]+) vs naive last-value RMSE ([0-9.eE+-]+) \\(ratio ([0-9.]+)\\) over (\\d+) test values of '([^']*)'");

    /**
     * {@code step,value} rows: a sine of period 20 around 50 with amplitude 10, a trend of
     * {@code trend} per step, plus Gaussian noise of standard deviation 1. The naive forecast's
     * error is about 10·2π/20·0.71 ≈ 2.2 from the slope and √2 from the noise, ≈ 2.6 in all; a
     * model that has learnt the sine is left with the noise, ≈ 1.
     */
    private Path sine(int n, double trend) throws IOException {
        Random r = new Random(11);
        StringBuilder sb = new StringBuilder("step,value\n");
        for (int i = 0; i < n; i++) {
            sb.append(i).append(',').append(String.format(Locale.ROOT, "%.4f",
                    50 + trend * i + 10 * Math.sin(2 * Math.PI * i / 20) + r.nextGaussian())).append('\n');
        }
        return TestFiles.write(dir, "sine.csv", sb.toString());
    }

    private Path sine(int n) throws IOException {
        return sine(n, 0);
    }

    /** {@code recur forecast ARGS}, with the checkpoint and the plot in the test's folder unless given. */
    private Streams forecast(String... args) {
        List<String> all = new ArrayList<>(List.of("forecast"));
        all.addAll(Arrays.asList(args));
        if (!all.contains("--checkpoint") && !all.contains("--from")) {
            all.addAll(List.of("--checkpoint", dir.resolve("fc.safetensors").toString()));
        }
        if (!all.contains("--plot")) {
            all.addAll(List.of("--plot", dir.resolve("p.png").toString()));
        }
        return Streams.run(Recur.standard(), all.toArray(String[]::new));
    }

    /** The values printed after the {@code ahead,COLUMN} line. */
    private static double[] ahead(String out) {
        String[] lines = out.split("\n");
        int at = -1;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("ahead,")) {
                at = i;
            }
        }
        assertTrue(at >= 0, "no 'ahead,' line in:\n" + out);
        List<Double> values = new ArrayList<>();
        for (int i = at + 1; i < lines.length && lines[i].matches("\\d+,.*"); i++) {
            assertEquals(values.size() + 1, Integer.parseInt(lines[i].substring(0, lines[i].indexOf(','))), lines[i]);
            values.add(Double.parseDouble(lines[i].substring(lines[i].indexOf(',') + 1)));
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void defaultsBeatTheNaiveForecastOnASeasonalTrendForecastPastTheEndAndDrawIt() throws IOException {
        Path csv = sine(300, 0.05);
        Path plot = dir.resolve("plots/sine.png"); // the folder does not exist yet
        // The defaults but a shorter cap on epochs, for the test's time; the default column is the last one.
        Streams s = forecast("--data", csv.toString(), "--epochs", "60", "--horizon", "7", "--plot", plot.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        String out = s.out();
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), out);
        double model = Double.parseDouble(m.group(1));
        double naive = Double.parseDouble(m.group(2));
        assertEquals(60, Integer.parseInt(m.group(4)), out); // round(300 * 0.2)
        assertEquals("value", m.group(5));
        assertEquals(2.6, naive, 0.6, out);
        // The noise alone is 1: a model that has learnt the sine and the trend is well under the naive ~2.6.
        assertTrue(model < 0.7 * naive, "model RMSE " + model + " vs naive " + naive + "\n" + out);

        double[] future = ahead(out);
        assertEquals(7, future.length, out);
        // Past row 299 the sine goes on: 50 + 0.05 t + 10 sin(2πt/20) within a few noise deviations.
        for (int k = 0; k < future.length; k++) {
            int t = 300 + k;
            double expected = 50 + 0.05 * t + 10 * Math.sin(2 * Math.PI * t / 20);
            assertEquals(expected, future[k], 4.0, "step " + (k + 1) + "\n" + out);
        }

        BufferedImage image = ImageIO.read(plot.toFile());
        assertNotNull(image, "not a PNG ImageIO can read: " + plot);
        assertEquals(1000, image.getWidth());
        assertEquals(500, image.getHeight());
    }

    @Test
    void validationIsCarvedFromTheTrainingPartAndTheTestIsForecastOnce() throws IOException {
        Path csv = sine(120);
        Path checkpoint = dir.resolve("fc.safetensors");
        Streams s = forecast("--data", csv.toString(), "--window", "8", "--hidden", "8", "--epochs", "3");
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        // 120 values, 24 for testing (rows 96..119); 88 windows before them, the last 9 for validation.
        assertTrue(s.out().contains("79 training windows (targets at rows 8..86), 9 validation windows (87..95),"
                + " 24 test values (96..119)"), s.out());
        assertEquals(1, s.out().split("test RMSE", -1).length - 1, "the test figure is printed once:\n" + s.out());
        List<String> metrics = Files.readAllLines(Trainer.sibling(checkpoint, ".metrics", ".jsonl"));
        assertEquals(3, metrics.stream().filter(l -> l.contains("\"validation_loss\":")).count(),
                String.join("\n", metrics));
        assertFalse(metrics.stream().anyMatch(l -> l.contains("test")), String.join("\n", metrics));
        assertNotNull(ImageIO.read(dir.resolve("fc.loss.png").toFile()), "a loss curve");
        assertTrue(Files.isRegularFile(dir.resolve("fc.best.safetensors")), "the best weights are kept");
    }

    @Test
    void aResumedRunEndsBitForBitWhereAnUninterruptedOneEnds() throws IOException {
        Path csv = sine(80);
        Path whole = dir.resolve("whole.safetensors");
        Path parts = dir.resolve("parts.safetensors");
        String[] settings = {"--data", csv.toString(), "--window", "6", "--hidden", "8", "--epochs", "5",
            "--batch", "8", "--dropout", "0", "--layers", "2"};
        Streams a = forecast(concat(settings, "--checkpoint", whole.toString()));
        assertEquals(Recur.EXIT_OK, a.status, a.err() + a.out());
        Streams paused = forecast(concat(settings, "--checkpoint", parts.toString(), "--stop-after", "11"));
        assertEquals(Recur.EXIT_OK, paused.status, paused.err() + paused.out());
        assertFalse(paused.out().contains("test RMSE"), "no test figure before the run ends:\n" + paused.out());
        Streams b = forecast(concat(settings, "--checkpoint", parts.toString(), "--resume"));
        assertEquals(Recur.EXIT_OK, b.status, b.err() + b.out());
        assertTrue(b.out().contains("resuming from step 11 of "), b.out());
        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        assertEquals(x.step(), y.step());
        Matcher ma = RESULT.matcher(a.out());
        Matcher mb = RESULT.matcher(b.out());
        assertTrue(ma.find() && mb.find(), a.out() + b.out());
        assertEquals(ma.group(1), mb.group(1), "same test RMSE");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void fromASavedModelForecastsWhatTheTrainingRunForecast() throws IOException {
        Path csv = sine(100);
        Path checkpoint = dir.resolve("fc.safetensors");
        Streams trained = forecast("--data", csv.toString(), "--window", "8", "--hidden", "8", "--epochs", "4",
                "--horizon", "5");
        assertEquals(Recur.EXIT_OK, trained.status, trained.err() + trained.out());
        double[] expected = ahead(trained.out());
        assertEquals(5, expected.length);

        Path plot = dir.resolve("from.png");
        Streams s = Streams.run(Recur.standard(), "forecast", "--from", checkpoint.toString(), "--data",
                csv.toString(), "--horizon", "5", "--plot", plot.toString());
        assertEquals(Recur.EXIT_OK, s.status, s.err() + s.out());
        assertArrayEquals(expected, ahead(s.out()), s.out());
        assertFalse(s.out().contains("test RMSE"), s.out());
        assertNotNull(ImageIO.read(plot.toFile()), "a PNG");

        // Fewer steps are the first steps of the longer forecast.
        Streams three = Streams.run(Recur.standard(), "forecast", "--from", checkpoint.toString(), "--data",
                csv.toString(), "--horizon", "3", "--plot", plot.toString());
        assertArrayEquals(Arrays.copyOf(expected, 3), ahead(three.out()), three.out());
    }

    @Test
    void fromRefusesATrainLmCheckpointNamingBothKinds() throws IOException {
        Path text = TestFiles.write(dir, "text.txt", "the cat sat on the mat. ".repeat(40));
        Path lm = dir.resolve("lm.safetensors");
        Streams t = Streams.run(Recur.standard(), "train-lm", "--data", text.toString(), "--hidden", "4",
                "--embedding", "2", "--layers", "1", "--batch", "2", "--window", "4", "--steps", "2",
                "--sample-length", "2", "--checkpoint", lm.toString());
        assertEquals(Recur.EXIT_OK, t.status, t.err());
        Streams s = Streams.run(Recur.standard(), "forecast", "--from", lm.toString(), "--data",
                sine(40).toString(), "--horizon", "3");
        s.assertOneLineFailure(FAILS, "lm.safetensors", "holds a char-lm model (made by recur train-lm)",
                "not a sequence-regressor model (made by recur forecast)");
        assertEquals("", s.out());
    }

    @Test
    void trainingOverAnotherKindOfCheckpointIsRefused() throws IOException {
        Path checkpoint = dir.resolve("sent.safetensors");
        Checkpoint.builder().modelConfig("{\"model\":\"sequence-classifier\"}").build().write(checkpoint);
        byte[] before = Files.readAllBytes(checkpoint);
        forecast("--data", sine(40).toString(), "--window", "4", "--hidden", "4", "--epochs", "1", "--checkpoint",
                checkpoint.toString()).assertOneLineFailure(FAILS, "sequence-classifier", "not overwriting");
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
    }

    /** {@code month,value} rows from 2001-01, one a month: the sine of {@link #sine(int, double)} without noise. */
    private Path monthly(int n) throws IOException {
        StringBuilder sb = new StringBuilder("\"month\",\"value\"\n");
        for (int i = 0; i < n; i++) {
            sb.append('"').append(YearMonth.of(2001, 1).plusMonths(i)).append("\",").append(String.format(Locale.ROOT,
                    "%.4f", 50 + 10 * Math.sin(2 * Math.PI * i / 12))).append('\n');
        }
        return TestFiles.write(dir, "monthly.csv", sb.toString());
    }

    private static double month(int year, int month) {
        return YearMonth.of(year, month).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }

    @Test
    void thePlotOfMonthlyDataHasTheMonthsOnItsXAxisTheFutureMonthByMonthAndTheTestPartShaded() throws IOException {
        TimeSeries series = TimeSeries.readCsv(monthly(40), "value", DateColumn.AUTO); // 2001-01 .. 2004-04
        double[] testForecast = new double[8];  // rows 32..39: 2003-09 .. 2004-04
        double[] future = {1, 2, 3, 4, 5};      // 2004-05 .. 2004-09, across months of 31 and 30 days
        ForecastCommand.Figure f = ForecastCommand.figure(series, 32, testForecast, future, "t");
        assertTrue(f.dates());
        assertEquals("month", f.xLabel());
        assertEquals("value", f.yLabel());
        assertEquals(3, f.lines().size());
        double[] x = f.lines().get(0).x();
        assertEquals(40, x.length);
        for (int i = 0; i < 40; i++) {
            assertEquals(month(2001 + i / 12, 1 + i % 12), x[i], "row " + i);
        }
        assertArrayEquals(Arrays.copyOfRange(x, 32, 40), f.lines().get(1).x(), "the test forecasts at the test rows");
        // Past the end, joined to the last row: 2004-04, then the five months after it.
        assertArrayEquals(new double[] {month(2004, 4), month(2004, 5), month(2004, 6), month(2004, 7), month(2004, 8),
            month(2004, 9)}, f.lines().get(2).x());
        assertArrayEquals(new double[] {series.values()[39], 1, 2, 3, 4, 5}, f.lines().get(2).y());

        // The shades: "test" from halfway between 2003-08 and 2003-09 to about halfway into the first future
        // month; "forecast" from a thin gap after it to past 2004-09 by half a month.
        assertEquals(2, f.shades().size());
        ForecastCommand.Figure.Shade test = f.shades().get(0);
        assertEquals("test", test.label());
        assertEquals((x[31] + x[32]) / 2, test.from());
        double boundary = (x[39] + month(2004, 5)) / 2;
        assertTrue(test.to() > x[39] && test.to() < boundary, "test ends after its last row");
        for (double t : f.lines().get(1).x()) {
            assertTrue(t > test.from() && t < test.to(), "test row inside the shade");
        }
        assertTrue(x[31] < test.from(), "the last training row outside it");
        ForecastCommand.Figure.Shade ahead = f.shades().get(1);
        assertEquals("forecast", ahead.label());
        assertTrue(ahead.from() > boundary && ahead.from() < month(2004, 5), "the forecast starts before its first row");
        assertEquals(boundary - test.to(), ahead.from() - boundary, 1, "a gap centred on the boundary");
        assertEquals(month(2004, 9) + (month(2004, 9) - month(2004, 8)) / 2, ahead.to());

        // Drawn: the shade's grey (a quarter of 0x80 over white, ≈ 0xDF) fills the test part's columns of the
        // plot and no column left of it; the data area's background is white.
        BufferedImage image = f.draw().render();
        int row = image.getHeight() / 8; // near the top of the data area: no line of this sine goes that high
        int firstGrey = -1;
        int greys = 0;
        for (int c = 0; c < image.getWidth(); c++) {
            int rgb = image.getRGB(c, row) & 0xFFFFFF;
            if (rgb == 0xDFDFDF || rgb == 0xE0E0E0 || rgb == 0xDEDEDE) {
                firstGrey = firstGrey < 0 ? c : firstGrey;
                greys++;
            }
        }
        // The x axis spans 2001-01 .. 2004-09 (44 months) with small margins, over about nine tenths of the
        // image's width: the shades, 13.5 months of it, start about 30.5 / 44 of the way along.
        assertTrue(greys > 0.2 * image.getWidth() && greys < 0.32 * image.getWidth(), greys + " grey columns");
        assertTrue(firstGrey > 0.6 * image.getWidth() && firstGrey < 0.72 * image.getWidth(), "first grey column "
                + firstGrey);
    }

    @Test
    void aSeriesWithoutDatesIsPlottedByRowAndDateColumnNoneTurnsDatesOff() throws IOException {
        TimeSeries rows = TimeSeries.readCsv(sine(30), "value", DateColumn.AUTO); // step,value: the steps are no dates
        ForecastCommand.Figure f = ForecastCommand.figure(rows, 24, new double[6], new double[] {7, 8}, "t");
        assertFalse(f.dates());
        assertEquals("row", f.xLabel());
        assertEquals(0, f.lines().get(0).x()[0]);
        assertEquals(29, f.lines().get(0).x()[29]);
        assertArrayEquals(new double[] {29, 30, 31}, f.lines().get(2).x());
        assertEquals(23.5, f.shades().get(0).from());
        assertEquals(29.5, f.shades().get(0).to(), 0.1);
        assertEquals(29.5, f.shades().get(1).from(), 0.1);
        assertTrue(f.shades().get(0).to() < f.shades().get(1).from(), "a gap between the two");
        assertEquals(31.5, f.shades().get(1).to());

        Path csv = monthly(40);
        Streams s = forecast("--data", csv.toString(), "--date-column", "none", "--window", "4", "--hidden", "4",
                "--epochs", "1", "--horizon", "2");
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        assertTrue(s.out().contains("column 'value', 40 values}"), s.out());
        Streams dated = forecast("--data", csv.toString(), "--window", "4", "--hidden", "4", "--epochs", "1",
                "--horizon", "2");
        assertEquals(Recur.EXIT_OK, dated.status, dated.err());
        assertTrue(dated.out().contains("column 'value', 40 values, dated by 'month' from 2001-01-01 to 2004-04-01}"),
                dated.out());
        assertNotNull(ImageIO.read(dir.resolve("p.png").toFile()), "a PNG");
        // --from reads the dates too, and takes --date-column.
        Streams from = Streams.run(Recur.standard(), "forecast", "--from", dir.resolve("fc.safetensors").toString(),
                "--data", csv.toString(), "--date-column", "0", "--horizon", "2", "--plot",
                dir.resolve("from.png").toString());
        assertEquals(Recur.EXIT_OK, from.status, from.err());
        assertTrue(from.out().contains("dated by 'month'"), from.out());
    }

    @Test
    void aBadDateIsOneLineNamingFileAndLine() throws IOException {
        Path csv = TestFiles.write(dir, "bad-date.csv", "Month,Passengers\n1949-01,112\n1949-02,118\n1949-13,132\n");
        forecast("--data", csv.toString()).assertOneLineFailure(FAILS, csv + ":4:", "date column 'Month'",
                "'1949-13' is not a date");
        Path unordered = TestFiles.write(dir, "unordered.csv", "Month,Passengers\n1949-02,112\n1949-01,118\n");
        forecast("--data", unordered.toString()).assertOneLineFailure(FAILS, unordered + ":3:", "time order");
        forecast("--data", csv.toString(), "--date-column", "Day").assertOneLineFailure(FAILS, csv + ":1:",
                "date column 'Day' not found", "'Month', 'Passengers'");
        forecast("--data", csv.toString(), "--date-column", "1").assertOneLineFailure(FAILS, "is the value column");
    }

    @Test
    void selectsAColumnByNameOrNumber() throws IOException {
        Path csv = TestFiles.write(dir, "two.csv", "\"a\",\"b\"\n" + "1,10\n2,20\n3,30\n4,40\n5,50\n6,60\n7,70\n8,80\n9,90\n10,100\n");
        for (String column : List.of("a", "A", "0")) {
            Streams s = forecast("--data", csv.toString(), "--column", column, "--window", "3", "--epochs", "1",
                    "--hidden", "4");
            assertEquals(Recur.EXIT_OK, s.status, s.err());
            assertTrue(s.out().contains("column 'a', 10 values"), s.out());
            assertTrue(s.out().contains("naive last-value RMSE 1.000 "), s.out()); // steps of 1 in column a
        }
    }

    @Test
    void missingFileIsOneLine() {
        Path missing = dir.resolve("nope.csv");
        forecast("--data", missing.toString()).assertOneLineFailure(FAILS, missing.toString(), "no such file");
        Path model = dir.resolve("nope.safetensors");
        Streams.run(Recur.standard(), "forecast", "--from", model.toString(), "--data", missing.toString(),
                "--horizon", "2").assertOneLineFailure(FAILS, "nope.safetensors");
    }

    @Test
    void emptyFileIsOneLine() throws IOException {
        Path empty = TestFiles.write(dir, "empty.csv", "");
        forecast("--data", empty.toString()).assertOneLineFailure(FAILS, "empty");
    }

    @Test
    void wrongColumnNameListsTheColumns() throws IOException {
        Path csv = sine(30);
        forecast("--data", csv.toString(), "--column", "temp")
                .assertOneLineFailure(FAILS, "column 'temp' not found", "'step', 'value'");
    }

    @Test
    void columnNumberBeyondTheRowIsOneLine() throws IOException {
        Path csv = sine(30);
        forecast("--data", csv.toString(), "--column", "5").assertOneLineFailure(FAILS, "column 5", "'step', 'value'");
    }

    @Test
    void seriesTooShortForOneWindowIsOneLine() throws IOException {
        Path csv = sine(28); // 22 training values after holding out 6: no window of 24 and its target
        forecast("--data", csv.toString()).assertOneLineFailure(FAILS, "too short for one window of 24");
        forecast("--data", csv.toString(), "--window", "21")
                .assertOneLineFailure(FAILS, "too few to hold 1 out for validation");
    }

    @Test
    void nonNumericValueIsOneLineNamingTheLine() throws IOException {
        Path csv = TestFiles.write(dir, "bad.csv", "month,passengers\n1,112\n2,11B\n3,132\n");
        forecast("--data", csv.toString()).assertOneLineFailure(FAILS, csv + ":3:", "'11B' is not a number");
    }

    @Test
    void unwritablePlotIsOneLineBeforeTraining() throws IOException {
        Path csv = sine(40);
        Path blocker = TestFiles.write(dir, "file.txt", "a file, not a folder");
        Streams s = forecast("--data", csv.toString(), "--epochs", "1", "--hidden", "4", "--window", "4", "--plot",
                blocker.resolve("x.png").toString());
        s.assertOneLineFailure(FAILS, "x.png");
        assertFalse(Files.exists(dir.resolve("fc.safetensors")), "no training before the failure");
    }

    @Test
    void divergenceIsOneLineNamingTheStep() throws IOException {
        Path csv = sine(40);
        // Un-normalised values near 50 and an absurd rate: the weights overflow within two steps.
        forecast("--data", csv.toString(), "--normalize", "none", "--target", "value", "--lr", "1e30", "--hidden",
                "4", "--window", "4").assertOneLineFailure(FAILS, "training diverged at step ", "lower learning rate");
    }

    @Test
    void badArgumentsExitTwoWithOneLineBeforeAnyWork() throws IOException {
        Path csv = sine(30);
        Path model = dir.resolve("model.safetensors");
        String[][] cases = {
            {"forecast", "--data"},
            {"forecast"},
            {"forecast", "--data", csv.toString(), "--window", "0"},
            {"forecast", "--data", csv.toString(), "--normalize", "log"},
            {"forecast", "--data", csv.toString(), "--target", "ratio"},
            {"forecast", "--data", csv.toString(), "--test-fraction", "0"},
            {"forecast", "--data", csv.toString(), "--validation-fraction", "1"},
            {"forecast", "--data", csv.toString(), "--epochs", "ten"},
            {"forecast", "--data", csv.toString(), "--lr", "-1"},
            {"forecast", "--data", csv.toString(), "--horizon", "-3"},
            {"forecast", "--data", csv.toString(), "--column", ""},
            {"forecast", "--data", csv.toString(), "--date-column", " "},
            {"forecast", "--data", csv.toString(), "--bidirectional"},
            {"forecast", "--data", csv.toString(), "--hiden", "8"},
            {"forecast", "--data", csv.toString(), "extra"},
            {"forecast", "--from", model.toString(), "--data", csv.toString(), "--horizon", "3", "--epochs", "5"},
            {"forecast", "--from", model.toString(), "--data", csv.toString(), "--horizon", "3", "--window", "5"},
            {"forecast", "--from", model.toString(), "--data", csv.toString()},
        };
        String[] named = {"--data", "--data", "--window", "--normalize", "--target", "--test-fraction",
            "--validation-fraction", "--epochs", "--lr", "--horizon", "--column", "--date-column", "--bidirectional",
            "did you mean --hidden", "extra", "'--epochs' trains a model", "'--window' trains a model",
            "'--horizon' is required with --from"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = Arrays.copyOf(cases[i], cases[i].length + 2);
            args[args.length - 2] = "--checkpoint";
            args[args.length - 1] = dir.resolve("fc.safetensors").toString();
            if (Arrays.asList(cases[i]).contains("--from")) {
                args = cases[i];
            }
            Streams s = Streams.run(Recur.standard(), args);
            String what = Arrays.toString(cases[i]);
            assertEquals(Recur.EXIT_USAGE, s.status, what + ": " + s.err());
            assertEquals(2, s.errLines().length, what + ": " + s.err());
            assertTrue(s.err().startsWith(FAILS), s.err());
            assertTrue(s.err().contains(named[i]), what + ": " + s.err());
            assertEquals("", s.out(), what);
            assertFalse(Files.exists(dir.resolve("fc.safetensors")), "no work done for " + what);
        }
    }

    @Test
    void helpListsTheOptionsWithTheirDefaults() {
        Streams s = Streams.run(Recur.standard(), "help", "forecast");
        assertEquals(Recur.EXIT_OK, s.status, s.err());
        for (String o : List.of("--from", "--horizon", "--patience", "--validation-fraction", "--target",
                "--checkpoint", "--resume", "--stop-after", "--keep", "--backend")) {
            assertTrue(s.out().contains(o), o + " in:\n" + s.out());
        }
        assertTrue(s.out().contains("Default: delta"), s.out());
    }

    @Test
    void rmseHelpers() {
        double[] values = {1, 2, 4, 7};
        assertEquals(Math.sqrt((4 + 9) / 2.0), ForecastCommand.naiveRmse(values, 2), 1e-12);
        assertEquals(Math.sqrt((1 + 4) / 2.0), ForecastCommand.rmse(new double[] {3, 5}, values, 2), 1e-12);
        assertEquals("45.32", ForecastCommand.number(45.3217));
        assertEquals("1.000", ForecastCommand.number(1));
        assertEquals("0.1235", ForecastCommand.number(0.12345));
        assertEquals("1235", ForecastCommand.number(1234.5));
    }
}
