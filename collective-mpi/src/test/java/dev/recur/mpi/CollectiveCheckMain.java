package dev.recur.mpi;

import dev.recur.api.Collective;
import dev.recur.api.CollectiveException;
import dev.recur.api.Collectives;

import java.util.Arrays;

/**
 * One rank of {@link MpiCollectiveTest}'s job: binds the collective the launcher implies, runs each
 * operation on small integers (exact in float32, so every rank can be checked for equality) and
 * prints one line per result for the test to read. A binding that fails prints
 * {@code bind failed: REASON} and exits 1, as the command line does.
 */
public final class CollectiveCheckMain {

    private CollectiveCheckMain() {
    }

    public static void main(String[] args) {
        Collective c;
        try {
            c = Collectives.open();
        } catch (CollectiveException e) {
            System.out.println("bind failed: " + e.getMessage());
            System.exit(1);
            return;
        }
        try (c) {
            int r = c.rank();
            int n = c.worldSize();
            // [3]: rank r contributes (r+1, 10(r+1), -(r+1)); the sums are n(n+1)/2 times (1, 10, -1).
            float[] sum = {r + 1, 10 * (r + 1), -(r + 1)};
            c.allReduce(sum, Collective.Reduction.SUM);
            // [2]: rank r contributes (2r, 4r); the averages are (n-1, 2(n-1)).
            float[] avg = {2 * r, 4 * r};
            c.allReduce(avg, Collective.Reduction.AVERAGE);
            // An offset range: only [1, 3) is reduced; the ends stay this rank's.
            float[] part = {100 + r, 1, 2, 100 + r};
            c.allReduce(part, 1, 2, Collective.Reduction.SUM);
            // Broadcast from the last rank: every rank ends with its values.
            float[] bcast = {r, r * 2f, r * 3f};
            c.broadcast(bcast, n - 1);
            byte[] bytes = new byte[128]; // NCCL's unique id is 128 bytes
            if (r == 0) {
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) (i * 7 + 1);
                }
            }
            c.broadcast(bytes, 0);
            c.barrier();
            System.out.println("rank " + r + " of " + n + " bound " + c.description());
            System.out.println("rank " + r + " sum " + Arrays.toString(sum));
            System.out.println("rank " + r + " avg " + Arrays.toString(avg));
            System.out.println("rank " + r + " part " + Arrays.toString(part));
            System.out.println("rank " + r + " bcast " + Arrays.toString(bcast));
            System.out.println("rank " + r + " bytes " + Arrays.hashCode(bytes));
        }
    }
}
