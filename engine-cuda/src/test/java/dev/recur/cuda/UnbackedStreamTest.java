package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link CudaStream#unbacked}: stream objects for host tests, without a driver. */
class UnbackedStreamTest {

    @Test
    void anUnbackedStreamHasItsOwnHandleAndRefusesDriverWork() {
        CudaStream a = CudaStream.unbacked("a");
        CudaStream b = CudaStream.unbacked("b");
        assertEquals("a", a.name());
        assertSame(a.handle(), a.handle(), "one handle object per stream, so a simulated device can tell them apart");
        assertNotSame(a.handle(), b.handle());
        assertEquals(0, a.address(), "no driver stream behind it");
        IllegalStateException sync = assertThrows(IllegalStateException.class, a::synchronize);
        assertEquals("synchronize: stream a has no driver stream (unbacked)", sync.getMessage());
        a.close();
        a.close();
        assertThrows(IllegalStateException.class, a::handle, "closed");
        assertTrue(a.toString().contains("closed"), a.toString());
    }
}
