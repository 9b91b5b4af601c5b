package dev.recur.models.io;

import java.util.Arrays;

/**
 * One tensor as a checkpoint holds it: a shape and its float32 values in row-major order
 * (the last dimension varies fastest, as in PyTorch and in safetensors files).
 *
 * <p>Immutable: the constructor copies its arguments and the accessors return copies, so a
 * model may keep training on the arrays it handed over. {@link #copyInto} fills an existing
 * array without allocating. A shape of {@code []} is a scalar (one value); a dimension of 0
 * makes an empty tensor.
 */
public final class StoredTensor {

    private final int[] shape;
    private final float[] data; // [product of shape], row-major

    /**
     * @param shape the dimensions, each {@code >= 0}
     * @param data  the values, row-major; its length must be the product of the dimensions
     * @throws IllegalArgumentException when a dimension is negative, or {@code data.length}
     *                                  differs from the product of the dimensions
     */
    public StoredTensor(int[] shape, float[] data) {
        this(shape.clone(), data.clone(), true);
    }

    /** Takes ownership of the arrays (no copy); for readers that just allocated them. */
    StoredTensor(int[] shape, float[] data, boolean owned) {
        long n = elementCount(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("data has " + data.length + " values, shape "
                    + Arrays.toString(shape) + " needs " + n);
        }
        this.shape = shape;
        this.data = data;
    }

    /**
     * The number of elements of a tensor of this shape.
     *
     * @throws IllegalArgumentException when a dimension is negative or the count overflows a long
     */
    static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^63 elements");
            }
        }
        return n;
    }

    /** The dimensions (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** The number of values: the product of the dimensions. */
    public int size() {
        return data.length;
    }

    /** The values, row-major (a copy). */
    public float[] data() {
        return data.clone();
    }

    /** Value {@code i} in row-major order. */
    public float get(int i) {
        return data[i];
    }

    /**
     * Copies the values into {@code dst} from {@code dst[offset]} on.
     *
     * @throws IndexOutOfBoundsException when they do not fit
     */
    public void copyInto(float[] dst, int offset) {
        System.arraycopy(data, 0, dst, offset, data.length);
    }

    /** Whether the shape is exactly {@code expected}. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The array itself, for package code that only reads it. */
    float[] dataView() {
        return data;
    }

    /** Same shape and the same bits in every value ({@code -0.0} differs from {@code 0.0}). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof StoredTensor t)) {
            return false;
        }
        if (!Arrays.equals(shape, t.shape)) {
            return false;
        }
        for (int i = 0; i < data.length; i++) {
            if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(t.data[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(shape);
        for (float v : data) {
            h = 31 * h + Float.floatToRawIntBits(v);
        }
        return h;
    }

    /** The shape and up to the first 8 values. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("StoredTensor").append(Arrays.toString(shape)).append(" {");
        int show = Math.min(8, data.length);
        for (int i = 0; i < show; i++) {
            s.append(i == 0 ? "" : ", ").append(data[i]);
        }
        return s.append(data.length > show ? ", ...}" : "}").toString();
    }
}
