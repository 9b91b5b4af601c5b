package dev.recur.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where a measurement was taken, for the report's header: CPU model, cores, JDK and the git
 * commit of the working tree.
 *
 * @param cpuModel   the {@code model name} line of {@code /proc/cpuinfo}, else {@code os.arch}
 * @param cores      {@code Runtime.availableProcessors()}: the threads every engine may use
 * @param jdk        {@code Runtime.version()} and vendor
 * @param os         OS name and version
 * @param commit     {@code git rev-parse --short HEAD}, with {@code -dirty} when the tree has changes; "unknown" outside git
 */
public record Machine(String cpuModel, int cores, String jdk, String os, String commit) {

    /** This machine and the git working tree the JVM was started in. */
    public static Machine current() {
        return new Machine(readCpuModel(), Runtime.getRuntime().availableProcessors(),
                Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ")",
                System.getProperty("os.name", "?") + " " + System.getProperty("os.version", ""),
                readGitCommit());
    }

    static String readCpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        try {
            if (Files.isReadable(cpuinfo)) {
                for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
                    if (line.startsWith("model name")) {
                        int colon = line.indexOf(':');
                        if (colon >= 0) {
                            return line.substring(colon + 1).strip();
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Fall back to the architecture below.
        }
        return System.getProperty("os.arch", "unknown");
    }

    static String readGitCommit() {
        String head = git("rev-parse", "--short", "HEAD");
        if (head == null || head.isBlank()) {
            return "unknown";
        }
        String status = git("status", "--porcelain", "--untracked-files=no");
        return head.strip() + (status != null && !status.isBlank() ? "-dirty" : "");
    }

    private static String git(String... args) {
        try {
            Process p = new ProcessBuilder(concat("git", args)).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return null;
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static List<String> concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return List.of(all);
    }
}
