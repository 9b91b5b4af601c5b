package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.LayerParams;
import dev.recur.api.Shape;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensors, workspaces and the zero-filled parameter and state helpers on the CPU engine. */
class TensorTest {

    private CpuBackend backend;

    @BeforeEach
    void open() {
        backend = new CpuBackend(2);
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private static void assertMessage(RuntimeException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(p),
                    "message should contain '" + p + "' but was: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- contents

    @Test
    void aNewTensorIsZeroAndHasItsShape() {
        Tensor t = backend.tensor(2, 3);
        assertEquals(Shape.of(2, 3), t.shape());
        assertSame(backend, t.backend());
        assertArrayEquals(new float[6], t.toArray());
        assertFalse(t.isClosed());
    }

    @Test
    void copyFromThenToArrayRoundTrips() {
        float[] v = {1.5f, -2f, 0f, Float.MIN_VALUE, 1e30f, -0f};
        Tensor t = backend.tensor(3, 2);
        t.copyFrom(v);
        assertArrayEquals(v, t.toArray());
        // The tensor holds a copy: changing the source afterwards changes nothing.
        v[0] = 99f;
        assertEquals(1.5f, t.toArray()[0]);
    }

    @Test
    void tensorFromDataCopiesIt() {
        float[] v = {1, 2, 3, 4, 5, 6};
        Tensor t = backend.tensor(v, 2, 3);
        v[5] = -1f;
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toArray());
    }

    @Test
    void copyToFillsTheFirstElementsOfALargerArray() {
        Tensor t = backend.tensor(new float[] {1, 2, 3}, 3);
        float[] dst = {9, 9, 9, 9, 9};
        t.copyTo(dst);
        assertArrayEquals(new float[] {1, 2, 3, 9, 9}, dst);
    }

    @Test
    void copyFromAndCopyToRefuseArraysTooShort() {
        Tensor t = backend.tensor(2, 3);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5])),
                "copyFrom", "5 elements", "[2, 3]", "needs 6");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> t.copyTo(new float[4])),
                "copyTo", "4 elements", "[2, 3]", "holds 6");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> t.copyFrom(null)), "copyFrom", "no array");
    }

    @Test
    void fillSetsEveryElement() {
        Tensor t = backend.tensor(2, 2, 2);
        t.fill(2.5f);
        float[] expected = new float[8];
        Arrays.fill(expected, 2.5f);
        assertArrayEquals(expected, t.toArray());
        t.fill(0f);
        assertArrayEquals(new float[8], t.toArray());
    }

    // ---------------------------------------------------------------- closing

    @Test
    void closeMarksTheTensorClosedAndIsHarmlessTwice() {
        Tensor t = backend.tensor(2, 3);
        t.close();
        assertTrue(t.isClosed());
        assertDoesNotThrow(t::close);
        assertTrue(t.isClosed());
        // Its shape and owner are still known, for messages.
        assertEquals(Shape.of(2, 3), t.shape());
        assertSame(backend, t.backend());
    }

    @Test
    void everyUseOfAClosedTensorThrowsIllegalState() {
        Tensor t = backend.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        t.close();
        assertMessage(assertThrows(IllegalStateException.class, () -> t.copyTo(new float[6])), "[2, 3]", "closed");
        assertMessage(assertThrows(IllegalStateException.class, t::toArray), "closed");
        assertMessage(assertThrows(IllegalStateException.class, () -> t.copyFrom(new float[6])), "closed");
        assertMessage(assertThrows(IllegalStateException.class, () -> t.fill(1f)), "closed");
    }

    @Test
    void aClosedTensorInAnOpThrowsIllegalStateNamingIt() {
        Tensor a = backend.tensor(2, 3);
        Tensor b = backend.tensor(3, 4);
        Tensor c = backend.tensor(2, 4);
        b.close();
        assertMessage(assertThrows(IllegalStateException.class, () -> backend.gemm(false, false, 1f, a, b, 0f, c)),
                "gemm", "b is closed");

        Workspace ws = backend.workspace(Cell.RNN_TANH, 3, 2, 4, 5, false);
        LayerParams p = LayerParams.zeros(backend, Cell.RNN_TANH, 4, 5);
        Tensor x = backend.tensor(3, 2, 4);
        Tensor y = backend.tensor(3, 2, 5);
        p.weightHh().close();
        assertMessage(assertThrows(IllegalStateException.class,
                        () -> backend.layerForward(Cell.RNN_TANH, Direction.FORWARD, x, null, null, p, y, null, ws)),
                "layerForward(rnn_tanh)", "params.weightHh is closed");
    }

    @Test
    void theSameShapesWorkBeforeClosing() {
        // The control for the test above: with nothing closed, the same calls pass.
        Tensor a = backend.tensor(2, 3);
        Tensor b = backend.tensor(3, 4);
        Tensor c = backend.tensor(2, 4);
        assertDoesNotThrow(() -> backend.gemm(false, false, 1f, a, b, 0f, c));
        Workspace ws = backend.workspace(Cell.RNN_TANH, 3, 2, 4, 5, false);
        LayerParams p = LayerParams.zeros(backend, Cell.RNN_TANH, 4, 5);
        Tensor x = backend.tensor(3, 2, 4);
        Tensor y = backend.tensor(3, 2, 5);
        assertDoesNotThrow(
                () -> backend.layerForward(Cell.RNN_TANH, Direction.FORWARD, x, null, null, p, y, null, ws));
    }

    @Test
    void closingAWorkspaceTwiceIsHarmless() {
        Workspace ws = backend.workspace(Cell.GRU, 3, 2, 4, 5, true);
        assertFalse(ws.isClosed());
        ws.close();
        assertTrue(ws.isClosed());
        assertDoesNotThrow(ws::close);
        assertTrue(ws.isClosed());
    }

    @Test
    void closingTheBackendTwiceIsHarmless() {
        CpuBackend b = new CpuBackend(3);
        b.close();
        assertDoesNotThrow(b::close);
    }

    // ---------------------------------------------------------------- workspaces

    @Test
    void aWorkspaceKeepsAndShowsItsSettings() {
        Workspace ws = backend.workspace(Cell.LSTM_PEEPHOLE, 7, 3, 4, 5, true);
        assertSame(backend, ws.backend());
        assertEquals(Cell.LSTM_PEEPHOLE, ws.cell());
        assertEquals(7, ws.maxSteps());
        assertEquals(3, ws.maxBatch());
        assertEquals(4, ws.inputSize());
        assertEquals(5, ws.hiddenSize());
        assertTrue(ws.bidirectional());
        String s = ws.toString();
        for (String part : List.of("cell=lstm_peephole", "maxSteps=7", "maxBatch=3", "inputSize=4", "hiddenSize=5",
                "bidirectional=true")) {
            assertTrue(s.contains(part), "toString should show " + part + ": " + s);
        }
        assertTrue(backend.workspace(Cell.GRU, 1, 1, 1, 1, false).toString().contains("bidirectional=false"));
    }

    // ---------------------------------------------------------------- zero parameters and states

    @ParameterizedTest
    @EnumSource(Cell.class)
    void layerParamsZerosHasPyTorchShapes(Cell cell) {
        int in = 4;
        int h = 5;
        // G written out, not read from the cell, so that a wrong gate count fails here.
        int g = switch (cell) {
            case RNN_TANH, RNN_RELU -> 1;
            case LSTM, LSTM_PEEPHOLE -> 4;
            case LSTM_COUPLED, GRU, GRU_ORIGINAL -> 3;
        };
        LayerParams p = LayerParams.zeros(backend, cell, in, h);
        assertEquals(Shape.of(g * h, in), p.weightIh().shape(), "weightIh");
        assertEquals(Shape.of(g * h, h), p.weightHh().shape(), "weightHh");
        assertEquals(Shape.of(g * h), p.biasIh().shape(), "biasIh");
        assertEquals(Shape.of(g * h), p.biasHh().shape(), "biasHh");
        if (cell == Cell.LSTM_PEEPHOLE) {
            assertNotNull(p.peephole());
            assertEquals(Shape.of(3 * h), p.peephole().shape(), "peephole");
        } else {
            assertNull(p.peephole(), "peephole");
        }
        for (Tensor t : tensors(p)) {
            assertSame(backend, t.backend());
            assertArrayEquals(new float[t.shape().size()], t.toArray());
        }
    }

    @Test
    void layerParamsZeroResetsEveryTensor() {
        LayerParams p = LayerParams.zeros(backend, Cell.LSTM_PEEPHOLE, 2, 3);
        for (Tensor t : tensors(p)) {
            t.fill(7f);
        }
        p.zero();
        for (Tensor t : tensors(p)) {
            assertArrayEquals(new float[t.shape().size()], t.toArray(), t.shape().toString());
        }
    }

    @Test
    void theShortLayerParamsConstructorHasNoPeephole() {
        Tensor t = backend.tensor(1);
        assertNull(new LayerParams(t, t, t, t).peephole());
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void stateZerosHasCOnlyForTheLstmFamily(Cell cell) {
        State s = State.zeros(backend, cell, 2, 5);
        assertEquals(Shape.of(2, 5), s.h().shape());
        assertArrayEquals(new float[10], s.h().toArray());
        if (Set.of(Cell.LSTM, Cell.LSTM_PEEPHOLE, Cell.LSTM_COUPLED).contains(cell)) {
            assertNotNull(s.c(), cell + " has a cell state");
            assertEquals(Shape.of(2, 5), s.c().shape());
            assertArrayEquals(new float[10], s.c().toArray());
            assertTrue(s.h() != s.c(), "h and c must be distinct tensors");
        } else {
            assertNull(s.c(), cell + " has no cell state");
        }
    }

    @Test
    void stateOfHasNoC() {
        Tensor h = backend.tensor(2, 5);
        State s = State.of(h);
        assertSame(h, s.h());
        assertNull(s.c());
    }

    private static List<Tensor> tensors(LayerParams p) {
        return p.peephole() == null
                ? List.of(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh())
                : List.of(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh(), p.peephole());
    }

    @Test
    void opsOnAClosedBackendFailWhateverTheirSize() {
        CpuBackend be = new CpuBackend(2);
        dev.recur.api.Tensor a = be.tensor(new float[] {1, 2, 3, 4}, 2, 2);
        be.close();
        be.close(); // twice is harmless
        org.junit.jupiter.api.Assertions.assertTrue(be.isClosed());
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> be.gemm(false, false, 1f, a, a, 0f, a));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("gemm: the cpu backend is closed"),
                e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> be.tensor(2, 2));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> be.workspace(dev.recur.api.Cell.GRU, 1, 1, 1, 1, false));
    }
}
