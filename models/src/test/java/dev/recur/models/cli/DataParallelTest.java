package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.lm.CharLanguageModel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel training for real: {@code mpirun -np 2} over TCP ({@code --mca btl tcp,self}, so
 * the gradients cross sockets) runs the {@code recur} command line in two JVMs of this test's class
 * path, whose collective-mpi jar binds Open MPI at run time. Each check holds the 2-rank run
 * against one process trained on the whole batch, or against another 2-rank run. Skipped, with the
 * reason printed, where there is no {@code mpirun} on the PATH (.ci/run installs Open MPI).
 *
 * <p>The char-LM, a classifier, a translator (whose shares are target words, not pairs) and a
 * forecaster are held against one process.
 *
 * <p>Tolerance of "2 ranks with B/2 each end where 1 process with B ends": both compute the same
 * float32 formulas; only the order of additions over the batch differs (the backward's GEMMs sum
 * B/2 rows on each rank and the all-reduce adds the two partial sums, against B rows in one pass;
 * the shares are 1/2, a power of two, so scaling adds no rounding). That is a few ulps of each
 * gradient per step (relative 1e-7). Adam's update {@code lr·m/(√v+ε)} carries a relative error of
 * the same size into the weights, so after 12 steps at lr 0.01 the weights may differ by about
 * 12 · 0.01 · 1e-6 ≈ 1e-7, and the losses (about 2.9, one ulp 2.4e-7) by a few ulps: measured, at most
 * 1.2e-7 on weights and 2.4e-7 on losses. The bounds below, 2e-6, leave 10x room for other shapes
 * of rounding, and are four orders below what a real fault costs: a rank whose gradients are not
 * reduced moves each weight by up to lr = 1e-2 per step.
 */
class DataParallelTest {

    /** Bound on |Δ| of losses and weights between 2 ranks and 1 process; see the class comment. */
    static final double TOLERANCE = 2e-6;

    @TempDir
    Path dir;

    static Path mpirun;
    static Path corpus;
    static Path sentences;
    static Path pairs;
    static Path series;

