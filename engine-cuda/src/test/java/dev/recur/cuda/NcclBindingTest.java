package dev.recur.cuda;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Nccl#bind} against a real {@code libnccl.so.2} where this machine has one (named by
 * {@code RECUR_NCCL}, as .ci/run does with the nvidia-nccl-cu13 wheel from the local package index,
 * or in a pip wheel's {@code nvidia/nccl/lib}); skipped where it has none. Loading and binding
 * need no GPU: every function Recur calls must be there (ncclGetUniqueId, ncclCommInitRank with
 * its 128-byte id by value, ncclAllReduce, ncclBroadcast, ncclCommDestroy, ncclGroupStart/End,
 * ncclGetErrorString), {@code ncclGetVersion} must give a 2.x version and the error strings must
 * come back through the {@code const char*} downcall. The process-wide {@link Nccl#library} cache is
 * not touched. What needs GPUs (a communicator, an all-reduce) is not tested here.
 */
class NcclBindingTest {

    @Test
    void everyFunctionBindsInTheLibraryFilesOnThisMachine() {
        List<CublasLocator.Candidate> files = Nccl.candidates(System.getenv(), Path.of("/")).stream()
                .filter(c -> c.file() != null).toList();
        assumeTrue(!files.isEmpty(), "SKIPPED: no libnccl.so.2 file on this machine (set RECUR_NCCL to name one,"
                + " e.g. from NVIDIA's nvidia-nccl-cu13 wheel)");
        for (CublasLocator.Candidate c : files) {
            Nccl.Library lib = Nccl.bind(c);
            assertTrue(lib.version() >= 20000 && lib.version() < 30000, c.describe() + ": version " + lib.version());
            assertTrue(lib.versionString().startsWith("2."), lib.versionString());
            assertEquals("no error", lib.errorString(Nccl.NCCL_SUCCESS), c.describe());
            assertTrue(lib.errorString(Nccl.NCCL_INVALID_ARGUMENT).contains("invalid argument"),
                    lib.errorString(Nccl.NCCL_INVALID_ARGUMENT));
            System.out.println("NcclBindingTest: bound " + lib.describe());
        }
    }

    @Test
    void theEnvironmentsFileComesFirstThenTheLoaderThenWheels(@org.junit.jupiter.api.io.TempDir Path root)
            throws Exception {
        Path wheel = root.resolve("usr/local/lib/python3.11/dist-packages/nvidia/nccl/lib/libnccl.so.2");
        Files.createDirectories(wheel.getParent());
        Files.writeString(wheel, "not a library");
        Path named = root.resolve("opt/nccl/libnccl.so.2");
        Files.createDirectories(named.getParent());
        Files.writeString(named, "not a library");
        List<CublasLocator.Candidate> c = Nccl.candidates(Map.of(Nccl.ENVIRONMENT, named.toString()), root);
        assertEquals(named, c.get(0).file());
        assertEquals(new CublasLocator.Candidate("libnccl.so.2", null), c.get(1));
        assertTrue(c.stream().anyMatch(x -> wheel.equals(x.file())), c.toString());
    }
}
