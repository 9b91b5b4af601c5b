package dev.recur.cuda;

/**
 * Raw device memory: what {@link CachingAllocator} asks for when its cache has no block of the
 * right size. The driver's {@code cuMemAlloc}/{@code cuMemFree} in the engine
 * ({@link DriverDeviceMemory}); a fake in the allocator's tests, which run without a GPU.
 */
interface DeviceMemory {

    /**
     * A new block of at least {@code bytes} bytes, aligned to 256 bytes.
     *
     * @return its device address
     * @throws CudaException with {@link CudaException#outOfMemory()} when the device is full
     */
    long allocate(long bytes);

    /** Returns a block made by {@link #allocate} to the device. */
    void free(long address);
}
