package dev.recur.cpu;

import java.util.Arrays;

/**
 * One weight matrix's packed form ({@link Sgemm.PackedB}) kept across layer calls for as long as
 * the weights are unchanged: a model that generates, classifies or evaluates calls a layer many
 * times with the same weights, and packing them again at every call cost as much as a tenth of
 * a B = 1 forward (W_hh and W_ih of H = 512 packed transposed, 0.68 ms each, one core of the Zen
 * 5 VM, against 0.19 ms to find them unchanged; the forward of 100 steps took about 8 ms).
 *
 * <p>Whether the weights changed is decided by their values, not by trusting a version count:
 * {@link #see} compares them with a copy of the values the packed form was made from (a
 * vectorized mismatch, which stops at the first difference, and an optimizer step leaves one near
 * the start) and, when they differ, takes a new copy and marks the packed form stale. So a packed
 * form always holds the weights of the call, whoever changed them and however.
 *
 * <p>The form is {@link #transposed} ({@code op(B) = Wᵀ}, the forward's GEMMs) or {@link #plain}
 * ({@code op(B) = W}, the backward's), one buffer for both: a backward packs the plain form over
 * the transposed one (in training the weights change at every step, so nothing is lost), and a
 * forward-only loop keeps its transposed form. Memory: the copy and the packed form, about twice
 * the matrix; a matrix of more than {@link #mostKept} values keeps no copy and is packed at every
 * call, as it was before this class, so a wide model does not double its weights' memory.
 * Calls are serialized by the layer that owns this.
 */
final class PackedWeights {

    /** Matrices of at most this many values (16 MB) are kept; see the class comment. */
    static final int MOST_KEPT = 1 << 22;

    private final int mostKept;
    /** The values the packed form was made from, {@code [rows, cols]} (when {@link #kept}); grown on first use. */
    private float[] seen = new float[0];
    private int rows = -1;
    private int cols = -1;
    private boolean kept;
    /** Bumped at every {@link #see} that finds the weights changed (or not kept). */
    private long generation;
    /** Where the form is packed: this object's own, or a buffer whose owner packs nothing else into it. */
    private final Sgemm.PackedB packed;
    private boolean packedTransposed;
    private long packedAt = -1;

    PackedWeights() {
        this(new Sgemm.PackedB());
    }

    /** Packing into {@code into}, which nothing else may pack into while this is in use. */
    PackedWeights(Sgemm.PackedB into) {
        this(into, MOST_KEPT);
    }

    /** With another limit than {@link #MOST_KEPT}: for tests of both cases on small matrices. */
    PackedWeights(int mostKept) {
        this(new Sgemm.PackedB(), mostKept);
    }

    private PackedWeights(Sgemm.PackedB into, int mostKept) {
        this.packed = into;
        this.mostKept = mostKept;
    }

    /**
     * Takes note of the weights {@code w[0, rows*cols)} of this call: unchanged, the packed form
     * stays; changed (or too large to keep), it is made again when next asked for.
     */
    void see(float[] w, int rows, int cols) {
        int n = Math.multiplyExact(rows, cols);
        boolean same = kept && rows == this.rows && cols == this.cols && Arrays.equals(seen, 0, n, w, 0, n);
        this.rows = rows;
        this.cols = cols;
        if (same) {
            return;
        }
        generation++;
        kept = n <= mostKept;
        if (kept) {
            if (seen.length < n) {
                seen = new float[n];
            }
            System.arraycopy(w, 0, seen, 0, n);
        }
    }

    /** Whether the last {@link #see} kept a copy, so that the packed form outlives the call. */
    boolean kept() {
        return kept;
    }

    /**
     * {@code op(B) = Wᵀ [cols, rows]} packed, for {@code W [rows, cols]} as last {@link #see seen}
     * ({@code w} the same array): packed again only when the weights changed since, or were not kept.
     */
    Sgemm.PackedB transposed(float[] w) {
        return form(true, w);
    }

    /** {@code op(B) = W [rows, cols]} packed, likewise. */
    Sgemm.PackedB plain(float[] w) {
        return form(false, w);
    }

    private Sgemm.PackedB form(boolean transposed, float[] w) {
        if (!kept || packedAt != generation || packedTransposed != transposed) {
            float[] from = kept ? seen : w;
            if (transposed) {
                Sgemm.pack(true, cols, rows, from, 0, cols, packed);
            } else {
                Sgemm.pack(false, rows, cols, from, 0, cols, packed);
            }
            packedAt = kept ? generation : -1;
            packedTransposed = transposed;
        }
        return packed;
    }
}
