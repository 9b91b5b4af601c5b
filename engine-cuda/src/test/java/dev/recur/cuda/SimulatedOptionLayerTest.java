package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.cpu.OptionsOracle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.recur.cuda.OptionProblem.f;
import static dev.recur.cuda.OptionProblem.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA engine's option path ({@link CudaOptionLayer}, {@link CudaOptionBuffers}, the launch
 * methods of {@link CudaKernels}) run on a {@link SimulatedDevice}, with the option kernels
 * executed by their g++-built host twin ({@link OptionKernelsHost}: options_math.cuh itself) and
 * cuBLAS by the reference GEMM, against engine-cpu's float64 oracle of the contract
 * ({@link OptionsOracle}): the forward directly, the backward (dx, dh0, dc0 and every parameter
 * gradient) against central differences of the oracle's loss. Every cell, both directions,
 * bidirectional, recurrent dropout, zoneout of h and c, projections, masks with holes at the
 * start, middle and end, lengths, inference. Skipped, with the reason, when g++ is missing.
 *
 * <p>Tolerances (float32 against float64): forward {@code |got - want| <= 2e-5 + 2e-4·|want|}
 * (a few roundings per step over at most 5 steps of small sums); gradients
 * {@code <= 1e-4 + 1e-3·|want|} (the backward's float32 sums over the time loop; the central
 * differences, eps 1e-6 in float64, are exact to about 1e-9 here).
 */
class SimulatedOptionLayerTest {

    private static String skip;
    private SimulatedDevice device;

    @BeforeAll
    static void hostKernels() {
        skip = OptionKernelsHost.unavailable();
        if (skip != null) {
            System.out.println("SimulatedOptionLayerTest: every test skipped: " + skip);
        }
    }

    @AfterEach
    void close() {
        if (device != null) {
            device.close();
        }
    }

    /** Sizes of one case. */
    record Shape(int steps, int batch, int input, int hidden, int projection) {
    }

    static final List<Shape> SHAPES = List.of(new Shape(4, 3, 3, 5, 3), new Shape(1, 1, 2, 3, 2),
            new Shape(5, 2, 4, 4, 1));

    // ---------------------------------------------------------------- tests

