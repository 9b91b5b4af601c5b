package dev.recur.cuda;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Backends;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Discovery and the availability probe through the real {@link java.util.ServiceLoader}, with
 * the CPU engine on the test class path. The tests of what happens without a GPU run where there
 * is none (this build machine) and are skipped, with the reason, on a GPU host; the test of the
 * positive answer runs only there.
 */
class CudaProviderTest {

    private static Backends.Found find(List<Backends.Found> found, String name) {
        return found.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " among " + found));
    }

    @Test
    void theServiceLoaderFindsTheCudaProviderAheadOfTheCpu() {
        List<Backends.Found> found = Backends.discover();
        Backends.Found cuda = find(found, "cuda");
        Backends.Found cpu = find(found, "cpu");
        assertInstanceOf(CudaProvider.class, cuda.provider());
        assertEquals(10, cuda.rank());
        assertTrue(cuda.rank() < cpu.rank(), "cuda must rank before cpu");
        assertTrue(found.indexOf(cuda) < found.indexOf(cpu), found.toString());
    }

    @Test
    void withoutADriverTheProbeSaysSoFirst() {
        CudaTestSupport.assumeNoGpu();
        Availability a = new CudaProvider().probe();
        assertFalse(a.available());
        // On a machine with a driver but no device, cuInit fails instead; this build machine has no driver.
        assumeTrue(a.reason().startsWith("no NVIDIA driver"), "this machine has a driver: " + a.reason());
        assertTrue(a.reason().startsWith("no NVIDIA driver: libcuda.so.1 not found ("), a.reason());
        assertTrue(a.reason().endsWith(")"), a.reason());
        assertEquals(a, new CudaProvider().probe(), "asked again, the same answer");
    }

    @Test
    void forcingCudaWithoutAGpuFailsWithTheProbesReason() {
        CudaTestSupport.assumeNoGpu();
        String reason = new CudaProvider().probe().reason();
        withProperty(Backends.PROPERTY, "cuda", () -> {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, Backends::best);
            assertEquals("backend 'cuda' was asked for but is not available: " + reason, e.getMessage());
        });
        BackendUnavailableException named = assertThrows(BackendUnavailableException.class,
                () -> Backends.named("cuda"));
        assertTrue(named.getMessage().endsWith(reason), named.getMessage());
    }

    @Test
    void withoutAGpuTheBestBackendIsTheCpu() {
        CudaTestSupport.assumeNoGpu();
        assumeTrue(System.getenv(Backends.ENVIRONMENT) == null, "RECUR_BACKEND is set here");
        withProperty(Backends.PROPERTY, null, () -> {
            try (Backend b = Backends.best()) {
                assertInstanceOf(CpuBackend.class, b);
            }
        });
    }

    @Test
    void constructingTheBackendWithoutADriverFailsWithTheReason() {
        CudaTestSupport.assumeNoGpu();
        String reason = new CudaProvider().probe().reason();
        assumeTrue(reason.startsWith("no NVIDIA driver"), "this machine has a driver: " + reason);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, CudaBackend::new);
        assertEquals("cuda: " + reason, e.getMessage());
    }

    @Test
    void onAGpuHostTheProbeDescribesDeviceAndCublas() {
        CudaTestSupport.assumeGpu();
        Availability a = new CudaProvider().probe();
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().contains(" SMs, ") && a.reason().contains("driver CUDA ")
                && a.reason().contains("cuBLAS "), a.reason());
        try (Backend b = Backends.named("cuda")) {
            CudaBackend cuda = assertInstanceOf(CudaBackend.class, b);
            assertTrue(cuda.toString().startsWith("CudaBackend[") && cuda.toString().contains("sm_"), cuda.toString());
            assertSame(CudaBackend.NAME, cuda.name());
        }
    }

    @Test
    void optionsComeFromSystemProperties() {
        withProperty(CudaOptions.DEVICE_PROPERTY, "2", () -> withProperty(CudaOptions.TF32_PROPERTY, "TRUE",
                () -> assertEquals(new CudaOptions(2, true, false), CudaOptions.fromSystemProperties())));
        withProperty(CudaOptions.DEVICE_PROPERTY, null, () -> withProperty(CudaOptions.TF32_PROPERTY, null,
                () -> assertEquals(CudaOptions.defaults(), CudaOptions.fromSystemProperties())));
        withProperty(CudaOptions.DEVICE_PROPERTY, "first", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaOptions::fromSystemProperties);
            assertEquals("recur.cuda.device must be a device number >= 0, got 'first'", e.getMessage());
        });
        withProperty(CudaOptions.DEVICE_PROPERTY, "-1", () ->
                assertThrows(IllegalArgumentException.class, CudaOptions::fromSystemProperties));
        withProperty(CudaOptions.TF32_PROPERTY, "yes", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaOptions::fromSystemProperties);
            assertEquals("recur.cuda.tf32 must be true or false, got 'yes'", e.getMessage());
        });
        assertThrows(IllegalArgumentException.class, () -> new CudaOptions(-1, false, false));
    }

    @Test
    void graphsAreOnUnlessTurnedOff() {
        assertTrue(CudaOptions.defaults().graphs());
        assertTrue(new CudaOptions(1, false, false).graphs(), "the three-setting constructor keeps graphs on");
        withProperty(CudaOptions.GRAPHS_PROPERTY, null, () -> assertTrue(CudaOptions.fromSystemProperties().graphs()));
        withProperty(CudaOptions.GRAPHS_PROPERTY, "false", () -> assertEquals(CudaOptions.defaults().withGraphs(false),
                CudaOptions.fromSystemProperties()));
        withProperty(CudaOptions.GRAPHS_PROPERTY, "TRUE", () -> assertTrue(CudaOptions.fromSystemProperties().graphs()));
        withProperty(CudaOptions.GRAPHS_PROPERTY, "off", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaOptions::fromSystemProperties);
            assertEquals("recur.cuda.graphs must be true or false, got 'off'", e.getMessage());
        });
        CudaOptions off = new CudaOptions(2, true, true, false);
        assertEquals(new CudaOptions(2, true, true, true), off.withGraphs(true));
    }

    /** Runs {@code body} with system property {@code key} set to {@code value} (null: cleared), then restores it. */
    static void withProperty(String key, String value, Runnable body) {
        String old = System.getProperty(key);
        try {
            if (value == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, value);
            }
            body.run();
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }
}
