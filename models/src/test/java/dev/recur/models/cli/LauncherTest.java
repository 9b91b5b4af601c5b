package dev.recur.models.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The repository's shell scripts, run for real with bash: {@code ./recur} runs the command in the
 * caller's working directory, and {@code ./mvnw} under a JDK older than 25 finds a JDK 25 or stops
 * with one line saying why.
 *
 * <p>No Maven build runs from inside this test: {@code recur} is given this JVM's own class path
 * ({@code RECUR_CLASSPATH}, which skips its build step) and this JVM's {@code java.home} as
 * JAVA_HOME. The old JDK is a fake {@code java} that prints {@code openjdk version "17.0.2"};
 * {@code RECUR_JDK_DIRS} confines scripts/find-jdk.sh's search to what the test names. mvnw runs
 * Maven only for {@code -v}, only when the wrapper's Maven is already unpacked (otherwise that test
 * is skipped: the wrapper would download it), and with an unreachable proxy besides.
 */
class LauncherTest {

    /** The repository: the folder above models/ that holds the recur script. */
    private static Path repo;
    private static String bash;

    @TempDir
    Path dir;

    @BeforeAll
    static void findBashAndTheRepository() {
        bash = Stream.concat(Stream.of("/bin/bash", "/usr/bin/bash"),
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                                .filter(p -> !p.isEmpty()).map(p -> p + "/bash"))
                .filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
        if (bash == null) {
            System.out.println("LauncherTest: skipped: no bash in /bin, /usr/bin or on PATH");
        }
        skipUnless(bash != null, "no bash in /bin, /usr/bin or on PATH: the launcher scripts need it");
        Path here = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("recur")) && Files.isRegularFile(p.resolve("scripts/find-jdk.sh"))) {
                repo = p;
                break;
            }
        }
        assertTrue(repo != null, "no folder above " + here + " holds recur and scripts/find-jdk.sh");
    }

    /** A finished child: exit status and both streams. */
    private record Result(int status, String out, String err) {
        @Override
        public String toString() {
            return "exit status " + status + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    /** Runs {@code command} in {@code cwd} with the environment changed by {@code env} (a null value removes). */
    private static Result run(Path cwd, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        Map<String, String> e = pb.environment();
        for (String name : List.of("RECUR_JAVA_OPTS", "RECUR_BACKEND", "RECUR_CLASSPATH", "RECUR_JDK_DIRS",
                "RECUR_RUNTIME_ONLY", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "MAVEN_OPTS", "MAVEN_ARGS",
                "MAVEN_PROJECTBASEDIR", "MVNW_VERBOSE", "MVNW_REPOURL")) {
            e.remove(name);
        }
        env.forEach((k, v) -> {
            if (v == null) {
                e.remove(k);
            } else {
                e.put(k, v);
            }
        });
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 180 s; stderr:\n"
                        + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The environment that makes recur run this JVM's class path on this JVM's java, on the cpu engine. */
    private static Map<String, String> prebuilt() {
        return Map.of("RECUR_CLASSPATH", System.getProperty("java.class.path"),
                "JAVA_HOME", System.getProperty("java.home"),
                "RECUR_BACKEND", "cpu",
                "RECUR_JAVA_OPTS", "-Drecur.cpu.threads=1 -Djava.awt.headless=true");
    }

    /** Twenty rows of {@code step,value}: a ramp, enough for --window 3 and a 20% test part. */
    private static void series(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        StringBuilder sb = new StringBuilder("step,value\n");
        for (int i = 0; i < 20; i++) {
            sb.append(i).append(',').append(10 + i % 7).append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    private static FileTime modified(Path p) throws IOException {
        return Files.exists(p) ? Files.getLastModifiedTime(p) : null;
    }

    @Test
    void recurReadsRelativePathsAndWritesRunsWhereTheCallerStands() throws Exception {
        series(dir.resolve("data/series.csv"));
        Path repoPlot = repo.resolve(ForecastCommand.DEFAULT_PLOT);
        FileTime before = modified(repoPlot);

        Result r = run(dir, prebuilt(), bash, repo.resolve("recur").toString(),
                "forecast", "--data", "data/series.csv", "--window", "3", "--epochs", "1", "--hidden", "4");
        assertEquals(Recur.EXIT_OK, r.status(), r.toString());
        assertTrue(r.out().contains("over 4 test values of 'value'"), r.toString()); // round(20 * 0.2)
        Path plot = dir.resolve(ForecastCommand.DEFAULT_PLOT);
        assertTrue(Files.size(plot) > 0, "no " + plot + "\n" + r);
        assertEquals(before, modified(repoPlot), "the repository's " + ForecastCommand.DEFAULT_PLOT + " was written");
    }

    @Test
    void recurThroughASymlinkStillFindsTheRepositoryAndKeepsTheCallersFolder() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path link = Files.createSymbolicLink(bin.resolve("recur"), repo.resolve("recur"));
        Path work = Files.createDirectories(dir.resolve("work"));
        series(work.resolve("series.csv"));

        Result r;
        try {
            r = run(work, prebuilt(), bash, link.toString(),
                    "forecast", "--data", "series.csv", "--window", "3", "--epochs", "1", "--hidden", "4",
                    "--plot", "plots/p.png");
        } finally {
            Files.delete(link); // JUnit's clean-up warns about a link that points out of the temporary folder
        }
        assertEquals(Recur.EXIT_OK, r.status(), r.toString());
        assertTrue(Files.size(work.resolve("plots/p.png")) > 0, r.toString());
    }

    @Test
    void recurNamesARelativeFileThatIsNotWhereTheCallerStands() throws Exception {
        Result r = run(dir, prebuilt(), bash, repo.resolve("recur").toString(),
                "forecast", "--data", "missing.csv", "--epochs", "1");
        assertEquals(Recur.EXIT_FAILED, r.status(), r.toString());
        assertEquals("", r.out());
        // The JVM's own "WARNING: Using incubator modules" line aside, one line naming the file.
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
        assertEquals(List.of("recur forecast: missing.csv: no such file"), lines, r.toString());
    }

    /** A JDK home whose java says it is 17.0.2 and fails if anything but -version is asked of it. */
    private Path fakeOldJdk() throws IOException {
        Path home = dir.resolve("old-jdk");
        Path bin = Files.createDirectories(home.resolve("bin"));
        for (String tool : List.of("java", "javac")) {
            Path f = bin.resolve(tool);
            Files.writeString(f, """
                    #!/bin/sh
                    case "$1" in -version) echo 'openjdk version "17.0.2" 2022-01-18' >&2; exit 0 ;; esac
                    echo "fake java 17 was run: $*" >&2
                    exit 97
                    """);
            assertTrue(f.toFile().setExecutable(true));
        }
        return home;
    }

    private Map<String, String> oldJavaFirstOnPath(Path oldJdk, String jdkDirs) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("JAVA_HOME", null);
        env.put("PATH", oldJdk.resolve("bin") + File.pathSeparator + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("RECUR_JDK_DIRS", jdkDirs);
        // Should the wrapper try to download Maven after all, it reaches nothing.
        env.put("http_proxy", "http://127.0.0.1:9");
        env.put("https_proxy", "http://127.0.0.1:9");
        return env;
    }

    @Test
    void mvnwUnderAnOldJavaWithNoJdk25FoundSaysSoInOneLine() throws Exception {
        Path old = fakeOldJdk();
        Path nothing = Files.createDirectories(dir.resolve("no-jdks-here"));
        Result r = run(repo, oldJavaFirstOnPath(old, nothing.toString()), repo.resolve("mvnw").toString(), "-v");
        assertEquals(1, r.status(), r.toString());
        assertEquals("", r.out(), r.toString());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), r.toString());
        String line = lines.get(0);
        assertTrue(line.startsWith("mvnw: Recur needs JDK 25 or newer; the java on PATH (JAVA_HOME is unset) is 17.0.2 at "
                + old.resolve("bin/java")), line);
        assertTrue(line.contains("scripts/find-jdk.sh found no JDK 25"), line);
        assertTrue(line.contains("RECUR_JDK_DIRS (" + nothing + ")"), line);
        assertFalse(line.contains("Unrecognized option"), line);

        // The same with JAVA_HOME naming the old JDK.
        Map<String, String> env = oldJavaFirstOnPath(old, nothing.toString());
        env.put("JAVA_HOME", old.toString());
        Result viaHome = run(repo, env, repo.resolve("mvnw").toString(), "-v");
        assertEquals(1, viaHome.status(), viaHome.toString());
        assertTrue(viaHome.err().startsWith("mvnw: Recur needs JDK 25 or newer; JAVA_HOME is 17.0.2 at "
                + old.resolve("bin/java")), viaHome.toString());
    }

    @Test
    void mvnwUnderAnOldJavaUsesTheJdk25ThatFindJdkFinds() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        skipUnless(Files.isExecutable(jdk.resolve("bin/javac")), "this JVM (" + jdk + ") is not a full JDK");
        Path maven = wrapperMaven();
        if (maven == null) {
            System.out.println("LauncherTest: mvnw -v skipped: the wrapper's Maven is not unpacked under ~/.m2/wrapper/dists");
        }
        skipUnless(maven != null, "the wrapper's Maven is not unpacked under ~/.m2/wrapper/dists; mvnw would download it");

        Path old = fakeOldJdk();
        Result r = run(repo, oldJavaFirstOnPath(old, jdk.toString()), repo.resolve("mvnw").toString(), "-v");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().startsWith("mvnw: the java on PATH (JAVA_HOME is unset) is 17.0.2 at " + old.resolve("bin/java")
                + ", too old for Recur; using the JDK 25 that scripts/find-jdk.sh found at " + jdk), r.toString());
        assertTrue(r.out().contains("Apache Maven "), r.toString());
        assertTrue(r.out().contains("runtime: " + jdk), r.toString());
    }

    /** The Maven that .mvn/wrapper/maven-wrapper.properties names, when the wrapper has unpacked it; else null. */
    private static Path wrapperMaven() throws IOException {
        Properties props = new Properties();
        try (var in = Files.newInputStream(repo.resolve(".mvn/wrapper/maven-wrapper.properties"))) {
            props.load(in);
        }
        String url = props.getProperty("distributionUrl", "");
        String name = url.substring(url.lastIndexOf('/') + 1).replaceFirst("\\.zip$", "").replaceFirst("-bin$", "");
        String userHome = System.getenv("MAVEN_USER_HOME");
        Path dists = (userHome != null ? Path.of(userHome) : Path.of(System.getProperty("user.home"), ".m2"))
                .resolve("wrapper/dists").resolve(name);
        if (name.isEmpty() || !Files.isDirectory(dists)) {
            return null;
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(dists)) {
            s.map(d -> d.resolve("bin/mvn")).filter(Files::isExecutable).forEach(found::add);
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /** Skips the calling test, printing why, when {@code condition} does not hold. */
    private static void skipUnless(boolean condition, String why) {
        if (!condition) {
            System.out.println("LauncherTest skipped: " + why);
        }
        assumeTrue(condition, why);
    }
}
