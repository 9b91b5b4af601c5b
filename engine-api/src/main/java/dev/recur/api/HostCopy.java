package dev.recur.api;

/**
 * The argument check of every engine's {@code copyFrom} and {@code copyTo} (through
 * {@link Tensor#checkCopyFrom}, {@link Tensor#checkCopyTo}, {@link IndexTensor#checkCopyFrom} and
 * {@link IndexTensor#checkCopyTo}), so that the engines refuse a host array in the same words.
 */
final class HostCopy {

    private HostCopy() {
    }

    /**
     * Throws {@link IllegalArgumentException} when the host array is missing ({@code missing}) or
     * shorter than {@code shape.size()}.
     *
     * @param into   the array is the destination ({@code copyTo}), not the source ({@code copyFrom})
     * @param length the array's length (ignored when missing)
     * @param what   "tensor" or "index tensor"
     */
    static void check(boolean into, boolean missing, int length, String what, Shape shape) {
        int n = shape.size();
        if (missing || length < n) {
            throw new IllegalArgumentException((into ? "copyTo: destination has " : "copyFrom: source has ")
                    + (missing ? "no array" : length + " elements") + ", " + what + " " + shape
                    + (into ? " holds " : " needs ") + n);
        }
    }
}
