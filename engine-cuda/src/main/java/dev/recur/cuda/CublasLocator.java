package dev.recur.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where cuBLAS may be on this machine, in the order {@link Cublas} tries it. Only file-system
 * look-ups happen here (nothing is loaded), so the order is tested with temporary folders.
 *
 * <h2>Order</h2>
 * <ol>
 *   <li>the file named by {@code RECUR_CUBLAS}, when set;</li>
 *   <li>then, for each major version in turn ({@code libcublas.so.13}, then {@code .so.12};
 *       13 only when the driver supports CUDA 13, since cuBLAS 13 cannot start on an older
 *       driver), these places:
 *     <ol>
 *       <li>{@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64};</li>
 *       <li>{@code /usr/local/cuda/lib64};</li>
 *       <li>each folder of {@code LD_LIBRARY_PATH};</li>
 *       <li>the system loader by name (its cache and default folders);</li>
 *       <li>the NVIDIA pip wheels inside Python's packages, where PyTorch gets its cuBLAS
 *           ({@code nvidia/cu13/lib} for CUDA 13 wheels, {@code nvidia/cublas/lib} for CUDA 12
 *           ones): under {@code $VIRTUAL_ENV}, {@code $CONDA_PREFIX/lib}, the prefix of each
 *           {@code python3} on {@code PATH}, {@code /usr/local/lib/python3*} and
 *           {@code /usr/lib/python3*} ({@code dist-packages} and {@code site-packages}), and
 *           {@code ~/.local/lib/python3*}.</li>
 *     </ol>
 *   </li>
 * </ol>
 * A folder is listed once, where it first appears. Fixed system folders are taken relative to a
 * root ("/" in the engine, a temporary folder in tests); folders from the environment are used
 * as they are.
 */
final class CublasLocator {

    /** Environment variable naming a cuBLAS library file to try first. */
    static final String ENVIRONMENT = "RECUR_CUBLAS";

    private static final Pattern PYTHON_DIR = Pattern.compile("python3(?:\\.(\\d+))?");

    private CublasLocator() {
    }

    /**
     * One library to try.
     *
     * @param soname the library's name, e.g. {@code libcublas.so.13}
     * @param file   the file, or null to ask the system loader for {@code soname}
     */
    record Candidate(String soname, Path file) {

        /** The major version in the name ({@code 13} for {@code libcublas.so.13}), or -1. */
        int major() {
            Matcher m = Pattern.compile("\\.so\\.(\\d+)").matcher(soname);
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        }

        String describe() {
            return file == null ? soname + " through the system loader" : file.toString();
        }
    }

    /**
     * The outcome of a search.
     *
     * @param candidates what to try, in order
     * @param looked     every place searched, in order, for messages when nothing works
     */
    record Search(List<Candidate> candidates, List<String> looked) {
    }

    /** The cuBLAS major versions to try, newest first, for a driver of {@code driverVersion} (0: unknown). */
    static List<Integer> majors(int driverVersion) {
        return driverVersion == 0 || driverVersion >= 13000 ? List.of(13, 12) : List.of(12);
    }

