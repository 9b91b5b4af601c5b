package dev.recur.models.io;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * An advisory lock on a checkpoint path for the length of a run: {@code NAME.lock} beside the
 * checkpoint, locked with the operating system's file lock (released by the OS when the process
 * dies, so a killed run never leaves a stale lock), holding the holder's pid and start time for
 * the message a second run gets. While holding it, temporary files that killed writes of the same
 * checkpoint left behind ({@code .NAME.*.tmp}) are removed.
 */
public final class RunLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code checkpoint}'s path for this run; its folder must exist.
     *
     * @throws CheckpointException when another run holds it, naming that run, or the lock file
     *                             cannot be made
     */
    public static RunLock acquire(Path checkpoint) throws CheckpointException {
        Path file = lockFile(checkpoint);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new CheckpointException(checkpoint, "cannot make the lock file " + file + ": " + e.getMessage(), e);
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // this JVM holds it already
            }
            if (lock == null) {
                String holder = holder(ch);
                ch.close();
                throw new CheckpointException(checkpoint, "is in use by another run (" + holder + "); wait for it"
                        + " to end, or choose another checkpoint file");
            }
            byte[] me = ("pid " + ProcessHandle.current().pid() + " since " + Instant.now() + " ("
                    + ManagementFactory.getRuntimeMXBean().getName() + ")\n").getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me), 0);
            removeStaleTemporaries(checkpoint);
            return new RunLock(ch, lock);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the lock failed already and says why
            }
            throw new CheckpointException(checkpoint, "cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code runs/a.safetensors} gives {@code runs/a.safetensors.lock}. */
    public static Path lockFile(Path checkpoint) {
        return checkpoint.resolveSibling(checkpoint.getFileName() + ".lock");
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(512);
            int n = ch.read(b, 0);
            String s = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "a run that has not written its name yet" : s;
        } catch (IOException e) {
            return "unknown holder";
        }
    }

    /** Deletes {@code .NAME.*.tmp} beside {@code checkpoint}: what {@link AtomicFiles} left when killed. */
    static int removeStaleTemporaries(Path checkpoint) throws IOException {
        Path dir = checkpoint.toAbsolutePath().getParent();
        String glob = "." + checkpoint.getFileName() + ".*.tmp";
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p) && Files.deleteIfExists(p)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
