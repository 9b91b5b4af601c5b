package dev.recur.mpi;

import dev.recur.api.Availability;
import dev.recur.api.Collective;
import dev.recur.api.CollectiveException;
import dev.recur.api.CollectiveProvider;
import dev.recur.api.Launcher;

/**
 * Registers MPI as a collective for {@link dev.recur.api.Collectives}: available when a
 * {@code libmpi} of a known family ({@link MpiLibrary}) opens for the launcher that started this
 * process.
 */
public final class MpiProvider implements CollectiveProvider {

    @Override
    public String name() {
        return "mpi";
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public Availability probe(Launcher launcher) {
        try {
            return Availability.yes(MpiLibrary.open(launcher.kind()).toString());
        } catch (IllegalStateException e) {
            return Availability.no(e.getMessage());
        }
    }

    @Override
    public Collective open(Launcher launcher) {
        MpiLibrary lib;
        try {
            lib = MpiLibrary.open(launcher.kind());
        } catch (IllegalStateException e) {
            throw new CollectiveException(e.getMessage(), e);
        }
        return new MpiCollective(lib, launcher);
    }
}
