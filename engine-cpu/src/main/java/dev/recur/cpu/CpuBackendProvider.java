package dev.recur.cpu;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendProvider;

/** Registers the CPU engine (rank 100: used when no GPU engine is available). */
public final class CpuBackendProvider implements BackendProvider {

    /**
     * The reason given when the Vector API cannot be loaded. It is an incubator module in JDK 25,
     * so a JVM resolves it only when started with {@code --add-modules jdk.incubator.vector}.
     */
    static final String NO_VECTOR_API = "the JVM was started without --add-modules jdk.incubator.vector"
            + " (the CPU engine's SIMD kernels need the Vector API)";

    @Override
    public String name() {
        return CpuBackend.NAME;
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Availability probe() {
        if (!vectorApiLoads()) {
            return Availability.no(NO_VECTOR_API);
        }
        try {
            int threads = CpuBackend.defaultThreads();
            return Availability.yes("pure Java, " + threads + " thread" + (threads == 1 ? "" : "s") + ", "
                    + System.getProperty("os.arch"));
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
    }

    /**
     * Whether this class's loader sees the Vector API. Without the module, the kernels
     * ({@link Sgemm}, {@link GateMath}) would fail with NoClassDefFoundError on first use, after
     * the engine had been chosen; loading one class here (without initializing it) says so first.
     */
    static boolean vectorApiLoads() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, CpuBackendProvider.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override
    public Backend create() {
        return new CpuBackend(CpuBackend.defaultThreads());
    }
}
