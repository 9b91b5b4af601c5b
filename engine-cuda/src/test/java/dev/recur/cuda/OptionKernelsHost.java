package dev.recur.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The option path's kernels (options.cu) on the host, for the {@link SimulatedDevice}: the host
 * twin kernels/src/test/cpp/options_host.cpp, which loops the kernels' own element functions
 * (options_math.cuh) over the same elements, built by g++ into a shared library on first use and
 * called through java.lang.foreign with the launch's argument values, by the kernel's name and
 * its parameter kinds from {@link CudaKernels#KERNELS}. So the simulated layer tests of the
 * option path run the kernels' math itself, compiled by another compiler, not a Java port.
 * {@link #unavailable()} says why not, when g++ or the source is missing.
 */
final class OptionKernelsHost {

    private static final Path SOURCE = Path.of("../kernels/src/test/cpp/options_host.cpp").toAbsolutePath().normalize();
    private static final Path LIBRARY = Path.of("target/options-host.so").toAbsolutePath();

    private static String unavailable;
    private static SymbolLookup lookup;
    private static final Map<String, MethodHandle> HANDLES = new HashMap<>();

    private OptionKernelsHost() {
    }

    /** Why the host kernels cannot run here (no g++, no source), or null once they are built. */
    static synchronized String unavailable() {
        if (lookup == null && unavailable == null) {
            build();
        }
        return unavailable;
    }

    private static void build() {
        if (!Files.isRegularFile(SOURCE)) {
            unavailable = "the host twin " + SOURCE + " is missing";
            return;
        }
        try {
            Process cc = new ProcessBuilder("g++", "-O2", "-std=c++17", "-ffp-contract=off", "-Wall", "-Wextra",
                    "-Werror", "-shared", "-fPIC", "-o", LIBRARY.toString(), SOURCE.toString())
                    .redirectErrorStream(true).start();
            String log = new String(cc.getInputStream().readAllBytes());
            if (!cc.waitFor(120, TimeUnit.SECONDS) || cc.exitValue() != 0) {
                // A source that does not compile is a failure, not a skip.
                throw new IllegalStateException("g++ failed to build " + SOURCE + ":\n" + log);
            }
        } catch (IOException e) {
            unavailable = "g++ could not be run (" + e.getMessage() + ")";
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable = "interrupted while building the host twin";
            return;
        }
        lookup = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    }

    /** Whether {@code kernel} is one of the option path's (served here). */
    static boolean serves(String kernel) {
        return kernel.startsWith("opt");
    }

    /** Runs {@code kernel} with the launch's values (Integer, Float, Long; pointers as Long addresses). */
    static void run(String kernel, List<Object> values) {
        String why = unavailable();
        if (why != null) {
            throw new IllegalStateException("the option kernels' host twin is unavailable: " + why);
        }
        MethodHandle mh = handle(kernel);
        try {
            mh.invokeWithArguments(arguments(kernel, values));
        } catch (Throwable t) {
            throw new IllegalStateException(kernel + " on the host twin failed", t);
        }
    }

    private static synchronized MethodHandle handle(String kernel) {
        return HANDLES.computeIfAbsent(kernel, name -> {
            String kinds = kinds(name);
            MemoryLayout[] layouts = new MemoryLayout[kinds.length()];
            for (int i = 0; i < layouts.length; i++) {
                layouts[i] = switch (kinds.charAt(i)) {
                    case 'i' -> JAVA_INT;
                    case 'f' -> JAVA_FLOAT;
                    case 'l' -> JAVA_LONG;
                    default -> ADDRESS;
                };
            }
            MemorySegment symbol = lookup.find(name)
                    .orElseThrow(() -> new IllegalStateException("the host twin has no function " + name));
            return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.ofVoid(layouts));
        });
    }

    private static String kinds(String kernel) {
        for (CudaKernels.Kernel k : CudaKernels.KERNELS) {
            if (k.name().equals(kernel)) {
                return k.params();
            }
        }
        throw new IllegalStateException("no kernel " + kernel + " in CudaKernels.KERNELS");
    }

    private static Object[] arguments(String kernel, List<Object> values) {
        String kinds = kinds(kernel);
        Object[] args = new Object[values.size()];
        for (int i = 0; i < args.length; i++) {
            Object v = values.get(i);
            args[i] = kinds.charAt(i) == 'p' ? MemorySegment.ofAddress((Long) v) : v;
        }
        return args;
    }
}
