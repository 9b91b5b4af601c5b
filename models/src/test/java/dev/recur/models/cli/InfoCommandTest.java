package dev.recur.models.cli;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendProvider;
import dev.recur.api.Backends;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InfoCommandTest {

    private static final InfoCommand.Host HOST = new InfoCommand.Host("25.0.3+9-LTS", "Eclipse Adoptium",
            "/opt/jdk-25", "Linux 6.8.0", "amd64", 2, 3L << 29, true);

    private static final String HOST_LINES = """
            Recur %s
              java     25.0.3+9-LTS (Eclipse Adoptium) at /opt/jdk-25
              os       Linux 6.8.0 (amd64)
              cpus     2 available processors
              heap     1.5 GiB max
              vector   jdk.incubator.vector loaded

            """.formatted(Recur.version());

    private static List<Backends.Found> cudaMissingCpuPresent() {
        // Listed cpu first on purpose: probeAll must sort by rank, and info must keep that order.
        return Backends.probeAll(List.of(
                FakeProvider.available("cpu", 100, "2 threads"),
                FakeProvider.unavailable("cuda", 10, "libcuda.so.1 not found")));
    }

    private static Streams info(List<Backends.Found> found, InfoCommand.Forcing forcing, String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "info";
        System.arraycopy(args, 0, full, 1, args.length);
        return Streams.run(new Recur(List.of(new InfoCommand(() -> found, () -> forcing, () -> HOST))), full);
    }

    @Test
    void listsEveryEngineBestRankFirstAndChoosesTheBestAvailable() {
        Streams s = info(cudaMissingCpuPresent(), null);
        assertEquals(HOST_LINES + """
                Engines (the lowest-ranked available one is chosen unless one is forced):
                  cuda  rank  10  not available: libcuda.so.1 not found
                  cpu   rank 100  available: 2 threads

                Chosen:  cpu (the best available)
                """, s.out());
        assertEquals("", s.err());
        assertEquals(Recur.EXIT_OK, s.status);
    }

    @Test
    void forcedButUnavailableShowsTheProbesReasonAndFails() {
        Streams s = info(cudaMissingCpuPresent(), new InfoCommand.Forcing("CUDA", "RECUR_BACKEND"));
        assertTrue(s.out().endsWith("""
                Forced:  CUDA (by RECUR_BACKEND)
                Chosen:  none: backend 'cuda' was asked for but is not available: libcuda.so.1 not found
                """), s.out());
        assertEquals("", s.err());
        assertEquals(Recur.EXIT_FAILED, s.status);
    }

    @Test
    void forcedUnknownNameSaysWhatWasFound() {
        Streams s = info(cudaMissingCpuPresent(), new InfoCommand.Forcing("rocm", "-Drecur.backend"));
        assertTrue(s.out().endsWith("""
                Forced:  rocm (by -Drecur.backend)
                Chosen:  none: backend 'rocm' was asked for but is not on the class path; found: cuda, cpu
                """), s.out());
        assertEquals(Recur.EXIT_FAILED, s.status);
    }

    @Test
    void forcedAndAvailableIsChosenOverABetterRank() {
        List<Backends.Found> found = Backends.probeAll(List.of(
                FakeProvider.available("cuda", 10, "H100"), FakeProvider.available("cpu", 100, "2 threads")));
        Streams s = info(found, new InfoCommand.Forcing("cpu", "-Drecur.backend"));
        assertTrue(s.out().endsWith("""
                Forced:  cpu (by -Drecur.backend)
                Chosen:  cpu (forced)
                """), s.out());
        assertEquals(Recur.EXIT_OK, s.status);
    }

    @Test
    void backendOptionForcesLikeThePropertyAndWinsOverIt() {
        List<Backends.Found> found = Backends.probeAll(List.of(
                FakeProvider.available("cuda", 10, "H100"), FakeProvider.available("cpu", 100, "2 threads")));
        Streams s = info(found, new InfoCommand.Forcing("cuda", "-Drecur.backend"), "--backend", "cpu");
        assertTrue(s.out().endsWith("""
                Forced:  cpu (by --backend)
                Chosen:  cpu (forced)
                """), s.out());
        assertEquals(Recur.EXIT_OK, s.status);
        // One command object run twice: picocli puts the default back before each parse.
        Recur recur = new Recur(List.of(new InfoCommand(() -> found, () -> null, () -> HOST)));
        assertTrue(Streams.run(recur, "info", "--backend", "cpu").out().endsWith("Chosen:  cpu (forced)\n"));
        s = Streams.run(recur, "info");
        assertTrue(s.out().endsWith("Chosen:  cuda (the best available)\n"), s.out());
    }

    @Test
    void noEngineIsSaidPlainly() {
        Streams s = info(List.of(), null);
        assertEquals(HOST_LINES + """
                Engines: no engine found on the class path (engines are jars registering \
                dev.recur.api.BackendProvider; ./recur puts interop/target/lib/* on it)

                Chosen:  none: no backend is available: none is on the class path (add engine-cpu)
                """, s.out());
        assertEquals(Recur.EXIT_FAILED, s.status);
    }

    @Test
    void aProbeThatThrowsIsShownAsUnavailable() {
        BackendProvider broken = new BackendProvider() {
            @Override public String name() { return "cuda"; }
            @Override public int rank() { return 10; }
            @Override public Availability probe() { throw new UnsatisfiedLinkError("no jcuda in java.library.path"); }
            @Override public Backend create() { throw new AssertionError("never created"); }
        };
        Streams s = info(Backends.probeAll(List.of(broken)), null);
        assertTrue(s.out().contains(
                "  cuda  rank 10  not available: probe failed: java.lang.UnsatisfiedLinkError: no jcuda in java.library.path\n"),
                s.out());
        assertEquals(Recur.EXIT_FAILED, s.status);
    }

    @Test
    void missingVectorModuleIsPointedOut() {
        var noVector = new InfoCommand.Host("25", "v", "/j", "Linux", "aarch64", 1, Long.MAX_VALUE, false);
        Streams s = new Streams();
        InfoCommand.render(List.of(), null, noVector, s.out);
        assertTrue(s.out().contains("  cpus     1 available processor\n"), s.out());
        assertTrue(s.out().contains("  heap     unlimited max\n"), s.out());
        assertTrue(s.out().contains("  vector   jdk.incubator.vector not loaded (the CPU engine needs "
                + "--add-modules jdk.incubator.vector; ./recur adds it)\n"), s.out());
    }

    @Test
    void takesNoArguments() {
        Streams s = info(List.of(), null, "--verbose");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("", s.out());
        assertEquals("recur info: unknown option '--verbose'; see 'recur help info'\n", s.err());

        s = info(List.of(), null, "cpu");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("recur info: unexpected argument 'cpu'; see 'recur help info'\n", s.err());
    }

    @Test
    void theRealHostDescribesThisJvm() {
        InfoCommand.Host h = InfoCommand.Host.current();
        assertEquals(Runtime.version().toString(), h.javaVersion());
        assertEquals(Runtime.getRuntime().availableProcessors(), h.processors());
        // surefire.argLine adds the module, so the test JVM has it.
        assertTrue(h.vectorApi(), "jdk.incubator.vector should be in the test JVM's boot layer");
    }
}
