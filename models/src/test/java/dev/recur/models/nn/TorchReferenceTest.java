package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.models.CpuAndCuda;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.SafeTensors;
import dev.recur.models.io.StoredTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Recurrent stacks against PyTorch: every fixture in {@code torch-reference/} (written by
 * {@code make_fixtures.py} beside them, from {@code torch.nn.RNN}, {@code LSTM} and {@code GRU}
 * in float64, or from explicit tensor operations and autograd for the cells PyTorch lacks) is run
 * through a {@link RecurrentStack} with the fixture's weights, loaded by their PyTorch names, on
 * the "cpu" engine and, where one is usable, on the "cuda" engine; the output, the final states
 * and every gradient (input, initial states, each parameter) must match.
 *
 * <p>Tolerance: {@code |recur - torch| <= ATOL + RTOL·|torch|} per element. Inputs and weights
 * are float32 values, so the difference is Recur's float32 arithmetic alone: rounding of about
 * 2^-24 per operation, summed over dot products of up to G·H = 76 terms (an input gradient of
 * the LSTM with H = 19; forward dot products have I + H = 36) and carried through at most 6
 * steps and 2 layers, gives relative errors of order 1e-6 on values of order 1 (the
 * largest seen on the CPU engine, over all 42 fixtures, was 1.1e-6, in a weight gradient that
 * sums over all steps and sequences: 5% of the tolerance). RTOL = 1e-5 with ATOL = 1e-5 (for
 * elements near zero, where a relative bound means nothing) leaves room for cuBLAS's different
 * summation order and still fails a wrong gate order, a missing bias, a swapped direction or a
 * state taken one step early, each of which moves values by 1e-2 or more (running the fixtures
 * with their lengths ignored fails all 21 variable-length ones). Each fixture's largest error
 * and its share of the tolerance are printed.
 */
class TorchReferenceTest {

    static final double ATOL = 1e-5;
    static final double RTOL = 1e-5;
    static final String FOLDER = "/torch-reference/";

