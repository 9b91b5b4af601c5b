package dev.recur.api;

import java.util.Arrays;

/**
 * How one direction of a layer walks a batch of variable-length sequences: the <em>packed</em>
 * layout, which every engine may share (it is host-side bookkeeping, no math).
 *
 * <p>Sequences are sorted by length, longest first (stable, so equal lengths keep their order):
 * packed row {@code j} of a step is sequence {@link #perm(int) perm(j)}. At step {@code s} the
 * first {@link #batchSize(int) batchSize(s)} packed rows are still running, so every per-step
 * buffer is a contiguous prefix, the per-step GEMMs shrink with the batch and no work is spent on
 * padding. All packed per-step data lives at rows {@code offset(s) .. offset(s) + batchSize(s)}
 * of {@code [N, ...]} buffers, {@code N = } {@link #total()} {@code =} the sum of the lengths.
 * Step {@code s} of sequence {@code b} is time {@code s} going forward and time
 * {@code lengths[b] - 1 - s} in reverse, so a reverse direction starts at each sequence's own last
 * step, as PyTorch's packed sequences do.
 *
 * <p>When every sequence has T steps and the direction is forward, the packed layout is the dense
 * {@code [T, B, ...]} layout itself ({@link #isIdentity()}): packed row {@code r} is dense row
 * {@code r}, and an engine need not gather anything.
 *
 * <p>Order of calls: make a plan once for a workspace's maxima, then {@link #build} it for each
 * call and read it; {@code build} allocates nothing. Not thread-safe: one owner at a time.
 *
 * <p>Example, forward, {@code T = 3}, {@code lengths = [2, 3, 1]}: {@code perm = [1, 0, 2]},
 * {@code batchSize = [3, 2, 1]}, {@code offset = [0, 3, 5]}, {@code total = 6}.
 */
public final class StepPlan {

    private final int maxSteps;
    private final int maxBatch;
    private final int[] perm;        // [maxB]     packed row -> sequence
    private final int[] lengths;     // [maxB]     by sequence
    private final int[] batchSizes;  // [maxT]     running sequences per step
    private final int[] offsets;     // [maxT + 1] first packed row of each step
    private int steps;               // S, the longest length
    private int batch;               // B
    private int total;               // N, packed rows
    private boolean reverse;
    private boolean identity;
    private boolean built;

    /**
     * A plan for calls of up to {@code maxSteps} steps and {@code maxBatch} sequences.
     *
     * @throws IllegalArgumentException when either is below 1, or their product exceeds the int range
     */
    public StepPlan(int maxSteps, int maxBatch) {
        if (maxSteps < 1) {
            throw new IllegalArgumentException("StepPlan: maxSteps must be >= 1, got " + maxSteps);
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("StepPlan: maxBatch must be >= 1, got " + maxBatch);
        }
        if ((long) maxSteps * maxBatch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("StepPlan: maxSteps * maxBatch = " + maxSteps + " * " + maxBatch
                    + " exceeds " + Integer.MAX_VALUE + " packed rows");
        }
        this.maxSteps = maxSteps;
        this.maxBatch = maxBatch;
        perm = new int[maxBatch];
        lengths = new int[maxBatch];
        batchSizes = new int[maxSteps];
        offsets = new int[maxSteps + 1];
    }

