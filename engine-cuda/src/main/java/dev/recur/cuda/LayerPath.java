package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;

/**
 * How the CUDA engine ran the time loop of one direction of one layer call: the record that
 * {@link CudaBackend#layerPaths()} keeps for every forward and backward of a layer or cell op, so
 * that a test, a benchmark or a curious user can see whether CUDA graphs were used and, when not,
 * why. A bidirectional call leaves two records, one per direction, each naming its stream.
 *
 * @param op        the {@link dev.recur.api.Backend} op: {@code layerForward}, {@code layerBackward},
 *                  {@code bidirectionalForward}, {@code bidirectionalBackward}, {@code cellForward}
 *                  or {@code cellBackward}
 * @param cell      the cell
 * @param direction the direction whose loop this was
 * @param kind      the path: {@link Kind#GRAPH_CAPTURED}, {@link Kind#GRAPH_REPLAYED}, {@link Kind#STEPWISE}
 *                  or {@link Kind#OPTIONS}
 * @param stream    the stream the loop's work was ordered on: {@code main} or {@code second}
 * @param steps     the number of steps of the loop (the longest length of the call)
 * @param reason    why the loop ran stepwise (graphs turned off, a single step, a capture that
 *                  failed, with the driver's or cuBLAS's message); for {@link Kind#OPTIONS} the
 *                  options and whether a mask was given; null for the graph paths
 */
public record LayerPath(String op, Cell cell, Direction direction, Kind kind, String stream, int steps,
                        String reason) {

    /** The ways a time loop can run. */
    public enum Kind {
        /** The loop was captured into a CUDA graph during this call, and that graph was launched. */
        GRAPH_CAPTURED("graph-captured"),
        /** A graph captured by an earlier call (same workspace, plan and addresses) was launched again. */
        GRAPH_REPLAYED("graph-replayed"),
        /** Every step's kernels and GEMMs were enqueued from the host; {@link LayerPath#reason()} says why. */
        STEPWISE("stepwise"),
        /**
         * The option path ({@link dev.recur.api.CellOptions} or a step mask): {@link CudaOptionLayer}'s
         * kernels, enqueued step by step on the main stream; {@link LayerPath#reason()} names the options.
         */
        OPTIONS("options");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The lower-case name used in reports: {@code graph-captured}, {@code graph-replayed}, {@code stepwise}. */
        public String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** One line, e.g. {@code layerForward lstm FORWARD graph-replayed on main, 25 steps}. */
    @Override
    public String toString() {
        return op + " " + cell.id() + " " + direction + " " + kind.label() + " on " + stream + ", " + steps
                + (steps == 1 ? " step" : " steps") + (reason == null ? "" : " (" + reason + ")");
    }
}
