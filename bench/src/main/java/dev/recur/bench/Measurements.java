package dev.recur.bench;

import dev.recur.api.Backend;
import dev.recur.api.Cell;

import java.util.function.DoubleSupplier;

/**
 * The measurements of {@code recur bench}, each returned as the {@link JsonLine} it prints.
 * Every one times its work with {@link Timing} (warm-up runs, then the median of timed runs) and
 * converts the time to GFLOP/s with {@link Flops} and to a share of the measured FMA peak.
 *
 * <p>Field names: {@code engine} (an engine name, or {@code dl4j}), the shape in the letters of
 * DESIGN.md ({@code B, I, H, T}; {@code M, N, K} for a GEMM), times in milliseconds
 * ({@code *_ms}), {@code gflops} (of the training step for a layer), {@code peak_share}
 * ({@code gflops} over {@code peak_gflops}, the best of the FMA peak's passes or {@code --peak}),
 * and, when the peak is measured, {@code peak_share_paired}: the median over the timed runs of each
 * run's GFLOP/s over a short FMA peak pass taken right after it ({@code paired_peak_gflops} is the
 * median of those passes), which sets each run against what a shared machine offered just then.
 */
public final class Measurements {

    /** Seed of every input and weight, so that runs see the same numbers. */
    static final long SEED = 20240601L;

    private Measurements() {
    }

    /**
     * One layer's shape: one direction, T steps of B sequences, I inputs, H hidden units.
     */
    public record LayerShape(Cell cell, int batch, int input, int hidden, int steps) {

        public long forwardFlops() {
            return Flops.layerForward(cell, batch, input, hidden, steps);
        }

        public long trainFlops() {
            return Flops.layerTrain(cell, batch, input, hidden, steps);
        }

        /** E.g. {@code lstm B=64 I=512 H=512 T=100}. */
        public String label() {
            return cell.id() + " B=" + batch + " I=" + input + " H=" + hidden + " T=" + steps;
        }
    }

    /**
     * The FMA peak the shares are of.
     *
     * @param gflops the peak: the best of {@link FmaPeak#measure}'s passes, or a given number
     * @param probe  short passes to take after each timed run, or null (a given peak)
     */
    public record Peak(double gflops, FmaPeak.Probe probe) {

        /** Seconds of one paired pass: short beside a timed run, long enough to time. */
        static final double PAIRED_PASS_SECONDS = 0.05;
        /** Pause before a paired pass, for the measured work's threads to go idle (see FmaPeak.Probe). */
        static final long PAIRED_SETTLE_MILLIS = 150;

        /** A peak given by the user: no paired passes. */
        public static Peak given(double gflops) {
            return new Peak(gflops, null);
        }

        /** A measured peak, with paired passes of {@value #PAIRED_PASS_SECONDS} s. */
        public static Peak measured(FmaPeak.Result r) {
            return new Peak(r.gflops(), FmaPeak.Probe.of(r, PAIRED_PASS_SECONDS, PAIRED_SETTLE_MILLIS));
        }

        DoubleSupplier after() {
            return probe == null ? null : probe::gflops;
        }

        /**
         * This peak for the engine named {@code engine}: paired passes only on the CPU engine. On any
         * other engine the work runs on another device, so a CPU pass beside it says nothing of what
         * that device offered (and its threads would take the cores that drive the device).
         */
        Peak forEngine(String engine) {
            return probe == null || CPU_ENGINE.equals(engine) ? this : new Peak(gflops, null);
        }
    }

    /** The name of the CPU engine, the only one whose runs are paired with FMA passes. */
    static final String CPU_ENGINE = "cpu";

    /** How many runs: {@code warmup} untimed, then {@code iters} timed. */
    public record Runs(int warmup, int iters) {
        public Runs {
            if (warmup < 0 || iters < 1) {
                throw new IllegalArgumentException("need warmup >= 0 and iters >= 1, got " + warmup + ", " + iters);
            }
        }
    }

    /** A Recur engine's training step ({@code layerForward} + {@code layerBackward}) and forward. */
    public static JsonLine recurLayer(Backend backend, LayerShape s, Runs runs, Peak given) throws Exception {
        Peak peak = given.forEngine(backend.name());
        try (RecurWorkloads.Layer layer = new RecurWorkloads.Layer(backend, s.cell(), s.batch(), s.input(), s.hidden(),
                s.steps(), SEED)) {
            Timing.Result train = Timing.measure(runs.warmup(), runs.iters(), layer::trainStep, peak.after());
            Timing.Result forward = Timing.measure(runs.warmup(), runs.iters(), layer::forward);
            Timing.Result inference = Timing.measure(runs.warmup(), runs.iters(), layer::inference);
            JsonLine line = layerLine(backend.name(), s, train, forward, runs, peak);
            return line.put("inference_ms", inference.medianMs())
                    .put("inference_gflops", Flops.gflops(s.forwardFlops(), inference.medianMs()));
        }
    }

