package dev.recur.cpu;

import dev.recur.api.Cell;

import java.util.ArrayList;
import java.util.List;

/**
 * The shapes every layer test walks: T = 1, B = 1, H = 1 and H not a multiple of 8, zero and
 * non-zero initial states, full and variable lengths (unsorted, with a length-1 sequence).
 */
final class Cases {

    private Cases() {
    }

    // {T, B, I, H}, lengths (null = all T), non-zero initial states
    private record Shape(int t, int b, int i, int h, int[] lengths, boolean init) {
    }

    private static final List<Shape> SHAPES = List.of(
            new Shape(1, 1, 1, 1, null, false),
            new Shape(1, 3, 4, 5, null, true),
            new Shape(4, 1, 3, 2, null, true),
            new Shape(5, 3, 4, 7, new int[] {3, 5, 1}, true),
            new Shape(6, 4, 5, 9, new int[] {6, 2, 4, 6}, false),
            new Shape(3, 2, 2, 3, new int[] {2, 3}, true));

    static List<LayerCase> oneDirection(Cell cell) {
        List<LayerCase> out = new ArrayList<>();
        long seed = 1000L * cell.ordinal();
        for (Shape s : SHAPES) {
            out.add(new LayerCase(cell, s.t(), s.b(), s.i(), s.h(), s.lengths(), s.init(), false, seed++));
        }
        return out;
    }

    static List<LayerCase> bidirectional(Cell cell) {
        List<LayerCase> out = new ArrayList<>();
        long seed = 1000L * cell.ordinal() + 500;
        for (Shape s : SHAPES.subList(2, SHAPES.size())) {
            out.add(new LayerCase(cell, s.t(), s.b(), s.i(), s.h(), s.lengths(), s.init(), true, seed++));
        }
        return out;
    }
}
