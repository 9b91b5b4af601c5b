package dev.recur.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The cuBLAS binding, through {@code java.lang.foreign} (not JCublas, whose natives are tied to
 * one cuBLAS major by versioned symbols). This class alone calls into cuBLAS.
 *
 * <p>{@link Library} is the loaded library, found by {@link CublasLocator} and bound once per
 * process ({@link #library}). A {@code Cublas} object is one cuBLAS handle tied to one stream
 * and one workspace for its whole life.
 *
 * <h2>Determinism</h2>
 * cuBLAS promises bitwise-identical results from run to run for one toolkit version on GPUs of
 * the same architecture and SM count, but only while a single stream is active: with several
 * streams sharing a handle's default workspace pool, it may pick different internal
 * implementations. The documented remedies include giving each stream its own workspace
 * ({@code cublasSetWorkspace}) or its own handle. Recur does both: one handle per stream, each
 * with its own workspace, set after {@code cublasSetStream} (which resets the workspace to the
 * default pool). Atomics stay disallowed ({@code CUBLAS_ATOMICS_NOT_ALLOWED}, the default, set
 * explicitly), and the math mode is {@code CUBLAS_DEFAULT_MATH}: full float32, no TF32, unless
 * TF32 is asked for. Results can still differ between cuBLAS versions and between GPU models.
 *
 * <h2>Scalars</h2>
 * alpha and beta are passed by host pointer ({@code CUBLAS_POINTER_MODE_HOST}, the default), from
 * one small native segment per handle that is rewritten before each call; cuBLAS reads them
 * before the call returns, and calls on one handle are serialised by this object's lock.
 */
@SuppressWarnings("restricted") // loading a library and binding its functions is this class's job
final class Cublas implements ColumnMajorSgemm, AutoCloseable {

    static final int CUBLAS_STATUS_SUCCESS = 0;
    static final int CUBLAS_DEFAULT_MATH = 0;
    static final int CUBLAS_TF32_TENSOR_OP_MATH = 3;
    static final int CUBLAS_ATOMICS_NOT_ALLOWED = 0;
    private static final int MAJOR_VERSION = 0;
    private static final int MINOR_VERSION = 1;
    private static final int PATCH_LEVEL = 2;

    /** The process's cuBLAS, once loaded; null before. */
    private static Library loaded;
    /** Why loading failed, once it has; then it is not tried again. */
    private static String loadFailure;

    private final Library lib;
    private final String streamName;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final boolean tf32;
    private boolean closed;

    /**
     * A handle whose work goes to {@code stream} and which uses the device buffer
     * {@code workspace} of {@code workspaceBytes} bytes as its scratch memory (256-byte aligned,
     * owned by the caller, valid until this handle is closed). The backend's context must be
     * current.
     *
     * @param tf32 allow TF32 tensor-core math ({@code CUBLAS_TF32_TENSOR_OP_MATH}); false keeps full float32
     */
    Cublas(Library lib, CudaStream stream, long workspace, long workspaceBytes, boolean tf32) {
        this.lib = lib;
        this.streamName = stream.name();
        this.tf32 = tf32;
        MemorySegment out = arena.allocate(ADDRESS);
        try {
            check(invoke(() -> (int) lib.create.invokeExact(out), "cublasCreate"), "cublasCreate");
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        this.handle = out.get(ADDRESS, 0);
        try {
            check(invoke(() -> (int) lib.setStream.invokeExact(handle, MemorySegment.ofAddress(stream.address())),
                    "cublasSetStream"), "cublasSetStream(" + streamName + ")");
            // After cublasSetStream, which resets the workspace to the shared default pool.
            check(invoke(() -> (int) lib.setWorkspace.invokeExact(handle, MemorySegment.ofAddress(workspace),
                    workspaceBytes), "cublasSetWorkspace"), "cublasSetWorkspace(" + workspaceBytes + " B)");
            int mode = tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
            check(invoke(() -> (int) lib.setMathMode.invokeExact(handle, mode), "cublasSetMathMode"),
                    "cublasSetMathMode(" + mode + ")");
            check(invoke(() -> (int) lib.setAtomicsMode.invokeExact(handle, CUBLAS_ATOMICS_NOT_ALLOWED),
                    "cublasSetAtomicsMode"), "cublasSetAtomicsMode(not allowed)");
        } catch (RuntimeException e) {
            invoke(() -> (int) lib.destroy.invokeExact(handle), "cublasDestroy");
            arena.close();
            throw e;
        }
        MemorySegment scalars = arena.allocate(JAVA_FLOAT, 2);
        this.alpha = scalars.asSlice(0, 4);
        this.beta = scalars.asSlice(4, 4);
    }

    // ---------------------------------------------------------------- loading

    /**
     * The process's cuBLAS, loaded on first call from the places {@link CublasLocator} lists (for
     * a driver of {@code driverVersion}); later calls return the same library, or fail with the
     * same reason.
     *
     * @throws IllegalStateException naming every place searched and every library that failed to load
     */
    static synchronized Library library(int driverVersion) {
        if (loaded != null) {
            return loaded;
        }
        if (loadFailure != null) {
            throw new IllegalStateException(loadFailure);
        }
        CublasLocator.Search search = CublasLocator.search(System.getenv(), driverVersion, Path.of("/"));
        List<String> failures = new ArrayList<>();
        for (CublasLocator.Candidate c : search.candidates()) {
            try {
                loaded = bind(c);
                return loaded;
            } catch (RuntimeException | LinkageError e) {
                failures.add(c.describe() + ": " + e.getMessage());
            }
        }
        loadFailure = notFound(search, failures, CublasLocator.majors(driverVersion));
        throw new IllegalStateException(loadFailure);
    }

    /** The message for a search that loaded nothing. */
    static String notFound(CublasLocator.Search search, List<String> failures, List<Integer> majors) {
        StringBuilder sb = new StringBuilder("cuBLAS not found: no ");
        for (int i = 0; i < majors.size(); i++) {
            sb.append(i == 0 ? "" : " or ").append("libcublas.so.").append(majors.get(i));
        }
        sb.append(" could be loaded; looked in ").append(String.join(", ", search.looked()));
        if (!failures.isEmpty()) {
            sb.append("; tried ").append(String.join("; ", failures));
        }
        sb.append(". Set ").append(CublasLocator.ENVIRONMENT).append(" to the library file to name it.");
        return sb.toString();
    }

    /** Loads one candidate and binds the functions Recur calls (package-private for CublasBindingTest). */
    static Library bind(CublasLocator.Candidate c) {
        Arena forever = Arena.global(); // the library stays loaded for the life of the process
        SymbolLookup lookup;
        if (c.file() == null) {
            lookup = SymbolLookup.libraryLookup(c.soname(), forever);
        } else {
            // libcublas needs libcublasLt of the same major. Loading it first, from the same
            // folder, lets the dynamic linker satisfy that need by soname even where neither
            // folder is on the loader's path (a pip wheel's folder, say).
            Path lt = c.file().resolveSibling("libcublasLt.so." + c.major());
            if (c.major() > 0 && Files.isRegularFile(lt)) {
                SymbolLookup.libraryLookup(lt, forever);
            }
            lookup = SymbolLookup.libraryLookup(c.file(), forever);
        }
        Linker linker = Linker.nativeLinker();
        Binder b = new Binder(lookup, linker);
        MethodHandle getProperty = b.bind(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cublasGetProperty");
        return new Library(c.describe(), readVersion(getProperty),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2", "cublasCreate"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2", "cublasDestroy"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2", "cublasSetStream"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), "cublasSetWorkspace_v2",
                        "cublasSetWorkspace"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cublasSetMathMode"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cublasSetAtomicsMode"),
                // Only the _v2 name: libcublas also exports "cublasSgemm", the legacy API (char
                // transposes, alpha and beta by value, no handle), which this descriptor would misuse.
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                        "cublasSgemm_v2"),
                b.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT,
                        JAVA_LONG, JAVA_INT), "cublasSgemmStridedBatched"),
                b.bind(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusName"),
                b.bind(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusString"));
    }

    /** {@code major.minor.patch} from {@code cublasGetProperty}, which needs no context. */
    private static String readVersion(MethodHandle getProperty) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            int[] types = {MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL};
            StringBuilder sb = new StringBuilder();
            for (int type : types) {
                int status = invoke(() -> (int) getProperty.invokeExact(type, v), "cublasGetProperty");
                if (status != CUBLAS_STATUS_SUCCESS) {
                    throw new IllegalStateException("cublasGetProperty(" + type + ") returned status " + status);
                }
                sb.append(sb.isEmpty() ? "" : ".").append(v.get(JAVA_INT, 0));
            }
            return sb.toString();
        }
    }

    /** Finds symbols, trying each name in turn (the {@code _v2} names first, as {@code cublas_v2.h} maps them). */
    private record Binder(SymbolLookup lookup, Linker linker) {
        MethodHandle bind(FunctionDescriptor fd, String... names) {
            for (String name : names) {
                Optional<MemorySegment> symbol = lookup.find(name);
                if (symbol.isPresent()) {
                    return linker.downcallHandle(symbol.get(), fd);
                }
            }
            throw new IllegalStateException("symbol " + String.join(" / ", names) + " not found");
        }
    }

    /**
     * A loaded cuBLAS: where it came from, its version, and its functions.
     *
     * @param origin  the file, or the name given to the system loader
     * @param version {@code major.minor.patch}
     */
    record Library(String origin, String version, MethodHandle create, MethodHandle destroy, MethodHandle setStream,
                   MethodHandle setWorkspace, MethodHandle setMathMode, MethodHandle setAtomicsMode,
                   MethodHandle sgemm, MethodHandle sgemmStridedBatched, MethodHandle statusName,
                   MethodHandle statusString) {

        /** {@code cuBLAS 13.1.0 (/path/libcublas.so.13)}. */
        String describe() {
            return "cuBLAS " + version + " (" + origin + ")";
        }

        /** cuBLAS's name for a status, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
        String statusName(int status) {
            return cString(invokeSegment(statusName, status), "CUBLAS_STATUS_" + status);
        }

        /** cuBLAS's description of a status. */
        String statusString(int status) {
            return cString(invokeSegment(statusString, status), null);
        }

        private static MemorySegment invokeSegment(MethodHandle h, int status) {
            try {
                return (MemorySegment) h.invokeExact(status);
            } catch (Throwable t) {
                return MemorySegment.NULL;
            }
        }

        private static String cString(MemorySegment s, String fallback) {
            if (s.equals(MemorySegment.NULL)) {
                return fallback;
            }
            return s.reinterpret(4096).getString(0);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    // ---------------------------------------------------------------- calls

    @Override
    public synchronized void sgemm(int opA, int opB, int m, int n, int k, float alphaValue, long a, int lda, long b,
                                   int ldb, float betaValue, long c, int ldc) {
        requireOpen("cublasSgemm");
        alpha.set(JAVA_FLOAT, 0, alphaValue);
        beta.set(JAVA_FLOAT, 0, betaValue);
        int status = invoke(() -> (int) lib.sgemm.invokeExact(handle, opA, opB, m, n, k, alpha,
                MemorySegment.ofAddress(a), lda, MemorySegment.ofAddress(b), ldb, beta, MemorySegment.ofAddress(c),
                ldc), "cublasSgemm");
        if (status != CUBLAS_STATUS_SUCCESS) {
            check(status, "cublasSgemm(" + op(opA) + op(opB) + ", m=" + m + ", n=" + n + ", k=" + k + ", lda=" + lda
                    + ", ldb=" + ldb + ", ldc=" + ldc + ")");
        }
    }

    @Override
    public synchronized void sgemmStridedBatched(int opA, int opB, int m, int n, int k, float alphaValue, long a,
                                                 int lda, long strideA, long b, int ldb, long strideB,
                                                 float betaValue, long c, int ldc, long strideC, int batch) {
        requireOpen("cublasSgemmStridedBatched");
        alpha.set(JAVA_FLOAT, 0, alphaValue);
        beta.set(JAVA_FLOAT, 0, betaValue);
        int status = invoke(() -> (int) lib.sgemmStridedBatched.invokeExact(handle, opA, opB, m, n, k, alpha,
                MemorySegment.ofAddress(a), lda, strideA, MemorySegment.ofAddress(b), ldb, strideB, beta,
                MemorySegment.ofAddress(c), ldc, strideC, batch), "cublasSgemmStridedBatched");
        if (status != CUBLAS_STATUS_SUCCESS) {
            check(status, "cublasSgemmStridedBatched(" + op(opA) + op(opB) + ", m=" + m + ", n=" + n + ", k=" + k
                    + ", batch=" + batch + ")");
        }
    }

    boolean tf32() {
        return tf32;
    }

    Library library() {
        return lib;
    }

    /** Destroys the handle. Idempotent; the stream's work is finished first by the owner. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        int status = invoke(() -> (int) lib.destroy.invokeExact(handle), "cublasDestroy");
        arena.close();
        check(status, "cublasDestroy(" + streamName + ")");
    }

    private void requireOpen(String call) {
        if (closed) {
            throw new IllegalStateException(call + ": the cuBLAS handle of stream " + streamName + " is closed");
        }
    }

    private void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call, lib.statusName(status), lib.statusString(status));
        }
    }

    private static String op(int op) {
        return op == OP_T ? "T" : "N";
    }

    /** A downcall that returns a status. */
    @FunctionalInterface
    private interface Downcall {
        int call() throws Throwable;
    }

    private static int invoke(Downcall d, String name) {
        try {
            return d.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " could not be called: " + t, t);
        }
    }

    @Override
    public String toString() {
        return "Cublas[" + lib.describe() + ", stream " + streamName + (tf32 ? ", TF32" : ", FP32") + "]";
    }
}
