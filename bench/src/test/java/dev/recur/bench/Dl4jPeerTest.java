package dev.recur.bench;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import dev.recur.models.cli.Recur;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The DL4J peer on tiny shapes: it loads on this JDK, trains, prints its JSON line, and computes
 * the same function as Recur's CPU engine given the same weights. Skipped, with the reason
 * printed, when ND4J's native libraries cannot load here (another OS or architecture).
 */
class Dl4jPeerTest {

    private static Availability dl4j;

    @BeforeAll
    static void loadNd4j() {
        dl4j = Dl4jPeer.probe();
        if (!dl4j.available()) {
            System.out.println("Dl4jPeerTest SKIPPED: " + dl4j.reason());
        }
    }

    private static void requireDl4j() {
        assumeTrue(dl4j.available(), () -> "DL4J cannot run here: " + dl4j.reason());
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "RNN_TANH"})
    void trainsATinyLayer(Cell cell) {
        requireDl4j();
        int b = 2, i = 3, h = 4, t = 5;
        Dl4jPeer.LayerWorkload layer = new Dl4jPeer.LayerWorkload(cell, b, i, h, t, 1);
        // W [I, G*H], RW [H, G*H], b [G*H]: the shape asked for, and no peepholes.
        assertEquals((long) cell.gates() * h * (i + h + 1), layer.layerParams());
        double loss = layer.trainStep();
        assertTrue(Double.isFinite(loss) && loss > 0, "loss " + loss);
        assertEquals(List.of(2L, 4L, 5L), List.of(layer.forward().shape()[0], layer.forward().shape()[1],
                layer.forward().shape()[2]));
    }

    /**
     * DL4J's forward equals Recur's CPU forward on the same weights and inputs (DL4J's weights
     * transposed and, for the LSTM, its gate blocks reordered), to float32 rounding: the peer does
     * the same math, so the timings compare the same work.
     */
    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "RNN_TANH"})
    void computesWhatRecurComputes(Cell cell) {
        requireDl4j();
        int b = 3, in = 5, h = 4, t = 6, g = cell.gates();
        Dl4jPeer.LayerWorkload peer = new Dl4jPeer.LayerWorkload(cell, b, in, h, t, 11);
        float[] w = peer.layerParam("W");   // [I, G*H]
        float[] rw = peer.layerParam("RW"); // [H, G*H]
        float[] bias = peer.layerParam("b"); // [G*H]
        float[] x = peer.input();            // [B, I, T]
        float[] out = peer.forward().dup('c').data().asFloat(); // [B, H, T]

        float[] wih = new float[g * h * in];  // [G*H, I]
        float[] whh = new float[g * h * h];   // [G*H, H]
        float[] bih = new float[g * h];       // [G*H]
        for (int gate = 0; gate < g; gate++) {
            int block = cell == Cell.LSTM ? Dl4jPeer.LSTM_BLOCK_OF_GATE[gate] : gate;
            for (int u = 0; u < h; u++) {
                int row = gate * h + u;
                int col = block * h + u;
                for (int k = 0; k < in; k++) {
                    wih[row * in + k] = w[k * g * h + col];
                }
                for (int k = 0; k < h; k++) {
                    whh[row * h + k] = rw[k * g * h + col];
                }
                bih[row] = bias[col];
            }
        }
        float[] xr = new float[t * b * in]; // [T, B, I]
        for (int s = 0; s < t; s++) {
            for (int n = 0; n < b; n++) {
                for (int k = 0; k < in; k++) {
                    xr[(s * b + n) * in + k] = x[(n * in + k) * t + s];
                }
            }
        }
        try (Backend cpu = Backends.named("cpu");
             Tensor xt = cpu.tensor(xr, t, b, in);
             Tensor y = cpu.tensor(t, b, h);
             Workspace ws = cpu.workspace(cell, t, b, in, h, false)) {
            LayerParams p = new LayerParams(cpu.tensor(wih, g * h, in), cpu.tensor(whh, g * h, h),
                    cpu.tensor(bih, g * h), cpu.tensor(g * h));
            cpu.layerForward(cell, Direction.FORWARD, xt, null, null, p, y, null, ws);
            float[] yr = y.toArray(); // [T, B, H]
            // Outputs are in (-1, 1); two float32 engines with different summation orders agree to
            // a few ulps of 1 over these 5 + 4 term dot products and 6 steps.
            double worst = 0;
            for (int s = 0; s < t; s++) {
                for (int n = 0; n < b; n++) {
                    for (int u = 0; u < h; u++) {
                        worst = Math.max(worst, Math.abs(yr[(s * b + n) * h + u] - out[(n * h + u) * t + s]));
                    }
                }
            }
            assertTrue(worst <= 1e-5, cell + ": largest |recur - dl4j| = " + worst);
        }
    }

    @Test
    void benchPeerPrintsASecondLineForDl4j() {
        requireDl4j();
        Streams s = Streams.recur("bench", "rnn", "--peer", "dl4j", "--batch", "2", "--input", "8", "--hidden", "8",
                "--steps", "3", "--iters", "1", "--warmup", "1", "--peak", "1");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(2, s.outLines().size(), s::toString);
        Map<String, Object> mine = FlatJson.parse(s.outLines().get(0));
        Map<String, Object> theirs = FlatJson.parse(s.outLines().get(1));
        assertEquals("cpu", mine.get("engine"));
        assertEquals("dl4j", theirs.get("engine"));
        // The same keys, but for Recur's layerInference timing, which DL4J has no op for.
        java.util.Set<String> expected = new java.util.LinkedHashSet<>(mine.keySet());
        expected.removeAll(List.of("inference_ms", "inference_gflops"));
        assertEquals(expected, theirs.keySet());
        for (String k : List.of("cell", "B", "I", "H", "T", "peak_gflops")) {
            assertEquals(mine.get(k), theirs.get(k), k);
        }
        assertTrue((double) theirs.get("train_step_ms") > 0, s::toString);
    }

    @Test
    void gruHasNoPeerAndSaysSo() {
        requireDl4j();
        Streams s = Streams.recur("bench", "gru", "--peer", "dl4j", "--batch", "2", "--input", "8", "--hidden", "8",
                "--steps", "3", "--iters", "1", "--warmup", "0", "--peak", "1");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(1, s.outLines().size(), s::toString);
        assertEquals("cpu", FlatJson.parse(s.outLines().get(0)).get("engine"));
        assertEquals(List.of("recur bench gru: no DL4J peer: DL4J 1.0.0-M2.1 has no GRU layer (only LSTM, "
                + "GravesLSTM and SimpleRnn)"), s.errLines());
    }

    @Test
    void nd4jGemmLine() {
        requireDl4j();
        Streams s = Streams.recur("bench", "gemm", "--m", "3", "--n", "5", "--k", "7", "--trans-b", "--peer", "dl4j",
                "--iters", "1", "--warmup", "0", "--peak", "1");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        assertEquals(2, s.outLines().size(), s::toString);
        Map<String, Object> theirs = FlatJson.parse(s.outLines().get(1));
        assertEquals("dl4j", theirs.get("engine"));
        assertEquals(Boolean.TRUE, theirs.get("trans_b"));
    }

    /** The bench's own class path (Maven's test class path) holds DL4J: nothing is missing. */
    @Test
    void jarsOnTheBenchClassPathAreFound() {
        assertEquals(null, Dl4jPeer.missingReason());
    }

    /**
     * Without DL4J's jars (the GPU bundle) the peer is refused before anything loads, with a
     * reason that names the missing class and says where the peer runs, and probe() says the same.
     */
    @Test
    void missingJarsAreNamed() throws Exception {
        try (URLClassLoader bare = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
            String why = Dl4jPeer.missingReason(bare);
            assertNotNull(why);
            assertTrue(why.contains(Dl4jPeer.REQUIRED_CLASSES.get(0) + " not found"), why);
            assertTrue(why.contains("GPU bundle"), why);
        }
    }
}
