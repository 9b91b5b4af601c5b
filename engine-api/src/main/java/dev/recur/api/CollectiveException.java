package dev.recur.api;

/**
 * A collective that could not be bound or failed: the library missing under a launcher, an MPI or
 * NCCL call that returned an error (its code and the library's own string in the message).
 */
public class CollectiveException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
