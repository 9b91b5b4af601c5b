package dev.recur.models.cli;

import java.util.Locale;

/**
 * One training step of a command's loop, with the check that training has not diverged: the
 * loss must be finite, and an engine's finiteness check failing inside the step (an overflow:
 * {@code "layerBackward(gru): dFin.h holds Infinity at index [0, 0] (shape [16, 32])"}) means
 * the same. Either way the command stops with the step and epoch named.
 */
@FunctionalInterface
interface CheckedStep {

    /** Runs the step; returns its loss. */
    float run();

    /** Training diverged; the message names the step, the epoch and why. */
    final class Diverged extends Exception {
        Diverged(long step, int epoch, String why) {
            super(String.format(Locale.ROOT, "training diverged at step %d (epoch %d): %s; try a lower --lr", step,
                    epoch, why));
        }
    }

    /**
     * Runs {@code step}, the {@code number}-th (from 1) of the run, in {@code epoch}.
     *
     * @return its finite loss
     * @throws Diverged                 when the loss is not finite or an engine found a non-finite value
     * @throws IllegalArgumentException any other failure of the step, as it was thrown
     */
    static float loss(CheckedStep step, long number, int epoch) throws Diverged {
        float loss;
        try {
            loss = step.run();
        } catch (IllegalArgumentException e) {
            throw new Diverged(number, epoch, nonFinite(e));
        }
        if (!Float.isFinite(loss)) {
            throw new Diverged(number, epoch, "the loss is " + loss);
        }
        return loss;
    }

    /**
     * The message of an engine's finiteness check, which means that training diverged.
     *
     * @throws IllegalArgumentException {@code e} itself when it is any other failure
     */
    private static String nonFinite(IllegalArgumentException e) {
        String m = e.getMessage();
        if (m == null || !m.matches("(?s).* holds (NaN|-?Infinity) at index .*")) {
            throw e;
        }
        return m;
    }
}
