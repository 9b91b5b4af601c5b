package dev.recur.models.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Files the command tests write for a command to read. */
final class TestFiles {

    private TestFiles() {
    }

    /** Writes {@code content} as UTF-8 to {@code dir/name}; returns the file. */
    static Path write(Path dir, String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }
}
