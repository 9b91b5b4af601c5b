package dev.recur.models.data;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One numeric column of a CSV file, in row order, for forecasting.
 *
 * <h2>CSV</h2>
 * Comma-separated, one row per line (LF or CRLF), fields optionally in double quotes with
 * {@code ""} for a quote inside; quoted fields cannot span lines. Blank lines are skipped. The
 * first row is a header when the selected column's field in it is not a number (always, when
 * the column is selected by name). Values are decimal numbers ({@code 12}, {@code -0.5},
 * {@code 1e3}), spaces around them allowed; anything else, including an empty field,
 * {@code NaN} or {@code Infinity}, is an error naming the line.
 *
 * <h2>Dates</h2>
 * Optionally, another column gives each row's date or time ({@link DateColumn}), read as an
 * instant in UTC: {@code yyyy-MM} (the first of the month), {@code yyyy-MM-dd},
 * {@code yyyy-MM-dd HH:mm[:ss[.fff]]} (a space or {@code T} between date and time), or ISO with
 * an offset ({@code 2024-03-01T12:00:00Z}, {@code 2024-03-01T12:00+01:00}). Every row must
 * have one, later than the row before; anything else is an error naming the line. Without a
 * date column the rows are simply numbered.
 *
 * <pre>
 *   TimeSeries s = TimeSeries.readCsv(Path.of("airline-passengers.csv"), "Passengers", DateColumn.AUTO);
 *   ForecastWindows w = s.windows(12, 0.2, Normalization.Kind.MIN_MAX);
 *   long[] next = s.timesAfter(12); // the twelve months after the last row's
 * </pre>
 * Immutable.
 */
public final class TimeSeries {

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private static final Pattern YEAR_MONTH = Pattern.compile("\\d{4}-\\d{2}");
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final Pattern DATE_SPACE_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d.*");
    private static final String DATE_FORMS = "yyyy-MM, yyyy-MM-dd, yyyy-MM-dd HH:mm[:ss] or ISO such as"
            + " 2024-03-01T12:00Z";
    private static final long DAY = 86_400_000L;

    private final String source;
    private final String column;
    private final double[] values;  // [n]
    private final String timeColumn; // null without dates
    private final long[] times;      // [n], epoch milliseconds, increasing; null without dates

    private TimeSeries(String source, String column, double[] values, String timeColumn, long[] times) {
        this.source = source;
        this.column = column;
        this.values = values;
        this.timeColumn = timeColumn;
        this.times = times;
    }

    /**
     * Which CSV column holds each row's date or time: {@link #NONE}, {@link #AUTO}, or one by
     * header name ({@link #named}) or number ({@link #at}). Immutable.
     */
    public static final class DateColumn {

        /** No dates: the rows are numbered. */
        public static final DateColumn NONE = new DateColumn(null, -1);
        /**
         * The first column, when it is not the value column and its first value below the
         * header reads as a date or time; otherwise none. Once chosen, every row must have one.
         */
        public static final DateColumn AUTO = new DateColumn(null, 0);

        private final String name; // null: by number, or NONE / AUTO
        private final int index;

        private DateColumn(String name, int index) {
            this.name = name;
            this.index = index;
        }

        /** The column with this header text (exact match first, then ignoring case). */
        public static DateColumn named(String name) {
            return new DateColumn(Objects.requireNonNull(name, "name"), -1);
        }

        /**
         * Column {@code index}, counting from 0.
         *
         * @throws IllegalArgumentException for a negative index
         */
        public static DateColumn at(int index) {
            if (index < 0) {
                throw new IllegalArgumentException("date column index must be >= 0, got " + index);
            }
            return new DateColumn(null, index);
        }

        @Override
        public String toString() {
            return this == NONE ? "no date column" : this == AUTO ? "the first column if it holds dates"
                    : name != null ? "date column '" + name + "'" : "date column " + index;
        }
    }

