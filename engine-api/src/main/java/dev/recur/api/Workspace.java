package dev.recur.api;

import java.util.Arrays;

/**
 * Scratch and saved memory for one recurrent layer (both directions when bidirectional), made by
 * {@link Backend#workspace}: sized once for at most {@code maxSteps} steps and {@code maxBatch}
 * sequences, then reused by every call, so the time loop allocates nothing.
 *
 * <p>Order of calls: a forward op fills the workspace with what the backward needs (input
 * projections, activated gates, previous states); the matching backward op (same cell,
 * direction, shapes and lengths) must come next, before another forward on this workspace. The
 * backend checks that order and refuses a backward that does not match the last forward.
 * An inference op ({@link Backend#layerInference}) uses the workspace as scratch and leaves it
 * holding no forward, so a backward after it is refused.
 * A workspace made for {@code T = 1} serves the per-step cell ops.
 */
public abstract class Workspace implements AutoCloseable {

    private final Backend backend;
    private final Cell cell;
    private final int maxSteps;
    private final int maxBatch;
    private final int inputSize;
    private final int hiddenSize;
    private final boolean bidirectional;
    /** What the last forward wrote here; null before the first forward. */
    private String filledBy;
    /** The options every layer op on this workspace runs the cell with (set by {@link Backend#workspace}). */
    private CellOptions options = CellOptions.NONE;

    protected Workspace(Backend backend, Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                        boolean bidirectional) {
        this.backend = backend;
        this.cell = cell;
        this.maxSteps = maxSteps;
        this.maxBatch = maxBatch;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.bidirectional = bidirectional;
    }

    /** The backend that made this workspace and owns its memory. */
    public final Backend backend() {
        return backend;
    }

    public final Cell cell() {
        return cell;
    }

    public final int maxSteps() {
        return maxSteps;
    }

    public final int maxBatch() {
        return maxBatch;
    }

    public final int inputSize() {
        return inputSize;
    }

    public final int hiddenSize() {
        return hiddenSize;
    }

    public final boolean bidirectional() {
        return bidirectional;
    }

    /** The cell's options ({@link CellOptions#NONE} for the plain cell). */
    public final CellOptions options() {
        return options;
    }

    final void options(CellOptions options) {
        this.options = options;
    }

    /** Records the forward that filled this workspace (called by {@link Backend}). */
    final void markFilled(String op, Object direction, int steps, int batch, int[] lengths) {
        markFilled(op, direction, steps, batch, lengths, StepControl.NONE);
    }

    /** As above, for a forward with a step mask or random draws, which the backward must repeat. */
    final void markFilled(String op, Object direction, int steps, int batch, int[] lengths, StepControl control) {
        filledBy = signature(op, direction, steps, batch, lengths, control);
    }

    /** Records that the workspace holds no forward (an inference op used it as scratch). */
    final void markEmpty() {
        filledBy = null;
    }

    /** Throws unless the last forward matches this backward. */
    final void requireFilled(String backwardOp, String op, Object direction, int steps, int batch, int[] lengths) {
        requireFilled(backwardOp, op, direction, steps, batch, lengths, StepControl.NONE);
    }

    /** As above, also matching the forward's step mask, seed and counter. */
    final void requireFilled(String backwardOp, String op, Object direction, int steps, int batch, int[] lengths,
                             StepControl control) {
        String want = signature(op, direction, steps, batch, lengths, control);
        if (filledBy == null) {
            throw new IllegalStateException(backwardOp + ": the workspace holds no forward pass; call "
                    + op + " first with the same inputs");
        }
        if (!filledBy.equals(want)) {
            throw new IllegalStateException(backwardOp + ": the workspace was filled by " + filledBy
                    + ", but this backward is for " + want);
        }
    }

    private static String signature(String op, Object direction, int steps, int batch, int[] lengths,
                                    StepControl control) {
        return op + "(" + direction + ", T=" + steps + ", B=" + batch
                + (lengths == null ? "" : ", lengths=" + Arrays.toString(lengths))
                + (control.hasMask() ? ", mask=" + Arrays.toString(control.mask()) : "")
                + (control.seed() != 0 || control.counter() != 0
                        ? ", seed=" + control.seed() + ", counter=" + control.counter() : "") + ")";
    }

    public abstract boolean isClosed();

    /** Releases the memory. Idempotent. */
    @Override
    public abstract void close();

    @Override
    public String toString() {
        return "Workspace[cell=" + cell.id() + ", maxSteps=" + maxSteps + ", maxBatch=" + maxBatch
                + ", inputSize=" + inputSize + ", hiddenSize=" + hiddenSize + ", bidirectional=" + bidirectional
                + (options.isPlain() ? "" : ", options=" + options) + "]";
    }
}
