package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping, on {@link FakeDeviceMemory}: no GPU needed. */
class CachingAllocatorTest {

    private static final long MIB = 1L << 20;

    private final List<String> reports = new ArrayList<>();

    private CachingAllocator allocator(FakeDeviceMemory raw, boolean sites) {
        return new CachingAllocator(raw, sites, reports::add);
    }

    @Test
    void smallRequestsRoundUpTo512Bytes() {
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(512, CachingAllocator.sizeClass(512));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        assertEquals(4096, CachingAllocator.sizeClass(4000));
        assertEquals(MIB, CachingAllocator.sizeClass(MIB));
        assertEquals(MIB, CachingAllocator.sizeClass(MIB - 511));
    }

    @Test
    void bigRequestsRoundUpToAnEighthOfTheirPowerOfTwo() {
        assertEquals(MIB + MIB / 8, CachingAllocator.sizeClass(MIB + 1));
        assertEquals(2 * MIB, CachingAllocator.sizeClass(2 * MIB - 1));
        assertEquals(2 * MIB, CachingAllocator.sizeClass(2 * MIB));
        assertEquals(3 * MIB + MIB / 4, CachingAllocator.sizeClass(3 * MIB + 1));
        assertEquals(1L << 33, CachingAllocator.sizeClass((1L << 33) - 5));
        for (long bytes = 1; bytes < (1L << 34); bytes = bytes * 3 + 7) {
            long c = CachingAllocator.sizeClass(bytes);
            assertTrue(c >= bytes, bytes + " -> " + c);
            assertEquals(0, c % 512, bytes + " -> " + c + " is not a multiple of 512");
            if (bytes > MIB) {
                assertTrue(c - bytes <= bytes / 8, bytes + " -> " + c + " wastes more than 12.5%");
            }
        }
    }

