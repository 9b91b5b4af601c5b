package dev.recur.models.data;

/**
 * Sliding windows over a normalised series, for one-step-ahead forecasting: each window holds W
 * consecutive values and its target is the value that follows (or its change, see {@link Target}).
 *
 * <h2>Split</h2>
 * Chronological, never shuffled across a boundary: the first {@code cut} values are the training
 * part, the rest the test part. Training windows have their inputs and targets inside the
 * training part (targets at series indices {@code W .. cut-1}); the last of them (targets at
 * {@code validationStart .. cut-1}) are held out for validation, so the windows a model learns
 * from all come before those it is validated on, which all come before the test values. There is
 * one test window per test value (targets at indices {@code cut .. n-1}); its inputs are the W
 * values before the target, which for the first ones reach back into the training part, as they
 * would when forecasting for real. The {@link Normalization} and the delta scale are fitted on the
 * training part only (validation values included, test values never).
 *
 * <h2>Layout</h2>
 * Inputs are window-major, {@code [N, W]}: window {@code i}, step {@code s} at
 * {@code inputs[i * W + s]}, oldest first; targets are {@code [N]}. Inputs are normalised values;
 * targets are in the units {@link #encode} gives. Immutable (accessors return copies).
 */
public final class ForecastWindows {

    /** What the model is trained to output. */
    public enum Target {
        /** The next value, normalised like the inputs. */
        VALUE("value"),
        /**
         * The change from the last value of the window, divided by the standard deviation of the
         * training part's changes: a model that outputs 0 is the naive last-value forecast, so it
         * starts from persistence and learns corrections to it.
         */
        DELTA("delta");

        private final String id;

        Target(String id) {
            this.id = id;
        }

        /** {@code value} or {@code delta}, as the command line and checkpoints spell it. */
        public String id() {
            return id;
        }

        /**
         * The target of an {@link #id()}.
         *
         * @throws IllegalArgumentException naming the choices
         */
        public static Target of(String id) {
            for (Target t : values()) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown target '" + id + "'; choose value or delta");
        }
    }

    private final int window;                 // W
    private final Normalization normalization;
    private final Target target;
    private final double deltaScale;          // data units per target unit, DELTA only; 1 for VALUE
    private final double[] series;            // [n], original units
    private final int validationStart;        // first validation target index
    private final int cut;                    // first test index
    private final float[] trainInputs;        // [validationStart - W, W]
    private final float[] trainTargets;       // [validationStart - W]
    private final float[] validationInputs;   // [cut - validationStart, W]
    private final float[] validationTargets;  // [cut - validationStart]
    private final float[] testInputs;         // [n - cut, W]
    private final float[] testTargets;        // [n - cut]

    ForecastWindows(double[] series, int window, int validationStart, int cut, Normalization normalization,
                    Target target) {
        this.window = window;
        this.normalization = normalization;
        this.target = target;
        this.deltaScale = target == Target.DELTA ? changeDeviation(series, cut) : 1;
        this.series = series;
        this.validationStart = validationStart;
        this.cut = cut;
        int nTrain = validationStart - window;
        int nValidation = cut - validationStart;
        int nTest = series.length - cut;
        trainInputs = new float[nTrain * window];
        trainTargets = new float[nTrain];
        validationInputs = new float[nValidation * window];
        validationTargets = new float[nValidation];
        testInputs = new float[nTest * window];
        testTargets = new float[nTest];
        fill(window, nTrain, trainInputs, trainTargets);
        fill(validationStart, nValidation, validationInputs, validationTargets);
        fill(cut, nTest, testInputs, testTargets);
    }

    /** The population standard deviation of {@code v[t] - v[t-1]} for t in 1..cut-1; 1 when 0. */
    private static double changeDeviation(double[] v, int cut) {
        int n = cut - 1;
        if (n < 1) {
            return 1;
        }
        double sum = 0;
        for (int t = 1; t < cut; t++) {
            sum += v[t] - v[t - 1];
        }
        double mean = sum / n;
        double sq = 0;
        for (int t = 1; t < cut; t++) {
            double d = v[t] - v[t - 1] - mean;
            sq += d * d;
        }
        double std = Math.sqrt(sq / n);
        return std > 0 ? std : 1;
    }

