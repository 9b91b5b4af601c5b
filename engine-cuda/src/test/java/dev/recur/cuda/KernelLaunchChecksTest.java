package dev.recur.cuda;

import dev.recur.cuda.KernelSignatureTest.Recorder;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host side of the launch methods, without a GPU: the kernel chains of the multi-kernel ops
 * (order, scratch layout, pass counts), the scalars computed on the host, the launch shapes, and
 * the argument checks.
 */
class KernelLaunchChecksTest {

    private final Recorder rec = new Recorder();
    private final CudaKernels k = new CudaKernels(rec);

    @Test
    void layerNormLaunchesOneWarpPerRowAndGateBlockAndChecksTheBlocks() {
        // 10 rows x 3 blocks = 30 warps, 4 per block of 128 threads: 8 blocks.
        k.optLayerNorm(null, 10, 7, 28, 1, 3, 1e-5f, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000);
        Recorder.Launch l = rec.launches.getLast();
        assertEquals("optLayerNorm", l.kernel());
        assertEquals(128, l.block());
        assertEquals(8, l.grid());
        assertEquals(1, l.integer(3), "first block");
        assertEquals(1e-5f, l.real(5));
        // Blocks [2, 5) of 7 units do not fit in rows of 28 = 4 blocks.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.optLayerNormBackward(null, 10, 7, 28, 2, 3, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000));
        assertTrue(e.getMessage().contains("optLayerNormBackward: blocks [2, 5) of 7 units do not fit in rows of 28"),
                e.getMessage());
        // One warp per row of the cell's normalisation: B = 9 rows, 3 blocks.
        k.optLayerNormCell(null, 9, 5, 2, 20, 15, 1e-5f, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000);
        assertEquals(3, rec.launches.getLast().grid());
    }

    @Test
    void optionOutputChecksItsColumnsAndStepKernelsNeedTheirBuffers() {
        IllegalArgumentException cols = assertThrows(IllegalArgumentException.class,
                () -> k.optOutput(null, 2, 5, 0, 8, 4, 0x1000, 0x2000, 0x3000, 0x4000));
        assertTrue(cols.getMessage().contains("optOutput: columns [yCol, yCol + hs) = [4, 9) do not fit in yStride = 8"),
                cols.getMessage());
        IllegalArgumentException codes = assertThrows(IllegalArgumentException.class,
                () -> k.optCommitState(null, 2, 5, 0, 0.1f, true, 1, 2, 0, 0x2000, 0x3000));
        assertTrue(codes.getMessage().contains("optCommitState: codes must be a device address"), codes.getMessage());
        // The output gradient may run without dy (no output gradient): a null dy is passed through.
        k.optOutputGradient(null, 2, 5, 1, 10, 5, true, 0x1000, 0, 0x3000, 0x4000);
        assertEquals(0L, rec.launches.getLast().pointer(7));
    }

    @Test
    void embeddingBackwardSortsInAsManyPassesAsTheIdsHaveBytes() {
        long scratch = 0x100000;
        int n = 100;
        // Keys run to V (the key of invalid ids): V = 255 fits in 8 bits, V = 256 needs 9.
        for (int[] vp : new int[][] {{1, 1}, {255, 1}, {256, 2}, {65535, 2}, {65536, 3}, {1 << 24, 4}}) {
            rec.launches.clear();
            k.embeddingBackward(null, n, vp[0], 8, 0xA000, 0xB000, 0xC000, scratch, 0xD000);
            int passes = vp[1];
            List<String> expected = new java.util.ArrayList<>();
            expected.add("embeddingBackwardKeys");
            for (int p = 0; p < passes; p++) {
                expected.addAll(List.of("embeddingBackwardCounts", "embeddingBackwardOffsets", "embeddingBackwardScatter"));
            }
            expected.add("embeddingBackward");
            assertEquals(expected, rec.kernels(), "V = " + vp[0]);
            long keysA = scratch;
            long keysB = scratch + 8L * n;
            long counts = scratch + 16L * n;
            for (int p = 0; p < passes; p++) {
                Recorder.Launch scatter = rec.launches.get(3 + 3 * p);
                assertEquals(8 * p, scatter.integer(1), "shift of pass " + p);
                assertEquals(p % 2 == 0 ? keysA : keysB, scatter.pointer(2), "keys in, pass " + p);
                assertEquals(counts, scatter.pointer(4));
                assertEquals(p % 2 == 0 ? keysB : keysA, scatter.pointer(5), "keys out, pass " + p);
                Recorder.Launch offsets = rec.launches.get(2 + 3 * p);
                assertEquals(256 * ((n + 31) / 32), offsets.integer(0), "digit counts scanned");
            }
            Recorder.Launch sum = rec.launches.getLast();
            assertEquals(passes % 2 == 1 ? keysB : keysA, sum.pointer(3), "the sum reads the last pass's keys");
            assertEquals(0xC000, sum.pointer(6));
        }
        // The scratch holds 4n ints of keys and values plus 256 counts per tile of 32.
        assertEquals(4L * (4 * n + 256 * 4), CudaKernels.embeddingBackwardScratchBytes(n));
    }

