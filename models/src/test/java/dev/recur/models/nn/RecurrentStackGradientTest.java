package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole stack's backward (several layers, both directions, dropout between layers, variable
 * lengths, batch-first) against central finite differences of its own forward, for every input
 * and parameter element. The engine's layers are checked against a float64 oracle in engine-cpu;
 * this checks how the stack wires them together.
 */
class RecurrentStackGradientTest {

    /*
     * Differences of a float32 forward: the loss (|L| ~ 10) carries rounding of ~1e-6, so with a
     * step of 1e-2 the difference quotient has noise ~1e-4 and truncation error ~1e-4·|L'''|.
     * A wiring mistake (wrong layer input, a missing mask, a reversed direction) is off by far more.
     */
    static final float STEP = 1e-2f;
    /**
     * The step for stacks with layer normalisation: normalising a few pre-activations is strongly
     * curved (1/σ), and at 1e-2 the central difference's truncation error alone exceeded the
     * tolerance by 5-10% on two-layer stacks (measured: dW_ih 0.0938 against 0.0844 at 1e-2,
     * agreeing at 2e-3); float32 rounding at 2e-3 stays below the tolerance at these sizes.
     */
    static final float OPTION_STEP = 2e-3f;
    static final double ATOL = 4e-3;
    static final double RTOL = 3e-2;

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @Test
    void stackedBidirectionalWithDropoutAndLengths() {
        check(RecurrentConfig.builder(Cell.LSTM, 3, 4).numLayers(2).bidirectional(true).dropout(0.3f).build(),
                new int[] {4, 2, 3}, 1);
    }

    @Test
    void threeLayerGruBatchFirst() {
        check(RecurrentConfig.builder(Cell.GRU, 2, 3).numLayers(3).batchFirst(true).build(), null, 2);
    }

    @Test
    void bidirectionalRnnAndPeepholeLstm() {
        check(RecurrentConfig.builder(Cell.RNN_TANH, 3, 5).numLayers(2).bidirectional(true).build(),
                new int[] {1, 4, 4}, 3);
        check(RecurrentConfig.builder(Cell.LSTM_PEEPHOLE, 2, 3).build(), new int[] {2, 4, 3}, 4);
        check(RecurrentConfig.builder(Cell.GRU_ORIGINAL, 2, 3).bidirectional(true).dropout(0.5f).numLayers(2)
                .build(), new int[] {3, 1, 4}, 5);
    }

    /**
     * Every option at once through a stack (issue 17): two bidirectional LSTM layers with layer
     * normalisation, a projection, recurrent dropout and zoneout (the same draws for every
     * evaluation, by restoring the counters), dropout between layers, lengths and a step mask with
     * holes; every parameter's gradient (weight_hr and the layer-norm gains and biases included, by
     * their names) and dx against central differences.
     */
    @Test
    void everyCellOptionWithMaskLengthsAndBothDirections() {
        byte[] mask = {1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1}; // [T*B] = [4*3]
        check(RecurrentConfig.builder(Cell.LSTM, 6, 8).numLayers(2).bidirectional(true).dropout(0.3f)
                .layerNorm(true).projectionSize(5).recurrentDropout(0.3f).zoneout(0.2f, 0.1f).build(),
                new int[] {4, 2, 3}, mask, 6, OPTION_STEP);
    }

    @Test
    void gruWithOptionsBatchFirstAndAMask() {
        byte[] mask = {1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0}; // [B*T] = [3*4], batch-first
        check(RecurrentConfig.builder(Cell.GRU, 6, 8).numLayers(2).batchFirst(true).layerNorm(true).projectionSize(3)
                .recurrentDropout(0.2f).zoneoutH(0.25f).build(), null, mask, 7, OPTION_STEP);
    }

    /**
     * Step masks: a bidirectional 2-layer RNN with zoneout of h, and plain peephole-LSTM cells
     * (the option path with CellOptions.NONE).
     */
    @Test
    void plainCellsWithAStepMask() {
        byte[] mask = {0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1}; // [T*B]: holes at the start and in the middle
        check(RecurrentConfig.builder(Cell.RNN_TANH, 3, 5).numLayers(2).bidirectional(true).zoneoutH(0.2f).build(),
                new int[] {4, 3, 4}, mask, 8, STEP);
        check(RecurrentConfig.builder(Cell.LSTM_PEEPHOLE, 2, 3).build(), null, mask, 9, STEP);
    }

