package dev.recur.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The generator of the checkpoint files kept under {@code src/test/resources/checkpoints/}, which
 * {@link CheckpointFixtureTest} loads to prove that files written by older versions of Recur still
 * load.
 *
 * <p>Never change what a committed fixture's method builds: the file is a record of what that
 * format version wrote. A new format version gets a new method and a new file beside the old ones.
 *
 * <p>Regenerate (only when adding a fixture), from the repository root:
 * <pre>
 *   ./mvnw -B -ntp -pl models -am test -Dtest=CheckpointFixtures -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Drecur.fixtures.write=true
 * </pre>
 * or run {@link #main} with the working directory {@code models/}.
 */
public final class CheckpointFixtures {

    /** The committed format-version-1 fixture, relative to the models module folder. */
    static final Path V1_SMALL = Path.of("src/test/resources/checkpoints/recur-v1-small.safetensors");
    /** The same content in format version 2 (the checksum covers the header too). */
    static final Path V2_SMALL = Path.of("src/test/resources/checkpoints/recur-v2-small.safetensors");

    /**
     * A one-layer LSTM (I = 3, H = 2, so G*H = 8) with a 5-symbol embedding, Adam state for one
     * weight, and every metadata key of format version 1. Values are k/8 for small integers k
     * (exact in float32), one {@code -0.0}, and the extremes of float32.
     */
    static Checkpoint v1Small() {
        return Checkpoint.builder()
                .tensor("embedding.weight", new int[] {5, 3}, ramp(15, 0))
                .tensor("weight_ih_l0", new int[] {8, 3}, ramp(24, 1))                       // [4H, I]
                .tensor("weight_hh_l0", new int[] {8, 2}, ramp(16, 2))                       // [4H, H]
                .tensor("bias_ih_l0", new int[] {8}, ramp(8, 3))                             // [4H]
                .tensor("bias_hh_l0", new int[] {8}, new float[] {-0.0f, 0f, Float.MIN_VALUE, -Float.MIN_VALUE,
                        Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL, 1f})            // [4H]
                .tensor("optimizer.adam.m.weight_hh_l0", new int[] {8, 2}, ramp(16, 4))
                .tensor("optimizer.adam.step", new int[] {}, new float[] {7f})                 // scalar
                .modelConfig("{\"cell\":\"lstm\",\"input_size\":3,\"hidden_size\":2,\"num_layers\":1,\"vocab\":5}")
                .optimizer("adam lr=0.002 beta1=0.9 beta2=0.999 eps=1e-8")
                .dataPosition("42")
                .step(7)
                .seed(1234567890123L)
                .metadata("vocabulary", "\n !ab")
                .build();
    }

    /** Value i is ((i * 7 + seed) % 17 - 8) / 8. */
    static float[] ramp(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ((i * 7 + seed) % 17 - 8) / 8f;
        }
        return v;
    }

    /** Writes the current version's fixture; the working directory must be the models module folder. */
    public static void main(String[] args) throws IOException {
        // The version 1 fixture was written by the version 1 writer (commit 71b68c9 and before)
        // and is kept as it is; only the current version's is written.
        Files.createDirectories(V2_SMALL.getParent());
        v1Small().write(V2_SMALL);
        System.out.println("wrote " + V2_SMALL.toAbsolutePath() + " (" + Files.size(V2_SMALL) + " bytes)");
    }

    /** The same as {@link #main}, from Maven; skipped unless {@code -Drecur.fixtures.write=true}. */
    @Test
    @EnabledIfSystemProperty(named = "recur.fixtures.write", matches = "true")
    void writeFixtures() throws IOException {
        main(new String[0]);
    }
}
