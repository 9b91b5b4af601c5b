package dev.recur.bench;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.LayerNormParams;
import dev.recur.api.LayerParams;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the benchmarks run on a Recur engine, through the public {@link Backend} ops only, so that
 * every engine runs the same calls: a GEMM, one step of a cell, one layer over a sequence. Each
 * workload allocates everything once; its run methods allocate nothing, as a training loop's
 * steps do not. Inputs are uniform in [-1, 1), weights uniform in [-1/√H, 1/√H) as PyTorch
 * initialises them, from a fixed seed.
 *
 * <p>Legend: T steps, B batch, I input features, H hidden units, G gate blocks of the cell.
 */
public final class RecurWorkloads {

    private RecurWorkloads() {
    }

    /** Tensors made by a workload, closed with it. */
    private abstract static class Owned implements AutoCloseable {
        private final List<AutoCloseable> owned = new ArrayList<>();

        final Tensor keep(Tensor t) {
            owned.add(t);
            return t;
        }

        final Workspace keep(Workspace w) {
            owned.add(w);
            return w;
        }

        final LayerParams keep(LayerParams p) {
            for (Tensor t : p.tensors()) {
                keep(t);
            }
            return p;
        }

        final State keep(State s) {
            keep(s.h());
            if (s.c() != null) {
                keep(s.c());
            }
            return s;
        }

