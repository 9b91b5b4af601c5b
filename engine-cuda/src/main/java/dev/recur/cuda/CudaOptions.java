package dev.recur.cuda;

/**
 * Settings of a {@link CudaBackend}, fixed when it is made.
 *
 * @param device                the device number (after {@code CUDA_VISIBLE_DEVICES}):
 *                              {@code -Drecur.cuda.device}, default 0
 * @param tf32                  let cuBLAS use TF32 tensor cores for float32 GEMMs (faster, about
 *                              10 mantissa bits per product): {@code -Drecur.cuda.tf32=true};
 *                              default false, full float32
 * @param recordAllocationSites record where each device block is allocated, for the leak report
 *                              on close: {@code -Drecur.cuda.debugAllocations=true}; default false
 */
public record CudaOptions(int device, boolean tf32, boolean recordAllocationSites) {

    /** System property: the device number. */
    public static final String DEVICE_PROPERTY = "recur.cuda.device";
    /** System property: allow TF32 in cuBLAS. */
    public static final String TF32_PROPERTY = "recur.cuda.tf32";

    public CudaOptions {
        if (device < 0) {
            throw new IllegalArgumentException("device must be >= 0, got " + device);
        }
    }

    /** The defaults: device 0, full float32, no allocation sites. */
    public static CudaOptions defaults() {
        return new CudaOptions(0, false, false);
    }

    /**
     * The settings from the system properties named above.
     *
     * @throws IllegalArgumentException naming the property when a value is malformed
     */
    public static CudaOptions fromSystemProperties() {
        return new CudaOptions(deviceFromProperty(), flag(TF32_PROPERTY), flag(CachingAllocator.DEBUG_PROPERTY));
    }

    static int deviceFromProperty() {
        String p = System.getProperty(DEVICE_PROPERTY);
        if (p == null || p.isBlank()) {
            return 0;
        }
        try {
            int d = Integer.parseInt(p.trim());
            if (d >= 0) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // the message below says what is wrong
        }
        throw new IllegalArgumentException(DEVICE_PROPERTY + " must be a device number >= 0, got '" + p + "'");
    }

    private static boolean flag(String property) {
        String p = System.getProperty(property);
        if (p == null || p.isBlank()) {
            return false;
        }
        String v = p.trim();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(property + " must be true or false, got '" + p + "'");
    }
}
