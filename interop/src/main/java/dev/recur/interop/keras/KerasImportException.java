package dev.recur.interop.keras;

/**
 * A Keras archive that Recur cannot import: not a Keras 3 archive, a layer or setting with no
 * Recur equivalent (named by its class and name), or weights that disagree with the configuration.
 * The message is one line, fit for the command line.
 */
public final class KerasImportException extends Exception {

    private static final long serialVersionUID = 1L;

    public KerasImportException(String message) {
        super(message);
    }
}
