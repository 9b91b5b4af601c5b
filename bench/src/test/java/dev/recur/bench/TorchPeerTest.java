package dev.recur.bench;

import dev.recur.api.Cell;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PyTorch peer's shapes and its line where it cannot run (the runs themselves need PyTorch: see the README). */
class TorchPeerTest {

    @Test
    void layerShapesUseTheScriptsCellNames() {
        assertEquals("lstm:64:512:256:100",
                TorchPeer.layerShape(new Measurements.LayerShape(Cell.LSTM, 64, 512, 256, 100)));
        assertEquals("gru:1:3:5:7", TorchPeer.layerShape(new Measurements.LayerShape(Cell.GRU, 1, 3, 5, 7)));
        assertEquals("rnn_tanh:2:2:2:2", TorchPeer.layerShape(new Measurements.LayerShape(Cell.RNN_TANH, 2, 2, 2, 2)));
        assertNull(TorchPeer.layerShape(new Measurements.LayerShape(Cell.LSTM_PEEPHOLE, 2, 2, 2, 2)));
    }

    @Test
    void aMissingScriptGivesTheUnavailableLineNotAFailure() {
        String before = System.getProperty("recur.bench.torchScript");
        System.setProperty("recur.bench.torchScript", "/nonexistent/torch_rnn_bench.py");
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            boolean ran = TorchPeer.gemm(8, 8, 8, false, new Measurements.Runs(0, 1), 100,
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            assertFalse(ran);
            String line = out.toString(StandardCharsets.UTF_8).strip();
            assertTrue(line.startsWith("{\"engine\":\"torch-cpu\",\"unavailable\":\"torch_rnn_bench.py not found at "),
                    line);
            assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("recur bench: no PyTorch peer: "), err.toString());
        } finally {
            if (before == null) {
                System.clearProperty("recur.bench.torchScript");
            } else {
                System.setProperty("recur.bench.torchScript", before);
            }
        }
    }

    @Test
    void aLayerPyTorchLacksIsSaidSo() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean ran = TorchPeer.layer(new Measurements.LayerShape(Cell.GRU_ORIGINAL, 2, 2, 2, 2),
                new Measurements.Runs(0, 1), 100, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertFalse(ran);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("\"unavailable\":\"PyTorch has no gru_original layer\""),
                out.toString(StandardCharsets.UTF_8));
    }
}
