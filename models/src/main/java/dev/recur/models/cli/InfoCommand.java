package dev.recur.models.cli;

import dev.recur.api.Backends;
import dev.recur.api.BackendUnavailableException;

import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code recur info}: the Java runtime, every engine on the class path with its probe's answer,
 * and the engine a training run would get. Exits with {@link Recur#EXIT_OK} when an engine would
 * be chosen and {@link Recur#EXIT_FAILED} when none would (the report says why), so scripts can
 * ask {@code recur info >/dev/null} whether this machine can train.
 */
@Command(name = "info", header = "show the Java runtime, the engines found and the one that would be chosen",
        sortOptions = false, description = {
            "Prints the Java runtime, OS and processors; every engine found on the class path with its rank,",
            "whether it is available and why not; and the engine a run would use: the one forced by",
            "--backend NAME, -D" + Backends.PROPERTY + "=NAME (in RECUR_JAVA_OPTS) or " + Backends.ENVIRONMENT
                    + "=NAME, else the",
            "lowest-ranked available. Exit status: 0 when an engine would be chosen, 1 when none would",
            "(the report says why)."})
public final class InfoCommand extends CliCommand {

    private final Supplier<List<Backends.Found>> discovery;
    private final Supplier<Forcing> forcing;
    private final Supplier<Host> host;

    /** Reports on this JVM: {@link Backends#discover()}, the forcing property or variable, the host. */
    public InfoCommand() {
        this(Backends::discover, Forcing::fromSystem, Host::current);
    }

    /** Reports on what the suppliers give; tests pass fixed values. */
    InfoCommand(Supplier<List<Backends.Found>> discovery, Supplier<Forcing> forcing, Supplier<Host> host) {
        this.discovery = Objects.requireNonNull(discovery, "discovery");
        this.forcing = Objects.requireNonNull(forcing, "forcing");
        this.host = Objects.requireNonNull(host, "host");
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        Forcing forced = backend.equalsIgnoreCase("auto") ? forcing.get() : new Forcing(backend, "--backend");
        return render(discovery.get(), forced, host.get(), out);
    }

    /**
     * Who forced an engine: its name and where the name came from.
     *
     * @param name   the name as given
     * @param source {@code -Drecur.backend} or {@code RECUR_BACKEND}
     */
    public record Forcing(String name, String source) {

        public Forcing {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(source, "source");
        }

        /** The forcing in effect in this JVM ({@link Backends#forcedName()}), or null for none. */
        public static Forcing fromSystem() {
            String name = Backends.forcedName();
            if (name == null) {
                return null;
            }
            // forcedName() prefers the property; say which of the two the name came from.
            String p = System.getProperty(Backends.PROPERTY);
            boolean fromProperty = p != null && !p.isBlank();
            return new Forcing(name, fromProperty ? "-D" + Backends.PROPERTY : Backends.ENVIRONMENT);
        }
    }

    /**
     * What {@code recur info} says about the machine and the JVM.
     *
     * @param javaVersion  {@code Runtime.version()}
     * @param javaVendor   {@code java.vendor}
     * @param javaHome     {@code java.home}
     * @param os           OS name and version
     * @param arch         {@code os.arch}
     * @param processors   {@code Runtime.availableProcessors()}
     * @param maxHeapBytes {@code Runtime.maxMemory()}
     * @param vectorApi    whether {@code jdk.incubator.vector} is in the boot layer
     */
    public record Host(String javaVersion, String javaVendor, String javaHome, String os, String arch,
                       int processors, long maxHeapBytes, boolean vectorApi) {

        /** This JVM and machine. */
        public static Host current() {
            Runtime rt = Runtime.getRuntime();
            return new Host(Runtime.version().toString(), System.getProperty("java.vendor", "?"),
                    System.getProperty("java.home", "?"),
                    System.getProperty("os.name", "?") + " " + System.getProperty("os.version", ""),
                    System.getProperty("os.arch", "?"), rt.availableProcessors(), rt.maxMemory(),
                    ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        }
    }

    /**
     * Writes the report.
     *
     * @param found   the engines, probed, best rank first (as {@link Backends#probeAll} returns them)
     * @param forcing the forced engine, or null
     * @param host    the runtime and machine
     * @return {@link Recur#EXIT_OK} when an engine would be chosen, else {@link Recur#EXIT_FAILED}
     */
    static int render(List<Backends.Found> found, Forcing forcing, Host host, PrintStream out) {
        out.println("Recur " + Recur.version());
        out.println("  java     " + host.javaVersion() + " (" + host.javaVendor() + ") at " + host.javaHome());
        out.println("  os       " + host.os().strip() + " (" + host.arch() + ")");
        out.println("  cpus     " + host.processors() + " available processor" + (host.processors() == 1 ? "" : "s"));
        out.println("  heap     " + gib(host.maxHeapBytes()) + " max");
        out.println("  vector   " + (host.vectorApi() ? "jdk.incubator.vector loaded"
                : "jdk.incubator.vector not loaded (the CPU engine needs --add-modules jdk.incubator.vector; ./recur adds it)"));
        out.println();

        if (found.isEmpty()) {
            out.println("Engines: no engine found on the class path (engines are jars registering "
                    + "dev.recur.api.BackendProvider; ./recur puts interop/target/lib/* on it)");
        } else {
            out.println("Engines (the lowest-ranked available one is chosen unless one is forced):");
            int nameWidth = 4;
            int rankWidth = 1;
            for (Backends.Found f : found) {
                nameWidth = Math.max(nameWidth, f.name().length());
                rankWidth = Math.max(rankWidth, Integer.toString(f.rank()).length());
            }
            for (Backends.Found f : found) {
                out.printf(Locale.ROOT, "  %-" + nameWidth + "s  rank %" + rankWidth + "d  %s: %s%n", f.name(), f.rank(),
                        f.availability().available() ? "available" : "not available", f.availability().reason());
            }
        }
        out.println();

        if (forcing != null) {
            out.println("Forced:  " + forcing.name() + " (by " + forcing.source() + ")");
        }
        try {
            Backends.Found chosen = Backends.choose(found, forcing == null ? null : forcing.name());
            out.println("Chosen:  " + chosen.name() + (forcing == null ? " (the best available)" : " (forced)"));
            return Recur.EXIT_OK;
        } catch (BackendUnavailableException e) {
            out.println("Chosen:  none: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    private static String gib(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "unlimited";
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
