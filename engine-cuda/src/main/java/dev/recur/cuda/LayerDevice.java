package dev.recur.cuda;

/**
 * What {@link CudaLayer} needs of the device, and nothing more: the kernels, row-major GEMMs,
 * copies and fills on a stream, index uploads, the two streams and their joins, and stream
 * capture. {@link CudaBackend} provides it over the driver, cuBLAS and its allocator; the engine's
 * host tests provide a simulated device (host memory, Java ports of the kernels, a reference GEMM)
 * so that the layer code itself runs, and is compared with the CPU engine, on machines without a
 * GPU.
 *
 * <p>Addresses are device addresses ({@code long}); every method enqueues work on the stream it is
 * given (or the main stream) in order, as the driver does.
 */
interface LayerDevice {

    /** Refuses a closed device, then makes its context current on this thread (first step of every op). */
    void enter(String op);

    /** Whether the device was closed (its memory and graphs are gone). */
    boolean isClosed();

    /** The fused kernels. */
    CudaKernels kernels();

    /** The stream every op runs on (see {@link CudaBackend}'s streams contract). */
    CudaStream mainStream();

    /** The stream for the reverse direction of a bidirectional layer. */
    CudaStream secondStream();

    /** Work enqueued on the second stream from now on starts after the main stream's work so far. */
    void secondWaitsForMain();

    /** Work enqueued on the main stream from now on starts after the second stream's work so far. */
    void mainWaitsForSecond();

    /** {@link CudaGemm#gemm}: {@code C = alpha·op(A)·op(B) + beta·C}, row-major, on {@code stream}. */
    void gemm(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
              long b, int ldb, float beta, long c, int ldc);

    /** Copies {@code bytes} bytes from {@code src} to {@code dst} (device to device) on {@code stream}. */
    void copy(long dst, long src, long bytes, CudaStream stream);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code bits} on {@code stream}. */
    void memsetD32(long dst, int bits, long count, CudaStream stream);

    /** Copies {@code count} ints from the host to {@code dst}, ordered on the main stream; {@code src} may be reused at once. */
    void upload(int[] src, long dst, int count);

    /**
     * The private stream on which loops meant for {@code stream} are captured (see
     * {@link CudaBackend#captureStreamFor}); only asked for when graphs are on.
     */
    CudaStream captureStreamFor(CudaStream stream);

    /**
     * Records, instead of running, what {@code body} enqueues on {@code stream}, and returns it as
     * a graph to launch any number of times ({@link CudaGraph#capture}).
     *
     * @throws CudaGraph.CaptureFailedException when the capture failed; nothing of {@code body} ran
     */
    Graph capture(CudaStream stream, Runnable body) throws CudaGraph.CaptureFailedException;

    /** A captured piece of work. */
    interface Graph extends AutoCloseable {

        /** Enqueues the whole recorded work on {@code stream}, after the work already there. */
        void launch(CudaStream stream);

        /** Releases it; idempotent. */
        @Override
        void close();
    }

    /** Where a layer's buffers come from: {@link CudaWorkspace#allocate}, on the real device. */
    @FunctionalInterface
    interface Memory {

        /** A buffer of {@code bytes} bytes (contents undefined), owned by whoever owns the memory; {@code what} names it in leak reports. */
        long allocate(long bytes, String what);
    }
}
