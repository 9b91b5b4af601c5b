package dev.recur.api;

/** Thrown when a backend was asked for by name but cannot run here; the message says why. */
public final class BackendUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(message);
    }
}
