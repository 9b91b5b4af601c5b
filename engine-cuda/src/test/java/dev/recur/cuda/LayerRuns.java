package dev.recur.cuda;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The layer and cell ops of any engine on one set of host inputs, for comparing engines (and
 * paths of one engine): {@link Inputs} holds the host arrays, drawn once from a seed; a
 * {@link Harness} makes the tensors and the workspace on one backend and runs forward and
 * backward as often as asked, returning every output and gradient as host arrays by name.
 *
 * <p>Legend: T steps, B sequences, I input size, H hidden size, G gate blocks.
 */
final class LayerRuns {

    private LayerRuns() {
    }

    /** The sizes of a case; lengths null means all T; {@code init} false passes null initial states. */
    record Shape(int steps, int batch, int input, int hidden, int[] lengths, boolean init) {
        @Override
        public String toString() {
            return "T=" + steps + " B=" + batch + " I=" + input + " H=" + hidden
                    + (lengths == null ? "" : " lengths=" + Arrays.toString(lengths)) + (init ? "" : " zero init");
        }
    }

    /**
     * The shapes every cell is run on: T = B = H = 1; B = 1 with H = 33 and zero initial state;
     * unsorted variable lengths with H = 33; I ≠ H with H = 100; I > H with lengths; T = 1 with
     * lengths. None of the hidden sizes but 1 is a multiple of 32 (H = 100 is not either).
     */
    static final List<Shape> SHAPES = List.of(
            new Shape(1, 1, 3, 1, null, true),
            new Shape(5, 1, 4, 33, null, false),
            new Shape(7, 5, 6, 33, new int[] {3, 7, 1, 7, 4}, true),
            new Shape(4, 3, 17, 100, null, true),
            new Shape(6, 4, 100, 20, new int[] {6, 2, 6, 5}, true),
            new Shape(1, 3, 5, 7, new int[] {1, 1, 1}, true));

    /** Host data of one direction's parameters (or gradients), PyTorch's layout. */
    record Params(float[] wIh, float[] wHh, float[] bIh, float[] bHh, float[] peep) {
    }

    /**
     * Every host input of a layer case, for one or two directions (index 0 forward, 1 reverse):
     * x ~ N(0, 1); weights and biases ~ U(-1/√H, 1/√H) as PyTorch initialises them, peepholes
     * likewise; initial states, dy and the final-state gradients ~ N(0, 1)/2; initial gradient
     * buffers ~ N(0, 1)/10, so that accumulation ({@code +=}) is checked too.
     */
    static final class Inputs {
        final Cell cell;
        final Shape shape;
        final int dirs;
        final float[] x;        // [T, B, I]
        final Params[] params;  // per direction
        final float[][] h0;     // per direction [B, H], or null entries when !init
        final float[][] c0;     // per direction [B, H] (LSTM family), or null
        final float[] dy;       // [T, B, dirs*H]
        final float[][] dhT;    // per direction [B, H]
        final float[][] dcT;    // per direction [B, H] (LSTM family), or null
        final Params[] grads0;  // per direction, the gradient buffers' starting values

        Inputs(Cell cell, Shape s, int dirs, long seed) {
            this.cell = cell;
            this.shape = s;
            this.dirs = dirs;
            Random r = new Random(seed);
            int t = s.steps();
            int b = s.batch();
            int in = s.input();
            int h = s.hidden();
            int gh = cell.gates() * h;
            float k = (float) (1 / Math.sqrt(h));
            x = gauss(r, t * b * in, 1f);
            params = new Params[dirs];
            grads0 = new Params[dirs];
            h0 = new float[dirs][];
            c0 = new float[dirs][];
            dhT = new float[dirs][];
            dcT = new float[dirs][];
            for (int d = 0; d < dirs; d++) {
                params[d] = new Params(uniform(r, gh * in, k), uniform(r, gh * h, k), uniform(r, gh, k),
                        uniform(r, gh, k), cell.peepholes() > 0 ? uniform(r, 3 * h, k) : null);
                grads0[d] = new Params(gauss(r, gh * in, 0.1f), gauss(r, gh * h, 0.1f), gauss(r, gh, 0.1f),
                        gauss(r, gh, 0.1f), cell.peepholes() > 0 ? gauss(r, 3 * h, 0.1f) : null);
                h0[d] = s.init() ? gauss(r, b * h, 0.5f) : null;
                c0[d] = s.init() && cell.hasCellState() ? gauss(r, b * h, 0.5f) : null;
                dhT[d] = gauss(r, b * h, 0.5f);
                dcT[d] = cell.hasCellState() ? gauss(r, b * h, 0.5f) : null;
            }
            dy = gauss(r, t * b * dirs * h, 0.5f);
        }

