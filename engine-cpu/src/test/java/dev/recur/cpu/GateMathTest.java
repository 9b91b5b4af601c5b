package dev.recur.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's own vector exp, sigmoid and tanh against float64 {@link Math}, over their range. */
class GateMathTest {

    /** Largest error of {@code f} against {@code ref} over a sweep of [lo, hi]: {abs, rel}. */
    static double[] sweep(UnaryOperator<FloatVector> f, DoubleUnaryOperator ref, float lo, float hi) {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        int n = 200_000;
        float[] in = new float[lanes];
        float[] out = new float[lanes];
        double worstAbs = 0;
        double worstRel = 0;
        for (int i = 0; i < n; i += lanes) {
            for (int l = 0; l < lanes; l++) {
                in[l] = lo + (hi - lo) * (i + l) / n;
            }
            f.apply(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, in, 0)).intoArray(out, 0);
            for (int l = 0; l < lanes; l++) {
                double want = ref.applyAsDouble(in[l]);
                double e = Math.abs(out[l] - want);
                worstAbs = Math.max(worstAbs, e);
                if (Math.abs(want) > 1e-30) {
                    worstRel = Math.max(worstRel, e / Math.abs(want));
                }
            }
        }
        return new double[] {worstAbs, worstRel};
    }

    @Test
    void expIsWithinAFewUlps() {
        // float32 has a relative spacing of 1.19e-7; Cephes' polynomial is good to about 1 ulp,
        // and the 2^n scaling is exact.
        double[] e = sweep(GateMath::exp, Math::exp, -87f, 87f);
        assertTrue(e[1] < 3e-7, "exp relative error " + e[1]);
    }

    @Test
    void sigmoidAndTanhAreAccurateAndSaturate() {
        // Absolute error is what matters for gate values in [0, 1] and [-1, 1]: a few float32 ulps of 1.
        double[] s = sweep(GateMath::sigmoid, x -> 1 / (1 + Math.exp(-x)), -100f, 100f);
        assertTrue(s[0] < 2e-7, "sigmoid absolute error " + s[0]);
        double[] t = sweep(GateMath::tanh, Math::tanh, -100f, 100f);
        assertTrue(t[0] < 3e-7, "tanh absolute error " + t[0]);
        // Near zero tanh keeps its relative precision (the polynomial branch).
        double[] small = sweep(GateMath::tanh, Math::tanh, -0.6f, 0.6f);
        assertTrue(small[1] < 5e-7, "tanh relative error near 0: " + small[1]);
        float[] out = new float[FloatVector.SPECIES_PREFERRED.length()];
        GateMath.tanh(FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, -1e4f)).intoArray(out, 0);
        assertEquals(-1f, out[0]);
        GateMath.sigmoid(FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, 1e4f)).intoArray(out, 0);
        assertEquals(1f, out[0]);
    }
}
