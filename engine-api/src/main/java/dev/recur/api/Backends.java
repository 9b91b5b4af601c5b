package dev.recur.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds the engines on the class path ({@link ServiceLoader} over {@link BackendProvider}) and
 * chooses one: the lowest-ranked available engine, unless one is forced with the system property
 * {@code recur.backend} or, failing that, the environment variable {@code RECUR_BACKEND}.
 * Forcing an engine that is unknown or unavailable is an error that names the reason.
 */
public final class Backends {

    /** System property that forces a backend by name. */
    public static final String PROPERTY = "recur.backend";
    /** Environment variable that forces a backend by name (the property wins). */
    public static final String ENVIRONMENT = "RECUR_BACKEND";

    private Backends() {
    }

    /** One engine found on the class path, with its probe's answer. */
    public record Found(String name, int rank, Availability availability, BackendProvider provider) {
    }

    /** Every engine on the class path, probed, best rank first. */
    public static List<Found> discover() {
        // A provider that cannot even be instantiated (a broken engine jar) is skipped, so that the
        // others, the CPU fallback among them, are still found; its error is kept as a reason.
        List<BackendProvider> providers = new ArrayList<>();
        Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class).iterator();
        List<Found> broken = new ArrayList<>();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                providers.add(it.next());
            } catch (ServiceConfigurationError e) {
                broken.add(new Found("unloadable-" + broken.size(), Integer.MAX_VALUE,
                        Availability.no("provider could not be loaded: " + e.getMessage()), null));
            }
        }
        List<Found> out = probeAll(providers);
        out.addAll(broken);
        return out;
    }

    /** The name forced by {@code -Drecur.backend} or {@code RECUR_BACKEND}, or null. */
    public static String forcedName() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return p.trim();
        }
        String e = System.getenv(ENVIRONMENT);
        return e != null && !e.isBlank() ? e.trim() : null;
    }

    /** The backend to use: the forced one if any, else the best available. */
    public static Backend best() {
        return choose(discover(), forcedName()).provider().create();
    }

    /** The backend with this name; fails with the probe's reason when it is unavailable. */
    public static Backend named(String name) {
        return choose(discover(), name).provider().create();
    }

    /**
     * The choice {@link #best()} makes among {@code found}: the one named {@code forced} when not
     * null, else the lowest-ranked available one.
     *
     * @throws BackendUnavailableException when the forced one is unknown or unavailable, or none is available
     */
    public static Found choose(List<Found> found, String forced) {
        if (forced != null) {
            String want = forced.toLowerCase(Locale.ROOT);
            for (Found f : found) {
                if (f.name().equals(want)) {
                    if (!f.availability().available()) {
                        throw new BackendUnavailableException("backend '" + f.name()
                                + "' was asked for but is not available: " + f.availability().reason());
                    }
                    return f;
                }
            }
            throw new BackendUnavailableException("backend '" + forced + "' was asked for but is not on the class path; found: "
                    + names(found));
        }
        for (Found f : found) {
            if (f.availability().available()) {
                return f;
            }
        }
        StringBuilder why = new StringBuilder("no backend is available");
        if (found.isEmpty()) {
            why.append(": none is on the class path (add engine-cpu)");
        }
        for (Found f : found) {
            why.append("; ").append(f.name()).append(": ").append(f.availability().reason());
        }
        throw new BackendUnavailableException(why.toString());
    }

    /** Probes each provider (a probe that throws counts as unavailable) and sorts by rank. */
    public static List<Found> probeAll(Iterable<BackendProvider> providers) {
        List<Found> out = new ArrayList<>();
        for (BackendProvider p : providers) {
            Availability a;
            try {
                a = p.probe();
            } catch (RuntimeException | LinkageError e) {
                a = Availability.no("probe failed: " + e);
            }
            out.add(new Found(p.name().toLowerCase(Locale.ROOT), p.rank(), a, p));
        }
        out.sort(Comparator.comparingInt(Found::rank).thenComparing(Found::name));
        return out;
    }

    private static String names(List<Found> found) {
        if (found.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (Found f : found) {
            sb.append(sb.isEmpty() ? "" : ", ").append(f.name());
        }
        return sb.toString();
    }
}
