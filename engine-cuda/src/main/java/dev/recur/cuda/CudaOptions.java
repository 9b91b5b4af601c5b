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
 * @param graphs                run the time loops of the layer ops as CUDA graphs, captured once per
 *                              workspace, plan and set of device addresses and replayed after that
 *                              (see {@link CudaLayer}): {@code -Drecur.cuda.graphs}, default true;
 *                              false runs every step from the host ("stepwise"). Which path each
 *                              call took is reported by {@link CudaBackend#layerPaths()}.
 */
public record CudaOptions(int device, boolean tf32, boolean recordAllocationSites, boolean graphs) {

    /** System property: the device number. */
    public static final String DEVICE_PROPERTY = "recur.cuda.device";
    /** System property: allow TF32 in cuBLAS. */
    public static final String TF32_PROPERTY = "recur.cuda.tf32";
    /** System property: CUDA graphs for the layers' time loops ({@code false} turns them off). */
    public static final String GRAPHS_PROPERTY = "recur.cuda.graphs";

    public CudaOptions {
        if (device < 0) {
            throw new IllegalArgumentException("device must be >= 0, got " + device);
        }
    }

    /** Settings with CUDA graphs on (the default). */
    public CudaOptions(int device, boolean tf32, boolean recordAllocationSites) {
        this(device, tf32, recordAllocationSites, true);
    }

    /** The defaults: device 0, full float32, no allocation sites, CUDA graphs on. */
    public static CudaOptions defaults() {
        return new CudaOptions(0, false, false, true);
    }

    /** These settings with CUDA graphs on or off. */
    public CudaOptions withGraphs(boolean on) {
        return new CudaOptions(device, tf32, recordAllocationSites, on);
    }

    /**
     * The settings from the system properties named above.
     *
     * @throws IllegalArgumentException naming the property when a value is malformed
     */
    public static CudaOptions fromSystemProperties() {
        return new CudaOptions(deviceFromProperty(), flag(TF32_PROPERTY, false),
                flag(CachingAllocator.DEBUG_PROPERTY, false), flag(GRAPHS_PROPERTY, true));
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

    private static boolean flag(String property, boolean unset) {
        String p = System.getProperty(property);
        if (p == null || p.isBlank()) {
            return unset;
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
