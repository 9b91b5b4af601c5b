package dev.recur.cpu;

import dev.recur.api.IndexTensor;
import dev.recur.api.LossOps;
import dev.recur.api.OptimizerOps;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The model-layer ops: tensor ops exactly, losses against formulas and finite differences, optimizers by hand. */
class ModelOpsTest {

    private static CpuBackend be;
    private static TensorOps ops;
    private static LossOps losses;
    private static OptimizerOps optim;

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
        ops = be.tensorOps();
        losses = be.lossOps();
        optim = be.optimizerOps();
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @Test
    void embeddingGathersAndScatterAdds() {
        Tensor table = be.tensor(new float[] {0, 1, 10, 11, 20, 21}, 3, 2); // [V=3, E=2]
        IndexTensor ids = be.indices(new int[] {2, 0, 2, 1}, 2, 2);
        Tensor out = be.tensor(2, 2, 2);
        ops.embeddingForward(table, ids, out);
        assertArrayEquals(new float[] {20, 21, 0, 1, 20, 21, 10, 11}, out.toArray());
        Tensor dTable = be.tensor(new float[] {1, 1, 1, 1, 1, 1}, 3, 2);
        ops.embeddingBackward(ids, be.tensor(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2), dTable);
        // id 2 gets rows 0 and 2, id 0 row 1, id 1 row 3; accumulated onto the ones already there
        assertArrayEquals(new float[] {1 + 3, 1 + 4, 1 + 7, 1 + 8, 1 + 1 + 5, 1 + 2 + 6}, dTable.toArray());
        // A bad id anywhere leaves the gradient as it was (the CUDA engine checks them all first too).
        float[] before = dTable.toArray();
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ops.embeddingBackward(
                be.indices(new int[] {0, 3}, 2), be.tensor(new float[] {9, 9, 9, 9}, 2, 2), dTable));
        assertTrue(bad.getMessage().contains("ids[1] = 3 is outside the vocabulary [0, 3)"), bad.getMessage());
        assertArrayEquals(before, dTable.toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.embeddingForward(table, be.indices(new int[] {0, 3}, 2), be.tensor(2, 2)));
        assertTrue(e.getMessage().contains("ids[1] = 3 is outside the vocabulary [0, 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ops.embeddingForward(table, ids, be.tensor(2, 2, 3)));
        assertTrue(e.getMessage().contains("out must have shape [ids..., E] = [2, 2, 2], got [2, 2, 3]"), e.getMessage());
    }

    @Test
    void biasRowsColumnSumsTransposeAndElementwise() {
        Tensor x = be.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        ops.addRowVector(x, be.tensor(new float[] {10, 20}, 2));
        assertArrayEquals(new float[] {11, 22, 13, 24, 15, 26}, x.toArray());
        Tensor sums = be.tensor(new float[] {1, 1}, 2);
        ops.addColumnSums(x, sums);
        assertArrayEquals(new float[] {1 + 39, 1 + 72}, sums.toArray());
        Tensor t = be.tensor(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2); // [A=2, B=3, F=2]
        Tensor tt = be.tensor(3, 2, 2);
        ops.transpose01(t, tt);
        assertArrayEquals(new float[] {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}, tt.toArray());
        Tensor wide = be.tensor(2, 5);
        ops.copyIntoColumns(be.tensor(new float[] {1, 2, 3, 4}, 2, 2), wide, 1);
        ops.copyIntoColumns(be.tensor(new float[] {7, 8}, 2, 1), wide, 4);
        assertArrayEquals(new float[] {0, 1, 2, 0, 7, 0, 3, 4, 0, 8}, wide.toArray());
        Tensor back = be.tensor(2, 2);
        ops.copyFromColumns(wide, 1, back);
        assertArrayEquals(new float[] {1, 2, 3, 4}, back.toArray());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> ops.copyIntoColumns(be.tensor(2, 2), be.tensor(2, 5), 4));
        assertTrue(bad.getMessage().contains("src [2, 2] does not fit at column 4 of dst [2, 5]"), bad.getMessage());
        Tensor y = be.tensor(new float[] {1, 1, 1, 1, 1, 1}, 3, 2);
        ops.axpy(2f, be.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), y);
        assertArrayEquals(new float[] {3, 5, 7, 9, 11, 13}, y.toArray());
        ops.scale(y, 0.5f);
        assertArrayEquals(new float[] {1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f}, y.toArray());
        ops.multiply(y, be.tensor(new float[] {2, 2, 0, 0, 1, 1}, 3, 2), y);
        assertArrayEquals(new float[] {3, 5, 0, 0, 5.5f, 6.5f}, y.toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.axpy(1f, be.tensor(2, 3), be.tensor(3, 2)));
        assertTrue(e.getMessage().contains("y must have the shape of x [2, 3], got [3, 2]"), e.getMessage());
    }

    @Test
    void dropoutIsInvertedSeededAndCounterBased() {
        int n = 100_000;
        float p = 0.3f;
        Tensor x = be.tensor(n);
        x.fill(2f);
        Tensor y = be.tensor(n);
        Tensor mask = be.tensor(n);
        ops.dropout(x, y, mask, p, 7L, 0L);
        float[] m = mask.toArray();
        float[] ys = y.toArray();
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(m[i] == 0f || m[i] == 1f / (1f - p), "mask value " + m[i]);
            assertEquals(2f * m[i], ys[i]);
            dropped += m[i] == 0f ? 1 : 0;
        }
        // 100000 Bernoulli(0.3) draws: standard deviation 145, so 5 sigma is +-725.
        assertTrue(Math.abs(dropped - 30_000) < 725, "dropped " + dropped);
        Tensor again = be.tensor(n);
        ops.dropout(x, y, again, p, 7L, 0L);
        assertArrayEquals(m, again.toArray(), "same seed and counter, same mask");
        ops.dropout(x, y, again, p, 7L, 1L);
        assertEquals(m[1], again.toArray()[0], "the counter shifts the stream by one element");
        assertThrows(IllegalArgumentException.class, () -> ops.dropout(x, y, mask, 1f, 7L, 0L));
    }

    @Test
    void clipGlobalNormScalesOnlyAboveTheThreshold() {
        Tensor a = be.tensor(new float[] {3, 0}, 2);
        Tensor b = be.tensor(new float[] {0, 0, 4}, 3);
        Tensor norm = be.tensor(1);
        ops.clipGlobalNorm(List.of(a, b), 10f, norm);
        assertEquals(5f, norm.toArray()[0]);
        assertArrayEquals(new float[] {3, 0}, a.toArray(), "below the threshold nothing changes");
        ops.clipGlobalNorm(List.of(a, b), 1f, norm);
        assertEquals(5f, norm.toArray()[0]);
        float s = 1f / (5f + 1e-6f);
        assertArrayEquals(new float[] {3 * s, 0}, a.toArray());
        assertArrayEquals(new float[] {0, 0, 4 * s}, b.toArray());
    }

    @Test
    void softmaxCrossEntropyMatchesTheFormulaAndFiniteDifferences() {
        int n = 5;
        int c = 4;
        Random r = new Random(3);
        float[] x = LayerCase.uniform(r, n * c, 3f);
        int[] t = {1, -100, 3, 0, 3}; // row 1 is padding
        Tensor loss = be.tensor(1);
        Tensor d = be.tensor(n, c);
        losses.softmaxCrossEntropy(be.tensor(x, n, c), be.indices(t, n), -100, loss, d);
        double want = ceLoss(x, t, n, c);
        assertEquals(want, loss.toArray()[0], 1e-6, "mean over the 4 counted rows");
        float[] g = d.toArray();
        for (int k = 0; k < c; k++) {
            assertEquals(0f, g[c + k], "padded row gets no gradient");
        }
        double h = 1e-4;
        for (int i = 0; i < n * c; i++) {
            float keep = x[i];
            x[i] = (float) (keep + h);
            double up = ceLoss(x, t, n, c);
            x[i] = (float) (keep - h);
            double down = ceLoss(x, t, n, c);
            x[i] = keep;
            // float32 gradient against a float64 central difference over a float32-rounded step
            assertEquals((up - down) / (2 * h), g[i], 2e-4, "dLogits[" + i + "]");
        }
        losses.softmaxCrossEntropy(be.tensor(x, n, c), be.indices(new int[] {-100, -100, -100, -100, -100}, n), -100,
                loss, d);
        assertEquals(0f, loss.toArray()[0], "nothing counted: zero loss");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> losses.softmaxCrossEntropy(
                be.tensor(x, n, c), be.indices(new int[] {0, 4, 0, 0, 0}, n), -100, loss, d));
        assertTrue(e.getMessage().contains("targets[1] = 4 is outside [0, 4)"), e.getMessage());
        Tensor logits = be.tensor(x, n, c);
        e = assertThrows(IllegalArgumentException.class, () -> losses.softmaxCrossEntropy(logits,
                be.indices(t, n), -100, loss, logits));
        assertEquals("softmaxCrossEntropy: dLogits and logits are the same tensor; give the gradient its own",
                e.getMessage());
    }

    private static double ceLoss(float[] x, int[] t, int n, int c) {
        double total = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (t[i] == -100) {
                continue;
            }
            double z = 0;
            for (int k = 0; k < c; k++) {
                z += Math.exp(x[i * c + k]);
            }
            total += Math.log(z) - x[i * c + t[i]];
            count++;
        }
        return total / count;
    }

    @Test
    void meanSquaredErrorAndBinaryCrossEntropy() {
        Tensor loss = be.tensor(1);
        Tensor d = be.tensor(3);
        losses.meanSquaredError(be.tensor(new float[] {1, 2, 3}, 3), be.tensor(new float[] {1, 0, 5}, 3), loss, d);
        assertEquals((0 + 4 + 4) / 3f, loss.toArray()[0], 1e-7);
        assertArrayEquals(new float[] {0, 2 * 2 / 3f, 2 * -2 / 3f}, d.toArray(), 1e-7f);
        float[] x = {-30f, 0f, 2f};
        float[] t = {0f, 1f, 0.25f};
        losses.binaryCrossEntropyWithLogits(be.tensor(x, 3), be.tensor(t, 3), loss, d);
        double want = 0;
        for (int i = 0; i < 3; i++) {
            double s = 1 / (1 + Math.exp(-x[i]));
            want += -(t[i] * Math.log(s) + (1 - t[i]) * Math.log1p(-s));
        }
        assertEquals(want / 3, loss.toArray()[0], 1e-6, "stable form equals -[t log σ + (1-t) log(1-σ)]");
        float[] g = d.toArray();
        for (int i = 0; i < 3; i++) {
            assertEquals((1 / (1 + Math.exp(-x[i])) - t[i]) / 3, g[i], 1e-7);
        }
    }

    @Test
    void optimizerStepsMatchHandComputedValues() {
        // SGD, momentum 0.9, weight decay 0.1, lr 0.5, param 1, grad 2:
        // g = 2 + 0.1·1 = 2.1; v = 0.9·0 + 2.1 = 2.1; param = 1 - 0.5·2.1 = -0.05.
        // Second step with grad 0: g = 0.1·(-0.05) = -0.005; v = 0.9·2.1 - 0.005 = 1.885;
        // param = -0.05 - 0.5·1.885 = -0.9925.
        Tensor p = be.tensor(new float[] {1f}, 1);
        Tensor v = be.tensor(1);
        optim.sgd(p, be.tensor(new float[] {2f}, 1), v, 0.5f, 0.9f, 0.1f, false);
        assertEquals(-0.05f, p.toArray()[0], 1e-7);
        optim.sgd(p, be.tensor(new float[] {0f}, 1), v, 0.5f, 0.9f, 0.1f, false);
        assertEquals(-0.9925f, p.toArray()[0], 1e-6);
        // Nesterov, first step: v = 2; g = 2 + 0.9·2 = 3.8; param = 1 - 0.1·3.8 = 0.62.
        Tensor pn = be.tensor(new float[] {1f}, 1);
        optim.sgd(pn, be.tensor(new float[] {2f}, 1), be.tensor(1), 0.1f, 0.9f, 0f, true);
        assertEquals(0.62f, pn.toArray()[0], 1e-7);

        // RMSprop, alpha 0.99, eps 1e-8, lr 0.01, param 1, grad 2:
        // s = 0.01·4 = 0.04; param = 1 - 0.01·2 / (0.2 + 1e-8) = 0.9 (to 1e-7).
        Tensor pr = be.tensor(new float[] {1f}, 1);
        optim.rmsprop(pr, be.tensor(new float[] {2f}, 1), be.tensor(1), 0.01f, 0.99f, 1e-8f, 0f);
        assertEquals(0.9f, pr.toArray()[0], 1e-6);

        // Adam, step 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so param -= lr·g/(|g| + eps) = lr·sign(g).
        // lr 0.1, param 1, grad -3 -> 1.1 (eps shifts it by 3e-9, below float resolution here).
        Tensor pa = be.tensor(new float[] {1f}, 1);
        Tensor m = be.tensor(1);
        Tensor s = be.tensor(1);
        optim.adam(pa, be.tensor(new float[] {-3f}, 1), m, s, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false);
        assertEquals(1.1f, pa.toArray()[0], 1e-6);
        assertEquals(-0.3f, m.toArray()[0], 1e-7);
        // 0.999f is 0.99900001 in float, so 1 - β2 (and v) is off by 1.3e-5 relative to 0.001·9.
        assertEquals(0.009f, s.toArray()[0], 2e-7);
        // AdamW decays the parameter first: param = 1·(1 - 0.1·0.5) = 0.95, then the same Adam step: 1.05.
        Tensor pw = be.tensor(new float[] {1f}, 1);
        optim.adam(pw, be.tensor(new float[] {-3f}, 1), be.tensor(1), be.tensor(1), 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f,
                true);
        assertEquals(1.05f, pw.toArray()[0], 1e-6);
        // Adam with coupled weight decay: g = -3 + 0.5·1 = -2.5, still a step of lr·sign(g): 1.1.
        Tensor pc = be.tensor(new float[] {1f}, 1);
        optim.adam(pc, be.tensor(new float[] {-3f}, 1), be.tensor(1), be.tensor(1), 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f,
                false);
        assertEquals(1.1f, pc.toArray()[0], 1e-6);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> optim.adam(pa,
                be.tensor(1), m, s, 0, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false));
        assertTrue(e.getMessage().contains("step counts from 1, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> optim.sgd(pa, be.tensor(2), null, 0.1f, 0f, 0f, false));
        assertTrue(e.getMessage().contains("grad must have the shape of param [1], got [2]"), e.getMessage());
    }
}