        @Override
        public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // Tensors close idempotently and throw nothing checked; nothing to report.
                }
            }
            owned.clear();
        }
    }

    /** A tensor of {@code shape} filled uniformly in {@code [-scale, scale)}. */
    static Tensor uniform(Backend backend, SplittableRandom random, float scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return backend.tensor(data, shape);
    }

    static LayerParams params(Backend backend, SplittableRandom random, Cell cell, int input, int hidden) {
        int gh = cell.gates() * hidden;
        float k = (float) (1 / Math.sqrt(hidden));
        return new LayerParams(uniform(backend, random, k, gh, input), uniform(backend, random, k, gh, hidden),
                uniform(backend, random, k, gh), uniform(backend, random, k, gh),
                cell.peepholes() > 0 ? uniform(backend, random, k, cell.peepholes() * hidden) : null);
    }

    /**
     * {@code C[M, N] = A[M, K] · op(B)}, where {@code op(B)} is {@code B[K, N]}, or with
     * {@code transB} the transpose of {@code B[N, K]}: the layout of a weight matrix
     * {@code W[G*H, I]} used as {@code X · Wᵀ}, which is how a layer multiplies.
     */
    public static final class Gemm extends Owned {
        private final Backend backend;
        private final boolean transB;
        private final Tensor a; // [M, K]
        private final Tensor b; // [K, N] or, with transB, [N, K]
        private final Tensor c; // [M, N]

        public Gemm(Backend backend, int m, int n, int k, boolean transB, long seed) {
            this.backend = backend;
            this.transB = transB;
            SplittableRandom random = new SplittableRandom(seed);
            a = keep(uniform(backend, random, 1f, m, k));
            b = keep(transB ? uniform(backend, random, 1f, n, k) : uniform(backend, random, 1f, k, n));
            c = keep(backend.tensor(m, n));
        }

        public void run() {
            backend.gemm(false, transB, 1f, a, b, 0f, c);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        /** The product, to check it. */
        public Tensor c() {
            return c;
        }
    }

    /** One step of a cell: {@code x [B, I]}, the states {@code [B, H]}, a {@code maxSteps = 1} workspace. */
    public static final class CellStep extends Owned {
        private final Backend backend;
        private final Cell cell;
        private final Tensor x;          // [B, I]
        private final State prev;        // h, c [B, H]
        private final State next;        // h, c [B, H]
        private final State dNext;       // dh, dc [B, H]
        private final Tensor dx;         // [B, I]
        private final State dPrev;       // [B, H]
        private final LayerParams params;
        private final LayerParams grads; // accumulated into, never zeroed: the cost is the same
        private final Workspace ws;

        public CellStep(Backend backend, Cell cell, int batch, int input, int hidden, long seed) {
            this.backend = backend;
            this.cell = cell;
            SplittableRandom random = new SplittableRandom(seed);
            x = keep(uniform(backend, random, 1f, batch, input));
            prev = keep(randomState(backend, random, cell, batch, hidden));
            next = keep(State.zeros(backend, cell, batch, hidden));
            dNext = keep(randomState(backend, random, cell, batch, hidden));
            dx = keep(backend.tensor(batch, input));
            dPrev = keep(State.zeros(backend, cell, batch, hidden));
            params = keep(params(backend, random, cell, input, hidden));
            grads = keep(LayerParams.zeros(backend, cell, input, hidden));
            ws = keep(backend.workspace(cell, 1, batch, input, hidden, false));
        }

        private static State randomState(Backend backend, SplittableRandom random, Cell cell, int batch, int hidden) {
            return new State(uniform(backend, random, 1f, batch, hidden),
                    cell.hasCellState() ? uniform(backend, random, 1f, batch, hidden) : null);
        }

        public void forward() {
            backend.cellForward(cell, x, prev, params, next, ws);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        public void forwardBackward() {
            forward();
            backend.cellBackward(cell, x, params, ws, dNext, dx, dPrev, grads);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        public State next() {
            return next;
        }
    }

    /**
     * One direction of one layer over whole sequences of T steps, zero initial state, every
     * sequence full length: {@code x [T, B, I]} to {@code y [T, B, H]}, and back from a fixed
     * {@code dy [T, B, H]} to {@code dx [T, B, I]} and the parameter gradients.
     */
    public static final class Layer extends Owned {
        private final Backend backend;
        private final Cell cell;
        private final Tensor x;          // [T, B, I]
        private final Tensor y;          // [T, B, H]
        private final Tensor dy;         // [T, B, H]
        private final Tensor dx;         // [T, B, I]
        private final LayerParams params;
        private final LayerParams grads;
        private final Workspace ws;

        public Layer(Backend backend, Cell cell, int batch, int input, int hidden, int steps, long seed) {
            this.backend = backend;
            this.cell = cell;
            SplittableRandom random = new SplittableRandom(seed);
            x = keep(uniform(backend, random, 1f, steps, batch, input));
            y = keep(backend.tensor(steps, batch, hidden));
            dy = keep(uniform(backend, random, 1f, steps, batch, hidden));
            dx = keep(backend.tensor(steps, batch, input));
            params = keep(params(backend, random, cell, input, hidden));
            grads = keep(LayerParams.zeros(backend, cell, input, hidden));
            ws = keep(backend.workspace(cell, steps, batch, input, hidden, false));
        }

        /** {@code layerForward}: fills {@code y} and the workspace. */
        public void forward() {
            backend.layerForward(cell, Direction.FORWARD, x, null, null, params, y, null, ws);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        /** {@code layerInference}: fills {@code y}, saves nothing (the workspace is scratch). */
        public void inference() {
            backend.layerInference(cell, Direction.FORWARD, x, null, null, params, y, null, ws);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        /** {@code layerForward}, then {@code layerBackward} (gradients accumulate). */
        public void forwardBackward() {
            forward();
            backend.layerBackward(cell, Direction.FORWARD, x, null, params, ws, dy, null, dx, null, grads);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        /**
         * This layer's part of a training step, as a trainer runs it for each batch: zero the
         * gradients, forward, backward (the input gradient included, as a layer in a stack needs it).
         */
        public void trainStep() {
            grads.zero();
            forwardBackward();
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        public Tensor y() {
            return y;
        }

        public Tensor dx() {
            return dx;
        }

        public LayerParams grads() {
            return grads;
        }
    }

    /**
     * {@link Layer}'s training step with cell options ({@link CellOptions}: layer normalisation,
     * recurrent dropout, zoneout, projection): one direction, zero initial state, every sequence
     * full length, {@code x [T, B, I]} to {@code y [T, B, R]} and back from a fixed
     * {@code dy [T, B, R]}. Weights as PyTorch initialises them ({@code weight_hr [P, H]} too),
     * layer-norm gains 1 and biases 0; each training step draws fresh masks (the counter moves by
     * {@link CellOptions#draws}), as a training loop's steps do. With {@link CellOptions#NONE} it
     * runs the plain ops, the same calls as {@link Layer}.
     */
    public static final class OptionLayer extends Owned {
        private final Backend backend;
        private final Cell cell;
        private final CellOptions options;
        private final Tensor x;          // [T, B, I]
        private final Tensor y;          // [T, B, R]
        private final Tensor dy;         // [T, B, R]
        private final Tensor dx;         // [T, B, I]
        private final LayerParams params;
        private final LayerParams grads;
        private final Workspace ws;
        private final long draws;        // counter values one call uses
        private long counter;
        private StepControl control = StepControl.NONE;

        public OptionLayer(Backend backend, Cell cell, CellOptions options, int batch, int input, int hidden, int steps,
                           long seed) {
            this.backend = backend;
            this.cell = cell;
            this.options = options;
            int r = options.recurrentWidth(hidden);
            int gh = cell.gates() * hidden;
            float k = (float) (1 / Math.sqrt(hidden));
            SplittableRandom random = new SplittableRandom(seed);
            x = keep(uniform(backend, random, 1f, steps, batch, input));
            y = keep(backend.tensor(steps, batch, r));
            dy = keep(uniform(backend, random, 1f, steps, batch, r));
            dx = keep(backend.tensor(steps, batch, input));
            params = keep(new LayerParams(uniform(backend, random, k, gh, input), uniform(backend, random, k, gh, r),
                    uniform(backend, random, k, gh), uniform(backend, random, k, gh),
                    cell.peepholes() > 0 ? uniform(backend, random, k, cell.peepholes() * hidden) : null,
                    options.projectionSize() > 0 ? uniform(backend, random, k, options.projectionSize(), hidden) : null,
                    options.layerNorm() ? LayerNormParams.initial(backend, cell, hidden, false) : null));
            grads = keep(LayerParams.zeros(backend, cell, options, input, hidden));
            ws = keep(backend.workspace(cell, options, steps, batch, input, hidden, false));
            draws = options.draws(cell, steps, batch, hidden);
        }

        /** {@code layerForward} with this step's draws. */
        public void forward() {
            control = options.draws() ? StepControl.draws(Measurements.SEED, counter) : StepControl.NONE;
            counter += draws;
            backend.layerForward(cell, Direction.FORWARD, x, null, control, null, params, y, null, ws);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        /** Zero the gradients, forward, backward (the input gradient included), as a trainer runs a layer. */
        public void trainStep() {
            grads.zero();
            forward();
            backend.layerBackward(cell, Direction.FORWARD, x, null, control, params, ws, dy, null, dx, null, grads);
            backend.synchronize(); // asynchronous engines: a timed run ends when the work has finished
        }

        public Tensor y() {
            return y;
        }
    }
}
