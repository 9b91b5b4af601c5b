package dev.recur.models.nn;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;

/**
 * The settings of a stack of recurrent layers, as {@code torch.nn.LSTM(input_size, hidden_size,
 * num_layers, dropout=, bidirectional=, batch_first=, proj_size=)} takes them, and the cell's
 * options ({@link CellOptions}: layer normalisation, recurrent dropout, zoneout, projection).
 * Immutable; made by {@link #builder(Cell, int, int)}. With a projection of size P each layer
 * outputs R = P values per direction ({@link CellOptions#recurrentWidth}), so layer
 * {@code l > 0} reads {@code directions * R}.
 */
public final class RecurrentConfig {

    private final Cell cell;
    private final int inputSize;
    private final int hiddenSize;
    private final int numLayers;
    private final boolean bidirectional;
    private final float dropout;
    private final boolean batchFirst;
    private final CellOptions options;

    private RecurrentConfig(Builder b) {
        this.cell = b.cell;
        this.inputSize = b.inputSize;
        this.hiddenSize = b.hiddenSize;
        this.numLayers = b.numLayers;
        this.bidirectional = b.bidirectional;
        this.dropout = b.dropout;
        this.batchFirst = b.batchFirst;
        this.options = b.options();
    }

    /**
     * The trainable values of a stack: for each layer and direction {@code G*H*I_l} input weights,
     * {@code G*H*H} recurrent weights, two biases of {@code G*H}, and the peepholes; {@code I_0} is
     * {@code input}, later layers read {@code directions * H}. Exact (a test compares it with the
     * stack's parameters); a long, so that absurd sizes are refused before anything is allocated.
     */
    public static long parameterCount(Cell cell, long input, long hidden, long layers, int directions) {
        return parameterCount(cell, CellOptions.NONE, input, hidden, layers, directions);
    }

    /**
     * {@link #parameterCount(Cell, long, long, long, int)} with the cell's options: the recurrent
     * weights are {@code G*H*R} (R = P with a projection, else H), a projection adds
     * {@code weight_hr [P, H]}, layer normalisation adds gains and biases of {@code G*H} for the
     * input and for the recurrent pre-activations and, with a cell state, of {@code H} for
     * {@code c}; later layers read {@code directions * R}.
     */
    public static long parameterCount(Cell cell, CellOptions options, long input, long hidden, long layers,
                                      int directions) {
        long g = cell.gates();
        long p = options.projectionSize();
        long r = p > 0 ? p : hidden;
        long perDirectionExtra = p * hidden
                + (options.layerNorm() ? 4 * g * hidden + (cell.hasCellState() ? 2 * hidden : 0) : 0);
        long total = 0;
        for (long l = 0; l < layers; l++) {
            long in = l == 0 ? input : directions * r;
            total += directions * (g * hidden * in + g * hidden * r + 2 * g * hidden + cell.peepholes() * hidden
                    + perDirectionExtra);
        }
        return total;
    }

    public static Builder builder(Cell cell, int inputSize, int hiddenSize) {
        return new Builder(cell, inputSize, hiddenSize);
    }

    public Cell cell() {
        return cell;
    }

