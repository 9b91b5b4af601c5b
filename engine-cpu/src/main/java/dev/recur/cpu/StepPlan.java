package dev.recur.cpu;

import dev.recur.api.Direction;

/**
 * How one direction of a layer walks a batch of variable-length sequences: the packed layout.
 *
 * <p>Sequences are sorted by length, longest first (stable, so equal lengths keep their order):
 * packed row {@code j} is sequence {@code perm[j]}. At step {@code s} the first
 * {@code batchSizes[s]} packed rows are still running, so every per-step buffer is a contiguous
 * prefix, the GEMMs shrink with the batch and no work is spent on padding. All packed per-step
 * data lives at rows {@code offsets[s] .. offsets[s] + batchSizes[s]} of {@code [N, ...]} buffers,
 * {@code N = sum of lengths}. Step {@code s} of sequence {@code b} is time {@code s} going
 * forward and time {@code lengths[b] - 1 - s} in reverse.
 *
 * <p>When every sequence has T steps and the direction is forward, the packed layout is the
 * dense {@code [T, B, ...]} layout itself ({@link #identity}) and nothing is gathered.
 * Arrays are sized once for the workspace's maxima; {@link #build} allocates nothing.
 */
final class StepPlan {

    final int[] perm;        // [maxB]  packed row -> sequence
    final int[] lengths;     // [maxB]  by sequence
    final int[] batchSizes;  // [maxT]  running sequences per step
    final int[] offsets;     // [maxT+1] first packed row of each step
    int steps;               // S, the longest length
    int batch;               // B
    int total;               // N, packed rows
    boolean reverse;
    boolean identity;

    StepPlan(int maxSteps, int maxBatch) {
        perm = new int[maxBatch];
        lengths = new int[maxBatch];
        batchSizes = new int[maxSteps];
        offsets = new int[maxSteps + 1];
    }

    void build(Direction direction, int t, int b, int[] lens) {
        batch = b;
        reverse = direction == Direction.REVERSE;
        boolean full = true;
        int longest = 0;
        for (int i = 0; i < b; i++) {
            int len = lens == null ? t : lens[i];
            lengths[i] = len;
            full &= len == t;
            longest = Math.max(longest, len);
        }
        steps = longest;
        // Stable sort by length, descending: a counting pass per length (lengths are in 1..T).
        int j = 0;
        for (int len = longest; len >= 1; len--) {
            for (int i = 0; i < b; i++) {
                if (lengths[i] == len) {
                    perm[j++] = i;
                }
            }
        }
        int off = 0;
        int running = b;
        for (int s = 0; s < steps; s++) {
            while (running > 0 && lengths[perm[running - 1]] <= s) {
                running--;
            }
            batchSizes[s] = running;
            offsets[s] = off;
            off += running;
        }
        offsets[steps] = off;
        total = off;
        identity = full && !reverse;
    }

    /** The time index of packed row {@code j} at step {@code s}. */
    int time(int s, int j) {
        return reverse ? lengths[perm[j]] - 1 - s : s;
    }

    /** The row of the dense {@code [T*B, ...]} layout that packed row {@code j} of step {@code s} is. */
    int denseRow(int s, int j) {
        return time(s, j) * batch + perm[j];
    }
}
