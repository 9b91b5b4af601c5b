package dev.recur.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.recur.api.Cell;
import dev.recur.models.cli.Recur;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JSON lines of {@code recur bench} on the CPU engine, on a tiny shape (B=2, I=H=8, T=3, one
 * timed run) so that the test is quick; no timing is asserted, only the format and the
 * arithmetic that ties the fields together.
 */
class BenchJsonLineTest {

    static final List<String> LAYER_KEYS = List.of("engine", "cell", "B", "I", "H", "T", "train_step_ms", "forward_ms",
            "gflops", "peak_share", "forward_gflops", "peak_gflops", "train_step_min_ms", "warmup", "iters", "inference_ms",
            "inference_gflops");

    @ParameterizedTest(name = "recur bench {0}")
    @CsvSource({"lstm, lstm", "gru, gru", "rnn, rnn_tanh"})
    void oneLayerLinePerRun(String what, String cellId) {
        // --peak: a fixed peak, so that the test does not spend half a second measuring one.
        Streams s = Streams.recur("bench", what, "--backend", "cpu", "--batch", "2", "--input", "8", "--hidden", "8",
                "--steps", "3", "--iters", "1", "--warmup", "0", "--peak", "0.5");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(1, s.outLines().size(), s::toString);
        Map<String, Object> f = FlatJson.parse(s.outLines().get(0));
        assertEquals(LAYER_KEYS, List.copyOf(f.keySet()));
        assertEquals("cpu", f.get("engine"));
        assertEquals(cellId, f.get("cell"));
        assertEquals(2.0, f.get("B"));
        assertEquals(8.0, f.get("I"));
        assertEquals(8.0, f.get("H"));
        assertEquals(3.0, f.get("T"));
        assertEquals(0.0, f.get("warmup"));
        assertEquals(1.0, f.get("iters"));
        assertEquals(0.5, f.get("peak_gflops"));
        double ms = (double) f.get("train_step_ms");
        assertTrue(ms > 0 && (double) f.get("forward_ms") > 0, s::toString);
        // With one timed run the median is that run.
        assertEquals(ms, (double) f.get("train_step_min_ms"));
        // gflops = 3 · 2·G·H·(I+H)·B·T / time, and peak_share = gflops / peak, to the printed
        // precision (6 significant digits each).
        long flops = 3L * 2 * Cell.byId(cellId).gates() * 8 * (8 + 8) * 2 * 3;
        double gflops = (double) f.get("gflops");
        assertEquals(flops / (ms * 1e6), gflops, gflops * 1e-4, s::toString);
        assertEquals(gflops / 0.5, (double) f.get("peak_share"), gflops * 1e-4, s::toString);
        assertEquals(flops / 3 / ((double) f.get("forward_ms") * 1e6), (double) f.get("forward_gflops"),
                (double) f.get("forward_gflops") * 1e-4, s::toString);
        // inference_gflops counts the forward's FLOPs over layerInference's time.
        assertEquals(flops / 3 / ((double) f.get("inference_ms") * 1e6), (double) f.get("inference_gflops"),
                (double) f.get("inference_gflops") * 1e-4, s::toString);
    }

    @Test
    void gemmLine() {
        Streams s = Streams.recur("bench", "gemm", "--m", "3", "--n", "5", "--k", "7", "--trans-b", "--iters", "2",
                "--warmup", "1", "--peak", "50");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(1, s.outLines().size(), s::toString);
        Map<String, Object> f = FlatJson.parse(s.outLines().get(0));
        assertEquals(List.of("engine", "op", "M", "N", "K", "trans_b", "ms", "gflops", "peak_share", "peak_gflops",
                "min_ms", "warmup", "iters"), List.copyOf(f.keySet()));
        assertEquals("sgemm", f.get("op"));
        assertEquals(3.0, f.get("M"));
        assertEquals(5.0, f.get("N"));
        assertEquals(7.0, f.get("K"));
        assertEquals(Boolean.TRUE, f.get("trans_b"));
        assertTrue((double) f.get("ms") >= (double) f.get("min_ms"), s::toString);
    }

