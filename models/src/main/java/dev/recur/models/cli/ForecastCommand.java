package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.Tensor;
import dev.recur.models.data.DataException;
import dev.recur.models.data.ForecastWindows;
import dev.recur.models.data.Normalization;
import dev.recur.models.data.TimeSeries;
import dev.recur.models.io.LinePlot;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.train.Progress;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code recur forecast}: one-step-ahead forecasting of one CSV column with a many-to-one
 * regressor, reporting the test RMSE in the data's units beside the naive last-value forecast's,
 * and drawing the forecast against the truth.
 *
 * <p>Shapes: every batch is {@code [W, B, 1]} (W = {@code --window} values, oldest first,
 * time-major) with targets {@code [B, 1]}, B = {@code --batch}, so the model's buffers are made
 * once. Mean squared error cannot skip rows, so an epoch's last batch wraps around to the
 * start of that epoch's shuffled order (a few windows are seen twice); for prediction the last
 * batch is filled with copies of its last window, whose outputs are dropped.
 */
final class ForecastCommand implements Subcommand {

    static final String DEFAULT_PLOT = "runs/forecast.png";

    @Override
    public String name() {
        return "forecast";
    }

    @Override
    public String summary() {
        return "forecast the next value of a CSV column and compare with the last-value baseline";
    }

