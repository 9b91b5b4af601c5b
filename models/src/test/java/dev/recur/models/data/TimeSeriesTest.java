package dev.recur.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import dev.recur.models.data.TimeSeries.DateColumn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    private static long t(String iso) {
        return Instant.parse(iso).toEpochMilli();
    }

    @Test
    void readsTheFirstColumnsDatesWhenAskedAndStepsPastTheEndByCalendarMonths() throws IOException {
        assertFalse(TimeSeries.readCsv(monthly(), "Passengers").hasTimes(), "no dates unless asked");
        TimeSeries s = TimeSeries.readCsv(monthly(), "Passengers", DateColumn.AUTO);
        assertTrue(s.hasTimes());
        assertEquals("Month", s.timeColumn());
        assertArrayEquals(new long[] {t("1949-01-01T00:00:00Z"), t("1949-02-01T00:00:00Z"), t("1949-03-01T00:00:00Z"),
            t("1949-04-01T00:00:00Z")}, s.times());
        assertArrayEquals(new long[] {t("1949-05-01T00:00:00Z"), t("1949-06-01T00:00:00Z"), t("1950-05-01T00:00:00Z")},
                new long[] {s.timesAfter(13)[0], s.timesAfter(13)[1], s.timesAfter(13)[12]});
        assertEquals(s.times()[0], TimeSeries.readCsv(monthly(), 1, DateColumn.named("month")).times()[0]);
        assertEquals(s.times()[0], TimeSeries.readCsv(monthly(), 1, DateColumn.at(0)).times()[0]);
        assertTrue(s.toString().endsWith("dated by 'Month' from 1949-01-01 to 1949-04-01}"), s.toString());

        // The value column first, or a first column of plain numbers: no dates.
        assertFalse(TimeSeries.readCsv(csv("v.csv", "v,Month\n1,1949-01\n2,1949-02\n"), 0, DateColumn.AUTO).hasTimes());
        assertFalse(TimeSeries.readCsv(csv("n.csv", "step,v\n1949,1\n1950,2\n"), 1, DateColumn.AUTO).hasTimes());
        assertThrows(IllegalStateException.class, () -> TimeSeries.readCsv(monthly(), "Passengers").timesAfter(1));
    }

    @Test
    void readsEveryDateFormAndStepsByTheMedianOrByMonthEnds() throws IOException {
        TimeSeries daily = TimeSeries.readCsv(csv("d.csv", "d,v\n1981-01-01,1\n1981-01-02,2\n1981-01-04,3\n1981-01-05,4\n"),
                "v", DateColumn.AUTO);
        assertArrayEquals(new long[] {t("1981-01-06T00:00:00Z"), t("1981-01-07T00:00:00Z")}, daily.timesAfter(2),
                "the median step, one day, past a gap");
        TimeSeries times = TimeSeries.readCsv(csv("t.csv", "at,v\n2024-03-01 06:00,1\n2024-03-01T06:30:15,2\n"
                + "2024-03-01T07:00:00Z,3\n2024-03-01T09:00+01:00,4\n2024-03-01 09:00:00.5,5\n"), "v", DateColumn.AUTO);
        assertArrayEquals(new long[] {t("2024-03-01T06:00:00Z"), t("2024-03-01T06:30:15Z"), t("2024-03-01T07:00:00Z"),
            t("2024-03-01T08:00:00Z"), t("2024-03-01T09:00:00.500Z")}, times.times());
        TimeSeries monthEnds = TimeSeries.readCsv(csv("e.csv", "d,v\n2023-12-31,1\n2024-01-31,2\n2024-02-29,3\n"),
                "v", DateColumn.AUTO);
        assertArrayEquals(new long[] {t("2024-03-31T00:00:00Z"), t("2024-04-30T00:00:00Z")}, monthEnds.timesAfter(2));
        TimeSeries quarterly = TimeSeries.readCsv(csv("q.csv", "d,v\n2023-01-15,1\n2023-04-15,2\n2023-07-15,3\n"),
                "v", DateColumn.AUTO);
        assertArrayEquals(new long[] {t("2023-10-15T00:00:00Z"), t("2024-01-15T00:00:00Z")}, quarterly.timesAfter(2));
    }

    @Test
    void dateRefusalsAreOneLineNamingFileAndLine() throws IOException {
        Path bad = csv("bad.csv", "\"Month\",\"Passengers\"\n\"1949-01\",112\n\"1949-13\",118\n");
        assertEquals(bad + ":3: date column 'Month': '1949-13' is not a date or time (yyyy-MM, yyyy-MM-dd,"
                        + " yyyy-MM-dd HH:mm[:ss] or ISO such as 2024-03-01T12:00Z)",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(bad, "Passengers", DateColumn.AUTO)).getMessage());
        Path empty = csv("empty.csv", "Month,v\n1949-01,1\n,2\n");
        assertEquals(empty + ":3: date column 'Month': '' is not a date or time (yyyy-MM, yyyy-MM-dd,"
                        + " yyyy-MM-dd HH:mm[:ss] or ISO such as 2024-03-01T12:00Z)",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(empty, "v", DateColumn.AUTO)).getMessage());
        Path back = csv("back.csv", "Month,v\n1949-01,1\n1949-03,2\n1949-03,3\n");
        assertEquals(back + ":4: date column 'Month': '1949-03' is not later than the row before's (1949-03-01);"
                        + " the rows must be in time order",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(back, "v", DateColumn.AUTO)).getMessage());
        Path shortRow = csv("short.csv", "v,Month\n1,1949-01\n2\n");
        assertEquals(shortRow + ":3: has 1 column(s); date column 'Month' is number 2",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(shortRow, "v", DateColumn.named("Month")))
                        .getMessage());
        Path f = monthly();
        assertEquals(f + ":1: date column 'Day' not found; the header has 'Month', 'Passengers'",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(f, 1, DateColumn.named("Day"))).getMessage());
        assertEquals(f + ":1: date column 2 (counting from 0) not found; the first row has 2: 'Month', 'Passengers'",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(f, 1, DateColumn.at(2))).getMessage());
        assertEquals(f + ":1: the date column is the value column (number 1 counting from 0); select another, or none",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(f, 1, DateColumn.at(1))).getMessage());
        Path noHeader = csv("nh.csv", "1949-01,1\n1949-02,2\n");
        assertEquals(2, TimeSeries.readCsv(noHeader, 1, DateColumn.AUTO).times().length, "no header: the first row is data");
        assertEquals(noHeader + ":1: date column 'Month' not found: the file has no header row (the first row is data);"
                        + " select the date column by number",
                assertThrows(DataException.class, () -> TimeSeries.readCsv(noHeader, 1, DateColumn.named("Month")))
                        .getMessage());
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

    @Test
    void aRowWithAnotherFieldCountOrAnAbsurdValueIsRefusedNamingTheLine(@org.junit.jupiter.api.io.TempDir Path dir)
            throws IOException {
        Path f = dir.resolve("s.csv");
        Files.writeString(f, "t,v\n1,2\n2,3,4\n3,5\n");
        DataException e = assertThrows(DataException.class, () -> TimeSeries.readCsv(f, "v"));
        assertTrue(e.getMessage().contains("s.csv:3") || e.getMessage().contains("line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("has 3 field(s), the first row 2"), e.getMessage());
        Files.writeString(f, "t,v\n1,2\n2,1e300\n3,5\n");
        e = assertThrows(DataException.class, () -> TimeSeries.readCsv(f, "v"));
        assertTrue(e.getMessage().contains("1e300 is beyond"), e.getMessage());
    }
}
