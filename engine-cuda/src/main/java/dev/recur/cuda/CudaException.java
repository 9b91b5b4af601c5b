package dev.recur.cuda;

/**
 * A CUDA driver or cuBLAS call that failed. The message names the call and the library's own
 * name for the status (for example {@code cuMemAlloc(4096 B): CUDA_ERROR_OUT_OF_MEMORY (out of
 * memory)}); {@link #status()} gives that name alone so callers can branch on it.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The driver's status name for an allocation that did not fit. */
    static final String OUT_OF_MEMORY = "CUDA_ERROR_OUT_OF_MEMORY";

    private final String status;

    /**
     * @param call   what was called, with the arguments that help (e.g. {@code cuMemAlloc(4096 B)})
     * @param status the library's name for the status (e.g. {@code CUBLAS_STATUS_INVALID_VALUE})
     * @param detail the library's description of the status, or null
     */
    CudaException(String call, String status, String detail) {
        super(call + ": " + status + (detail == null || detail.isBlank() ? "" : " (" + detail + ")"));
        this.status = status;
    }

    /** The same failure with more context in the message (what was held when an allocation failed, say). */
    CudaException(CudaException cause, String context) {
        super(cause.getMessage() + "; " + context, cause);
        this.status = cause.status;
    }

    /** The library's name for the status, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String status() {
        return status;
    }

    /** Whether the device ran out of memory. */
    public boolean outOfMemory() {
        return OUT_OF_MEMORY.equals(status);
    }
}
