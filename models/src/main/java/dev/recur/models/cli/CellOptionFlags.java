package dev.recur.models.cli;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import picocli.CommandLine.Option;

/**
 * The cell options a training command takes beside {@code --cell} and {@code --hidden} (a picocli
 * mixin: {@code @Mixin CellOptionFlags cellOptions;}): {@code --layer-norm},
 * {@code --recurrent-dropout P}, {@code --zoneout P} (h, and c for cells with one) or
 * {@code --zoneout-h P} / {@code --zoneout-c P}, and {@code --proj-size P}. {@link #options}
 * turns them into {@link CellOptions}, refusing with exit 2 a value the cell or the hidden size
 * cannot take, naming the option, what it needs and what it got. They are stored in the
 * checkpoint's configuration, so {@code --from} and {@code recur sample} rebuild the same model.
 */
final class CellOptionFlags {

    @Option(names = "--layer-norm", description = "layer normalisation inside the cell (LSTM and GRU cells)")
    boolean layerNorm;
    @Option(names = "--recurrent-dropout", paramLabel = "P", defaultValue = "0", converter = Checks.Dropout.class,
            description = "drop units of the recurrent input while training, one mask per sequence and window")
    float recurrentDropout;
    @Option(names = "--zoneout", paramLabel = "P", converter = Checks.Dropout.class,
            description = "zoneout of h and (for LSTM cells) c: each unit keeps its previous value with probability P"
                    + " while training")
    Float zoneout;
    @Option(names = "--zoneout-h", paramLabel = "P", converter = Checks.Dropout.class,
            description = "zoneout of h alone")
    Float zoneoutH;
    @Option(names = "--zoneout-c", paramLabel = "P", converter = Checks.Dropout.class,
            description = "zoneout of c alone (LSTM cells)")
    Float zoneoutC;
    @Option(names = "--proj-size", paramLabel = "P", defaultValue = "0", converter = Checks.NonNegative.class,
            description = "project each layer's output to P < hidden values (PyTorch's proj_size; LSTM and GRU"
                    + " cells), 0 = off")
    int projSize;

    /**
     * The options for {@code cell} with {@code hidden} units.
     *
     * @throws UsageException naming the option, what it needs and what it got
     */
    CellOptions options(Cell cell, int hidden) {
        boolean rnn = !cell.hasCellState() && cell.gates() == 1;
        if (layerNorm && rnn) {
            throw new UsageException("option '--layer-norm' needs an LSTM or GRU cell (lstm, lstm_peephole,"
                    + " lstm_coupled, gru, gru_original), got --cell " + cell.id());
        }
        if (projSize > 0 && rnn) {
            throw new UsageException("option '--proj-size' needs an LSTM or GRU cell (lstm, lstm_peephole,"
                    + " lstm_coupled, gru, gru_original), got --cell " + cell.id());
        }
        if (projSize >= hidden) {
            throw new UsageException("option '--proj-size' must be smaller than --hidden " + hidden + ", got "
                    + projSize);
        }
        if (zoneout != null && (zoneoutH != null || zoneoutC != null)) {
            throw new UsageException("option '--zoneout' sets both h and c; give it or --zoneout-h/--zoneout-c, not"
                    + " both");
        }
        if (zoneoutC != null && zoneoutC > 0f && !cell.hasCellState()) {
            throw new UsageException("option '--zoneout-c' needs a cell with a cell state (lstm, lstm_peephole,"
                    + " lstm_coupled), got --cell " + cell.id() + "; use --zoneout-h");
        }
        float h = zoneout != null ? zoneout : zoneoutH != null ? zoneoutH : 0f;
        float c = zoneout != null ? (cell.hasCellState() ? zoneout : 0f) : zoneoutC != null ? zoneoutC : 0f;
        CellOptions o = new CellOptions(layerNorm, recurrentDropout, h, c, projSize);
        o.check(cell, hidden); // the checks above name the options; this one is the contract's
        return o;
    }
}
