package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.StepPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Variable lengths: steps past a sequence's end neither change its state nor receive gradient,
 * its output there is zero, its final state is the one after its own last step, and the packed
 * plan does work only for real steps.
 */
class VariableLengthTest {

    private static CpuBackend backend;

    @BeforeAll
    static void start() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    @Test
    void planPacksRealStepsOnly() {
        StepPlan plan = new StepPlan(5, 4);
        plan.build(Direction.FORWARD, 5, 4, new int[] {3, 5, 1, 5});
        int[] perm = new int[4];
        plan.perm(perm);
        assertArrayEquals(new int[] {1, 3, 0, 2}, perm, "longest first, stable");
        int[] batchSizes = new int[plan.steps()];
        for (int s = 0; s < batchSizes.length; s++) {
            batchSizes[s] = plan.batchSize(s);
        }
        assertArrayEquals(new int[] {4, 3, 3, 2, 2}, batchSizes);
        assertEquals(14, plan.total(), "packed rows = sum of lengths, not T*B = 20");
        assertEquals(false, plan.isIdentity());
        assertEquals(2 * 4 + 0, plan.denseRow(2, 2), "step 2 of sequence 0 is row t*B + b");
        plan.build(Direction.REVERSE, 5, 4, new int[] {3, 5, 1, 5});
        assertEquals((2 - 2) * 4 + 0, plan.denseRow(2, 2), "reverse: step 2 of a length-3 sequence is t = 0");
        plan.build(Direction.FORWARD, 5, 4, null);
        assertEquals(true, plan.isIdentity());
        assertEquals(20, plan.total());
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void paddingChangesNothingAndGetsNoGradient(Cell cell) {
        int[] lengths = {4, 1, 6, 3};
        LayerCase clean = new LayerCase(cell, 6, 4, 3, 5, lengths, true, false, 99);
        LayerCase dirty = new LayerCase(cell, 6, 4, 3, 5, lengths, true, false, 99);
        for (int t = 0; t < 6; t++) {
            for (int b = 0; b < 4; b++) {
                if (t >= lengths[b]) {
                    for (int i = 0; i < 3; i++) {
                        dirty.x[(t * 4 + b) * 3 + i] = 1000f + t; // garbage in the padding
                    }
                    for (int u = 0; u < 5; u++) {
                        dirty.wy[(t * 4 + b) * 5 + u] = -77f;     // and gradient arriving there
                    }
                }
            }
        }
        for (Direction dir : Direction.values()) {
            LayerCase.EngineRun a = clean.runLayer(backend, dir);
            LayerCase.EngineRun b = dirty.runLayer(backend, dir);
            String what = cell.id() + " " + dir;
            assertArrayEquals(a.y, b.y, what + ": y");
            assertArrayEquals(a.hT[0], b.hT[0], what + ": hT");
            assertArrayEquals(a.dh0[0], b.dh0[0], what + ": dh0");
            for (int k = 0; k < 5; k++) {
                assertArrayEquals(a.grads[0][k], b.grads[0][k], what + ": parameter gradient " + k);
            }
            for (int t = 0; t < 6; t++) {
                for (int s = 0; s < 4; s++) {
                    if (t >= lengths[s]) {
                        for (int u = 0; u < 5; u++) {
                            assertEquals(0f, b.y[(t * 4 + s) * 5 + u], what + ": y at padded step " + t);
                        }
                        for (int i = 0; i < 3; i++) {
                            assertEquals(0f, b.dx[(t * 4 + s) * 3 + i], what + ": dx at padded step " + t);
                        }
                    } else {
                        assertEquals(a.dx[(t * 4 + s) * 3], b.dx[(t * 4 + s) * 3], what + ": dx at a real step");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void batchOfMixedLengthsEqualsEachSequenceAlone(Cell cell) {
        int[] lengths = {2, 5, 3};
        LayerCase batch = new LayerCase(cell, 5, 3, 4, 6, lengths, true, false, 5);
        for (Direction dir : Direction.values()) {
            LayerCase.EngineRun all = batch.runLayer(backend, dir);
            for (int b = 0; b < 3; b++) {
                LayerCase one = alone(batch, b);
                LayerCase.EngineRun got = one.runLayer(backend, dir);
                String what = cell.id() + " " + dir + " sequence " + b;
                // Each GEMM element is summed in the same order whatever the batch, so the results
                // are the same bits, not merely close.
                for (int t = 0; t < lengths[b]; t++) {
                    assertArrayEquals(Arrays.copyOfRange(got.y, t * 6, t * 6 + 6),
                            Arrays.copyOfRange(all.y, (t * 3 + b) * 6, (t * 3 + b) * 6 + 6), what + ": y at t=" + t);
                }
                assertArrayEquals(got.hT[0], Arrays.copyOfRange(all.hT[0], b * 6, b * 6 + 6), what + ": hT");
                assertArrayEquals(got.dh0[0], Arrays.copyOfRange(all.dh0[0], b * 6, b * 6 + 6), what + ": dh0");
            }
        }
    }

    /** Sequence {@code b} of {@code c} as a batch of one with T = its length. */
    private static LayerCase alone(LayerCase c, int b) {
        int t = c.lengths[b];
        LayerCase one = new LayerCase(c.cell, t, 1, c.in, c.hs, null, true, false, 0);
        for (int s = 0; s < t; s++) {
            System.arraycopy(c.x, (s * c.batch + b) * c.in, one.x, s * c.in, c.in);
            System.arraycopy(c.wy, (s * c.batch + b) * c.hs, one.wy, s * c.hs, c.hs);
        }
        System.arraycopy(c.h0[0], b * c.hs, one.h0[0], 0, c.hs);
        if (c.c0[0] != null) {
            System.arraycopy(c.c0[0], b * c.hs, one.c0[0], 0, c.hs);
        }
        System.arraycopy(c.wh[0], b * c.hs, one.wh[0], 0, c.hs);
        if (c.wc[0] != null) {
            System.arraycopy(c.wc[0], b * c.hs, one.wc[0], 0, c.hs);
        }
        for (int k = 0; k < 5; k++) {
            if (c.w[0][k] != null) {
                one.w[0][k] = c.w[0][k].clone();
            }
        }
        return one;
    }
}
