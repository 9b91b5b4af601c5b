package dev.recur.cpu;

import dev.recur.api.Backend;
import dev.recur.api.BackendUnavailableException;
import dev.recur.api.Backends;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} finds the cpu engine
 * unavailable, with the flag in the reason, rather than choosing it and failing later with
 * NoClassDefFoundError in the kernels. The test JVM has the module (surefire.argLine), so the
 * check runs {@link Child} in a second JVM: this JVM's java and class path, without the flag.
 */
class VectorApiMissingTest {

    /** Prints the cpu engine's probe, then what asking for it by name does. */
    public static final class Child {
        public static void main(String[] args) {
            for (Backends.Found f : Backends.discover()) {
                System.out.println("probe " + f.name() + " " + f.availability().available() + " "
                        + f.availability().reason());
            }
            try (Backend b = Backends.named("cpu")) {
                System.out.println("created " + b.name());
            } catch (BackendUnavailableException e) {
                System.out.println("unavailable " + e.getMessage());
            }
        }
    }

    @Test
    void withoutTheModuleTheCpuEngineIsUnavailableWithTheReason() throws Exception {
        List<String> lines = runChild(List.of());
        assertEquals(List.of(
                "probe cpu false " + CpuBackendProvider.NO_VECTOR_API,
                "unavailable backend 'cpu' was asked for but is not available: " + CpuBackendProvider.NO_VECTOR_API),
                lines);
        assertTrue(CpuBackendProvider.NO_VECTOR_API.contains("--add-modules jdk.incubator.vector"));
    }

    @Test
    void withTheModuleTheSameChildCreatesTheCpuEngine() throws Exception {
        // The control: the child, its class path and its java work when only the flag is added.
        List<String> lines = runChild(List.of("--add-modules", "jdk.incubator.vector"));
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("probe cpu true pure Java"), lines.get(0));
        assertEquals("created cpu", lines.get(1));
    }

    @Test
    void thisJvmHasTheModule() {
        assertTrue(CpuBackendProvider.vectorApiLoads(), "surefire.argLine adds jdk.incubator.vector");
        assertFalse(Backends.discover().isEmpty());
    }

    /** Runs {@link Child} in a fresh JVM with {@code jvmOptions}; its stdout lines (stderr must hold no error). */
    private static List<String> runChild(List<String> jvmOptions) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>();
        command.add(java.toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-Drecur.cpu.threads=1", "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        Path err = Files.createTempFile("vector-api-child", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
            // Neither a forced engine nor JVM options from the environment may change the child.
            pb.environment().remove(Backends.ENVIRONMENT);
            pb.environment().remove("JDK_JAVA_OPTIONS");
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish in 60 s");
            String stderr = Files.readString(err);
            assertEquals(0, p.exitValue(), "child exit status; stderr:\n" + stderr);
            assertFalse(stderr.contains("Error") || stderr.contains("Exception"), stderr);
            return out.lines().toList();
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
