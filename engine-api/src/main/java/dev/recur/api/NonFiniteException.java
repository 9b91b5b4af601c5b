package dev.recur.api;

/**
 * An op's input holds NaN or an infinity: {@code "layerBackward(gru): dFin.h holds Infinity at index
 * [0, 0] (shape [16, 32])"}. During training this means the run diverged, and a trainer can catch
 * this type rather than read messages. It is an {@link IllegalArgumentException}, as every other
 * refused input of an op is.
 */
public final class NonFiniteException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String op;
    private final String argument;

    public NonFiniteException(String op, String argument, String message) {
        super(message);
        this.op = op;
        this.argument = argument;
    }

    /** The op that refused the input, e.g. {@code "layerBackward(gru)"}. */
    public String op() {
        return op;
    }

    /** The argument that holds the value, e.g. {@code "dFin.h"}. */
    public String argument() {
        return argument;
    }
}