    @Test
    void stateArraysOfTheWrongLengthAreRefusedByName() {
        RecurrentConfig cfg = RecurrentConfig.builder(Cell.LSTM, 2, 3).numLayers(2).bidirectional(true).build();
        try (RecurrentStack stack = new RecurrentStack(be, "rnn.", cfg, new SplittableRandom(1));
             Tensor x = be.tensor(3, 2, 2)) {
            stack.forward(x, null, null, true);
            State[] three = new State[3];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> stack.backward(null, three, null));
            assertEquals("recurrent stack: dFinal has 3 states, expected layers*directions = 4", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> stack.backward(null, null, three));
            assertEquals("recurrent stack: dInit has 3 states, expected layers*directions = 4", e.getMessage());
        }
    }

    static void check(RecurrentConfig cfg, int[] lengths, long seed) {
        check(cfg, lengths, null, seed, STEP);
    }

    static void check(RecurrentConfig cfg, int[] lengths, byte[] mask, long seed, float step) {
        int t = 4;
        int b = 3;
        Random r = new Random(seed);
        try (RecurrentStack stack = new RecurrentStack(be, "rnn.", cfg, new SplittableRandom(seed))) {
            int[] xShape = cfg.batchFirst() ? new int[] {b, t, cfg.inputSize()} : new int[] {t, b, cfg.inputSize()};
            int[] yShape = cfg.batchFirst() ? new int[] {b, t, cfg.outputSize()} : new int[] {t, b, cfg.outputSize()};
            float[] x = random(r, t * b * cfg.inputSize());
            float[] wy = random(r, t * b * cfg.outputSize());
            int states = cfg.numLayers() * cfg.directions();
            float[][] wh = new float[states][];
            float[][] wc = new float[states][];
            State[] dFinal = new State[states];
            for (int s = 0; s < states; s++) {
                wh[s] = random(r, b * cfg.stateWidth());
                wc[s] = cfg.cell().hasCellState() ? random(r, b * cfg.hiddenSize()) : null;
                dFinal[s] = new State(be.tensor(wh[s], b, cfg.stateWidth()),
                        wc[s] == null ? null : be.tensor(wc[s], b, cfg.hiddenSize()));
            }
            Tensor tx = be.tensor(x, xShape);
            long counter = stack.dropoutCounter();
            long draws = stack.cellDrawCounter();
            stack.zeroGrad();
            stack.forward(tx, lengths, mask, null, true);
            Tensor dx = stack.backward(be.tensor(wy, yShape), dFinal);
            float[] gx = dx.toArray();

            java.util.function.DoubleSupplier loss = () -> {
                stack.dropoutCounter(counter); // the same dropout masks for every evaluation
                stack.cellDrawCounter(draws);  // and the same recurrent-dropout and zoneout draws
                float[] y = stack.forward(tx, lengths, mask, null, true).toArray();
                double l = 0;
                for (int i = 0; i < y.length; i++) {
                    l += (double) y[i] * wy[i];
                }
                State[] fin = stack.finalStates();
                for (int s = 0; s < states; s++) {
                    float[] h = fin[s].h().toArray();
                    for (int i = 0; i < h.length; i++) {
                        l += (double) h[i] * wh[s][i];
                    }
                    if (wc[s] != null) {
                        float[] c = fin[s].c().toArray();
                        for (int i = 0; i < c.length; i++) {
                            l += (double) c[i] * wc[s][i];
                        }
                    }
                }
                return l;
            };
            compare(cfg + " dx", tx, gx, loss, step);
            for (Parameter p : stack.parameters()) {
                compare(cfg + " d" + p.name(), p.value(), p.grad().toArray(), loss, step);
            }
        }
    }

    static void compare(String what, Tensor theta, float[] got, java.util.function.DoubleSupplier loss) {
        compare(what, theta, got, loss, STEP);
    }

    static void compare(String what, Tensor theta, float[] got, java.util.function.DoubleSupplier loss, float step) {
        float[] v = theta.toArray();
        assertEquals(v.length, got.length, what + ": gradient size");
        for (int i = 0; i < v.length; i++) {
            float keep = v[i];
            v[i] = keep + step;
            theta.copyFrom(v);
            double up = loss.getAsDouble();
            v[i] = keep - step;
            theta.copyFrom(v);
            double down = loss.getAsDouble();
            v[i] = keep;
            theta.copyFrom(v);
            double fd = (up - down) / (2 * step);
            double e = Math.abs(got[i] - fd);
            if (!(e <= ATOL + RTOL * Math.abs(fd))) {
                fail(what + "[" + i + "] = " + got[i] + ", finite difference " + fd + ", |diff| " + e);
            }
        }
    }

    static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }
}