    /** Windows whose targets are series indices {@code firstTarget .. firstTarget+count-1}. */
    private void fill(int firstTarget, int count, float[] inputs, float[] targets) {
        for (int i = 0; i < count; i++) {
            int t = firstTarget + i;
            for (int s = 0; s < window; s++) {
                inputs[i * window + s] = (float) normalization.apply(series[t - window + s]);
            }
            targets[i] = (float) encode(target, normalization, deltaScale, series[t], series[t - 1]);
        }
    }

    /** The model's target for {@code next}, the value after a window ending in {@code last}. */
    public static double encode(Target target, Normalization n, double deltaScale, double next, double last) {
        return target == Target.VALUE ? n.apply(next) : (next - last) / deltaScale;
    }

    /** The forecast in data units that a model output means, after a window ending in {@code last}. */
    public static double decode(Target target, Normalization n, double deltaScale, float output, double last) {
        return target == Target.VALUE ? n.invert(output) : last + output * deltaScale;
    }

    /** W, values per window. */
    public int window() {
        return window;
    }

    /** The map fitted on the training part. */
    public Normalization normalization() {
        return normalization;
    }

    /** What the model outputs. */
    public Target target() {
        return target;
    }

    /** Data units per target unit with {@link Target#DELTA} (the training part's change deviation); 1 otherwise. */
    public double deltaScale() {
        return deltaScale;
    }

    /** The series index of the first test value; also the number of training values. */
    public int firstTestIndex() {
        return cut;
    }

    /** The series index of the first validation target. */
    public int firstValidationIndex() {
        return validationStart;
    }

    /** The number of training windows, {@code validationStart - W}, at least 1. */
    public int trainCount() {
        return trainTargets.length;
    }

    /** The number of validation windows, {@code cut - validationStart} (0 without validation). */
    public int validationCount() {
        return validationTargets.length;
    }

    /** The number of test windows, {@code n - cut} (0 with no test part). */
    public int testCount() {
        return testTargets.length;
    }

    /** {@code [trainCount, W]}, normalised. */
    public float[] trainInputs() {
        return trainInputs.clone();
    }

    /** {@code [trainCount]}. */
    public float[] trainTargets() {
        return trainTargets.clone();
    }

    /** {@code [validationCount, W]}, normalised. */
    public float[] validationInputs() {
        return validationInputs.clone();
    }

    /** {@code [validationCount]}. */
    public float[] validationTargets() {
        return validationTargets.clone();
    }

    /** {@code [testCount, W]}, normalised. */
    public float[] testInputs() {
        return testInputs.clone();
    }

    /** {@code [testCount]}. */
    public float[] testTargets() {
        return testTargets.clone();
    }

    /** The whole series in its original units (a copy). */
    public double[] series() {
        return series.clone();
    }

    /**
     * Model outputs for the windows whose targets are series indices {@code firstTarget ..}, as
     * forecasts in the data's units.
     */
    public double[] decode(float[] outputs, int firstTarget) {
        double[] out = new double[outputs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = decode(target, normalization, deltaScale, outputs[i], series[firstTarget + i - 1]);
        }
        return out;
    }

    /** Normalised model outputs back in the data's units ({@link Target#VALUE} only). */
    public double[] denormalize(float[] predictions) {
        if (target != Target.VALUE) {
            throw new IllegalStateException("outputs are changes, not values: use decode(outputs, firstTarget)");
        }
        double[] out = new double[predictions.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = normalization.invert(predictions[i]);
        }
        return out;
    }

    @Override
    public String toString() {
        return "ForecastWindows{W=" + window + ", train=" + trainCount() + ", validation=" + validationCount()
                + ", test=" + testCount() + ", firstTestIndex=" + cut + ", target=" + target.id
                + (target == Target.DELTA ? " (scale " + deltaScale + ")" : "") + ", " + normalization + "}";
    }
}
