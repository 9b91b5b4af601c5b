package dev.recur.models.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replacing a file so that a crash never leaves half of it: write a temporary file beside it,
 * force it to the disk, rename it over the target.
 *
 * <p>The temporary file is {@code .<name>.<random>.tmp} in the target's folder (a rename is
 * atomic only within one file system). It is created with the default permissions, as the
 * target would be. The rename is {@code ATOMIC_MOVE}; where the file system cannot do that,
 * {@code REPLACE_EXISTING}, which may leave a moment with no target but never a partial one.
 * After the rename the folder itself is forced where the platform allows (Linux), so the new
 * name survives a power cut too.
 */
final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Writes the whole content of the new file into an open channel positioned at 0. */
    interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Replaces {@code target} with what {@code body} writes.
     *
     * @throws CheckpointException naming {@code target} when anything fails; the old target is
     *                             then untouched and the temporary file removed
     */
    static void replace(Path target, Body body) throws CheckpointException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CheckpointException(target, "cannot write: the folder " + dir + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new CheckpointException(target, "cannot write: it is a folder");
        }
        Path tmp = dir.resolve("." + absolute.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            forceFolder(dir);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException(target, "cannot write: " + describe(e), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The write already failed and says why; a stray .tmp file is the lesser harm.
                }
            }
        }
    }

    /** Makes a rename durable: fsync on the folder. Not possible on every platform (Windows). */
    private static void forceFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // The file itself is on the disk; only the rename might be lost to a power cut.
        }
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException a) {
            return "permission denied (" + a.getFile() + ")";
        }
        if (e instanceof NoSuchFileException n) {
            return "no such file or folder (" + n.getFile() + ")";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason() + " (" + f.getFile() + ")";
        }
        return String.valueOf(e.getMessage() == null ? e.toString() : e.getMessage());
    }
}
