package dev.recur.cuda;

import dev.recur.api.IndexTensor;
import dev.recur.api.LossOps;
import dev.recur.api.Tensor;

import static dev.recur.cuda.CudaBackend.address;

/**
 * {@link LossOps} on the GPU: each loss is a fixed chain of kernels ({@link CudaKernels}, named
 * after engine-cpu's {@code CpuLossOps}) on the backend's main stream that leaves the mean loss
 * in the {@code [1]} device tensor and, when asked, the gradient; nothing is read back. The sums
 * are float64 in a fixed shape (per-row or per-block partials, then one block adds them), so a
 * loss repeats bit for bit and differs from the CPU engine's, which sums in index order, only by
 * rounding.
 *
 * <p>The partial sums live in scratch memory owned by this object, grown only when a call needs
 * more (cross-entropy needs a double per row) and given back when the backend closes.
 *
 * <p>Targets: a target outside {@code [0, C)} that is not the ignore index is refused before any
 * kernel runs, with the CPU engine's message, from the {@link IndexBounds} kept at upload (see
 * {@link CudaTensorOps}).
 */
final class CudaLossOps extends LossOps implements AutoCloseable {

    private final CudaBackend cuda;
    /** Cross-entropy: [n] double row losses and the count; MSE and BCE: [PARTIALS] double. */
    private final DeviceScratch partials;

    CudaLossOps(CudaBackend backend) {
        super(backend);
        this.cuda = backend;
        this.partials = new DeviceScratch(backend.allocator(), "loss partials");
    }

    @Override
    protected synchronized void softmaxCrossEntropyImpl(Tensor logits, IndexTensor targets, int ignoreIndex,
                                                        Tensor loss, Tensor dLogits, int n, int c) {
        requireTargets(targets, c, ignoreIndex);
        CudaKernels k = cuda.currentKernels();
        long scratch = partials.reserve(CudaKernels.softmaxCrossEntropyScratchBytes(n));
        // error = 0: the targets were checked above, so the kernel's report is not needed.
        k.softmaxCrossEntropy(cuda.mainStreamHandle(), n, c, ignoreIndex, address(logits), address(targets),
                address(loss), dLogits == null ? 0L : address(dLogits), scratch, 0L);
    }

    /** Throws the CPU engine's exception when a target is neither in {@code [0, c)} nor the ignore index. */
    private static void requireTargets(IndexTensor targets, int c, int ignoreIndex) {
        if (((CudaIndexTensor) targets).bounds().allInOrEqual(0, c, ignoreIndex)) {
            return;
        }
        int[] t = targets.toArray(); // the error path only: find the first bad target to name it
        for (int i = 0; i < t.length; i++) {
            if (t[i] != ignoreIndex && (t[i] < 0 || t[i] >= c)) {
                throw new IllegalArgumentException("softmaxCrossEntropy: targets[" + i + "] = " + t[i]
                        + " is outside [0, " + c + ") and is not the ignore index " + ignoreIndex);
            }
        }
        throw new IllegalStateException("softmaxCrossEntropy: the host's bounds of targets "
                + ((CudaIndexTensor) targets).bounds() + " disagree with the device's values, which are all valid");
    }

    @Override
    protected synchronized void meanSquaredErrorImpl(Tensor pred, Tensor target, Tensor loss, Tensor dPred) {
        CudaKernels k = cuda.currentKernels();
        long scratch = partials.reserve(CudaKernels.meanLossScratchBytes());
        k.meanSquaredError(cuda.mainStreamHandle(), pred.shape().size(), address(pred), address(target), address(loss),
                dPred == null ? 0L : address(dPred), scratch);
    }

    @Override
    protected synchronized void binaryCrossEntropyWithLogitsImpl(Tensor logits, Tensor target, Tensor loss,
                                                                 Tensor dLogits) {
        CudaKernels k = cuda.currentKernels();
        long scratch = partials.reserve(CudaKernels.meanLossScratchBytes());
        k.binaryCrossEntropyWithLogits(cuda.mainStreamHandle(), logits.shape().size(), address(logits), address(target),
                address(loss), dLogits == null ? 0L : address(dLogits), scratch);
    }

    /** Bytes of scratch memory held now (for tests of the no-allocation promise). */
    synchronized long scratchBytes() {
        return partials.capacity();
    }

    /** Gives the scratch memory back to the allocator; the backend calls it before the allocator closes. */
    @Override
    public synchronized void close() {
        partials.close();
    }
}
