package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every public op refuses bad arguments with an exception whose message names the op, the
 * argument, the expected and the actual shape or value (DESIGN.md, "Bad input and lost work").
 *
 * <p>{@link Args} builds valid arguments for every op of one cell (T = 3, B = 2, I = 4, H = 5);
 * each negative test changes exactly one of them. {@link #validArgumentsPassEveryOp} is the
 * positive control: without it a negative test could pass because the "valid" arguments were
 * already wrong somewhere else.
 */
class BadInputTest {

    static final int T = 3;
    static final int B = 2;
    static final int I = 4;
    static final int H = 5;

    private CpuBackend backend;
    private CpuBackend other;

    @BeforeEach
    void open() {
        backend = new CpuBackend(2);
    }

    @AfterEach
    void close() {
        backend.close();
        if (other != null) {
            other.close();
        }
    }

    // ================================================================ the valid arguments

    /** The six recurrent ops, each with the forward that must precede it. */
    enum Op {
        LAYER_FORWARD("layerForward", true, false),
        LAYER_BACKWARD("layerBackward", true, true),
        BI_FORWARD("bidirectionalForward", true, false),
        BI_BACKWARD("bidirectionalBackward", true, true),
        CELL_FORWARD("cellForward", false, false),
        CELL_BACKWARD("cellBackward", false, true);

        final String method;
        /** Whether x is a sequence {@code [T, B, I]} (else one step {@code [B, I]}). */
        final boolean sequence;
        final boolean backward;

        Op(String method, boolean sequence, boolean backward) {
            this.method = method;
            this.sequence = sequence;
            this.backward = backward;
        }

        boolean bidirectional() {
            return this == BI_FORWARD || this == BI_BACKWARD;
        }

        /** The op as named in messages, e.g. {@code layerForward(lstm)}. */
        String name(Cell cell) {
            return method + "(" + cell.id() + ")";
        }

        /** How the (forward-direction) params are named in messages. */
        String params() {
            return bidirectional() ? "params.forward" : "params";
        }

        /** The forward op whose result this op reads. */
        Op forward() {
            return switch (this) {
                case LAYER_BACKWARD -> LAYER_FORWARD;
                case BI_BACKWARD -> BI_FORWARD;
                case CELL_BACKWARD -> CELL_FORWARD;
                default -> this;
            };
        }
    }

    /** Valid arguments for every op of one cell; fields are mutable so a test can spoil one. */
    final class Args {
        final Cell cell;
        Direction direction = Direction.FORWARD;
        int[] lengths;            // [B] or null
        Tensor x;                 // [T, B, I]
        State init;               // h0, c0 [B, H]
        State initRev;
        LayerParams params;       // forward direction; also the per-step cell ops' params
        LayerParams paramsRev;
        Tensor y;                 // [T, B, H]
        Tensor biY;               // [T, B, 2H]
        State fin;                // hT, cT [B, H]
        State finRev;
        Workspace ws;             // one direction, maxSteps T
        Workspace biWs;           // bidirectional
        Tensor dy;                // [T, B, H]
        Tensor biDy;              // [T, B, 2H]
        State dFin;
        State dFinRev;
        Tensor dx;                // [T, B, I]
        State dInit;
        State dInitRev;
        LayerParams grads;
        LayerParams gradsRev;
        Tensor xStep;             // [B, I]
        State prev;               // [B, H]
        State next;
        State dNext;
        State dPrev;
        Tensor dxStep;            // [B, I]
        Workspace stepWs;         // maxSteps 1

        Args(Cell cell) {
            this.cell = cell;
            Random r = new Random(42 + cell.ordinal());
            x = random(r, T, B, I);
            init = state(r);
            initRev = state(r);
            params = params(r);
            paramsRev = params(r);
            y = backend.tensor(T, B, H);
            biY = backend.tensor(T, B, 2 * H);
            fin = State.zeros(backend, cell, B, H);
            finRev = State.zeros(backend, cell, B, H);
            ws = backend.workspace(cell, T, B, I, H, false);
            biWs = backend.workspace(cell, T, B, I, H, true);
            dy = random(r, T, B, H);
            biDy = random(r, T, B, 2 * H);
            dFin = state(r);
            dFinRev = state(r);
            dx = backend.tensor(T, B, I);
            dInit = State.zeros(backend, cell, B, H);
            dInitRev = State.zeros(backend, cell, B, H);
            grads = LayerParams.zeros(backend, cell, I, H);
            gradsRev = LayerParams.zeros(backend, cell, I, H);
            xStep = random(r, B, I);
            prev = state(r);
            next = State.zeros(backend, cell, B, H);
            dNext = state(r);
            dPrev = State.zeros(backend, cell, B, H);
            dxStep = backend.tensor(B, I);
            stepWs = backend.workspace(cell, 1, B, I, H, false);
        }

        private Tensor random(Random r, int... shape) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = r.nextFloat() - 0.5f;
            }
            return backend.tensor(v, shape);
        }

        private State state(Random r) {
            return new State(random(r, B, H), cell.hasCellState() ? random(r, B, H) : null);
        }

        private LayerParams params(Random r) {
            int gh = cell.gates() * H;
            return new LayerParams(random(r, gh, I), random(r, gh, H), random(r, gh), random(r, gh),
                    cell.peepholes() > 0 ? random(r, cell.peepholes() * H) : null);
        }

        void run(Op op) {
            switch (op) {
                case LAYER_FORWARD -> backend.layerForward(cell, direction, x, lengths, init, params, y, fin, ws);
                case LAYER_BACKWARD -> backend.layerBackward(cell, direction, x, lengths, params, ws, dy, dFin, dx,
                        dInit, grads);
                case BI_FORWARD -> backend.bidirectionalForward(cell, x, lengths, pair(init, initRev),
                        pair(params, paramsRev), biY, pair(fin, finRev), biWs);
                case BI_BACKWARD -> backend.bidirectionalBackward(cell, x, lengths, pair(params, paramsRev), biWs,
                        biDy, pair(dFin, dFinRev), dx, pair(dInit, dInitRev), pair(grads, gradsRev));
                case CELL_FORWARD -> backend.cellForward(cell, xStep, prev, params, next, stepWs);
                case CELL_BACKWARD -> backend.cellBackward(cell, xStep, params, stepWs, dNext, dxStep, dPrev, grads);
            }
        }

        /** Runs the forward a backward op needs (nothing for a forward op), with the valid arguments. */
        Args prepare(Op op) {
            if (op.backward) {
                run(op.forward());
            }
            return this;
        }

        /** The x of {@code op}. */
        Tensor x(Op op) {
            return op.sequence ? x : xStep;
        }

        void setX(Op op, Tensor t) {
            if (op.sequence) {
                x = t;
            } else {
                xStep = t;
            }
        }

        Workspace ws(Op op) {
            return op.bidirectional() ? biWs : op.sequence ? ws : stepWs;
        }

        void setWs(Op op, Workspace w) {
            if (op.bidirectional()) {
                biWs = w;
            } else if (op.sequence) {
                ws = w;
            } else {
                stepWs = w;
            }
        }

        /** The initial state a forward op reads, and its name in messages. */
        void setInit(Op op, State s) {
            switch (op) {
                case LAYER_FORWARD -> init = s;
                case BI_FORWARD -> init = s;
                case CELL_FORWARD -> prev = s;
                default -> throw new IllegalArgumentException(op + " reads no initial state");
            }
        }

        /** The final-state gradient a backward op reads. */
        void setDFin(Op op, State s) {
            switch (op) {
                case LAYER_BACKWARD, BI_BACKWARD -> dFin = s;
                case CELL_BACKWARD -> dNext = s;
                default -> throw new IllegalArgumentException(op + " reads no state gradient");
            }
        }
    }

    private Args args(Cell cell) {
        return new Args(cell);
    }

    private static <V> PerDirection<V> pair(V forward, V reverse) {
        return new PerDirection<>(forward, reverse);
    }

    static Stream<Arguments> cellsAndOps() {
        List<Arguments> out = new ArrayList<>();
        for (Cell c : Cell.values()) {
            for (Op op : Op.values()) {
                out.add(Arguments.of(c, op));
            }
        }
        return out.stream();
    }

    /** Asserts that {@code call} throws {@code type} with a message containing every one of {@code parts}. */
    private static <E extends RuntimeException> E fails(Class<E> type, Executable call, String... parts) {
        E e = assertThrows(type, call);
        String m = e.getMessage();
        for (String p : parts) {
            assertTrue(m != null && m.contains(p), "message should contain '" + p + "' but was: " + m);
        }
        return e;
    }

    private static IllegalArgumentException badArg(Executable call, String... parts) {
        return fails(IllegalArgumentException.class, call, parts);
    }

    private static IllegalStateException badState(Executable call, String... parts) {
        return fails(IllegalStateException.class, call, parts);
    }

    private static boolean anyNonZero(Tensor t) {
        for (float v : t.toArray()) {
            if (v != 0f) {
                return true;
            }
        }
        return false;
    }

    private static boolean allFinite(Tensor t) {
        for (float v : t.toArray()) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    // ================================================================ positive controls

    @ParameterizedTest
    @EnumSource(Cell.class)
    void validArgumentsPassEveryOp(Cell cell) {
        Args a = args(cell);
        for (Op op : Op.values()) {
            assertDoesNotThrow(() -> a.run(op), op.name(cell));
        }
        // They really ran: outputs and gradients were written, and are finite.
        for (Tensor t : List.of(a.y, a.biY, a.fin.h(), a.next.h(), a.dx, a.dxStep, a.dInit.h(), a.grads.weightIh(),
                a.grads.weightHh(), a.gradsRev.biasHh())) {
            assertTrue(anyNonZero(t), cell + ": an output stayed zero: " + t);
            assertTrue(allFinite(t), cell + ": an output is not finite: " + t);
        }
        if (cell == Cell.LSTM_PEEPHOLE) {
            assertTrue(anyNonZero(a.grads.peephole()));
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void validVariableLengthsAndTheReverseDirectionPass(Cell cell) {
        Args a = args(cell);
        a.lengths = new int[] {1, 3};
        a.direction = Direction.REVERSE;
        assertDoesNotThrow(() -> a.run(Op.LAYER_FORWARD), Op.LAYER_FORWARD.name(cell));
        // Sequence 0 has one step: its outputs at t = 1, 2 are zero. Walking in reverse, each
        // sequence ends at t = 0, so its final state is its output there (as in PyTorch).
        float[] y = a.y.toArray();
        for (int t = 1; t < T; t++) {
            assertArrayEquals(new float[H], Arrays.copyOfRange(y, (t * B) * H, (t * B + 1) * H),
                    "y[" + t + ", 0, :] past the end of sequence 0");
        }
        assertArrayEquals(a.fin.h().toArray(), Arrays.copyOfRange(y, 0, B * H), "y[0] against hT");
        assertTrue(anyNonZero(a.fin.h()));
        for (Op op : List.of(Op.LAYER_BACKWARD, Op.BI_FORWARD, Op.BI_BACKWARD)) {
            assertDoesNotThrow(() -> a.run(op), op.name(cell));
        }
        assertTrue(anyNonZero(a.dx));
    }

    @Test
    void validGemmsPassAndComputeExactlyOnSmallIntegers() {
        // A [2, 3] = 1..6, B [3, 2] = 1..6: A·B = [[22, 28], [49, 64]], exact in float32.
        Tensor a = backend.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = backend.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor c = backend.tensor(2, 2);
        backend.gemm(false, false, 1f, a, b, 0f, c);
        assertArrayEquals(new float[] {22, 28, 49, 64}, c.toArray());
        // transA: A [2, 3] is read as [K, M], so this is Aᵀ·A [3, 3].
        Tensor ata = backend.tensor(3, 3);
        backend.gemm(true, false, 1f, a, a, 0f, ata);
        assertArrayEquals(new float[] {17, 22, 27, 22, 29, 36, 27, 36, 45}, ata.toArray());
        // Strided batch of two: the second batch is the first times 2, so its product is 4×.
        Tensor sa = backend.tensor(new float[] {1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12}, 2, 2, 3);
        Tensor sb = backend.tensor(new float[] {1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12}, 2, 3, 2);
        Tensor sc = backend.tensor(2, 2, 2);
        backend.gemmStridedBatched(false, false, 1f, sa, sb, 0f, sc);
        assertArrayEquals(new float[] {22, 28, 49, 64, 88, 112, 196, 256}, sc.toArray());
    }

    // ================================================================ x

    @ParameterizedTest
    @EnumSource(Op.class)
    void xOfTheWrongRank(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        if (op.sequence) {
            a.setX(op, backend.tensor(T * B, I));
            badArg(() -> a.run(op), op.name(Cell.LSTM), "x must have rank 3", "got rank 2", "[6, 4]");
        } else {
            a.setX(op, backend.tensor(T, B, I));
            badArg(() -> a.run(op), op.name(Cell.LSTM), "x must have rank 2", "got rank 3", "[3, 2, 4]");
        }
    }

    @ParameterizedTest
    @MethodSource("cellsAndOps")
    void xWithTheWrongInputSize(Cell cell, Op op) {
        Args a = args(cell).prepare(op);
        if (op.sequence) {
            a.setX(op, backend.tensor(T, B, I + 2));
            badArg(() -> a.run(op), op.name(cell), "x must have shape [T, B, I] = [3, 2, 4]", "got [3, 2, 6]");
        } else {
            a.setX(op, backend.tensor(B, I + 2));
            badArg(() -> a.run(op), op.name(cell), "x must have shape [B, I] = [2, 4]", "got [2, 6]");
        }
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void nanInX(Op op) {
        Args a = args(Cell.GRU).prepare(op);
        Tensor x = a.x(op);
        float[] v = x.toArray();
        if (op.sequence) {
            v[(2 * B + 1) * I + 3] = Float.NaN; // x[2, 1, 3]
            x.copyFrom(v);
            badArg(() -> a.run(op), op.name(Cell.GRU), "x holds NaN", "at index [2, 1, 3]", "(shape [3, 2, 4])");
        } else {
            v[I + 3] = Float.NaN;               // x[1, 3]
            x.copyFrom(v);
            badArg(() -> a.run(op), op.name(Cell.GRU), "x holds NaN", "at index [1, 3]", "(shape [2, 4])");
        }
    }

    // ================================================================ parameters

    @ParameterizedTest
    @MethodSource("cellsAndOps")
    void weightHhOfTheWrongShape(Cell cell, Op op) {
        Args a = args(cell).prepare(op);
        int gh = cell.gates() * H;
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), backend.tensor(gh, H + 1), p.biasIh(), p.biasHh(), p.peephole());
        badArg(() -> a.run(op), op.name(cell), op.params() + ".weightHh must have shape [G*H, H] = [" + gh + ", 5]",
                "got [" + gh + ", 6]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void weightIhOfTheWrongShape(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        LayerParams p = a.params;
        a.params = new LayerParams(backend.tensor(20, I + 1), p.weightHh(), p.biasIh(), p.biasHh());
        badArg(() -> a.run(op), op.params() + ".weightIh must have shape [G*H, I] = [20, 4]", "got [20, 5]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void biasIhOfTheWrongShape(Op op) {
        Args a = args(Cell.RNN_TANH).prepare(op);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), p.weightHh(), backend.tensor(H - 1), p.biasHh());
        badArg(() -> a.run(op), op.params() + ".biasIh must have shape [G*H] = [5]", "got [4]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void biasHhOfTheWrongRank(Op op) {
        Args a = args(Cell.GRU).prepare(op);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), p.weightHh(), p.biasIh(), backend.tensor(1, 15));
        badArg(() -> a.run(op), op.params() + ".biasHh must have shape [G*H] = [15]", "got [1, 15]");
    }

    @Test
    void lstmWeightsForAGru() {
        // G is 4 for LSTM and 3 for GRU: [20, I] where [15, I] is expected.
        Args a = args(Cell.GRU);
        Args lstm = args(Cell.LSTM);
        a.params = lstm.params;
        badArg(() -> a.run(Op.LAYER_FORWARD), "layerForward(gru)",
                "params.weightIh must have shape [G*H, I] = [15, 4]", "got [20, 4]");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"BI_FORWARD", "BI_BACKWARD"})
    void reverseParamsAreCheckedToo(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        LayerParams p = a.paramsRev;
        a.paramsRev = new LayerParams(p.weightIh(), backend.tensor(20, H + 1), p.biasIh(), p.biasHh());
        badArg(() -> a.run(op), "params.reverse.weightHh must have shape [G*H, H] = [20, 5]", "got [20, 6]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void peepholeMissingForThePeepholeLstm(Op op) {
        Args a = args(Cell.LSTM_PEEPHOLE).prepare(op);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh(), null);
        badArg(() -> a.run(op), op.name(Cell.LSTM_PEEPHOLE), op.params() + ".peephole is null",
                "lstm_peephole needs peephole weights [3H] = [15]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void peepholeGivenForThePlainLstm(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh(), backend.tensor(3 * H));
        badArg(() -> a.run(op), op.params() + ".peephole is given", "lstm has no peepholes");
    }

    @Test
    void peepholeOfTheWrongLength() {
        Args a = args(Cell.LSTM_PEEPHOLE);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh(), backend.tensor(2 * H));
        badArg(() -> a.run(Op.LAYER_FORWARD), "params.peephole must have shape [3H] = [15]", "got [10]");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "BI_FORWARD", "CELL_FORWARD"})
    void nanInAWeight(Op op) {
        Args a = args(Cell.LSTM);
        float[] w = a.params.weightHh().toArray();
        w[7 * H + 2] = Float.NaN; // weightHh[7, 2]
        a.params.weightHh().copyFrom(w);
        badArg(() -> a.run(op), op.params() + ".weightHh holds NaN", "at index [7, 2]", "(shape [20, 5])");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_BACKWARD", "CELL_BACKWARD"}) // bidirectional: see below
    void gradsOfTheWrongShape(Op op) {
        Args a = args(Cell.LSTM_COUPLED).prepare(op);
        LayerParams g = a.grads;
        a.grads = new LayerParams(g.weightIh(), backend.tensor(15, H + 2), g.biasIh(), g.biasHh());
        badArg(() -> a.run(op), op.name(Cell.LSTM_COUPLED), "grads.weightHh must have shape [G*H, H] = [15, 5]",
                "got [15, 7]");
    }

    @Test
    void reverseGradsOfTheWrongShapeNameTheirDirection() {
        // params of a bidirectional op are named params.forward / params.reverse; grads should
        // be named the same way, or the message does not say which of the two is wrong.
        Args a = args(Cell.LSTM).prepare(Op.BI_BACKWARD);
        LayerParams g = a.gradsRev;
        a.gradsRev = new LayerParams(g.weightIh(), backend.tensor(20, H + 2), g.biasIh(), g.biasHh());
        badArg(() -> a.run(Op.BI_BACKWARD), "bidirectionalBackward(lstm)",
                "grads.reverse.weightHh must have shape [G*H, H] = [20, 5]", "got [20, 7]");
    }

    @Test
    void reverseGradsMissingNameTheirDirection() {
        Args a = args(Cell.LSTM).prepare(Op.BI_BACKWARD);
        a.gradsRev = null;
        badArg(() -> a.run(Op.BI_BACKWARD), "bidirectionalBackward(lstm)", "grads.reverse is null");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_BACKWARD", "CELL_BACKWARD"})
    void gradsNull(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.grads = null;
        badArg(() -> a.run(op), op.name(Cell.LSTM), "grads is null");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void paramsNull(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.params = null;
        badArg(() -> a.run(op), op.name(Cell.LSTM), op.params() + " is null");
    }

    // ================================================================ outputs

    @Test
    void layerForwardYOfTheWrongShape() {
        Args a = args(Cell.LSTM);
        a.y = backend.tensor(T, B, 2 * H);
        badArg(() -> a.run(Op.LAYER_FORWARD), "layerForward(lstm)", "y must have shape [T, B, H] = [3, 2, 5]",
                "got [3, 2, 10]");
    }

    @Test
    void bidirectionalForwardYOfTheWrongShape() {
        Args a = args(Cell.LSTM);
        a.biY = backend.tensor(T, B, H);
        badArg(() -> a.run(Op.BI_FORWARD), "bidirectionalForward(lstm)", "y must have shape [T, B, 2H] = [3, 2, 10]",
                "got [3, 2, 5]");
    }

    @Test
    void cellForwardNextOfTheWrongShape() {
        Args a = args(Cell.GRU);
        a.next = State.of(backend.tensor(B, H + 1));
        badArg(() -> a.run(Op.CELL_FORWARD), "cellForward(gru)", "next.h must have shape [B, H] = [2, 5]",
                "got [2, 6]");
    }

    @Test
    void cellForwardWithoutNext() {
        Args a = args(Cell.GRU);
        a.next = null;
        badArg(() -> a.run(Op.CELL_FORWARD), "cellForward(gru)", "next is null");
    }

    @Test
    void cellForwardOfAnLstmWithoutNextC() {
        Args a = args(Cell.LSTM);
        a.next = State.of(backend.tensor(B, H));
        badArg(() -> a.run(Op.CELL_FORWARD), "cellForward(lstm)", "next.c is null", "lstm has a cell state");
    }

    @Test
    void finalStateOfTheWrongShape() {
        Args a = args(Cell.LSTM);
        a.fin = new State(backend.tensor(B, H), backend.tensor(B + 1, H));
        badArg(() -> a.run(Op.LAYER_FORWARD), "fin.c must have shape [B, H] = [2, 5]", "got [3, 5]");
    }

    @Test
    void layerBackwardDxOfTheWrongShape() {
        Args a = args(Cell.RNN_RELU).prepare(Op.LAYER_BACKWARD);
        a.dx = backend.tensor(T, B, H);
        badArg(() -> a.run(Op.LAYER_BACKWARD), "layerBackward(rnn_relu)", "dx must have shape [T, B, I] = [3, 2, 4]",
                "got [3, 2, 5]");
    }

    @Test
    void layerBackwardDyOfTheWrongShape() {
        Args a = args(Cell.RNN_RELU).prepare(Op.LAYER_BACKWARD);
        a.dy = backend.tensor(T, B, 2 * H);
        badArg(() -> a.run(Op.LAYER_BACKWARD), "dy must have shape [T, B, H] = [3, 2, 5]", "got [3, 2, 10]");
    }

    @Test
    void bidirectionalBackwardDyOfTheWrongShape() {
        Args a = args(Cell.RNN_RELU).prepare(Op.BI_BACKWARD);
        a.biDy = backend.tensor(T, B, H);
        badArg(() -> a.run(Op.BI_BACKWARD), "dy must have shape [T, B, 2H] = [3, 2, 10]", "got [3, 2, 5]");
    }

    @Test
    void nanInDy() {
        Args a = args(Cell.LSTM).prepare(Op.LAYER_BACKWARD);
        float[] v = a.dy.toArray();
        v[(1 * B + 0) * H + 4] = Float.NaN; // dy[1, 0, 4]
        a.dy.copyFrom(v);
        badArg(() -> a.run(Op.LAYER_BACKWARD), "dy holds NaN", "at index [1, 0, 4]");
    }

    // ================================================================ lengths

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "LAYER_BACKWARD", "BI_FORWARD", "BI_BACKWARD"})
    void lengthsOfTheWrongSize(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.lengths = new int[] {3};
        badArg(() -> a.run(op), op.name(Cell.LSTM), "lengths has 1 entries", "expected B = 2", "[3, 2, 4]");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "LAYER_BACKWARD", "BI_FORWARD", "BI_BACKWARD"})
    void aLengthOfZero(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.lengths = new int[] {3, 0};
        badArg(() -> a.run(op), op.name(Cell.LSTM), "lengths[1] = 0 is below 1");
    }

    @Test
    void aNegativeLength() {
        Args a = args(Cell.LSTM);
        a.lengths = new int[] {-1, 3};
        badArg(() -> a.run(Op.LAYER_FORWARD), "lengths[0] = -1 is below 1");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "LAYER_BACKWARD", "BI_FORWARD", "BI_BACKWARD"})
    void aLengthGreaterThanT(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.lengths = new int[] {2, 4};
        badArg(() -> a.run(op), op.name(Cell.LSTM), "lengths[1] = 4 is greater than T = 3", "(x [3, 2, 4])");
    }

    // ================================================================ states

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "BI_FORWARD", "CELL_FORWARD"})
    void infinityInH0(Op op) {
        Args a = args(Cell.LSTM);
        float[] h = new float[B * H];
        h[H + 4] = Float.POSITIVE_INFINITY; // h0[1, 4]
        a.setInit(op, new State(backend.tensor(h, B, H), backend.tensor(B, H)));
        String name = switch (op) {
            case BI_FORWARD -> "init.forward.h";
            case CELL_FORWARD -> "prev.h";
            default -> "init.h";
        };
        badArg(() -> a.run(op), op.name(Cell.LSTM), name + " holds Infinity", "at index [1, 4]", "(shape [2, 5])");
    }

    @Test
    void minusInfinityInC0() {
        Args a = args(Cell.LSTM_COUPLED);
        float[] c = new float[B * H];
        c[2] = Float.NEGATIVE_INFINITY; // c0[0, 2]
        a.init = new State(a.init.h(), backend.tensor(c, B, H));
        badArg(() -> a.run(Op.LAYER_FORWARD), "init.c holds -Infinity", "at index [0, 2]");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_BACKWARD", "BI_BACKWARD", "CELL_BACKWARD"})
    void infinityInTheFinalStateGradient(Op op) {
        Args a = args(Cell.GRU).prepare(op);
        float[] h = new float[B * H];
        h[1] = Float.POSITIVE_INFINITY; // [0, 1]
        a.setDFin(op, State.of(backend.tensor(h, B, H)));
        String name = switch (op) {
            case BI_BACKWARD -> "dFin.forward.h";
            case CELL_BACKWARD -> "dNext.h";
            default -> "dFin.h";
        };
        badArg(() -> a.run(op), op.name(Cell.GRU), name + " holds Infinity", "at index [0, 1]");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "BI_FORWARD", "CELL_FORWARD"})
    void cGivenForAGruState(Op op) {
        Args a = args(Cell.GRU);
        a.setInit(op, new State(backend.tensor(B, H), backend.tensor(B, H)));
        String name = switch (op) {
            case BI_FORWARD -> "init.forward.c";
            case CELL_FORWARD -> "prev.c";
            default -> "init.c";
        };
        badArg(() -> a.run(op), op.name(Cell.GRU), name + " is given", "gru has no cell state", "State.of(h)");
    }

    @Test
    void cGivenForAnRnnFinalState() {
        Args a = args(Cell.RNN_TANH);
        a.fin = new State(backend.tensor(B, H), backend.tensor(B, H));
        badArg(() -> a.run(Op.LAYER_FORWARD), "fin.c is given", "rnn_tanh has no cell state");
    }

    @Test
    void cOfTheWrongShape() {
        Args a = args(Cell.LSTM);
        a.init = new State(a.init.h(), backend.tensor(B, H + 1));
        badArg(() -> a.run(Op.LAYER_FORWARD), "init.c must have shape [B, H] = [2, 5]", "got [2, 6]");
    }

    @Test
    void hAndCTheSameTensor() {
        Args a = args(Cell.LSTM);
        Tensor h = backend.tensor(B, H);
        a.init = new State(h, h);
        badArg(() -> a.run(Op.LAYER_FORWARD), "init.h and init.c are the same tensor");
    }

    @Test
    void twoGradientsTheSameTensor() {
        Args a = args(Cell.GRU).prepare(Op.LAYER_BACKWARD);
        a.grads = new LayerParams(a.grads.weightIh(), a.grads.weightHh(), a.grads.biasIh(), a.grads.biasIh(), null);
        badArg(() -> a.run(Op.LAYER_BACKWARD), "layerBackward(gru): grads.biasIh and grads.biasHh are the same tensor");
    }

    @Test
    void oneDirectionsFinalStateIsTheOthersInitialState() {
        Args a = args(Cell.LSTM);
        a.finRev = new State(a.finRev.h(), a.init.c());
        badArg(() -> a.run(Op.BI_FORWARD), "bidirectionalForward(lstm): fin.reverse shares a tensor with init.forward;"
                + " the directions run at the same time, so give each its own");
        Args b = args(Cell.RNN_TANH);
        b.fin = State.of(b.initRev.h());
        badArg(() -> b.run(Op.BI_FORWARD), "fin.forward shares a tensor with init.reverse");
    }

    @Test
    void anOutputStateWithoutH() {
        Args a = args(Cell.LSTM).prepare(Op.LAYER_BACKWARD);
        a.dInit = new State(null, backend.tensor(B, H));
        badArg(() -> a.run(Op.LAYER_BACKWARD), "dInit.h is null");
    }

    // ================================================================ workspace

    @ParameterizedTest
    @EnumSource(Op.class)
    void aWorkspaceOfAnotherCell(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        Workspace w = a.ws(op);
        a.setWs(op, backend.workspace(Cell.GRU, w.maxSteps(), B, I, H, w.bidirectional()));
        badArg(() -> a.run(op), op.name(Cell.LSTM), "ws was made for cell gru, not lstm");
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "LAYER_BACKWARD", "BI_FORWARD", "BI_BACKWARD"})
    void aWorkspaceWithTooFewSteps(Op op) {
        Args a = args(Cell.GRU_ORIGINAL).prepare(op);
        a.setWs(op, backend.workspace(Cell.GRU_ORIGINAL, T - 1, B, I, H, op.bidirectional()));
        badArg(() -> a.run(op), op.name(Cell.GRU_ORIGINAL), "T = 3 exceeds the workspace's maxSteps = 2");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void aWorkspaceWithTooSmallABatch(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        Workspace w = a.ws(op);
        a.setWs(op, backend.workspace(Cell.LSTM, w.maxSteps(), B - 1, I, H, w.bidirectional()));
        badArg(() -> a.run(op), op.name(Cell.LSTM), "B = 2 exceeds the workspace's maxBatch = 1");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void aWorkspaceOfTheOtherKind(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        Workspace w = a.ws(op);
        a.setWs(op, backend.workspace(Cell.LSTM, w.maxSteps(), B, I, H, !w.bidirectional()));
        if (op.bidirectional()) {
            badArg(() -> a.run(op), op.name(Cell.LSTM), "ws was made not bidirectional",
                    "this op needs a bidirectional workspace");
        } else {
            badArg(() -> a.run(op), op.name(Cell.LSTM), "ws was made bidirectional",
                    "this op needs a one-direction workspace");
        }
    }

    @Test
    void aWorkspaceForAnotherInputSize() {
        // The workspace fixes I; x is measured against it.
        Args a = args(Cell.LSTM);
        a.ws = backend.workspace(Cell.LSTM, T, B, I + 2, H, false);
        badArg(() -> a.run(Op.LAYER_FORWARD), "x must have shape [T, B, I] = [3, 2, 6]", "got [3, 2, 4]");
    }

    @Test
    void aWorkspaceForAnotherHiddenSize() {
        Args a = args(Cell.LSTM);
        a.ws = backend.workspace(Cell.LSTM, T, B, I, H + 1, false);
        // The initial state is checked before the weights.
        badArg(() -> a.run(Op.LAYER_FORWARD), "init.h must have shape [B, H] = [2, 6]", "got [2, 5]");
        a.init = null;
        badArg(() -> a.run(Op.LAYER_FORWARD), "params.weightIh must have shape [G*H, I] = [24, 4]", "got [20, 4]");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void noWorkspace(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.setWs(op, null);
        badArg(() -> a.run(op), op.name(Cell.LSTM), "ws is null", "Backend.workspace");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void aClosedWorkspace(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.ws(op).close();
        badState(() -> a.run(op), op.name(Cell.LSTM), "ws is closed");
    }

    @Test
    void workspaceArgumentsAreChecked() {
        badArg(() -> backend.workspace(null, T, B, I, H, false), "workspace: cell is null");
        badArg(() -> backend.workspace(Cell.LSTM, 0, B, I, H, false), "workspace: maxSteps must be >= 1, got 0");
        badArg(() -> backend.workspace(Cell.LSTM, T, -1, I, H, false), "workspace: maxBatch must be >= 1, got -1");
        badArg(() -> backend.workspace(Cell.LSTM, T, B, 0, H, false), "workspace: inputSize must be >= 1, got 0");
        badArg(() -> backend.workspace(Cell.LSTM, T, B, I, 0, false), "workspace: hiddenSize must be >= 1, got 0");
    }

    // ================================================================ order of calls

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_BACKWARD", "BI_BACKWARD", "CELL_BACKWARD"})
    void backwardBeforeAnyForward(Op op) {
        Args a = args(Cell.LSTM);
        badState(() -> a.run(op), op.name(Cell.LSTM), "the workspace holds no forward pass",
                "call " + op.forward().method + " first");
    }

    @Test
    void layerBackwardWithOtherLengthsThanTheForward() {
        Args a = args(Cell.LSTM);
        a.lengths = new int[] {3, 2};
        a.run(Op.LAYER_FORWARD);
        a.lengths = new int[] {2, 3};
        badState(() -> a.run(Op.LAYER_BACKWARD), "layerBackward(lstm)",
                "was filled by layerForward(FORWARD, T=3, B=2, lengths=[3, 2])",
                "this backward is for layerForward(FORWARD, T=3, B=2, lengths=[2, 3])");
    }

    @Test
    void bidirectionalBackwardWithOtherLengthsThanTheForward() {
        Args a = args(Cell.GRU);
        a.run(Op.BI_FORWARD);
        a.lengths = new int[] {3, 1};
        badState(() -> a.run(Op.BI_BACKWARD), "bidirectionalBackward(gru)",
                "was filled by bidirectionalForward(both, T=3, B=2)",
                "this backward is for bidirectionalForward(both, T=3, B=2, lengths=[3, 1])");
    }

    @Test
    void aLengthsArrayChangedInPlaceAfterTheForwardIsCaught() {
        Args a = args(Cell.LSTM);
        a.lengths = new int[] {3, 2};
        a.run(Op.LAYER_FORWARD);
        a.lengths[1] = 1;
        badState(() -> a.run(Op.LAYER_BACKWARD), "was filled by", "lengths=[3, 2]", "lengths=[3, 1]");
    }

    @Test
    void layerBackwardInTheOtherDirection() {
        Args a = args(Cell.LSTM);
        a.direction = Direction.REVERSE;
        a.run(Op.LAYER_FORWARD);
        a.direction = Direction.FORWARD;
        badState(() -> a.run(Op.LAYER_BACKWARD), "was filled by layerForward(REVERSE",
                "this backward is for layerForward(FORWARD");
    }

    @Test
    void layerBackwardOnASmallerBatchThanTheForward() {
        Args a = args(Cell.LSTM);
        a.run(Op.LAYER_FORWARD);
        a.x = backend.tensor(T, B - 1, I);
        a.dy = null;
        a.dFin = null;
        a.dx = null;
        a.dInit = null;
        badState(() -> a.run(Op.LAYER_BACKWARD), "was filled by layerForward(FORWARD, T=3, B=2)",
                "this backward is for layerForward(FORWARD, T=3, B=1)");
    }

    @Test
    void cellBackwardAfterALayerForwardOnTheSameWorkspace() {
        // A one-step workspace serves both, but a cell backward must follow a cell forward.
        Args a = args(Cell.RNN_TANH);
        a.x = backend.tensor(1, B, I);
        a.y = backend.tensor(1, B, H);
        a.ws = a.stepWs;
        a.run(Op.LAYER_FORWARD);
        badState(() -> a.run(Op.CELL_BACKWARD), "cellBackward(rnn_tanh)", "was filled by layerForward",
                "this backward is for cellForward");
    }

    // ================================================================ ownership and closing

    @ParameterizedTest
    @EnumSource(Op.class)
    void xFromAnotherBackend(Op op) {
        other = new CpuBackend(1);
        Args a = args(Cell.LSTM).prepare(op);
        Tensor x = a.x(op);
        a.setX(op, other.tensor(x.toArray(), x.shape().toArray()));
        badArg(() -> a.run(op), op.name(Cell.LSTM), "x belongs to another cpu backend instance");
    }

    @Test
    void aWeightFromAnotherBackend() {
        other = new CpuBackend(1);
        Args a = args(Cell.LSTM);
        LayerParams p = a.params;
        a.params = new LayerParams(p.weightIh(), other.tensor(20, H), p.biasIh(), p.biasHh());
        badArg(() -> a.run(Op.LAYER_FORWARD), "params.weightHh belongs to another cpu backend instance");
    }

    @Test
    void aWorkspaceFromAnotherBackend() {
        other = new CpuBackend(1);
        Args a = args(Cell.LSTM);
        a.ws = other.workspace(Cell.LSTM, T, B, I, H, false);
        badArg(() -> a.run(Op.LAYER_FORWARD), "ws belongs to another cpu backend instance");
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void aClosedX(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.x(op).close();
        badState(() -> a.run(op), op.name(Cell.LSTM), "x is closed");
    }

    @Test
    void aClosedWeight() {
        Args a = args(Cell.GRU);
        a.params.biasHh().close();
        badState(() -> a.run(Op.LAYER_FORWARD), "params.biasHh is closed");
    }

    @Test
    void aClosedOutput() {
        Args a = args(Cell.GRU);
        a.y.close();
        badState(() -> a.run(Op.LAYER_FORWARD), "layerForward(gru)", "y is closed");
    }

    // ================================================================ null cell and direction

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"LAYER_FORWARD", "LAYER_BACKWARD"})
    void noDirection(Op op) {
        Args a = args(Cell.LSTM).prepare(op);
        a.direction = null;
        badArg(() -> a.run(op), "direction is null");
    }

    @Test
    void noCell() {
        Args a = args(Cell.LSTM);
        badArg(() -> backend.layerForward(null, Direction.FORWARD, a.x, null, a.init, a.params, a.y, a.fin, a.ws),
                "layerForward(null)", "cell is null");
        badArg(() -> backend.cellForward(null, a.xStep, a.prev, a.params, a.next, a.stepWs),
                "cellForward(null)", "cell is null");
    }

    // ================================================================ GEMM

    /** A [2, 3], B [3, 4], C [2, 4]: valid for gemm(false, false, ...). */
    private Tensor[] gemmArgs() {
        return new Tensor[] {backend.tensor(2, 3), backend.tensor(3, 4), backend.tensor(2, 4)};
    }

    @Test
    void gemmWithMismatchedK() {
        Tensor[] m = gemmArgs();
        Tensor b = backend.tensor(4, 4);
        badArg(() -> backend.gemm(false, false, 1f, m[0], b, 0f, m[2]), "gemm",
                "b ([K, N]) must have shape [K, N] = [3, 4]", "got [4, 4]");
    }

    @Test
    void gemmWithMismatchedKTransposed() {
        Tensor[] m = gemmArgs();
        Tensor bt = backend.tensor(4, 2); // Bᵀ must be [N, K] = [4, 3]
        badArg(() -> backend.gemm(false, true, 1f, m[0], bt, 0f, m[2]), "gemm",
                "b (transposed: [N, K]) must have shape [N, K] = [4, 3]", "got [4, 2]");
    }

    @Test
    void gemmWithMismatchedM() {
        Tensor[] m = gemmArgs();
        Tensor a = backend.tensor(3, 3);
        badArg(() -> backend.gemm(false, false, 1f, a, m[1], 0f, m[2]), "gemm",
                "a ([M, K]) must have shape [M, K] = [2, 3]", "got [3, 3]");
    }

    @Test
    void gemmWithATransposedOfTheWrongShape() {
        Tensor[] m = gemmArgs();
        // With transA, A is [K, M]: K = 3 is read from a, M = 2 from c, so a must be [3, 2].
        Tensor at = backend.tensor(3, 3);
        badArg(() -> backend.gemm(true, false, 1f, at, m[1], 0f, m[2]), "gemm",
                "a (transposed: [K, M]) must have shape [K, M] = [3, 2]", "got [3, 3]");
    }

    @Test
    void gemmWithANaNAlpha() {
        Tensor[] m = gemmArgs();
        badArg(() -> backend.gemm(false, false, Float.NaN, m[0], m[1], 0f, m[2]), "gemm",
                "alpha and beta must be finite", "alpha = NaN");
    }

    @Test
    void gemmWithAnInfiniteBeta() {
        Tensor[] m = gemmArgs();
        badArg(() -> backend.gemm(false, false, 1f, m[0], m[1], Float.POSITIVE_INFINITY, m[2]), "gemm",
                "beta = Infinity");
    }

    @Test
    void gemmWithARank3Matrix() {
        Tensor[] m = gemmArgs();
        Tensor a = backend.tensor(1, 2, 3);
        badArg(() -> backend.gemm(false, false, 1f, a, m[1], 0f, m[2]), "gemm", "a must have rank 2",
                "got rank 3", "[1, 2, 3]");
    }

    @Test
    void gemmWithAMissingOrForeignOrClosedMatrix() {
        Tensor[] m = gemmArgs();
        badArg(() -> backend.gemm(false, false, 1f, null, m[1], 0f, m[2]), "gemm: a is null");
        other = new CpuBackend(1);
        Tensor foreign = other.tensor(3, 4);
        badArg(() -> backend.gemm(false, false, 1f, m[0], foreign, 0f, m[2]), "gemm: b belongs to another cpu backend instance");
        m[2].close();
        badState(() -> backend.gemm(false, false, 1f, m[0], m[1], 0f, m[2]), "gemm: c is closed");
    }

    /** A [2, 2, 3], B [2, 3, 4], C [2, 2, 4]. */
    private Tensor[] stridedArgs() {
        return new Tensor[] {backend.tensor(2, 2, 3), backend.tensor(2, 3, 4), backend.tensor(2, 2, 4)};
    }

    @Test
    void gemmStridedBatchedWithMismatchedK() {
        Tensor[] m = stridedArgs();
        Tensor b = backend.tensor(2, 4, 4);
        badArg(() -> backend.gemmStridedBatched(false, false, 1f, m[0], b, 0f, m[2]), "gemmStridedBatched",
                "b must have shape [batch, K, N] = [2, 3, 4]", "got [2, 4, 4]");
    }

    @Test
    void gemmStridedBatchedWithMismatchedBatch() {
        Tensor[] m = stridedArgs();
        Tensor a = backend.tensor(3, 2, 3);
        badArg(() -> backend.gemmStridedBatched(false, false, 1f, a, m[1], 0f, m[2]), "gemmStridedBatched",
                "a must have shape [batch, M, K] = [2, 2, 3]", "got [3, 2, 3]");
    }

    @Test
    void gemmStridedBatchedWithARank2Matrix() {
        Tensor[] m = stridedArgs();
        Tensor c = backend.tensor(2, 4);
        badArg(() -> backend.gemmStridedBatched(false, false, 1f, m[0], m[1], 0f, c), "gemmStridedBatched",
                "c must have rank 3", "got rank 2");
    }

    @Test
    void gemmStridedBatchedWithANaNAlpha() {
        Tensor[] m = stridedArgs();
        badArg(() -> backend.gemmStridedBatched(false, false, Float.NaN, m[0], m[1], 1f, m[2]),
                "gemmStridedBatched", "alpha = NaN");
    }

    // ================================================================ tensors

    @Test
    void tensorDataOfTheWrongLength() {
        badArg(() -> backend.tensor(new float[5], 2, 3), "tensor", "data has 5 elements", "shape [2, 3]", "needs 6");
        badArg(() -> backend.tensor(new float[7], 2, 3), "data has 7 elements", "needs 6");
        badArg(() -> backend.tensor((float[]) null, 2, 3), "data has no array", "needs 6");
    }

    @Test
    void tensorOfAnEmptyOrNegativeShape() {
        badArg(() -> backend.tensor(0, 3), "shape [0, 3]", "dimension 0 is 0", "must be >= 1");
        badArg(() -> backend.tensor(3, -1), "shape [3, -1]", "dimension 1 is -1");
        badArg(() -> backend.tensor(), "at least one dimension");
        badArg(() -> backend.tensor(new float[0]), "at least one dimension");
    }

    @Test
    void aWorkspaceTooLargeToIndex() {
        // maxSteps * maxBatch = 2^32 rows cannot be indexed by an int: refused up front, with a
        // message naming the sizes, before any memory is allocated.
        badArg(() -> backend.workspace(Cell.LSTM, 65536, 65536, 1, 1, false), "workspace", "maxSteps",
                "maxBatch");
    }

    @Test
    void aBackendOfNoThreads() {
        badArg(() -> new CpuBackend(0), "threads must be >= 1, got 0");
    }

    @Test
    void theValidArgumentsHaveTheDocumentedShapes() {
        // Guards the fixture itself: the messages above quote these numbers.
        Args a = args(Cell.LSTM);
        assertArrayEquals(new int[] {T, B, I}, a.x.shape().toArray());
        assertArrayEquals(new int[] {4 * H, I}, a.params.weightIh().shape().toArray());
        assertEquals(T, a.ws.maxSteps());
        assertEquals(1, a.stepWs.maxSteps());
        assertTrue(a.biWs.bidirectional());
    }
}
