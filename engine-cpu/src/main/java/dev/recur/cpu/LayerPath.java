package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;

/**
 * Which code ran one direction of one layer call on the CPU engine: the record that
 * {@link CpuBackend#layerPaths()} keeps for every forward, inference and backward of a layer or
 * cell op, so that a test, a benchmark or a user can see that a call took the path they expect
 * (no silent slow path). A bidirectional call leaves two records, one per direction.
 *
 * @param op        the {@link dev.recur.api.Backend} op: {@code layerForward}, {@code layerInference},
 *                  {@code layerBackward}, {@code bidirectionalForward}, {@code bidirectionalInference},
 *                  {@code bidirectionalBackward}, {@code cellForward} or {@code cellBackward}
 * @param cell      the cell
 * @param direction the direction of this record's loop
 * @param kind      the path
 * @param steps     T of the call
 * @param batch     B of the call
 * @param options   the workspace's options ({@link CellOptions#NONE} on the plain paths)
 * @param masked    whether the call had a step mask
 */
public record LayerPath(String op, Cell cell, Direction direction, Kind kind, int steps, int batch,
                        CellOptions options, boolean masked) {

    /** The ways a layer call can run. */
    public enum Kind {
        /** The plain cell, its time loop sliced by hidden units over the threads (few sequences). */
        PLAIN_SLICED("plain-sliced"),
        /** The plain cell, step by step, each step's GEMM and gate math split among the threads. */
        PLAIN_STEPWISE("plain-stepwise"),
        /** The plain cell, the batch cut into one block of rows per thread for the whole loop. */
        PLAIN_ROWS("plain-rows"),
        /** The option path ({@link CpuOptionLayer}): cell options or a step mask. */
        OPTIONS("options");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The lower-case name used in reports: {@code plain-sliced}, {@code plain-stepwise}, {@code plain-rows}, {@code options}. */
        public String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** One line, e.g. {@code layerForward lstm FORWARD options (zoneoutH=0.1, mask), T=25, B=64}. */
    @Override
    public String toString() {
        String what = kind == Kind.OPTIONS ? " (" + options + (masked ? ", mask" : "") + ")" : "";
        return op + " " + cell.id() + " " + direction + " " + kind.label() + what + ", T=" + steps + ", B=" + batch;
    }
}
