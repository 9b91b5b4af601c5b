package dev.recur.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link CpuBackend#firstNonFinite(float[])}: the vector pass and the scan for the index. */
class FirstNonFiniteTest {

    @Test
    void findsTheFirstNanOrInfinityAtEveryPositionAndLength() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int n = 0; n <= 9 * lanes + 3; n++) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) {
                // Finite extremes too: MAX_VALUE·0 and -0·0 are 0, not NaN.
                d[i] = i % 3 == 0 ? Float.MAX_VALUE : i % 3 == 1 ? -0f : -Float.MIN_VALUE * i;
            }
            assertEquals(-1, CpuBackend.firstNonFinite(d), "all finite, n = " + n);
            for (int at = 0; at < n; at++) {
                for (float v : bad) {
                    float keep = d[at];
                    d[at] = v;
                    if (at + 2 < n) {
                        d[at + 2] = Float.NaN; // a later one does not hide the first
                    }
                    assertEquals(at, CpuBackend.firstNonFinite(d), v + " at " + at + " of " + n);
                    d[at] = keep;
                    if (at + 2 < n) {
                        d[at + 2] = (at + 2) % 3 == 0 ? Float.MAX_VALUE : (at + 2) % 3 == 1 ? -0f : -Float.MIN_VALUE * (at + 2);
                    }
                }
            }
        }
    }
}
