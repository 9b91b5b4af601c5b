package dev.recur.models.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * <pre>
 *   TimeSeries s = TimeSeries.readCsv(Path.of("airline-passengers.csv"), "Passengers");
 *   ForecastWindows w = s.windows(12, 0.2, Normalization.Kind.MIN_MAX);
 * </pre>
 * Immutable.
 */
public final class TimeSeries {

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private final String source;
    private final String column;
    private final double[] values; // [n]

    private TimeSeries(String source, String column, double[] values) {
        this.source = source;
        this.column = column;
        this.values = values;
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
        return new TimeSeries(name, name, values.clone());
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
        String source = file.toString();
        List<Row> rows = rows(source, TextFiles.readUtf8(file));
        Row header = rows.get(0);
        int index = header.fields.indexOf(column);
        if (index < 0) {
            for (int i = 0; i < header.fields.size() && index < 0; i++) {
                if (header.fields.get(i).equalsIgnoreCase(column)) {
                    index = i;
                }
            }
        }
        if (index < 0) {
            boolean numeric = header.fields.stream().allMatch(f -> NUMBER.matcher(f.strip()).matches());
            throw new DataException(source, header.line, numeric
                    ? "column '" + column + "' not found: the file has no header row (the first row is all numbers); select the column by number"
                    : "column '" + column + "' not found; the header has " + describe(header.fields));
        }
        return column(source, rows, index, true, "'" + header.fields.get(index) + "'");
    }

    /**
     * Reads column {@code index} (0-based). The first row is taken as a header when its field
     * in this column is not a number.
     *
     * @throws DataException as {@link #readCsv(Path, String)}, and for an index beyond the
     *                       first row's columns
     */
    public static TimeSeries readCsv(Path file, int index) throws DataException {
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
        return column(source, rows, index, header, name);
    }

    private static String describe(List<String> fields) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            s.append(i == 0 ? "" : ", ").append('\'').append(fields.get(i)).append('\'');
        }
        return s.toString();
    }

    private static TimeSeries column(String source, List<Row> rows, int index, boolean header, String name) throws DataException {
        double[] values = new double[rows.size()];
        int n = 0;
        for (int r = header ? 1 : 0; r < rows.size(); r++) {
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
            values[n++] = v;
        }
        if (n == 0) {
            throw new DataException(source, "no values below the header row");
        }
        String columnName = name.startsWith("'") ? name.substring(1, name.length() - 1) : name;
        return new TimeSeries(source, columnName, Arrays.copyOf(values, n));
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
        return "TimeSeries{" + source + ", column '" + column + "', " + values.length + " values}";
    }
}
