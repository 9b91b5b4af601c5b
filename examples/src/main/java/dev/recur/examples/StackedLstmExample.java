package dev.recur.examples;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.Tensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.ShuffledTask;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Recur as a library, start to end: a two-layer LSTM learns to continue a noisy sine wave from the
 * 24 values before each point, is fitted by the {@link Trainer} (validation, early stopping with
 * the best weights restored, checkpoints, metrics), saved with its settings, loaded back, and
 * asked for forecasts, which are compared with the naive "same as the last value" forecast.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... dev.recur.examples.StackedLstmExample [FOLDER]
 * </pre>
 * Everything it writes goes into FOLDER (default {@code runs/example}).
 */
public final class StackedLstmExample {

    static final int WINDOW = 24;  // values the model reads before each forecast
    static final int BATCH = 32;

    /** What a run measured. */
    public record Report(double trainedRmse, double loadedRmse, double naiveRmse, double firstValidation,
                         double bestValidation, boolean sameForecasts, Trainer.Result result) {
    }

    private StackedLstmExample() {
    }

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args.length > 0 ? args[0] : "runs/example");
        Report r = run(folder, 40, System.out);
        System.out.printf(Locale.ROOT, "test RMSE %.4f (loaded model %.4f) vs naive %.4f; validation loss %.5f at"
                + " the first epoch, best %.5f; %s%n", r.trainedRmse(), r.loadedRmse(), r.naiveRmse(),
                r.firstValidation(), r.bestValidation(), r.result().stoppedBecause());
    }

    /** Builds, fits, saves, loads and evaluates the model; writes into {@code folder}. */
    public static Report run(Path folder, int epochs, PrintStream out) throws IOException {
        Files.createDirectories(folder);
        // A noisy sine: 1,200 values; windows of WINDOW values, each followed by its target.
        float[] series = new float[1200];
        Random noise = new Random(42);
        for (int i = 0; i < series.length; i++) {
            series[i] = (float) (Math.sin(i * 2 * Math.PI / 50) + 0.05 * noise.nextGaussian());
        }
        int windows = series.length - WINDOW;
        int trainEnd = windows * 7 / 10;          // windows [0, trainEnd) train
        int validationEnd = windows * 85 / 100;   // [trainEnd, validationEnd) validate, the rest test

        SequenceModelConfig config = SequenceModelConfig.regressor(1, Cell.LSTM, 32, 2, 0.1f, 1);
        try (Backend backend = Backends.best();
             SequenceModel model = new SequenceModel(backend, config, 7);
             Optimizer adam = new Optimizer(backend, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters());
             Windows task = new Windows(backend, model, adam, series, trainEnd, validationEnd, 7)) {
            out.println("training " + config + " (" + model.parameterCount() + " parameters) on the "
                    + backend.name() + " engine");
            long steps = (long) epochs * task.batchesPerEpoch();
            Trainer trainer = Trainer.builder()
                    .epochs(epochs)
                    .learningRate(LearningRateSchedule.cosine(0.01f, (int) steps, 0.001f))
                    .clip(1f)
                    .patience(8)
                    .checkpoint(folder.resolve("checkpoint.safetensors"))
                    .metrics(folder.resolve("metrics.jsonl"))
                    .seed(7)
                    .progress(new Progress(out, false, steps, "windows", task.batchesPerEpoch() * 10))
                    .build();
            Trainer.Result result = trainer.fit(task);

            float[] trained = task.predict(validationEnd, windows);
            Path saved = folder.resolve("sine-lstm.safetensors");
            model.save(saved, Map.of("window", Integer.toString(WINDOW)));

            try (SequenceModel loaded = SequenceModel.load(backend, Checkpoint.read(saved));
                 Windows again = new Windows(backend, loaded, adam, series, trainEnd, validationEnd, 7)) {
                float[] fromFile = again.predict(validationEnd, windows);
                double naive = 0;
                double a = 0;
                double b = 0;
                for (int w = validationEnd; w < windows; w++) {
                    float truth = series[w + WINDOW];
                    naive += sq(series[w + WINDOW - 1] - truth);
                    a += sq(trained[w - validationEnd] - truth);
                    b += sq(fromFile[w - validationEnd] - truth);
                }
                int n = windows - validationEnd;
                return new Report(Math.sqrt(a / n), Math.sqrt(b / n), Math.sqrt(naive / n), task.firstValidation,
                        result.bestValidation(), java.util.Arrays.equals(trained, fromFile), result);
            }
        }
    }

    private static double sq(double v) {
        return v * v;
    }

    /**
     * The data side of training: windows of the series in shuffled batches of {@link #BATCH} (the
     * order of each epoch comes from {@link ShuffledTask}, drawn from the seed and the epoch alone),
     * a validation loss, and forecasts.
     */
    static final class Windows extends ShuffledTask implements AutoCloseable {
        private final SequenceModel model;
        private final Optimizer optimizer;
        private final float[] series;
        private final int trainEnd;
        private final int validationEnd;
        private final Tensor x;       // [WINDOW, BATCH, 1], time-major
        private final Tensor y;       // [BATCH, 1]
        private final float[] xHost = new float[WINDOW * BATCH];
        private final float[] yHost = new float[BATCH];
        double firstValidation = Double.NaN;

        Windows(Backend backend, SequenceModel model, Optimizer optimizer, float[] series, int trainEnd,
                int validationEnd, long seed) {
            super(model, optimizer, trainEnd, BATCH, seed, "windows");
            this.model = model;
            this.optimizer = optimizer;
            this.series = series;
            this.trainEnd = trainEnd;
            this.validationEnd = validationEnd;
            this.x = backend.tensor(WINDOW, BATCH, 1);
            this.y = backend.tensor(BATCH, 1);
        }

        /** Loads windows {@code first..} (wrapping at the end of {@code ids}) into x and y. */
        private void load(int[] ids, int first) {
            for (int b = 0; b < BATCH; b++) {
                int w = ids[(first + b) % ids.length];
                for (int t = 0; t < WINDOW; t++) {
                    xHost[t * BATCH + b] = series[w + t];
                }
                yHost[b] = series[w + WINDOW];
            }
            x.copyFrom(xHost);
            y.copyFrom(yHost);
        }

        @Override
        public float trainStep(int epoch, int batch, float lr, float clip) {
            load(epochOrder(epoch), batch * BATCH); // the last batch wraps around
            return model.trainStep(x, null, y, optimizer, lr, clip);
        }

        @Override
        public boolean validates() {
            return true;
        }

        @Override
        public double validationLoss() {
            float[] p = predict(trainEnd, validationEnd);
            double sum = 0;
            for (int w = trainEnd; w < validationEnd; w++) {
                sum += sq(p[w - trainEnd] - series[w + WINDOW]);
            }
            double loss = sum / (validationEnd - trainEnd);
            if (Double.isNaN(firstValidation)) {
                firstValidation = loss;
            }
            return loss;
        }

        /** The model's forecast after each window {@code from..to-1}. */
        float[] predict(int from, int to) {
            float[] out = new float[to - from];
            int[] ids = new int[to - from];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = from + i;
            }
            for (int first = 0; first < ids.length; first += BATCH) {
                load(ids, first);
                float[] p = model.predict(x, null).toArray(); // [BATCH, 1]
                for (int b = 0; b < BATCH && first + b < out.length; b++) {
                    out[first + b] = p[b];
                }
            }
            return out;
        }

        @Override
        public void close() {
            x.close();
            y.close();
        }
    }
}
