package dev.recur.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The NCCL binding ({@code libnccl.so.2}), through {@code java.lang.foreign}, as {@link Cublas}
 * binds cuBLAS: nothing links NCCL at build time, and loading and binding need no GPU. This class
 * alone calls into NCCL; {@link NcclCollective} uses it.
 *
 * <h2>Where NCCL is looked for</h2>
 * The file named by {@code RECUR_NCCL}; the system loader by name ({@code libnccl.so.2}: its cache,
 * {@code LD_LIBRARY_PATH}); then NVIDIA's {@code nvidia-nccl-cu13} / {@code -cu12} pip wheels
 * ({@code nvidia/nccl/lib}) in the Python package folders that {@link CublasLocator} searches for
 * cuBLAS's wheels.
 *
 * <h2>The calls</h2>
 * {@code ncclGetVersion}, {@code ncclGetUniqueId} (rank 0 makes the id; the ranks' MPI collective
 * broadcasts its 128 bytes), {@code ncclCommInitRank} (the id passed by value, a 128-byte struct),
 * {@code ncclAllReduce} and {@code ncclBroadcast} on the CUDA engine's stream, {@code ncclCommDestroy},
 * {@code ncclGetErrorString}. The constants are those of {@code nccl.h}, stable since NCCL 2.0
 * ({@code ncclAvg} since 2.10).
 */
@SuppressWarnings("restricted") // loading a library and binding its functions is this class's job
final class Nccl {

