package dev.recur.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link CudaKernels#missingReason()}: null with the fatbin, else "kernels not built: why". */
class KernelMissingReasonTest {

    @TempDir
    Path dir;

    private URL file(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p.toUri().toURL();
    }

    @Test
    void nullWhenTheFatbinIsThere() throws IOException {
        URL fatbin = file("recur.fatbin", "not really a fatbin");
        URL notBuilt = file("NOT-BUILT.txt", "stale reason");
        Map<String, URL> resources = Map.of(CudaKernels.FATBIN_RESOURCE, fatbin, CudaKernels.NOT_BUILT_RESOURCE, notBuilt);
        assertNull(CudaKernels.missingReason(resources::get));
    }

    @Test
    void theBuildsReasonWhenNvccWasMissing() throws IOException {
        URL notBuilt = file("NOT-BUILT.txt", "nvcc was not found when the kernels module was built\n");
        Map<String, URL> resources = Map.of(CudaKernels.NOT_BUILT_RESOURCE, notBuilt);
        assertEquals("kernels not built: nvcc was not found when the kernels module was built",
                CudaKernels.missingReason(resources::get));
    }

    @Test
    void anEmptyReasonIsSaidSo() throws IOException {
        URL notBuilt = file("NOT-BUILT.txt", "  \n");
        assertEquals("kernels not built: the kernels build gave no reason",
                CudaKernels.missingReason(Map.of(CudaKernels.NOT_BUILT_RESOURCE, notBuilt)::get));
    }

    @Test
    void noResourceAtAllNamesTheFatbin() {
        String why = CudaKernels.missingReason(name -> null);
        assertNotNull(why);
        assertTrue(why.startsWith("kernels not built: ") && why.contains(CudaKernels.FATBIN_RESOURCE), why);
    }

    @Test
    void theRealClassPathAgreesWithTheBuild() {
        String why = CudaKernels.missingReason();
        boolean fatbin = CudaKernels.class.getResource(CudaKernels.FATBIN_RESOURCE) != null;
        boolean ptx = CudaKernels.class.getResource(CudaKernels.PTX_RESOURCE) != null;
        System.out.println("KernelMissingReasonTest: fatbin on the class path: " + fatbin + ", missingReason: " + why);
        assertEquals(fatbin, ptx, "the kernels build writes the fatbin and the PTX together");
        if (fatbin) {
            assertNull(why);
        } else {
            assertNotNull(why);
            assertTrue(why.startsWith("kernels not built: "), why);
        }
    }
}
