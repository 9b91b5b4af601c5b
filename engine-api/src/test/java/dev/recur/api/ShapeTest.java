package dev.recur.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShapeTest {

    @Test
    void ofKeepsTheDimensionsOutermostFirst() {
        Shape s = Shape.of(3, 2, 4);
        assertEquals(3, s.rank());
        assertEquals(3, s.dim(0));
        assertEquals(2, s.dim(1));
        assertEquals(4, s.dim(2));
        assertArrayEquals(new int[] {3, 2, 4}, s.toArray());
        assertTrue(s.is(3, 2, 4));
        assertFalse(s.is(3, 2));
        assertFalse(s.is(4, 2, 3));
    }

    @Test
    void sizeIsTheProductOfTheDimensions() {
        assertEquals(24, Shape.of(3, 2, 4).size());
        assertEquals(7, Shape.of(7).size());
        assertEquals(1, Shape.of(1, 1, 1).size());
    }

    @Test
    void toStringListsTheDimensions() {
        assertEquals("[3, 2, 4]", Shape.of(3, 2, 4).toString());
        assertEquals("[5]", Shape.of(5).toString());
    }

    @Test
    void equalShapesAreEqualAndHashAlike() {
        assertEquals(Shape.of(3, 2), Shape.of(3, 2));
        assertEquals(Shape.of(3, 2).hashCode(), Shape.of(3, 2).hashCode());
        assertNotEquals(Shape.of(3, 2), Shape.of(2, 3));
        assertNotEquals(Shape.of(6), Shape.of(6, 1));
        assertNotEquals(Shape.of(6), "[6]");
    }

    @Test
    void isImmutable() {
        int[] dims = {3, 2};
        Shape s = Shape.of(dims);
        dims[0] = 99;
        assertEquals(3, s.dim(0), "Shape.of must copy its argument");
        s.toArray()[1] = 99;
        assertEquals(2, s.dim(1), "toArray must return a copy");
    }

    @Test
    void rejectsAZeroDimensionNamingItsIndexAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(3, 0, 4));
        assertTrue(e.getMessage().contains("[3, 0, 4]"), e.getMessage());
        assertTrue(e.getMessage().contains("dimension 1 is 0"), e.getMessage());
        assertTrue(e.getMessage().contains(">= 1"), e.getMessage());
    }

    @Test
    void rejectsANegativeDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(-2, 3));
        assertTrue(e.getMessage().contains("[-2, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("dimension 0 is -2"), e.getMessage());
    }

    @Test
    void rejectsNoDimensions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Shape::of);
        assertTrue(e.getMessage().contains("at least one dimension"), e.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> Shape.of((int[]) null));
        assertTrue(n.getMessage().contains("at least one dimension"), n.getMessage());
    }

    @Test
    void rejectsMoreElementsThanAnIntCanCount() {
        // 65536 * 65536 = 2^32 elements overflows int; size() would otherwise wrap to 0.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(65536, 65536));
        assertTrue(e.getMessage().contains("[65536, 65536]"), e.getMessage());
        assertTrue(e.getMessage().contains(String.valueOf(Integer.MAX_VALUE)), e.getMessage());
    }
}
