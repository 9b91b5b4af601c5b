package dev.recur.api;

/**
 * The direction in which a layer walks a sequence. {@link #REVERSE} walks each sequence from its
 * own last valid step (its length minus one) back to step 0, as PyTorch's reverse direction does
 * with packed sequences; its output at step t is written at step t.
 */
public enum Direction {
    FORWARD,
    REVERSE
}
