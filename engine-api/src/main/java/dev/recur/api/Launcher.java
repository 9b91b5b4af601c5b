package dev.recur.api;

import java.util.Map;
import java.util.Optional;

/**
 * The job launcher this process was started by, read from the environment it sets for each rank:
 * Open MPI's {@code mpirun} ({@code OMPI_COMM_WORLD_RANK}, {@code OMPI_COMM_WORLD_SIZE}), a PMI
 * launcher such as MPICH's Hydra {@code mpiexec} or Slurm with PMI ({@code PMI_RANK},
 * {@code PMI_SIZE}), or Slurm's {@code srun} ({@code SLURM_PROCID}, {@code SLURM_STEP_NUM_TASKS}).
 *
 * @param kind     {@link Kind}
 * @param rank     this process' rank as the launcher numbers them
 * @param size     how many processes it started
 * @param evidence the variables it was recognised by, e.g. {@code "OMPI_COMM_WORLD_SIZE=2"}
 */
public record Launcher(Kind kind, int rank, int size, String evidence) {

    /** Which launcher; each points at the MPI libraries it works with. */
    public enum Kind {
        /** Open MPI's mpirun / mpiexec / prterun. */
        OPEN_MPI("Open MPI mpirun"),
        /** A PMI launcher: MPICH's (or Intel MPI's) Hydra mpiexec, or Slurm with --mpi=pmi2. */
        PMI("PMI launcher (MPICH mpiexec or Slurm PMI)"),
        /** Slurm's srun without PMI variables. */
        SLURM("Slurm srun");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** The launcher in this process' environment, if any. */
    public static Optional<Launcher> detect() {
        return detect(System.getenv());
    }

    /**
     * The launcher that {@code env} shows, if any. Open MPI is asked first (its mpirun also runs
     * under Slurm, which then sets SLURM_* as well), then PMI, then Slurm.
     *
     * @throws CollectiveException when a launcher's variables are there but not numbers, or the
     *                             rank is not below the size
     */
    public static Optional<Launcher> detect(Map<String, String> env) {
        Optional<Launcher> l = pair(env, Kind.OPEN_MPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE");
        if (l.isEmpty()) {
            l = pair(env, Kind.PMI, "PMI_RANK", "PMI_SIZE");
        }
        if (l.isEmpty()) {
            // SLURM_PROCID alone is also set in a batch script's shell; SLURM_STEP_NUM_TASKS only
            // inside a step that srun started.
            l = pair(env, Kind.SLURM, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS");
        }
        return l;
    }

    private static Optional<Launcher> pair(Map<String, String> env, Kind kind, String rankName, String sizeName) {
        String rank = env.get(rankName);
        String size = env.get(sizeName);
        if (rank == null || size == null) {
            return Optional.empty();
        }
        int r = number(rankName, rank);
        int s = number(sizeName, size);
        if (s < 1 || r < 0 || r >= s) {
            throw new CollectiveException("the launcher's variables do not fit: " + rankName + "=" + rank + ", "
                    + sizeName + "=" + size + " (expected 0 <= rank < size)");
        }
        return Optional.of(new Launcher(kind, r, s, sizeName + "=" + size + ", " + rankName + "=" + rank));
    }

    private static int number(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new CollectiveException("the launcher's variable " + name + " is '" + value + "', not a number");
        }
    }

    @Override
    public String toString() {
        return kind + " (" + evidence + ")";
    }
}
