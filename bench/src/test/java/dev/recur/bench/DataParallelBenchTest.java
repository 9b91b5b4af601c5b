package dev.recur.bench;

import dev.recur.models.cli.Recur;
import dev.recur.models.data.TextCorpus;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code recur bench data-parallel} on a tiny char-LM: it measures 1 process, starts
 * {@code mpirun -np 2} over TCP for the 2-rank line, and the bytes it reports all-reduced per step
 * are exactly 4 per parameter. Checks the plumbing, not the speed. Skipped without mpirun.
 */
class DataParallelBenchTest {

    @Test
    void measuresOneProcessThenTwoRanksAndCountsTheGradientBytes() throws Exception {
        boolean mpirun = false;
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            mpirun |= Files.isExecutable(Path.of(d.isEmpty() ? "." : d, "mpirun"));
        }
        assumeTrue(mpirun, "SKIPPED: no mpirun on the PATH (install openmpi-bin)");
        Streams s = Streams.recur("bench", "data-parallel", "--backend", "cpu", "--hidden", "16", "--layers", "2",
                "--embedding", "8", "--batch", "4", "--window", "8", "--iters", "2", "--warmup", "1", "--threads", "2");
        assertEquals(Recur.EXIT_OK, s.status, s::toString);
        String[] lines = s.out().strip().split("\n");
        assertEquals(3, lines.length, s::toString);
        assertTrue(lines[0].contains("\"ranks\":1,\"threads_per_rank\":2"), lines[0]);
        assertTrue(lines[1].contains("\"ranks\":2,\"threads_per_rank\":1,\"collective\":\"MPI: Open MPI"), lines[1]);
        assertTrue(lines[2].startsWith("{\"op\":\"data_parallel_ratio\""), lines[2]);
        // [V, 8] embedding; per layer 4H(I+H) + 8H with I = 8 then 16; [16, V] head + [V] bias.
        int v = TextCorpus.defaultCorpus().vocabulary().size();
        long params = (long) v * 8 + (4 * 16 * (8 + 16) + 8 * 16) + (4 * 16 * (16 + 16) + 8 * 16) + 16L * v + v;
        assertTrue(lines[1].contains("\"allreduce_bytes_per_step\":" + 4 * params), lines[1] + " vs " + 4 * params);
    }
}