        @Override
        public String toString() {
            return cell.id() + " " + shape + (dirs == 2 ? " bidirectional" : "");
        }
    }

    static float[] gauss(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        return v;
    }

    static float[] uniform(Random r, int n, float bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextFloat() * 2 - 1) * bound;
        }
        return v;
    }

    /**
     * The tensors and workspace of one case on one backend, made once; {@link #layer},
     * {@link #bidirectional} and {@link #cell} run the ops on them (resetting the accumulated
     * gradients to their starting values first) and return the results. The workspace's maxima
     * are larger than the case (T + 2, B + 1), so that calls use a prefix of its buffers.
     */
    static final class Harness implements AutoCloseable {
        final Backend backend;
        final Inputs in;
        final Workspace ws;
        private final List<AutoCloseable> owned = new ArrayList<>();
        private final Tensor x;
        private final Tensor y;
        private final Tensor dy;
        private final Tensor dx;
        private final LayerParams[] params;
        private final LayerParams[] grads;
        private final State[] init;
        private final State[] fin;
        private final State[] dFin;
        private final State[] dInit;

        /** A harness for the layer ops ({@code stepOps} false) or the cell ops (T must be 1). */
        Harness(Backend backend, Inputs in, boolean stepOps) {
            this.backend = backend;
            this.in = in;
            Shape s = in.shape;
            Cell cell = in.cell;
            int t = s.steps();
            int b = s.batch();
            int h = s.hidden();
            int dirs = in.dirs;
            boolean lstm = cell.hasCellState();
            x = stepOps ? own(backend.tensor(in.x, b, s.input())) : own(backend.tensor(in.x, t, b, s.input()));
            y = stepOps ? null : own(backend.tensor(t, b, dirs * h));
            dy = stepOps ? null : own(backend.tensor(in.dy, t, b, dirs * h));
            dx = stepOps ? own(backend.tensor(b, s.input())) : own(backend.tensor(t, b, s.input()));
            params = new LayerParams[dirs];
            grads = new LayerParams[dirs];
            init = new State[dirs];
            fin = new State[dirs];
            dFin = new State[dirs];
            dInit = new State[dirs];
            for (int d = 0; d < dirs; d++) {
                params[d] = params(in.params[d]);
                grads[d] = params(in.grads0[d]);
                init[d] = in.h0[d] == null ? null
                        : new State(own(backend.tensor(in.h0[d], b, h)),
                        in.c0[d] == null ? null : own(backend.tensor(in.c0[d], b, h)));
                fin[d] = new State(own(backend.tensor(b, h)), lstm ? own(backend.tensor(b, h)) : null);
                dFin[d] = new State(own(backend.tensor(in.dhT[d], b, h)),
                        lstm ? own(backend.tensor(in.dcT[d], b, h)) : null);
                dInit[d] = new State(own(backend.tensor(b, h)), lstm ? own(backend.tensor(b, h)) : null);
            }
            ws = own(backend.workspace(cell, stepOps ? 1 : t + 2, b + 1, s.input(), h, dirs == 2));
        }

        private LayerParams params(Params p) {
            int gh = in.cell.gates() * in.shape.hidden();
            int h = in.shape.hidden();
            return new LayerParams(own(backend.tensor(p.wIh(), gh, in.shape.input())),
                    own(backend.tensor(p.wHh(), gh, h)), own(backend.tensor(p.bIh(), gh)),
                    own(backend.tensor(p.bHh(), gh)), p.peep() == null ? null : own(backend.tensor(p.peep(), 3 * h)));
        }

        private <T extends AutoCloseable> T own(T t) {
            owned.add(t);
            return t;
        }

        private void resetGrads() {
            for (int d = 0; d < in.dirs; d++) {
                Params g = in.grads0[d];
                grads[d].weightIh().copyFrom(g.wIh());
                grads[d].weightHh().copyFrom(g.wHh());
                grads[d].biasIh().copyFrom(g.bIh());
                grads[d].biasHh().copyFrom(g.bHh());
                if (g.peep() != null) {
                    grads[d].peephole().copyFrom(g.peep());
                }
            }
        }

        /** layerForward then layerBackward in {@code dir}; every output by name. */
        Map<String, float[]> layer(Direction dir) {
            return layer(dir, in.shape.lengths());
        }

        /** As {@link #layer(Direction)} with other lengths (null: all T). */
        Map<String, float[]> layer(Direction dir, int[] lengths) {
            resetGrads();
            backend.layerForward(in.cell, dir, x, lengths, init[0], params[0], y, fin[0], ws);
            Map<String, float[]> out = new LinkedHashMap<>();
            out.put("y", y.toArray());
            putState(out, "fin", fin[0]);
            backend.layerBackward(in.cell, dir, x, lengths, params[0], ws, dy, dFin[0], dx, dInit[0], grads[0]);
            out.put("dx", dx.toArray());
            putState(out, "dInit", dInit[0]);
            putParams(out, "grads", grads[0]);
            return out;
        }

        /** layerInference in {@code dir} (or, with {@code dir} null, bidirectionalInference): y and the final states by name. */
        Map<String, float[]> inference(Direction dir) {
            int[] lengths = in.shape.lengths();
            Map<String, float[]> out = new LinkedHashMap<>();
            if (dir == null) {
                backend.bidirectionalInference(in.cell, x, lengths, new PerDirection<>(init[0], init[1]),
                        new PerDirection<>(params[0], params[1]), y, new PerDirection<>(fin[0], fin[1]), ws);
                out.put("y", y.toArray());
                putState(out, "fin.forward", fin[0]);
                putState(out, "fin.reverse", fin[1]);
            } else {
                backend.layerInference(in.cell, dir, x, lengths, init[0], params[0], y, fin[0], ws);
                out.put("y", y.toArray());
                putState(out, "fin", fin[0]);
            }
            return out;
        }

        /** bidirectionalForward then bidirectionalBackward; every output by name. */
        Map<String, float[]> bidirectional() {
            return bidirectional(false);
        }

        /**
         * As {@link #bidirectional()}; with {@code sharedGrads}, both directions accumulate into
         * the forward direction's gradient tensors (the engine must then not run them at once).
         */
        Map<String, float[]> bidirectional(boolean sharedGrads) {
            resetGrads();
            int[] lengths = in.shape.lengths();
            backend.bidirectionalForward(in.cell, x, lengths, new PerDirection<>(init[0], init[1]),
                    new PerDirection<>(params[0], params[1]), y, new PerDirection<>(fin[0], fin[1]), ws);
            Map<String, float[]> out = new LinkedHashMap<>();
            out.put("y", y.toArray());
            putState(out, "fin.forward", fin[0]);
            putState(out, "fin.reverse", fin[1]);
            LayerParams reverseGrads = sharedGrads ? grads[0] : grads[1];
            backend.bidirectionalBackward(in.cell, x, lengths, new PerDirection<>(params[0], params[1]), ws, dy,
                    new PerDirection<>(dFin[0], dFin[1]), dx, new PerDirection<>(dInit[0], dInit[1]),
                    new PerDirection<>(grads[0], reverseGrads));
            out.put("dx", dx.toArray());
            putState(out, "dInit.forward", dInit[0]);
            putState(out, "dInit.reverse", dInit[1]);
            putParams(out, "grads.forward", grads[0]);
            if (!sharedGrads) {
                putParams(out, "grads.reverse", grads[1]);
            }
            return out;
        }

        /**
         * cellForward from the initial state (null, meaning zeros, when the case has none), then
         * cellBackward from dNext = (dy's first step, dcT). The case must have T = 1 (x is [B, I]).
         */
        Map<String, float[]> cell() {
            resetGrads();
            Cell cell = in.cell;
            int b = in.shape.batch();
            int h = in.shape.hidden();
            State prev = init[0];
            State next = fin[0];
            backend.cellForward(cell, x, prev, params[0], next, ws);
            Map<String, float[]> out = new LinkedHashMap<>();
            putState(out, "next", next);
            try (Tensor dh = backend.tensor(Arrays.copyOf(in.dy, b * h), b, h)) {
                State dNext = new State(dh, dFin[0].c());
                backend.cellBackward(cell, x, params[0], ws, dNext, dx, dInit[0], grads[0]);
                out.put("dx", dx.toArray());
                putState(out, "dPrev", dInit[0]);
                putParams(out, "grads", grads[0]);
            }
            return out;
        }

        private static void putState(Map<String, float[]> out, String name, State s) {
            out.put(name + ".h", s.h().toArray());
            if (s.c() != null) {
                out.put(name + ".c", s.c().toArray());
            }
        }

        private static void putParams(Map<String, float[]> out, String name, LayerParams p) {
            out.put(name + ".weightIh", p.weightIh().toArray());
            out.put(name + ".weightHh", p.weightHh().toArray());
            out.put(name + ".biasIh", p.biasIh().toArray());
            out.put(name + ".biasHh", p.biasHh().toArray());
            if (p.peephole() != null) {
                out.put(name + ".peephole", p.peephole().toArray());
            }
        }

        @Override
        public void close() {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            owned.clear();
        }
    }

    // ---------------------------------------------------------------- comparisons

    /*
     * Tolerances of a comparison with the CPU engine. Every comparison is
     * |other - cpu| <= atol + rtol·|cpu|, with atol a fraction of the result's own scale
     * (max(1, max|cpu|), see assertClose). What differs between the engines is rounding, not math:
     *  - GEMMs sum in different orders (cuBLAS's tiles, or the simulated device's plain loops,
     *    against the CPU engine's blocked loops): a dot product of length K differs by up to about
     *    K·u·Σ|terms|, u = 6e-8, typically √K·u relative; here K <= 400 (the recurrent GEMM of an
     *    H = 100 LSTM's backward), so a few 1e-6 at worst.
     *  - Transcendentals: the kernels use expf and tanhf (at most 2 ulp; built with -fmad=false, so
     *    products and sums round as in Java), the simulated kernels Java's exp and tanh (about
     *    1 ulp), the CPU engine its own Cephes-style exp and tanh (about 1 ulp): a few 1e-7
     *    relative per activation.
     *  - These carry through at most 7 steps of a recurrence whose weights are U(±1/√H) (PyTorch's
     *    initialisation, contractive), so outputs should agree to about 1e-6 relative, and
     *    gradients, which add up N <= 35 rows with cancellation, to a few 1e-6 of their scale.
     * The bounds are some ten to a hundred times that expectation, and still about a million times
     * smaller than what an indexing or layout mistake gives (errors of the order of the values).
     * One rare exception is possible by construction: a ReLU RNN pre-activation within a few ulp
     * of 0 may fall on different sides in the two engines and flip one gradient element; with
     * about 10^4 pre-activations drawn from continuous distributions the chance is below 10^-3
     * per run.
     */

    /** Outputs (y, final states): relative tolerance, and the absolute floor as a fraction of the result's scale. */
    static final double OUT_RTOL = 1e-4;
    static final double OUT_ATOL = 1e-5;
    /** Gradients (dx, initial-state and parameter gradients): sums with cancellation get a wider floor. */
    static final double GRAD_RTOL = 1e-4;
    static final double GRAD_ATOL = 1e-4;

    /** Results against the CPU engine's: outputs with the output tolerances, everything else with the gradient ones. */
    static void compare(String what, Map<String, float[]> cpuResults, Map<String, float[]> otherResults) {
        if (!cpuResults.keySet().equals(otherResults.keySet())) {
            fail(what + ": results " + otherResults.keySet() + " but expected " + cpuResults.keySet());
        }
        Map<String, float[]> cpuOut = new LinkedHashMap<>();
        Map<String, float[]> otherOut = new LinkedHashMap<>();
        Map<String, float[]> cpuGrad = new LinkedHashMap<>();
        Map<String, float[]> otherGrad = new LinkedHashMap<>();
        for (String k : cpuResults.keySet()) {
            boolean output = k.equals("y") || k.startsWith("fin") || k.startsWith("next");
            (output ? cpuOut : cpuGrad).put(k, cpuResults.get(k));
            (output ? otherOut : otherGrad).put(k, otherResults.get(k));
        }
        assertClose(what, cpuOut, otherOut, OUT_RTOL, OUT_ATOL);
        assertClose(what, cpuGrad, otherGrad, GRAD_RTOL, GRAD_ATOL);
    }

    /** Rows (t, b) with t >= lengths[b] of a [T, B, width] result are exactly (+0.0) zero. */
    static void assertPaddingIsZero(String what, Shape s, float[] v, int width) {
        if (s.lengths() == null) {
            return;
        }
        for (int t = 0; t < s.steps(); t++) {
            for (int b = 0; b < s.batch(); b++) {
                if (t < s.lengths()[b]) {
                    continue;
                }
                for (int u = 0; u < width; u++) {
                    float e = v[(t * s.batch() + b) * width + u];
                    if (Float.floatToRawIntBits(e) != 0) {
                        fail(what + ": padded step t=" + t + " of sequence " + b + " holds " + e + " at unit " + u
                                + ", expected 0");
                    }
                }
            }
        }
    }

    /**
     * Checks {@code |gpu - cpu| <= atol + rtol·|cpu|} for every element of every named result,
     * with {@code atol = atolScale · max(1, max|cpu|)} of that result (an absolute floor in the
     * result's own units, for elements that are sums with cancellation or near zero), and names
     * the first mismatches.
     */
    static void assertClose(String what, Map<String, float[]> cpu, Map<String, float[]> gpu, double rtol,
                            double atolScale) {
        if (!cpu.keySet().equals(gpu.keySet())) {
            fail(what + ": results " + gpu.keySet() + " but expected " + cpu.keySet());
        }
        for (Map.Entry<String, float[]> e : cpu.entrySet()) {
            assertClose(what + ", " + e.getKey(), e.getValue(), gpu.get(e.getKey()), rtol, atolScale);
        }
    }

    static void assertClose(String what, float[] cpu, float[] gpu, double rtol, double atolScale) {
        if (cpu.length != gpu.length) {
            fail(what + ": " + gpu.length + " elements, expected " + cpu.length);
        }
        double scale = 1;
        for (float v : cpu) {
            scale = Math.max(scale, Math.abs(v));
        }
        double atol = atolScale * scale;
        StringBuilder bad = new StringBuilder();
        int count = 0;
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) {
            double err = Math.abs((double) gpu[i] - cpu[i]);
            double allowed = atol + rtol * Math.abs(cpu[i]);
            if (!(err <= allowed)) {   // NaN fails too
                if (count < 5) {
                    bad.append("\n  [").append(i).append("] cpu ").append(cpu[i]).append(" gpu ").append(gpu[i])
                            .append(" |diff| ").append(err).append(" > ").append(allowed);
                }
                count++;
                worst = Math.max(worst, err);
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + cpu.length + " elements differ by more than " + atolScale + "·"
                    + scale + " + " + rtol + "·|cpu| (worst |diff| " + worst + "):" + bad);
        }
    }

    /** Every named result has the same bits in both maps. */
    static void assertBitwise(String what, Map<String, float[]> expected, Map<String, float[]> actual) {
        if (!expected.keySet().equals(actual.keySet())) {
            fail(what + ": results " + actual.keySet() + " but expected " + expected.keySet());
        }
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] a = e.getValue();
            float[] b = actual.get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    fail(what + ", " + e.getKey() + "[" + i + "]: " + b[i] + " (bits 0x"
                            + Integer.toHexString(Float.floatToRawIntBits(b[i])) + ") differs from " + a[i]
                            + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(a[i])) + ")");
                }
            }
        }
    }
}
