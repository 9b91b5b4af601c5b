package dev.recur.models.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captures what a command prints on stdout and stderr, and its exit status. */
public final class Streams {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    public final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    public final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    public int status = -1;

    public static Streams run(Recur recur, String... args) {
        Streams s = new Streams();
        s.status = recur.run(args, s.out, s.err);
        return s;
    }

    public String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    public String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    /** The lines of stderr; fails the caller's expectations if stderr does not end in a newline. */
    public String[] errLines() {
        String e = err();
        return e.isEmpty() ? new String[0] : e.split("\n", -1);
    }

    /**
     * Asserts a failure as every command reports one: exit 1 and exactly one line on stderr,
     * prefixed by the command ({@code "recur classify: "}) and holding each fragment, with no
     * stack trace.
     */
    public void assertOneLineFailure(String prefix, String... fragments) {
        assertEquals(Recur.EXIT_FAILED, status, err());
        String[] lines = errLines();
        assertEquals(2, lines.length, "expected one line on stderr:\n" + err());
        assertEquals("", lines[1]);
        assertTrue(lines[0].startsWith(prefix), lines[0]);
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + f + "' not in: " + lines[0]);
        }
        assertFalse(err().contains("Exception") || out().contains("\tat "), err());
    }

    /** The number that the first group of {@code regex} matches in stdout. */
    public double number(String regex) {
        Matcher m = Pattern.compile(regex).matcher(out());
        assertTrue(m.find(), "no match for " + regex + " in:\n" + out());
        return Double.parseDouble(m.group(1));
    }
}
