package dev.recur.cuda;

import dev.recur.api.Availability;
import org.junit.jupiter.api.Assumptions;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the CUDA engine's tests share: whether this machine can run them. A test that needs a GPU
 * starts with {@link #assumeGpu()}, which, when there is none, prints
 * {@code CUDA test skipped (#N): <reason>} and skips the test through a JUnit assumption, so the
 * skips and their reason are always visible and counted ({@link #skipped()}).
 */
public final class CudaTestSupport {

    private static final AtomicInteger SKIPPED = new AtomicInteger();
    private static Availability availability;

    private CudaTestSupport() {
    }

    /** The CUDA provider's probe on this machine, asked once per test JVM. */
    public static synchronized Availability availability() {
        if (availability == null) {
            availability = new CudaProvider().probe();
        }
        return availability;
    }

    /** Whether a GPU with driver, cuBLAS and kernels is here. */
    public static boolean gpuPresent() {
        return availability().available();
    }

    /** Skips the calling test, with the probe's reason printed and counted, unless a GPU is here. */
    public static void assumeGpu() {
        Availability a = availability();
        if (!a.available()) {
            int n = SKIPPED.incrementAndGet();
            System.out.println("CUDA test skipped (#" + n + "): " + a.reason());
            Assumptions.assumeTrue(false, "CUDA test skipped: " + a.reason());
        }
    }

    /** Skips the calling test when a GPU is here (for tests of what happens without one). */
    public static void assumeNoGpu() {
        Assumptions.assumeFalse(gpuPresent(), "a GPU is present here: " + availability().reason());
    }

    /** How many tests {@link #assumeGpu()} has skipped in this JVM so far. */
    public static int skipped() {
        return SKIPPED.get();
    }
}
