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

    @Test
    void activateGivesTheBitsOfSigmoidAndTanh() {
        // activate writes exp out (see GateMath's Note [Passes]); it must stay the same function as
        // the reference sigmoid and tanh, to the bit, also in the masked last vector of a row.
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        int n = 40_000 + 3; // not a multiple of the lanes
        float[] in = new float[n];
        for (int i = 0; i < n; i++) {
            in[i] = -30f + 60f * i / n;
        }
        in[0] = 0f;
        in[1] = -0f;
        in[2] = 1e-30f;
        in[3] = 0.625f;
        in[4] = -0.625f;
        in[5] = 1e4f;
        in[6] = -1e4f;
        for (boolean tanh : new boolean[] {GateMath.SIGMOID, GateMath.TANH}) {
            float[] out = new float[n + 5];
            GateMath.activate(tanh, in, 0, out, 5, n);
            float[] inPlace = in.clone();
            GateMath.activate(tanh, inPlace, 0, inPlace, 0, n);
            float[] v = new float[lanes];
            float[] want = new float[lanes];
            for (int i = 0; i < n; i += lanes) {
                java.util.Arrays.fill(v, 0f);
                System.arraycopy(in, i, v, 0, Math.min(lanes, n - i));
                FloatVector x = FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0);
                (tanh ? GateMath.tanh(x) : GateMath.sigmoid(x)).intoArray(want, 0);
                for (int l = 0; l < lanes && i + l < n; l++) {
                    String what = (tanh ? "tanh" : "sigmoid") + "(" + in[i + l] + ")";
                    assertEquals(Float.floatToRawIntBits(want[l]), Float.floatToRawIntBits(out[5 + i + l]), what);
                    assertEquals(Float.floatToRawIntBits(want[l]), Float.floatToRawIntBits(inPlace[i + l]),
                            what + " in place");
                }
            }
            for (int i = 0; i < 5; i++) {
                assertEquals(0f, out[i], "activate wrote before its range");
            }
        }
    }
}
