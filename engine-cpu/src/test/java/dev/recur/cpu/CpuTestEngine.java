package dev.recur.cpu;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The CPU engine of a test class, with 2 worker threads (the sliced paths and the hand-overs
 * between threads run, on any machine), opened before the class's tests and closed after them.
 * A test class registers one as a static field and calls {@link #get()} in its tests:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final CpuTestEngine engine = new CpuTestEngine();
 * }</pre>
 */
final class CpuTestEngine implements BeforeAllCallback, AfterAllCallback {

    private CpuBackend backend;

    /** The engine, open between the class's first and last test. */
    CpuBackend get() {
        return backend;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        backend = new CpuBackend(2);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }
}
