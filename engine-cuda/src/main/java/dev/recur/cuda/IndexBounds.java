package dev.recur.cuda;

/**
 * What the host knows of an index tensor's values without reading the device: the two smallest
 * and the two largest distinct values, taken on the host when the values were uploaded
 * ({@link CudaIndexTensor#copyFrom}). That is enough to decide exactly, with no device traffic,
 * whether every value lies in {@code [lo, hi)} (embedding ids) or lies in {@code [lo, hi)} or
 * equals one other value (class targets with an ignore index).
 *
 * <p>Why on the host: the CPU engine refuses a bad id with an exception naming it, and a kernel
 * cannot throw; reading a device error flag back after each op would be a host round trip in
 * every training step. An index tensor's values only ever come from the host (no op writes one),
 * so the summary taken at upload is always the summary of what the device holds in main-stream
 * order.
 *
 * @param min       the smallest value
 * @param secondMin the smallest value above {@code min}, or {@link Long#MAX_VALUE} when there is none
 * @param max       the largest value
 * @param secondMax the largest value below {@code max}, or {@link Long#MIN_VALUE} when there is none
 */
record IndexBounds(int min, long secondMin, int max, long secondMax) {

    /** The bounds of a new index tensor, which is all zeros. */
    static final IndexBounds ZEROS = new IndexBounds(0, Long.MAX_VALUE, 0, Long.MIN_VALUE);

    /** The bounds of {@code values[0..n)}; n >= 1. */
    static IndexBounds of(int[] values, int n) {
        if (n < 1 || values.length < n) {
            throw new IllegalArgumentException("IndexBounds.of: need 1 <= n <= values.length, got n = " + n
                    + " for " + values.length + " values");
        }
        int min = values[0];
        int max = values[0];
        long secondMin = Long.MAX_VALUE;
        long secondMax = Long.MIN_VALUE;
        for (int i = 1; i < n; i++) {
            int v = values[i];
            if (v < min) {
                secondMin = min;
                min = v;
            } else if (v > min && v < secondMin) {
                secondMin = v;
            }
            if (v > max) {
                secondMax = max;
                max = v;
            } else if (v < max && v > secondMax) {
                secondMax = v;
            }
        }
        return new IndexBounds(min, secondMin, max, secondMax);
    }

    /** Whether every value lies in {@code [lo, hi)}. */
    boolean allIn(int lo, int hi) {
        return min >= lo && max < hi;
    }

    /**
     * Whether every value lies in {@code [lo, hi)} or equals {@code except}: below {@code lo} only
     * the smallest value may lie, and only when it is {@code except}; likewise above.
     */
    boolean allInOrEqual(int lo, int hi, int except) {
        boolean low = min >= lo || (min == except && secondMin >= lo);
        boolean high = max < hi || (max == except && secondMax < hi);
        return low && high;
    }
}
