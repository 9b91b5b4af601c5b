package dev.recur.api;

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
 * Backend discovery and choice without a real engine, on the fakes of {@link FakeProviders}:
 * fakegpu (rank 1, "no device"), fakebroken (rank 3, probe throws), fakegood (rank 5, available).
 */
class BackendsTest {

    private static final BackendProvider GOOD = new FakeProviders.Good();
    private static final BackendProvider GPU = new FakeProviders.Gpu();
    private static final BackendProvider BROKEN = new FakeProviders.Broken();

    /** Given out of rank order on purpose, so that the sort is what puts them in order. */
    private static List<Backends.Found> found() {
        return Backends.probeAll(List.of(GOOD, BROKEN, GPU));
    }

    private static List<String> names(List<Backends.Found> found) {
        return found.stream().map(Backends.Found::name).toList();
    }

    // ---------------------------------------------------------------- probeAll

    @Test
    void probeAllSortsByRank() {
        List<Backends.Found> found = found();
        assertEquals(List.of("fakegpu", "fakebroken", "fakegood"), names(found));
        assertEquals(List.of(1, 3, 5), found.stream().map(Backends.Found::rank).toList());
        assertSame(GPU, found.get(0).provider());
        assertSame(GOOD, found.get(2).provider());
    }

    @Test
    void probeAllKeepsEachProbesAnswer() {
        List<Backends.Found> found = found();
        Availability gpu = found.get(0).availability();
        assertFalse(gpu.available());
        assertEquals("no device", gpu.reason());
        Availability good = found.get(2).availability();
        assertTrue(good.available());
        assertEquals("always here", good.reason());
    }

    @Test
    void aThrowingProbeCountsAsUnavailableWithItsException() {
        Availability broken = found().get(1).availability();
        assertFalse(broken.available());
        assertTrue(broken.reason().startsWith("probe failed"), broken.reason());
        assertTrue(broken.reason().contains("IllegalStateException"), broken.reason());
        assertTrue(broken.reason().contains("driver exploded"), broken.reason());
    }

    @Test
    void aProbeThatCannotLinkItsNativeLibraryCountsAsUnavailable() {
        // What a CUDA probe does when libcuda is missing: an UnsatisfiedLinkError, a LinkageError.
        BackendProvider noLib = FakeProviders.custom("nolib", 1, () -> {
            throw new UnsatisfiedLinkError("no cuda in java.library.path");
        });
        List<Backends.Found> found = Backends.probeAll(List.of(noLib, GOOD));
        Backends.Found f = found.get(0);
        assertEquals("nolib", f.name());
        assertFalse(f.availability().available());
        assertTrue(f.availability().reason().contains("probe failed"), f.availability().reason());
        assertTrue(f.availability().reason().contains("no cuda in java.library.path"), f.availability().reason());
        assertEquals("fakegood", Backends.choose(found, null).name());
    }

    @Test
    void probeAllLowerCasesNamesAndBreaksRankTiesByName() {
        BackendProvider upper = FakeProviders.custom("ZetaGood", 5, () -> Availability.yes("here"));
        BackendProvider alpha = FakeProviders.custom("alphagood", 5, () -> Availability.yes("here"));
        List<Backends.Found> found = Backends.probeAll(List.of(upper, alpha));
        assertEquals(List.of("alphagood", "zetagood"), names(found));
    }

    @Test
    void probeAllOfNothingIsEmpty() {
        assertTrue(Backends.probeAll(List.of()).isEmpty());
    }

    // ---------------------------------------------------------------- choose

    @Test
    void chooseTakesTheLowestRankedAvailableOne() {
        // fakegpu and fakebroken rank lower, but neither can run.
        Backends.Found f = Backends.choose(found(), null);
        assertEquals("fakegood", f.name());
        assertSame(GOOD, f.provider());
    }

    @Test
    void chooseTakesTheLowerRankWhenBothAreAvailable() {
        BackendProvider better = FakeProviders.custom("fakebetter", 2, () -> Availability.yes("here"));
        assertEquals("fakebetter", Backends.choose(Backends.probeAll(List.of(GOOD, better)), null).name());
    }

    @Test
    void chooseHonoursAForcedName() {
        BackendProvider better = FakeProviders.custom("fakebetter", 2, () -> Availability.yes("here"));
        // Forcing wins over rank.
        assertEquals("fakegood", Backends.choose(Backends.probeAll(List.of(GOOD, better)), "fakegood").name());
        assertEquals("fakegood", Backends.choose(found(), "fakegood").name());
    }

