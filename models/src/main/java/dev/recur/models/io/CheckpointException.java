package dev.recur.models.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint or safetensors file that cannot be used: missing, truncated, corrupt, malformed,
 * written by a newer Recur, or holding a tensor whose shape the model does not expect.
 *
 * <p>The message is one line, {@code "<file>: <problem>"}, meant to be printed as it is by the
 * command line (no stack trace needed): for example
 * {@code "run/ckpt.safetensors: corrupt: checksum mismatch (file says 3f2a..., data hashes to 9b01...)"}.
 * When the tensors did not come from a file (a {@link Checkpoint} built in memory) the message is
 * the problem alone.
 */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    /**
     * @param file    the file concerned, or null when the tensors were not read from a file
     * @param problem what is wrong, one line, no trailing period
     */
    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    /**
     * @param file    the file concerned, or null when the tensors were not read from a file
     * @param problem what is wrong, one line, no trailing period
     * @param cause   the underlying failure, kept for debugging; its text should already be in
     *                {@code problem}
     */
    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file == null ? problem : file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file concerned, or null when the tensors were not read from a file. */
    public Path file() {
        return file;
    }

    /** What is wrong, without the file name. */
    public String problem() {
        return problem;
    }
}
