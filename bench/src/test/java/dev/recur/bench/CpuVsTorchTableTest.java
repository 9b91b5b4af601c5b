package dev.recur.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bench/cpu-vs-torch.sh's Python parts: the table script puts numpy's OpenBLAS beside the SGEMM
 * rows (its GFLOP/s and Recur's over it), and the numpy peer checks its arguments. Needs python3;
 * skipped, saying so, where there is none.
 */
class CpuVsTorchTableTest {

    /** The script under bench/python, from the bench module (Maven's working directory) or the repository root. */
    private static Path script(String name) {
        Path inModule = Path.of("python", name);
        return Files.exists(inModule) ? inModule : Path.of("bench", "python", name);
    }

    private record Run(int status, String out, String err) {
    }

    private static Run python(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("python3"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 " + args[0] + " did not finish");
        return new Run(p.exitValue(), Files.readString(dir.resolve("out.txt")), Files.readString(dir.resolve("err.txt")));
    }

    private static boolean hasPython(Path dir) {
        try {
            return python(dir, "-c", "import sys").status() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void sgemmRowsShowNumpyAndTheRatio(@TempDir Path dir) throws Exception {
        assumeTrue(hasPython(dir), "no python3 on this machine: the table script is not run");
        String lines = String.join("\n",
                "{\"row\":\"SGEMM 1024^3\",\"engine\":\"cpu\",\"op\":\"sgemm\",\"M\":1024,\"N\":1024,\"K\":1024,"
                        + "\"trans_b\":false,\"ms\":6.0,\"gflops\":360.0}",
                "{\"row\":\"SGEMM 1024^3\",\"engine\":\"torch-cpu\",\"op\":\"sgemm\",\"M\":1024,\"N\":1024,\"K\":1024,"
                        + "\"trans_b\":false,\"ms\":12.0,\"gflops\":180.0}",
                "{\"row\":\"SGEMM 1024^3\",\"engine\":\"numpy-openblas\",\"op\":\"sgemm\",\"M\":1024,\"N\":1024,"
                        + "\"K\":1024,\"trans_b\":false,\"ms\":5.0,\"gflops\":400.0,\"coretype\":\"auto\"}",
                "{\"row\":\"SGEMM 1024^3, 256-bit\",\"engine\":\"cpu\",\"op\":\"sgemm\",\"M\":1024,\"N\":1024,"
                        + "\"K\":1024,\"trans_b\":false,\"ms\":12.0,\"gflops\":180.0,\"peak_gflops\":200.0}",
                "{\"row\":\"SGEMM 1024^3, 256-bit\",\"engine\":\"torch-cpu\",\"unavailable\":\"no torch\"}",
                "{\"row\":\"SGEMM 1024^3, 256-bit\",\"engine\":\"numpy-openblas\",\"op\":\"sgemm\",\"M\":1024,"
                        + "\"N\":1024,\"K\":1024,\"trans_b\":false,\"ms\":10.0,\"gflops\":200.0,\"coretype\":\"Haswell\"}",
                "{\"row\":\"SGEMM 512^3\",\"engine\":\"cpu\",\"op\":\"sgemm\",\"M\":512,\"N\":512,\"K\":512,"
                        + "\"trans_b\":false,\"ms\":1.0,\"gflops\":268.0}",
                "{\"row\":\"SGEMM 512^3\",\"engine\":\"torch-cpu\",\"op\":\"sgemm\",\"M\":512,\"N\":512,\"K\":512,"
                        + "\"trans_b\":false,\"ms\":2.0,\"gflops\":134.0}") + "\n";
        Files.writeString(dir.resolve("t.jsonl"), lines, StandardCharsets.UTF_8);
        Run run = python(dir, script("cpu_vs_torch_table.py").toAbsolutePath().toString(), dir.resolve("t").toString(),
                "400");
        assertEquals(0, run.status(), run.err());
        String md = Files.readString(dir.resolve("t.md"));
        // Recur 360 against numpy 400: 0.90; PyTorch's time 12 against Recur's 6: 0.50.
        assertTrue(md.contains("| SGEMM 1024^3 | 6.00 | 12.00 | 0.50 | 360.0 | 90% | 180.0 | 400.0 | 0.90 |"), md);
        // No PyTorch on a row: Recur's figures and numpy's still show, the forced kernels named; the
        // share is of the line's own peak (the 256-bit one, 200), not the table's 400.
        assertTrue(md.contains("| SGEMM 1024^3, 256-bit | 12.00 | unavailable | | 180.0 | 90% | | 200.0 (Haswell) | 0.90 |"),
                md);
        // A row without a numpy line (an older run) leaves both numpy cells empty.
        assertTrue(md.contains("| SGEMM 512^3 | 1.00 | 2.00 | 0.50 | 268.0 | 67% | 134.0 |  |  |"), md);
        assertTrue(md.contains("| numpy GFLOP/s | Recur / numpy GFLOP/s |"), md);
    }

    @Test
    void numpyPeerRejectsABadShapeAndTimesAGoodOne(@TempDir Path dir) throws Exception {
        assumeTrue(hasPython(dir), "no python3 on this machine: the numpy peer is not run");
        String peer = script("numpy_gemm_bench.py").toAbsolutePath().toString();
        Run bad = python(dir, peer, "--gemm", "8:8");
        assertEquals(2, bad.status(), bad.err());
        assertTrue(bad.err().contains("a GEMM shape is M:N:K or M:N:K:T, got '8:8'"), bad.err());
        Run good = python(dir, peer, "--gemm", "8:16:4:T", "--threads", "1", "--warmup", "0", "--iters", "2", "--peak", "100");
        assumeTrue(good.status() != 1, "numpy is not installed: " + good.err());
        assertEquals(0, good.status(), good.err());
        String line = good.out().strip();
        assertTrue(line.startsWith("{\"engine\":\"numpy-openblas\",\"op\":\"sgemm\",\"M\":8,\"N\":16,\"K\":4,"
                + "\"trans_b\":true,\"ms\":"), line);
        assertTrue(line.endsWith("\"warmup\":0,\"iters\":2,\"blas_threads\":1,\"coretype\":\"auto\"}"), line);
        assertTrue(good.err().contains("OPENBLAS_NUM_THREADS=1, OPENBLAS_CORETYPE=(removed)"), good.err());
    }
}