    /** Without --peak the peak is measured, and every timed run is followed by a paired FMA pass. */
    @Test
    void gemmLineWithMeasuredPeakHasPairedShare() {
        Streams s = Streams.recur("bench", "gemm", "--m", "64", "--n", "64", "--k", "64", "--iters", "3",
                "--warmup", "1");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        Map<String, Object> f = FlatJson.parse(s.outLines().get(0));
        assertEquals(List.of("engine", "op", "M", "N", "K", "trans_b", "ms", "gflops", "peak_share", "peak_gflops",
                "min_ms", "warmup", "iters", "peak_share_paired", "paired_peak_gflops"), List.copyOf(f.keySet()));
        double paired = (double) f.get("paired_peak_gflops");
        double share = (double) f.get("peak_share_paired");
        assertTrue(paired > 0 && share > 0, s::toString);
        // The median run's GFLOP/s over the median paired pass is close to the median of the ratios
        // (not equal: the medians of a ratio and of its parts differ), and never off by 10x.
        double approx = (double) f.get("gflops") / paired;
        assertTrue(share > approx / 10 && share < approx * 10, s::toString);
    }

    @Test
    void peakLine() {
        Streams s = Streams.recur("bench", "peak", "--threads", "1", "--seconds", "0.05");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(1, s.outLines().size(), s::toString);
        Map<String, Object> f = FlatJson.parse(s.outLines().get(0));
        assertEquals(List.of("op", "threads", "vector_bits", "lanes", "chains", "passes", "seconds", "gflops"),
                List.copyOf(f.keySet()));
        assertEquals("fma_peak", f.get("op"));
        assertEquals(1.0, f.get("threads"));
        assertEquals((double) FmaPeak.PASSES, f.get("passes"));
        assertEquals((double) FmaPeak.lanes(), f.get("lanes"));
        assertEquals(32.0 * FmaPeak.lanes(), f.get("vector_bits"));
        assertTrue((double) f.get("gflops") > 0, s::toString);
    }

    @Test
    void jsonLineEscapesAndWritesNonFiniteAsNull() {
        String line = new JsonLine().put("s", "a\"b\\c\nd").put("n", 3).put("x", Double.NaN).put("y", 1234.5678)
                .put("z", 0.000123456789).put("w", 1e7).put("t", true).toString();
        assertEquals("{\"s\":\"a\\\"b\\\\c\\nd\",\"n\":3,\"x\":null,\"y\":1234.57,\"z\":0.000123457,"
                + "\"w\":10000000,\"t\":true}", line);
    }

    @Test
    void jsonLineRoundsToSixDigitsInPlainNotationAndReadsBackAsJson() throws Exception {
        JsonLine j = new JsonLine().put("big", 1.234567891e20).put("tiny", -1.23456789e-9).put("negZero", -0.0)
                .put("inf", Double.NEGATIVE_INFINITY).put("whole", 42.0).put("ctl", "tab\tbell\u0007").put("long", Long.MAX_VALUE)
                .put("no", false).put("unicode", "\u00e9\u20ac");
        String line = j.toString();
        assertEquals("{\"big\":123457000000000000000,\"tiny\":-0.00000000123457,\"negZero\":0,\"inf\":null,"
                + "\"whole\":42,\"ctl\":\"tab\\tbell\\u0007\",\"long\":9223372036854775807,\"no\":false,"
                + "\"unicode\":\"\u00e9\u20ac\"}", line);
        // get() keeps the value as put; the line holds it rounded.
        assertEquals(1.234567891e20, j.get("big"));
        assertEquals(Double.NaN, j.number("inf"));
        JsonNode node = new ObjectMapper().readTree(line);
        assertEquals(1.23457e20, node.get("big").doubleValue());
        assertEquals("tab\tbell\u0007", node.get("ctl").textValue());
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("big", "tiny", "negZero", "inf", "whole", "ctl", "long", "no", "unicode"), names);
    }
}
