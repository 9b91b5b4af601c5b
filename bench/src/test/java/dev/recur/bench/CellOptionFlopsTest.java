package dev.recur.bench;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
