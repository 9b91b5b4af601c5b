package dev.recur.models.data;

import java.nio.file.Path;

/** Test helpers of this package for tests elsewhere. */
public final class TextCorpusTestAccess {

    private TextCorpusTestAccess() {
    }

    /** A named pipe in {@code dir}, or null where mkfifo is missing. */
    public static Path fifo(Path dir) throws Exception {
        return TextCorpusTest.fifo(dir);
    }
}
