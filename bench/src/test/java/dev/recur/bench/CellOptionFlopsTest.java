package dev.recur.bench;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FLOP counts of {@code recur bench options}, worked by hand for the benchmark's shape
 * (B = 64, I = H = 512, T = 100, P = 256): per step and sequence, before the factor B·T = 6400.
 */
class CellOptionFlopsTest {

    private static final int B = 64;
    private static final int I = 512;
    private static final int H = 512;
    private static final int T = 100;

    private static long forward(Cell cell, CellOptions o) {
        return Flops.layerForward(cell, o, B, I, H, T);
    }

    @Test
    void theCountsOfEachOption() {
        assertEquals(Flops.layerForward(Cell.LSTM, B, I, H, T), forward(Cell.LSTM, CellOptions.NONE), "plain");
        // LSTM, plain: 2·4·512·(512 + 512) = 4,194,304 per step and sequence.
        assertEquals(4_194_304L * 6400, forward(Cell.LSTM, CellOptions.NONE));
        // Projection P = 256: 2·4·512·512 + 2·4·512·256 + 2·256·512 = 2,097,152 + 1,048,576 + 262,144.
        assertEquals(3_407_872L * 6400, forward(Cell.LSTM, new CellOptions(false, 0f, 0f, 0f, 256)));
        // Layer norm: 8 per element of 2·4 blocks of 512 and of c (512): 8·4608 = 36,864 more.
        assertEquals((4_194_304L + 36_864) * 6400, forward(Cell.LSTM, new CellOptions(true, 0f, 0f, 0f, 0)));
        // GRU layer norm: no c, 8·2·3·512 = 24,576 more than 2·3·512·1024 = 3,145,728.
        assertEquals((3_145_728L + 24_576) * 6400, forward(Cell.GRU, new CellOptions(true, 0f, 0f, 0f, 0)));
        // Recurrent dropout 1 per element of R = 512; zoneout 3 per element of h and of c.
        assertEquals((4_194_304L + 512) * 6400, forward(Cell.LSTM, new CellOptions(false, 0.25f, 0f, 0f, 0)));
        assertEquals((4_194_304L + 3 * 1024) * 6400, forward(Cell.LSTM, new CellOptions(false, 0f, 0.1f, 0.1f, 0)));
        // All, P = 256: the LSTM's h is P wide, so dropout reads 256 and zoneout of h 256.
        assertEquals((3_407_872L + 36_864 + 256 + 3 * 256 + 3 * 512) * 6400,
                forward(Cell.LSTM, new CellOptions(true, 0.25f, 0.1f, 0.1f, 256)));
        assertEquals(3 * forward(Cell.LSTM, new CellOptions(true, 0f, 0f, 0f, 256)),
                Flops.layerTrain(Cell.LSTM, new CellOptions(true, 0f, 0f, 0f, 256), B, I, H, T));
    }

    /**
     * {@code recur bench options} on a tiny shape on the cpu engine: six lines in order, each with
     * its options, a time, the ratio to the plain row of the same run (1 for the plain row) and
     * GFLOP/s from the count above.
     */
    @Test
    void theCommandPrintsARowPerOptionWithTheRatioToPlain() {
        Streams s = Streams.recur("bench", "options", "--backend", "cpu", "--batch", "2", "--input", "3", "--hidden",
                "6", "--steps", "4", "--proj-size", "2", "--iters", "1", "--warmup", "0");
        assertEquals(0, s.status, s::toString);
        List<String> lines = s.outLines();
        assertEquals(6, lines.size(), s::toString);
        String[] rows = {"plain", "layer_norm", "recurrent_dropout", "zoneout", "projection", "all"};
        dev.recur.api.CellOptions all = new dev.recur.api.CellOptions(true, 0.25f, 0.1f, 0.1f, 2);
        for (int i = 0; i < rows.length; i++) {
            Map<String, Object> f = FlatJson.parse(lines.get(i));
            assertEquals(rows[i], f.get("row"), lines.get(i));
            double ms = ((Number) f.get("train_step_ms")).doubleValue();
            assertTrue(ms > 0, lines.get(i));
            assertTrue(f.get("flops_note").toString().contains("layer norm 8/element"), lines.get(i));
            if (i == 0) {
                assertEquals(1.0, ((Number) f.get("ratio_to_plain")).doubleValue());
            }
            if (i == 5) {
                assertEquals(all.toString(), f.get("options"));
                long flops = Flops.layerTrain(dev.recur.api.Cell.LSTM, all, 2, 3, 6, 4);
                assertEquals(flops, ((Number) f.get("train_flops")).longValue());
                assertEquals(Flops.gflops(flops, ms), ((Number) f.get("gflops")).doubleValue(), 1e-3);
            }
        }
    }
}
