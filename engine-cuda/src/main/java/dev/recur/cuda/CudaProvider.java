package dev.recur.cuda;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendProvider;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * Registers the CUDA engine (rank 10, ahead of the CPU's 100). The probe says why not, checking
 * in this order and stopping at the first failure:
 * <ol>
 *   <li>the NVIDIA driver ({@code libcuda.so.1}) and JCuda's natives load;</li>
 *   <li>{@code cuInit} succeeds (its error name otherwise);</li>
 *   <li>there is a device, and the one asked for ({@code -Drecur.cuda.device}) exists;</li>
 *   <li>cuBLAS loads (with every place searched, otherwise);</li>
 *   <li>the compiled kernels are on the class path.</li>
 * </ol>
 * The constructor does nothing; the probe makes no context and allocates nothing.
 */
public final class CudaProvider implements BackendProvider {

    /** This engine's rank: lower than the CPU engine's 100, so {@code Backends.best()} prefers it. */
    public static final int RANK = 10;

    @Override
    public String name() {
        return CudaBackend.NAME;
    }

    @Override
    public int rank() {
        return RANK;
    }

    @Override
    public Availability probe() {
        try {
            return check();
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("probe failed: " + e);
        }
    }

    private static Availability check() {
        String noDriver = CudaDriver.unavailableReason();
        if (noDriver != null) {
            return Availability.no(noDriver);
        }
        int init = cuInit(0);
        if (init != 0) {
            String text = CudaDriver.errorString(init);
            return Availability.no("cuInit failed: " + CudaDriver.errorName(init) + (text == null ? "" : " (" + text + ")"));
        }
        int[] count = new int[1];
        int r = cuDeviceGetCount(count);
        if (r != 0) {
            return Availability.no("cuDeviceGetCount failed: " + CudaDriver.errorName(r));
        }
        if (count[0] == 0) {
            String visible = System.getenv("CUDA_VISIBLE_DEVICES");
            return Availability.no("no CUDA device: the driver found none"
                    + (visible == null ? "" : " (CUDA_VISIBLE_DEVICES=" + visible + ")"));
        }
        int ordinal;
        try {
            ordinal = CudaOptions.deviceFromProperty();
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
        if (ordinal >= count[0]) {
            return Availability.no(CudaOptions.DEVICE_PROPERTY + " = " + ordinal + ", but the driver sees "
                    + count[0] + " device" + (count[0] == 1 ? "" : "s") + " (0 to " + (count[0] - 1) + ")");
        }
        DeviceInfo device = DeviceInfo.query(ordinal);
        Cublas.Library cublas;
        try {
            cublas = Cublas.library(device.driverVersion());
        } catch (IllegalStateException e) {
            return Availability.no(e.getMessage());
        }
        String noKernels = CudaKernels.missingReason();
        if (noKernels != null) {
            return Availability.no(noKernels);
        }
        return Availability.yes(device.describe() + ", " + cublas.describe());
    }

    @Override
    public Backend create() {
        return new CudaBackend(CudaOptions.fromSystemProperties());
    }
}