    @Test
    void aSizeBelowOneByteIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CachingAllocator.sizeClass(0));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    @Test
    void aReleasedBlockIsReusedForTheSameSizeClass() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        DeviceBlock first = a.allocate(1000, "x");
        assertEquals(1024, first.capacity());
        assertEquals(1000, first.bytes());
        a.release(first);
        DeviceBlock second = a.allocate(900, "y");
        assertEquals(first.address(), second.address(), "same class (1024 B), so the cached block");
        assertEquals(1, raw.allocations);
        DeviceBlock other = a.allocate(2000, "z");
        assertNotEquals(first.address(), other.address());
        assertEquals(2, raw.allocations, "class 2048 B has no cached block");
        a.close();
    }

    @Test
    void freeListsAreLastInFirstOut() {
        CachingAllocator a = allocator(new FakeDeviceMemory(), false);
        DeviceBlock b1 = a.allocate(100, "1");
        DeviceBlock b2 = a.allocate(100, "2");
        a.release(b1);
        a.release(b2);
        assertEquals(b2.address(), a.allocate(100, "3").address());
        assertEquals(b1.address(), a.allocate(100, "4").address());
        a.close();
    }

    @Test
    void aRepeatedPatternMakesNoRawAllocationAfterTheFirstRound() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        // Something like a training step: activations, gates, gradients, a last odd size.
        long[] sizes = {64 * 512 * 4, 100 * 64 * 2048 * 4L, 4 * 512 * 4, 7, 3 * MIB + 5, 64 * 512 * 4};
        CachingAllocator.Stats afterFirst = null;
        for (int step = 0; step < 10; step++) {
            List<DeviceBlock> blocks = new ArrayList<>();
            for (long s : sizes) {
                blocks.add(a.allocate(s, "step " + step));
            }
            CachingAllocator.Stats during = a.stats();
            assertEquals(sizes.length, during.liveBlocks());
            for (DeviceBlock b : blocks) {
                a.release(b);
            }
            CachingAllocator.Stats s = a.stats();
            assertEquals(0, s.liveBlocks());
            assertEquals(0, s.bytesInUse());
            if (afterFirst == null) {
                afterFirst = s;
                assertEquals(sizes.length, s.rawAllocations());
            } else {
                assertEquals(afterFirst, s, "step " + step + " reached the driver");
            }
        }
        assertEquals(sizes.length, raw.allocations);
        assertEquals(0, raw.frees);
        a.close();
    }

    @Test
    void statsCountLiveCachedAndHeldBytes() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        DeviceBlock x = a.allocate(1000, "x"); // 1024
        DeviceBlock y = a.allocate(5000, "y"); // 5120
        assertEquals(new CachingAllocator.Stats(2, 0, 6144, 6144, 2, 0), a.stats());
        a.release(x);
        assertEquals(new CachingAllocator.Stats(2, 0, 6144, 5120, 1, 1), a.stats());
        a.trim();
        assertEquals(new CachingAllocator.Stats(2, 1, 5120, 5120, 1, 0), a.stats());
        assertEquals(1, raw.liveCount(), "trim keeps live blocks");
        a.release(y);
        a.close();
        assertEquals(0, raw.liveCount());
    }

    @Test
    void releasingTwiceIsAnError() {
        CachingAllocator a = allocator(new FakeDeviceMemory(), false);
        DeviceBlock b = a.allocate(64, "tensor [16]");
        a.release(b);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.release(b));
        assertTrue(e.getMessage().contains("already released"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor [16]"), e.getMessage());
        // Even when its address was handed out again, the old block object stays released.
        DeviceBlock again = a.allocate(64, "tensor [16] again");
        assertEquals(b.address(), again.address());
        assertThrows(IllegalStateException.class, () -> a.release(b));
        a.release(again);
        a.close();
    }

    @Test
    void whenTheDeviceIsFullTheCacheIsGivenBackAndTheRequestRetried() {
        FakeDeviceMemory raw = new FakeDeviceMemory(8 * 1024);
        CachingAllocator a = allocator(raw, false);
        DeviceBlock small = a.allocate(4096, "a");
        a.release(small); // cached: the fake device holds 4096 of its 8192 bytes for us
        DeviceBlock big = a.allocate(6000, "b"); // class 6144: fits only once the cache is freed
        assertEquals(1, raw.frees);
        assertEquals(0, a.stats().cachedBlocks());
        assertEquals(6144, a.stats().bytesHeld());
        CudaException e = assertThrows(CudaException.class, () -> a.allocate(4096, "c"));
        assertTrue(e.outOfMemory());
        assertTrue(e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
        assertTrue(e.getMessage().contains("asked for 4096 B while holding 6144 B"), e.getMessage());
        a.release(big);
        a.close();
    }

    @Test
    void closeReportsLiveBlocksAndFreesEverything() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        DeviceBlock kept = a.allocate(2048, "tensor [512]");
        a.allocate(100, "index tensor [25]");
        a.release(a.allocate(4096, "scratch"));
        List<String> live = a.liveBlocks();
        assertEquals(2, live.size(), live.toString());
        assertEquals("tensor [512]: 2048 B (class 2048 B) at 0x" + Long.toHexString(kept.address()), live.get(0));
        assertTrue(live.get(1).startsWith("index tensor [25]: 100 B (class 512 B)"), live.get(1));
        a.close();
        assertEquals(1, reports.size());
        String r = reports.get(0);
        assertTrue(r.startsWith("CUDA memory leak: 2 blocks (2148 B)"), r);
        assertTrue(r.contains("tensor [512]: 2048 B"), r);
        assertTrue(r.contains("index tensor [25]: 100 B (class 512 B)"), r);
        assertTrue(r.contains("-D" + CachingAllocator.DEBUG_PROPERTY + "=true"), r);
        assertFalse(r.contains("scratch"), "a released block is no leak: " + r);
        assertEquals(0, raw.liveCount(), "live and cached blocks all freed");
        assertEquals(3, raw.frees);
        assertTrue(a.isClosed());
    }

    @Test
    void withSitesRecordedTheReportSaysWhereEachLeakWasAllocated() {
        CachingAllocator a = allocator(new FakeDeviceMemory(), true);
        a.allocate(16, "leaky");
        a.close();
        String r = reports.get(0);
        assertTrue(r.contains("at " + CachingAllocatorTest.class.getName()
                + ".withSitesRecordedTheReportSaysWhereEachLeakWasAllocated"), r);
        assertFalse(r.contains("at " + CachingAllocator.class.getName() + "."), "allocator frames are left out: " + r);
        assertFalse(r.contains("-D" + CachingAllocator.DEBUG_PROPERTY), r);
    }

    @Test
    void noLeakNoReport() {
        CachingAllocator a = allocator(new FakeDeviceMemory(), false);
        a.release(a.allocate(10, "x"));
        assertNull(a.leakReport());
        a.close();
        assertTrue(reports.isEmpty());
    }

    @Test
    void closingTwiceIsHarmlessAndLaterReleasesAreIgnored() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        DeviceBlock b = a.allocate(10, "x");
        a.close();
        a.close();
        assertEquals(1, raw.frees, "freed once; the fake throws on a second free");
        assertEquals(1, reports.size());
        a.release(b); // the tensor closed after the backend: nothing to do
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.allocate(10, "late"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void aFailedFreeDoesNotStopTheOthers() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator a = allocator(raw, false);
        DeviceBlock x = a.allocate(10, "x");
        DeviceBlock y = a.allocate(10, "y");
        a.release(x);
        a.release(y);
        raw.failFreeOf = x.address();
        CudaException e = assertThrows(CudaException.class, a::close);
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", e.status());
        assertEquals(0, raw.liveCount(), "both were given back");
        assertTrue(a.isClosed());
        a.close();
    }
}