    @Override
    public String usage() {
        return """
                usage: recur forecast --data FILE [--column NAME|INDEX] [options]

                Trains a recurrent regressor to predict each value of a time series from the --window
                values before it, and reports the root-mean-square error on the last --test-fraction of
                the series (split in time, never shuffled) in the data's own units, beside the naive
                forecast "the next value equals the last one" on the same test values. The values are
                normalised with statistics of the training part only. Draws a PNG of the series, the
                model's one-step forecasts on the training windows and on the test windows.

                options (defaults in brackets):
                  --data FILE            CSV file, one row per time step [required]
                  --column NAME|INDEX    the column: its header name, or its number counting from 0 [the last]
                  --window N             values the model reads before each forecast [12]
                  --normalize KIND       minmax, zscore or none, fitted on the training part [minmax]
                  --test-fraction X      last share of the series held out for testing [0.2]
                  --cell NAME            lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu [gru]
                  --layers N             stacked layers [1]
                  --hidden N             hidden units per layer [32]
                  --dropout P            dropout between layers while training [0]
                  --epochs N             passes over the training windows [200]
                  --batch N              windows per batch; the last batch of an epoch wraps around [16]
                  --optimizer NAME       sgd, rmsprop, adam, adamw [adam]
                  --lr X                 learning rate, decayed to a tenth along a cosine [0.01]
                  --clip X               clip gradients to this global norm, 0 = off [5]
                  --seed N               seed of the initial weights and the shuffling [1]
                  --plot FILE            where to write the PNG chart [runs/forecast.png]
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Options o = Options.declare()
                .value("--data").value("--column").value("--window").value("--normalize").value("--test-fraction")
                .value("--cell").value("--layers").value("--hidden").value("--dropout").value("--epochs")
                .value("--batch").value("--optimizer").value("--lr").value("--clip").value("--seed").value("--plot")
                .parse(args).noPositional();
        if (!o.has("--data")) {
            throw new UsageException("option '--data' is required: give a CSV file with a numeric column");
        }
        Path file = CommandPaths.path("--data", o.string("--data", ""));
        String column = o.string("--column", null);
        if (column != null && column.isBlank()) {
            throw new UsageException("option '--column' needs a name or a number");
        }
        int window = TrainLmCommand.positive(o, "--window", 12);
        Normalization.Kind normalization = normalization(o.string("--normalize", "minmax"));
        double testFraction = ClassifyCommand.fraction(o, "--test-fraction", 0.2f);
        Cell cell = TrainLmCommand.cell(o.string("--cell", "gru"));
        int layers = TrainLmCommand.positive(o, "--layers", 1);
        int hidden = TrainLmCommand.positive(o, "--hidden", 32);
        float dropout = o.floatValue("--dropout", 0f);
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new UsageException("option '--dropout' must be in [0, 1), got " + dropout);
        }
        int epochs = TrainLmCommand.positive(o, "--epochs", 200);
        int batch = TrainLmCommand.positive(o, "--batch", 16);
        Optimizer.Kind kind = TrainLmCommand.kind(o.string("--optimizer", "adam"));
        float lr = o.floatValue("--lr", 0.01f);
        if (!(lr > 0f)) {
            throw new UsageException("option '--lr' must be > 0, got " + lr);
        }
        float clip = o.floatValue("--clip", 5f);
        if (clip < 0f) {
            throw new UsageException("option '--clip' must be >= 0, got " + clip);
        }
        long seed = o.longValue("--seed", 1);
        Path plot = CommandPaths.path("--plot", o.string("--plot", DEFAULT_PLOT));

        TimeSeries series;
        ForecastWindows w;
        try {
            series = read(file, column);
            CommandPaths.createParent(plot);
            w = series.windows(window, testFraction, normalization);
            if (w.testCount() == 0) {
                throw new DataException(series.source(), "column '" + series.column() + "' has " + series.length()
                        + " values, too few to hold out " + testFraction + " of them for testing; use a larger"
                        + " --test-fraction");
            }
        } catch (IOException e) {
            err.println("recur forecast: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        double[] values = w.series();
        int cut = w.firstTestIndex();
        int nTrain = w.trainCount();
        int nTest = w.testCount();
        double naive = naiveRmse(values, cut);
        SequenceModelConfig cfg = SequenceModelConfig.regressor(1, cell, hidden, layers, dropout, 1);
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(kind).build();
        int batchesPerEpoch = (nTrain + batch - 1) / batch;
        int totalSteps = epochs * batchesPerEpoch;
        float minLr = lr / 10;
        LearningRateSchedule schedule = LearningRateSchedule.cosine(lr, totalSteps, minLr);
        int reportEvery = Math.max(1, epochs / 10);

        long started = System.nanoTime();
        try (Backend be = Backends.best();
             SequenceModel model = new SequenceModel(be, cfg, seed);
             Optimizer optimizer = new Optimizer(be, optimizerConfig, model.parameters());
             Tensor x = be.tensor(window, batch, 1);    // [W, B, 1]
             Tensor y = be.tensor(batch, 1)) {          // [B, 1]
            out.println("recur forecast: " + series + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d training windows (values 0..%d), %d test values (%d..%d); window %d; %s%n",
                    nTrain, cut - 1, nTest, cut, values.length - 1, window, w.normalization());
            out.println("  " + cfg);
            String tenth = new java.math.BigDecimal(Float.toString(lr)).movePointLeft(1).toPlainString();
            out.println("  batch " + batch + ", epochs " + epochs + ", " + optimizerConfig + ", lr " + lr
                    + " (cosine to " + tenth + "), clip " + clip + ", seed " + seed);
            float[] trainInputs = w.trainInputs();   // [N, W]
            float[] trainTargets = w.trainTargets(); // [N]
            float[] testInputs = w.testInputs();     // [nTest, W]
            float[] xHost = new float[window * batch]; // [W, B]
            float[] yHost = new float[batch];          // [B]
            int[] order = new int[nTrain];
            for (int i = 0; i < nTrain; i++) {
                order[i] = i;
            }
            Random shuffle = new Random(seed + 1);
            Progress progress = new Progress(out, Progress.isTerminal(), totalSteps, "samples",
                    batchesPerEpoch * reportEvery);
            int step = 0;
            double rmse = Double.NaN;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                shuffle(order, shuffle);
                double lossSum = 0;
                for (int k = 0; k < batchesPerEpoch; k++) {
                    for (int b = 0; b < batch; b++) {
                        int idx = order[(k * batch + b) % nTrain];
                        for (int s = 0; s < window; s++) {
                            xHost[s * batch + b] = trainInputs[idx * window + s];
                        }
                        yHost[b] = trainTargets[idx];
                    }
                    x.copyFrom(xHost);
                    y.copyFrom(yHost);
                    float loss;
                    float stepLr = schedule.at(step);
                    try {
                        loss = CheckedStep.loss(() -> model.trainStep(x, null, y, optimizer, stepLr, clip), ++step, epoch);
                    } catch (CheckedStep.Diverged e) {
                        progress.finish();
                        err.println("recur forecast: " + e.getMessage());
                        return Recur.EXIT_FAILED;
                    }
                    lossSum += loss;
                    progress.update(epoch, step, loss, (long) step * batch);
                }
                if (epoch % reportEvery == 0 || epoch == epochs) {
                    rmse = rmse(w.denormalize(predict(model, x, xHost, testInputs, nTest, window, batch)), values, cut);
                    progress.line(String.format(Locale.ROOT, "epoch %d/%d: train loss %.5f (normalised), test RMSE %s",
                            epoch, epochs, lossSum / batchesPerEpoch, number(rmse)));
                }
            }
            progress.finish();
            double seconds = (System.nanoTime() - started) / 1e9;
            double[] testForecast = w.denormalize(predict(model, x, xHost, testInputs, nTest, window, batch));
            double[] trainForecast = w.denormalize(predict(model, x, xHost, trainInputs, nTrain, window, batch));
            rmse = rmse(testForecast, values, cut);
            out.printf(Locale.ROOT, "test RMSE %s vs naive last-value RMSE %s (ratio %.3f) over %d test values of '%s';"
                    + " %.1f s%n", number(rmse), number(naive), rmse / naive, nTest, series.column(), seconds);
            try {
                new LinePlot(1000, 500)
                        .title(series.column() + ": one-step forecasts of a " + cell.id() + " model (test RMSE "
                                + number(rmse) + ", naive " + number(naive) + ")")
                        .xLabel("row").yLabel(series.column())
                        .series("truth", values)
                        .series("forecast, training windows", window, trainForecast)
                        .series("forecast, test", cut, testForecast)
                        .write(plot);
            } catch (IOException e) {
                err.println("recur forecast: " + plot + ": cannot write the plot: " + CommandPaths.reason(e));
                return Recur.EXIT_FAILED;
            }
            out.println("plot " + plot);
            return Recur.EXIT_OK;
        }
    }

    /** The series: by name, by 0-based number, or the last column of the first row. */
    private static TimeSeries read(Path file, String column) throws DataException {
        if (column == null) {
            return TimeSeries.readCsv(file, lastColumn(file));
        }
        if (column.strip().matches("\\d{1,9}")) {
            return TimeSeries.readCsv(file, Integer.parseInt(column.strip()));
        }
        return TimeSeries.readCsv(file, column);
    }

    /**
     * The index of the last field of the file's first non-blank row, counting commas outside
     * double quotes; 0 when the file cannot be read (then {@link TimeSeries} says why).
     */
    private static int lastColumn(Path file) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                int commas = 0;
                boolean quoted = false;
                for (int i = 0; i < line.length(); i++) {
                    char c = line.charAt(i);
                    if (c == '"') {
                        quoted = !quoted; // "" inside quotes toggles twice: no change
                    } else if (c == ',' && !quoted) {
                        commas++;
                    }
                }
                return commas;
            }
        } catch (IOException | RuntimeException e) {
            // Missing, unreadable or not UTF-8: reading column 0 reports it in TimeSeries' words.
        }
        return 0;
    }

    /**
     * The model's outputs (normalised) for {@code count} windows of {@code inputs [count, W]},
     * in batches of B; the last batch is filled with copies of its last window.
     */
    private static float[] predict(SequenceModel model, Tensor x, float[] xHost, float[] inputs, int count, int window,
                                   int batch) {
        float[] result = new float[count];
        for (int from = 0; from < count; from += batch) {
            for (int b = 0; b < batch; b++) {
                int idx = Math.min(from + b, count - 1);
                for (int s = 0; s < window; s++) {
                    xHost[s * batch + b] = inputs[idx * window + s];
                }
            }
            x.copyFrom(xHost);
            float[] p = model.predict(x, null).toArray(); // [B, 1]
            System.arraycopy(p, 0, result, from, Math.min(batch, count - from));
        }
        return result;
    }

    /** RMSE of forecasts of {@code values[cut..]}. */
    static double rmse(double[] forecast, double[] values, int cut) {
        double sq = 0;
        for (int i = 0; i < forecast.length; i++) {
            double d = forecast[i] - values[cut + i];
            sq += d * d;
        }
        return Math.sqrt(sq / forecast.length);
    }

    /** RMSE of the naive forecast {@code values[t-1]} for every {@code t >= cut}. */
    static double naiveRmse(double[] values, int cut) {
        double sq = 0;
        for (int t = cut; t < values.length; t++) {
            double d = values[t - 1] - values[t];
            sq += d * d;
        }
        return Math.sqrt(sq / (values.length - cut));
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Four significant digits, without an exponent for everyday magnitudes. */
    static String number(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e6 || a < 1e-3)) {
            return String.format(Locale.ROOT, "%.4g", v);
        }
        int decimals = a == 0 ? 0 : Math.max(0, 3 - (int) Math.floor(Math.log10(a)));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static Normalization.Kind normalization(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "minmax", "min-max" -> Normalization.Kind.MIN_MAX;
            case "zscore", "z-score" -> Normalization.Kind.Z_SCORE;
            case "none" -> Normalization.Kind.NONE;
            default -> throw new UsageException("option '--normalize' must be minmax, zscore or none, got '" + name
                    + "'");
        };
    }
}