    private static CpuAndCuda engines;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        engines = CpuAndCuda.open();
    }

    @AfterAll
    static void stop() {
        engines.close();
    }

    static List<String> fixtures() throws IOException {
        try (InputStream in = TorchReferenceTest.class.getResourceAsStream(FOLDER + "index.txt")) {
            assertNotNull(in, FOLDER + "index.txt is missing from the test resources");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
    }

    @Test
    void everyCellHasFixturesOfEveryShape() throws Exception {
        List<String> names = fixtures();
        TreeSet<String> shapes = new TreeSet<>();
        for (Cell cell : Cell.values()) {
            List<String> mine = names.stream().filter(n -> n.startsWith(cell.id() + "-")).toList();
            assertTrue(mine.size() >= 5, cell + " has " + mine.size() + " fixtures: " + mine);
            mine.forEach(n -> shapes.add(n.substring(cell.id().length() + 1)));
        }
        for (String shape : shapes) {
            for (Cell cell : Cell.values()) {
                assertTrue(names.contains(cell.id() + "-" + shape), "no fixture " + cell.id() + "-" + shape);
            }
        }
        assertEquals(Cell.values().length * shapes.size(), names.size(), "fixtures outside the cell × shape grid");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void cpuMatchesPyTorch(String fixture) throws Exception {
        check(engines.cpu(), fixture);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void cudaMatchesPyTorch(String fixture) throws Exception {
        engines.assumeCuda();
        check(engines.cuda(), fixture);
    }

    /** The largest error of one comparison, kept for the failure message. */
    record Worst(String name, int index, double got, double want) {
    }

    /**
     * The largest errors over one fixture, printed on one line so that a run's log (the GPU
     * record, for one) shows how close each engine came, not only that it passed.
     */
    static final class Largest {
        double abs;
        String absWhere = "-";
        double share; // err / (ATOL + RTOL·|want|): 1 is the tolerance
        String shareWhere = "-";

        void see(String name, double err, double allowed) {
            if (err > abs) {
                abs = err;
                absWhere = name;
            }
            if (err / allowed > share) {
                share = err / allowed;
                shareWhere = name;
            }
        }

        @Override
        public String toString() {
            return String.format("largest |recur - torch| %.2e (%s), largest share of the tolerance %.3f (%s)", abs,
                    absWhere, share, shareWhere);
        }
    }

    static void check(Backend be, String fixture) throws Exception {
        SafeTensors f = load(fixture);
        Map<String, String> meta = f.metadata();
        Cell cell = Cell.byId(meta.get("cell"));
        int layers = Integer.parseInt(meta.get("num_layers"));
        boolean bi = Boolean.parseBoolean(meta.get("bidirectional"));
        boolean batchFirst = Boolean.parseBoolean(meta.get("batch_first"));
        int in = Integer.parseInt(meta.get("input_size"));
        int hs = Integer.parseInt(meta.get("hidden_size"));
        int steps = Integer.parseInt(meta.get("steps"));
        int batch = Integer.parseInt(meta.get("batch"));
        int[] lengths = meta.get("lengths").isEmpty() ? null
                : Arrays.stream(meta.get("lengths").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean given = meta.get("initial_state").equals("given");
        RecurrentConfig cfg = RecurrentConfig.builder(cell, in, hs).numLayers(layers).bidirectional(bi)
                .batchFirst(batchFirst).build();
        int states = layers * cfg.directions();
        int[] xShape = batchFirst ? new int[] {batch, steps, in} : new int[] {steps, batch, in};

        List<Tensor> owned = new ArrayList<>();
        try (RecurrentStack stack = new RecurrentStack(be, "", cfg, new SplittableRandom(1))) {
            // Every parameter the stack has comes from the fixture, under PyTorch's name, and the
            // fixture has no parameter the stack lacks.
            TreeSet<String> stored = new TreeSet<>();
            for (String name : f.tensors().keySet()) {
                if (name.startsWith("weight_") || name.startsWith("bias_")) {
                    stored.add(name);
                }
            }
            TreeSet<String> mine = new TreeSet<>();
            for (Parameter p : stack.parameters()) {
                mine.add(p.name());
                p.value().copyFrom(f.require(p.name(), p.value().shape().toArray()).data());
            }
            assertEquals(stored, mine, fixture + ": parameter names");

            Tensor x = keep(owned, be.tensor(f.require("input", xShape).data(), xShape));
            State[] init = null;
            if (given) {
                init = states(be, owned, f, "h0", cell.hasCellState() ? "c0" : null, states, batch, hs);
            }
            State[] dFinal = states(be, owned, f, "grad_h_n", cell.hasCellState() ? "grad_c_n" : null, states, batch,
                    hs);
            State[] dInit = new State[states];
            for (int s = 0; s < states; s++) {
                dInit[s] = State.zeros(be, cell, batch, hs);
                keep(owned, dInit[s].h());
                keep(owned, dInit[s].c());
            }

            Tensor y = stack.forward(x, lengths, init, true);
            be.synchronize();
            List<String> failures = new ArrayList<>();
            Largest largest = new Largest();
            compare(failures, largest, "output", y.toArray(), f.require("output", y.shape().toArray()).data());
            State[] fin = stack.finalStates();
            compare(failures, largest, "h_n", concat(fin, false), f.require("h_n", states, batch, hs).data());
            if (cell.hasCellState()) {
                compare(failures, largest, "c_n", concat(fin, true), f.require("c_n", states, batch, hs).data());
            }

            Tensor dy = keep(owned, be.tensor(f.require("grad_output", y.shape().toArray()).data(), y.shape().toArray()));
            stack.zeroGrad();
            Tensor dx = stack.backward(dy, dFinal, dInit);
            be.synchronize();
            compare(failures, largest, "grad.input", dx.toArray(), f.require("grad.input", xShape).data());
            if (given) {
                compare(failures, largest, "grad.h0", concat(dInit, false), f.require("grad.h0", states, batch, hs).data());
                if (cell.hasCellState()) {
                    compare(failures, largest, "grad.c0", concat(dInit, true), f.require("grad.c0", states, batch, hs).data());
                }
            }
            for (Parameter p : stack.parameters()) {
                compare(failures, largest, "grad." + p.name(), p.grad().toArray(),
                        f.require("grad." + p.name(), p.grad().shape().toArray()).data());
            }
            System.out.println("torch-reference " + be.name() + " " + fixture + ": " + largest);
            if (!failures.isEmpty()) {
                fail(fixture + " on the " + be.name() + " engine (reference: " + meta.get("reference") + "):\n  "
                        + String.join("\n  ", failures));
            }
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    /** Adds a line to {@code failures} when any element is outside the tolerance. */
    static void compare(List<String> failures, Largest largest, String name, float[] got, float[] want) {
        assertEquals(want.length, got.length, name + ": element count");
        int bad = 0;
        Worst worst = null;
        double worstExcess = 0;
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            double allowed = ATOL + RTOL * Math.abs(want[i]);
            largest.see(name, err, allowed);
            double excess = err - allowed;
            if (!(excess <= 0)) {
                bad++;
                if (worst == null || !(excess <= worstExcess)) {
                    worst = new Worst(name, i, got[i], want[i]);
                    worstExcess = excess;
                }
            }
        }
        if (worst != null) {
            failures.add(name + ": " + bad + " of " + want.length + " elements off; worst at " + worst.index()
                    + ": " + worst.got() + " vs " + worst.want());
        }
    }

    /** {@code h} (or {@code c}) of each state, concatenated as PyTorch's {@code [L*D, B, H]}. */
    static float[] concat(State[] states, boolean c) {
        float[][] parts = new float[states.length][];
        int n = 0;
        for (int s = 0; s < states.length; s++) {
            parts[s] = (c ? states[s].c() : states[s].h()).toArray();
            n += parts[s].length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Splits stored {@code [L*D, B, H]} tensors into states ({@code cName} null: no c). */
    static State[] states(Backend be, List<Tensor> owned, SafeTensors f, String hName, String cName, int states,
                          int batch, int hs) throws CheckpointException {
        float[] h = f.require(hName, states, batch, hs).data();
        float[] c = cName == null ? null : f.require(cName, states, batch, hs).data();
        State[] out = new State[states];
        int n = batch * hs;
        for (int s = 0; s < states; s++) {
            Tensor ht = keep(owned, be.tensor(Arrays.copyOfRange(h, s * n, (s + 1) * n), batch, hs));
            Tensor ct = c == null ? null : keep(owned, be.tensor(Arrays.copyOfRange(c, s * n, (s + 1) * n), batch, hs));
            out[s] = new State(ht, ct);
        }
        return out;
    }

    static Tensor keep(List<Tensor> owned, Tensor t) {
        if (t != null) {
            owned.add(t);
        }
        return t;
    }

    /** Reads a fixture from the test resources (which may sit in a jar) through a temporary copy. */
    static SafeTensors load(String fixture) throws IOException, CheckpointException {
        Path file = tmp.resolve(fixture);
        if (!Files.exists(file)) {
            try (InputStream in = TorchReferenceTest.class.getResourceAsStream(FOLDER + fixture)) {
                assertNotNull(in, FOLDER + fixture + " is listed in index.txt but missing");
                Files.copy(in, file);
            }
        }
        return SafeTensors.read(file);
    }
}
