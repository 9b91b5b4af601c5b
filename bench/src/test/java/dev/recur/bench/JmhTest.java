package dev.recur.bench;

import dev.recur.bench.jmh.GemmShape;
import dev.recur.models.cli.Recur;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JmhTest {

    /** The annotation processor ran: every benchmark is in JMH's list. */
    @Test
    void everyBenchmarkIsGenerated() throws Exception {
        Set<String> found = new TreeSet<>();
        try (InputStream in = JmhTest.class.getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(in, "META-INF/BenchmarkList is missing: JMH's annotation processor did not run");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                for (String word : line.split(" ")) {
                    if (word.startsWith("dev.recur.bench.jmh.") && !word.contains("jmh_generated")) {
                        found.add(JmhRun.shortName(word + ".x").replace(".x", ""));
                    }
                }
            }
        }
        assertEquals(new TreeSet<>(List.of("CellBenchmark", "Dl4jGemmBenchmark", "Dl4jLayerBenchmark",
                "FmaPeakBenchmark", "GemmBenchmark", "LayerBenchmark")), found);
    }

    /** One tiny JMH run in this JVM (-f 0), then its GFLOP/s line. */
    @Test
    void jmhRunsAndReportsGflops() {
        // "\.GemmBenchmark": not Dl4jGemmBenchmark too (JMH's include is a regexp that may match anywhere).
        Streams s = Streams.recur("bench", "jmh", "--", "\\.GemmBenchmark\\.sgemm", "-f", "0", "-wi", "0", "-i", "1",
                "-r", "100ms", "-p", "shape=16x8x4:T", "-p", "backend=cpu");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        List<String> json = s.outLines().stream().filter(l -> l.startsWith("{")).toList();
        assertEquals(1, json.size(), s::toString);
        Map<String, Object> f = FlatJson.parse(json.get(0));
        assertEquals("GemmBenchmark.sgemm", f.get("benchmark"));
        assertEquals("cpu", f.get("backend"));
        assertEquals("16x8x4:T", f.get("shape"));
        double ops = (double) f.get("ops_per_s");
        assertTrue(ops > 0, s::toString);
        assertEquals(ops * 2 * 16 * 8 * 4 / 1e9, (double) f.get("gflops"), (double) f.get("gflops") * 1e-4);
    }

    @Test
    void gemmShapes() {
        assertEquals(new GemmShape(6400, 2048, 512, true), GemmShape.parse("6400x2048x512:T"));
        assertEquals(new GemmShape(1024, 1024, 1024, false), GemmShape.parse("1024x1024x1024"));
        assertEquals(2L * 6400 * 2048 * 512, GemmShape.parse("6400x2048x512:T").flops());
        assertThrows(IllegalArgumentException.class, () -> GemmShape.parse("1024x1024"));
        assertThrows(IllegalArgumentException.class, () -> GemmShape.parse("0x1x1"));
        assertThrows(IllegalArgumentException.class, () -> GemmShape.parse("axbxc"));
    }
}