    /**
     * Lays out one call: {@code batch} sequences of a {@code [steps, batch, ...]} input walked in
     * {@code direction}, with per-sequence {@code lengths} (null: all {@code steps}).
     *
     * @throws IllegalArgumentException naming the argument when {@code direction} is null, a size is
     *                                  outside 1..max, {@code lengths} has not {@code batch} entries,
     *                                  or a length is outside 1..{@code steps}
     */
    public void build(Direction direction, int steps, int batch, int[] lengths) {
        if (direction == null) {
            throw new IllegalArgumentException("StepPlan.build: direction is null");
        }
        if (steps < 1 || steps > maxSteps) {
            throw new IllegalArgumentException("StepPlan.build: steps must be in 1.." + maxSteps + ", got " + steps);
        }
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("StepPlan.build: batch must be in 1.." + maxBatch + ", got " + batch);
        }
        if (lengths != null) {
            if (lengths.length != batch) {
                throw new IllegalArgumentException("StepPlan.build: lengths has " + lengths.length
                        + " entries, expected batch = " + batch);
            }
            for (int b = 0; b < batch; b++) {
                if (lengths[b] < 1 || lengths[b] > steps) {
                    throw new IllegalArgumentException("StepPlan.build: lengths[" + b + "] = " + lengths[b]
                            + " is outside 1.." + steps);
                }
            }
        }
        this.batch = batch;
        this.reverse = direction == Direction.REVERSE;
        boolean full = true;
        int longest = 0;
        for (int i = 0; i < batch; i++) {
            int len = lengths == null ? steps : lengths[i];
            this.lengths[i] = len;
            full &= len == steps;
            longest = Math.max(longest, len);
        }
        this.steps = longest;
        // Stable sort by length, descending: a counting pass per length (lengths are in 1..T).
        int j = 0;
        for (int len = longest; len >= 1; len--) {
            for (int i = 0; i < batch; i++) {
                if (this.lengths[i] == len) {
                    perm[j++] = i;
                }
            }
        }
        int off = 0;
        int running = batch;
        for (int s = 0; s < this.steps; s++) {
            while (running > 0 && this.lengths[perm[running - 1]] <= s) {
                running--;
            }
            batchSizes[s] = running;
            offsets[s] = off;
            off += running;
        }
        offsets[this.steps] = off;
        total = off;
        identity = full && !reverse;
        built = true;
    }

    /** The largest {@code steps} this plan takes. */
    public int maxSteps() {
        return maxSteps;
    }

    /** The largest {@code batch} this plan takes. */
    public int maxBatch() {
        return maxBatch;
    }

    /** S: the number of steps walked, the longest length (at most the call's T). */
    public int steps() {
        requireBuilt();
        return steps;
    }

    /** B: the number of sequences. */
    public int batch() {
        requireBuilt();
        return batch;
    }

    /** N: the number of packed rows, the sum of the lengths. */
    public int total() {
        requireBuilt();
        return total;
    }

    /** Whether the packed layout is the dense {@code [T, B, ...]} one (all lengths T, forward). */
    public boolean isIdentity() {
        requireBuilt();
        return identity;
    }

    /** Whether the direction is {@link Direction#REVERSE}. */
    public boolean isReverse() {
        requireBuilt();
        return reverse;
    }

    /** The sequence (0..B-1) that packed row {@code j} of every step is. */
    public int perm(int j) {
        requireBuilt();
        check("j", j, batch);
        return perm[j];
    }

    /** The length of sequence {@code b}. */
    public int length(int b) {
        requireBuilt();
        check("b", b, batch);
        return lengths[b];
    }

    /** The number of sequences still running at step {@code s}: packed rows 0..batchSize(s)-1 of that step. */
    public int batchSize(int s) {
        requireBuilt();
        check("s", s, steps);
        return batchSizes[s];
    }

    /** The first packed row of step {@code s}; {@code offset(steps())} is {@link #total()}. */
    public int offset(int s) {
        requireBuilt();
        check("s", s, steps + 1);
        return offsets[s];
    }

    /** The time index of packed row {@code j} at step {@code s}. */
    public int time(int s, int j) {
        requireBuilt();
        check("s", s, steps);
        check("j", j, batchSizes[s]);
        return reverse ? lengths[perm[j]] - 1 - s : s;
    }

    /** The row of the dense {@code [T*B, ...]} layout that packed row {@code j} of step {@code s} is. */
    public int denseRow(int s, int j) {
        return time(s, j) * batch + perm[j];
    }

    /**
     * Writes {@link #perm(int) perm(j)} for {@code j = 0..B-1} into {@code out[0..B)}.
     *
     * @throws IllegalArgumentException when {@code out} is null or shorter than B
     */
    public void perm(int[] out) {
        requireBuilt();
        room("perm", out, batch);
        System.arraycopy(perm, 0, out, 0, batch);
    }

    /**
     * Writes the dense row of every packed row into {@code out[0..N)}: {@code out[offset(s) + j] =
     * denseRow(s, j)}. The rows are distinct, so a scatter through them never adds two packed rows
     * into one dense row.
     *
     * @throws IllegalArgumentException when {@code out} is null or shorter than N
     */
    public void denseRows(int[] out) {
        requireBuilt();
        room("denseRows", out, total);
        for (int s = 0; s < steps; s++) {
            int off = offsets[s];
            int rows = batchSizes[s];
            for (int j = 0; j < rows; j++) {
                int t = reverse ? lengths[perm[j]] - 1 - s : s;
                out[off + j] = t * batch + perm[j];
            }
        }
    }

    private void requireBuilt() {
        if (!built) {
            throw new IllegalStateException("StepPlan: build it before reading it");
        }
    }

    private static void check(String name, int i, int bound) {
        if (i < 0 || i >= bound) {
            throw new IndexOutOfBoundsException("StepPlan: " + name + " = " + i + " is outside 0.." + (bound - 1));
        }
    }

    private static void room(String what, int[] out, int need) {
        if (out == null || out.length < need) {
            throw new IllegalArgumentException("StepPlan." + what + ": out has " + (out == null ? "no array"
                    : out.length + " entries") + ", needs " + need);
        }
    }

    @Override
    public String toString() {
        if (!built) {
            return "StepPlan[maxSteps=" + maxSteps + ", maxBatch=" + maxBatch + ", not built]";
        }
        return "StepPlan[" + (reverse ? "reverse" : "forward") + ", steps=" + steps + ", batch=" + batch
                + ", total=" + total + (identity ? ", identity" : "") + ", perm="
                + Arrays.toString(Arrays.copyOf(perm, batch)) + ", batchSizes="
                + Arrays.toString(Arrays.copyOf(batchSizes, steps)) + "]";
    }
}
