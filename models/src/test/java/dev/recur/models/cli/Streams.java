package dev.recur.models.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Captures what a command prints on stdout and stderr, and its exit status. */
final class Streams {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    int status = -1;

    static Streams run(Recur recur, String... args) {
        Streams s = new Streams();
        s.status = recur.run(args, s.out, s.err);
        return s;
    }

    String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    /** The lines of stderr; fails the caller's expectations if stderr does not end in a newline. */
    String[] errLines() {
        String e = err();
        return e.isEmpty() ? new String[0] : e.split("\n", -1);
    }
}
