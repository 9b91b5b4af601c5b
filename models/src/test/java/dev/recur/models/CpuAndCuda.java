package dev.recur.models;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import org.junit.jupiter.api.Assumptions;

/**
 * The engines of tests that compare the GPU with the CPU: the "cpu" engine, and the "cuda" engine
 * where one is usable, found at run time as every model finds them ({@link Backends}); otherwise
 * the probe's reason, which {@link #assumeCuda()} prints when it skips a test. Open in
 * {@code @BeforeAll}, close in {@code @AfterAll}.
 */
public final class CpuAndCuda implements AutoCloseable {

    private final Backend cpu;
    private final Backend cuda; // null when unavailable
    private final String whyNoCuda;

    private CpuAndCuda(Backend cpu, Backend cuda, String whyNoCuda) {
        this.cpu = cpu;
        this.cuda = cuda;
        this.whyNoCuda = whyNoCuda;
    }

    public static CpuAndCuda open() {
        Backend cpu = Backends.named("cpu");
        String why = "no engine named cuda on the class path";
        for (Backends.Found f : Backends.discover()) {
            if (f.name().equals("cuda")) {
                if (f.availability().available()) {
                    return new CpuAndCuda(cpu, f.provider().create(), null);
                }
                why = f.availability().reason();
            }
        }
        return new CpuAndCuda(cpu, null, why);
    }

    public Backend cpu() {
        return cpu;
    }

    /** The CUDA engine; call {@link #assumeCuda()} first. */
    public Backend cuda() {
        return cuda;
    }

    /** Skips the calling test, printing why, when there is no usable CUDA engine. */
    public void assumeCuda() {
        if (cuda == null) {
            System.out.println("CUDA test skipped (models): " + whyNoCuda);
            Assumptions.abort("CUDA engine unavailable: " + whyNoCuda);
        }
    }

    @Override
    public void close() {
        cpu.close();
        if (cuda != null) {
            cuda.close();
        }
    }
}
