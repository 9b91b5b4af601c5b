package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The engines a GPU test class compares, and their lifecycle: a CPU engine with the given thread
 * count and, only where {@link CudaTestSupport#gpuPresent()}, a CUDA engine with the given options
 * (plus any {@link #alsoGpu further ones}), opened before the class's tests and closed after them;
 * before each test, {@link CudaTestSupport#assumeGpu()}, which without a GPU prints the reason and
 * skips the test. A test class registers one as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final CudaTestEngines engines = new CudaTestEngines(2, CudaOptions.defaults());
 * }</pre>
 */
final class CudaTestEngines implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AutoCloseable {

    private final int cpuThreads;
    private final CudaOptions gpuOptions;
    private final List<CudaBackend> extras = new ArrayList<>();
    private CpuBackend cpu;
    private CudaBackend gpu;

    CudaTestEngines(int cpuThreads, CudaOptions gpuOptions) {
        this.cpuThreads = cpuThreads;
        this.gpuOptions = gpuOptions;
    }

    /** The CPU engine (open between the class's first and last test). */
    CpuBackend cpu() {
        return cpu;
    }

    /** The CUDA engine; null without a GPU (where every test is skipped before it runs). */
    CudaBackend gpu() {
        return gpu;
    }

    /**
     * A further CUDA engine with {@code options}, closed with the others; null without a GPU. Call
     * it from the class's {@code @BeforeAll}, after this one has opened.
     */
    CudaBackend alsoGpu(CudaOptions options) {
        if (!CudaTestSupport.gpuPresent()) {
            return null;
        }
        CudaBackend b = new CudaBackend(options);
        extras.add(b);
        return b;
    }

    /** Runs {@code op} on the CPU engine, then on the GPU. */
    void both(Consumer<Backend> op) {
        op.accept(cpu);
        op.accept(gpu);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cpu = new CpuBackend(cpuThreads);
        if (CudaTestSupport.gpuPresent()) {
            gpu = new CudaBackend(gpuOptions);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        CudaTestSupport.assumeGpu();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    /** Closes the CPU engine, then the CUDA engine, then the further ones in the order they were made. */
    @Override
    public void close() {
        if (cpu != null) {
            cpu.close();
            cpu = null;
        }
        if (gpu != null) {
            gpu.close();
            gpu = null;
        }
        for (CudaBackend b : extras) {
            b.close();
        }
        extras.clear();
    }
}
