package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.Tensor;
import dev.recur.models.data.DataException;
import dev.recur.models.data.ForecastWindows;
import dev.recur.models.data.Normalization;
import dev.recur.models.data.TimeSeries;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.LinePlot;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.TrainingDivergedException;
import dev.recur.models.train.ShuffledTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code recur forecast}: one-step-ahead forecasting of one CSV column with a many-to-one
 * regressor trained through the {@link Trainer}, reporting the test RMSE in the data's units
 * beside the naive last-value forecast's, forecasting {@code --horizon} values past the end of the
 * data by feeding forecasts back in, and drawing history, test forecasts and future; with
 * {@code --from}, the same forecast past the end from a saved model.
 *
 * <p>Split, in time order and never shuffled across a boundary: training windows, then the
 * validation windows (the last {@code --validation-fraction} of the windows before the test part),
 * then the test values (the last {@code --test-fraction} of the series). The trainer validates
 * every epoch, stops after {@code --patience} validations without improvement and restores the
 * best weights; the test part is forecast once, at the end.
 *
 * <p>Shapes: every training batch is {@code [W, B, 1]} (W = {@code --window} values, oldest first,
 * time-major) with targets {@code [B, 1]}, B = {@code --batch}, so the model's buffers are made
 * once. Mean squared error cannot skip rows, so an epoch's last batch wraps around to the start of
 * that epoch's shuffled order (a few windows are seen twice); for prediction the last batch is
 * filled with copies of its last window, whose outputs are dropped. Forecasts past the end run one
 * window at a time, {@code [W, 1, 1]}, in a training run and with {@code --from} alike, so both
 * give the same numbers.
 */
@Command(name = "forecast", header = "forecast a CSV column (next values and past the end); compare with the last-value baseline",
        showDefaultValues = true, sortOptions = false, description = {
            "Trains a recurrent regressor to predict each value of a time series from the --window values",
            "before it, and reports the root-mean-square error on the last --test-fraction of the series",
            "(split in time, never shuffled) in the data's own units, beside the naive forecast \"the next",
            "value equals the last one\" on the same test values. By default the model predicts the change",
            "from the last value (--target delta), so it starts from the naive forecast and learns to correct",
            "it. The last --validation-fraction of the training windows (before the test part) is the",
            "validation split: validated every epoch, training stops after --patience validations without",
            "improvement and keeps the best weights; the test part is forecast once, at the end.",
            "--horizon N forecasts N values past the end of the data, feeding each forecast back in.",
            "The plot (--plot) shows the data, the test part's forecasts and the future, the last two shaded;",
            "its x axis shows the dates of --date-column (by default the first column, when it holds dates)",
            "and places the future at the data's spacing (calendar months for monthly data), else row numbers.",
            "Checkpoints go to --checkpoint (the best also to NAME.best.safetensors), metrics to",
            "NAME.metrics.jsonl and the loss curve to NAME.loss.png beside it.",
            "",
            "With --from MODEL (a forecast checkpoint), nothing is trained: the model, its window and its",
            "normalisation are loaded, and --horizon values past the end of --data are forecast."})
final class ForecastCommand extends CliCommand {

    static final String DEFAULT_PLOT = "runs/forecast.png";
    static final String DEFAULT_CHECKPOINT = "runs/forecast.safetensors";

    /** Checkpoint metadata: what inference needs besides the weights. */
    static final String WINDOW = "forecast.window";
    static final String NORMALIZATION = "forecast.normalization";
    static final String TARGET = "forecast.target";
    static final String DELTA_SCALE = "forecast.delta_scale";
    static final String COLUMN = "forecast.column";

