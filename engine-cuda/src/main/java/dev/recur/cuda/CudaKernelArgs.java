package dev.recur.cuda;

import jcuda.Pointer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parameters of one kernel launch, in order, each with its kind: {@code 'i'} a 32-bit int
 * (PTX {@code .u32}), {@code 'f'} a float ({@code .f32}), {@code 'l'} a 64-bit integer and
 * {@code 'p'} a device pointer (both {@code .u64}). {@link #kinds()} is what {@link CudaKernels}
 * checks against its kernel table before every launch.
 */
final class CudaKernelArgs {

    private final StringBuilder kinds = new StringBuilder(16);
    private final List<Object> values = new ArrayList<>(16);

    CudaKernelArgs i(int v) {
        kinds.append('i');
        values.add(v);
        return this;
    }

    CudaKernelArgs f(float v) {
        kinds.append('f');
        values.add(v);
        return this;
    }

    CudaKernelArgs l(long v) {
        kinds.append('l');
        values.add(v);
        return this;
    }

    /** A device address; 0 is a null pointer. */
    CudaKernelArgs p(long address) {
        kinds.append('p');
        values.add(address);
        return this;
    }

    /** One kind letter per parameter, e.g. {@code "iiiipppp"}. */
    String kinds() {
        return kinds.toString();
    }

    /** The values, boxed: Integer, Float or Long. */
    List<Object> values() {
        return Collections.unmodifiableList(values);
    }

    /** The {@code kernelParams} array of {@code cuLaunchKernel}: a pointer to each value. */
    Pointer kernelParams() {
        Pointer[] params = new Pointer[values.size()];
        for (int k = 0; k < params.length; k++) {
            Object v = values.get(k);
            params[k] = switch (kinds.charAt(k)) {
                case 'i' -> Pointer.to(new int[] {(Integer) v});
                case 'f' -> Pointer.to(new float[] {(Float) v});
                default -> Pointer.to(new long[] {(Long) v});
            };
        }
        return Pointer.to(params);
    }
}
