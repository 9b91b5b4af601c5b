package dev.recur.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Device addresses as plain {@code long}s, and JCuda's {@link CUdeviceptr} made from and read
 * back into them.
 *
 * <p>Recur passes device memory around as {@code long} addresses (the allocator, the kernels'
 * launch methods, cuBLAS through {@code java.lang.foreign}). JCuda keeps an address in two
 * protected fields of its pointer classes, {@code nativePointer} and {@code byteOffset}, and its
 * natives hand the driver their sum. This subclass is the one place that touches them:
 * <ul>
 *   <li>an instance made with {@link #DevicePointer()} and passed to {@code cuMemAlloc} receives
 *       the new address, which {@link #address()} reads back;</li>
 *   <li>{@link #at(long)} makes a pointer whose offset from a null base is the address, which is
 *       exactly what JCuda's own {@code withByteOffset} does for a sub-range.</li>
 * </ul>
 * Nothing here loads native code, so it is usable (and tested) without a GPU.
 */
final class DevicePointer extends CUdeviceptr {

    /** A null pointer, to be filled in by a driver call such as {@code cuMemAlloc}. */
    DevicePointer() {
    }

    private DevicePointer(long address) {
        super(new CUdeviceptr(), address);
    }

    /** A JCuda pointer to {@code address}. */
    static CUdeviceptr at(long address) {
        return new DevicePointer(address);
    }

    /** The address this pointer holds. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
