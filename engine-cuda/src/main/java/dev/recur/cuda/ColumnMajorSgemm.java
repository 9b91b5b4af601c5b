package dev.recur.cuda;

/**
 * The two cuBLAS calls Recur's GEMMs are made of, in cuBLAS's own column-major terms and
 * argument order. {@link Cublas} implements it on the GPU; a plain-Java twin in the tests
 * checks {@link CudaGemm}'s row-major mapping without a GPU.
 */
interface ColumnMajorSgemm {

    /** {@code CUBLAS_OP_N}: use the operand as it is. */
    int OP_N = 0;
    /** {@code CUBLAS_OP_T}: use the operand's transpose. */
    int OP_T = 1;

    /** {@code cublasSgemm}: {@code C[m, n] = alpha·op(A)·op(B) + beta·C}, column-major, device addresses. */
    void sgemm(int opA, int opB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta,
               long c, int ldc);

    /** {@code cublasSgemmStridedBatched}: {@link #sgemm} for {@code batch} matrices at the given element strides. */
    void sgemmStridedBatched(int opA, int opB, int m, int n, int k, float alpha, long a, int lda, long strideA, long b,
                             int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);
}
