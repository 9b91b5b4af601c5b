package dev.recur.cpu;

import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attention ops of {@link TensorOps}: the masked softmax and its backward against float64
 * oracles written here (simple loops) and central finite differences in float64, with the masked
 * positions exactly zero; tanh and its backward; the argument checks.
 */
class AttentionOpsTest {

    private static CpuBackend be;
    private static TensorOps ops;

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
        ops = be.tensorOps();
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** float64 oracle: softmax over the first len[n] entries of each row of s [N, R, L], 0 after. */
    static double[] softmaxOracle(double[] s, int[] len, int n, int rows, int cols) {
        double[] p = new double[s.length];
        for (int b = 0; b < n; b++) {
            for (int r = 0; r < rows; r++) {
                int base = (b * rows + r) * cols;
                double max = Double.NEGATIVE_INFINITY;
                for (int l = 0; l < len[b]; l++) {
                    max = Math.max(max, s[base + l]);
                }
                double sum = 0;
                for (int l = 0; l < len[b]; l++) {
                    sum += Math.exp(s[base + l] - max);
                }
                for (int l = 0; l < len[b]; l++) {
                    p[base + l] = Math.exp(s[base + l] - max) / sum;
                }
            }
        }
        return p;
    }

    private static final int[][] SHAPES = {{1, 1, 1}, {2, 3, 5}, {3, 4, 7}, {1, 2, 33}};

    private static int[] lengths(Random r, int n, int cols) {
        int[] len = new int[n];
        for (int b = 0; b < n; b++) {
            len[b] = b == 0 ? cols : 1 + r.nextInt(cols);
        }
        return len;
    }

    @Test
    void maskedSoftmaxMatchesTheFloat64OracleAndZeroesThePadding() {
        Random r = new Random(20);
        for (int[] shape : SHAPES) {
            int n = shape[0], rows = shape[1], cols = shape[2], size = n * rows * cols;
            int[] len = lengths(r, n, cols);
            float[] s = new float[size];
            double[] sd = new double[size];
            for (int i = 0; i < size; i++) {
                boolean masked = i % cols >= len[i / (rows * cols)];
                s[i] = masked ? Float.NaN : (float) (4 * r.nextGaussian()); // padding is never read
                sd[i] = s[i];
            }
            double[] expected = softmaxOracle(sd, len, n, rows, cols);
            try (Tensor scores = be.tensor(s, shape); Tensor probs = be.tensor(shape);
                 IndexTensor lengths = be.indices(len, n)) {
                ops.maskedSoftmax(scores, lengths, probs);
                float[] p = probs.toArray();
                for (int i = 0; i < size; i++) {
                    if (i % cols >= len[i / (rows * cols)]) {
                        assertEquals(0, Float.floatToIntBits(p[i]), "masked probs[" + i + "] must be exactly +0");
                    } else {
                        // float32 exp (rounded from double), a float32 sum of up to 33 terms and one
                        // division: a few ulp of 1 at most.
                        assertEquals(expected[i], p[i], 1e-6 + 1e-6 * expected[i], "probs[" + i + "] of " + shape[0]
                                + "x" + rows + "x" + cols);
                    }
                }
                ops.maskedSoftmax(scores, lengths, scores); // in place: the same values
                float[] again = scores.toArray();
                for (int i = 0; i < size; i++) {
                    assertEquals(Float.floatToIntBits(p[i]), Float.floatToIntBits(again[i]), "in place [" + i + "]");
                }
            }
        }
    }

