package dev.recur.bench;

import dev.recur.models.cli.Recur;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Runs {@code recur ARGS...} as users get it ({@link Recur#standard()}) and keeps what it printed. */
final class Streams {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    int status = -1;

    static Streams recur(String... args) {
        Streams s = new Streams();
        PrintStream out = new PrintStream(s.outBytes, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(s.errBytes, true, StandardCharsets.UTF_8);
        s.status = Recur.standard().run(args, out, err);
        return s;
    }

    String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    /** The lines of stdout, without the empty one after the last newline. */
    List<String> outLines() {
        String o = out();
        return o.isEmpty() ? List.of() : Arrays.asList(o.split("\n"));
    }

    /** The lines of stderr, without the empty one after the last newline. */
    List<String> errLines() {
        String e = err();
        return e.isEmpty() ? List.of() : Arrays.asList(e.split("\n"));
    }

    @Override
    public String toString() {
        return "status " + status + "\n--- stdout\n" + out() + "--- stderr\n" + err();
    }
}