    @Test
    void forcedNamesAreCaseInsensitive() {
        assertEquals("fakegood", Backends.choose(found(), "FAKEGOOD").name());
        assertEquals("fakegood", Backends.choose(found(), "FakeGood").name());
    }

    @Test
    void forcingAnUnavailableBackendNamesItAndItsReason() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(found(), "fakegpu"));
        assertTrue(e.getMessage().contains("'fakegpu'"), e.getMessage());
        assertTrue(e.getMessage().contains("not available"), e.getMessage());
        assertTrue(e.getMessage().contains("no device"), e.getMessage());
    }

    @Test
    void forcingABackendWhoseProbeThrewNamesTheFailure() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(found(), "fakebroken"));
        assertTrue(e.getMessage().contains("'fakebroken'"), e.getMessage());
        assertTrue(e.getMessage().contains("probe failed"), e.getMessage());
        assertTrue(e.getMessage().contains("driver exploded"), e.getMessage());
    }

    @Test
    void forcingAnUnknownBackendNamesItAndListsWhatWasFound() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(found(), "nope"));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        assertTrue(e.getMessage().contains("not on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("found: fakegpu, fakebroken, fakegood"), e.getMessage());
    }

    @Test
    void forcingAnythingWhenNothingWasFoundSaysNone() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(List.of(), "cpu"));
        assertTrue(e.getMessage().contains("'cpu'"), e.getMessage());
        assertTrue(e.getMessage().contains("found: none"), e.getMessage());
    }

    @Test
    void noAvailableBackendListsEachReason() {
        List<Backends.Found> found = Backends.probeAll(List.of(BROKEN, GPU));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(found, null));
        String m = e.getMessage();
        assertTrue(m.contains("no backend is available"), m);
        assertTrue(m.contains("fakegpu: no device"), m);
        assertTrue(m.contains("fakebroken: probe failed"), m);
        assertTrue(m.contains("driver exploded"), m);
    }

    @Test
    void noBackendAtAllSaysWhatToAdd() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.choose(List.of(), null));
        assertTrue(e.getMessage().contains("no backend is available"), e.getMessage());
        assertTrue(e.getMessage().contains("none is on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("engine-cpu"), e.getMessage());
    }

    @Test
    void backendUnavailableIsAnIllegalStateException() {
        // Callers that catch IllegalStateException (the JDK's "not now, not here") also catch it.
        assertInstanceOf(IllegalStateException.class, new BackendUnavailableException("x"));
    }

    // ---------------------------------------------------------------- through ServiceLoader

    @Test
    void discoverFindsTheRegisteredFakesThroughServiceLoader() {
        List<Backends.Found> found = Backends.discover();
        assertEquals(List.of("fakegpu", "fakebroken", "fakegood"), names(found));
        assertInstanceOf(FakeProviders.Good.class, found.get(2).provider());
    }

    @Test
    void namedCreatesTheForcedBackend() {
        try (Backend b = Backends.named("FakeGood")) {
            assertInstanceOf(FakeProviders.FakeBackend.class, b);
            assertEquals("fakegood", b.name());
            assertEquals("Backend[fakegood]", b.toString());
        }
    }

    @Test
    void namedRefusesAnUnavailableBackendWithItsReason() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.named("fakegpu"));
        assertTrue(e.getMessage().contains("fakegpu") && e.getMessage().contains("no device"), e.getMessage());
    }

    @Test
    void bestTakesTheBestAvailableWhenNothingIsForced() {
        // The environment variable cannot be unset from Java; skip (visibly) where it is set.
        assumeTrue(System.getenv(Backends.ENVIRONMENT) == null, "RECUR_BACKEND is set in this environment");
        withBackendProperty(null, () -> {
            try (Backend b = Backends.best()) {
                assertEquals("fakegood", b.name());
            }
        });
    }

    @Test
    void bestHonoursTheSystemProperty() {
        withBackendProperty("fakegpu", () -> {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, Backends::best);
            assertTrue(e.getMessage().contains("fakegpu") && e.getMessage().contains("no device"), e.getMessage());
        });
        withBackendProperty("  FAKEGOOD ", () -> {
            assertEquals("FAKEGOOD", Backends.forcedName());
            try (Backend b = Backends.best()) {
                assertEquals("fakegood", b.name());
            }
        });
    }

    /** Runs {@code body} with {@code -Drecur.backend} set to {@code value} (null: cleared), then restores it. */
    static void withBackendProperty(String value, Runnable body) {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            if (value == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, value);
            }
            body.run();
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }
}
