package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host-side bounds of index tensors (no GPU needed): on random arrays, the two checks must
 * give exactly what a scan of every value gives, because a wrong "valid" would let a bad id reach
 * a kernel and a wrong "invalid" would refuse good input.
 */
class IndexBoundsTest {

    /** The oracle: every value in [lo, hi), or equal to except when except is not null. */
    private static boolean scan(int[] v, int n, int lo, int hi, Integer except) {
        for (int i = 0; i < n; i++) {
            boolean in = v[i] >= lo && v[i] < hi;
            if (!in && (except == null || v[i] != except)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void checksAgreeWithAScanOfEveryValue() {
        Random r = new Random(11);
        int[] excepts = {-100, -1, 0, 3, 9, 10, 12};
        for (int round = 0; round < 20_000; round++) {
            int n = 1 + r.nextInt(r.nextBoolean() ? 3 : 40);
            int[] v = new int[n + r.nextInt(3)]; // values past n must be ignored
            for (int i = 0; i < v.length; i++) {
                // Mostly valid classes 0..9, sometimes an ignore-like value or a bad one.
                int pick = r.nextInt(10);
                v[i] = pick < 7 ? r.nextInt(10) : pick == 7 ? -1 : pick == 8 ? -100 : 10 + r.nextInt(3);
            }
            IndexBounds b = IndexBounds.of(v, n);
            int lo = r.nextInt(2);
            int hi = 8 + r.nextInt(5);
            assertEquals(scan(v, n, lo, hi, null), b.allIn(lo, hi), () -> describe(v, n, b));
            int except = excepts[r.nextInt(excepts.length)];
            assertEquals(scan(v, n, lo, hi, except), b.allInOrEqual(lo, hi, except),
                    () -> describe(v, n, b) + " except " + except + " in [" + lo + ", " + hi + ")");
        }
    }

    private static String describe(int[] v, int n, IndexBounds b) {
        return java.util.Arrays.toString(java.util.Arrays.copyOf(v, n)) + " -> " + b;
    }

    @Test
    void extremesAndSingleValues() {
        IndexBounds one = IndexBounds.of(new int[] {-1}, 1);
        assertTrue(one.allInOrEqual(0, 5, -1), "only the ignore index");
        assertFalse(one.allIn(0, 5));
        IndexBounds wide = IndexBounds.of(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0}, 3);
        assertFalse(wide.allInOrEqual(0, 5, Integer.MIN_VALUE), "MAX_VALUE is bad");
        assertTrue(IndexBounds.of(new int[] {Integer.MAX_VALUE, 2, Integer.MAX_VALUE}, 3)
                .allInOrEqual(0, 5, Integer.MAX_VALUE));
        assertTrue(IndexBounds.ZEROS.allIn(0, 1), "a new index tensor holds zeros");
        assertFalse(IndexBounds.ZEROS.allIn(1, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IndexBounds.of(new int[2], 3));
        assertEquals("IndexBounds.of: need 1 <= n <= values.length, got n = 3 for 2 values", e.getMessage());
    }
}
