package dev.recur.cpu;

import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The gate kernels' host twin against the CPU engine: kernels/src/main/cuda/cell_math.cuh, the
 * element functions that the kernels of cells.cu call, compiled by g++ into a small program
 * (src/test/cpp/cell_math_host.cpp) that loops them over every (row, unit) exactly as the
 * kernels' grid-stride loops do; its outputs are compared with engine-cpu's {@link GateMath} on
 * the same random inputs, for every method, flag and a few shapes (H = 1, odd H, an offset into
 * the packed rows, B = 1). This checks the kernels' formulas, saved values and indexing without
 * a GPU. The same for op_math.cuh (dropout's generator, the optimizer updates) against the CPU
 * engine's TensorOps and OptimizerOps, which must agree bit for bit. Skipped, with the reason,
 * when g++ is not there.
 *
 * <p>Every array, inputs and outputs alike, starts with the same random contents on both sides
 * and is compared whole, so an element written out of place or not written shows as a mismatch.
 */
class CellMathHostTwinTest {

    /** Why the tests skip here, or null: each test checks it, so every skip is counted. */
    private static String skip;
    private static Process harness;
    private static OutputStream toHarness;
    private static InputStream fromHarness;

    @BeforeAll
    static void buildHarness() throws IOException, InterruptedException {
        String gxx = findOnPath("g++");
        if (gxx == null) {
            skip = "g++ is not on the PATH";
            System.out.println("CellMathHostTwinTest: every test skipped: " + skip);
            return;
        }
        Path source = Path.of("src/test/cpp/cell_math_host.cpp").toAbsolutePath();
        Path binary = Path.of("target/cell-math-host").toAbsolutePath();
        Files.createDirectories(binary.getParent());
        // -ffp-contract=off: no fused multiply-adds but the explicit fmaf calls, like the kernels'
        // -fmad=false and like Java.
        Process cc = new ProcessBuilder(gxx, "-O2", "-std=c++17", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
                "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        String log = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(120, TimeUnit.SECONDS), "g++ did not finish");
        assertEquals(0, cc.exitValue(), "g++ failed to build the host twin:\n" + log);
        harness = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        toHarness = harness.getOutputStream();
        fromHarness = harness.getInputStream();
    }

    @AfterAll
    static void stopHarness() throws InterruptedException {
        if (harness != null) {
            try {
                toHarness.close();
            } catch (IOException ignored) {
                // the harness is going away anyway
            }
            if (!harness.waitFor(10, TimeUnit.SECONDS)) {
                harness.destroyForcibly();
            }
        }
    }

    private static String findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- cases

    /** Shapes: rows (B), off (first packed row of the step), hs (H), extra packed rows after the step. */
    private static final int[][] SHAPES = {{1, 0, 1, 0}, {3, 2, 5, 1}, {4, 7, 33, 2}, {16, 0, 64, 0}, {1, 5, 17, 3}};

    private final SplittableRandom random = new SplittableRandom(20261123);

    private float[] values(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }

    /** Pre-activation-like values, wide enough to reach the flat parts of σ and tanh. */
    private float[] wide(int n) {
        return values(n, -6, 6);
    }

    /** Gate, state and gradient values. */
    private float[] unit(int n) {
        return values(n, -1, 1);
    }

    @Test
    void rnn() throws IOException {
        for (int[] s : SHAPES) {
            int rows = s[0], off = s[1], hs = s[2], n = off + rows + s[3];
            for (int relu = 0; relu <= 1; relu++) {
                boolean r = relu == 1;
                float[][] fwd = {wide(n * hs), unit(rows * hs), unit(hs), unit(rows * hs)};
                // relu has no transcendental function: the same bits; tanh: a few ulp.
                check("rnnForward relu=" + r, 0, rows, off, hs, relu, fwd, r,
                        a -> GateMath.rnnForward(r, 0, rows, off, hs, a[0], a[1], a[2], a[3]));
                float[][] bwd = {unit(n * hs), unit(rows * hs), unit(n * hs)};
                bwd[0][0] = 0f;   // relu' at exactly 0 is 0
                check("rnnBackward relu=" + r, 1, rows, off, hs, relu, bwd, true,
                        a -> GateMath.rnnBackward(r, 0, rows, off, hs, a[0], a[1], a[2]));
            }
        }
    }

    @Test
    void lstmStandardPeepholeCoupled() throws IOException {
        for (int[] s : SHAPES) {
            int rows = s[0], off = s[1], hs = s[2], n = off + rows + s[3];
            for (String variant : List.of("standard", "peephole", "coupled")) {
                boolean coupled = variant.equals("coupled");
                boolean peephole = variant.equals("peephole");
                int gh = (coupled ? 3 : 4) * hs;
                float[][] fwd = {wide(n * gh), unit(rows * gh), unit(gh), peephole ? unit(3 * hs) : new float[0],
                        values(n * hs, -3, 3), unit(n * hs), unit(rows * hs), unit(rows * hs)};
                check("lstmForward " + variant, 2, rows, off, hs, coupled ? 1 : 0, fwd, false,
                        a -> GateMath.lstmForward(coupled, 0, rows, off, off, hs, a[0], a[1], a[2], peephole ? a[3] : null,
                                a[4], a[5], a[6], a[7]));
                float[][] bwd = {unit(n * gh), peephole ? unit(3 * hs) : new float[0], unit(n * hs),
                        values(n * hs, -3, 3), unit(rows * hs), unit(rows * hs), unit(n * gh)};
                check("lstmBackward " + variant, 3, rows, off, hs, coupled ? 1 : 0, bwd, false,
                        a -> GateMath.lstmBackward(coupled, 0, rows, off, hs, a[0], peephole ? a[1] : null, a[2], a[3],
                                a[4], a[5], a[6]));
            }
        }
    }

    @Test
    void gru() throws IOException {
        for (int[] s : SHAPES) {
            int rows = s[0], off = s[1], hs = s[2], n = off + rows + s[3];
            int gh = 3 * hs;
            float[][] fwd = {wide(n * gh), unit(rows * gh), unit(gh), unit(n * hs), unit(n * hs), unit(rows * hs)};
            check("gruForward", 4, rows, off, hs, 0, fwd, false,
                    a -> GateMath.gruForward(0, rows, off, off, hs, a[0], a[1], a[2], a[3], a[4], a[5]));
            float[][] bwd = {unit(n * gh), unit(n * hs), unit(n * hs), unit(rows * hs), unit(n * gh), unit(n * gh)};
            check("gruBackward", 5, rows, off, hs, 0, bwd, true,
                    a -> GateMath.gruBackward(0, rows, off, hs, a[0], a[1], a[2], a[3], a[4], a[5]));
        }
    }

    @Test
    void gruOriginal() throws IOException {
        for (int[] s : SHAPES) {
            int rows = s[0], off = s[1], hs = s[2], n = off + rows + s[3];
            int gh = 3 * hs;
            float[][] gates = {wide(n * gh), unit(rows * gh), unit(gh), unit(n * hs), unit(n * hs)};
            check("gruOriginalGates", 6, rows, off, hs, 0, gates, false,
                    a -> GateMath.gruOriginalGates(0, rows, off, off, hs, a[0], a[1], a[2], a[3], a[4]));
            float[][] output = {wide(n * gh), unit(rows * gh), unit(gh), unit(n * hs), unit(rows * hs)};
            check("gruOriginalOutput", 7, rows, off, hs, 0, output, false,
                    a -> GateMath.gruOriginalOutput(0, rows, off, off, hs, a[0], a[1], a[2], a[3], a[4]));
            float[][] bOut = {unit(n * gh), unit(n * hs), unit(rows * hs), unit(n * gh)};
            check("gruOriginalBackwardOutput", 8, rows, off, hs, 0, bOut, true,
                    a -> GateMath.gruOriginalBackwardOutput(0, rows, off, hs, a[0], a[1], a[2], a[3]));
            float[][] bGates = {unit(n * gh), unit(n * hs), unit(rows * hs), unit(rows * hs), unit(n * gh)};
            check("gruOriginalBackwardGates", 9, rows, off, hs, 0, bGates, true,
                    a -> GateMath.gruOriginalBackwardGates(0, rows, off, hs, a[0], a[1], a[2], a[3], a[4]));
        }
    }

    @Test
    void nanStaysNan() throws IOException {
        // A diverged run must stay visible: σ, tanh and relu of NaN are NaN on both sides
        // (GateMath's Java max and the kernels' relu alike; an fmaxf would have hidden it).
        int hs = 3;
        for (int relu = 0; relu <= 1; relu++) {
            boolean r = relu == 1;
            float[][] fwd = {{Float.NaN, 1f, -1f}, {0f, 0f, 0f}, {0f, 0f, 0f}, {0f, 0f, 0f}};
            float[][] host = call(0, 1, 0, hs, relu, copy(fwd));
            GateMath.rnnForward(r, 0, 1, 0, hs, fwd[0], fwd[1], fwd[2], fwd[3]);
            assertTrue(Float.isNaN(host[3][0]) && Float.isNaN(fwd[3][0]), "relu=" + r + ": NaN in, NaN out");
        }
        float[][] lstm = {{Float.NaN, 0f, 0f, 0f}, {0f, 0f, 0f, 0f}, {0f, 0f, 0f, 0f}, {}, {0f}, {0f}, {0f}, {0f}};
        float[][] host = call(2, 1, 0, 1, 0, copy(lstm));
        assertTrue(Float.isNaN(host[6][0]), "LSTM: a NaN input gate gives a NaN h");
    }

    // ---------------------------------------------------------------- ops that must match bit for bit

    private static CpuBackend cpu;

    @BeforeEach
    void needsHarness() {
        assumeTrue(skip == null, skip);
    }

    @BeforeAll
    static void startCpu() {
        cpu = new CpuBackend(1);
    }

    @AfterAll
    static void stopCpu() {
        if (cpu != null) {
            cpu.close();
        }
    }

    /**
     * Runs {@code op} on CPU tensors made of copies of {@code arrays} (an empty array stands for a
     * null tensor) and writes the results back into them.
     */
    private static void onCpu(float[][] arrays, Consumer<Tensor[]> op) {
        Tensor[] t = new Tensor[arrays.length];
        for (int k = 0; k < arrays.length; k++) {
            t[k] = arrays[k].length == 0 ? null : cpu.tensor(arrays[k].clone(), arrays[k].length);
        }
        op.accept(t);
        for (int k = 0; k < arrays.length; k++) {
            if (t[k] != null) {
                arrays[k] = t[k].toArray();
                t[k].close();
            }
        }
    }

    @Test
    void dropoutMasksAreTheCpuEnginesBitForBit() throws IOException {
        int n = 1000;
        long[][] seeds = {{0L, 0L}, {42L, 1_000L}, {-7L, Long.MAX_VALUE - 500}, {0x9E3779B97F4A7C15L, 123_456_789_012L}};
        for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f}) {
            for (long[] sc : seeds) {
                float[][] arrays = {wide(n), unit(n), unit(n)};
                compare("dropout p=" + p + " seed=" + sc[0] + " counter=" + sc[1], n, 0, 1, arrays, true,
                        a -> onCpu(a, t -> cpu.tensorOps().dropout(t[0], t[1], t[2], p, sc[0], sc[1])),
                        a -> call(10, 0, n, 0, 0, new float[] {p}, sc, a));
            }
        }
        // And the generator itself, at indices where the 64-bit arithmetic wraps.
        float[][] probe = {new float[n], new float[n], new float[n]};
        Arrays.fill(probe[0], 1f);
        long seed = -1L;
        long counter = Long.MAX_VALUE - n / 2;
        float[][] host = call(10, 0, n, 0, 0, new float[] {0.5f}, new long[] {seed, counter}, probe);
        for (int i = 0; i < n; i++) {
            float expected = TensorOps.uniform(seed, counter + i) >= 0.5f ? 2f : 0f;
            assertEquals(expected, host[2][i], 0f, "mask[" + i + "]");
        }
    }

    /**
     * The attention ops of op_math.cuh: the masked softmax (a row loop; expf against the CPU's
     * rounded double exp, so within the tolerance of {@link #compare}, and the masked tail exactly
     * 0 on both even where the padding holds NaN), its backward and tanh's backward (no
     * transcendental: the same float32 operations in the same order, so the same bits), and tanh
     * (tanhf against the rounded double tanh: a few ulp).
     */
    @Test
    void attentionOpsAgreeWithTheCpuEngine() throws IOException {
        // {N, R, L}: one row, one valid position only, odd sizes, a long row.
        int[][] shapes = {{1, 1, 1}, {2, 3, 5}, {3, 7, 33}, {5, 1, 100}};
        for (int[] shape : shapes) {
            int n = shape[0], rows = shape[1], cols = shape[2], size = n * rows * cols;
            float[] lengths = new float[n];
            for (int b = 0; b < n; b++) {
                lengths[b] = b == 0 ? cols : 1 + random.nextInt(cols); // the full length, then any
            }
            float[] scores = wide(size);
            for (int b = 0; b < n; b++) {
                for (int i = b * rows * cols; i < (b + 1) * rows * cols; i++) {
                    if (i % cols >= lengths[b]) {
                        scores[i] = Float.NaN; // padding is never read
                    }
                }
            }
            String what = "maskedSoftmax " + Arrays.toString(shape);
            float[][] fwd = {lengths, scores, unit(size)};
            compare(what, n * rows, rows, cols, fwd, false,
                    a -> onCpuMasked(a, (t, len) -> cpu.tensorOps().maskedSoftmax(t[1], len, t[2]), shape),
                    a -> call(14, 0, n * rows, rows, cols, new float[0], new long[0], a));
            float[][] host = call(14, 0, n * rows, rows, cols, new float[0], new long[0], copy(fwd));
            for (int i = 0; i < size; i++) {
                if (i % cols >= lengths[i / (rows * cols)]) {
                    assertEquals(0, Float.floatToIntBits(host[2][i]), what + ": masked probs[" + i + "] is +0");
                }
            }
            float[] probs = host[2];
            float[] dProbs = unit(size);
            float[][] bwd = {lengths, probs, dProbs, unit(size)};
            compare("maskedSoftmaxBackward " + Arrays.toString(shape), n * rows, rows, cols, bwd, true,
                    a -> onCpuMasked(a, (t, len) -> cpu.tensorOps().maskedSoftmaxBackward(t[1], t[2], len, t[3]),
                            shape),
                    a -> call(15, 0, n * rows, rows, cols, new float[0], new long[0], a));
        }
        for (int size : new int[] {1, 33, 1000}) {
            float[][] fwd = {wide(size), unit(size)};
            compare("tanh n=" + size, size, 0, 1, fwd, false, a -> onCpu(a, t -> cpu.tensorOps().tanh(t[0], t[1])),
                    a -> call(16, 0, size, 0, 0, new float[0], new long[0], a));
            float[][] bwd = {unit(size), unit(size), unit(size)};
            compare("tanhBackward n=" + size, size, 0, 1, bwd, true,
                    a -> onCpu(a, t -> cpu.tensorOps().tanhBackward(t[0], t[1], t[2])),
                    a -> call(17, 0, size, 0, 0, new float[0], new long[0], a));
        }
    }

    /** A masked softmax op on the CPU engine: arrays[0] are the lengths (as floats), the rest [N, R, L] tensors. */
    private static void onCpuMasked(float[][] arrays, java.util.function.BiConsumer<Tensor[], dev.recur.api.IndexTensor> op,
                                    int[] shape) {
        int[] lengths = new int[arrays[0].length];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = (int) arrays[0][i];
        }
        Tensor[] t = new Tensor[arrays.length];
        try (dev.recur.api.IndexTensor len = cpu.indices(lengths, lengths.length)) {
            for (int k = 1; k < arrays.length; k++) {
                t[k] = cpu.tensor(arrays[k].clone(), shape);
            }
            op.accept(t, len);
            for (int k = 1; k < arrays.length; k++) {
                arrays[k] = t[k].toArray();
                t[k].close();
            }
        }
    }

    @Test
    void optimizerUpdatesAreTheCpuEnginesBitForBit() throws IOException {
        int n = 500;
        for (float momentum : new float[] {0f, 0.9f}) {
            for (boolean nesterov : momentum == 0f ? new boolean[] {false} : new boolean[] {false, true}) {
                for (float wd : new float[] {0f, 0.01f}) {
                    float[][] arrays = {unit(n), unit(n), momentum == 0f ? new float[0] : unit(n)};
                    float lr = 0.1f;
                    compare("sgd momentum=" + momentum + " nesterov=" + nesterov + " wd=" + wd, n, 0, 1, arrays, true,
                            a -> onCpu(a, t -> cpu.optimizerOps().sgd(t[0], t[1], t[2], lr, momentum, wd, nesterov)),
                            a -> call(11, nesterov ? 1 : 0, n, 0, 0, new float[] {lr, momentum, wd}, new long[0], a));
                }
            }
        }
        for (float wd : new float[] {0f, 0.01f}) {
            float[][] arrays = {unit(n), unit(n), values(n, 0, 1)};
            compare("rmsprop wd=" + wd, n, 0, 1, arrays, true,
                    a -> onCpu(a, t -> cpu.optimizerOps().rmsprop(t[0], t[1], t[2], 0.01f, 0.99f, 1e-8f, wd)),
                    a -> call(12, 0, n, 0, 0, new float[] {0.01f, 0.99f, 1e-8f, wd}, new long[0], a));
        }
        for (boolean decoupled : new boolean[] {false, true}) {
            for (int step : new int[] {1, 7, 1000}) {
                float lr = 1e-3f;
                float beta1 = 0.9f;
                float beta2 = 0.999f;
                float eps = 1e-8f;
                float wd = 0.01f;
                // The host scalars exactly as CudaKernels.adam computes them.
                float bias1 = (float) (1 - Math.pow(beta1, step));
                float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
                float[] scalars = {lr, beta1, beta2, eps, wd, lr / bias1, bias2Sqrt};
                float[][] arrays = {unit(n), unit(n), unit(n), values(n, 0, 1)};
                compare("adam decoupled=" + decoupled + " step=" + step, n, 0, 1, arrays, true,
                        a -> onCpu(a, t -> cpu.optimizerOps().adam(t[0], t[1], t[2], t[3], step, lr, beta1, beta2, eps,
                                wd, decoupled)),
                        a -> call(13, decoupled ? 1 : 0, n, 0, 0, scalars, new long[0], a));
            }
        }
    }

    // ---------------------------------------------------------------- comparison

    /**
     * Runs method {@code id} on the host twin and {@code cpu} (GateMath) on copies of the same
     * arrays and compares every array. {@code exact}: the method has no transcendental function,
     * so the same float operations in the same order must give the same bits; otherwise
     * {@code |host - cpu| <= 1e-6 + 4e-6·|cpu|} (4e-6 is about 30 ulp): the host's expf/tanhf (glibc, within 1-2 ulp) and
     * GateMath's Cephes polynomials (about 1 ulp) differ by a few ulp per call, and an LSTM step
     * chains up to four such calls (σ, tanh, the cell update, tanh(c)) — measured maxima are printed.
     */
    private void check(String what, int id, int rows, int off, int hs, int flag, float[][] arrays, boolean exact,
                       Consumer<float[][]> cpu) throws IOException {
        compare(what, rows, off, hs, arrays, exact, cpu, a -> call(id, rows, off, hs, flag, a));
    }

    /** The host twin's call, for {@link #compare}. */
    @FunctionalInterface
    private interface HostCall {
        float[][] run(float[][] arrays) throws IOException;
    }

    private void compare(String what, int rows, int off, int hs, float[][] arrays, boolean exact,
                         Consumer<float[][]> cpu, HostCall host) throws IOException {
        float[][] expected = copy(arrays);
        cpu.accept(expected);
        float[][] actual = host.run(copy(arrays));
        double worst = 0;
        for (int k = 0; k < arrays.length; k++) {
            assertEquals(expected[k].length, actual[k].length, what + ": length of array " + k);
            for (int i = 0; i < expected[k].length; i++) {
                float e = expected[k][i];
                float a = actual[k][i];
                String where = what + " (rows " + rows + ", off " + off + ", hs " + hs + "): array " + k + "[" + i + "]";
                if (exact) {
                    assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(a), where + ": cpu " + e + ", host " + a);
                } else if (Float.floatToIntBits(e) != Float.floatToIntBits(a)) { // the same bits (NaN input too) pass
                    double err = Math.abs((double) a - e);
                    double tolerance = 1e-6 + 4e-6 * Math.abs(e);
                    assertTrue(err <= tolerance, where + ": cpu " + e + ", host " + a);
                    worst = Math.max(worst, err / tolerance);
                }
            }
        }
        if (!exact && rows * hs >= 64) {
            System.out.printf("CellMathHostTwinTest %-26s rows %2d hs %2d: largest difference = %.0f%% of the tolerance%n",
                    what, rows, hs, 100 * worst);
        }
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int k = 0; k < a.length; k++) {
            c[k] = a[k].clone();
        }
        return c;
    }

    /** One request to the host twin (protocol in cell_math_host.cpp). */
    private static float[][] call(int id, int rows, int off, int hs, int flag, float[][] arrays) throws IOException {
        return call(id, flag, rows, off, hs, new float[0], new long[0], arrays);
    }

    private static float[][] call(int id, int flag, int rows, int off, int hs, float[] scalars, long[] longs,
                                  float[][] arrays) throws IOException {
        int bytes = 8 * 4 + 4 * scalars.length + 8 * longs.length;
        for (float[] a : arrays) {
            bytes += 4 + 4 * a.length;
        }
        ByteBuffer req = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        req.putInt(id).putInt(flag).putInt(rows).putInt(off).putInt(hs);
        req.putInt(scalars.length);
        for (float v : scalars) {
            req.putFloat(v);
        }
        req.putInt(longs.length);
        for (long v : longs) {
            req.putLong(v);
        }
        req.putInt(arrays.length);
        for (float[] a : arrays) {
            req.putInt(a.length);
            for (float v : a) {
                req.putFloat(v);
            }
        }
        toHarness.write(req.array());
        toHarness.flush();
        List<float[]> out = new ArrayList<>();
        for (float[] a : arrays) {
            ByteBuffer len = ByteBuffer.wrap(readFully(4)).order(ByteOrder.LITTLE_ENDIAN);
            int n = len.getInt();
            assertEquals(a.length, n, "host twin returned an array of another length");
            ByteBuffer data = ByteBuffer.wrap(readFully(4 * n)).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = data.getFloat();
            }
            out.add(v);
        }
        return out.toArray(new float[0][]);
    }

    private static byte[] readFully(int n) throws IOException {
        byte[] b = fromHarness.readNBytes(n);
        if (b.length != n) {
            throw new IOException("the host twin stopped answering (exit status "
                    + (harness.isAlive() ? "running" : harness.exitValue()) + ")");
        }
        return b;
    }
}
