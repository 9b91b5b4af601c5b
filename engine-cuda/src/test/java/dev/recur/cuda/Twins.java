package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The same data on the CPU engine and on the GPU, for tests that run an op on both and compare:
 * {@link #tensor} and {@link #indices} make a pair holding one host array's copy on each engine,
 * and the assertions compare what came back, printing the first mismatches (index, CPU value,
 * GPU value, difference) and the largest difference, as llm.c's kernel checks do.
 *
 * <p>Each pair is closed with the twins ({@link #close()} closes the pairs, not the backends), so
 * a test leaves no GPU block live.
 */
final class Twins implements AutoCloseable {

    final CpuBackend cpu;
    final CudaBackend gpu;
    private final List<AutoCloseable> made = new ArrayList<>();

    Twins(CpuBackend cpu, CudaBackend gpu) {
        this.cpu = cpu;
        this.gpu = gpu;
    }

    /** A float tensor and its twin. */
    record Pair(Tensor c, Tensor g) {

        /** The tensor on {@code be}. */
        Tensor on(Backend be) {
            return be instanceof CudaBackend ? g : c;
        }

        float[] cpuValues() {
            return c.toArray();
        }

        float[] gpuValues() {
            return g.toArray();
        }
    }

    /** An index tensor and its twin. */
    record Ids(IndexTensor c, IndexTensor g) {

        IndexTensor on(Backend be) {
            return be instanceof CudaBackend ? g : c;
        }

        void copyFrom(int[] values) {
            c.copyFrom(values);
            g.copyFrom(values);
        }
    }

    Pair tensor(float[] data, int... shape) {
        Pair p = new Pair(cpu.tensor(data, shape), gpu.tensor(data, shape));
        made.add(p.c());
        made.add(p.g());
        return p;
    }

    /** Zero-filled twins. */
    Pair zeros(int... shape) {
        Pair p = new Pair(cpu.tensor(shape), gpu.tensor(shape));
        made.add(p.c());
        made.add(p.g());
        return p;
    }

    Ids indices(int[] data, int... shape) {
        Ids p = new Ids(cpu.indices(data, shape), gpu.indices(data, shape));
        made.add(p.c());
        made.add(p.g());
        return p;
    }

    @Override
    public void close() {
        for (AutoCloseable t : made) {
            try {
                t.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        made.clear();
    }

    // ---------------------------------------------------------------- data

    /** n draws of {@code scale}·N(0, 1). */
    static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * r.nextGaussian());
        }
        return v;
    }

    /** n draws uniform in [lo, hi). */
    static float[] uniform(Random r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return v;
    }

    // ---------------------------------------------------------------- comparisons

    /** Every element has the same bits ({@code -0.0} differs from {@code 0.0}; NaNs compare by their canonical bits). */
    static void assertSameBits(float[] cpu, float[] gpu, String what) {
        sameLength(cpu, gpu, what);
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < cpu.length; i++) {
            if (Float.floatToIntBits(cpu[i]) != Float.floatToIntBits(gpu[i])) {
                if (count++ < 5) {
                    bad.append("\n  [").append(i).append("] cpu ").append(cpu[i]).append(" gpu ").append(gpu[i]);
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + cpu.length + " elements differ in their bits:" + bad);
        }
    }

    /** {@code |gpu - cpu| <= atol + rtol·|cpu|} for every element. */
    static void assertClose(float[] cpu, float[] gpu, double atol, double rtol, String what) {
        sameLength(cpu, gpu, what);
        StringBuilder bad = new StringBuilder();
        int count = 0;
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) {
            double diff = Math.abs((double) gpu[i] - cpu[i]);
            worst = Math.max(worst, diff);
            if (!(diff <= atol + rtol * Math.abs(cpu[i]))) {
                if (count++ < 5) {
                    bad.append("\n  [").append(i).append("] cpu ").append(cpu[i]).append(" gpu ").append(gpu[i])
                            .append(" diff ").append(diff);
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + cpu.length + " elements outside |gpu - cpu| <= " + atol + " + "
                    + rtol + "·|cpu| (largest difference " + worst + "):" + bad);
        }
    }

    /** {@code |gpu[i] - cpu[i]| <= bound[i]} for every element (a bound worked out per element). */
    static void assertWithin(float[] cpu, float[] gpu, double[] bound, String what) {
        sameLength(cpu, gpu, what);
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < cpu.length; i++) {
            double diff = Math.abs((double) gpu[i] - cpu[i]);
            if (!(diff <= bound[i])) {
                if (count++ < 5) {
                    bad.append("\n  [").append(i).append("] cpu ").append(cpu[i]).append(" gpu ").append(gpu[i])
                            .append(" diff ").append(diff).append(" > bound ").append(bound[i]);
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + cpu.length + " elements beyond their bound:" + bad);
        }
    }

    /** {@code |gpu - cpu| <= ulps · ulp(cpu)} for every element. */
    static void assertWithinUlps(float[] cpu, float[] gpu, int ulps, String what) {
        sameLength(cpu, gpu, what);
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < cpu.length; i++) {
            double diff = Math.abs((double) gpu[i] - cpu[i]);
            if (!(diff <= ulps * (double) Math.ulp(cpu[i]))) {
                if (count++ < 5) {
                    bad.append("\n  [").append(i).append("] cpu ").append(cpu[i]).append(" gpu ").append(gpu[i])
                            .append(" = ").append(diff / Math.ulp(cpu[i])).append(" ulp");
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + cpu.length + " elements more than " + ulps + " ulp apart:" + bad);
        }
    }

    private static void sameLength(float[] cpu, float[] gpu, String what) {
        if (cpu.length != gpu.length) {
            fail(what + ": cpu has " + cpu.length + " elements, gpu " + gpu.length);
        }
    }
}
