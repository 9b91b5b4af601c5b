package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The long ↔ JCuda pointer conversion, which loads no native code and so runs anywhere. */
class DevicePointerTest {

    @Test
    void anAddressSurvivesTheRoundTrip() {
        for (long address : new long[] {0, 256, 0x7f12_3456_7800L, 0x0000_7fff_ffff_ff00L, Long.MAX_VALUE}) {
            assertEquals(address, ((DevicePointer) DevicePointer.at(address)).address(), Long.toHexString(address));
        }
    }

    @Test
    void aFreshPointerIsNullAndAnOffsetAddsBytes() {
        assertEquals(0, new DevicePointer().address());
        // JCuda passes nativePointer + byteOffset to the driver; ours keeps the address in byteOffset.
        DevicePointer base = (DevicePointer) DevicePointer.at(0x1000);
        assertEquals("CUdeviceptr[nativePointer=0x0,byteOffset=4112]", base.withByteOffset(16).toString());
    }
}