    @Test
    void maskedSoftmaxBackwardMatchesCentralDifferencesAndIsZeroWhereMasked() {
        Random r = new Random(21);
        for (int[] shape : SHAPES) {
            int n = shape[0], rows = shape[1], cols = shape[2], size = n * rows * cols;
            int[] len = lengths(r, n, cols);
            double[] s = new double[size];
            double[] w = new double[size]; // the loss is Σ w ⊙ softmax(s)
            for (int i = 0; i < size; i++) {
                s[i] = 2 * r.nextGaussian();
                w[i] = r.nextGaussian();
            }
            double[] p = softmaxOracle(s, len, n, rows, cols);
            float[] pf = new float[size];
            float[] wf = new float[size];
            for (int i = 0; i < size; i++) {
                pf[i] = (float) p[i];
                wf[i] = (float) w[i];
                if (i % cols >= len[i / (rows * cols)]) {
                    wf[i] = Float.NaN; // dProbs past the length is never read either
                }
            }
            try (Tensor probs = be.tensor(pf, shape); Tensor dProbs = be.tensor(wf, shape);
                 Tensor dScores = be.tensor(shape); IndexTensor lengths = be.indices(len, n)) {
                ops.maskedSoftmaxBackward(probs, dProbs, lengths, dScores);
                float[] ds = dScores.toArray();
                double h = 1e-6;
                for (int i = 0; i < size; i++) {
                    if (i % cols >= len[i / (rows * cols)]) {
                        assertEquals(0, Float.floatToIntBits(ds[i]), "masked dScores[" + i + "] must be exactly +0");
                        continue;
                    }
                    double[] plus = s.clone();
                    double[] minus = s.clone();
                    plus[i] += h;
                    minus[i] -= h;
                    double fd = (dot(w, softmaxOracle(plus, len, n, rows, cols), len, rows, cols)
                            - dot(w, softmaxOracle(minus, len, n, rows, cols), len, rows, cols)) / (2 * h);
                    // float32 inputs and arithmetic against a float64 difference quotient (error ~1e-9).
                    assertEquals(fd, ds[i], 2e-6 + 1e-5 * Math.abs(fd), "dScores[" + i + "] of " + n + "x" + rows
                            + "x" + cols);
                }
            }
        }
    }

    /** Σ w·p over the valid positions only. */
    private static double dot(double[] w, double[] p, int[] len, int rows, int cols) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            if (i % cols < len[i / (rows * cols)]) {
                sum += w[i] * p[i];
            }
        }
        return sum;
    }

    @Test
    void tanhAndItsBackward() {
        Random r = new Random(22);
        int size = 257;
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (3 * r.nextGaussian());
        }
        try (Tensor xt = be.tensor(x, size); Tensor y = be.tensor(size)) {
            ops.tanh(xt, y);
            float[] ys = y.toArray();
            for (int i = 0; i < size; i++) {
                assertEquals((float) Math.tanh(x[i]), ys[i], 0f, "tanh[" + i + "] is the rounded float64 tanh");
            }
            // Central differences of Σ w·tanh(x) in float64 against tanhBackward from the float32 output.
            float[] w = new float[size];
            for (int i = 0; i < size; i++) {
                w[i] = (float) r.nextGaussian();
            }
            try (Tensor dy = be.tensor(w, size); Tensor dx = be.tensor(size)) {
                ops.tanhBackward(y, dy, dx);
                float[] d = dx.toArray();
                for (int i = 0; i < size; i++) {
                    double h = 1e-6;
                    double fd = w[i] * (Math.tanh(x[i] + h) - Math.tanh(x[i] - h)) / (2 * h);
                    assertEquals(fd, d[i], 1e-6 + 1e-5 * Math.abs(fd), "dx[" + i + "]");
                }
            }
        }
        // Small dyadic values: every float32 step is exact, so equality is demanded.
        try (Tensor y = be.tensor(new float[] {0.5f, -0.25f, 0f, 1f}, 4);
             Tensor dy = be.tensor(new float[] {2f, 4f, -3f, 5f}, 4)) {
            ops.tanhBackward(y, dy, dy); // dx may be dy
            assertEquals(java.util.List.of(1.5f, 3.75f, -3f, 0f), java.util.List.of(box(dy.toArray())));
        }
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    @Test
    void badArgumentsAreNamed() {
        try (Tensor s = be.tensor(2, 3, 4); Tensor p = be.tensor(2, 3, 4); Tensor flat = be.tensor(6, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ops.maskedSoftmax(s, be.indices(new int[] {4, 0}, 2), p));
            assertEquals("maskedSoftmax: lengths[1] = 0 is outside 1..4 (each block of rows needs at least one valid"
                    + " position, at most L = 4)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> ops.maskedSoftmaxBackward(s, p, be.indices(new int[] {5, 1}, 2), p));
            assertTrue(e.getMessage().startsWith("maskedSoftmaxBackward: lengths[0] = 5 is outside 1..4"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> ops.maskedSoftmax(s, be.indices(new int[] {1, 1, 1}, 3), p));
            assertEquals("maskedSoftmax: lengths must be [N] = [2] (one per block of rows), got [3]", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> ops.maskedSoftmax(flat, be.indices(new int[] {1}, 1), flat));
            assertTrue(e.getMessage().startsWith("maskedSoftmax: scores"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.tanh(s, flat));
            assertTrue(e.getMessage().startsWith("tanh: y must have the shape of x"), e.getMessage());
        }
    }
}
