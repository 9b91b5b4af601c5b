package dev.recur.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CollectivesTest {

    @Test
    void launchersAreToldByTheirVariables() {
        assertEquals(new Launcher(Launcher.Kind.OPEN_MPI, 1, 4, "OMPI_COMM_WORLD_SIZE=4, OMPI_COMM_WORLD_RANK=1"),
                Launcher.detect(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "1",
                        "SLURM_PROCID", "0", "SLURM_STEP_NUM_TASKS", "1")).orElseThrow());
        assertEquals(Launcher.Kind.PMI, Launcher.detect(Map.of("PMI_SIZE", "2", "PMI_RANK", "0")).orElseThrow().kind());
        assertEquals(Launcher.Kind.SLURM, Launcher.detect(Map.of("SLURM_PROCID", "3", "SLURM_STEP_NUM_TASKS", "8"))
                .orElseThrow().kind());
        // A batch script's shell: SLURM_PROCID without a step's task count is no launcher.
        assertTrue(Launcher.detect(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "8")).isEmpty());
        assertTrue(Launcher.detect(Map.of()).isEmpty());
        CollectiveException e = assertThrows(CollectiveException.class,
                () -> Launcher.detect(Map.of("PMI_SIZE", "2", "PMI_RANK", "2")));
        assertEquals("the launcher's variables do not fit: PMI_RANK=2, PMI_SIZE=2 (expected 0 <= rank < size)",
                e.getMessage());
        e = assertThrows(CollectiveException.class, () -> Launcher.detect(Map.of("PMI_SIZE", "two", "PMI_RANK", "0")));
        assertEquals("the launcher's variable PMI_SIZE is 'two', not a number", e.getMessage());
    }

    @Test
    void noLauncherOrOneRankIsASingleProcess() {
        assertInstanceOf(SingleProcessCollective.class, Collectives.open(Map.of(), List.of()));
        assertInstanceOf(SingleProcessCollective.class,
                Collectives.open(Map.of("OMPI_COMM_WORLD_SIZE", "1", "OMPI_COMM_WORLD_RANK", "0"), List.of()));
    }

    @Test
    void severalRanksWithoutABindingStopWithTheReason() {
        Map<String, String> env = Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "1");
        CollectiveException e = assertThrows(CollectiveException.class, () -> Collectives.open(env, List.of()));
        assertTrue(e.getMessage().startsWith("launched by Open MPI mpirun (OMPI_COMM_WORLD_SIZE=2,"
                + " OMPI_COMM_WORLD_RANK=1) as rank 1 of 2, but no collective binding is on the class path"), e.getMessage());
        CollectiveProvider missing = new CollectiveProvider() {
            public String name() {
                return "mpi";
            }

            public int rank() {
                return 1;
            }

            public Availability probe(Launcher l) {
                return Availability.no("libmpi.so.40: not found");
            }

            public Collective open(Launcher l) {
                throw new AssertionError("opened an unavailable provider");
            }
        };
        e = assertThrows(CollectiveException.class, () -> Collectives.open(env, List.of(missing)));
        assertTrue(e.getMessage().endsWith("but no collective library could be bound: mpi: libmpi.so.40: not found"),
                e.getMessage());
        e = assertThrows(CollectiveException.class,
                () -> Collectives.open(Map.of("RECUR_COLLECTIVE", "mpi"), List.of(missing)));
        assertTrue(e.getMessage().startsWith("RECUR_COLLECTIVE=mpi asks for a distributed run, but no launcher"),
                e.getMessage());
    }

    @Test
    void aSingleProcessLeavesDataAsItIs() {
        try (Collective c = new SingleProcessCollective()) {
            float[] x = {1, 2, 3};
            c.allReduce(x, Collective.Reduction.AVERAGE);
            c.broadcast(x, 0);
            c.barrier();
            assertArrayEquals(new float[] {1, 2, 3}, x);
            assertEquals(0, c.rank());
            assertEquals(1, c.worldSize());
            assertThrows(IllegalArgumentException.class, () -> c.allReduce(x, 2, 2, Collective.Reduction.SUM));
            assertThrows(IllegalArgumentException.class, () -> c.broadcast(x, 1));
        }
    }
}
