package dev.recur.models.cli;

/**
 * Bad command-line arguments: an unknown option, a missing or malformed value, an unexpected
 * argument. {@link Recur} prints the message as one line on stderr and exits with
 * {@link Recur#EXIT_USAGE}; no stack trace is shown, because the user, not the program, is wrong.
 */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, naming the offending argument; no command prefix, no newline */
    public UsageException(String message) {
        super(message);
    }
}
