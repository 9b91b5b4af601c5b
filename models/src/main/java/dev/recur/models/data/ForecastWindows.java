package dev.recur.models.data;

/**
 * Sliding windows over a normalised series, for one-step-ahead forecasting: each window holds W
 * consecutive values and its target is the value that follows.
 *
 * <h2>Split</h2>
 * Chronological: the first {@code cut} values are the training part, the rest the test part.
 * Training windows have their inputs and targets inside the training part (targets at series
 * indices {@code W .. cut-1}). There is one test window per test value (targets at indices
 * {@code cut .. n-1}); its inputs are the W values before the target, which for the first ones
 * reach back into the training part, as they would when forecasting for real. The
 * {@link Normalization} is fitted on the training part only.
 *
 * <h2>Layout</h2>
 * Inputs are window-major, {@code [N, W]}: window {@code i}, step {@code s} at
 * {@code inputs[i * W + s]}, oldest first; targets are {@code [N]}. All values normalised.
 * Immutable (accessors return copies).
 */
public final class ForecastWindows {

    private final int window;                 // W
    private final Normalization normalization;
    private final double[] series;            // [n], original units
    private final int cut;                    // first test index
    private final float[] trainInputs;        // [cut - W, W]
    private final float[] trainTargets;       // [cut - W]
    private final float[] testInputs;         // [n - cut, W]
    private final float[] testTargets;        // [n - cut]

    ForecastWindows(double[] series, int window, int cut, Normalization normalization) {
        this.window = window;
        this.normalization = normalization;
        this.series = series;
        this.cut = cut;
        int nTrain = cut - window;
        int nTest = series.length - cut;
        trainInputs = new float[nTrain * window];
        trainTargets = new float[nTrain];
        testInputs = new float[nTest * window];
        testTargets = new float[nTest];
        fill(window, nTrain, trainInputs, trainTargets);
        fill(cut, nTest, testInputs, testTargets);
    }

    /** Windows whose targets are series indices {@code firstTarget .. firstTarget+count-1}. */
    private void fill(int firstTarget, int count, float[] inputs, float[] targets) {
        for (int i = 0; i < count; i++) {
            int target = firstTarget + i;
            for (int s = 0; s < window; s++) {
                inputs[i * window + s] = (float) normalization.apply(series[target - window + s]);
            }
            targets[i] = (float) normalization.apply(series[target]);
        }
    }

    /** W, values per window. */
    public int window() {
        return window;
    }

    /** The map fitted on the training part. */
    public Normalization normalization() {
        return normalization;
    }

    /** The series index of the first test value; also the number of training values. */
    public int firstTestIndex() {
        return cut;
    }

    /** The number of training windows, {@code cut - W}, at least 1. */
    public int trainCount() {
        return trainTargets.length;
    }

    /** The number of test windows, {@code n - cut} (0 with no test part). */
    public int testCount() {
        return testTargets.length;
    }

    /** {@code [trainCount, W]}, normalised. */
    public float[] trainInputs() {
        return trainInputs.clone();
    }

    /** {@code [trainCount]}, normalised. */
    public float[] trainTargets() {
        return trainTargets.clone();
    }

    /** {@code [testCount, W]}, normalised. */
    public float[] testInputs() {
        return testInputs.clone();
    }

    /** {@code [testCount]}, normalised. */
    public float[] testTargets() {
        return testTargets.clone();
    }

    /** The whole series in its original units (a copy). */
    public double[] series() {
        return series.clone();
    }

    /** Normalised model outputs back in the data's units. */
    public double[] denormalize(float[] predictions) {
        double[] out = new double[predictions.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = normalization.invert(predictions[i]);
        }
        return out;
    }

    @Override
    public String toString() {
        return "ForecastWindows{W=" + window + ", train=" + trainCount() + ", test=" + testCount()
                + ", firstTestIndex=" + cut + ", " + normalization + "}";
    }
}
