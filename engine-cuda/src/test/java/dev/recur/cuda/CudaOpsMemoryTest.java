package dev.recur.cuda;

import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static dev.recur.cuda.Twins.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory promises of the tensor, loss and optimizer ops, on the GPU (skipped, with the
 * reason, without one): a training step reaches {@code cuMemAlloc} only in its first run, a
 * smaller call after a bigger one reuses the scratch, and a closed backend leaves no block
 * behind, the ops' scratch included.
 */
class CudaOpsMemoryTest {

    @BeforeEach
    void needGpu() {
        CudaTestSupport.assumeGpu();
    }

    /** One step of a small embedding → logits → loss → clip → Adam loop, touching every scratch. */
    private static void step(CudaBackend gpu, int step, Tensor table, IndexTensor ids, Tensor emb, Tensor dropped,
                             Tensor mask, Tensor logits, Tensor bias, IndexTensor targets, Tensor loss, Tensor dLogits,
                             Tensor dBias, Tensor dTable, Tensor norm, Tensor m, Tensor v, Tensor smallLogits,
                             IndexTensor smallTargets, Tensor probs) {
        gpu.tensorOps().embeddingForward(table, ids, emb);
        gpu.tensorOps().dropout(emb, dropped, mask, 0.1f, 7, (long) step * emb.shape().size());
        gpu.tensorOps().addRowVector(logits, bias);
        gpu.lossOps().softmaxCrossEntropy(logits, targets, -1, loss, dLogits);
        gpu.lossOps().softmaxCrossEntropy(smallLogits, smallTargets, -1, loss, null); // fewer rows: no new scratch
        gpu.tensorOps().addColumnSums(dLogits, dBias);
        gpu.tensorOps().multiply(dropped, mask, emb);
        gpu.tensorOps().embeddingBackward(ids, emb, dTable);
        gpu.tensorOps().clipGlobalNorm(List.of(dTable, dBias), 1f, norm);
        gpu.optimizerOps().adam(table, dTable, m, v, step, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false);
        gpu.lossOps().meanSquaredError(emb, dropped, loss, null);
        gpu.lossOps().binaryCrossEntropyWithLogits(emb, probs, loss, dropped);
        loss.toArray(); // a read, as a trainer logs the loss
    }

    @Test
    void aTrainingStepReachesTheDriverOnlyInItsFirstRun() {
        Random r = new Random(301);
        int steps = 50;
        int batch = 32;
        int vocab = 300;
        int dim = 16;
        int classes = 300;
        int n = steps * batch;
        try (CudaBackend gpu = new CudaBackend(CudaOptions.defaults());
             Tensor table = gpu.tensor(gaussian(r, vocab * dim, 1), vocab, dim);
             IndexTensor ids = gpu.indices(r.ints(n, 0, vocab).toArray(), steps, batch);
             Tensor emb = gpu.tensor(steps, batch, dim);
             Tensor dropped = gpu.tensor(steps, batch, dim);
             Tensor mask = gpu.tensor(steps, batch, dim);
             Tensor logits = gpu.tensor(gaussian(r, n * classes, 1), n, classes);
             Tensor bias = gpu.tensor(gaussian(r, classes, 0.01), classes);
             IndexTensor targets = gpu.indices(r.ints(n, -1, classes).toArray(), n);
             Tensor loss = gpu.tensor(1);
             Tensor dLogits = gpu.tensor(n, classes);
             Tensor dBias = gpu.tensor(classes);
             Tensor dTable = gpu.tensor(vocab, dim);
             Tensor norm = gpu.tensor(1);
             Tensor m = gpu.tensor(vocab, dim);
             Tensor v = gpu.tensor(vocab, dim);
             Tensor smallLogits = gpu.tensor(gaussian(r, 10 * classes, 1), 10, classes);
             IndexTensor smallTargets = gpu.indices(r.ints(10, 0, classes).toArray(), 10);
             Tensor probs = gpu.tensor(Twins.uniform(r, n * dim, 0, 1), steps, batch, dim)) {
            CachingAllocator.Stats afterFirst = null;
            for (int s = 1; s <= 4; s++) {
                step(gpu, s, table, ids, emb, dropped, mask, logits, bias, targets, loss, dLogits, dBias, dTable, norm,
                        m, v, smallLogits, smallTargets, probs);
                CachingAllocator.Stats now = gpu.allocator().stats();
                if (afterFirst == null) {
                    afterFirst = now;
                    assertTrue(((CudaTensorOps) gpu.tensorOps()).scratchBytes() > 0, "the step used tensor scratch");
                    assertTrue(((CudaLossOps) gpu.lossOps()).scratchBytes() > 0, "the step used loss scratch");
                } else {
                    assertEquals(afterFirst.rawAllocations(), now.rawAllocations(), "step " + s + " reached cuMemAlloc");
                    assertEquals(afterFirst.liveBlocks(), now.liveBlocks(), "step " + s + " keeps no new block");
                    assertEquals(afterFirst.bytesHeld(), now.bytesHeld(), "step " + s);
                }
            }
        }
    }

    @Test
    void closingTheBackendAfterTheOpsLeavesNoBlockBehind() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        CudaBackend b;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            b = new CudaBackend(new CudaOptions(0, false, true)); // its leak reporter is this System.err
            Random r = new Random(302);
            try (Tensor table = b.tensor(gaussian(r, 40, 1), 10, 4);
                 IndexTensor ids = b.indices(new int[] {1, 2, 2, 9, 0, 1}, 6);
                 Tensor dOut = b.tensor(gaussian(r, 24, 1), 6, 4);
                 Tensor logits = b.tensor(gaussian(r, 60, 1), 6, 10);
                 Tensor loss = b.tensor(1);
                 Tensor norm = b.tensor(1)) {
                b.tensorOps().embeddingBackward(ids, dOut, table);
                b.tensorOps().clipGlobalNorm(List.of(table, dOut), 1f, norm);
                b.lossOps().softmaxCrossEntropy(logits, ids, -1, loss, null);
                b.lossOps().meanSquaredError(table, table, loss, null);
                assertTrue(((CudaTensorOps) b.tensorOps()).scratchBytes() > 0);
                assertTrue(((CudaLossOps) b.lossOps()).scratchBytes() > 0);
            }
            b.close();
            b.close();
        } finally {
            System.setErr(old);
        }
        String report = err.toString(StandardCharsets.UTF_8);
        assertFalse(report.contains("CUDA memory leak"), "the ops' scratch was given back before the allocator closed: "
                + report);
        assertNull(b.allocator().leakReport());
        assertEquals(0, ((CudaTensorOps) b.tensorOps()).scratchBytes());
        assertEquals(0, ((CudaLossOps) b.lossOps()).scratchBytes());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.tensorOps().scale(null, 1f));
        assertEquals("scale: the cuda backend is closed", e.getMessage());
    }
}
