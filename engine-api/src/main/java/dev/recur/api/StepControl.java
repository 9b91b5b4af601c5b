package dev.recur.api;

import java.util.Arrays;

/**
 * What one layer call takes beside its lengths: a step mask with holes, and where its random
 * numbers start (for the recurrent dropout and zoneout of {@link CellOptions}).
 *
 * <p><b>Step mask</b> (Keras's {@code mask}): {@code mask[t*B + b]} is 1 where sequence b runs
 * step t and 0 where it skips it. A skipped step leaves the state unchanged (h and c carry over)
 * and its output repeats the previous output of that sequence and direction, zero before the
 * first step that ran, as Keras does; in the backward the state's gradient passes through it
 * unchanged and it adds nothing to the parameter gradients. Holes may sit anywhere, also at the
 * start and the end. With lengths as well, a step at or past a sequence's length is padding as
 * before (state unchanged, output zero) whatever the mask says. The reverse direction walks the
 * same mask backwards in time, as Keras's {@code go_backwards} does. Null: no holes.
 *
 * <p><b>Random numbers</b>: {@code seed} and {@code counter} pick the numbers a training forward
 * draws ({@link CellOptions}, "Random draws"); the caller advances its counter by
 * {@link CellOptions#draws} per direction and call, so a resumed run that restores the counter
 * draws the same masks. Ignored by inference and by cells without draws.
 *
 * @param mask    {@code [T*B]} of 0 and 1, or null
 * @param seed    the generator's seed
 * @param counter the first counter value of this call
 */
public record StepControl(byte[] mask, long seed, long counter) {

    /** No holes, no draws. */
    public static final StepControl NONE = new StepControl(null, 0L, 0L);

    /** Only random numbers. */
    public static StepControl draws(long seed, long counter) {
        return new StepControl(null, seed, counter);
    }

    /** Whether {@code mask} is given. */
    public boolean hasMask() {
        return mask != null;
    }

    /** {@code mask[t*B + b] != 0}; true without a mask. */
    public boolean runs(int t, int b, int batch) {
        return mask == null || mask[t * batch + b] != 0;
    }

    /** Throws, naming the op and the entry, unless the mask has T*B entries of 0 or 1. */
    void check(String op, int steps, int batch) {
        if (mask == null) {
            return;
        }
        if (mask.length != steps * batch) {
            throw new IllegalArgumentException(op + ": control.mask has " + mask.length + " entries, expected T*B = "
                    + steps + "*" + batch + " = " + steps * batch + " (index t*B + b)");
        }
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0 && mask[i] != 1) {
                throw new IllegalArgumentException(op + ": control.mask[" + i + "] (t = " + i / batch + ", b = "
                        + i % batch + ") is " + mask[i] + "; a step mask holds 0 or 1");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepControl s && Arrays.equals(mask, s.mask) && seed == s.seed && counter == s.counter;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(mask) + Long.hashCode(seed)) + Long.hashCode(counter);
    }

    @Override
    public String toString() {
        return "StepControl[mask=" + (mask == null ? "none" : mask.length + " entries") + ", seed=" + seed
                + ", counter=" + counter + "]";
    }
}
