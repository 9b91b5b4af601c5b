package dev.recur.models.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** File names from options and the folders of files a command writes, with one-line errors. */
public final class CommandPaths {

    private CommandPaths() {
    }

    /**
     * The option's value as a path.
     *
     * @throws UsageException when it cannot be a file name (a NUL character, say)
     */
    public static Path path(String option, String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new UsageException("option '" + option + "': not a file name: " + e.getMessage());
        }
    }

    /**
     * Refuses a file to be written in a folder that does not exist (for commands that do no long
     * work before writing, so make no folders).
     *
     * @throws UsageException {@code "<what>: the folder <parent> does not exist"}
     */
    public static void requireParent(String what, Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UsageException(what + ": the folder " + parent + " does not exist");
        }
    }

    /**
     * Makes the folder that {@code file} will be written in, when it is missing; called before
     * training, so that a run does not fail at its end for want of a folder.
     *
     * @throws IOException {@code "<file>: cannot make the folder <parent>: <reason>"}
     */
    public static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || Files.isDirectory(parent)) {
            return;
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IOException(file + ": cannot make the folder " + parent + ": " + reason(e), e);
        }
    }

    /** An I/O failure in a few words (the messages of NIO's exceptions are often only the path). */
    public static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException n -> "no such file or folder";
            case AccessDeniedException a -> "permission denied";
            case FileAlreadyExistsException f -> "a file of that name is in the way";
            case FileSystemException f when f.getReason() != null -> f.getReason();
            default -> String.valueOf(e.getMessage());
        };
    }
}
