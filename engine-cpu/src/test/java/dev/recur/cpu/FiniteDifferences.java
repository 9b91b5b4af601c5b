package dev.recur.cpu;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** An engine's float32 gradient against central finite differences of a float64 oracle's loss. */
final class FiniteDifferences {

    private FiniteDifferences() {
    }

    /**
     * Compares {@code got} with {@link OptionsOracle#centralDifferences} of {@code loss} in every
     * element of {@code theta} (perturbed in place by ±{@code step}, restored after): each within
     * {@code atol + rtol·|fd|}, else fails naming {@code what}, the index and both values.
     */
    static void compare(String what, double[] theta, float[] got, DoubleSupplier loss, double step, double atol,
                        double rtol) {
        if (got == null || got.length != theta.length) {
            fail(what + ": engine gradient has " + (got == null ? "no array" : got.length + " elements")
                    + ", expected " + theta.length);
        }
        double[] fd = OptionsOracle.centralDifferences(theta, step, loss);
        for (int i = 0; i < theta.length; i++) {
            double e = Math.abs(got[i] - fd[i]);
            if (!(e <= atol + rtol * Math.abs(fd[i]))) {
                fail(what + "[" + i + "] = " + got[i] + ", finite difference " + fd[i] + ", |diff| " + e);
            }
        }
    }
}
