package dev.recur.cuda;

/**
 * Device memory that one op reuses from call to call (partial sums of a reduction, the buffers
 * of a sort): taken from the backend's allocator on the first call, replaced by a bigger block
 * only when a call needs more than it has, and given back on {@link #close()}, which the backend
 * calls before its allocator closes (so the block is no leak). A training loop asks for the same
 * sizes every step, so after its first step it allocates nothing here.
 *
 * <p>Reuse is safe without waiting for the device because every op that uses a scratch enqueues
 * all its work on the backend's main stream: a later call's kernels run after the earlier call's
 * have read the old contents, and a block handed back when growing is free in main-stream order
 * (see {@link CachingAllocator}). Not thread-safe: the ops object that owns it serialises the
 * calls that use it. Closing twice is harmless.
 */
final class DeviceScratch implements AutoCloseable {

    private final CachingAllocator allocator;
    private final String owner;
    /** The memory; null before the first call and after closing. */
    private DeviceBlock block;
    private boolean closed;

    /**
     * @param allocator the backend's allocator, where the memory comes from and goes back to
     * @param owner     what the memory is for, shown in the allocator's leak report
     *                  (e.g. {@code "clipGlobalNorm partials"})
     */
    DeviceScratch(CachingAllocator allocator, String owner) {
        this.allocator = allocator;
        this.owner = owner;
    }

    /**
     * The address of at least {@code bytes} bytes (contents undefined; 256-byte aligned, as
     * {@code cuMemAlloc} aligns every block), valid until the next call or {@link #close()}.
     */
    long reserve(long bytes) {
        if (closed) {
            throw new IllegalStateException(owner + ": the scratch memory was released (its backend closed)");
        }
        if (bytes < 1) {
            throw new IllegalArgumentException(owner + ": scratch size must be >= 1 byte, got " + bytes);
        }
        if (block == null || block.capacity() < bytes) {
            DeviceBlock old = block;
            block = null;
            if (old != null) {
                allocator.release(old);
            }
            block = allocator.allocate(bytes, owner);
        }
        return block.address();
    }

    /** Bytes now held (0 before the first call and after closing). */
    long capacity() {
        return block == null ? 0 : block.capacity();
    }

    @Override
    public void close() {
        closed = true;
        DeviceBlock b = block;
        block = null;
        if (b != null) {
            allocator.release(b); // nothing happens once the allocator closed: all its memory is gone
        }
    }

    @Override
    public String toString() {
        return "DeviceScratch[" + owner + ", " + capacity() + " B" + (closed ? ", closed" : "") + "]";
    }
}
