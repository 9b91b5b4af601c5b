package dev.recur.bench;

import dev.recur.api.Cell;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimingAndPeakTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3.0, new Timing.Result(new double[] {5, 1, 3}).medianMs());
        assertEquals(2.5, new Timing.Result(new double[] {4, 1, 3, 2}).medianMs());
        assertEquals(1.0, new Timing.Result(new double[] {4, 1, 3, 2}).minMs());
        assertThrows(IllegalArgumentException.class, () -> new Timing.Result(new double[0]));
    }

    @Test
    void warmupRunsAreNotTimed() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Timing.Result r = Timing.measure(3, 4, runs::incrementAndGet);
        assertEquals(7, runs.get());
        assertEquals(4, r.samplesMs().length);
        assertThrows(IllegalArgumentException.class, () -> Timing.measure(0, 0, runs::incrementAndGet));
        assertThrows(IllegalArgumentException.class, () -> Timing.measure(-1, 1, runs::incrementAndGet));
    }

    @Test
    void flopCountsOfDesignMd() {
        // 2·G·H·(I+H)·B·T for the LSTM of the issue: B=64, I=H=512, T=100.
        assertEquals(2L * 4 * 512 * 1024 * 64 * 100, Flops.layerForward(Cell.LSTM, 64, 512, 512, 100));
        assertEquals(3 * Flops.layerForward(Cell.GRU, 64, 512, 512, 100), Flops.layerTrain(Cell.GRU, 64, 512, 512, 100));
        assertEquals(2L * 1024 * 1024 * 1024, Flops.gemm(1024, 1024, 1024));
        assertEquals(2.0, Flops.gflops(2_000_000, 1.0));
    }

    @Test
    void fmaKernelStaysFiniteAndPeakIsPositive() {
        float v = FmaPeak.kernel(1_000_000, 0.5f);
        assertTrue(Float.isFinite(v), "kernel result " + v);
        FmaPeak.Result r = FmaPeak.measure(1, 0.02);
        assertTrue(r.gflops() > 0, r.toString());
        assertEquals(1, r.threads());
        assertEquals(FmaPeak.lanes() * 32, r.vectorBits());
        assertThrows(IllegalArgumentException.class, () -> FmaPeak.measure(0, 1));
        assertEquals(FmaPeak.PASSES, r.passes());
        assertTrue(r.iterationsPerSecond() > 0, r.toString());
        double probe = FmaPeak.Probe.of(r, 0.01, 0).gflops();
        assertTrue(probe > 0, "probe pass " + probe);
        assertThrows(IllegalArgumentException.class, () -> FmaPeak.Probe.of(r, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> FmaPeak.Probe.of(r, 1, -1));
    }

    @Test
    void onlyTheCpuEngineIsPairedWithFmaPasses() {
        FmaPeak.Result r = new FmaPeak.Result(100, 2, 8, 256, 0.5, FmaPeak.PASSES, 1e9);
        Measurements.Peak measured = Measurements.Peak.measured(r);
        assertTrue(measured.forEngine("cpu").probe() != null);
        assertEquals(null, measured.forEngine("cuda").probe(), "a GPU engine's runs say nothing of the CPU's peak");
        assertEquals(100, measured.forEngine("cuda").gflops());
        assertEquals(null, Measurements.Peak.given(5).forEngine("cpu").probe(), "a given peak has no passes");
    }

    @Test
    void pairedReadingsGiveTheMedianShare() throws Exception {
        // Runs of 2, 4 and 1 ms of 100 MFLOP: 50, 25 and 100 GFLOP/s; passes after them of 100,
        // 50 and 400 GFLOP/s: shares 0.5, 0.5 and 0.25, median 0.5. The median run alone (2 ms,
        // 50 GFLOP/s) over the median pass (100) is also 0.5, but over the best pass (400) 0.125.
        Timing.Result r = new Timing.Result(new double[] {2, 4, 1}, new double[] {100, 50, 400});
        assertEquals(0.5, r.medianShare(100), 1e-12);
        assertEquals(100, r.medianAfter(), 1e-12);
        assertTrue(Double.isNaN(new Timing.Result(new double[] {1}).medianShare(1)));
        assertThrows(IllegalArgumentException.class, () -> new Timing.Result(new double[] {1, 2}, new double[] {1}));

        double[] next = {7, 8};
        int[] i = {0};
        Timing.Result measured = Timing.measure(1, 2, () -> { }, () -> next[i[0]++]);
        assertEquals(List.of(7.0, 8.0), Arrays.stream(measured.after()).boxed().toList(),
                "one reading after each timed run, none after the warm-up");
    }
}