    /** Environment variable naming the library file to try first. */
    static final String ENVIRONMENT = "RECUR_NCCL";
    static final String SONAME = "libnccl.so.2";
    /** {@code NCCL_UNIQUE_ID_BYTES}. */
    static final int UNIQUE_ID_BYTES = 128;
    static final int NCCL_SUCCESS = 0;
    static final int NCCL_INVALID_ARGUMENT = 4;
    static final int NCCL_FLOAT32 = 7;
    static final int NCCL_SUM = 0;
    static final int NCCL_AVG = 4;
    /** {@code ncclUniqueId}: {@code struct { char internal[128]; }}, passed by value to ncclCommInitRank. */
    static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE).withName("internal"));

    private Nccl() {
    }

    /** The files (or, null file, the system loader's name) to try, in order, with every place looked. */
    static List<CublasLocator.Candidate> candidates(Map<String, String> env, Path root) {
        List<CublasLocator.Candidate> out = new ArrayList<>();
        String explicit = env.get(ENVIRONMENT);
        if (explicit != null && !explicit.isBlank()) {
            Path f = Path.of(explicit.trim());
            if (Files.isRegularFile(f)) {
                out.add(new CublasLocator.Candidate(f.getFileName().toString(), f));
            }
        }
        out.add(new CublasLocator.Candidate(SONAME, null));
        Set<Path> seen = new LinkedHashSet<>();
        for (Path site : CublasLocator.pythonPackageFolders(env, root)) {
            Path f = site.resolve("nvidia/nccl/lib").resolve(SONAME);
            if (seen.add(f) && Files.isRegularFile(f)) {
                out.add(new CublasLocator.Candidate(SONAME, f));
            }
        }
        return out;
    }

    private static Library loaded;
    private static String loadFailure;

    /**
     * The process's NCCL, bound once.
     *
     * @throws IllegalStateException naming every place tried and why
     */
    static synchronized Library library() {
        if (loaded != null) {
            return loaded;
        }
        if (loadFailure != null) {
            throw new IllegalStateException(loadFailure);
        }
        List<String> tried = new ArrayList<>();
        for (CublasLocator.Candidate c : candidates(System.getenv(), Path.of("/"))) {
            try {
                loaded = bind(c);
                return loaded;
            } catch (IllegalArgumentException | IllegalStateException e) {
                tried.add(c.describe() + ": " + e.getMessage());
            }
        }
        loadFailure = "no NCCL library: " + String.join("; ", tried) + ". Install NVIDIA's nvidia-nccl-cu13 wheel or"
                + " NCCL 2, or set " + ENVIRONMENT + " to libnccl.so.2";
        throw new IllegalStateException(loadFailure);
    }

    /** Loads one candidate and binds every function Recur calls (package-private for NcclBindingTest). */
    static Library bind(CublasLocator.Candidate c) {
        Arena forever = Arena.global(); // the library stays loaded for the life of the process
        SymbolLookup lookup = c.file() == null ? SymbolLookup.libraryLookup(c.soname(), forever)
                : SymbolLookup.libraryLookup(c.file(), forever);
        Linker linker = Linker.nativeLinker();
        MethodHandle getVersion = bind(lookup, linker, "ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle errorString = bind(lookup, linker, "ncclGetErrorString",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
        Library lib = new Library(c.describe(), 0, getVersion,
                bind(lookup, linker, "ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                bind(lookup, linker, "ncclCommInitRank",
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT)),
                // (sendbuff, recvbuff, size_t count, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t)
                bind(lookup, linker, "ncclAllReduce",
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS,
                                ADDRESS)),
                // (sendbuff, recvbuff, size_t count, ncclDataType_t, int root, ncclComm_t, cudaStream_t)
                bind(lookup, linker, "ncclBroadcast",
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS,
                                ADDRESS)),
                bind(lookup, linker, "ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                bind(lookup, linker, "ncclGroupStart", FunctionDescriptor.of(JAVA_INT)),
                bind(lookup, linker, "ncclGroupEnd", FunctionDescriptor.of(JAVA_INT)),
                errorString);
        return new Library(lib.origin(), lib.readVersion(), lib.getVersion(), lib.getUniqueId(), lib.commInitRank(),
                lib.allReduce(), lib.broadcast(), lib.commDestroy(), lib.groupStart(), lib.groupEnd(),
                lib.getErrorString());
    }

    private static MethodHandle bind(SymbolLookup lookup, Linker linker, String name, FunctionDescriptor fd) {
        Optional<MemorySegment> s = lookup.find(name);
        if (s.isEmpty()) {
            throw new IllegalStateException("symbol " + name + " not found");
        }
        return linker.downcallHandle(s.get(), fd);
    }

    /**
     * A bound NCCL.
     *
     * @param origin  the file, or the name given to the system loader
     * @param version {@code NCCL_VERSION_CODE}: major·10000 + minor·100 + patch (2.30.7 is 23007)
     */
    record Library(String origin, int version, MethodHandle getVersion, MethodHandle getUniqueId,
                   MethodHandle commInitRank, MethodHandle allReduce, MethodHandle broadcast,
                   MethodHandle commDestroy, MethodHandle groupStart, MethodHandle groupEnd,
                   MethodHandle getErrorString) {

        /** {@code ncclGetVersion}, which needs no GPU. */
        int readVersion() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT);
                check((int) getVersion.invokeExact(v), "ncclGetVersion");
                return v.get(JAVA_INT, 0);
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("ncclGetVersion: " + t, t);
            }
        }

        /** {@code 2.30.7} from {@link #version()}. */
        String versionString() {
            return version / 10000 + "." + version / 100 % 100 + "." + version % 100;
        }

        /** NCCL's own text for a result code. */
        String errorString(int result) {
            try {
                MemorySegment s = (MemorySegment) getErrorString.invokeExact(result);
                return s.equals(MemorySegment.NULL) ? "result " + result : s.reinterpret(1024).getString(0);
            } catch (Throwable t) {
                return "result " + result + " (ncclGetErrorString failed: " + t + ")";
            }
        }

        /** Throws with NCCL's text unless {@code result} is ncclSuccess. */
        void check(int result, String call) {
            if (result != NCCL_SUCCESS) {
                throw new dev.recur.api.CollectiveException(call + " failed: " + errorString(result) + " (NCCL "
                        + (version == 0 ? "" : versionString() + ", ") + origin + ")");
            }
        }

        /** {@code ncclGetUniqueId}: the 128 bytes rank 0 makes and the others receive. */
        byte[] uniqueId() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment id = a.allocate(UNIQUE_ID);
                check((int) getUniqueId.invokeExact(id), "ncclGetUniqueId");
                return id.toArray(JAVA_BYTE);
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("ncclGetUniqueId: " + t, t);
            }
        }

        String describe() {
            return "NCCL " + versionString() + " (" + origin + ")";
        }
    }
}
