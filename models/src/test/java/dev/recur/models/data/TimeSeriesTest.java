package dev.recur.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimeSeriesTest {

    @TempDir
    Path dir;

    private Path csv(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    /** The shape of the airline file: quoted header and dates, CRLF, no newline at the end. */
    private Path monthly() throws IOException {
        return csv("monthly.csv", "\"Month\",\"Passengers\"\r\n\"1949-01\",112\r\n\"1949-02\",118\r\n\"1949-03\",132\r\n\"1949-04\",129");
    }

    @Test
    void readsAColumnByNameOrIndex() throws IOException {
        TimeSeries byName = TimeSeries.readCsv(monthly(), "Passengers");
        assertArrayEquals(new double[] {112, 118, 132, 129}, byName.values());
        assertEquals("Passengers", byName.column());
        assertArrayEquals(byName.values(), TimeSeries.readCsv(monthly(), "passengers").values()); // any case
        TimeSeries byIndex = TimeSeries.readCsv(monthly(), 1);
        assertArrayEquals(byName.values(), byIndex.values());
        assertEquals("Passengers", byIndex.column());
    }

    @Test
    void withoutAHeaderEveryRowIsData() throws IOException {
        Path f = csv("plain.csv", "1, 2.5\n2, -3e-1\n\n3, .5\n");
        TimeSeries s = TimeSeries.readCsv(f, 1);
        assertArrayEquals(new double[] {2.5, -0.3, 0.5}, s.values());
        assertEquals("column 1", s.column());
        DataException e = assertThrows(DataException.class, () -> TimeSeries.readCsv(f, "Temp"));
        assertTrue(e.getMessage().startsWith(f + ":1: column 'Temp' not found: the file has no header row"), e.getMessage());
    }

    @Test
    void quotedFieldsMayHoldCommasAndQuotes() throws IOException {
        Path f = csv("quoted.csv", "\"Place, city\",\"Say \"\"hi\"\"\",Value\n\"Melbourne, VIC\",\"x\",\" 4.5 \"\n");
        assertArrayEquals(new double[] {4.5}, TimeSeries.readCsv(f, "Value").values());
        assertArrayEquals(new double[] {4.5}, TimeSeries.readCsv(f, 2).values());
        DataException e = assertThrows(DataException.class, () -> TimeSeries.readCsv(f, "Say \"hi\""));
        assertEquals(f + ":2: column 'Say \"hi\"': 'x' is not a number", e.getMessage());
    }

    @Test
    void refusalsNameFileLineAndColumn() throws IOException {
        Path f = monthly();
        assertEquals(f + ":1: column 'Temp' not found; the header has 'Month', 'Passengers'",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(f, "Temp")).getMessage());
        assertEquals(f + ":1: column 5 (counting from 0) not found; the first row has 2: 'Month', 'Passengers'",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(f, 5)).getMessage());

        Path bad = csv("bad.csv", "\"Date\",\"Temp\"\n\"1981-01-01\",20.7\n\"1981-01-02\",?0.2\n");
        assertEquals(bad + ":3: column 'Temp': '?0.2' is not a number",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(bad, "Temp")).getMessage());

        Path nan = csv("nan.csv", "v\n1\nNaN\n");
        assertEquals(nan + ":3: column 'v': 'NaN' is not a number", assertThrows(DataException.class, () -> TimeSeries.readCsv(nan, 0)).getMessage());

        Path emptyField = csv("emptyfield.csv", "a,v\n1,2\n2,\n");
        assertEquals(emptyField + ":3: column 'v': '' is not a number",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(emptyField, "v")).getMessage());

        Path shortRow = csv("short.csv", "a,v\n1,2\n3\n");
        assertEquals(shortRow + ":3: has 1 column(s); column 'v' is number 2",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(shortRow, "v")).getMessage());

        Path unclosed = csv("unclosed.csv", "a,v\n\"1,2\n");
        assertEquals(unclosed + ":2: a quoted field has no closing quote",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(unclosed, "v")).getMessage());

        Path empty = csv("empty.csv", "\r\n\r\n");
        assertEquals(empty + ": empty: no rows", assertThrows(DataException.class, () -> TimeSeries.readCsv(empty, 0)).getMessage());

        Path headerOnly = csv("header.csv", "Month,Passengers\n");
        assertEquals(headerOnly + ": no values below the header row",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(headerOnly, "Passengers")).getMessage());

        Path missing = dir.resolve("missing.csv");
        assertEquals(missing + ": no such file", assertThrows(DataException.class, () -> TimeSeries.readCsv(missing, 0)).getMessage());
    }

    @Test
    void windowsPredictTheNextValueWithAChronologicalSplit() throws DataException {
        // 0, 10, 20, ..., 90: n = 10, 20% test -> cut = 8; W = 3.
        double[] v = new double[10];
        for (int i = 0; i < v.length; i++) {
            v[i] = 10 * i;
        }
        ForecastWindows w = TimeSeries.of("ramp", v).windows(3, 0.2, Normalization.Kind.MIN_MAX);
        assertEquals(8, w.firstTestIndex());
        assertEquals(5, w.trainCount()); // targets at 3..7
        assertEquals(2, w.testCount());  // targets at 8, 9
        // Min-max over the training part only (0..70): x / 70.
        assertEquals(0, w.normalization().shift());
        assertEquals(70, w.normalization().scale());
        float[] in = w.trainInputs();    // [5, 3]
        assertEquals(15, in.length);
        assertArrayEquals(new float[] {0f, 10 / 70f, 20 / 70f}, java.util.Arrays.copyOfRange(in, 0, 3));
        assertEquals(30 / 70f, w.trainTargets()[0]);
        assertEquals(70 / 70f, w.trainTargets()[4]);
        // The first test window reaches back into the training part: 50, 60, 70 -> 80.
        assertArrayEquals(new float[] {50 / 70f, 60 / 70f, 70 / 70f}, java.util.Arrays.copyOfRange(w.testInputs(), 0, 3));
        assertArrayEquals(new float[] {80 / 70f, 90 / 70f}, w.testTargets()); // beyond [0, 1]: fitted on train only
        assertArrayEquals(new double[] {80, 90}, w.denormalize(w.testTargets()), 1e-4);
    }

    @Test
    void zScoreUsesTheTrainingPartsMeanAndDeviation() throws DataException {
        ForecastWindows w = TimeSeries.of("s", 1, 3, 1, 3, 100).windows(1, 0.2, Normalization.Kind.Z_SCORE);
        assertEquals(2, w.normalization().shift());
        assertEquals(1, w.normalization().scale());
        assertArrayEquals(new float[] {-1, 1, -1}, w.trainInputs());
        assertArrayEquals(new float[] {98}, w.testTargets());
        Normalization constant = Normalization.fit(Normalization.Kind.MIN_MAX, new double[] {5, 5, 5}, 0, 3);
        assertEquals(1, constant.scale()); // never divides by zero
        assertEquals(0, constant.apply(5));
    }

    @Test
    void normalizationStorageStringRoundTripsExactly() {
        Normalization n = Normalization.fit(Normalization.Kind.Z_SCORE, new double[] {0.1, 0.7, 2.9}, 0, 3);
        Normalization back = Normalization.fromStorageString(n.toStorageString());
        assertEquals(n.kind(), back.kind());
        assertEquals(n.shift(), back.shift());
        assertEquals(n.scale(), back.scale());
        assertThrows(IllegalArgumentException.class, () -> Normalization.fromStorageString("z-score shift=1"));
        assertThrows(IllegalArgumentException.class, () -> Normalization.fromStorageString("cubic shift=1 scale=2"));
        assertEquals(Normalization.Kind.MIN_MAX, Normalization.Kind.of("min-max"));
    }

    @Test
    void tooShortForOneWindowSaysWhatIsNeeded() throws IOException {
        Path f = csv("short.csv", "v\n1\n2\n3\n4\n5\n");
        TimeSeries s = TimeSeries.readCsv(f, "v");
        DataException e = assertThrows(DataException.class, () -> s.windows(4, 0.2, Normalization.Kind.MIN_MAX));
        assertEquals(f + ": column 'v' has 5 values; the training part (4 values after holding out 1 for testing)"
                + " is too short for one window of 4 and its target (needs at least 5); use a smaller window", e.getMessage());
        assertEquals(1, s.windows(3, 0.2, Normalization.Kind.MIN_MAX).trainCount());
        assertEquals(0, s.windows(4, 0, Normalization.Kind.NONE).testCount());
    }
}
