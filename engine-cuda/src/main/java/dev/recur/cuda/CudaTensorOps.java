package dev.recur.cuda;

import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;

import java.util.List;

import static dev.recur.cuda.CudaBackend.address;

/**
 * {@link TensorOps} on the GPU: each {@code ...Impl} is one kernel of {@link CudaKernels} (named
 * after its twin in engine-cpu's {@code CpuTensorOps}) or a fixed chain of them, enqueued on the
 * backend's main stream; {@code copy} is a device-to-device copy. Nothing is read back to the
 * host, and nothing is allocated after the first call of a given size: the scratch memory of the
 * clipping reduction and of the embedding gradient's sort belongs to this object
 * ({@link DeviceScratch}) and is given back when the backend closes.
 *
 * <p>Bad ids: the CPU engine throws on an id outside the vocabulary, naming it and its position;
 * here the same check runs on the host against the {@link IndexBounds} kept at upload, so no
 * kernel meets a bad id and no device flag needs reading. Only when the check fails are the ids
 * downloaded, to name the first bad one in the CPU engine's words.
 *
 * <p>Results: element-wise ops, the embedding lookup and gradient, the column copies, transpose
 * and the dropout mask are the CPU engine's bit for bit (the kernels do the same float32
 * operations in the same order, built with {@code -fmad=false}); the column sums and the
 * clipping norm add in another fixed order, so they are repeatable bit for bit but differ from
 * the CPU's by rounding.
 */
final class CudaTensorOps extends TensorOps implements AutoCloseable {

    private final CudaBackend cuda;
    /** [grads, PARTIALS] double: clipGlobalNorm's per-tensor partial sums. */
    private final DeviceScratch clipPartials;
    /** embeddingBackward's sort: keys and positions twice [4, n] int, digit counts [256, ceil(n/32)] int. */
    private final DeviceScratch sortScratch;

    CudaTensorOps(CudaBackend backend) {
        super(backend);
        this.cuda = backend;
        this.clipPartials = new DeviceScratch(backend.allocator(), "clipGlobalNorm partials");
        this.sortScratch = new DeviceScratch(backend.allocator(), "embeddingBackward sort");
    }

    @Override
    protected void copyImpl(Tensor src, Tensor dst) {
        long from = address(src);
        long to = address(dst);
        // Same shape and one address means one memory (views start at their base's first element).
        if (from != to) {
            cuda.copyOnDevice(to, from, 4L * src.shape().size(), cuda.mainStream());
        }
    }

    @Override
    protected void axpyImpl(float alpha, Tensor x, Tensor y) {
        cuda.currentKernels().axpy(cuda.mainStreamHandle(), x.shape().size(), alpha, address(x), address(y));
    }

    @Override
    protected void scaleImpl(Tensor x, float alpha) {
        cuda.currentKernels().scale(cuda.mainStreamHandle(), x.shape().size(), alpha, address(x));
    }

    @Override
    protected void multiplyImpl(Tensor a, Tensor b, Tensor out) {
        cuda.currentKernels().multiply(cuda.mainStreamHandle(), a.shape().size(), address(a), address(b), address(out));
    }

    @Override
    protected void addRowVectorImpl(Tensor x, Tensor v, int rows, int cols) {
        cuda.currentKernels().addRowVector(cuda.mainStreamHandle(), rows, cols, address(x), address(v));
    }

    @Override
    protected void addColumnSumsImpl(Tensor x, Tensor out, int rows, int cols) {
        cuda.currentKernels().addColumnSums(cuda.mainStreamHandle(), rows, cols, address(x), address(out), 0L);
    }

    @Override
    protected void embeddingForwardImpl(Tensor table, IndexTensor ids, Tensor out, int n, int vocab, int dim) {
        requireIds("embeddingForward", ids, vocab);
        // error = 0: the ids were checked above, so the kernel's report is not needed.
        cuda.currentKernels().embeddingForward(cuda.mainStreamHandle(), n, vocab, dim, address(table), address(ids),
                address(out), 0L);
    }

    @Override
    protected synchronized void embeddingBackwardImpl(IndexTensor ids, Tensor dOut, Tensor dTable, int n, int vocab,
                                                      int dim) {
        requireIds("embeddingBackward", ids, vocab);
        CudaKernels k = cuda.currentKernels();
        long scratch = sortScratch.reserve(CudaKernels.embeddingBackwardScratchBytes(n));
        k.embeddingBackward(cuda.mainStreamHandle(), n, vocab, dim, address(ids), address(dOut), address(dTable),
                scratch, 0L);
    }