    @Test
    void embeddingSortLaunchesOneThreadPerTileHoweverManyIds() {
        // Counts and Scatter do not grid-stride: one thread per tile of 32 positions, so the grid
        // must cover every tile, past the 8192-block cap of the grid-stride kernels.
        int n = 9_000_000;
        int tiles = (n + 31) / 32;
        k.embeddingBackward(null, n, 100, 8, 0xA000, 0xB000, 0xC000, 0x100000, 0);
        for (Recorder.Launch l : rec.launches) {
            if (l.kernel().equals("embeddingBackwardCounts") || l.kernel().equals("embeddingBackwardScatter")) {
                assertEquals(32, l.block(), l.kernel());
                assertEquals((tiles + 31) / 32, l.grid(), l.kernel() + ": one thread per tile");
            }
        }
    }

    @Test
    void embeddingSortScansEveryDigitCountUpToTheIntLimitAndRefusesMore() {
        // The scan's count is 256 digit counts per tile of 32 positions, an int: it must not wrap.
        int dim = 1;   // n·dim must fit an int too; dim 1 lets n reach the scan's own limit
        for (int n : new int[] {8_388_609, CudaKernels.MAX_SORT_POSITIONS}) {
            rec.launches.clear();
            k.embeddingBackward(null, n, 100, dim, 0xA000, 0xB000, 0xC000, 0x100000, 0);
            long tiles = (n + 31L) / 32;
            for (Recorder.Launch l : rec.launches) {
                if (l.kernel().equals("embeddingBackwardOffsets")) {
                    assertEquals(256 * tiles, l.integer(0), "the scan covers every digit count, n = " + n);
                }
                if (l.kernel().equals("embeddingBackwardCounts") || l.kernel().equals("embeddingBackwardScatter")) {
                    assertTrue((long) l.grid() * l.block() >= tiles, l.kernel() + ": every tile has a thread");
                }
            }
        }
        // Past it 256·tiles wraps (negative up to 536M positions, positive and wrong beyond): refused.
        for (int n : new int[] {CudaKernels.MAX_SORT_POSITIONS + 1, 600_000_000, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.embeddingBackward(null, n, 100, dim, 0xA000, 0xB000, 0xC000, 0x100000, 0));
            assertTrue(e.getMessage().contains("int range of the sort's scan"), e.getMessage());
        }
    }

    @Test
    void clipGlobalNormSumsEveryTensorThenScalesEach() {
        long scratch = 0x100000;
        k.clipGlobalNorm(null, new long[] {0xA000, 0xB000, 0xC000}, new int[] {10, 0, 7}, 1f, 0xD000, scratch);
        assertEquals(List.of("clipGlobalNormPartials", "clipGlobalNormPartials", "clipGlobalNormPartials",
                "clipGlobalNormTotal", "clipGlobalNormScale", "clipGlobalNormScale"), rec.kernels(),
                "an empty tensor still writes its partials (zeros) but needs no scaling");
        for (int t = 0; t < 3; t++) {
            Recorder.Launch l = rec.launches.get(t);
            assertEquals(CudaKernels.PARTIALS, l.grid(), "a fixed grid: the sum's shape does not depend on the GPU");
            assertEquals(scratch + (long) t * CudaKernels.PARTIALS * 8, l.pointer(2));
        }
        assertEquals(3 * CudaKernels.PARTIALS, rec.launches.get(3).integer(0));
        assertEquals(3L * CudaKernels.PARTIALS * 8, CudaKernels.clipGlobalNormScratchBytes(3));
    }

