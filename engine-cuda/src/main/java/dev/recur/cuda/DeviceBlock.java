package dev.recur.cuda;

/**
 * One block of device memory handed out by a {@link CachingAllocator}: valid from
 * {@link CachingAllocator#allocate} until {@link CachingAllocator#release}. Its address may be
 * handed out again after release, as a new block object.
 */
final class DeviceBlock {

    private final long address;
    private final long bytes;
    private final long capacity;
    private final String owner;
    /** Where it was allocated; recorded only with {@code -Drecur.cuda.debugAllocations=true}. */
    private final Throwable allocatedAt;
    /** Guarded by the allocator's lock. */
    boolean live = true;

    DeviceBlock(long address, long bytes, long capacity, String owner, Throwable allocatedAt) {
        this.address = address;
        this.bytes = bytes;
        this.capacity = capacity;
        this.owner = owner;
        this.allocatedAt = allocatedAt;
    }

    /** The device address of the first byte. */
    long address() {
        return address;
    }

    /** The bytes asked for. */
    long bytes() {
        return bytes;
    }

    /** The bytes the block really has: {@link #bytes()} rounded up to its size class. */
    long capacity() {
        return capacity;
    }

    /** What the memory is for, as the caller described it (e.g. {@code tensor [64, 512]}). */
    String owner() {
        return owner;
    }

    Throwable allocatedAt() {
        return allocatedAt;
    }

    @Override
    public String toString() {
        return owner + ": " + bytes + " B (class " + capacity + " B) at 0x" + Long.toHexString(address);
    }
}
