package dev.recur.mpi;

import dev.recur.api.Launcher;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The process's {@code libmpi}, found and opened at run time (nothing links MPI at build time),
 * with the {@link MpiAbi} of its family.
 *
 * <p>Where it is looked for: the file or name in {@code RECUR_MPI} alone when set; otherwise the
 * sonames of the launcher's family through the dynamic linker's search ({@code LD_LIBRARY_PATH},
 * then the system's cache): {@code libmpi.so.40} for Open MPI 4/5's mpirun, {@code libmpich.so.12}
 * and {@code libmpi.so.12} for MPICH's Hydra (and PMI), all of them under Slurm's srun.
 *
 * <p>It is opened with {@code dlopen(RTLD_NOW | RTLD_GLOBAL)} rather than the JDK's loader
 * ({@code RTLD_LOCAL}): Open MPI opens its own components (plugins) later, and they resolve
 * symbols of libmpi and its siblings from the global scope, as they would in a C program linked
 * against it. The family is told by an exported symbol (Open MPI's {@code ompi_mpi_comm_world}) or
 * by {@code MPI_Get_library_version}, which MPI-3 allows before {@code MPI_Init}.
 */
@SuppressWarnings("restricted") // opening a native library and binding its functions is this class's job
final class MpiLibrary {

    /** Environment variable naming the library (a path or a soname). */
    static final String ENVIRONMENT = "RECUR_MPI";

    private static final int RTLD_NOW = 0x2;
    private static final int RTLD_GLOBAL = 0x100;

    final String file;
    final SymbolLookup symbols;
    final MpiAbi abi;
    final String version;

    private MpiLibrary(String file, SymbolLookup symbols, MpiAbi abi, String version) {
        this.file = file;
        this.symbols = symbols;
        this.abi = abi;
        this.version = version;
    }

    private static MpiLibrary loaded;
    private static String failure;

    /** The names to try for a job that {@code launcher} started; {@code RECUR_MPI} wins. */
    static List<String> candidates(Launcher.Kind launcher, String forced) {
        if (forced != null && !forced.isBlank()) {
            return List.of(forced.trim());
        }
        return switch (launcher) {
            case OPEN_MPI -> List.of("libmpi.so.40", "libmpi.so");
            case PMI -> List.of("libmpich.so.12", "libmpi.so.12", "libmpi.so");
            case SLURM -> List.of("libmpi.so.40", "libmpich.so.12", "libmpi.so.12", "libmpi.so");
        };
    }

    /**
     * The library for this launcher, opened once per process.
     *
     * @throws IllegalStateException naming every file tried and why it failed
     */
    static synchronized MpiLibrary open(Launcher.Kind launcher) {
        if (loaded != null) {
            return loaded;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
        List<String> names = candidates(launcher, System.getenv(ENVIRONMENT));
        List<String> tried = new ArrayList<>();
        for (String name : names) {
            try {
                loaded = open(name);
                return loaded;
            } catch (IllegalStateException e) {
                tried.add(e.getMessage());
            }
        }
        failure = "no MPI library for " + launcher + ": " + String.join("; ", tried) + " (install Open MPI or MPICH,"
                + " add its lib folder to LD_LIBRARY_PATH, or name the library in " + ENVIRONMENT + ")";
        throw new IllegalStateException(failure);
    }

    /** Opens {@code name} (a path or a soname) and tells its family. */
    static MpiLibrary open(String name) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        MethodHandle dlopen = linker.downcallHandle(libc.find("dlopen").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle dlsym = linker.downcallHandle(libc.find("dlsym").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        MethodHandle dlerror = linker.downcallHandle(libc.find("dlerror").orElseThrow(),
                FunctionDescriptor.of(ADDRESS));
        MemorySegment handle;
        try (Arena a = Arena.ofConfined()) {
            handle = (MemorySegment) dlopen.invokeExact(a.allocateFrom(name), RTLD_NOW | RTLD_GLOBAL);
            if (handle.equals(MemorySegment.NULL)) {
                MemorySegment err = (MemorySegment) dlerror.invokeExact();
                throw new IllegalStateException(name + ": " + (err.equals(MemorySegment.NULL) ? "not found"
                        : err.reinterpret(4096).getString(0)));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + ": dlopen failed: " + t, t);
        }
        // Symbols live as long as the process: the library is never closed (MPI cannot be re-initialised).
        MemorySegment lib = handle;
        SymbolLookup symbols = symbol -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = (MemorySegment) dlsym.invokeExact(lib, a.allocateFrom(symbol));
                return s.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(s);
            } catch (Throwable t) {
                throw new IllegalStateException("dlsym(" + symbol + "): " + t, t);
            }
        };
        if (symbols.find("MPI_Init_thread").isEmpty()) {
            throw new IllegalStateException(name + ": opened, but it exports no MPI_Init_thread: not an MPI library");
        }
        String version = libraryVersion(symbols);
        MpiAbi abi;
        if (symbols.find(MpiAbi.OpenMpi.MARKER).isPresent()) {
            abi = MpiAbi.OpenMpi.bind(symbols);
        } else if (version.contains("MPICH") || version.contains("Intel(R) MPI") || version.contains("MVAPICH")) {
            abi = new MpiAbi.Mpich();
        } else {
            throw new IllegalStateException(name + ": an MPI library of an unknown family (" + version + "); Recur"
                    + " binds Open MPI 4/5 and MPICH 4 (and MPICH's ABI: Intel MPI, MVAPICH)");
        }
        return new MpiLibrary(name, symbols, abi, version);
    }

    /** {@code MPI_Get_library_version}'s first line, callable before MPI_Init. */
    private static String libraryVersion(SymbolLookup symbols) {
        MethodHandle f = Linker.nativeLinker().downcallHandle(symbols.find("MPI_Get_library_version").orElseThrow(
                () -> new IllegalStateException("no MPI_Get_library_version: an MPI older than 3.0")),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocate(JAVA_BYTE, 8192); // MPI_MAX_LIBRARY_VERSION_STRING of MPICH, the larger
            MemorySegment length = a.allocate(JAVA_INT);
            int rc = (int) f.invokeExact(text, length);
            if (rc != 0) {
                return "(MPI_Get_library_version returned " + rc + ")";
            }
            String s = text.getString(0).strip();
            int nl = s.indexOf('\n');
            // "Open MPI v4.1.4, package: ..., May 26, 2022" or "MPICH Version:      4.0.2": the first
            // line up to its first comma, spaces collapsed.
            String first = (nl >= 0 ? s.substring(0, nl) : s).replaceAll("\\s+", " ").strip();
            int comma = first.indexOf(',');
            return comma > 0 ? first.substring(0, comma) : first;
        } catch (Throwable t) {
            throw new IllegalStateException("MPI_Get_library_version: " + t, t);
        }
    }

    @Override
    public String toString() {
        return version + " (" + file + ")";
    }
}
