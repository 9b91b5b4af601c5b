package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link Attention} against a float64 oracle written here (plain loops over the formulas of its
 * javadoc): the forward's output and weights, and every gradient (each parameter, the queries
 * and the keys) against central differences of the oracle in float64, for the three scores and
 * keys both of the query's size and twice it (a bidirectional encoder). The masked keys (past
 * each sentence's length) get exactly zero weight and exactly zero gradient.
 */
class AttentionTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** The oracle: h~ [B, T, H] (and the weights [B, T, S] into {@code weightsOut} when not null). */
    static double[] oracle(Attention.Kind kind, Map<String, double[]> p, double[] keys, double[] queries, int[] len,
                           int b, int t, int s, int h, int k, double[] weightsOut) {
        double[] out = new double[b * t * h];
        for (int n = 0; n < b; n++) {
            for (int i = 0; i < t; i++) {
                double[] q = new double[h];
                System.arraycopy(queries, (n * t + i) * h, q, 0, h);
                double[] e = new double[len[n]];
                for (int j = 0; j < len[n]; j++) {
                    double[] key = new double[k];
                    System.arraycopy(keys, (n * s + j) * k, key, 0, k);
                    e[j] = switch (kind) {
                        case DOT -> dot(q, key);
                        case GENERAL -> dot(q, matVec(p.get("weight"), key, h, k));
                        case ADDITIVE -> {
                            double[] wq = matVec(p.get("query.weight"), q, h, h);
                            double[] wk = matVec(p.get("key.weight"), key, h, k);
                            double sum = 0;
                            for (int a = 0; a < h; a++) {
                                sum += p.get("v.weight")[a] * Math.tanh(wq[a] + p.get("query.bias")[a] + wk[a]);
                            }
                            yield sum;
                        }
                        default -> throw new IllegalStateException();
                    };
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double x : e) {
                    max = Math.max(max, x);
                }
                double z = 0;
                for (double x : e) {
                    z += Math.exp(x - max);
                }
                double[] c = new double[k];
                for (int j = 0; j < len[n]; j++) {
                    double a = Math.exp(e[j] - max) / z;
                    if (weightsOut != null) {
                        weightsOut[(n * t + i) * s + j] = a;
                    }
                    for (int d = 0; d < k; d++) {
                        c[d] += a * keys[(n * s + j) * k + d];
                    }
                }
                double[] joined = new double[k + h];
                System.arraycopy(c, 0, joined, 0, k);
                System.arraycopy(q, 0, joined, k, h);
                double[] pre = matVec(p.get("combine.weight"), joined, h, k + h);
                for (int d = 0; d < h; d++) {
                    out[(n * t + i) * h + d] = Math.tanh(pre[d] + p.get("combine.bias")[d]);
                }
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** {@code W [rows, cols] · x [cols]}. */
    private static double[] matVec(double[] w, double[] x, int rows, int cols) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                y[r] += w[r * cols + c] * x[c];
            }
        }
        return y;
    }

    private static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void forwardAndEveryGradientMatchTheFloat64OracleAndTheMaskIsExact() {
        int b = 3;
        int t = 2;
        int s = 4;
        int h = 3;
        int[] len = {4, 2, 1};
        for (Attention.Kind kind : new Attention.Kind[] {Attention.Kind.DOT, Attention.Kind.GENERAL,
            Attention.Kind.ADDITIVE}) {
            for (int k : kind == Attention.Kind.DOT ? new int[] {h} : new int[] {h, 2 * h}) {
                String what = kind.id() + " K=" + k;
                Random r = new Random(31 + k);
                float[] keyValues = gaussian(r, b * s * k);
                for (int n = 0; n < b; n++) {
                    for (int j = len[n]; j < s; j++) {
                        for (int d = 0; d < k; d++) {
                            keyValues[(n * s + j) * k + d] = 7f; // padding: must not matter
                        }
                    }
                }
                float[] queryValues = gaussian(r, b * t * h);
                float[] w = gaussian(r, b * t * h); // the loss is Σ w ⊙ h~
                try (Attention att = new Attention(be, "", kind, h, k, new SplittableRandom(4));
                     Tensor keys = be.tensor(keyValues, b, s, k);
                     Tensor queries = be.tensor(queryValues, b, t, h);
                     IndexTensor lengths = be.indices(len, b);
                     Tensor dOut = be.tensor(w, b, t, h);
                     Tensor dQueries = be.tensor(b, t, h);
                     Tensor dKeys = be.tensor(b, s, k)) {
                    Map<String, double[]> params = new HashMap<>();
                    for (Parameter p : att.parameters()) {
                        params.put(p.name(), widen(p.value().toArray()));
                        p.zeroGrad();
                    }
                    float[] got = att.forward(keys, lengths, queries).toArray();
                    double[] weights = new double[b * t * s];
                    double[] want = oracle(kind, params, widen(keyValues), widen(queryValues), len, b, t, s, h, k,
                            weights);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-5, what + ": h~[" + i + "]");
                    }
                    float[] a = att.weights();
                    for (int i = 0; i < a.length; i++) {
                        if (i % s >= len[i / (t * s)]) {
                            assertEquals(0, Float.floatToIntBits(a[i]), what + ": masked weight [" + i + "] is +0");
                        } else {
                            assertEquals(weights[i], a[i], 1e-5, what + ": weight [" + i + "]");
                        }
                    }
                    att.backward(dOut, dQueries, dKeys);
                    double[] wd = widen(w);
                    for (Parameter p : att.parameters()) {
                        checkAgainstDifferences(what + " " + p.name(), p.grad().toArray(), params.get(p.name()),
                                x -> loss(kind, params, widen(keyValues), widen(queryValues), len, b, t, s, h, k, wd));
                    }
                    checkAgainstDifferences(what + " queries", dQueries.toArray(), widen(queryValues), x -> loss(kind, params, widen(keyValues), x, len, b, t, s, h, k, wd));
                    float[] dk = dKeys.toArray();
                    checkAgainstDifferences(what + " keys", dk, widen(keyValues),
                            x -> loss(kind, params, x, widen(queryValues), len, b, t, s, h, k, wd));
                    for (int n = 0; n < b; n++) {
                        for (int j = len[n]; j < s; j++) {
                            for (int d = 0; d < k; d++) {
                                int i = (n * s + j) * k + d;
                                assertEquals(0, Float.floatToIntBits(dk[i]), what + ": masked key gradient [" + i
                                        + "] must be exactly +0");
                            }
                        }
                    }
                }
            }
        }
    }

    private static double loss(Attention.Kind kind, Map<String, double[]> p, double[] keys, double[] queries,
                               int[] len, int b, int t, int s, int h, int k, double[] w) {
        double[] out = oracle(kind, p, keys, queries, len, b, t, s, h, k, null);
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            sum += w[i] * out[i];
        }
        return sum;
    }

    /**
     * Central differences (step 1e-6, float64) of {@code loss} over each entry of {@code input},
     * which is changed in place and restored (a parameter's array in the oracle's map, or the
     * queries or keys passed to {@code loss}).
     */
    private static void checkAgainstDifferences(String what, float[] grad, double[] input,
                                                java.util.function.Function<double[], Double> loss) {
        double step = 1e-6;
        for (int i = 0; i < input.length; i++) {
            double keep = input[i];
            input[i] = keep + step;
            double up = loss.apply(input);
            input[i] = keep - step;
            double down = loss.apply(input);
            input[i] = keep;
            double fd = (up - down) / (2 * step);
            // float32 forward and backward against a float64 quotient (its own error ~1e-9).
            if (!(Math.abs(grad[i] - fd) <= 2e-5 + 1e-4 * Math.abs(fd))) {
                fail(what + "[" + i + "]: gradient " + grad[i] + ", central difference " + fd);
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Attention(be, "", Attention.Kind.DOT, 4, 8, new SplittableRandom(1)));
        assertTrue(e.getMessage().startsWith("attention: dot scores need keys of the query's size 4, got 8"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.Kind.parse("luong"));
        assertEquals("attention must be one of none, additive, dot, general; got 'luong'", e.getMessage());
        try (Attention att = new Attention(be, "", Attention.Kind.GENERAL, 4, 8, new SplittableRandom(1));
             Tensor keys = be.tensor(2, 3, 4); Tensor queries = be.tensor(2, 1, 4);
             IndexTensor lengths = be.indices(new int[] {3, 3}, 2)) {
            e = assertThrows(IllegalArgumentException.class, () -> att.forward(keys, lengths, queries));
            assertEquals("attention: keys must be [B, S, 8], got [2, 3, 4]", e.getMessage());
            assertEquals(List.of("weight", "combine.weight", "combine.bias"),
                    att.parameters().stream().map(Parameter::name).toList());
        }
    }
}
