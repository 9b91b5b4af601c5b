package dev.recur.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Row-major GEMMs on the backend's streams, through cuBLAS (column-major): one cuBLAS handle per
 * stream, each with its own workspace, so that GEMMs on the two streams can run at once and stay
 * deterministic (see {@link Cublas}).
 *
 * <h2>Note [row-major through column-major]</h2>
 * Recur stores matrices row-major; cuBLAS reads them column-major. A row-major matrix
 * {@code X [R, C]} with row stride {@code ld} is, read column-major with leading dimension
 * {@code ld}, the matrix {@code Xᵀ [C, R]}. So the row-major product {@code C = op(A)·op(B)} is,
 * to cuBLAS, {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}: call cuBLAS with the operands swapped (B first), M and N
 * swapped, each operand keeping its own transpose flag, and every leading dimension the row
 * stride of the stored matrix. That is written once, in {@link #rowMajor} and
 * {@link #rowMajorStridedBatched}; everything else speaks row-major.
 *
 * <p>Addresses are device addresses ({@code long}); an element offset {@code e} into a float
 * buffer at {@code p} is {@code p + 4·e}, so callers can multiply slices of bigger buffers (one
 * time step of {@code [T, B, 4H]}, say) without copying.
 */
final class CudaGemm implements AutoCloseable {

    /** cuBLAS's recommended workspace: 32 MiB on Hopper and newer, 4 MiB before. */
    static long workspaceBytes(DeviceInfo device) {
        return device.major() >= 9 ? 32L << 20 : 4L << 20;
    }

    private final CudaContext context;
    private final DeviceMemory workspaceMemory;
    private final List<CudaStream> streams = new ArrayList<>();
    private final List<Cublas> handles = new ArrayList<>();
    private final List<Long> workspaces = new ArrayList<>();
    private boolean closed;

    /**
     * One cuBLAS handle and workspace for each of {@code streams}.
     *
     * @param workspaceMemory where the workspaces come from (raw driver memory, outside the
     *                        caching allocator, so they never count as live tensor memory)
     * @param tf32            allow TF32 tensor-core math; false keeps full float32
     */
    CudaGemm(CudaContext context, Cublas.Library library, DeviceMemory workspaceMemory, List<CudaStream> streams,
             boolean tf32) {
        this.context = context;
        this.workspaceMemory = workspaceMemory;
        long bytes = workspaceBytes(context.device());
        try {
            for (CudaStream s : streams) {
                long ws = workspaceMemory.allocate(bytes);
                workspaces.add(ws);
                handles.add(new Cublas(library, s, ws, bytes, tf32));
                this.streams.add(s);
            }
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The cuBLAS handle bound to {@code stream}. */
    Cublas on(CudaStream stream) {
        for (int i = 0; i < streams.size(); i++) {
            if (streams.get(i) == stream) {
                return handles.get(i);
            }
        }
        throw new IllegalArgumentException("no cuBLAS handle for stream " + stream.name());
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} on {@code stream}, row-major: {@code op(A) [m, k]} is
     * {@code A [m, k]} or, with {@code transA}, the transpose of {@code A [k, m]}; likewise
     * {@code op(B) [k, n]}; {@code C [m, n]}. {@code lda}, {@code ldb}, {@code ldc} are the row
     * strides (in elements) of the stored A, B and C. With {@code beta = 0}, C is not read.
     */
    void gemm(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
              long b, int ldb, float beta, long c, int ldc) {
        requireOpen();
        context.makeCurrent();
        rowMajor(on(stream), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * {@link #gemm} for {@code batch} matrices; matrix {@code i} of A starts {@code i·strideA}
     * elements after {@code a} (a stride of 0 uses one matrix for all), likewise B and C.
     */
    void gemmStridedBatched(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            long a, int lda, long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                            long strideC, int batch) {
        requireOpen();
        context.makeCurrent();
        rowMajorStridedBatched(on(stream), transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c,
                ldc, strideC, batch);
    }

    /** The row-major GEMM as a column-major call; see the Note in the class comment. */
    static void rowMajor(ColumnMajorSgemm blas, boolean transA, boolean transB, int m, int n, int k, float alpha,
                         long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        checkDims("gemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        blas.sgemm(op(transB), op(transA), n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
    }

    /** The row-major strided-batched GEMM as a column-major call; see the Note in the class comment. */
    static void rowMajorStridedBatched(ColumnMajorSgemm blas, boolean transA, boolean transB, int m, int n, int k,
                                       float alpha, long a, int lda, long strideA, long b, int ldb, long strideB,
                                       float beta, long c, int ldc, long strideC, int batch) {
        String op = "gemmStridedBatched";
        checkDims(op, transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (batch < 1) {
            throw new IllegalArgumentException(op + ": batch must be >= 1, got " + batch);
        }
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException(op + ": strides must be >= 0, got strideA = " + strideA
                    + ", strideB = " + strideB + ", strideC = " + strideC);
        }
        if (batch > 1 && strideC < (long) (m - 1) * ldc + n) {
            throw new IllegalArgumentException(op + ": strideC = " + strideC + " makes the " + batch
                    + " output matrices [" + m + ", " + n + "] (ldc = " + ldc + ") overlap; it must be >= "
                    + ((long) (m - 1) * ldc + n));
        }
        blas.sgemmStridedBatched(op(transB), op(transA), n, m, k, alpha, b, ldb, strideB, a, lda, strideA, beta, c,
                ldc, strideC, batch);
    }

    private static int op(boolean trans) {
        return trans ? ColumnMajorSgemm.OP_T : ColumnMajorSgemm.OP_N;
    }

    private static void checkDims(String op, boolean transA, boolean transB, int m, int n, int k, long a, int lda,
                                  long b, int ldb, long c, int ldc) {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException(op + ": m, n, k must be >= 1, got m = " + m + ", n = " + n
                    + ", k = " + k);
        }
        // The stored A is [m, k], or [k, m] when transposed; its rows must fit in lda.
        int aCols = transA ? m : k;
        int bCols = transB ? k : n;
        if (lda < aCols) {
            throw new IllegalArgumentException(op + ": lda = " + lda + " is less than the " + aCols
                    + " columns of the stored A " + (transA ? "[k, m]" : "[m, k]"));
        }
        if (ldb < bCols) {
            throw new IllegalArgumentException(op + ": ldb = " + ldb + " is less than the " + bCols
                    + " columns of the stored B " + (transB ? "[n, k]" : "[k, n]"));
        }
        if (ldc < n) {
            throw new IllegalArgumentException(op + ": ldc = " + ldc + " is less than the " + n + " columns of C [m, n]");
        }
        if (a == 0 || b == 0 || c == 0) {
            throw new IllegalArgumentException(op + ": a null device address (a = 0x" + Long.toHexString(a)
                    + ", b = 0x" + Long.toHexString(b) + ", c = 0x" + Long.toHexString(c) + ")");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("gemm: the cuBLAS handles are closed");
        }
    }

    /** Destroys the handles and frees their workspaces. Idempotent; the streams' work is finished first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (Cublas h : handles) {
            try {
                h.close();
            } catch (RuntimeException e) {
                first = keep(first, e);
            }
        }
        for (long ws : workspaces) {
            try {
                workspaceMemory.free(ws);
            } catch (RuntimeException e) {
                first = keep(first, e);
            }
        }
        handles.clear();
        workspaces.clear();
        if (first != null) {
            throw first;
        }
    }

    private static RuntimeException keep(RuntimeException first, RuntimeException e) {
        if (first == null) {
            return e;
        }
        first.addSuppressed(e);
        return first;
    }
}
