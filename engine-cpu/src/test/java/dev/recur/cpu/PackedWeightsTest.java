package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link PackedWeights}: packed forms kept across calls follow every change of the weights, made
 * in place between calls, and a kept form gives the bits of packing afresh.
 */
class PackedWeightsTest {

    /**
     * A GEMM on the packed forms equals the GEMM on the raw weights: kept (weights changed in
     * place, unchanged, a change of shape of the same size, the two forms in turn) and, past the
     * limit, packed afresh at every call.
     */
    @Test
    void packedFormsMultiplyAsTheRawWeights() {
        for (int limit : new int[] {PackedWeights.MOST_KEPT, 1000}) {
            Random r = new Random(3);
            try (Workers workers = new Workers(2)) {
                Sgemm sgemm = new Sgemm(workers);
                PackedWeights kept = new PackedWeights(limit);
                int[][] shapes = {{96, 40}, {96, 40}, {96, 40}, {40, 96}, {20, 30}, {60, 64}};
                float[] w = LayerCase.uniform(r, 96 * 40, 1f);
                for (int i = 0; i < shapes.length; i++) {
                    int rows = shapes[i][0];
                    int cols = shapes[i][1];
                    if (i != 2) {
                        w[r.nextInt(rows * cols)] += 0.5f; // changed in place (the third time: unchanged)
                    }
                    float[] a = LayerCase.uniform(r, 7 * Math.max(rows, cols), 1f);
                    kept.see(w, rows, cols);
                    assertEquals(rows * cols <= limit, kept.kept(), "kept " + rows + "x" + cols);
                    for (int twice = 0; twice < 2; twice++) {
                        // op(B) = Wᵀ: A [7, cols] · Wᵀ [cols, rows]
                        float[] want = new float[7 * rows];
                        float[] got = new float[7 * rows];
                        sgemm.gemm(false, true, 7, rows, cols, 1f, a, 0, cols, w, 0, cols, 0f, want, 0, rows);
                        sgemm.gemm(new Sgemm.Call(), false, 7, 1f, a, 0, cols, kept.transposed(w), 0f, got, 0, rows);
                        assertArrayEquals(want, got, "transposed " + rows + "x" + cols + ", limit " + limit);
                        // op(B) = W: A [7, rows] · W [rows, cols]
                        want = new float[7 * cols];
                        got = new float[7 * cols];
                        sgemm.gemm(false, false, 7, cols, rows, 1f, a, 0, rows, w, 0, cols, 0f, want, 0, cols);
                        sgemm.gemm(new Sgemm.Call(), false, 7, 1f, a, 0, rows, kept.plain(w), 0f, got, 0, cols);
                        assertArrayEquals(want, got, "plain " + rows + "x" + cols + ", limit " + limit);
                    }
                }
            }
        }
    }

    /**
     * A layer's forward, backward and inference on one set of buffers, with W_ih and W_hh changed
     * in place between calls, give the bits of fresh buffers on the changed weights, every cell.
     */
    @Test
    void aLayerFollowsWeightsChangedInPlaceBetweenCalls() {
        int t = 4;
        int b = 3;
        int in = 10;
        int hs = 19;
        for (Cell cell : Cell.values()) {
            int gh = cell.gates() * hs;
            Random r = new Random(11);
            float[] x = LayerCase.uniform(r, t * b * in, 1f);
            float[] dy = LayerCase.uniform(r, t * b * hs, 1f);
            CpuLayer.Params p = new CpuLayer.Params(LayerCase.uniform(r, gh * in, 0.4f), LayerCase.uniform(r, gh * hs, 0.4f),
                    LayerCase.uniform(r, gh, 0.1f), LayerCase.uniform(r, gh, 0.1f),
                    cell == Cell.LSTM_PEEPHOLE ? LayerCase.uniform(r, 3 * hs, 0.2f) : null);
            try (Workers workers = new Workers(2)) {
                CpuLayer layer = new CpuLayer(new Sgemm(workers), workers);
                LayerBuffers kept = new LayerBuffers(cell, t, b, in, hs);
                float[][] first = run(layer, cell, kept, p, x, dy, t, b, in, hs);
                for (int change = 0; change < 3; change++) {
                    if (change != 1) {
                        p.wHh()[(change * 37) % p.wHh().length] += 0.25f;
                    }
                    if (change != 0) {
                        p.wIh()[(change * 53) % p.wIh().length] -= 0.25f;
                    }
                    float[][] again = run(layer, cell, kept, p, x, dy, t, b, in, hs);
                    float[][] fresh = run(layer, cell, new LayerBuffers(cell, t, b, in, hs), p, x, dy, t, b, in, hs);
                    String what = cell.id() + " change " + change;
                    for (int k = 0; k < again.length; k++) {
                        assertArrayEquals(fresh[k], again[k], what + ", output " + k);
                    }
                    assertFalse(java.util.Arrays.equals(first[0], again[0]), what + ": y moved");
                }
            }
        }
    }

