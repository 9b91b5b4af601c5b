package dev.recur.cpu;

import java.util.Arrays;

/**
 * One weight matrix's packed forms ({@link Sgemm.PackedB}) kept across layer calls for as long
 * as the weights are unchanged: a model that generates, classifies or evaluates calls a layer
 * many times with the same weights, and packing them again at every call cost as much as a
 * tenth of a B = 1 forward (packing W_hh and W_ih of H = 512, 0.55 ms each, one core of the Zen
 * 5 VM, against about 8 ms for 100 steps).
 *
 * <p>Whether the weights changed is decided by their values, not by trusting a version count:
 * {@link #see} compares them with a copy of the values the packed forms were made from (a
 * vectorized mismatch, stopping at the first difference, which an optimizer step puts near the
 * start) and, when they differ, takes a new copy and marks every packed form stale. So a packed
 * form is always that of the weights of the call, whoever changed them and however; the cost
 * is one compare per call, and a copy per change.
 *
 * <p>Two forms: {@link #transposed} ({@code op(B) = Wᵀ}, the forward's input projection and
 * recurrent GEMMs) and {@link #plain} ({@code op(B) = W}, the backward's), each packed on
 * first use after a change. Calls are serialized by the layer that owns this.
 */
final class PackedWeights {

    /** The values the packed forms were made from ({@code [rows, cols]}); grown on first use. */
    private float[] seen = new float[0];
    private int seenRows = -1;
    private int seenCols = -1;
    /** Bumped at every change of {@link #seen}. */
    private long generation;
    private final Sgemm.PackedB transposed = new Sgemm.PackedB();
    private final Sgemm.PackedB plain = new Sgemm.PackedB();
    private long transposedAt = -1;
    private long plainAt = -1;

    /** Takes note of the weights {@code w[0, rows*cols)} of this call; a change makes both forms stale. */
    void see(float[] w, int rows, int cols) {
        int n = Math.multiplyExact(rows, cols);
        if (rows == seenRows && cols == seenCols && Arrays.equals(seen, 0, n, w, 0, n)) {
            return;
        }
        if (seen.length < n) {
            seen = new float[n];
        }
        System.arraycopy(w, 0, seen, 0, n);
        seenRows = rows;
        seenCols = cols;
        generation++;
    }

    /**
     * {@code op(B) = Wᵀ [cols, rows]} packed, for {@code W [rows, cols]} as last {@link #see seen}
     * (call that first); packed again only when the weights changed since.
     */
    Sgemm.PackedB transposed() {
        if (transposedAt != generation) {
            Sgemm.pack(true, seenCols, seenRows, seen, 0, seenCols, transposed);
            transposedAt = generation;
        }
        return transposed;
    }

    /** {@code op(B) = W [rows, cols]} packed, likewise. */
    Sgemm.PackedB plain() {
        if (plainAt != generation) {
            Sgemm.pack(false, seenRows, seenCols, seen, 0, seenCols, plain);
            plainAt = generation;
        }
        return plain;
    }
}
