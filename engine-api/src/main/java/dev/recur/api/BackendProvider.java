package dev.recur.api;

/**
 * The service-provider interface through which an engine registers itself
 * ({@code META-INF/services/dev.recur.api.BackendProvider}).
 *
 * <p>Order of calls: {@link Backends} instantiates providers (constructors must do no I/O),
 * asks {@link #probe()} which may load native libraries and look for devices, and calls
 * {@link #create()} only when the probe said yes.
 */
public interface BackendProvider {

    /** Short lower-case name used with {@code -Drecur.backend=NAME} / {@code RECUR_BACKEND}. */
    String name();

    /** Preference: the lowest-ranked available backend is the best (cuda 10, cpu 100). */
    int rank();

    /** Whether this backend can run on this machine, and if not, why. Must not throw. */
    Availability probe();

    /** Creates the backend. Only called after {@link #probe()} said it is available. */
    Backend create();
}
