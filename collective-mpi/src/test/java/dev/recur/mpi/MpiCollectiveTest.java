package dev.recur.mpi;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MPI binding for real: {@code mpirun -np 2} over TCP ({@code --mca btl tcp,self}, so the bytes
 * cross sockets, not shared memory) starts two JVMs of {@link CollectiveCheckMain}, and every
 * rank's results are checked for equality (small integers: float32 is exact). Skipped, with the
 * reason printed, where there is no mpirun on the PATH.
 */
class MpiCollectiveTest {

    /** {@code mpirun} on the PATH, or null. */
    static Path mpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** A JVM of this test's class path, with native access for the binding. */
    static List<String> java(String mainClass) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), mainClass);
    }

    /**
     * {@code mpirun -np N} over TCP on this host: as root where the tests run as root
     * (Open MPI refuses otherwise), oversubscribed (2 ranks on fewer cores is fine for a test).
     */
    static List<String> mpirunOverTcp(Path mpirun, int ranks) {
        return new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", Integer.toString(ranks),
                "--mca", "btl", "tcp,self", "--mca", "pml", "ob1")) {
        };
    }

    record Run(int exit, String output) {
    }

    static Run run(List<String> command, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().putAll(env);
        Path log = Files.createTempFile("recur-mpi", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " ran past " + timeoutSeconds + " s:\n"
                    + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        return new Run(p.exitValue(), out);
    }

    @Test
    void twoRanksOverTcpReduceAndBroadcastExactly() throws Exception {
        Path mpirun = mpirun();
        Assumptions.assumeTrue(mpirun != null, "SKIPPED: no mpirun on the PATH (install openmpi-bin); the MPI"
                + " collective is not tested here");
        List<String> cmd = mpirunOverTcp(mpirun, 2);
        cmd.addAll(java(CollectiveCheckMain.class.getName()));
        Run r = run(cmd, Map.of(), 120);
        assertEquals(0, r.exit(), r.output());
        // Expected: n = 2. sum = 3 * (1, 10, -1); avg = (1, 2); part keeps its ends; bcast = rank 1's.
        byte[] bytes = new byte[128];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7 + 1);
        }
        for (int rank = 0; rank < 2; rank++) {
            String o = r.output();
            assertTrue(o.contains("rank " + rank + " of 2 bound MPI: Open MPI"), o);
            assertTrue(o.contains("rank " + rank + " sum [3.0, 30.0, -3.0]"), o);
            assertTrue(o.contains("rank " + rank + " avg [1.0, 2.0]"), o);
            assertTrue(o.contains("rank " + rank + " part [" + (100f + rank) + ", 2.0, 4.0, " + (100f + rank) + "]"), o);
            assertTrue(o.contains("rank " + rank + " bcast [1.0, 2.0, 3.0]"), o);
            assertTrue(o.contains("rank " + rank + " bytes " + Arrays.hashCode(bytes)), o);
        }
    }

    @Test
    void aLauncherWithoutItsLibraryStopsWithTheReason() throws Exception {
        // What mpirun sets, without mpirun, and a library that is not there: the run must stop,
        // not train alone.
        Run r = run(java(CollectiveCheckMain.class.getName()), Map.of("OMPI_COMM_WORLD_SIZE", "2",
                "OMPI_COMM_WORLD_RANK", "0", MpiLibrary.ENVIRONMENT, "/nonexistent/libmpi.so.40"), 60);
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("bind failed: launched by Open MPI mpirun (OMPI_COMM_WORLD_SIZE=2,"
                + " OMPI_COMM_WORLD_RANK=0) as rank 0 of 2, but no collective library could be bound: mpi: no MPI"
                + " library for Open MPI mpirun: /nonexistent/libmpi.so.40: "), r.output());
    }

    @Test
    void candidatesFollowTheLauncher() {
        assertEquals(List.of("libmpi.so.40", "libmpi.so"), MpiLibrary.candidates(dev.recur.api.Launcher.Kind.OPEN_MPI, null));
        assertEquals(List.of("libmpich.so.12", "libmpi.so.12", "libmpi.so"),
                MpiLibrary.candidates(dev.recur.api.Launcher.Kind.PMI, ""));
        assertEquals(List.of("/opt/x/libmpi.so"), MpiLibrary.candidates(dev.recur.api.Launcher.Kind.SLURM, "/opt/x/libmpi.so"));
    }
}
