package dev.recur.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A caching allocator of device memory, in the manner of PyTorch's: a released block goes to a
 * free list of its size class instead of back to the driver, and the next request of that class
 * takes it from there. {@code cuMemAlloc} and {@code cuMemFree} are slow and synchronise the
 * device, so a training loop, which asks for the same sizes every step, must stop reaching the
 * driver after its first step; {@link #stats()} lets a test check that it does.
 *
 * <h2>Size classes</h2>
 * Up to 1 MiB, requests round up to a multiple of 512 B. Above, they round up to an eighth of
 * their power of two (1 MiB + 1 B takes a 1.125 MiB block), so no block wastes more than 12.5%
 * and sizes that differ a little (a last, shorter batch) still share classes. A request is
 * served only from its own class: a bigger cached block is never split or lent, which keeps the
 * bookkeeping trivial and the reuse deterministic (free lists are LIFO).
 *
 * <h2>Streams</h2>
 * A released block may be handed out again at once, so memory is safe to reuse only in the order
 * of one stream. The backend keeps that true: every op leaves its work ordered on the main stream
 * (work on the second stream is joined back with an event before the op returns), so a block
 * released by the host is free in main-stream order.
 *
 * <h2>Leaks</h2>
 * {@link #close()} frees everything, cached and live, and reports the live blocks (leaks) to the
 * reporter given at construction, with the place each was allocated when
 * {@code -Drecur.cuda.debugAllocations=true}. Thread-safe; every method takes the same lock.
 */
final class CachingAllocator implements AutoCloseable {

    /** System property that records where each block was allocated, for the leak report (read by {@link CudaOptions}). */
    static final String DEBUG_PROPERTY = "recur.cuda.debugAllocations";

    static final long SMALL_GRANULE = 512;
    static final long SMALL_LIMIT = 1L << 20;

    /**
     * Counters for tests and reports.
     *
     * @param rawAllocations blocks ever taken from the driver
     * @param rawFrees       blocks ever given back to the driver
     * @param bytesHeld      bytes now taken from the driver: live plus cached
     * @param bytesInUse     capacity of the live blocks
     * @param liveBlocks     blocks handed out and not yet released
     * @param cachedBlocks   blocks waiting in the free lists
     */
    record Stats(long rawAllocations, long rawFrees, long bytesHeld, long bytesInUse, int liveBlocks,
                 int cachedBlocks) {
    }

    private final DeviceMemory raw;
    private final boolean recordSites;
    private final Consumer<String> reporter;
    /** Cached addresses by size class, each list last-in first-out. */
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    /** Blocks handed out, by address, in allocation order (for a readable leak report). */
    private final Map<Long, DeviceBlock> live = new LinkedHashMap<>();
    private long rawAllocations;
    private long rawFrees;
    private long bytesHeld;
    private long bytesInUse;
    private int cachedBlocks;
    private boolean closed;

    /**
     * @param raw         where new blocks come from
     * @param recordSites record a stack trace per allocation for the leak report (costly; for debugging)
     * @param reporter    receives the leak report on {@link #close()}, if any block is still live
     */
    CachingAllocator(DeviceMemory raw, boolean recordSites, Consumer<String> reporter) {
        this.raw = raw;
        this.recordSites = recordSites;
        this.reporter = reporter;
    }

    /** The size class of a request of {@code bytes} bytes (see the class comment). */
    static long sizeClass(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("allocation size must be >= 1 byte, got " + bytes);
        }
        if (bytes <= SMALL_LIMIT) {
            return roundUp(bytes, SMALL_GRANULE);
        }
        long step = Long.highestOneBit(bytes) / 8;
        return roundUp(bytes, step);
    }

    private static long roundUp(long v, long step) {
        return (v + step - 1) / step * step;
    }

    /**
     * A block of at least {@code bytes} bytes; its contents are undefined.
     *
     * @param owner what the memory is for, shown in the leak report (e.g. {@code tensor [64, 512]})
     * @throws CudaException when the device is out of memory even after the cache was emptied
     */
    synchronized DeviceBlock allocate(long bytes, String owner) {
        if (closed) {
            throw new IllegalStateException("allocate(" + bytes + " B for " + owner + "): the allocator is closed");
        }
        long size = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(size);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            cachedBlocks--;
        } else {
            address = rawAllocate(size);
        }
        DeviceBlock block = new DeviceBlock(address, bytes, size, owner,
                recordSites ? new Throwable("allocated here") : null);
        live.put(address, block);
        bytesInUse += size;
        return block;
    }

    private long rawAllocate(long size) {
        long address;
        try {
            address = raw.allocate(size);
        } catch (CudaException e) {
            if (!e.outOfMemory() || cachedBlocks == 0) {
                throw withHoldings(e, size);
            }
            // The device is full, partly with our cache: give the cache back and try once more.
            trim();
            try {
                address = raw.allocate(size);
            } catch (CudaException again) {
                throw withHoldings(again, size);
            }
        }
        rawAllocations++;
        bytesHeld += size;
        return address;
    }

    private CudaException withHoldings(CudaException e, long size) {
        return new CudaException(e, "asked for " + size + " B while holding " + bytesHeld + " B in "
                + (live.size() + cachedBlocks) + " blocks (" + live.size() + " live, " + cachedBlocks + " cached)");
    }

    /**
     * Returns {@code block} to its free list. After {@link #close()} this does nothing (the
     * memory went back to the driver with everything else).
     *
     * @throws IllegalStateException when the block was already released
     */
    synchronized void release(DeviceBlock block) {
        if (closed) {
            return;
        }
        if (!block.live || live.get(block.address()) != block) {
            throw new IllegalStateException("release: " + block + " was already released");
        }
        block.live = false;
        live.remove(block.address());
        bytesInUse -= block.capacity();
        free.computeIfAbsent(block.capacity(), k -> new ArrayDeque<>()).push(block.address());
        cachedBlocks++;
    }

    /** Gives every cached block back to the driver; live blocks stay. */
    synchronized void trim() {
        RuntimeException first = null;
        for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
            for (long address : e.getValue()) {
                first = rawFree(address, e.getKey(), first);
            }
            cachedBlocks -= e.getValue().size();
            e.getValue().clear();
        }
        free.clear();
        if (first != null) {
            throw first;
        }
    }

    private RuntimeException rawFree(long address, long size, RuntimeException first) {
        try {
            raw.free(address);
        } catch (RuntimeException ex) {
            // Keep freeing the rest; the first failure is thrown once all were tried.
            if (first == null) {
                return ex;
            }
            first.addSuppressed(ex);
            return first;
        } finally {
            rawFrees++;
            bytesHeld -= size;
        }
        return first;
    }

    synchronized Stats stats() {
        return new Stats(rawAllocations, rawFrees, bytesHeld, bytesInUse, live.size(), cachedBlocks);
    }

    /** The live blocks, one line each, oldest first; empty when none. */
    synchronized List<String> liveBlocks() {
        List<String> out = new ArrayList<>();
        for (DeviceBlock b : live.values()) {
            out.add(b.toString());
        }
        return out;
    }

    /**
     * The leak report: the live blocks with their allocation sites when recorded, or null when
     * none is live.
     */
    synchronized String leakReport() {
        if (live.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        long bytes = 0;
        for (DeviceBlock b : live.values()) {
            bytes += b.bytes();
        }
        sb.append("CUDA memory leak: ").append(live.size()).append(live.size() == 1 ? " block" : " blocks")
                .append(" (").append(bytes).append(" B) still live when the allocator closed:");
        for (DeviceBlock b : live.values()) {
            sb.append("\n  ").append(b);
            if (b.allocatedAt() != null) {
                int shown = 0;
                for (StackTraceElement f : b.allocatedAt().getStackTrace()) {
                    if (f.getClassName().equals(CachingAllocator.class.getName())) {
                        continue;
                    }
                    sb.append("\n      at ").append(f);
                    if (++shown == 12) {
                        sb.append("\n      ...");
                        break;
                    }
                }
            }
        }
        if (!recordSites) {
            sb.append("\n  (run with -D").append(DEBUG_PROPERTY).append("=true to see where each was allocated)");
        }
        return sb.toString();
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Reports leaks, then gives every block, cached and live, back to the driver. Idempotent.
     * The caller has finished all device work that uses these blocks.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        String report = leakReport();
        if (report != null) {
            reporter.accept(report);
        }
        RuntimeException first = null;
        try {
            trim();
        } catch (RuntimeException e) {
            first = e;
        }
        for (DeviceBlock b : live.values()) {
            b.live = false;
            first = rawFree(b.address(), b.capacity(), first);
        }
        bytesInUse = 0;
        live.clear();
        closed = true;
        if (first != null) {
            throw first;
        }
    }

    @Override
    public synchronized String toString() {
        Stats s = stats();
        return "CachingAllocator[held " + s.bytesHeld() + " B, in use " + s.bytesInUse() + " B, " + s.liveBlocks()
                + " live, " + s.cachedBlocks() + " cached, " + s.rawAllocations() + " raw allocations"
                + (closed ? ", closed" : "") + "]";
    }
}