    @BeforeAll
    static void find(@TempDir Path shared) throws IOException {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, "mpirun");
            if (mpirun == null && Files.isExecutable(p)) {
                mpirun = p;
            }
        }
        // Data the test makes itself: a text of 10 words for the char-LM, and sentences with one
        // sentiment word for the classifier.
        StringBuilder text = new StringBuilder();
        String[] words = {"river", "stone", "light", "wind", "over", "under", "the", "a", "slow", "bright"};
        Random r = new Random(4);
        while (text.length() < 6000) {
            text.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        }
        corpus = TestFiles.write(shared, "corpus.txt", text.toString());
        String[] filler = {"the", "food", "was", "and", "service", "place", "very", "quite", "today"};
        String[] positive = {"good", "great", "lovely", "fine"};
        String[] negative = {"bad", "awful", "terrible", "poor"};
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            boolean pos = r.nextBoolean();
            int n = 3 + r.nextInt(6);
            int at = r.nextInt(n);
            for (int w = 0; w < n; w++) {
                lines.append(w == 0 ? "" : " ").append(w == at ? (pos ? positive : negative)[r.nextInt(4)]
                        : filler[r.nextInt(filler.length)]);
            }
            lines.append('\t').append(pos ? 1 : 0).append('\n');
        }
        sentences = TestFiles.write(shared, "sentences.txt", lines.toString());
        // Number words in English and French, 1 to 4 of them: target lengths differ from pair to
        // pair, so the ranks' shares of a batch's target words differ from their shares of its pairs.
        String[] en = {"zero", "one", "two", "three", "four", "five", "six", "seven"};
        String[] fr = {"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept"};
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            int n = 1 + r.nextInt(4);
            StringBuilder a = new StringBuilder();
            StringBuilder b = new StringBuilder();
            for (int w = 0; w < n; w++) {
                int k = r.nextInt(en.length);
                a.append(w == 0 ? "" : " ").append(en[k]);
                b.append(w == 0 ? "" : " ").append(fr[k]);
            }
            p.append(a).append(".\t").append(b).append(".\n");
        }
        pairs = TestFiles.write(shared, "pairs.txt", p.toString());
        StringBuilder csv = new StringBuilder("step,value\n");
        for (int i = 0; i < 200; i++) {
            csv.append(i).append(',').append(String.format(java.util.Locale.ROOT, "%.4f",
                    50 + 10 * Math.sin(2 * Math.PI * i / 20) + r.nextGaussian())).append('\n');
        }
        series = TestFiles.write(shared, "sine.csv", csv.toString());
    }

    static void requireMpirun() {
        Assumptions.assumeTrue(mpirun != null, "SKIPPED: no mpirun on the PATH (install openmpi-bin); data-parallel"
                + " training is not tested here");
    }

    record Run(int exit, String output) {
    }

    /** {@code mpirun -np 2} over TCP of {@code recur ARGS} on this test's class path and the cpu engine. */
    static List<String> twoRanks(String... args) {
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", "2",
                "--mca", "btl", "tcp,self", "--mca", "pml", "ob1",
                // Through env: Open MPI's mpirun rewrites the arguments of an application named
                // java (it adds its own Java bindings' class path) and garbles ours.
                "/usr/bin/env", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m",
                "-Drecur.cpu.threads=1", "-cp", System.getProperty("java.class.path"), Recur.class.getName()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    static Process start(List<String> cmd, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1"); // Open MPI refuses root otherwise (CI runs as root)
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().put("RECUR_BACKEND", "cpu");
        return pb.start();
    }

    Run run(List<String> cmd) throws Exception {
        Path log = Files.createTempFile(dir, "mpirun", ".log");
        Process p = start(cmd, log);
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("mpirun ran past 240 s:\n" + Files.readString(log));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    static String[] lm(Path checkpoint, String... extra) {
        List<String> a = new ArrayList<>(List.of("train-lm", "--data", corpus.toString(), "--batch", "4",
                "--window", "12", "--steps", "12", "--hidden", "16", "--layers", "2", "--embedding", "8",
                "--dropout", "0", "--validate-every", "4", "--sample-every", "0", "--seed", "7", "--lr", "0.01",
                "--clip", "1", "--backend", "cpu", "--checkpoint", checkpoint.toString()));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    /** {@code args} with the value of {@code option} replaced. */
    static String[] with(String[] args, String option, String value) {
        String[] out = args.clone();
        out[Arrays.asList(out).indexOf(option) + 1] = value;
        return out;
    }

    static String[] classify(Path checkpoint, String... extra) {
        List<String> a = new ArrayList<>(List.of("classify", "--data", sentences.toString(), "--hidden", "8",
                "--embedding", "4", "--batch", "8", "--epochs", "2", "--dropout", "0", "--seed", "3",
                "--backend", "cpu", "--checkpoint", checkpoint.toString()));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    /** Every "loss" and "validation_loss" of a metrics file, in order. */
    static List<Double> losses(Path metrics) throws IOException {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            var o = dev.recur.models.io.Json.MAPPER.readTree(line);
            out.add(o.has("loss") ? o.get("loss").asDouble() : o.get("validation_loss").asDouble());
        }
        return out;
    }

    static void assertClose(Path one, Path two, String what) throws IOException {
        List<Double> a = losses(RunOptions.metrics(one));
        List<Double> b = losses(RunOptions.metrics(two));
        assertEquals(a.size(), b.size(), what + ": metrics lines");
        for (int i = 0; i < a.size(); i++) {
            assertTrue(Math.abs(a.get(i) - b.get(i)) <= TOLERANCE, what + ": loss line " + (i + 1) + ": 1 process "
                    + a.get(i) + ", 2 ranks " + b.get(i));
        }
        Checkpoint c1 = Checkpoint.read(one);
        Checkpoint c2 = Checkpoint.read(two);
        assertEquals(c1.tensors().keySet(), c2.tensors().keySet(), what);
        for (Map.Entry<String, StoredTensor> e : c1.tensors().entrySet()) {
            float[] x = e.getValue().data();
            float[] y = c2.tensors().get(e.getKey()).data();
            for (int i = 0; i < x.length; i++) {
                assertTrue(Math.abs(x[i] - y[i]) <= TOLERANCE, what + ": " + e.getKey() + "[" + i + "]: 1 process "
                        + x[i] + ", 2 ranks " + y[i]);
            }
        }
        assertEquals("2", c2.metadata("trainer.world_size"), what);
        assertEquals("1", c1.metadata("trainer.world_size"), what);
    }

    @Test
    void charLmOnTwoRanksEndsWhereOneProcessEnds() throws Exception {
        requireMpirun();
        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        Streams s = Streams.run(Recur.standard(), lm(one));
        assertEquals(0, s.status, s.err());
        Run r = run(twoRanks(lm(two, "--data-parallel")));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("recur train-lm: data parallel over 2 ranks (Open MPI mpirun"
                + " (OMPI_COMM_WORLD_SIZE=2, OMPI_COMM_WORLD_RANK=0)), collective MPI: Open MPI v"), r.output());
        // Rank 1 prints nothing of its own: one start line, one done line.
        assertEquals(1, r.output().split("recur train-lm: TextCorpus", -1).length - 1, r.output());
        assertEquals(1, r.output().split("\ndone: ", -1).length - 1, r.output());
        // The carried hidden states of all 4 stripes (2 per rank) are in the checkpoint too.
        assertClose(one, two, "char-LM");

        // Written by 2 ranks, it loads in one process...
        try (Backend be = Backends.named("cpu");
             CharLanguageModel m = CharLanguageModel.load(be, Checkpoint.read(two))) {
            assertEquals(16, m.config().hidden());
        }
    }

    @Test
    void classifierOnTwoRanksEndsWhereOneProcessEnds() throws Exception {
        requireMpirun();
        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        Streams s = Streams.run(Recur.standard(), classify(one));
        assertEquals(0, s.status, s.err());
        Run r = run(twoRanks(classify(two)));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("recur classify: data parallel over 2 ranks"), r.output());
        assertClose(one, two, "classifier");
    }

    @Test
    void translatorOnTwoRanksEndsWhereOneProcessEnds() throws Exception {
        requireMpirun();
        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        // 49 training pairs: batches of 7 split them evenly (8 would leave a last batch of 1 for 2 ranks).
        String[] args = {"translate", "--data", pairs.toString(), "--hidden", "8", "--embedding", "4", "--batch", "7",
            "--epochs", "2", "--dropout", "0", "--seed", "3", "--backend", "cpu"};
        List<String> a1 = new ArrayList<>(Arrays.asList(args));
        a1.addAll(List.of("--checkpoint", one.toString()));
        Streams s = Streams.run(Recur.standard(), a1.toArray(String[]::new));
        assertEquals(0, s.status, s.err());
        List<String> a2 = new ArrayList<>(Arrays.asList(args));
        a2.addAll(List.of("--checkpoint", two.toString()));
        Run r = run(twoRanks(a2.toArray(String[]::new)));
        assertEquals(0, r.exit(), r.output());
        // The loss is a mean over target words: each rank's share is its words over the batch's.
        assertClose(one, two, "translator");
    }

    @Test
    void forecasterOnTwoRanksEndsWhereOneProcessEnds() throws Exception {
        requireMpirun();
        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        String[] args = {"forecast", "--data", series.toString(), "--window", "8", "--hidden", "8", "--epochs", "2",
            "--batch", "8", "--dropout", "0", "--seed", "3", "--backend", "cpu"};
        for (Path c : List.of(one, two)) {
            List<String> a = new ArrayList<>(Arrays.asList(args));
            a.addAll(List.of("--checkpoint", c.toString(), "--plot", dir.resolve(c.getFileName() + ".png").toString()));
            if (c == one) {
                Streams s = Streams.run(Recur.standard(), a.toArray(String[]::new));
                assertEquals(0, s.status, s.err());
            } else {
                Run r = run(twoRanks(a.toArray(String[]::new)));
                assertEquals(0, r.exit(), r.output());
            }
        }
        assertClose(one, two, "forecaster");
    }

    @Test
    void twoRanksResumeBitForBitAndOneProcessRefusesTheirCheckpoint() throws Exception {
        requireMpirun();
        Path whole = dir.resolve("whole.safetensors");
        Path parts = dir.resolve("parts.safetensors");
        Run a = run(twoRanks(lm(whole)));
        assertEquals(0, a.exit(), a.output());
        Run b = run(twoRanks(lm(parts, "--stop-after", "5")));
        assertEquals(0, b.exit(), b.output());
        assertTrue(b.output().contains("paused after 5 steps at step 5"), b.output());

        // One process may not resume what 2 ranks wrote: each rank's stripes and carried state depend on it.
        Streams one = Streams.run(Recur.standard(), lm(parts, "--resume"));
        assertEquals(1, one.status, one.err());
        assertTrue(one.err().contains("cannot resume: it was written by a run of 2 ranks, this run has 1; resume it"
                + " with mpirun -np 2"), one.err());

        Run c = run(twoRanks(lm(parts, "--resume")));
        assertEquals(0, c.exit(), c.output());
        Checkpoint x = Checkpoint.read(whole);
        Checkpoint y = Checkpoint.read(parts);
        for (Map.Entry<String, StoredTensor> e : x.tensors().entrySet()) {
            assertArrayEquals(e.getValue().data(), y.tensors().get(e.getKey()).data(), e.getKey());
        }
        assertEquals(losses(RunOptions.metrics(whole)), losses(RunOptions.metrics(parts)));
    }

    @Test
    void dataParallelWithoutALauncherIsAUsageError() {
        Assumptions.assumeTrue(System.getenv("OMPI_COMM_WORLD_SIZE") == null && System.getenv("PMI_SIZE") == null
                && System.getenv("SLURM_STEP_NUM_TASKS") == null, "SKIPPED: this test JVM runs under a launcher");
        Streams s = Streams.run(Recur.standard(), lm(dir.resolve("x.safetensors"), "--data-parallel"));
        assertEquals(2, s.status, s.err());
        assertEquals(1, s.errLines().length - 1, s.err()); // one line, ending in a newline
        assertTrue(s.err().startsWith("recur train-lm: option '--data-parallel' needs a launcher: start the command"
                + " with mpirun -np N or srun"), s.err());
        assertTrue(Files.notExists(dir.resolve("x.safetensors")));
    }

    @Test
    void aKilledRankTakesTheJobDownAndTheLastCheckpointLoads() throws Exception {
        requireMpirun();
        Path ckpt = dir.resolve("killed.safetensors");
        Path log = dir.resolve("killed.log");
        String[] args = with(with(lm(ckpt, "--checkpoint-every", "3"), "--steps", "100000"), "--validate-every", "0");
        List<String> cmd = twoRanks(args);
        // mpirun sends the survivors SIGTERM, then SIGKILL after odls_base_sigkill_timeout (1 s by
        // default); 3 s lets a JVM on a busy machine run its shutdown hook and say why it ends. (The
        // survivor's exit then waits in MPI's own exit handlers for the dead peer until that
        // SIGKILL: with 10 s here the job took 19 s to end, with the default 1.4 s.)
        cmd.addAll(1, List.of("--mca", "odls_base_sigkill_timeout", "3"));
        Process p = start(cmd, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (Files.notExists(ckpt) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(ckpt), "no checkpoint was written:\n" + Files.readString(log));
            Thread.sleep(1500); // mid-run: a few more steps and saves
            List<ProcessHandle> ranks = p.descendants()
                    .filter(h -> h.info().commandLine().orElse("").contains(Recur.class.getName())).toList();
            assertEquals(2, ranks.size(), "the two ranks' JVMs among mpirun's children");
            ProcessHandle victim = ranks.get(ranks.size() - 1);
            long killed = System.nanoTime();
            victim.destroyForcibly(); // SIGKILL: no chance to say goodbye
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the job still runs 60 s after a rank was killed:\n"
                    + Files.readString(log));
            double seconds = (System.nanoTime() - killed) / 1e9;
            assertNotEquals(0, p.exitValue(), Files.readString(log));
            String out = Files.readString(log);
            assertTrue(out.contains("exited on signal 9"), out); // mpirun names the dead rank and why
            // ...and the surviving rank says why it ends.
            assertTrue(out.contains("recur train-lm: ended by a signal before the run finished (rank "), out);
            for (ProcessHandle h : ranks) {
                assertTrue(h.onExit().get(30, TimeUnit.SECONDS) != null && !h.isAlive(), "rank left running");
            }
            assertTrue(seconds < 60, "took " + seconds + " s");
            System.out.printf(java.util.Locale.ROOT, "DataParallelTest: a rank killed at step >= %d; mpirun ended the"
                    + " job %.1f s later with status %d%n", Checkpoint.read(ckpt).step(), seconds, p.exitValue());
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        // The last checkpoint is whole (written to a temporary file, then renamed) and loads.
        Checkpoint c = Checkpoint.read(ckpt);
        assertTrue(c.step() >= 3 && c.step() % 3 == 0, "step " + c.step());
        try (Backend be = Backends.named("cpu"); CharLanguageModel m = CharLanguageModel.load(be, c)) {
            assertEquals(2, m.config().layers());
        }
    }
}
