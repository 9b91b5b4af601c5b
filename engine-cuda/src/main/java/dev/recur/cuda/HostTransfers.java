package dev.recur.cuda;

import jcuda.Pointer;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

/**
 * Copies between Java arrays and device memory, in the order of one stream, through
 * {@value #SLOTS} page-locked ("pinned") host buffers.
 *
 * <p>Why staging: an asynchronous copy needs page-locked host memory, and a Java array is not
 * (the garbage collector may move it). So each copy goes array → pinned slot → device (or back)
 * in chunks of {@link #SLOT_BYTES}. An event per slot says when its last copy has finished and
 * it may be reused. Uploads take the slots in turn across calls, so that a slot is reused only
 * {@value #SLOTS} chunks later: the small uploads of one training step (a batch's ids and
 * targets, each layer's packing plan) then find their slot free instead of waiting for a copy
 * queued behind the step before (with two slots taken from the first for every call, the second
 * upload of a step waited for the whole queue to drain, and the host could not run ahead).
 * Downloads alternate between the first two slots, so that draining one overlaps the DMA of
 * the other.
 *
 * <p>Ordering: an upload is enqueued on the stream after all work already there and returns as
 * soon as the last chunk is in a slot (the caller may reuse its array at once); work enqueued
 * later on the stream sees the data. A download waits for all earlier work on the stream, so it
 * returns the values that work produced. Thread-safe: one transfer at a time.
 */
final class HostTransfers implements AutoCloseable {

    /** Bytes per pinned slot: big enough that per-chunk overheads vanish, small enough to pin cheaply. */
    static final int SLOT_BYTES = 4 << 20;
    /** Pinned slots: 16 MiB of page-locked host memory in all. */
    static final int SLOTS = 4;
    private static final int CU_MEMHOSTALLOC_PORTABLE = 1;

    private final CudaContext context;
    private final CudaStream stream;
    private final Slot[] slots = new Slot[SLOTS];
    private int nextUpload; // the slot the next upload chunk takes
    private boolean closed;

    HostTransfers(CudaContext context, CudaStream stream) {
        this.context = context;
        this.stream = stream;
        try {
            for (int i = 0; i < slots.length; i++) {
                slots[i] = new Slot(i);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Copies {@code count} floats from {@code src} to the device at {@code dst}. */
    synchronized void upload(float[] src, long dst, int count) {
        upload(dst, (long) count * 4, (seg, first, n) -> MemorySegment.copy(src, first, seg, JAVA_FLOAT, 0, n));
    }

    /** Copies {@code count} ints from {@code src} to the device at {@code dst}. */
    synchronized void upload(int[] src, long dst, int count) {
        upload(dst, (long) count * 4, (seg, first, n) -> MemorySegment.copy(src, first, seg, JAVA_INT, 0, n));
    }

    /** Copies {@code count} floats from the device at {@code src} into {@code dst}, after all earlier work on the stream. */
    synchronized void download(long src, float[] dst, int count) {
        download(src, (long) count * 4, (seg, first, n) -> MemorySegment.copy(seg, JAVA_FLOAT, 0, dst, first, n));
    }

    /** Copies {@code count} ints from the device at {@code src} into {@code dst}, after all earlier work on the stream. */
    synchronized void download(long src, int[] dst, int count) {
        download(src, (long) count * 4, (seg, first, n) -> MemorySegment.copy(seg, JAVA_INT, 0, dst, first, n));
    }

    /**
     * Moves {@code count} 4-byte elements between a host array, from element {@code first} on,
     * and the start of a slot. Elements, not bytes, so that offsets into arrays of up to 2^31 - 1
     * elements fit an int.
     */
    @FunctionalInterface
    private interface HostCopy {
        void copy(MemorySegment slot, int first, int count);
    }

    private void upload(long dst, long total, HostCopy fill) {
        begin();
        for (long off = 0; off < total; off += SLOT_BYTES) {
            int n = (int) Math.min(SLOT_BYTES, total - off);
            Slot s = slots[nextUpload];
            nextUpload = (nextUpload + 1) % SLOTS;
            s.done.synchronize(); // its previous copy has left the slot
            fill.copy(s.segment, (int) (off / 4), n / 4);
            CudaDriver.check(cuMemcpyHtoDAsync(DevicePointer.at(dst + off), s.pointer, n, stream.handle()),
                    "cuMemcpyHtoDAsync(" + n + " B)");
            s.done.record(stream);
        }
    }

    private void download(long src, long total, HostCopy drain) {
        begin();
        int chunks = (int) ((total + SLOT_BYTES - 1) / SLOT_BYTES);
        // Keep one chunk in flight ahead of the one being drained.
        enqueueDownload(src, total, 0);
        for (int chunk = 0; chunk < chunks; chunk++) {
            if (chunk + 1 < chunks) {
                enqueueDownload(src, total, chunk + 1);
            }
            Slot s = slots[chunk % 2];
            s.done.synchronize();
            long off = (long) chunk * SLOT_BYTES;
            drain.copy(s.segment, (int) (off / 4), (int) Math.min(SLOT_BYTES, total - off) / 4);
        }
    }

    private void enqueueDownload(long src, long total, int chunk) {
        long off = (long) chunk * SLOT_BYTES;
        int n = (int) Math.min(SLOT_BYTES, total - off);
        Slot s = slots[chunk % 2];
        // The slot's last use was drained already (downloads) or must have left it (an earlier upload).
        s.done.synchronize();
        CudaDriver.check(cuMemcpyDtoHAsync(s.pointer, DevicePointer.at(src + off), n, stream.handle()),
                "cuMemcpyDtoHAsync(" + n + " B)");
        s.done.record(stream);
    }

    private void begin() {
        if (closed) {
            throw new IllegalStateException("host transfers are closed");
        }
        context.makeCurrent();
    }

    /** Waits for copies in flight, then frees the pinned buffers. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (Slot s : slots) {
            if (s == null) {
                continue;
            }
            try {
                s.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** One pinned buffer and the event of its last copy. */
    private static final class Slot implements AutoCloseable {
        final HostPointer pointer = new HostPointer();
        final MemorySegment segment;
        final CudaStream.Event done;

        @SuppressWarnings("restricted") // a view of the pinned memory the driver just gave us, of its exact size
        Slot(int index) {
            CudaDriver.check(cuMemHostAlloc(pointer, SLOT_BYTES, CU_MEMHOSTALLOC_PORTABLE),
                    "cuMemHostAlloc(" + SLOT_BYTES + " B, slot " + index + ")");
            segment = MemorySegment.ofAddress(pointer.address()).reinterpret(SLOT_BYTES);
            CudaStream.Event e;
            try {
                e = new CudaStream.Event();
            } catch (RuntimeException ex) {
                cuMemFreeHost(pointer);
                throw ex;
            }
            done = e;
        }

        @Override
        public void close() {
            try {
                done.synchronize();
            } finally {
                done.close();
                CudaDriver.check(cuMemFreeHost(pointer), "cuMemFreeHost");
            }
        }
    }

    /** A JCuda host pointer whose address is readable (JCuda keeps it in protected fields, as for {@link DevicePointer}). */
    private static final class HostPointer extends Pointer {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}
