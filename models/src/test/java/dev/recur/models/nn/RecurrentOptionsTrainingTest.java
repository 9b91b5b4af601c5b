package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.api.IndexTensor;
import dev.recur.api.LayerParams;
import dev.recur.api.PerDirection;
import dev.recur.api.State;
import dev.recur.api.StepControl;
import dev.recur.api.Tensor;
import dev.recur.api.Workspace;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cell options and step masks through the model layer on the CPU engine's option path: a
 * char-LM learns with each option, a resumed run draws what an uninterrupted one draws, the
 * stack's calls are the engine calls (the same seed, counter and mask), step masks in the model
 * API, and evaluation that does not depend on the draws.
 */
class RecurrentOptionsTrainingTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    private static final String TEXT = "the cat sat on the mat. the dog sat on the log. ";

    /** Ids of TEXT over a vocabulary of its characters, and the vocabulary size. */
    private static int[] ids() {
        String chars = TEXT.chars().distinct().sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint,
                StringBuilder::append).toString();
        int[] ids = new int[TEXT.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = chars.indexOf(TEXT.charAt(i));
        }
        return ids;
    }

    private static int vocabulary() {
        return (int) TEXT.chars().distinct().count();
    }

    /** Window w of T steps for B sequences starting at b * stride: inputs [T, B] and next-character targets. */
    private static int[][] window(int w, int steps, int batch) {
        int[] ids = ids();
        int n = ids.length;
        int[] in = new int[steps * batch];
        int[] target = new int[steps * batch];
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int pos = (w * steps + t + b * 11) % n;
                in[t * batch + b] = ids[pos];
                target[t * batch + b] = ids[(pos + 1) % n];
            }
        }
        return new int[][] {in, target};
    }

    /** Trains {@code steps} windows with Adam; returns the mean loss of the first 3 and of the last 3. */
    private static float[] train(CharModelConfig cfg, int steps) {
        int t = 8;
        int b = 4;
        try (CharLanguageModel m = new CharLanguageModel(be, cfg, 3);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(), m.parameters());
             IndexTensor in = be.indices(t, b);
             IndexTensor target = be.indices(t * b)) {
            float[] losses = new float[steps];
            for (int s = 0; s < steps; s++) {
                int[][] w = window(s, t, b);
                in.copyFrom(w[0]);
                target.copyFrom(w[1]);
                losses[s] = m.trainStep(in, target, opt, 0.02f, 5f);
                assertTrue(Float.isFinite(losses[s]), cfg + " step " + s);
            }
            return new float[] {(losses[0] + losses[1] + losses[2]) / 3,
                    (losses[steps - 3] + losses[steps - 2] + losses[steps - 1]) / 3};
        }
    }

    /** Each option alone and all together, on an LSTM and a GRU: the loss falls by a third in 60 steps. */
    @Test
    void aCharLmLearnsWithEachOption() {
        CellOptions[] options = {
            new CellOptions(true, 0f, 0f, 0f, 0),
            new CellOptions(false, 0.2f, 0f, 0f, 0),
            new CellOptions(false, 0f, 0.1f, 0.1f, 0),
            new CellOptions(false, 0f, 0f, 0f, 6),
            new CellOptions(true, 0.1f, 0.1f, 0.05f, 6),
        };
        List<String> report = new ArrayList<>();
        for (Cell cell : new Cell[] {Cell.LSTM, Cell.GRU}) {
            for (CellOptions o : options) {
                if (!cell.hasCellState() && o.zoneoutC() > 0f) {
                    o = new CellOptions(o.layerNorm(), o.recurrentDropout(), o.zoneoutH(), 0f, o.projectionSize());
                }
                CharModelConfig cfg = new CharModelConfig(vocabulary(), 8, cell, 12, 2, 0f, o);
                float[] l = train(cfg, 60);
                report.add(cell.id() + " " + o + ": " + l[0] + " -> " + l[1]);
                assertTrue(l[1] < 0.67f * l[0], cell.id() + " " + o + ": loss " + l[0] + " -> " + l[1]);
            }
        }
        System.out.println(String.join("\n", report));
    }

    /**
     * A run paused after 3 windows, saved (weights, Adam's moments through a fresh optimizer loaded
     * the same way, the extra state with the draw counter, the carried state) and resumed in a new
     * model ends bit for bit as an uninterrupted run of 6 windows, with recurrent dropout and
     * zoneout drawing at every window; without the restored counter it does not.
     */
    @Test
    void aResumedRunDrawsTheMasksOfAnUninterruptedOne() {
        CharModelConfig cfg = new CharModelConfig(vocabulary(), 6, Cell.LSTM, 10, 2, 0.1f,
                new CellOptions(false, 0.3f, 0.2f, 0.1f, 0));
        float[][] whole = runSgd(cfg, 6, -1, true);
        float[][] resumed = runSgd(cfg, 6, 3, true);
        for (int i = 0; i < whole.length; i++) {
            assertArrayEquals(whole[i], resumed[i], "parameter " + i);
        }
        float[][] forgot = runSgd(cfg, 6, 3, false);
        boolean differs = false;
        for (int i = 0; i < whole.length; i++) {
            differs |= !java.util.Arrays.equals(whole[i], forgot[i]);
        }
        assertTrue(differs, "a resume that forgets the draw counter must draw other masks");
    }

    /** SGD windows, pausing after {@code pause} (-1: never) into a new model; returns the final weights. */
    private static float[][] runSgd(CharModelConfig cfg, int steps, int pause, boolean restoreCounter) {
        int t = 6;
        int b = 3;
        CharLanguageModel m = new CharLanguageModel(be, cfg, 5);
        Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(), m.parameters());
        try (IndexTensor in = be.indices(t, b); IndexTensor target = be.indices(t * b)) {
            for (int s = 0; s < steps; s++) {
                if (s == pause) {
                    Map<String, Tensor> sd = m.stateDict();
                    Map<String, dev.recur.models.io.StoredTensor> saved = new java.util.HashMap<>();
                    sd.forEach((k, v) -> saved.put(k, new dev.recur.models.io.StoredTensor(v.shape().toArray(),
                            v.toArray())));
                    Map<String, String> extra = new java.util.HashMap<>(m.extraState());
                    if (!restoreCounter) {
                        extra.keySet().removeIf(k -> k.endsWith(StackedModel.CELL_DRAWS_SUFFIX));
                    }
                    assertTrue(!restoreCounter || Long.parseLong(extra.get(CharLanguageModel.DROPOUT_COUNTER
                            + StackedModel.CELL_DRAWS_SUFFIX)) > 0, "the counter moved: " + extra);
                    float[][][] carried = m.carriedState();
                    opt.close();
                    m.close();
                    // The model's seed, as a checkpoint stores it (Model.load builds with Checkpoint.seed()):
                    // the stack's dropout and draw seeds come from it; the weights come from the save.
                    m = new CharLanguageModel(be, cfg, 5);
                    m.loadStateDict(saved, true);
                    m.loadExtraState(extra);
                    m.restoreCarriedState(carried, t, b);
                    opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(), m.parameters());
                }
                int[][] w = window(s, t, b);
                in.copyFrom(w[0]);
                target.copyFrom(w[1]);
                m.trainStep(in, target, opt, 0.1f, 5f);
            }
            float[][] out = new float[m.parameters().size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = m.parameters().get(i).value().toArray();
            }
            return out;
        } finally {
            opt.close();
            m.close();
        }
    }

    /**
     * The stack calls the engine with the mask it was given and its own seed and counter: a
     * one-layer stack's training forward, inference and final states equal the backend's
     * layerForward / layerInference on the same parameters with StepControl(mask, seed, counter),
     * for a one-direction and a bidirectional stack; the counter then moves by
     * {@link CellOptions#draws} per direction. Batch-first input with a [B, T] mask gives the same.
     */
    @Test
    void theStacksMaskedCallsAreTheEngineCalls() {
        int t = 5;
        int b = 3;
        int in = 4;
        int h = 6;
        byte[] mask = {1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0}; // [T*B], holes anywhere
        CellOptions o = new CellOptions(true, 0.25f, 0.2f, 0.1f, 4);
        for (boolean bi : new boolean[] {false, true}) {
            RecurrentConfig cfg = RecurrentConfig.builder(Cell.LSTM, in, h).bidirectional(bi).cellOptions(o).build();
            int dirs = cfg.directions();
            int r = cfg.recurrentWidth();
            float[] xs = new float[t * b * in];
            SplittableRandom random = new SplittableRandom(4);
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) random.nextDouble(-1, 1);
            }
            try (RecurrentStack stack = new RecurrentStack(be, "", cfg, new SplittableRandom(2));
                 Tensor x = be.tensor(xs, t, b, in);
                 Tensor y = be.tensor(t, b, dirs * r);
                 Workspace ws = be.workspace(Cell.LSTM, o, t, b, in, h, bi)) {
                stack.cellDrawCounter(1000);
                float[] stackY = stack.forward(x, null, mask, null, true).toArray();
                float[] stackH = stack.finalStates()[0].h().toArray();
                assertEquals(1000 + dirs * o.draws(Cell.LSTM, t, b, h), stack.cellDrawCounter());
                StepControl control = new StepControl(mask, stack.cellDrawSeed(), 1000);
                List<Parameter> ps = stack.parameters();
                LayerParams p0 = params(ps, 0);
                State fin = new State(be.tensor(b, r), be.tensor(b, h));
                if (bi) {
                    State fin1 = new State(be.tensor(b, r), be.tensor(b, h));
                    be.bidirectionalForward(Cell.LSTM, x, null, control, null,
                            new PerDirection<>(p0, params(ps, 1)), y, new PerDirection<>(fin, fin1), ws);
                } else {
                    be.layerForward(Cell.LSTM, Direction.FORWARD, x, null, control, null, p0, y, fin, ws);
                }
                assertArrayEquals(y.toArray(), stackY, "training forward, bidirectional " + bi);
                assertArrayEquals(fin.h().toArray(), stackH);

                float[] inferred = stack.forward(x, null, mask, null, false).toArray();
                assertEquals(1000 + dirs * o.draws(Cell.LSTM, t, b, h), stack.cellDrawCounter(),
                        "inference draws nothing");
                StepControl maskOnly = new StepControl(mask, 0, 0);
                if (bi) {
                    be.bidirectionalInference(Cell.LSTM, x, null, maskOnly, null,
                            new PerDirection<>(p0, params(ps, 1)), y, null, ws);
                } else {
                    be.layerInference(Cell.LSTM, Direction.FORWARD, x, null, maskOnly, null, p0, y, null, ws);
                }
                assertArrayEquals(y.toArray(), inferred, "inference, bidirectional " + bi);
                assertFalse(java.util.Arrays.equals(stackY, inferred), "training draws, inference does not");

                // Batch-first: x [B, T, I] and the mask [B, T] give the same numbers, transposed.
                RecurrentConfig bf = RecurrentConfig.builder(Cell.LSTM, in, h).bidirectional(bi).cellOptions(o)
                        .batchFirst(true).build();
                try (RecurrentStack first = new RecurrentStack(be, "", bf, new SplittableRandom(2));
                     Tensor xb = be.tensor(t, b, in)) {
                    float[] xbf = new float[xs.length];
                    byte[] mbf = new byte[mask.length];
                    for (int s = 0; s < t; s++) {
                        for (int i = 0; i < b; i++) {
                            System.arraycopy(xs, (s * b + i) * in, xbf, (i * t + s) * in, in);
                            mbf[i * t + s] = mask[s * b + i];
                        }
                    }
                    try (Tensor xBatchFirst = be.tensor(xbf, b, t, in)) {
                        float[] yb = first.forward(xBatchFirst, null, mbf, null, false).toArray();
                        int w = dirs * r;
                        for (int s = 0; s < t; s++) {
                            for (int i = 0; i < b; i++) {
                                for (int j = 0; j < w; j++) {
                                    assertEquals(inferred[(s * b + i) * w + j], yb[(i * t + s) * w + j],
                                            "batch-first t " + s + " b " + i);
                                }
                            }
                        }
                    }
                }
                fin.h().close();
                fin.c().close();
            }
        }
    }

    /** The parameters of direction {@code d} of layer 0 of a one-layer stack, in the stack's order. */
    private static LayerParams params(List<Parameter> ps, int d) {
        Map<String, Tensor> byName = new java.util.HashMap<>();
        String sfx = "_l0" + (d == 1 ? "_reverse" : "");
        for (Parameter p : ps) {
            if (p.name().endsWith(sfx)) {
                byName.put(p.name().substring(0, p.name().length() - sfx.length()), p.value());
            }
        }
        dev.recur.api.LayerNormParams ln = byName.containsKey("ln_ih_weight")
                ? new dev.recur.api.LayerNormParams(byName.get("ln_ih_weight"), byName.get("ln_ih_bias"),
                byName.get("ln_hh_weight"), byName.get("ln_hh_bias"), byName.get("ln_c_weight"),
                byName.get("ln_c_bias")) : null;
        return new LayerParams(byName.get("weight_ih"), byName.get("weight_hh"), byName.get("bias_ih"),
                byName.get("bias_hh"), byName.get("weight_peephole"), byName.get("weight_hr"), ln);
    }

    /**
     * Step masks in the classifier's API (one direction): a mask whose holes are each sequence's
     * trailing steps gives the scores that the same lengths give (a skipped step and a padded one
     * both leave the state as it was), and a hole in the middle gives the scores of the sequence
     * without that step. Evaluation is deterministic and does not depend on the draw counter.
     */
    @Test
    void stepMasksInTheClassifierAndDeterministicEvaluation() {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(20, 5, Cell.LSTM, 8, 2, false, 0.2f, 3)
                .withOptions(new CellOptions(true, 0.2f, 0.1f, 0.1f, 5));
        int t = 6;
        int b = 3;
        int[] ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
        int[] lengths = {6, 4, 2};
        byte[] trailing = new byte[t * b];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < b; i++) {
                trailing[s * b + i] = (byte) (s < lengths[i] ? 1 : 0);
            }
        }
        try (SequenceModel m = new SequenceModel(be, cfg, 7);
             IndexTensor x = be.indices(t, b)) {
            x.copyFrom(ids);
            float[] byLengths = m.predict(x, lengths).toArray();
            float[] byMask = m.predict(x, null, trailing).toArray();
            assertArrayEquals(byLengths, byMask, 1e-6f, "trailing holes = lengths");
            m.rnn().cellDrawCounter(12345);
            assertArrayEquals(byLengths, m.predict(x, lengths).toArray(), "evaluation ignores the draws");
            assertArrayEquals(byLengths, m.predict(x, lengths).toArray(), "evaluation is deterministic");

            // Sequence 1 skips step 2: the same scores as that sequence with step 2 removed.
            byte[] hole = trailing.clone();
            hole[2 * b + 1] = 0;
            float[] holed = m.predict(x, lengths, hole).toArray();
            int[] removed = new int[t * b];
            for (int s = 0, k = 0; s < t; s++) {
                if (s == 2) {
                    continue;
                }
                removed[k * b + 1] = ids[s * b + 1];
                k++;
            }
            try (IndexTensor one = be.indices(t, b)) {
                one.copyFrom(removed);
                float[] direct = m.predict(one, new int[] {1, 3, 1}).toArray();
                for (int j = 0; j < 3; j++) {
                    assertEquals(direct[3 + j], holed[3 + j], 1e-5f, "class " + j);
                }
                assertNotEquals(byLengths[3], holed[3], "the hole changed sequence 1's scores");
                assertEquals(byLengths[0], holed[0], "the other sequences are untouched");
            }
        }
    }
}
