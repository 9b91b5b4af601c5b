package dev.recur.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CellTest {

    @Test
    void gateCountsFollowTheDesign() {
        // G: 1 (RNN), 4 (LSTM, with or without peepholes), 3 (coupled LSTM stores no input gate), 3 (GRU).
        assertEquals(1, Cell.RNN_TANH.gates());
        assertEquals(1, Cell.RNN_RELU.gates());
        assertEquals(4, Cell.LSTM.gates());
        assertEquals(4, Cell.LSTM_PEEPHOLE.gates());
        assertEquals(3, Cell.LSTM_COUPLED.gates());
        assertEquals(3, Cell.GRU.gates());
        assertEquals(3, Cell.GRU_ORIGINAL.gates());
    }

    @Test
    void onlyTheLstmFamilyHasACellState() {
        Set<Cell> lstm = Set.of(Cell.LSTM, Cell.LSTM_PEEPHOLE, Cell.LSTM_COUPLED);
        for (Cell c : Cell.values()) {
            assertEquals(lstm.contains(c), c.hasCellState(), c.id());
        }
    }

    @Test
    void onlyThePeepholeLstmHasPeepholes() {
        for (Cell c : Cell.values()) {
            assertEquals(c == Cell.LSTM_PEEPHOLE ? 3 : 0, c.peepholes(), c.id());
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void byIdFindsEachCellByItsIdAndItsConstantName(Cell cell) {
        assertSame(cell, Cell.byId(cell.id()));
        assertSame(cell, Cell.byId(cell.name()));
        assertSame(cell, Cell.byId(cell.id().toUpperCase(java.util.Locale.ROOT)));
        assertEquals(cell.name().toLowerCase(java.util.Locale.ROOT), cell.id());
    }

    @Test
    void byIdIsCaseInsensitive() {
        assertSame(Cell.LSTM_PEEPHOLE, Cell.byId("lstm_peephole"));
        assertSame(Cell.GRU, Cell.byId("GRU"));
        assertSame(Cell.GRU_ORIGINAL, Cell.byId("Gru_Original"));
    }

    @Test
    void byIdRejectsAnUnknownCellListingTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cell.byId("foo"));
        String m = e.getMessage();
        assertTrue(m.contains("'foo'"), m);
        for (Cell c : Cell.values()) {
            assertTrue(m.contains(c.id()), "message should list " + c.id() + ": " + m);
        }
    }

    @Test
    void byIdRejectsNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cell.byId(null));
        assertTrue(e.getMessage().contains("known cells"), e.getMessage());
    }
}