    /**
     * One layer's training step with cell options ({@link RecurWorkloads.OptionLayer}): its time,
     * and GFLOP/s with what the options add counted ({@link Flops#layerTrain(Cell,
     * dev.recur.api.CellOptions, int, int, int, int)}).
     */
    public static JsonLine recurOptionLayer(Backend backend, Cell cell, String row, dev.recur.api.CellOptions options,
                                            int batch, int input, int hidden, int steps, Runs runs) throws Exception {
        try (RecurWorkloads.OptionLayer layer = new RecurWorkloads.OptionLayer(backend, cell, options, batch, input,
                hidden, steps, SEED)) {
            Timing.Result train = Timing.measure(runs.warmup(), runs.iters(), layer::trainStep);
            long flops = Flops.layerTrain(cell, options, batch, input, hidden, steps);
            return new JsonLine()
                    .put("engine", backend.name())
                    .put("op", "cell_options")
                    .put("row", row)
                    .put("options", options.toString())
                    .put("cell", cell.id())
                    .put("B", batch)
                    .put("I", input)
                    .put("H", hidden)
                    .put("T", steps)
                    .put("train_step_ms", train.medianMs())
                    .put("train_step_min_ms", train.minMs())
                    .put("train_flops", flops)
                    .put("gflops", Flops.gflops(flops, train.medianMs()))
                    .put("flops_note", "3 x forward; forward per step and sequence: 2GH(I+R) + 2PH GEMMs, layer norm "
                            + Flops.LAYER_NORM_PER_ELEMENT + "/element of 2G blocks of H (+H for c), dropout "
                            + Flops.RECURRENT_DROPOUT_PER_ELEMENT + "/element of R, zoneout "
                            + Flops.ZONEOUT_PER_ELEMENT + "/element of h and c")
                    .put("warmup", runs.warmup())
                    .put("iters", runs.iters());
        }
    }

    /** DL4J's training step ({@code computeGradientAndScore}) and forward ({@code output}) on the same shape. */
    public static JsonLine dl4jLayer(LayerShape s, Runs runs, Peak peak) throws Exception {
        Dl4jPeer.LayerWorkload layer = new Dl4jPeer.LayerWorkload(s.cell(), s.batch(), s.input(), s.hidden(), s.steps(),
                SEED);
        Timing.Result train = Timing.measure(runs.warmup(), runs.iters(), layer::trainStep, peak.after());
        Timing.Result forward = Timing.measure(runs.warmup(), runs.iters(), layer::forward);
        return layerLine(Dl4jPeer.NAME, s, train, forward, runs, peak);
    }

    private static JsonLine layerLine(String engine, LayerShape s, Timing.Result train, Timing.Result forward, Runs runs,
                                      Peak peak) {
        double gflops = Flops.gflops(s.trainFlops(), train.medianMs());
        JsonLine line = new JsonLine()
                .put("engine", engine)
                .put("cell", s.cell().id())
                .put("B", s.batch())
                .put("I", s.input())
                .put("H", s.hidden())
                .put("T", s.steps())
                .put("train_step_ms", train.medianMs())
                .put("forward_ms", forward.medianMs())
                .put("gflops", gflops)
                .put("peak_share", gflops / peak.gflops())
                .put("forward_gflops", Flops.gflops(s.forwardFlops(), forward.medianMs()))
                .put("peak_gflops", peak.gflops())
                .put("train_step_min_ms", train.minMs())
                .put("warmup", runs.warmup())
                .put("iters", runs.iters());
        return paired(line, train, s.trainFlops());
    }

    /** A Recur engine's {@code gemm}: {@code C[M, N] = A[M, K] · op(B)}. */
    public static JsonLine recurGemm(Backend backend, int m, int n, int k, boolean transB, Runs runs, Peak given)
            throws Exception {
        Peak peak = given.forEngine(backend.name());
        try (RecurWorkloads.Gemm gemm = new RecurWorkloads.Gemm(backend, m, n, k, transB, SEED)) {
            Timing.Result t = Timing.measure(runs.warmup(), runs.iters(), gemm::run, peak.after());
            return gemmLine(backend.name(), m, n, k, transB, t, runs, peak);
        }
    }

    /** ND4J's {@code gemm} (OpenBLAS sgemm) on the same shape. */
    public static JsonLine nd4jGemm(int m, int n, int k, boolean transB, Runs runs, Peak peak) throws Exception {
        Dl4jPeer.GemmWorkload gemm = new Dl4jPeer.GemmWorkload(m, n, k, transB, SEED);
        Timing.Result t = Timing.measure(runs.warmup(), runs.iters(), gemm::run, peak.after());
        return gemmLine(Dl4jPeer.NAME, m, n, k, transB, t, runs, peak);
    }

    private static JsonLine gemmLine(String engine, int m, int n, int k, boolean transB, Timing.Result t, Runs runs,
                                     Peak peak) {
        double gflops = Flops.gflops(Flops.gemm(m, n, k), t.medianMs());
        JsonLine line = new JsonLine()
                .put("engine", engine)
                .put("op", "sgemm")
                .put("M", m)
                .put("N", n)
                .put("K", k)
                .put("trans_b", transB)
                .put("ms", t.medianMs())
                .put("gflops", gflops)
                .put("peak_share", gflops / peak.gflops())
                .put("peak_gflops", peak.gflops())
                .put("min_ms", t.minMs())
                .put("warmup", runs.warmup())
                .put("iters", runs.iters());
        return paired(line, t, Flops.gemm(m, n, k));
    }

    /** Adds {@code peak_share_paired} and {@code paired_peak_gflops} when the runs were paired with peak passes. */
    private static JsonLine paired(JsonLine line, Timing.Result t, long flops) {
        if (t.after().length == 0) {
            return line;
        }
        // flops / ms / 1e6 is GFLOP/s, so the work in MFLOP over ms over GFLOP/s is the share.
        return line.put("peak_share_paired", t.medianShare(flops / 1e6))
                .put("paired_peak_gflops", t.medianAfter());
    }

    /** The FMA peak ({@link FmaPeak}) as a line. */
    public static JsonLine peakLine(FmaPeak.Result p) {
        return new JsonLine()
                .put("op", "fma_peak")
                .put("threads", p.threads())
                .put("vector_bits", p.vectorBits())
                .put("lanes", p.lanes())
                .put("chains", FmaPeak.CHAINS)
                .put("passes", p.passes())
                .put("seconds", p.seconds())
                .put("gflops", p.gflops());
    }
}