    public int inputSize() {
        return inputSize;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    public int numLayers() {
        return numLayers;
    }

    public boolean bidirectional() {
        return bidirectional;
    }

    /** 1 or 2. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** Dropout probability on the outputs of every layer but the last, while training. */
    public float dropout() {
        return dropout;
    }

    /** Whether inputs and outputs are {@code [B, T, F]} instead of time-major {@code [T, B, F]}. */
    public boolean batchFirst() {
        return batchFirst;
    }

    /** The options every layer's cell runs with ({@link CellOptions#NONE} for the plain cell). */
    public CellOptions cellOptions() {
        return options;
    }

    /** Whether layer normalisation runs inside the cell. */
    public boolean layerNorm() {
        return options.layerNorm();
    }

    /** Probability of dropping a unit of the recurrent input while training (0: off). */
    public float recurrentDropout() {
        return options.recurrentDropout();
    }

    /** Zoneout probability of {@code h} (0: off). */
    public float zoneoutH() {
        return options.zoneoutH();
    }

    /** Zoneout probability of {@code c} (0: off). */
    public float zoneoutC() {
        return options.zoneoutC();
    }

    /** P, 0 without a projection. */
    public int projectionSize() {
        return options.projectionSize();
    }

    /** R: the width of one direction's output, P with a projection, else H. */
    public int recurrentWidth() {
        return options.recurrentWidth(hiddenSize);
    }

    /** The width of a state's {@code h}: R for the LSTM family, H for the others ({@link CellOptions#stateWidth}). */
    public int stateWidth() {
        return options.stateWidth(cell, hiddenSize);
    }

    /** Width of the stack's output: {@code directions() * R}, R = P with a projection, else H. */
    public int outputSize() {
        return directions() * recurrentWidth();
    }

    @Override
    public String toString() {
        return "RecurrentConfig[cell=" + cell.id() + ", inputSize=" + inputSize + ", hiddenSize=" + hiddenSize
                + ", numLayers=" + numLayers + ", bidirectional=" + bidirectional + ", dropout=" + dropout
                + ", batchFirst=" + batchFirst + (options.isPlain() ? "" : ", options=" + options) + "]";
    }

    /** Builder with PyTorch's defaults: one layer, one direction, no dropout, time-major. */
    public static final class Builder {
        private final Cell cell;
        private final int inputSize;
        private final int hiddenSize;
        private int numLayers = 1;
        private boolean bidirectional;
        private float dropout;
        private boolean batchFirst;
        private boolean layerNorm;
        private float recurrentDropout;
        private float zoneoutH;
        private float zoneoutC;
        private int projectionSize;

        private Builder(Cell cell, int inputSize, int hiddenSize) {
            if (cell == null) {
                throw new IllegalArgumentException("cell is null");
            }
            if (inputSize < 1 || hiddenSize < 1) {
                throw new IllegalArgumentException("inputSize and hiddenSize must be >= 1, got " + inputSize + " and "
                        + hiddenSize);
            }
            this.cell = cell;
            this.inputSize = inputSize;
            this.hiddenSize = hiddenSize;
        }

        public Builder numLayers(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("numLayers must be >= 1, got " + n);
            }
            this.numLayers = n;
            return this;
        }

        public Builder bidirectional(boolean b) {
            this.bidirectional = b;
            return this;
        }

        public Builder dropout(float p) {
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + p);
            }
            this.dropout = p;
            return this;
        }

        public Builder batchFirst(boolean b) {
            this.batchFirst = b;
            return this;
        }

        /** Layer normalisation of each gate block's input and recurrent pre-activations (and of {@code c}). */
        public Builder layerNorm(boolean on) {
            this.layerNorm = on;
            return this;
        }

        /** Recurrent dropout (one mask per call on the recurrent GEMM's input), in [0, 1). */
        public Builder recurrentDropout(float p) {
            this.recurrentDropout = probability("recurrentDropout", p);
            return this;
        }

        /** Zoneout of {@code h} and of {@code c}, each in [0, 1); {@code pC} must be 0 for cells without {@code c}. */
        public Builder zoneout(float pH, float pC) {
            return zoneoutH(pH).zoneoutC(pC);
        }

        /** Zoneout of {@code h}, in [0, 1). */
        public Builder zoneoutH(float p) {
            this.zoneoutH = probability("zoneoutH", p);
            return this;
        }

        /** Zoneout of {@code c}, in [0, 1); only for cells with a cell state. */
        public Builder zoneoutC(float p) {
            this.zoneoutC = probability("zoneoutC", p);
            return this;
        }

        /** P, the size each layer projects its output to (PyTorch's {@code proj_size}); 0 for none, else below H. */
        public Builder projectionSize(int p) {
            if (p < 0) {
                throw new IllegalArgumentException("projectionSize must be >= 0 (0: none), got " + p);
            }
            this.projectionSize = p;
            return this;
        }

        /** All options at once (as a checkpoint's configuration holds them). */
        public Builder cellOptions(CellOptions o) {
            return layerNorm(o.layerNorm()).recurrentDropout(o.recurrentDropout()).zoneout(o.zoneoutH(), o.zoneoutC())
                    .projectionSize(o.projectionSize());
        }

        private CellOptions options() {
            return new CellOptions(layerNorm, recurrentDropout, zoneoutH, zoneoutC, projectionSize);
        }

        private static float probability(String name, float p) {
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException(name + " must be in [0, 1), got " + p);
            }
            return p;
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException when a weight matrix would hold more values than one
         *                                  tensor can (2^31 - 1), naming the matrix and its shape, or
         *                                  when the cell cannot take the options
         *                                  ({@link CellOptions#check}: layer normalisation or a
         *                                  projection on an RNN cell, zoneout of c without a cell
         *                                  state, a projection not below H), naming the option
         */
        public RecurrentConfig build() {
            options().check(cell, hiddenSize);
            long rows = (long) cell.gates() * hiddenSize;
            long widest = Math.max((long) inputSize, (long) hiddenSize * (bidirectional ? 2 : 1));
            if (rows * widest > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("hidden size " + hiddenSize + " and input size " + inputSize
                        + " make a weight matrix of [" + rows + ", " + widest + "] = " + rows * widest
                        + " values, more than one tensor holds (2^31 - 1)");
            }
            return new RecurrentConfig(this);
        }
    }
}
