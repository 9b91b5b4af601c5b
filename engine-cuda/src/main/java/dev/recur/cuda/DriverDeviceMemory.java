package dev.recur.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

/** {@link DeviceMemory} from the driver: {@code cuMemAlloc} and {@code cuMemFree} in one context. */
final class DriverDeviceMemory implements DeviceMemory {

    private final CudaContext context;

    DriverDeviceMemory(CudaContext context) {
        this.context = context;
    }

    @Override
    public long allocate(long bytes) {
        context.makeCurrent();
        DevicePointer p = new DevicePointer();
        CudaDriver.check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " B)");
        return p.address();
    }

    @Override
    public void free(long address) {
        context.makeCurrent();
        CudaDriver.check(cuMemFree(DevicePointer.at(address)), "cuMemFree(0x" + Long.toHexString(address) + ")");
    }
}
