package dev.recur.api;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepPlanTest {

    @Test
    void theJavadocExample() {
        StepPlan p = new StepPlan(3, 3);
        p.build(Direction.FORWARD, 3, 3, new int[] {2, 3, 1});
        assertEquals(3, p.steps());
        assertEquals(3, p.batch());
        assertEquals(6, p.total());
        assertFalse(p.isIdentity());
        assertFalse(p.isReverse());
        assertArrayEquals(new int[] {1, 0, 2}, perm(p));
        assertArrayEquals(new int[] {3, 2, 1}, new int[] {p.batchSize(0), p.batchSize(1), p.batchSize(2)});
        assertArrayEquals(new int[] {0, 3, 5, 6}, new int[] {p.offset(0), p.offset(1), p.offset(2), p.offset(3)});
        // Dense rows t*B + b: step 0 is t = 0 for sequences 1, 0, 2; step 1 t = 1 for 1, 0; step 2 t = 2 for 1.
        int[] rows = new int[6];
        p.denseRows(rows);
        assertArrayEquals(new int[] {1, 0, 2, 4, 3, 7}, rows);
    }

    @Test
    void reverseStartsAtEachSequencesOwnLastStep() {
        StepPlan p = new StepPlan(4, 3);
        p.build(Direction.REVERSE, 4, 3, new int[] {2, 3, 1});
        assertTrue(p.isReverse());
        assertFalse(p.isIdentity());
        assertEquals(3, p.steps(), "the longest length, not T");
        // Step 0: times 2 (seq 1), 1 (seq 0), 0 (seq 2); step 1: 1, 0; step 2: 0.
        assertEquals(2, p.time(0, 0));
        assertEquals(1, p.time(0, 1));
        assertEquals(0, p.time(0, 2));
        assertEquals(0, p.time(2, 0));
        int[] rows = new int[p.total()];
        p.denseRows(rows);
        assertArrayEquals(new int[] {2 * 3 + 1, 3, 2, 3 + 1, 0, 1}, rows);
    }

    @Test
    void fullLengthsForwardIsTheIdentity() {
        StepPlan p = new StepPlan(5, 4);
        p.build(Direction.FORWARD, 5, 4, null);
        assertTrue(p.isIdentity());
        assertEquals(20, p.total());
        int[] rows = new int[20];
        p.denseRows(rows);
        for (int r = 0; r < 20; r++) {
            assertEquals(r, rows[r], "packed row " + r + " is dense row " + r);
        }
        p.build(Direction.FORWARD, 5, 4, new int[] {5, 5, 5, 5});
        assertTrue(p.isIdentity(), "explicit full lengths are the identity too");
        p.build(Direction.REVERSE, 5, 4, null);
        assertFalse(p.isIdentity(), "reverse is never the identity: its time runs backwards");
    }

    @Test
    void equalLengthsKeepTheirOrder() {
        StepPlan p = new StepPlan(6, 6);
        p.build(Direction.FORWARD, 6, 6, new int[] {3, 5, 3, 5, 1, 3});
        assertArrayEquals(new int[] {1, 3, 0, 2, 5, 4}, perm(p));
    }

    /** Every (t, b) with t < lengths[b] appears exactly once among the dense rows, at its time. */
    @Test
    void denseRowsCoverEveryValidStepOnceOnRandomBatches() {
        Random r = new Random(11);
        StepPlan p = new StepPlan(9, 7);
        for (int trial = 0; trial < 300; trial++) {
            int t = 1 + r.nextInt(9);
            int b = 1 + r.nextInt(7);
            int[] lens = new int[b];
            for (int i = 0; i < b; i++) {
                lens[i] = 1 + r.nextInt(t);
            }
            Direction dir = r.nextBoolean() ? Direction.FORWARD : Direction.REVERSE;
            p.build(dir, t, b, r.nextInt(10) == 0 ? null : lens);
            int[] effective = new int[b];
            for (int i = 0; i < b; i++) {
                effective[i] = p.length(i);
            }
            int[] rows = new int[p.total()];
            p.denseRows(rows);
            Set<Integer> seen = new HashSet<>();
            int expectedTotal = 0;
            for (int len : effective) {
                expectedTotal += len;
            }
            assertEquals(expectedTotal, p.total());
            assertEquals(Arrays.stream(effective).max().orElseThrow(), p.steps());
            for (int s = 0; s < p.steps(); s++) {
                int rowsAtS = p.batchSize(s);
                // Running rows are exactly the sequences longer than s, as a prefix of perm.
                int longer = 0;
                for (int len : effective) {
                    longer += len > s ? 1 : 0;
                }
                assertEquals(longer, rowsAtS, "batchSize(" + s + ")");
                for (int j = 0; j < rowsAtS; j++) {
                    int seq = p.perm(j);
                    int time = dir == Direction.FORWARD ? s : effective[seq] - 1 - s;
                    assertEquals(time, p.time(s, j));
                    assertEquals(time * b + seq, p.denseRow(s, j));
                    assertEquals(p.denseRow(s, j), rows[p.offset(s) + j]);
                    assertTrue(seen.add(rows[p.offset(s) + j]), "dense row used twice: " + p);
                }
                if (s > 0) {
                    assertTrue(p.batchSize(s) <= p.batchSize(s - 1), "running rows only shrink");
                }
            }
            assertEquals(p.total(), p.offset(p.steps()));
            for (int seq = 0; seq < b; seq++) {
                for (int time = 0; time < effective[seq]; time++) {
                    assertTrue(seen.contains(time * b + seq), "(t=" + time + ", b=" + seq + ") missing from " + p);
                }
            }
        }
    }

    @Test
    void aSmallerBuildAfterALargerOneForgetsTheOld() {
        StepPlan p = new StepPlan(8, 8);
        p.build(Direction.REVERSE, 8, 8, new int[] {8, 1, 2, 3, 4, 5, 6, 7});
        p.build(Direction.FORWARD, 2, 1, null);
        assertEquals(2, p.steps());
        assertEquals(1, p.batch());
        assertEquals(2, p.total());
        assertTrue(p.isIdentity());
        assertThrows(IndexOutOfBoundsException.class, () -> p.perm(1));
        assertThrows(IndexOutOfBoundsException.class, () -> p.batchSize(2));
    }

    @Test
    void badArgumentsAreNamed() {
        assertMessage(() -> new StepPlan(0, 3), "maxSteps must be >= 1, got 0");
        assertMessage(() -> new StepPlan(3, 0), "maxBatch must be >= 1, got 0");
        assertMessage(() -> new StepPlan(1 << 16, 1 << 16), "exceeds");
        StepPlan p = new StepPlan(4, 3);
        assertThrows(IllegalStateException.class, p::steps, "reading before build");
        assertMessage(() -> p.build(null, 2, 2, null), "direction is null");
        assertMessage(() -> p.build(Direction.FORWARD, 5, 2, null), "steps must be in 1..4, got 5");
        assertMessage(() -> p.build(Direction.FORWARD, 2, 4, null), "batch must be in 1..3, got 4");
        assertMessage(() -> p.build(Direction.FORWARD, 2, 2, new int[] {1}), "lengths has 1 entries, expected batch = 2");
        assertMessage(() -> p.build(Direction.FORWARD, 2, 2, new int[] {1, 3}), "lengths[1] = 3 is outside 1..2");
        assertMessage(() -> p.build(Direction.FORWARD, 2, 2, new int[] {0, 1}), "lengths[0] = 0 is outside 1..2");
        p.build(Direction.FORWARD, 2, 2, new int[] {1, 2});
        assertMessage(() -> p.denseRows(new int[2]), "out has 2 entries, needs 3");
        assertMessage(() -> p.perm(null), "out has no array, needs 2");
        assertThrows(IndexOutOfBoundsException.class, () -> p.time(1, 1), "sequence 0 ended after step 0");
    }

    private static int[] perm(StepPlan p) {
        int[] out = new int[p.batch()];
        p.perm(out);
        List<Integer> one = new ArrayList<>();
        for (int j = 0; j < p.batch(); j++) {
            one.add(p.perm(j));
        }
        assertEquals(one, Arrays.stream(out).boxed().toList(), "perm(int[]) agrees with perm(j)");
        return out;
    }

    private static void assertMessage(Runnable r, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }
}