    @Test
    void softmaxCrossEntropyKeepsItsCountAfterTheRowLosses() {
        long scratch = 0x100000;
        int n = 6;
        k.softmaxCrossEntropy(null, n, 10, -100, 0xA000, 0xB000, 0xC000, 0xD000, scratch, 0);
        assertEquals(List.of("softmaxCrossEntropyCount", "softmaxCrossEntropyRows", "softmaxCrossEntropyTotal"),
                rec.kernels());
        long count = scratch + 8L * n;
        assertEquals(count, rec.launches.get(0).pointer(4));
        assertEquals(count, rec.launches.get(1).pointer(5));
        assertEquals(scratch, rec.launches.get(1).pointer(6));
        assertEquals(count, rec.launches.get(2).pointer(1));
        assertEquals(8L * n + 8, CudaKernels.softmaxCrossEntropyScratchBytes(n));
        // The row kernel's block depends on C alone (the smallest power of two >= C, 32 to 256).
        for (int[] cb : new int[][] {{1, 32}, {32, 32}, {33, 64}, {65, 128}, {200, 256}, {50_000, 256}}) {
            rec.launches.clear();
            k.softmaxCrossEntropyRows(null, 3, cb[0], -1, 0xA000, 0xB000, 0xC000, 0xD000, 0);
            assertEquals(cb[1], rec.launches.getFirst().block(), "C = " + cb[0]);
        }
    }

    @Test
    void adamComputesTheBiasCorrectionsAsTheCpuEngine() {
        float lr = 1e-3f;
        float beta1 = 0.9f;
        float beta2 = 0.999f;
        int step = 7;
        k.adam(null, 10, step, lr, beta1, beta2, 1e-8f, 0f, false, 0xA000, 0xB000, 0xC000, 0xD000);
        Recorder.Launch l = rec.launches.getFirst();
        float bias1 = (float) (1 - Math.pow(beta1, step));
        assertEquals(lr / bias1, l.real(7), 0f, "stepSize, as CpuOptimizerOps computes it");
        assertEquals((float) Math.sqrt(1 - Math.pow(beta2, step)), l.real(8), 0f, "bias2Sqrt");
        assertEquals(0, l.integer(6), "not decoupled");
    }

    @Test
    void sgdWithoutMomentumPassesNoVelocity() {
        k.sgd(null, 10, 0.1f, 0f, 0f, false, 0xA000, 0xB000, 0xC000);
        assertEquals(0L, rec.launches.getFirst().pointer(7));
        assertThrows(IllegalArgumentException.class, () -> k.sgd(null, 10, 0.1f, 0.9f, 0f, false, 0xA000, 0xB000, 0));
    }

    @Test
    void gateKernelsRunOneThreadPerRowAndUnit() {
        k.lstmForward(null, 64, 128, 512, false, 1, 2, 3, 0, 5, 6, 7, 8);
        Recorder.Launch l = rec.launches.getFirst();
        assertEquals(64 * 512, l.grid() * l.block(), "64 rows x 512 units, one thread each");
        assertEquals(List.of(64, 128, 512, 0), l.values().subList(0, 4));
    }

    @Test
    void emptyWorkLaunchesNothing() {
        k.axpy(null, 0, 1f, 0xA000, 0xB000);
        k.rnnForward(null, 0, 0, 16, false, 1, 2, 3, 4);
        k.storeState(null, 3, 5, 0xA000, 0xB000, 0);   // no state to store, as on the CPU
        k.embeddingBackward(null, 0, 10, 4, 1, 2, 3, 4, 0);
        assertEquals(List.of(), rec.kernels());
    }

    @Test
    void badArgumentsAreRefusedWithTheirNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.axpy(null, 10, 1f, 0, 0xB000));
        assertTrue(e.getMessage().startsWith("axpy: x must be a device address"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.scale(null, -1, 1f, 0xA000));
        assertEquals("scale: n must be >= 0, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.lstmForward(null, 1, 0, 4, true, 1, 2, 3, 4, 5, 6, 7, 8));
        assertTrue(e.getMessage().contains("coupled LSTM has no peepholes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.copyColumns(null, 2, 3, 5, 3, true, 1, 2));
        assertTrue(e.getMessage().contains("[3, 6) do not fit in a row of w = 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.storeStepOutput(null, 2, 0, 4, 6, 3, 1, 2, 3));
        assertTrue(e.getMessage().contains("do not fit in yStride = 6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.dropout(null, 4, 1f, 0, 0, 1, 2, 3));
        assertEquals("dropout: p must be in [0, 1), got 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.gatherRows(null, 1 << 16, 1 << 16, 1, 2, 3));
        assertTrue(e.getMessage().contains("exceeds the int range"), e.getMessage());
        assertEquals(List.of(), rec.kernels());
    }

    @Test
    void aClosedModuleLaunchesNothingAndClosesTwice() {
        k.close();
        k.close();
        assertThrows(IllegalStateException.class, () -> k.axpy(null, 10, 1f, 0xA000, 0xB000));
        assertEquals(List.of(), rec.kernels());
    }
}
