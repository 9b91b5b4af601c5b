package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Cublas#bind} against a real cuBLAS library file, where this machine has one (found as
 * the engine finds it, e.g. a pip wheel's {@code nvidia/cu13/lib}, or named by
 * {@code RECUR_CUBLAS}); skipped where it has none. Loading and binding need no GPU or driver:
 * every symbol Recur calls must be there, {@code cublasGetProperty} must give the version, and
 * the status names must come back through the {@code const char*} downcalls. The process-wide
 * {@link Cublas#library} cache is not touched.
 */
class CublasBindingTest {

    @Test
    void everyFunctionBindsInTheLibraryFilesOnThisMachine() {
        List<CublasLocator.Candidate> files = CublasLocator.search(System.getenv(), 0, Path.of("/")).candidates()
                .stream().filter(c -> c.file() != null).toList();
        assumeTrue(!files.isEmpty(), "no cuBLAS library file on this machine (set RECUR_CUBLAS to name one)");
        for (CublasLocator.Candidate c : files) {
            Cublas.Library lib = Cublas.bind(c);
            assertTrue(lib.version().startsWith(c.major() + "."), c.describe() + " reports version " + lib.version());
            assertEquals("CUBLAS_STATUS_SUCCESS", lib.statusName(0), c.describe());
            assertEquals("CUBLAS_STATUS_INVALID_VALUE", lib.statusName(7), c.describe());
            assertTrue(!lib.statusString(7).isBlank(), c.describe());
            System.out.println("CublasBindingTest: bound " + lib.describe());
        }
    }
}
