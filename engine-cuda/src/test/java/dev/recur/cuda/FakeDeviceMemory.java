package dev.recur.cuda;

import java.util.HashMap;
import java.util.Map;

/**
 * {@link DeviceMemory} without a device, for the allocator's tests: hands out made-up,
 * 256-aligned addresses, keeps what is live, refuses to free what it did not hand out, and can
 * be given a capacity beyond which it answers like a full device.
 */
final class FakeDeviceMemory implements DeviceMemory {

    private final long capacity;
    private final Map<Long, Long> live = new HashMap<>();
    private long next = 0x7000_0000_0000L;
    private long used;
    int allocations;
    int frees;
    /** When set, {@link #free} of this address fails (once), like a driver error. */
    long failFreeOf = -1;

    FakeDeviceMemory(long capacity) {
        this.capacity = capacity;
    }

    FakeDeviceMemory() {
        this(Long.MAX_VALUE);
    }

    @Override
    public long allocate(long bytes) {
        if (bytes < 1) {
            throw new AssertionError("raw allocation of " + bytes + " bytes");
        }
        if (used + bytes > capacity) {
            throw new CudaException("cuMemAlloc(" + bytes + " B)", CudaException.OUT_OF_MEMORY, "out of memory");
        }
        long address = next;
        next += (bytes + 255) / 256 * 256 + 256;
        live.put(address, bytes);
        used += bytes;
        allocations++;
        return address;
    }

    @Override
    public void free(long address) {
        Long bytes = live.remove(address);
        if (bytes == null) {
            throw new IllegalStateException("free of 0x" + Long.toHexString(address) + ", which is not live");
        }
        used -= bytes;
        frees++;
        if (address == failFreeOf) {
            failFreeOf = -1;
            throw new CudaException("cuMemFree", "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered");
        }
    }

    int liveCount() {
        return live.size();
    }

    long used() {
        return used;
    }
}
