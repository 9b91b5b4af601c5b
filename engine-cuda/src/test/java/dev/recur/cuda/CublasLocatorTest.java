package dev.recur.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order in which cuBLAS is searched for, on temporary folders holding empty files named like
 * the libraries (nothing is loaded: these test the candidate list, not dlopen).
 */
class CublasLocatorTest {

    @TempDir
    Path tmp;

    private Path lib(String dir, String name) throws IOException {
        Path d = tmp.resolve(dir);
        Files.createDirectories(d);
        return Files.createFile(d.resolve(name));
    }

    private static List<String> describe(CublasLocator.Search s) {
        return s.candidates().stream().map(CublasLocator.Candidate::describe).toList();
    }

    @Test
    void everyPlaceInOrderNewestMajorFirst() throws IOException {
        Path root = tmp.resolve("root");
        Path explicit = lib("explicit", "libcublas.so.12.9.1");
        Path cudaHome13 = lib("cudahome/lib64", "libcublas.so.13");
        Path cudaHome12 = lib("cudahome/lib64", "libcublas.so.12");
        Path system12 = lib("root/usr/local/cuda/lib64", "libcublas.so.12");
        lib("root/usr/local/cuda/lib64", "libcublasLt.so.12");
        Path ld2 = lib("ld2", "libcublas.so.13");
        Files.createDirectories(tmp.resolve("ld1")); // on the path, but empty
        lib("venv/bin", "python3");
        Path venv13 = lib("venv/lib/python3.12/site-packages/nvidia/cu13/lib", "libcublas.so.13");
        Path dist12 = lib("root/usr/lib/python3.11/dist-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path local12 = lib("root/usr/local/lib/python3.10/dist-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path site9 = lib("root/usr/local/lib/python3.9/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path site13 = lib("root/usr/local/lib/python3.13/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        lib("root/usr/lib/python3.11/dist-packages/nvidia/cublas/lib", "libcublas.so.11"); // too old, never tried

        Map<String, String> env = new HashMap<>();
        env.put("RECUR_CUBLAS", explicit.toString());
        env.put("CUDA_HOME", tmp.resolve("cudahome").toString());
        env.put("LD_LIBRARY_PATH", tmp.resolve("ld1") + "::" + tmp.resolve("ld2") + ":" + root.resolve("usr/local/cuda/lib64"));
        env.put("PATH", tmp.resolve("nowhere/bin") + ":" + tmp.resolve("venv/bin"));

        CublasLocator.Search s = CublasLocator.search(env, 13000, root);
        assertEquals(List.of(
                explicit.toString(),
                cudaHome13.toString(),
                ld2.toString(),
                "libcublas.so.13 through the system loader",
                venv13.toString(),
                cudaHome12.toString(),
                system12.toString(),
                "libcublas.so.12 through the system loader",
                site13.toString(),  // /usr/local before /usr; newest Python first; site- before dist-packages
                local12.toString(),
                site9.toString(),
                dist12.toString()), describe(s));
        assertEquals(12, s.candidates().get(0).major());
        assertEquals("libcublas.so.12.9.1", s.candidates().get(0).soname());

        List<String> looked = s.looked();
        assertEquals("RECUR_CUBLAS=" + explicit, looked.get(0));
        assertEquals(tmp.resolve("cudahome/lib64").toString(), looked.get(1));
        assertEquals(root.resolve("usr/local/cuda/lib64").toString(), looked.get(2));
        assertEquals(tmp.resolve("ld1").toString(), looked.get(3));
        assertEquals(tmp.resolve("ld2").toString(), looked.get(4));
        assertEquals("the system loader (ld.so cache and default folders)", looked.get(5),
                "the LD_LIBRARY_PATH copy of /usr/local/cuda/lib64 is listed once, at its first place");
        assertTrue(looked.contains(tmp.resolve("venv/lib/python3.12/site-packages/nvidia/cu13/lib").toString()), looked.toString());
    }

    @Test
    void anOlderDriverSkipsCublas13() throws IOException {
        lib("cudahome/lib64", "libcublas.so.13");
        Path twelve = lib("cudahome/lib64", "libcublas.so.12");
        CublasLocator.Search s = CublasLocator.search(Map.of("CUDA_HOME", tmp.resolve("cudahome").toString()), 12080,
                tmp.resolve("empty-root"));
        assertEquals(List.of(twelve.toString(), "libcublas.so.12 through the system loader"), describe(s));
        assertEquals(List.of(12), CublasLocator.majors(12080));
        assertEquals(List.of(13, 12), CublasLocator.majors(13000));
        assertEquals(List.of(13, 12), CublasLocator.majors(0), "unknown driver: try both");
    }

    @Test
    void aMissingExplicitFileIsReportedAndTheSearchGoesOn() {
        CublasLocator.Search s = CublasLocator.search(Map.of("RECUR_CUBLAS", tmp.resolve("nope.so").toString()), 13000,
                tmp.resolve("empty-root"));
        assertEquals("RECUR_CUBLAS=" + tmp.resolve("nope.so") + " (no such file)", s.looked().get(0));
        assertEquals(List.of("libcublas.so.13 through the system loader", "libcublas.so.12 through the system loader"),
                describe(s));
        assertTrue(s.looked().contains("Python package folders (none found)"), s.looked().toString());
    }

    @Test
    void condaAndVirtualEnvAndUserSitePackagesAreSearched() throws IOException {
        Path conda = lib("conda/lib", "libcublas.so.12");
        Path venv = lib("venv/lib/python3.12/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path user = lib("home/.local/lib/python3.12/site-packages/nvidia/cu13/lib", "libcublas.so.13");
        Map<String, String> env = Map.of("CONDA_PREFIX", tmp.resolve("conda").toString(),
                "VIRTUAL_ENV", tmp.resolve("venv").toString(), "HOME", tmp.resolve("home").toString());
        CublasLocator.Search s = CublasLocator.search(env, 13000, tmp.resolve("empty-root"));
        assertEquals(List.of("libcublas.so.13 through the system loader", user.toString(),
                "libcublas.so.12 through the system loader", venv.toString(), conda.toString()), describe(s));
    }

    @Test
    void theMessageWhenNothingLoadsNamesEveryPlace() {
        CublasLocator.Search s = CublasLocator.search(Map.of("CUDA_HOME", "/opt/cuda-x"), 13000, tmp.resolve("r"));
        String m = Cublas.notFound(s, List.of("libcublas.so.13 through the system loader: Cannot open library"),
                List.of(13, 12));
        assertTrue(m.startsWith("cuBLAS not found: no libcublas.so.13 or libcublas.so.12 could be loaded; looked in "
                + "/opt/cuda-x/lib64, " + tmp.resolve("r/usr/local/cuda/lib64") + ", the system loader"), m);
        assertTrue(m.contains("tried libcublas.so.13 through the system loader: Cannot open library"), m);
        assertTrue(m.endsWith("Set RECUR_CUBLAS to the library file to name it."), m);
    }
}