    @ParameterizedTest
    @EnumSource(Cell.class)
    void dropoutZoneoutAndHolesMatchTheOracleInBothDirections(Cell cell) {
        for (Direction dir : Direction.values()) {
            for (int i = 0; i < SHAPES.size(); i++) {
                Shape s = SHAPES.get(i);
                CellOptions o = new CellOptions(false, 0.3f, 0.25f, cell.hasCellState() ? 0.35f : 0f, 0);
                run(cell, o, s, dir, true, true, 100 * cell.ordinal() + 10 * i + dir.ordinal());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "LSTM_PEEPHOLE", "LSTM_COUPLED", "GRU", "GRU_ORIGINAL"})
    void projectionMatchesTheOracle(Cell cell) {
        for (int i = 0; i < SHAPES.size(); i++) {
            Shape s = SHAPES.get(i);
            CellOptions plainProjection = new CellOptions(false, 0f, 0f, 0f, s.projection());
            run(cell, plainProjection, s, Direction.FORWARD, false, false, 500 + 10 * i + cell.ordinal());
            CellOptions all = new CellOptions(false, 0.2f, 0.3f, cell.hasCellState() ? 0.2f : 0f, s.projection());
            for (Direction dir : Direction.values()) {
                run(cell, all, s, dir, true, true, 600 + 10 * i + cell.ordinal() + 7 * dir.ordinal());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void aMaskAloneMatchesTheOracle(Cell cell) {
        // A plain workspace given a step mask runs the option path with CellOptions.NONE.
        run(cell, CellOptions.NONE, SHAPES.get(0), Direction.FORWARD, true, false, 700 + cell.ordinal());
        run(cell, CellOptions.NONE, SHAPES.get(2), Direction.REVERSE, true, true, 750 + cell.ordinal());
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"RNN_RELU", "LSTM_PEEPHOLE", "GRU", "GRU_ORIGINAL"})
    void bidirectionalMatchesTheOracle(Cell cell) {
        Shape s = SHAPES.get(0);
        int p = cell == Cell.RNN_RELU ? 0 : s.projection();
        CellOptions o = new CellOptions(false, 0.25f, 0.2f, cell.hasCellState() ? 0.3f : 0f, p);
        runBidirectional(cell, o, s, 800 + cell.ordinal());
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"RNN_TANH", "LSTM", "GRU", "GRU_ORIGINAL"})
    void inferenceUsesTheExpectation(Cell cell) {
        Shape s = SHAPES.get(0);
        int p = cell == Cell.RNN_TANH ? 0 : s.projection();
        CellOptions o = new CellOptions(false, 0.4f, 0.3f, cell.hasCellState() ? 0.2f : 0f, p);
        Case c = new Case(cell, o, s, Direction.REVERSE, true, true, false, 900 + cell.ordinal());
        c.forwardOnly();
    }

    @Test
    void theSameCallDrawsTheSameNumbersAndAnotherCounterOthers() {
        assumeTrue(skip == null, () -> skip);
        Shape s = SHAPES.get(0);
        CellOptions o = new CellOptions(false, 0.5f, 0.5f, 0.5f, 0);
        Case a = new Case(Cell.LSTM, o, s, Direction.FORWARD, true, true, true, 42);
        float[] y1 = a.simulatedForward(a.counter);
        float[] y2 = a.simulatedForward(a.counter);
        float[] y3 = a.simulatedForward(a.counter + 1000);
        assertTrue(java.util.Arrays.equals(y1, y2), "the same seed and counter give the same bits");
        assertTrue(!java.util.Arrays.equals(y1, y3), "another counter draws other masks");
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM", "LSTM_PEEPHOLE", "LSTM_COUPLED", "GRU", "GRU_ORIGINAL"})
    void layerNormalisationMatchesTheOracle(Cell cell) {
        for (int i = 0; i < SHAPES.size(); i++) {
            Shape s = SHAPES.get(i);
            run(cell, new CellOptions(true, 0f, 0f, 0f, 0), s, Direction.FORWARD, false, false, 1100 + 10 * i
                    + cell.ordinal());
            int p = s.projection();
            CellOptions all = new CellOptions(true, 0.2f, 0.25f, cell.hasCellState() ? 0.3f : 0f, p);
            for (Direction dir : Direction.values()) {
                run(cell, all, s, dir, true, true, 1200 + 10 * i + cell.ordinal() + 5 * dir.ordinal());
            }
        }
        int p = SHAPES.get(0).projection();
        runBidirectional(cell, new CellOptions(true, 0.2f, 0.2f, cell.hasCellState() ? 0.2f : 0f, p), SHAPES.get(0),
                1300 + cell.ordinal());
        Case c = new Case(cell, new CellOptions(true, 0.3f, 0.3f, cell.hasCellState() ? 0.3f : 0f, p),
                SHAPES.get(2), Direction.FORWARD, true, true, false, 1400 + cell.ordinal());
        c.forwardOnly();
    }

    @Test
    void layerNormalisationOverMoreThanOneWarpOfUnits() {
        // H = 70: each lane adds 2 or 3 values, and the lane tree sums all 32 lanes (Note [Layer normalisation
        // reductions]); T = 2, B = 2.
        Shape s = new Shape(2, 2, 3, 70, 5);
        run(Cell.LSTM, new CellOptions(true, 0.1f, 0.1f, 0.1f, 5), s, Direction.FORWARD, true, false, 1500);
        run(Cell.GRU, new CellOptions(true, 0.1f, 0.1f, 0f, 0), s, Direction.REVERSE, false, true, 1501);
    }

    @ParameterizedTest
    @EnumSource(value = Cell.class, names = {"LSTM_PEEPHOLE", "GRU_ORIGINAL"})
    void nothingAllocatesAfterTheFirstForwardAndBackward(Cell cell) {
        assumeTrue(skip == null, () -> skip);
        Shape s = SHAPES.get(0);
        Case c = new Case(cell, new CellOptions(true, 0.2f, 0.2f, cell.hasCellState() ? 0.2f : 0f, s.projection()), s,
                null, true, true, true, 1600 + cell.ordinal());
        c.runOnly();
        int first = c.layerAllocations;
        assertTrue(first > 0, "the first calls made the buffers");
        c.runOnly();
        c.runOnly();
        assertEquals(first, c.layerAllocations, "buffers allocated after the first forward and backward");
    }

    @Test
    void stepCodesFollowLengthsThenTheMask() {
        int[] codes = new int[6];
        // T = 3, B = 2; sequence 1 has length 2; the mask holes (t=0, b=0) and (t=2, b=1, past the length).
        CudaOptionLayer.codes(3, 2, new int[] {3, 2}, new byte[] {0, 1, 1, 1, 1, 0}, codes);
        assertEquals(List.of(2, 1, 1, 1, 1, 0), java.util.Arrays.stream(codes).boxed().toList());
    }

    // ---------------------------------------------------------------- one case

    private void run(Cell cell, CellOptions o, Shape s, Direction dir, boolean mask, boolean lengths, long seed) {
        assumeTrue(skip == null, () -> skip);
        new Case(cell, o, s, dir, mask, lengths, true, seed).check();
    }

    private void runBidirectional(Cell cell, CellOptions o, Shape s, long seed) {
        assumeTrue(skip == null, () -> skip);
        new Case(cell, o, s, null, true, true, true, seed).check();
    }

    /** One problem on the simulated device and in the oracle; dir null: bidirectional. */
    private final class Case {
        final Cell cell;
        final CellOptions o;
        final Shape s;
        final Direction dir;
        final int dirs;
        final int[] lengths;   // [B] or null
        final byte[] mask;     // [T*B] or null
        final long drawSeed;
        final boolean train;
        final long counter;
        final double[] x;
        final double[][] h0;
        final double[][] c0;
        final OptionsOracle.Weights[] params;
        final double[] dy;
        final double[][] dhT;
        final double[][] dcT;
        final String what;
        final CudaOptionLayer layer;
        final CudaOptionBuffers[] bufs;
        /** Buffers the option buffers allocated (through their LayerDevice.Memory). */
        int layerAllocations;

        Case(Cell cell, CellOptions o, Shape s, Direction dir, boolean mask, boolean lengths, boolean train,
             long seed) {
            assumeTrue(skip == null, () -> skip);
            if (device == null) {
                device = new SimulatedDevice();
            }
            this.cell = cell;
            this.o = o;
            this.s = s;
            this.dir = dir;
            this.dirs = dir == null ? 2 : 1;
            SplittableRandom rnd = new SplittableRandom(seed);
            int T = s.steps();
            int B = s.batch();
            int H = s.hidden();
            int R = o.recurrentWidth(H);
            int S = o.stateWidth(cell, H);
            int G = cell.gates();
            int[] lens = null;
            if (lengths) {
                lens = new int[B];
                for (int b = 0; b < B; b++) {
                    lens[b] = b == 0 ? T : 1 + rnd.nextInt(T);
                }
            }
            byte[] m = null;
            if (mask) {
                m = new byte[T * B];
                for (int i = 0; i < m.length; i++) {
                    m[i] = (byte) (rnd.nextInt(4) == 0 ? 0 : 1);
                }
                if (T > 2) {
                    m[0] = 0;                 // a hole at the start of sequence 0
                    m[(T - 1) * B] = 0;       // and at its end
                }
            }
            this.lengths = lens;
            this.mask = m;
            this.drawSeed = 1234 + seed;
            this.train = train;
            counter = 77 + seed * 1000;
            x = random(rnd, T * B * s.input(), 1.0);
            h0 = new double[dirs][];
            c0 = new double[dirs][];
            params = new OptionsOracle.Weights[dirs];
            dhT = new double[dirs][];
            dcT = new double[dirs][];
            for (int d = 0; d < dirs; d++) {
                h0[d] = random(rnd, B * S, 0.5);
                c0[d] = cell.hasCellState() ? random(rnd, B * H, 0.5) : null;
                params[d] = OptionProblem.weights(random(rnd, G * H * s.input(), 0.5), random(rnd, G * H * R, 0.5),
                        random(rnd, G * H, 0.3), random(rnd, G * H, 0.3),
                        cell == Cell.LSTM_PEEPHOLE ? random(rnd, 3 * H, 0.5) : null,
                        o.projectionSize() > 0 ? random(rnd, o.projectionSize() * H, 0.5) : null,
                        o.layerNorm() ? layerNormParams(rnd, cell, H) : null);
                dhT[d] = random(rnd, B * S, 1.0);
                dcT[d] = cell.hasCellState() ? random(rnd, B * H, 1.0) : null;
            }
            dy = random(rnd, T * B * dirs * R, 1.0);
            what = cell.id() + " " + o + " " + s + " " + (dir == null ? "bidirectional" : dir) + (mask ? " mask" : "")
                    + (lengths ? " lengths" : "") + (train ? "" : " inference");
            layer = new CudaOptionLayer(device, new CudaLayer(device, false));
            bufs = new CudaOptionBuffers[dirs];
            for (int d = 0; d < dirs; d++) {
                // Maxima larger than the call's, as a workspace's may be.
                bufs[d] = new CudaOptionBuffers(device, (bytes, what) -> {
                    layerAllocations++;
                    return device.allocate(bytes, what);
                }, cell, o, T + 1, B + 2, s.input(), H, "test");
            }
        }

        long reverseCounter() {
            return counter + o.draws(cell, s.steps(), s.batch(), s.hidden());
        }

        Direction direction(int d) {
            return dir != null ? dir : d == 0 ? Direction.FORWARD : Direction.REVERSE;
        }

        long counterOf(int d) {
            return dir != null || d == 0 ? counter : reverseCounter();
        }

        /** Direction d's forward in the oracle. */
        OptionsOracle.Result oracle(int d) {
            return OptionsOracle.forward(cell, o, train, direction(d), s.steps(), s.batch(), s.input(), s.hidden(), x,
                    lengths, mask, drawSeed, counterOf(d), h0[d], c0[d], params[d]);
        }

        /** The oracle's loss of the whole call (both directions when bidirectional). */
        double loss() {
            int R = o.recurrentWidth(s.hidden());
            double sum = 0;
            for (int d = 0; d < dirs; d++) {
                OptionsOracle.Result out = oracle(d);
                double[] dyDir = slice(dy, d, R);
                sum += OptionsOracle.loss(out, dyDir, dhT[d], dcT[d]);
            }
            return sum;
        }

        /** dy's columns of direction d, as [T, B, R]. */
        double[] slice(double[] all, int d, int r) {
            int rows = s.steps() * s.batch();
            double[] out = new double[rows * r];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(all, i * dirs * r + d * r, out, i * r, r);
            }
            return out;
        }

        // --- the simulated device

        /** Addresses of every array of p in OptionsOracle.Weights.arrays()'s order, 0 for the absent ones: 12 slots. */
        long[] paramAddresses(OptionsOracle.Weights p) {
            double[][] arrays = p.arrays();
            long[] a = new long[arrays.length];
            for (int i = 0; i < arrays.length; i++) {
                a[i] = up(arrays[i]);
            }
            return a;
        }

        CudaOptionLayer.Params lp(long[] a) {
            CudaOptionLayer.Norm norm = o.layerNorm() ? new CudaOptionLayer.Norm(a[6], a[7], a[8], a[9], a[10], a[11])
                    : null;
            return new CudaOptionLayer.Params(a[0], a[1], a[2], a[3], a[4], a[5], norm);
        }

        long up(double[] v) {
            return v == null ? 0 : device.upload(f(v));
        }

        CudaOptionLayer.Call call() {
            return new CudaOptionLayer.Call(o, mask, drawSeed, train);
        }

        /** Forward only, y read back (for the draws test). */
        float[] simulatedForward(long withCounter) {
            int R = o.recurrentWidth(s.hidden());
            int S = o.stateWidth(cell, s.hidden());
            long xA = up(x);
            long y = device.zeros(s.steps() * s.batch() * R);
            long[] pa = paramAddresses(params[0]);
            layer.forward("layerForward", cell, dir, s.steps(), s.batch(), xA, lengths, call(), withCounter,
                    new CudaOptionLayer.Forward(up(h0[0]), up(c0[0]), lp(pa), device.zeros(s.batch() * S),
                            cell.hasCellState() ? device.zeros(s.batch() * s.hidden()) : 0), y, R, 0, bufs[0]);
            return SimulatedDevice.read(y, s.steps() * s.batch() * R);
        }

        /** Forward (and backward) on the device, against the oracle. */
        void check() {
            run(true, true);
        }

        void forwardOnly() {
            run(false, true);
        }

        /** Forward and backward on the device, nothing compared. */
        void runOnly() {
            run(true, false);
        }

        private void run(boolean backward, boolean compare) {
            int T = s.steps();
            int B = s.batch();
            int H = s.hidden();
            int R = o.recurrentWidth(H);
            int S = o.stateWidth(cell, H);
            boolean lstm = cell.hasCellState();
            long xA = up(x);
            long y = device.zeros(T * B * dirs * R);
            long[][] pa = new long[dirs][];
            long[][] ga = new long[dirs][];
            CudaOptionLayer.Forward[] fw = new CudaOptionLayer.Forward[dirs];
            long[] hT = new long[dirs];
            long[] cT = new long[dirs];
            for (int d = 0; d < dirs; d++) {
                pa[d] = paramAddresses(params[d]);
                hT[d] = device.zeros(B * S);
                cT[d] = lstm ? device.zeros(B * H) : 0;
                fw[d] = new CudaOptionLayer.Forward(up(h0[d]), up(c0[d]), lp(pa[d]), hT[d], cT[d]);
            }
            String op = train ? "layerForward" : "layerInference";
            if (dir != null) {
                layer.forward(op, cell, dir, T, B, xA, lengths, call(), counter, fw[0], y, R, 0, bufs[0]);
            } else {
                layer.bidirectionalForward(op, cell, T, B, xA, lengths, call(), counter, reverseCounter(), fw[0],
                        fw[1], y, bufs[0], bufs[1]);
            }
            if (!compare && backward) {
                long dyA = up(dy);
                long dx = device.zeros(T * B * s.input());
                for (int d = 0; d < dirs; d++) {
                    long[] into = paramAddresses(params[d].zeros());
                    CudaOptionLayer.Backward bw = new CudaOptionLayer.Backward(lp(pa[d]), up(dhT[d]), up(dcT[d]),
                            device.zeros(B * S), lstm ? device.zeros(B * H) : 0, lp(into));
                    layer.backward("layerBackward", cell, T, B, xA, bufs[d], call(), dyA, dirs * R, d * R, bw, dx,
                            d == 1);
                }
                return;
            }
            // Forward against the oracle.
            double[] yWant = new double[T * B * dirs * R];
            for (int d = 0; d < dirs; d++) {
                OptionsOracle.Result out = oracle(d);
                for (int i = 0; i < T * B; i++) {
                    System.arraycopy(out.y(), i * R, yWant, i * dirs * R + d * R, R);
                }
                close(what + " hT[" + d + "]", out.hT(), SimulatedDevice.read(hT[d], B * S), 2e-5, 2e-4);
                if (lstm) {
                    close(what + " cT[" + d + "]", out.cT(), SimulatedDevice.read(cT[d], B * H), 2e-5, 2e-4);
                }
            }
            close(what + " y", yWant, SimulatedDevice.read(y, T * B * dirs * R), 2e-5, 2e-4);
            if (!backward) {
                return;
            }

            // Backward against central differences of the oracle's loss.
            long dyA = up(dy);
            long dx = device.zeros(T * B * s.input());
            CudaOptionLayer.Backward[] bw = new CudaOptionLayer.Backward[dirs];
            long[] dh0 = new long[dirs];
            long[] dc0 = new long[dirs];
            for (int d = 0; d < dirs; d++) {
                ga[d] = paramAddresses(params[d].zeros());
                dh0[d] = device.zeros(B * S);
                dc0[d] = lstm ? device.zeros(B * H) : 0;
                bw[d] = new CudaOptionLayer.Backward(lp(pa[d]), up(dhT[d]), up(dcT[d]), dh0[d], dc0[d], lp(ga[d]));
            }
            if (dir != null) {
                layer.backward("layerBackward", cell, T, B, xA, bufs[0], call(), dyA, R, 0, bw[0], dx, false);
            } else {
                layer.bidirectionalBackward("bidirectionalBackward", cell, T, B, xA, call(), dyA, dx, bw[0], bw[1],
                        bufs[0], bufs[1]);
            }
            double eps = 1e-6;
            close(what + " dx", OptionsOracle.centralDifferences(x, eps, this::loss),
                    SimulatedDevice.read(dx, T * B * s.input()), 1e-4, 1e-3);
            for (int d = 0; d < dirs; d++) {
                close(what + " dh0[" + d + "]", OptionsOracle.centralDifferences(h0[d], eps, this::loss),
                        SimulatedDevice.read(dh0[d], B * S), 1e-4, 1e-3);
                if (lstm) {
                    close(what + " dc0[" + d + "]", OptionsOracle.centralDifferences(c0[d], eps, this::loss),
                            SimulatedDevice.read(dc0[d], B * H), 1e-4, 1e-3);
                }
                double[][] all = params[d].all();
                String[] names = names(params[d]);
                List<Long> grads = new ArrayList<>();
                for (long a : ga[d]) {
                    if (a != 0) {
                        grads.add(a);
                    }
                }
                for (int k = 0; k < all.length; k++) {
                    close(what + " grad " + names[k] + "[" + d + "]",
                            OptionsOracle.centralDifferences(all[k], eps, this::loss),
                            SimulatedDevice.read(grads.get(k), all[k].length), 1e-4, 1e-3);
                }
            }
        }
    }

    /** The names of p's arrays in {@link OptionsOracle.Weights#all()}'s order. */
    private static String[] names(OptionsOracle.Weights p) {
        String[] all = {"weightIh", "weightHh", "biasIh", "biasHh", "peephole", "weightHr", "ln.gainIh", "ln.biasIh",
            "ln.gainHh", "ln.biasHh", "ln.gainC", "ln.biasC"};
        double[][] arrays = p.arrays();
        List<String> n = new ArrayList<>();
        for (int k = 0; k < arrays.length; k++) {
            if (arrays[k] != null) {
                n.add(all[k]);
            }
        }
        return n.toArray(String[]::new);
    }

    /** Gains near 1 and biases near 0, not exactly, so that their gradients and roles are all exercised. */
    static double[][] layerNormParams(SplittableRandom rnd, Cell cell, int h) {
        int gh = cell.gates() * h;
        boolean c = cell.hasCellState();
        double[][] ln = {random(rnd, gh, 0.3), random(rnd, gh, 0.2), random(rnd, gh, 0.3), random(rnd, gh, 0.2),
                c ? random(rnd, h, 0.3) : null, c ? random(rnd, h, 0.2) : null};
        for (int i = 0; i < 6; i += 2) {
            if (ln[i] != null) {
                for (int j = 0; j < ln[i].length; j++) {
                    ln[i][j] = (float) (1 + ln[i][j]);
                }
            }
        }
        return ln;
    }

    /** |got - want| <= atol + rtol·|want| everywhere, else the first mismatches and the largest difference. */
    static void close(String what, double[] want, float[] got, double atol, double rtol) {
        assertEquals(want.length, got.length, what + ": length");
        StringBuilder bad = new StringBuilder();
        int count = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            worst = Math.max(worst, diff);
            if (!(diff <= atol + rtol * Math.abs(want[i]))) {
                if (count++ < 6) {
                    bad.append(String.format("%n  [%d] want %.8g got %.8g diff %.3g", i, want[i], got[i], diff));
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + want.length + " entries outside " + atol + " + " + rtol
                    + "·|want| (largest difference " + worst + ")" + bad);
        }
    }
}
