package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Once the JIT has compiled it, the option path's forward, backward and inference allocate
 * nothing: no buffer per call or per step, and no boxed Vector API value (see GateMath's Note
 * [Passes]). With {@link SteadyStateAllocationTest}'s loop: windows of calls repeat until one
 * allocates nothing, and the test fails only if none does within its deadline.
 */
class OptionsAllocationTest {

    /** One layer's arrays, run through {@link CpuOptionLayer} directly (the API's checks allocate their messages). */
    private static final class Run implements SteadyStateAllocationTest.Stepper<CpuOptionLayer> {
        final Cell cell;
        final CellOptions o;
        final int steps;
        final int batch;
        final int in;
        final int[] lengths;
        final byte[] mask;
        final OptionBuffers buf;
        final CpuOptionLayer.Params p;
        final CpuOptionLayer.Params g;
        final float[] x;
        final float[] y;
        final float[] dy;
        final float[] dx;

        Run(Cell cell, CellOptions o, int steps, int batch, int in, int hs, int[] lengths, Random r) {
            this.cell = cell;
            this.o = o;
            this.steps = steps;
            this.batch = batch;
            this.in = in;
            this.lengths = lengths;
            mask = new byte[steps * batch];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = (byte) (i % 5 == 2 ? 0 : 1);
            }
            buf = new OptionBuffers(cell, o, steps, batch, hs);
            p = params(cell, o, in, hs, r);
            g = params(cell, o, in, hs, null);
            int rw = o.recurrentWidth(hs);
            x = LayerCase.uniform(r, steps * batch * in, 1f);
            y = new float[steps * batch * rw];
            dy = LayerCase.uniform(r, steps * batch * rw, 1f);
            dx = new float[steps * batch * in];
        }

        /** Random parameters, or zeros when {@code r} is null. */
        static CpuOptionLayer.Params params(Cell cell, CellOptions o, int in, int hs, Random r) {
            int gh = cell.gates() * hs;
            int rw = o.recurrentWidth(hs);
            boolean ln = o.layerNorm();
            boolean c = cell.hasCellState();
            return new CpuOptionLayer.Params(array(gh * in, r), array(gh * rw, r), array(gh, r), array(gh, r),
                    cell.peepholes() > 0 ? array(3 * hs, r) : null,
                    o.projectionSize() > 0 ? array(o.projectionSize() * hs, r) : null,
                    ln ? array(gh, r) : null, ln ? array(gh, r) : null, ln ? array(gh, r) : null,
                    ln ? array(gh, r) : null, ln && c ? array(hs, r) : null, ln && c ? array(hs, r) : null);
        }

        static float[] array(int n, Random r) {
            return r == null ? new float[n] : LayerCase.uniform(r, n, 0.3f);
        }

        @Override
        public void step(CpuOptionLayer layer, Direction dir) {
            int rw = o.recurrentWidth(buf.hidden);
            layer.forward(true, cell, o, dir, steps, batch, in, x, lengths, mask, 7, 11, null, null, p, y, rw, 0, null,
                    null, buf);
            layer.backward(cell, o, dir, steps, batch, in, x, lengths, mask, 7, 11, p, buf, dy, rw, 0, null, null, dx,
                    false, null, null, g);
            layer.forward(false, cell, o, dir, steps, batch, in, x, lengths, mask, 7, 11, null, null, p, y, rw, 0, null,
                    null, buf);
        }

        @Override
        public String toString() {
            return cell.id() + " " + o + " T=" + steps + " B=" + batch + " H=" + buf.hidden;
        }
    }

    @Test
    void optionPathAllocatesNothingOnceCompiled() {
        Random r = new Random(8);
        List<Run> runs = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            boolean rnn = cell == Cell.RNN_TANH || cell == Cell.RNN_RELU;
            // Every option the cell takes; H = 37: a masked last vector in GateMath.activate.
            CellOptions all = new CellOptions(!rnn, 0.2f, 0.1f, cell.hasCellState() ? 0.1f : 0f, rnn ? 0 : 16);
            runs.add(new Run(cell, all, 4, 6, 24, 37, new int[] {4, 2, 3, 4, 1, 4}, r));
            runs.add(new Run(cell, new CellOptions(false, 0.2f, 0.1f, 0f, 0), 4, 6, 24, 40, null, r));
        }
        // One thread: every allocation of the ops is the caller's, which the counter sees.
        SteadyStateAllocationTest.assertNoAllocation(1, workers -> new CpuOptionLayer(new Sgemm(workers), workers),
                runs, 0);
    }
}
