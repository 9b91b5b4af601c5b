package dev.recur.mpi;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MPICH adapter against MPICH itself: its constants against {@code mpi.h}, and a real
 * {@code libmpich.so.12} bound and run as a singleton (MPI_Init without a launcher gives a world
 * of one, so every collective runs through the library). Where MPICH is not installed, .ci/run
 * unpacks Debian's libmpich12 and libmpich-dev packages without installing them (Open MPI stays
 * the system's MPI) and names them in {@code RECUR_TEST_MPICH} and {@code RECUR_TEST_MPICH_HEADER};
 * without either, each test skips and says so. Two MPICH ranks need its Hydra launcher, which is
 * not tested here.
 */
class MpichAbiTest {

    static Path found(String variable, String fallback) {
        String v = System.getenv(variable);
        Path p = Path.of(v != null && !v.isBlank() ? v : fallback);
        return Files.isRegularFile(p) ? p : null;
    }

    @Test
    void constantsAreMpichsHeader() throws Exception {
        Path header = found("RECUR_TEST_MPICH_HEADER", "/usr/include/x86_64-linux-gnu/mpich/mpi.h");
        Assumptions.assumeTrue(header != null, "SKIPPED: no MPICH mpi.h (RECUR_TEST_MPICH_HEADER unset and"
                + " /usr/include/x86_64-linux-gnu/mpich/mpi.h absent)");
        String h = Files.readString(header);
        assertEquals(MpiAbi.Mpich.MPI_COMM_WORLD, constant(h, "MPI_COMM_WORLD"));
        assertEquals(MpiAbi.Mpich.MPI_FLOAT, constant(h, "MPI_FLOAT"));
        assertEquals(MpiAbi.Mpich.MPI_BYTE, constant(h, "MPI_BYTE"));
        assertEquals(MpiAbi.Mpich.MPI_SUM, constant(h, "MPI_SUM"));
        assertEquals(MpiAbi.Mpich.MPI_ERRORS_RETURN, constant(h, "MPI_ERRORS_RETURN"));
        assertTrue(Pattern.compile("#define MPI_IN_PLACE\\s+\\(void \\*\\) -1").matcher(h).find(), "MPI_IN_PLACE");
        assertTrue(Pattern.compile("#define MPI_THREAD_SERIALIZED 2\\b").matcher(h).find(), "MPI_THREAD_SERIALIZED");
        assertEquals(new MpiAbi.Mpich().maxErrorString(),
                Integer.parseInt(find(h, "#define MPI_MAX_ERROR_STRING\\s+(\\d+)")));
    }

    /** {@code #define NAME ((MPI_Comm)0x44000000)} or {@code #define NAME (MPI_Op)(0x58000003)}. */
    private static int constant(String header, String name) {
        return Integer.parseUnsignedInt(find(header, "#define " + name + "\\s+\\(*\\w*\\)?\\(?0x([0-9a-fA-F]+)\\)"), 16);
    }

    private static String find(String header, String regex) {
        Matcher m = Pattern.compile(regex).matcher(header);
        assertTrue(m.find(), regex + " not in the header");
        return m.group(1);
    }

    @Test
    void bindsAndRunsARealLibmpichAsASingleton() throws Exception {
        Path lib = found("RECUR_TEST_MPICH", "/usr/lib/x86_64-linux-gnu/libmpich.so.12");
        Assumptions.assumeTrue(lib != null, "SKIPPED: no libmpich.so.12 (RECUR_TEST_MPICH unset and none in"
                + " /usr/lib/x86_64-linux-gnu)");
        assertInstanceOf(MpiAbi.Mpich.class, MpiLibrary.open(lib.toString()).abi);
        // A world of one, through MPICH's own MPI_Init, forced (a single process would not use MPI).
        MpiCollectiveTest.Run r = MpiCollectiveTest.run(MpiCollectiveTest.java(CollectiveCheckMain.class.getName()),
                Map.of("RECUR_COLLECTIVE", "mpi", "PMI_RANK", "0", "PMI_SIZE", "1",
                        MpiLibrary.ENVIRONMENT, lib.toString()), 60);
        assertEquals(0, r.exit(), r.output());
        String o = r.output();
        assertTrue(o.contains("rank 0 of 1 bound MPI: MPICH Version: 4"), o);
        assertTrue(o.contains("MPICH ABI"), o);
        assertTrue(o.contains("rank 0 sum [1.0, 10.0, -1.0]"), o);
        assertTrue(o.contains("rank 0 avg [0.0, 0.0]"), o);
        assertTrue(o.contains("rank 0 part [100.0, 1.0, 2.0, 100.0]"), o);
    }
}