    /**
     * The option path (layer norm with a projection, and zoneout) keeps W_ih, W_hh and W_hr packed
     * the same way: inference and a training forward on one workspace, with the weights changed in
     * place between calls, give the bits of a fresh workspace.
     */
    @Test
    void theOptionPathFollowsWeightsChangedInPlaceBetweenCalls() {
        int t = 4;
        int b = 3;
        int in = 10;
        int hs = 19;
        for (Cell cell : new Cell[] {Cell.LSTM, Cell.GRU}) {
            for (CellOptions o : new CellOptions[] {new CellOptions(true, 0f, 0f, 0f, 7),
                    new CellOptions(false, 0f, 0.2f, 0f, 0)}) {
                try (CpuBackend be = new CpuBackend(2)) {
                    Random r = new Random(21);
                    LayerParams p = LayerParams.zeros(be, cell, o, in, hs);
                    for (Tensor w : p.tensors()) {
                        float[] d = ((CpuTensor) w).data();
                        for (int i = 0; i < d.length; i++) {
                            d[i] = r.nextFloat() * 0.6f - 0.3f;
                        }
                    }
                    Tensor x = be.tensor(LayerCase.uniform(r, t * b * in, 1f), t, b, in);
                    int rw = o.recurrentWidth(hs);
                    String what = cell.id() + " " + o;
                    try (Workspace kept = be.workspace(cell, o, t, b, in, hs, false)) {
                        float[] first = infer(be, cell, x, p, kept, t, b, rw);
                        for (int change = 0; change < 3; change++) {
                            Tensor w = change == 0 ? p.weightIh() : change == 1 ? p.weightHh()
                                    : p.weightHr() != null ? p.weightHr() : p.weightHh();
                            ((CpuTensor) w).data()[change * 5] += 0.25f;
                            float[] again = infer(be, cell, x, p, kept, t, b, rw);
                            float[] fresh;
                            try (Workspace ws = be.workspace(cell, o, t, b, in, hs, false)) {
                                fresh = infer(be, cell, x, p, ws, t, b, rw);
                            }
                            assertArrayEquals(fresh, again, what + ", change " + change);
                            assertFalse(java.util.Arrays.equals(first, again), what + ": y moved");
                        }
                    }
                }
            }
        }
    }

    /** y of an inference, then y of a training forward, on {@code ws}, concatenated. */
    private static float[] infer(CpuBackend be, Cell cell, Tensor x, LayerParams p, Workspace ws, int t, int b, int rw) {
        try (Tensor y = be.tensor(t, b, rw); Tensor y2 = be.tensor(t, b, rw)) {
            be.layerInference(cell, Direction.FORWARD, x, null, null, p, y, null, ws);
            be.layerForward(cell, Direction.FORWARD, x, null, StepControl.draws(3, 0), null, p, y2, null, ws);
            float[] a = y.toArray();
            float[] c = y2.toArray();
            float[] both = java.util.Arrays.copyOf(a, a.length + c.length);
            System.arraycopy(c, 0, both, a.length, c.length);
            return both;
        }
    }

    /** y, dx, dW_ih, dW_hh of a forward and backward, then y of an inference, on {@code buf}. */
    private static float[][] run(CpuLayer layer, Cell cell, LayerBuffers buf, CpuLayer.Params p, float[] x, float[] dy,
                                 int t, int b, int in, int hs) {
        int gh = cell.gates() * hs;
        float[] y = new float[t * b * hs];
        float[] dx = new float[t * b * in];
        CpuLayer.Params g = new CpuLayer.Params(new float[gh * in], new float[gh * hs], new float[gh], new float[gh],
                p.peep() == null ? null : new float[p.peep().length]);
        layer.forward(cell, Direction.FORWARD, t, b, x, null, null, null, p, y, hs, 0, null, null, buf);
        layer.backward(cell, t, b, x, p, buf, dy, hs, 0, null, null, dx, false, null, null, g);
        float[] yi = new float[t * b * hs];
        layer.inference(cell, Direction.REVERSE, t, b, x, null, null, null, p, yi, hs, 0, null, null, buf);
        return new float[][] {y, dx, g.wIh(), g.wHh(), yi};
    }
}
