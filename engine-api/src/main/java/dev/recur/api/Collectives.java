package dev.recur.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Binds the collective of this process: without a launcher (or under one that started a single
 * process) the {@link SingleProcessCollective}; under {@code mpirun}, {@code mpiexec} or
 * {@code srun} the best available {@link CollectiveProvider} found through {@link ServiceLoader}
 * (the MPI module's, when its jar is on the class path). {@code RECUR_COLLECTIVE=NAME} forces one.
 *
 * <p>A distributed run never falls back to single processes silently: when a launcher started
 * several ranks and no binding can serve it, {@link #open} fails and says why for each.
 */
public final class Collectives {

    /** Environment variable that forces a provider by name ({@code mpi}), or {@code single}. */
    public static final String ENVIRONMENT = "RECUR_COLLECTIVE";

    private Collectives() {
    }

    /** One binding found on the class path, with its probe's answer for this launcher. */
    public record Found(String name, int rank, Availability availability, CollectiveProvider provider) {
    }

    /** The collective of this process, from {@link System#getenv()}. */
    public static Collective open() {
        return open(System.getenv(), providers());
    }

    /**
     * The collective for {@code env}, choosing among {@code providers}.
     *
     * @throws CollectiveException when several ranks were launched and none of the providers can
     *                             serve them (the message names the launcher and each reason), or
     *                             the forced one is unknown or unavailable
     */
    public static Collective open(Map<String, String> env, List<CollectiveProvider> providers) {
        Optional<Launcher> launcher = Launcher.detect(env);
        String forced = env.get(ENVIRONMENT);
        forced = forced == null || forced.isBlank() ? null : forced.trim();
        if ("single".equals(forced) || (forced == null && (launcher.isEmpty() || launcher.get().size() == 1))) {
            return new SingleProcessCollective();
        }
        if (launcher.isEmpty()) {
            throw new CollectiveException(ENVIRONMENT + "=" + forced + " asks for a distributed run, but no launcher"
                    + " started this process (no OMPI_COMM_WORLD_SIZE, PMI_SIZE or SLURM_STEP_NUM_TASKS); start it"
                    + " with mpirun -np N or srun");
        }
        Launcher l = launcher.get();
        List<Found> found = probeAll(providers, l);
        List<String> reasons = new ArrayList<>();
        for (Found f : found) {
            if (forced != null && !f.name().equals(forced)) {
                continue;
            }
            if (f.availability().available()) {
                return f.provider().open(l);
            }
            reasons.add(f.name() + ": " + f.availability().reason());
        }
        String what = "launched by " + l + " as rank " + l.rank() + " of " + l.size();
        if (forced != null && reasons.isEmpty()) {
            throw new CollectiveException(what + ", " + ENVIRONMENT + "=" + forced + " names no collective binding"
                    + " on the class path (found: " + found.stream().map(Found::name).toList() + ")");
        }
        if (reasons.isEmpty()) {
            throw new CollectiveException(what + ", but no collective binding is on the class path (the"
                    + " collective-mpi jar); a single process would silently train alone, so this run stops");
        }
        throw new CollectiveException(what + ", but no collective library could be bound: "
                + String.join("; ", reasons));
    }

    /** Every provider on the class path; one that cannot be instantiated is left out. */
    public static List<CollectiveProvider> providers() {
        List<CollectiveProvider> out = new ArrayList<>();
        Iterator<CollectiveProvider> it = ServiceLoader.load(CollectiveProvider.class).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                out.add(it.next());
            } catch (ServiceConfigurationError e) {
                // a broken jar: the others are still tried, and open() names what is missing
            }
        }
        return out;
    }

    /** Each provider's probe for {@code launcher}, best rank first. */
    public static List<Found> probeAll(List<CollectiveProvider> providers, Launcher launcher) {
        List<Found> out = new ArrayList<>();
        for (CollectiveProvider p : providers) {
            Availability a;
            try {
                a = p.probe(launcher);
            } catch (RuntimeException | LinkageError e) {
                a = Availability.no("probe failed: " + e);
            }
            out.add(new Found(p.name(), p.rank(), a, p));
        }
        out.sort(Comparator.comparingInt(Found::rank));
        return out;
    }
}