    /**
     * Searches for cuBLAS.
     *
     * @param env           the environment ({@code System.getenv()} in the engine)
     * @param driverVersion the driver's CUDA version as 1000·major + 10·minor, or 0 when unknown
     * @param root          the root that fixed system folders are taken under
     */
    static Search search(Map<String, String> env, int driverVersion, Path root) {
        List<Candidate> candidates = new ArrayList<>();
        List<String> looked = new ArrayList<>();

        String explicit = blankToNull(env.get(ENVIRONMENT));
        if (explicit != null) {
            Path file = Path.of(explicit);
            if (Files.isRegularFile(file)) {
                candidates.add(new Candidate(file.getFileName().toString(), file));
                looked.add(ENVIRONMENT + "=" + explicit);
            } else {
                looked.add(ENVIRONMENT + "=" + explicit + " (no such file)");
            }
        }

        // A null entry stands for the system loader, at its place in the order.
        List<Path> places = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        addHome(env, "CUDA_HOME", places, seen);
        addHome(env, "CUDA_PATH", places, seen);
        add(root.resolve("usr/local/cuda/lib64"), places, seen);
        String ld = blankToNull(env.get("LD_LIBRARY_PATH"));
        if (ld != null) {
            for (String dir : ld.split(":")) {
                if (!dir.isBlank()) {
                    add(Path.of(dir), places, seen);
                }
            }
        }
        places.add(null);
        List<Path> sites = pythonPackageFolders(env, root);
        for (Path site : sites) {
            add(site.resolve("nvidia/cu13/lib"), places, seen);
            add(site.resolve("nvidia/cublas/lib"), places, seen);
        }
        String conda = blankToNull(env.get("CONDA_PREFIX"));
        if (conda != null) {
            add(Path.of(conda, "lib"), places, seen);
        }

        for (Path p : places) {
            looked.add(p == null ? "the system loader (ld.so cache and default folders)" : p.toString());
        }
        if (sites.isEmpty()) {
            looked.add("Python package folders (none found)");
        }
        for (int major : majors(driverVersion)) {
            String soname = "libcublas.so." + major;
            for (Path p : places) {
                if (p == null) {
                    candidates.add(new Candidate(soname, null));
                } else if (Files.isRegularFile(p.resolve(soname))) {
                    candidates.add(new Candidate(soname, p.resolve(soname)));
                }
            }
        }
        return new Search(List.copyOf(candidates), List.copyOf(looked));
    }

    /** Python package folders ({@code site-packages}, {@code dist-packages}), newest Python first within each prefix. */
    static List<Path> pythonPackageFolders(Map<String, String> env, Path root) {
        List<Path> prefixes = new ArrayList<>();
        String venv = blankToNull(env.get("VIRTUAL_ENV"));
        if (venv != null) {
            prefixes.add(Path.of(venv));
        }
        String path = blankToNull(env.get("PATH"));
        if (path != null) {
            for (String dir : path.split(":")) {
                if (dir.isBlank()) {
                    continue;
                }
                Path bin = Path.of(dir);
                if (Files.exists(bin.resolve("python3")) && bin.getParent() != null) {
                    prefixes.add(bin.getParent());
                }
            }
        }
        prefixes.add(root.resolve("usr/local"));
        prefixes.add(root.resolve("usr"));
        String home = blankToNull(env.get("HOME"));
        if (home != null) {
            prefixes.add(Path.of(home, ".local"));
        }
        List<Path> out = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        for (Path prefix : prefixes) {
            for (Path python : pythonFolders(prefix.resolve("lib"))) {
                for (String kind : List.of("site-packages", "dist-packages")) {
                    Path site = python.resolve(kind);
                    if (Files.isDirectory(site) && seen.add(site.toAbsolutePath().normalize())) {
                        out.add(site);
                    }
                }
            }
        }
        return out;
    }

    /** The {@code python3*} folders in {@code lib}, newest version first. */
    private static List<Path> pythonFolders(Path lib) {
        if (!Files.isDirectory(lib)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(lib)) {
            return s.filter(p -> PYTHON_DIR.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparingInt(CublasLocator::pythonMinor).reversed()
                            .thenComparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            return List.of(); // an unreadable folder holds nothing we can load
        }
    }

    private static int pythonMinor(Path p) {
        Matcher m = PYTHON_DIR.matcher(p.getFileName().toString());
        return m.matches() && m.group(1) != null ? Integer.parseInt(m.group(1)) : -1;
    }

    private static void addHome(Map<String, String> env, String variable, List<Path> places, Set<Path> seen) {
        String home = blankToNull(env.get(variable));
        if (home != null) {
            add(Path.of(home, "lib64"), places, seen);
        }
    }

    private static void add(Path dir, List<Path> places, Set<Path> seen) {
        if (seen.add(dir.toAbsolutePath().normalize())) {
            places.add(dir);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
