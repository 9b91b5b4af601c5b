package dev.recur.models.nn;

import dev.recur.api.Cell;

/**
 * The settings of a stack of recurrent layers, as {@code torch.nn.LSTM(input_size, hidden_size,
 * num_layers, dropout=, bidirectional=, batch_first=)} takes them. Immutable; made by
 * {@link #builder(Cell, int, int)}.
 */
public final class RecurrentConfig {

    private final Cell cell;
    private final int inputSize;
    private final int hiddenSize;
    private final int numLayers;
    private final boolean bidirectional;
    private final float dropout;
    private final boolean batchFirst;

    private RecurrentConfig(Builder b) {
        this.cell = b.cell;
        this.inputSize = b.inputSize;
        this.hiddenSize = b.hiddenSize;
        this.numLayers = b.numLayers;
        this.bidirectional = b.bidirectional;
        this.dropout = b.dropout;
        this.batchFirst = b.batchFirst;
    }

    /**
     * The trainable values of a stack: for each layer and direction {@code G*H*I_l} input weights,
     * {@code G*H*H} recurrent weights, two biases of {@code G*H}, and the peepholes; {@code I_0} is
     * {@code input}, later layers read {@code directions * H}. Exact (a test compares it with the
     * stack's parameters); a long, so that absurd sizes are refused before anything is allocated.
     */
    public static long parameterCount(Cell cell, long input, long hidden, long layers, int directions) {
        long g = cell.gates();
        long total = 0;
        for (long l = 0; l < layers; l++) {
            long in = l == 0 ? input : directions * hidden;
            total += directions * (g * hidden * in + g * hidden * hidden + 2 * g * hidden + cell.peepholes() * hidden);
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

    /** Width of the stack's output: {@code directions() * hiddenSize()}. */
    public int outputSize() {
        return directions() * hiddenSize;
    }

    @Override
    public String toString() {
        return "RecurrentConfig[cell=" + cell.id() + ", inputSize=" + inputSize + ", hiddenSize=" + hiddenSize
                + ", numLayers=" + numLayers + ", bidirectional=" + bidirectional + ", dropout=" + dropout
                + ", batchFirst=" + batchFirst + "]";
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

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException when a weight matrix would hold more values than one
         *                                  tensor can (2^31 - 1), naming the matrix and its shape
         */
        public RecurrentConfig build() {
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