    /** Throws the CPU engine's exception when an id lies outside {@code [0, vocab)}. */
    private static void requireIds(String op, IndexTensor ids, int vocab) {
        if (((CudaIndexTensor) ids).bounds().allIn(0, vocab)) {
            return;
        }
        int[] values = ids.toArray(); // the error path only: find the first bad id to name it
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= vocab) {
                throw new IllegalArgumentException(op + ": ids[" + i + "] = " + values[i]
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        throw new IllegalStateException(op + ": the host's bounds of ids " + ((CudaIndexTensor) ids).bounds()
                + " disagree with the device's values, which are all in [0, " + vocab + ")");
    }

    @Override
    protected void copyColumnsImpl(Tensor narrow, Tensor wide, int n, int a, int w, int offset, boolean intoWide) {
        cuda.currentKernels().copyColumns(cuda.mainStreamHandle(), n, a, w, offset, intoWide, address(narrow),
                address(wide));
    }

    @Override
    protected void transpose01Impl(Tensor x, Tensor out, int a, int b, int f) {
        cuda.currentKernels().transpose01(cuda.mainStreamHandle(), a, b, f, address(x), address(out));
    }

    @Override
    protected void maskedSoftmaxImpl(Tensor scores, IndexTensor lengths, Tensor probs, int n, int rows, int cols) {
        requireLengths("maskedSoftmax", lengths, cols);
        cuda.currentKernels().maskedSoftmax(cuda.mainStreamHandle(), n * rows, rows, cols, address(lengths),
                address(scores), address(probs));
    }

    @Override
    protected void maskedSoftmaxBackwardImpl(Tensor probs, Tensor dProbs, IndexTensor lengths, Tensor dScores, int n,
                                             int rows, int cols) {
        requireLengths("maskedSoftmaxBackward", lengths, cols);
        cuda.currentKernels().maskedSoftmaxBackward(cuda.mainStreamHandle(), n * rows, rows, cols, address(lengths),
                address(probs), address(dProbs), address(dScores));
    }

    /** The CPU engine's check of the lengths (1..cols), against the bounds kept at upload: no device read. */
    private static void requireLengths(String op, IndexTensor lengths, int cols) {
        if (((CudaIndexTensor) lengths).bounds().allIn(1, cols + 1)) {
            return;
        }
        int[] values = lengths.toArray(); // the error path only: name the first bad length
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 1 || values[i] > cols) {
                throw lengthOutOfRange(op, i, values[i], cols);
            }
        }
        throw new IllegalStateException(op + ": the host's bounds of lengths " + ((CudaIndexTensor) lengths).bounds()
                + " disagree with the device's values, which are all in 1.." + cols);
    }

    @Override
    protected void tanhImpl(Tensor x, Tensor y) {
        cuda.currentKernels().tanh(cuda.mainStreamHandle(), x.shape().size(), address(x), address(y));
    }

    @Override
    protected void tanhBackwardImpl(Tensor y, Tensor dy, Tensor dx) {
        cuda.currentKernels().tanhBackward(cuda.mainStreamHandle(), y.shape().size(), address(y), address(dy),
                address(dx));
    }

    @Override
    protected void dropoutImpl(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        cuda.currentKernels().dropout(cuda.mainStreamHandle(), x.shape().size(), p, seed, counter, address(x),
                address(y), address(mask));
    }

    /**
     * Per-tensor partial sums of squares in the order of {@code grads}, one total (float64, then
     * the square root rounded to float32 as the CPU engine rounds it) into {@code norm}, then each
     * tensor scaled by {@code maxNorm / (norm + 1e-6f)} by a kernel that reads the norm on the
     * device and does nothing unless {@code norm > maxNorm}: no host round trip.
     */
    @Override
    protected synchronized void clipGlobalNormImpl(List<Tensor> grads, float maxNorm, Tensor norm) {
        int count = grads.size();
        long[] addresses = new long[count];
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            addresses[i] = address(grads.get(i));
            sizes[i] = grads.get(i).shape().size();
        }
        CudaKernels k = cuda.currentKernels();
        long scratch = clipPartials.reserve(CudaKernels.clipGlobalNormScratchBytes(count));
        k.clipGlobalNorm(cuda.mainStreamHandle(), addresses, sizes, maxNorm, address(norm), scratch);
    }

    /** Bytes of scratch memory held now (for tests of the no-allocation promise). */
    synchronized long scratchBytes() {
        return clipPartials.capacity() + sortScratch.capacity();
    }

    /** Gives the scratch memory back to the allocator; the backend calls it before the allocator closes. */
    @Override
    public synchronized void close() {
        try {
            clipPartials.close();
        } finally {
            sortScratch.close();
        }
    }
}
