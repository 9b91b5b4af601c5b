package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Backends;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Discovery of the CPU engine through the real {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.recur.api.BackendProvider} in engine-cpu). No other engine is on
 * this module's test class path, so "cuda" is unknown here.
 *
 * <p>Forcing is tested through the system property {@code recur.backend} only: the environment
 * variable {@code RECUR_BACKEND} cannot be set from inside a running JVM. Where it happens to be
 * set, the tests that depend on nothing being forced are skipped with that reason.
 */
class CpuDiscoveryTest {

    private static Backends.Found cpu(List<Backends.Found> found) {
        return found.stream().filter(f -> f.name().equals("cpu")).findFirst()
                .orElseThrow(() -> new AssertionError("no cpu among " + found));
    }

    private static void assumeNoEnvironmentForcing() {
        assumeTrue(System.getenv(Backends.ENVIRONMENT) == null,
                "RECUR_BACKEND is set in this environment; the property cannot override its absence");
    }

    @Test
    void discoverFindsTheCpuEngineAvailable() {
        Backends.Found f = cpu(Backends.discover());
        assertEquals(100, f.rank());
        assertTrue(f.availability().available(), f.availability().reason());
        assertTrue(f.availability().reason().contains("pure Java"), f.availability().reason());
        assertInstanceOf(CpuBackendProvider.class, f.provider());
    }

    @Test
    void chooseWithNothingForcedTakesCpu() {
        assertEquals("cpu", Backends.choose(Backends.discover(), null).name());
    }

    @Test
    void namedCpuIsACpuBackend() {
        try (Backend b = Backends.named("cpu")) {
            CpuBackend cpu = assertInstanceOf(CpuBackend.class, b);
            assertEquals("cpu", cpu.name());
            assertTrue(cpu.threads() >= 1);
        }
        try (Backend b = Backends.named("CPU")) {
            assertInstanceOf(CpuBackend.class, b);
        }
    }

    @Test
    void namedCudaIsNotOnTheClassPath() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.named("cuda"));
        String m = e.getMessage();
        assertTrue(m.contains("'cuda'"), m);
        assertTrue(m.contains("not on the class path"), m);
        assertTrue(m.contains("found: cpu"), m);
    }

    @Test
    void bestWithNothingForcedIsCpu() {
        assumeNoEnvironmentForcing();
        withProperty(Backends.PROPERTY, null, () -> {
            assertNull(Backends.forcedName());
            try (Backend b = Backends.best()) {
                assertInstanceOf(CpuBackend.class, b);
            }
        });
    }

    @Test
    void thePropertyForcesABackend() {
        withProperty(Backends.PROPERTY, " CPU ", () -> {
            assertEquals("CPU", Backends.forcedName(), "trimmed, case kept; choose ignores case");
            try (Backend b = Backends.best()) {
                assertInstanceOf(CpuBackend.class, b);
            }
        });
    }

    @Test
    void forcingAnUnknownBackendByPropertyFails() {
        withProperty(Backends.PROPERTY, "nope", () -> {
            assertEquals("nope", Backends.forcedName());
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, Backends::best);
            assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
            assertTrue(e.getMessage().contains("found: cpu"), e.getMessage());
        });
        withProperty(Backends.PROPERTY, "cuda", () -> {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, Backends::best);
            assertTrue(e.getMessage().contains("'cuda'"), e.getMessage());
        });
    }

    @Test
    void aBlankPropertyForcesNothing() {
        withProperty(Backends.PROPERTY, "   ", () -> {
            String env = System.getenv(Backends.ENVIRONMENT);
            String fromEnv = env == null || env.isBlank() ? null : env.trim();
            assertEquals(fromEnv, Backends.forcedName());
        });
    }

    @Test
    void aBadThreadCountMakesTheCpuEngineUnavailableWithTheReason() {
        withProperty("recur.cpu.threads", "zero", () -> {
            Backends.Found f = cpu(Backends.discover());
            assertFalse(f.availability().available());
            assertTrue(f.availability().reason().contains("recur.cpu.threads"), f.availability().reason());
            assertTrue(f.availability().reason().contains("'zero'"), f.availability().reason());
            BackendUnavailableException forced = assertThrows(BackendUnavailableException.class,
                    () -> Backends.named("cpu"));
            assertTrue(forced.getMessage().contains("'cpu'") && forced.getMessage().contains("recur.cpu.threads"),
                    forced.getMessage());
            BackendUnavailableException none = assertThrows(BackendUnavailableException.class,
                    () -> Backends.choose(Backends.discover(), null));
            assertTrue(none.getMessage().contains("no backend is available"), none.getMessage());
            assertTrue(none.getMessage().contains("cpu: recur.cpu.threads"), none.getMessage());
        });
        withProperty("recur.cpu.threads", "0", () ->
                assertFalse(cpu(Backends.discover()).availability().available(), "0 threads"));
    }

    @Test
    void theThreadCountPropertyReachesTheBackend() {
        withProperty("recur.cpu.threads", "3", () -> {
            assertTrue(cpu(Backends.discover()).availability().reason().contains("3 threads"));
            try (CpuBackend b = (CpuBackend) Backends.named("cpu")) {
                assertEquals(3, b.threads());
            }
        });
    }

    /** Runs {@code body} with system property {@code key} set to {@code value} (null: cleared), then restores it. */
    private static void withProperty(String key, String value, Runnable body) {
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
