package dev.recur.models.data;

import java.io.IOException;

/**
 * Input data that cannot be used: a missing or empty file, a malformed line, a column that is not
 * there, a value that is not a number, too little data for the batch or window asked for.
 *
 * <p>The message is one line in the form compilers use, {@code "<source>:<line>: <problem>"}
 * (or {@code "<source>: <problem>"} when no single line is at fault), for example
 * {@code "temps.csv:1234: column 'Temp': '?0.2' is not a number"}. The command line prints it as
 * it is; no stack trace is needed because the data, not the program, is wrong.
 */
public final class DataException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final String problem;

    /**
     * @param source  the file (or the name of in-memory data)
     * @param line    the 1-based line at fault, or 0 when none is
     * @param problem what is wrong, one line, no trailing period
     */
    public DataException(String source, int line, String problem) {
        this(source, line, problem, null);
    }

    /** With the underlying failure kept for debugging; its text should already be in {@code problem}. */
    public DataException(String source, int line, String problem, Throwable cause) {
        super(source + (line > 0 ? ":" + line : "") + ": " + problem, cause);
        this.source = source;
        this.line = line;
        this.problem = problem;
    }

    /** A problem with the data as a whole, not one line. */
    public DataException(String source, String problem) {
        this(source, 0, problem);
    }

    /** The file or name of the data. */
    public String source() {
        return source;
    }

    /** The 1-based line at fault, or 0 when the problem is not one line's. */
    public int line() {
        return line;
    }

    /** What is wrong, without source and line. */
    public String problem() {
        return problem;
    }
}