    /**
     * A series of in-memory values.
     *
     * @throws IllegalArgumentException when a value is not finite
     */
    public static TimeSeries of(String name, double... values) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(name + ": value " + i + " is " + values[i]);
            }
        }
        return new TimeSeries(name, name, values.clone(), null, null);
    }

    /**
     * Reads the column called {@code column} (the header's text, without quotes; exact match
     * first, then ignoring case).
     *
     * @throws DataException for a missing, empty or non-UTF-8 file, no header, a column not in
     *                       the header (listing those that are), a short row, a value that is
     *                       not a number, or no values
     */
    public static TimeSeries readCsv(Path file, String column) throws DataException {
        return readCsv(file, column, DateColumn.NONE);
    }

    /**
     * Reads the column called {@code column}, as {@link #readCsv(Path, String)}, with each row's
     * date or time from the column {@code dates} selects.
     *
     * @throws DataException as {@link #readCsv(Path, String)}, and for a date column not in the
     *                       file or the same as the value column, or a row whose date is missing,
     *                       not a date, or not later than the row before's
     */
    public static TimeSeries readCsv(Path file, String column, DateColumn dates) throws DataException {
        Objects.requireNonNull(dates, "dates");
        String source = file.toString();
        List<Row> rows = rows(source, TextFiles.readUtf8(file));
        Row header = rows.get(0);
        int index = find(header.fields, column);
        if (index < 0) {
            boolean numeric = header.fields.stream().allMatch(f -> NUMBER.matcher(f.strip()).matches());
            throw new DataException(source, header.line, numeric
                    ? "column '" + column + "' not found: the file has no header row (the first row is all numbers); select the column by number"
                    : "column '" + column + "' not found; the header has " + describe(header.fields));
        }
        return column(source, rows, index, true, "'" + header.fields.get(index) + "'", dates);
    }

    /**
     * Reads column {@code index} (0-based). The first row is taken as a header when its field
     * in this column is not a number.
     *
     * @throws DataException as {@link #readCsv(Path, String)}, and for an index beyond the
     *                       first row's columns
     */
    public static TimeSeries readCsv(Path file, int index) throws DataException {
        return readCsv(file, index, DateColumn.NONE);
    }

    /**
     * Reads column {@code index} (0-based), as {@link #readCsv(Path, int)}, with each row's date
     * or time from the column {@code dates} selects.
     *
     * @throws DataException as {@link #readCsv(Path, String, DateColumn)}
     */
    public static TimeSeries readCsv(Path file, int index, DateColumn dates) throws DataException {
        Objects.requireNonNull(dates, "dates");
        if (index < 0) {
            throw new IllegalArgumentException("column index must be >= 0, got " + index);
        }
        String source = file.toString();
        List<Row> rows = rows(source, TextFiles.readUtf8(file));
        Row first = rows.get(0);
        if (index >= first.fields.size()) {
            throw new DataException(source, first.line, "column " + index + " (counting from 0) not found; the first row has "
                    + first.fields.size() + ": " + describe(first.fields));
        }
        boolean header = !NUMBER.matcher(first.fields.get(index).strip()).matches();
        String name = header ? "'" + first.fields.get(index) + "'" : "column " + index;
        return column(source, rows, index, header, name, dates);
    }

    /** The index of the header field {@code name} (exact match first, then ignoring case), or -1. */
    private static int find(List<String> fields, String name) {
        int index = fields.indexOf(name);
        for (int i = 0; i < fields.size() && index < 0; i++) {
            if (fields.get(i).equalsIgnoreCase(name)) {
                index = i;
            }
        }
        return index;
    }

    private static String describe(List<String> fields) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            s.append(i == 0 ? "" : ", ").append('\'').append(fields.get(i)).append('\'');
        }
        return s.toString();
    }

    /** The largest magnitude a value may have: its square and sums stay finite, and it fits float32. */
    static final double MAX_MAGNITUDE = 1e30;

    private static TimeSeries column(String source, List<Row> rows, int index, boolean header, String name,
                                     DateColumn dates) throws DataException {
        int first = header ? 1 : 0;
        int dateIndex = dateIndex(source, rows, first, index, dates);
        String dateName = dateIndex < 0 ? null
                : header ? "'" + rows.get(0).fields.get(dateIndex) + "'" : "column " + dateIndex;
        double[] values = new double[rows.size()];
        long[] times = dateIndex < 0 ? null : new long[rows.size()];
        int n = 0;
        int width = rows.get(0).fields.size();
        for (int r = first; r < rows.size(); r++) {
            Row row = rows.get(r);
            if (index >= row.fields.size()) {
                throw new DataException(source, row.line, "has " + row.fields.size() + " column(s); column " + name
                        + " is number " + (index + 1));
            }
            String field = row.fields.get(index).strip();
            if (!NUMBER.matcher(field).matches()) {
                throw new DataException(source, row.line, "column " + name + ": '" + field + "' is not a number");
            }
            double v = Double.parseDouble(field);
            if (!Double.isFinite(v)) {
                throw new DataException(source, row.line, "column " + name + ": '" + field + "' is too large for a double");
            }
            if (Math.abs(v) > MAX_MAGNITUDE) {
                throw new DataException(source, row.line, "column " + name + ": " + field + " is beyond "
                        + MAX_MAGNITUDE + " in magnitude, more than a float32 model and its error can hold; rescale"
                        + " the column");
            }
            if (times != null) {
                if (dateIndex >= row.fields.size()) {
                    throw new DataException(source, row.line, "has " + row.fields.size() + " column(s); date column "
                            + dateName + " is number " + (dateIndex + 1));
                }
                String date = row.fields.get(dateIndex).strip();
                Long t = parseTime(date);
                if (t == null) {
                    throw new DataException(source, row.line, "date column " + dateName + ": '" + date
                            + "' is not a date or time (" + DATE_FORMS + ")");
                }
                if (n > 0 && t <= times[n - 1]) {
                    throw new DataException(source, row.line, "date column " + dateName + ": '" + date
                            + "' is not later than the row before's (" + format(times[n - 1])
                            + "); the rows must be in time order");
                }
                times[n] = t;
            }
            if (row.fields.size() != width) {
                throw new DataException(source, row.line, "has " + row.fields.size() + " field(s), the first row "
                        + width + "; every row needs the same columns (a stray comma?)");
            }
            values[n++] = v;
        }
        if (n == 0) {
            throw new DataException(source, "no values below the header row");
        }
        return new TimeSeries(source, unquote(name), Arrays.copyOf(values, n), dateName == null ? null : unquote(dateName),
                times == null ? null : Arrays.copyOf(times, n));
    }

    private static String unquote(String name) {
        return name.startsWith("'") ? name.substring(1, name.length() - 1) : name;
    }

    /** The 0-based date column {@code dates} selects, or -1 for none. */
    private static int dateIndex(String source, List<Row> rows, int firstData, int valueIndex, DateColumn dates)
            throws DataException {
        if (dates == DateColumn.NONE) {
            return -1;
        }
        Row top = rows.get(0);
        if (dates == DateColumn.AUTO) {
            if (valueIndex == 0 || firstData >= rows.size()) {
                return -1;
            }
            List<String> f = rows.get(firstData).fields;
            return !f.isEmpty() && parseTime(f.get(0).strip()) != null ? 0 : -1;
        }
        int index = dates.index;
        if (dates.name != null) {
            if (firstData == 0) {
                throw new DataException(source, top.line, "date column '" + dates.name + "' not found: the file has"
                        + " no header row (the first row is data); select the date column by number");
            }
            index = find(top.fields, dates.name);
            if (index < 0) {
                throw new DataException(source, top.line, "date column '" + dates.name + "' not found; the header has "
                        + describe(top.fields));
            }
        } else if (index >= top.fields.size()) {
            throw new DataException(source, top.line, "date column " + index + " (counting from 0) not found; the"
                    + " first row has " + top.fields.size() + ": " + describe(top.fields));
        }
        if (index == valueIndex) {
            throw new DataException(source, top.line, "the date column is the value column (number " + index
                    + " counting from 0); select another, or none");
        }
        return index;
    }

    /**
     * The instant a CSV date or time field names, in epoch milliseconds (UTC unless it carries
     * an offset), or null when it is none of the forms in the class comment.
     */
    static Long parseTime(String field) {
        try {
            if (YEAR_MONTH.matcher(field).matches()) {
                return YearMonth.parse(field).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            if (DATE.matcher(field).matches()) {
                return LocalDate.parse(field).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            if (field.length() < 16 || !Character.isDigit(field.charAt(0))) {
                return null;
            }
            String iso = DATE_SPACE_TIME.matcher(field).matches() ? field.replaceFirst(" ", "T") : field;
            try {
                return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC).toEpochMilli();
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            return null;
        }
    }

    /** An instant as {@code yyyy-MM-dd} at midnight UTC, else ISO ({@code 1981-01-01T06:30:00Z}). */
    private static String format(long epochMillis) {
        Instant t = Instant.ofEpochMilli(epochMillis);
        return Math.floorMod(epochMillis, DAY) == 0 ? LocalDate.ofInstant(t, ZoneOffset.UTC).toString() : t.toString();
    }

    private record Row(int line, List<String> fields) {
    }

    /** The non-blank rows, split into fields; at least one. */
    private static List<Row> rows(String source, String text) throws DataException {
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                rows.add(new Row(i + 1, fields(source, i + 1, lines[i])));
            }
        }
        if (rows.isEmpty()) {
            throw new DataException(source, "empty: no rows");
        }
        return rows;
    }

    private static List<String> fields(String source, int line, String text) throws DataException {
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        int i = 0;
        while (true) {
            // One field: leading spaces, then either a quoted part or plain text up to the comma.
            int start = i;
            while (i < text.length() && text.charAt(i) == ' ') {
                i++;
            }
            if (i < text.length() && text.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= text.length()) {
                        throw new DataException(source, line, "a quoted field has no closing quote");
                    }
                    char c = text.charAt(i++);
                    if (c == '"') {
                        if (i < text.length() && text.charAt(i) == '"') {
                            f.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        f.append(c);
                    }
                }
                while (i < text.length() && text.charAt(i) == ' ') {
                    i++;
                }
                if (i < text.length() && text.charAt(i) != ',') {
                    throw new DataException(source, line, "text after a closing quote at column " + (i + 1));
                }
            } else {
                i = start;
                while (i < text.length() && text.charAt(i) != ',') {
                    f.append(text.charAt(i++));
                }
            }
            fields.add(f.toString());
            f.setLength(0);
            if (i >= text.length()) {
                return fields;
            }
            i++; // the comma
        }
    }

    /** The file or name of the data. */
    public String source() {
        return source;
    }

    /** The column's header text, or {@code column <i>} when the file has no header. */
    public String column() {
        return column;
    }

    /** The values, in row order (a copy). */
    public double[] values() {
        return values.clone();
    }

    /** The number of values. */
    public int length() {
        return values.length;
    }

    /** Whether each value has a date or time (read with a {@link DateColumn}). */
    public boolean hasTimes() {
        return times != null;
    }

    /** The date column's header text (or {@code column <i>}), or null without dates. */
    public String timeColumn() {
        return timeColumn;
    }

    /**
     * Each value's date or time in epoch milliseconds, increasing (a copy).
     *
     * @throws IllegalStateException without dates
     */
    public long[] times() {
        return requireTimes().clone();
    }

    /**
     * The instants of {@code count} steps past the last value, at the series' spacing: calendar
     * months when every time falls on the same day of the month and time of day (or every one
     * on the last day of its month), stepping by the median number of months between rows
     * (monthly, quarterly, yearly data); otherwise the median step between rows (one day with
     * a single row).
     *
     * @throws IllegalStateException without dates
     */
    public long[] timesAfter(int count) {
        long[] t = requireTimes();
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        long[] after = new long[count];
        int n = t.length;
        int months = monthlyStep(t);
        ZonedDateTime last = Instant.ofEpochMilli(t[n - 1]).atZone(ZoneOffset.UTC);
        boolean monthEnds = months > 0 && Arrays.stream(t).allMatch(TimeSeries::lastDayOfMonth);
        long step = n < 2 ? DAY : median(t, n);
        for (int k = 0; k < count; k++) {
            if (months > 0) {
                ZonedDateTime next = last.plusMonths((long) months * (k + 1));
                after[k] = (monthEnds ? next.with(TemporalAdjusters.lastDayOfMonth()) : next).toInstant().toEpochMilli();
            } else {
                after[k] = t[n - 1] + step * (k + 1);
            }
        }
        return after;
    }

    private long[] requireTimes() {
        if (times == null) {
            throw new IllegalStateException(this + " has no dates");
        }
        return times;
    }

    /** The median number of calendar months between rows when the times are whole months apart, else 0. */
    private static int monthlyStep(long[] t) {
        if (t.length < 2) {
            return 0;
        }
        ZonedDateTime first = Instant.ofEpochMilli(t[0]).atZone(ZoneOffset.UTC);
        boolean sameDay = true;
        boolean monthEnds = true;
        int[] steps = new int[t.length - 1];
        ZonedDateTime before = first;
        for (int i = 0; i < t.length; i++) {
            ZonedDateTime d = Instant.ofEpochMilli(t[i]).atZone(ZoneOffset.UTC);
            if (!d.toLocalTime().equals(first.toLocalTime())) {
                return 0;
            }
            sameDay &= d.getDayOfMonth() == first.getDayOfMonth();
            monthEnds &= lastDayOfMonth(t[i]);
            if (i > 0) {
                steps[i - 1] = (d.getYear() * 12 + d.getMonthValue()) - (before.getYear() * 12 + before.getMonthValue());
            }
            before = d;
        }
        if (!sameDay && !monthEnds) {
            return 0;
        }
        Arrays.sort(steps);
        return steps[(steps.length - 1) / 2];
    }

    private static boolean lastDayOfMonth(long epochMillis) {
        LocalDate d = LocalDate.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC);
        return d.getDayOfMonth() == d.lengthOfMonth();
    }

    /** The median of the steps between the first {@code n} times (the lower middle for an even count). */
    private static long median(long[] t, int n) {
        long[] steps = new long[n - 1];
        for (int i = 1; i < n; i++) {
            steps[i - 1] = t[i] - t[i - 1];
        }
        Arrays.sort(steps);
        return steps[(steps.length - 1) / 2];
    }

    /**
     * Windows for one-step-ahead forecasting of the next value with a chronological split and no
     * validation windows: {@link #windows(int, double, double, Normalization.Kind, ForecastWindows.Target)}
     * with a validation fraction of 0 and {@link ForecastWindows.Target#VALUE}.
     */
    public ForecastWindows windows(int window, double testFraction, Normalization.Kind kind) throws DataException {
        return windows(window, testFraction, 0, kind, ForecastWindows.Target.VALUE);
    }

    /**
     * Windows for one-step-ahead forecasting with a chronological split (see
     * {@link ForecastWindows}): the last {@code round(n * testFraction)} values are the test
     * part; of the training windows before them, the last {@code round(count * validationFraction)}
     * (at least one when the fraction is above 0) are the validation windows; the normalisation
     * is fitted on the values before the test part.
     *
     * @param window             W, values per window, {@code >= 1}
     * @param testFraction       in {@code [0, 1)}; 0 gives no test windows
     * @param validationFraction in {@code [0, 1)}; 0 gives no validation windows
     * @throws DataException when the training part has no more than W values (no window fits), or
     *                       too few windows to hold one out for validation and train on another
     */
    public ForecastWindows windows(int window, double testFraction, double validationFraction,
                                   Normalization.Kind kind, ForecastWindows.Target target) throws DataException {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        if (!(testFraction >= 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction must be in [0, 1), got " + testFraction);
        }
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in [0, 1), got " + validationFraction);
        }
        int n = values.length;
        int cut = n - (int) Math.round(n * testFraction);
        if (cut - window < 1) {
            throw new DataException(source, "column '" + column + "' has " + n + " values; the training part ("
                    + cut + " values after holding out " + (n - cut) + " for testing) is too short for one window of "
                    + window + " and its target (needs at least " + (window + 1) + "); use a smaller window");
        }
        int windows = cut - window;
        int held = validationFraction > 0 ? Math.max(1, (int) Math.round(windows * validationFraction)) : 0;
        if (windows - held < 1) {
            throw new DataException(source, "column '" + column + "' has " + n + " values; the training part ("
                    + cut + " values) holds " + windows + " window(s) of " + window + ", too few to hold "
                    + held + " out for validation and train on the rest; use a smaller window");
        }
        return new ForecastWindows(values.clone(), window, cut - held, cut, Normalization.fit(kind, values, 0, cut),
                target);
    }

    @Override
    public String toString() {
        return "TimeSeries{" + source + ", column '" + column + "', " + values.length + " values"
                + (times == null ? "" : ", dated by '" + timeColumn + "' from " + format(times[0]) + " to "
                + format(times[times.length - 1])) + "}";
    }
}
