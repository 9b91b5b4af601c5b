package dev.recur.api;

/**
 * A collective library binding, registered for {@link java.util.ServiceLoader} (as the engines'
 * {@link BackendProvider}s are) and chosen by {@link Collectives#open}.
 *
 * <p>Order of calls: {@link #probe} (loads nothing that cannot be unloaded by closing, joins no
 * job), then at most one {@link #open} per process.
 */
public interface CollectiveProvider {

    /** Short name, e.g. {@code "mpi"}; {@code RECUR_COLLECTIVE} forces one by it. */
    String name();

    /** Lower is preferred among the available ones. */
    int rank();

    /**
     * Whether this binding can serve a job that {@code launcher} started (its library found and
     * its symbols bound), with the reason when not. No I/O beyond finding the library.
     */
    Availability probe(Launcher launcher);

    /**
     * Joins the job (e.g. MPI_Init) and returns this process' view of it.
     *
     * @throws CollectiveException when the library fails to start, or sees another world than the
     *                             launcher announced
     */
    Collective open(Launcher launcher);
}
