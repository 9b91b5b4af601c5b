package dev.recur.bench;

import dev.recur.api.Cell;
import org.junit.jupiter.api.Test;

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
    }
}
