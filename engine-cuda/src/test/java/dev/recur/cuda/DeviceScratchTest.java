package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ops' reusable scratch memory on {@link FakeDeviceMemory}: no GPU needed. */
class DeviceScratchTest {

    private final List<String> reports = new ArrayList<>();

    @Test
    void growsOnlyWhenAskedForMoreAndReusesOtherwise() {
        FakeDeviceMemory raw = new FakeDeviceMemory();
        CachingAllocator allocator = new CachingAllocator(raw, false, reports::add);
        DeviceScratch s = new DeviceScratch(allocator, "test partials");
        assertEquals(0, s.capacity(), "nothing before the first call");
        long first = s.reserve(2048);
        assertEquals(1, raw.allocations);
        assertEquals(first, s.reserve(100), "a smaller request reuses the block");
        assertEquals(first, s.reserve(2048));
        assertEquals(1, raw.allocations, "the same sizes again reach no driver");
        long bigger = s.reserve(10_000);
        assertEquals(2, raw.allocations);
        assertEquals(1, allocator.stats().liveBlocks(), "the old block went back when it grew");
        assertEquals(1, allocator.stats().cachedBlocks());
        assertEquals(bigger, s.reserve(3000));
        assertTrue(s.capacity() >= 10_000);
        s.close();
        s.close();
        assertEquals(0, allocator.stats().liveBlocks(), "closing gave the block back");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.reserve(1));
        assertTrue(e.getMessage().startsWith("test partials: "), e.getMessage());
        allocator.close();
        assertNull(allocator.leakReport());
        assertTrue(reports.isEmpty(), "no leak reported: " + reports);
    }

    @Test
    void aScratchLeftOpenIsReportedAsALeakAndCloseAfterTheAllocatorIsHarmless() {
        CachingAllocator allocator = new CachingAllocator(new FakeDeviceMemory(), false, reports::add);
        DeviceScratch s = new DeviceScratch(allocator, "embeddingBackward sort");
        s.reserve(4096);
        allocator.close();
        assertEquals(1, reports.size());
        assertTrue(reports.get(0).contains("embeddingBackward sort"), reports.get(0));
        s.close(); // the allocator freed everything already; giving the block back does nothing
    }

    @Test
    void aSizeBelowOneByteIsRefused() {
        DeviceScratch s = new DeviceScratch(new CachingAllocator(new FakeDeviceMemory(), false, reports::add), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.reserve(0));
        assertEquals("x: scratch size must be >= 1 byte, got 0", e.getMessage());
    }
}