    /** The options that --from takes; every other one trains, and is refused with --from. */
    private static final Set<String> INFERENCE = Set.of("--from", "--data", "--column", "--date-column", "--horizon",
            "--plot", "--backend");

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "FILE", converter = Checks.FileName.class,
            description = "CSV file, one row per time step (required)")
    Path data;
    @Option(names = "--column", paramLabel = "NAME|INDEX",
            description = "the column: its header name, or its number counting from 0 (default: the last;"
                    + " with --from, the column the model was trained on when the file has it)")
    String column;
    @Option(names = "--date-column", paramLabel = "NAME|INDEX|none", defaultValue = "auto",
            converter = DateColumnName.class,
            description = "the column of dates or times for the plot's x axis (yyyy-MM, yyyy-MM-dd, yyyy-MM-dd HH:mm[:ss],"
                    + " ISO): its header name, its number from 0, or none for row numbers; auto = the first column"
                    + " when it holds dates and is not --column")
    TimeSeries.DateColumn dateColumn;
    @Option(names = "--from", paramLabel = "MODEL", converter = Checks.FileName.class,
            description = "forecast with this saved forecast model instead of training one")
    Path from;
    @Option(names = "--horizon", paramLabel = "N", defaultValue = "0", converter = Checks.NonNegative.class,
            description = "forecast N values past the end of the data (required with --from)")
    int horizon;
    @Option(names = "--plot", paramLabel = "FILE", defaultValue = DEFAULT_PLOT, converter = Checks.FileName.class,
            description = "where to write the PNG chart")
    Path plot;
    @Option(names = "--window", paramLabel = "N", defaultValue = "24", converter = Checks.Size.class,
            description = "values the model reads before each forecast")
    int window;
    @Option(names = "--target", paramLabel = "KIND", defaultValue = "delta", converter = TargetName.class,
            description = "what the model predicts: delta (the change from the last value) or value")
    ForecastWindows.Target target;
    @Option(names = "--normalize", paramLabel = "KIND", defaultValue = "zscore", converter = NormalizationName.class,
            description = "minmax, zscore or none, fitted on the training part")
    Normalization.Kind normalize;
    @Option(names = "--test-fraction", paramLabel = "X", defaultValue = "0.2", converter = Checks.Fraction.class,
            description = "last share of the series held out for testing")
    double testFraction;
    @Option(names = "--validation-fraction", paramLabel = "X", defaultValue = "0.1", converter = Checks.Fraction.class,
            description = "last share of the training windows held out for validation (at least one)")
    double validationFraction;
    @Option(names = "--cell", paramLabel = "NAME", defaultValue = "gru", converter = Checks.CellName.class,
            description = "lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu")
    Cell cell;
    @Option(names = "--layers", paramLabel = "N", defaultValue = "1", converter = Checks.Size.class,
            description = "stacked layers")
    int layers;
    @Option(names = "--hidden", paramLabel = "N", defaultValue = "32", converter = Checks.Size.class,
            description = "hidden units per layer")
    int hidden;
    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0", converter = Checks.Dropout.class,
            description = "dropout between layers while training")
    float dropout;
    @Option(names = "--epochs", paramLabel = "N", defaultValue = "200", converter = Checks.Positive.class,
            description = "at most this many passes over the training windows")
    int epochs;
    @Option(names = "--patience", paramLabel = "N", defaultValue = "20", converter = Checks.NonNegative.class,
            description = "stop after N epochs without a better validation loss, keeping the best weights; 0 = never")
    int patience;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", converter = Checks.Size.class,
            description = "windows per batch; the last batch of an epoch wraps around")
    int batch;
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", converter = Checks.OptimizerName.class,
            description = "sgd, rmsprop, adam, adamw")
    Optimizer.Kind optimizer;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.002", converter = Checks.PositiveNumber.class,
            description = "learning rate, decayed to a tenth along a cosine over --epochs")
    float lr;
    @Option(names = "--clip", paramLabel = "X", defaultValue = "5", converter = Checks.NonNegativeNumber.class,
            description = "clip gradients to this global norm, 0 = off")
    float clip;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of the initial weights and the shuffling")
    long seed;
    @Option(names = "--checkpoint", paramLabel = "FILE", defaultValue = DEFAULT_CHECKPOINT,
            converter = Checks.FileName.class, description = "where to save the model (every epoch, and at the end)")
    Path checkpoint;
    @Mixin
    CellOptionFlags cellFlags;
    @Mixin
    RunOptions run;

    @Override
    protected void check() {
        if (data == null) {
            throw new UsageException("option '--data' is required: give a CSV file with a numeric column");
        }
        if (column != null && column.isBlank()) {
            throw new UsageException("option '--column' needs a name or a number");
        }
        if (from != null) {
            for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
                if (!INFERENCE.contains(o.longestName())) {
                    throw new UsageException("option '" + o.longestName() + "' trains a model; with --from the"
                            + " saved model is used as it is (options with --from: --data, --column, --date-column,"
                            + " --horizon, --plot, --backend)");
                }
            }
            if (horizon == 0) {
                throw new UsageException("option '--horizon' is required with --from: how many values to forecast"
                        + " past the end of the data");
            }
            return;
        }
        cellFlags.options(cell, hidden);
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        try {
            return from != null ? infer(out) : run.distributed(name(), out, err, this::train);
        } catch (IOException | TrainingDivergedException e) {
            err.println("recur forecast: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    // ------------------------------------------------------------------ training

    private int train(PrintStream out) throws IOException {
        TimeSeries series = read(data, column, dateColumn);
        ForecastWindows w = series.windows(window, testFraction, validationFraction, normalize, target);
        if (w.testCount() == 0) {
            throw new DataException(series.source(), "column '" + series.column() + "' has " + series.length()
                    + " values, too few to hold out " + testFraction + " of them for testing; use a larger"
                    + " --test-fraction");
        }
        // Made before training, so that a folder that cannot exist fails at once, not after the run.
        CommandPaths.createParent(checkpoint);
        CommandPaths.createParent(plot);
        double[] values = w.series();
        int cut = w.firstTestIndex();
        SequenceModelConfig cfg = SequenceModelConfig.regressor(1, cell, hidden, layers, dropout, 1)
                .withOptions(cellFlags.options(cell, hidden));
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(optimizer).build();
        Stored stored = new Stored(window, w.normalization(), target, w.deltaScale(), series.column());
        try (Backend be = openBackend();
             SequenceModel model = new SequenceModel(be, cfg, seed);
             Optimizer opt = new Optimizer(be, optimizerConfig, model.parameters());
             Task task = new Task(be, model, opt, w, batch, seed, stored)) {
            out.println("recur forecast: " + series + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d training windows (targets at rows %d..%d), %d validation windows (%d..%d),"
                            + " %d test values (%d..%d); window %d; target %s; %s%n", w.trainCount(), window,
                    w.firstValidationIndex() - 1, w.validationCount(), w.firstValidationIndex(), cut - 1,
                    w.testCount(), cut, values.length - 1, window, target.id(), w.normalization());
            out.println("  " + cfg);
            String tenth = new BigDecimal(Float.toString(lr)).movePointLeft(1).toPlainString();
            out.println("  batch " + batch + ", at most " + epochs + " epochs, patience " + patience + ", "
                    + optimizerConfig + ", lr " + lr + " (cosine to " + tenth + "), clip " + clip + ", seed " + seed);
            long totalSteps = (long) epochs * task.batchesPerEpoch();
            Progress progress = new Progress(out, Progress.isTerminal(), totalSteps, "samples",
                    task.batchesPerEpoch() * Math.max(1, epochs / 10));
            Trainer trainer = run.apply(Trainer.builder(), checkpoint).epochs(epochs)
                    .learningRate(LearningRateSchedule.cosine(lr, (int) Math.min(Integer.MAX_VALUE, totalSteps), lr / 10))
                    .clip(clip).patience(patience).seed(seed).progress(progress)
                    .build();
            long started = System.nanoTime();
            Trainer.Result r = trainer.fit(task);
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(Locale.ROOT, "done: %s; checkpoint %s, metrics %s, loss curve %s%n", r.stoppedBecause(),
                    checkpoint, RunOptions.metrics(checkpoint), RunOptions.lossCurve(checkpoint));
            if (!r.finished()) {
                return Recur.EXIT_OK; // paused: the test part waits for the end of the run
            }
            // The test part, once, with the weights the run ends with (the best validation's).
            model.eval();
            double[] testForecast = w.decode(task.predict(w.testInputs(), w.testCount()), cut);
            double rmse = rmse(testForecast, values, cut);
            double naive = naiveRmse(values, cut);
            out.printf(Locale.ROOT, "test RMSE %s vs naive last-value RMSE %s (ratio %.3f) over %d test values of '%s';"
                    + " %.1f s%n", number(rmse), number(naive), rmse / naive, w.testCount(), series.column(), seconds);
            double[] future = horizon > 0 ? ahead(be, model, values, stored, horizon) : new double[0];
            printAhead(out, series, future);
            write(figure(series, cut, testForecast, future, String.format(Locale.ROOT,
                    "%s: forecasts of a %s model (test RMSE %s, naive %s)", series.column(), cell.id(), number(rmse),
                    number(naive))));
            out.println("plot " + plot);
            return Recur.EXIT_OK;
        }
    }

    /** Windows in an epoch's shuffled order, the whole model step per batch; validation on the held-out windows. */
    private static final class Task extends ShuffledTask implements AutoCloseable {
        private final SequenceModel model;
        private final Optimizer opt;
        private final ForecastWindows w;
        private final int batch;          // B
        private final int window;         // W
        private final Stored stored;
        private final float[] trainInputs;   // [N, W]
        private final float[] trainTargets;  // [N]
        private final Tensor x;              // [W, B, 1]
        private final Tensor y;              // [B, 1]
        private final float[] xHost;         // [W, B]
        private final float[] yHost;         // [B]
        private final Backend be;
        private int shardRank;
        private int shards = 1;
        private Tensor xShard;               // [W, B/R, 1] with R ranks
        private Tensor yShard;               // [B/R, 1]

        Task(Backend be, SequenceModel model, Optimizer opt, ForecastWindows w, int batch, long seed, Stored stored) {
            super(model, opt, w.trainCount(), batch, seed, "samples");
            this.model = model;
            this.opt = opt;
            this.w = w;
            this.batch = batch;
            this.window = w.window();
            this.stored = stored;
            this.trainInputs = w.trainInputs();
            this.trainTargets = w.trainTargets();
            this.be = be;
            this.x = be.tensor(window, batch, 1);
            this.y = be.tensor(batch, 1);
            this.xHost = new float[window * batch];
            this.yHost = new float[batch];
        }

        /**
         * Data parallel: rank r trains on windows {@code [r·B/R, (r+1)·B/R)} of each batch of B (the
         * batch wraps around as in one process); validation stays whole on every rank.
         */
        @Override
        public void shard(int rank, int worldSize) {
            if (batch % worldSize != 0) {
                throw new IllegalArgumentException("a batch of " + batch + " windows does not split evenly over "
                        + worldSize + " ranks; choose a batch that is a multiple of the world size");
            }
            shardRank = rank;
            shards = worldSize;
            if (worldSize > 1) {
                xShard = be.tensor(window, batch / worldSize, 1);
                yShard = be.tensor(batch / worldSize, 1);
            }
        }

        @Override
        public double shardShare() {
            return 1.0 / shards; // B/R of the B windows the mean squared error is over
        }

        @Override
        public float trainStep(int epoch, int k, float lr, float clip) {
            int[] order = epochOrder(epoch); // the last batch wraps around to the epoch's start
            if (shards > 1) {
                int local = batch / shards;
                float[] xs = new float[window * local]; // [W, B/R]
                float[] ys = new float[local];          // [B/R]
                for (int b = 0; b < local; b++) {
                    int idx = order[(k * batch + shardRank * local + b) % order.length];
                    for (int s = 0; s < window; s++) {
                        xs[s * local + b] = trainInputs[idx * window + s];
                    }
                    ys[b] = trainTargets[idx];
                }
                xShard.copyFrom(xs);
                yShard.copyFrom(ys);
                return model.trainStep(xShard, null, yShard, opt, lr, clip);
            }
            for (int b = 0; b < batch; b++) {
                int idx = order[(k * batch + b) % order.length];
                for (int s = 0; s < window; s++) {
                    xHost[s * batch + b] = trainInputs[idx * window + s];
                }
                yHost[b] = trainTargets[idx];
            }
            x.copyFrom(xHost);
            y.copyFrom(yHost);
            return model.trainStep(x, null, y, opt, lr, clip);
        }

        @Override
        public boolean validates() {
            return w.validationCount() > 0;
        }

        /** Mean squared error over the validation windows, in the units of the training loss. */
        @Override
        public double validationLoss() {
            float[] p = predict(w.validationInputs(), w.validationCount());
            float[] t = w.validationTargets();
            double sq = 0;
            for (int i = 0; i < p.length; i++) {
                double d = p[i] - t[i];
                sq += d * d;
            }
            return sq / p.length;
        }

        /**
         * The model's outputs for {@code count} windows of {@code inputs [count, W]}, in batches of B;
         * the last batch is filled with copies of its last window.
         */
        float[] predict(float[] inputs, int count) {
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

        @Override
        public void save(Checkpoint.Builder b) {
            stored.write(b);
        }

        @Override
        public void restore(Checkpoint c) throws CheckpointException {
            Stored saved = Stored.read(c);
            if (saved.window() != stored.window() || saved.target() != stored.target()
                    || !saved.normalization().toStorageString().equals(stored.normalization().toStorageString())) {
                throw new CheckpointException(c.source(), "mismatched: the file was trained with window "
                        + saved.window() + ", target " + saved.target().id() + " and " + saved.normalization()
                        + "; this run has window " + stored.window() + ", target " + stored.target().id() + " and "
                        + stored.normalization() + "; resume on the same data with the same settings or start afresh");
            }
        }

        @Override
        public void close() {
            x.close();
            y.close();
            if (xShard != null) {
                xShard.close();
                yShard.close();
            }
        }
    }

    // ------------------------------------------------------------------ inference

    private int infer(PrintStream out) throws IOException {
        Checkpoint c = Checkpoint.read(from);
        ModelKinds.require(c, ModelKinds.REGRESSOR);
        Stored stored = Stored.read(c);
        TimeSeries series = readForModel(data, column, dateColumn, stored.column());
        double[] values = series.values();
        if (values.length < stored.window()) {
            throw new DataException(series.source(), "column '" + series.column() + "' has " + values.length
                    + " values; the model reads windows of " + stored.window() + " to forecast from");
        }
        CommandPaths.createParent(plot);
        try (Backend be = openBackend();
             SequenceModel model = SequenceModel.load(be, c)) {
            model.eval();
            out.println("recur forecast: " + series + " on the " + be.name() + " backend, with the model in " + from);
            out.println("  window " + stored.window() + "; target " + stored.target().id() + "; "
                    + stored.normalization() + "; " + model.config());
            double[] future = ahead(be, model, values, stored, horizon);
            printAhead(out, series, future);
            write(figure(series, values.length, new double[0], future, series.column() + ": "
                    + horizon + " values forecast past the end by the model in " + from.getFileName()));
            out.println("plot " + plot);
            return Recur.EXIT_OK;
        }
    }

    /** What inference needs besides the weights, kept in the checkpoint's metadata. */
    private record Stored(int window, Normalization normalization, ForecastWindows.Target target, double deltaScale,
                          String column) {

        void write(Checkpoint.Builder b) {
            b.metadata(WINDOW, Integer.toString(window))
                    .metadata(NORMALIZATION, normalization.toStorageString())
                    .metadata(TARGET, target.id())
                    .metadata(DELTA_SCALE, Double.toString(deltaScale))
                    .metadata(COLUMN, column);
        }

        static Stored read(Checkpoint c) throws CheckpointException {
            String window = c.metadata(WINDOW);
            String normalization = c.metadata(NORMALIZATION);
            String target = c.metadata(TARGET);
            String scale = c.metadata(DELTA_SCALE);
            if (window == null || normalization == null || target == null || scale == null) {
                throw new CheckpointException(c.source(), "a sequence-regressor model without its forecasting"
                        + " settings (window, normalisation, target): not written by recur forecast");
            }
            try {
                int w = Integer.parseInt(window);
                double s = Double.parseDouble(scale);
                if (w < 1 || !(s > 0) || Double.isInfinite(s)) {
                    throw new IllegalArgumentException("window " + window + ", delta scale " + scale);
                }
                return new Stored(w, Normalization.fromStorageString(normalization), ForecastWindows.Target.of(target),
                        s, c.metadata(COLUMN));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(c.source(), "forecasting settings are corrupt: " + e.getMessage());
            }
        }
    }

    /**
     * {@code horizon} values past the end of {@code values}: each forecast from the last W values
     * (forecasts included), one window at a time ({@code [W, 1, 1]}).
     */
    static double[] ahead(Backend be, SequenceModel model, double[] values, Stored st, int horizon) {
        int window = st.window();
        double[] recent = Arrays.copyOfRange(values, values.length - window, values.length); // [W], data units
        float[] xHost = new float[window];
        double[] future = new double[horizon];
        try (Tensor x = be.tensor(window, 1, 1)) { // [W, 1, 1]
            for (int k = 0; k < horizon; k++) {
                for (int s = 0; s < window; s++) {
                    xHost[s] = (float) st.normalization().apply(recent[s]);
                }
                x.copyFrom(xHost);
                float output = model.predict(x, null).toArray()[0];
                double next = ForecastWindows.decode(st.target(), st.normalization(), st.deltaScale(), output,
                        recent[window - 1]);
                System.arraycopy(recent, 1, recent, 0, window - 1);
                recent[window - 1] = next;
                future[k] = next;
            }
        }
        return future;
    }

    /** The forecasts past the end as CSV lines: {@code ahead,<column>} then {@code 1,<value>} and so on. */
    private static void printAhead(PrintStream out, TimeSeries series, double[] future) {
        if (future.length == 0) {
            return;
        }
        out.println("forecast past the end of the data (" + series.length() + " values), " + future.length
                + " steps, each fed back in:");
        out.println("ahead," + series.column());
        for (int k = 0; k < future.length; k++) {
            out.println((k + 1) + "," + new BigDecimal(future[k]).round(new MathContext(6)).stripTrailingZeros()
                    .toPlainString());
        }
    }

    /**
     * What the chart shows, before it is drawn: lines and shaded parts at their x values (epoch
     * milliseconds when {@code dates}, else row numbers). Package-private for tests.
     */
    record Figure(String title, String xLabel, String yLabel, boolean dates, List<Line> lines, List<Shade> shades) {

        /** A line through {@code (x[i], y[i])}. */
        record Line(String name, double[] x, double[] y) {
        }

        /** A shaded part of the x axis, labelled. */
        record Shade(double from, double to, String label) {
        }

        LinePlot draw() {
            LinePlot chart = new LinePlot(1000, 500).title(title).xLabel(xLabel).yLabel(yLabel).dateAxis(dates);
            // LinePlot draws later series on top: the forecasts, added after the data, lie over it.
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
                chart.series(l.name(), l.x(), l.y(), LinePlot.color(i));
            }
            for (Shade sh : shades) {
                chart.shade(sh.from(), sh.to(), sh.label());
            }
            return chart;
        }
    }

    /**
     * The chart of {@code series}: the data; the test part's one-step forecasts from row
     * {@code cut} (none when {@code testForecast} is empty), shaded "test"; the forecasts past the
     * end, joined to the last value, shaded "forecast". The x axis is the series' dates when it
     * has them, the future at the data's spacing ({@link TimeSeries#timesAfter}), else row
     * numbers; each shade's edges lie halfway between rows, so every point sits inside its part,
     * less a thin gap between the two shades.
     */
    static Figure figure(TimeSeries series, int cut, double[] testForecast, double[] future, String title) {
        double[] values = series.values();
        int n = values.length;
        int h = future.length;
        double[] x = new double[n + Math.max(1, h)]; // [n + max(1, H)]: rows, then steps past the end
        if (series.hasTimes()) {
            long[] times = series.times();
            long[] after = series.timesAfter(x.length - n);
            for (int i = 0; i < x.length; i++) {
                x[i] = i < n ? times[i] : after[i - n];
            }
        } else {
            for (int i = 0; i < x.length; i++) {
                x[i] = i;
            }
        }
        List<Figure.Line> lines = new ArrayList<>();
        List<Figure.Shade> shades = new ArrayList<>();
        lines.add(new Figure.Line("data", Arrays.copyOf(x, n), values));
        // The two shades are the same grey: a white gap of about 4 pixels of a 900-pixel axis keeps them apart.
        double gap = testForecast.length > 0 && h > 0 ? (x[n + h - 1] - x[0]) / 225 : 0;
        if (testForecast.length > 0) {
            lines.add(new Figure.Line("forecast, test part (one step ahead)",
                    Arrays.copyOfRange(x, cut, cut + testForecast.length), testForecast.clone()));
            shades.add(new Figure.Shade(between(x, cut), Math.max(between(x, n) - gap / 2, x[n - 1]), "test"));
        }
        if (h > 0) {
            double[] joined = new double[h + 1];
            joined[0] = values[n - 1];
            System.arraycopy(future, 0, joined, 1, h);
            lines.add(new Figure.Line("forecast past the end (" + h + " steps)", Arrays.copyOfRange(x, n - 1, n + h),
                    joined));
            double end = x[n + h - 1] + (x[n + h - 1] - x[n + h - 2]) / 2;
            double from = Math.min(between(x, n) + gap / 2, x[n]);
            // The label, left-aligned in the shade, would run off a narrow shade at the plot's right edge
            // (under about 60 pixels); the legend names the line there.
            shades.add(new Figure.Shade(from, end, (end - from) / (end - x[0]) < 0.07 ? "" : "forecast"));
        }
        String xLabel = series.hasTimes() ? series.timeColumn() : "row";
        return new Figure(title, xLabel, series.column(), series.hasTimes(), lines, shades);
    }

    /** Halfway between {@code x[i - 1]} and {@code x[i]} (half a step before {@code x[0]} for 0). */
    private static double between(double[] x, int i) {
        return i == 0 ? x[0] - (x[1] - x[0]) / 2 : (x[i - 1] + x[i]) / 2;
    }

    private void write(Figure f) throws IOException {
        try {
            f.draw().write(plot);
        } catch (IOException e) {
            throw new IOException(plot + ": cannot write the plot: " + CommandPaths.reason(e), e);
        }
    }

    // ------------------------------------------------------------------ data

    /** The series: by name, by 0-based number, or the last column of the first row; dated by {@code dates}. */
    private static TimeSeries read(Path file, String column, TimeSeries.DateColumn dates) throws DataException {
        if (column == null) {
            return TimeSeries.readCsv(file, lastColumn(file), dates);
        }
        if (column.strip().matches("\\d{1,9}")) {
            return TimeSeries.readCsv(file, Integer.parseInt(column.strip()), dates);
        }
        return TimeSeries.readCsv(file, column, dates);
    }

    /** As {@link #read}, but without --column the column the model was trained on, when the file has it by name. */
    private static TimeSeries readForModel(Path file, String column, TimeSeries.DateColumn dates, String trainedOn)
            throws DataException {
        if (column == null && trainedOn != null && !trainedOn.startsWith("column ")) {
            try {
                TimeSeries.readCsv(file, trainedOn); // is it there?
            } catch (DataException e) {
                return read(file, null, dates); // not in this file: the last column, as in training
            }
            return read(file, trainedOn, dates);
        }
        return read(file, column, dates);
    }

    /**
     * The index of the last field of the file's first non-blank row, counting commas outside
     * double quotes; 0 when the file cannot be read (then {@link TimeSeries} says why).
     */
    private static int lastColumn(Path file) {
        if (!Files.isRegularFile(file)) {
            return 0; // a pipe would block here; TimeSeries refuses it in one line
        }
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

    // ------------------------------------------------------------------ figures

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

    // ------------------------------------------------------------------ option checks

    /** {@code --normalize}: minmax, zscore or none (also min-max, z-score). */
    static final class NormalizationName implements ITypeConverter<Normalization.Kind> {
        @Override
        public Normalization.Kind convert(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "minmax", "min-max" -> Normalization.Kind.MIN_MAX;
                case "zscore", "z-score" -> Normalization.Kind.Z_SCORE;
                case "none" -> Normalization.Kind.NONE;
                default -> throw new TypeConversionException("must be minmax, zscore or none, got '" + value + "'");
            };
        }
    }

    /** {@code --date-column}: auto, none, a 0-based number or a header name. */
    static final class DateColumnName implements ITypeConverter<TimeSeries.DateColumn> {
        @Override
        public TimeSeries.DateColumn convert(String value) {
            String v = value.strip();
            if (v.isEmpty()) {
                throw new TypeConversionException("needs a column name or number, none or auto");
            }
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "auto" -> TimeSeries.DateColumn.AUTO;
                case "none" -> TimeSeries.DateColumn.NONE;
                default -> v.matches("\\d{1,9}") ? TimeSeries.DateColumn.at(Integer.parseInt(v))
                        : TimeSeries.DateColumn.named(v);
            };
        }
    }

    /** {@code --target}: delta or value. */
    static final class TargetName implements ITypeConverter<ForecastWindows.Target> {
        @Override
        public ForecastWindows.Target convert(String value) {
            try {
                return ForecastWindows.Target.of(value.strip().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
