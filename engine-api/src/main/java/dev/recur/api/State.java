package dev.recur.api;

/**
 * A recurrent state for a batch: {@code h [B, H]} and, for cells with a cell state
 * ({@link Cell#hasCellState()}), {@code c [B, H]}; {@code c} is null for the others.
 * Also used for the gradients with respect to a state.
 */
public record State(Tensor h, Tensor c) {

    public static State of(Tensor h) {
        return new State(h, null);
    }

    /**
     * Copies {@code h}, and {@code c} where this state has one, into {@code dst} (same shapes,
     * same backend), in that backend's order of work.
     */
    public void copyTo(State dst) {
        h.backend().tensorOps().copy(h, dst.h());
        if (c != null) {
            c.backend().tensorOps().copy(c, dst.c());
        }
    }

    /** A zero state for {@code cell} on {@code backend}. */
    public static State zeros(Backend backend, Cell cell, int batch, int hiddenSize) {
        return new State(backend.tensor(batch, hiddenSize),
                cell.hasCellState() ? backend.tensor(batch, hiddenSize) : null);
    }
}
