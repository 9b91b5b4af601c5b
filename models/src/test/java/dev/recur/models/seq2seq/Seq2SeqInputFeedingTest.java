package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.recur.models.seq2seq.Seq2SeqModelTest.BOS;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.EOS;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.IGNORE;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.MAX;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.SYMBOLS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Input feeding (Luong et al. 2015): every parameter's gradient, the encoder's included, against
 * central differences of the loss through the step-by-step decoder; the training forward (per-step
 * cell ops) equal to the inference path (the recurrent stack one step at a time) on the words
 * greedy decoding chose; a beam of one equal to greedy decoding word for word; the configuration's
 * JSON, save and load; input feeding without attention refused.
 */
class Seq2SeqInputFeedingTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    static float loss(Seq2SeqModel model, Seq2SeqModelTest.Batch data) {
        return Seq2SeqModelTest.loss(be, model, data);
    }

    static Seq2SeqConfig config(Cell cell, int layers, boolean bidirectional, Attention.Kind kind) {
        return new Seq2SeqConfig(cell, 2 + SYMBOLS, 4 + SYMBOLS, 3, 4, layers, 0f, bidirectional, kind, true);
    }

    /**
     * As Seq2SeqAttentionTest's check (float32 losses of order 1, a step of 1e-2, noise ~1e-4):
     * a gradient that does not flow through h~ into the earlier steps, or misses the encoder's
     * outputs or initial states, is off by far more.
     */
    @Test
    void everyGradientMatchesFiniteDifferences() {
        Seq2SeqModelTest.Batch data = Seq2SeqModelTest.Batch.random(new Random(5), 3);
        for (Seq2SeqConfig cfg : new Seq2SeqConfig[] {
            config(Cell.GRU, 1, false, Attention.Kind.DOT),
            config(Cell.LSTM, 2, false, Attention.Kind.GENERAL),
            config(Cell.GRU, 2, true, Attention.Kind.ADDITIVE),
            config(Cell.LSTM, 1, true, Attention.Kind.GENERAL),
            config(Cell.RNN_TANH, 1, false, Attention.Kind.GENERAL),
            config(Cell.LSTM_PEEPHOLE, 2, false, Attention.Kind.DOT)}) {
            String what = cfg.cell().id() + " " + cfg.attention().id() + (cfg.bidirectionalEncoder() ? " bi" : "")
                    + " layers " + cfg.layers();
            try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 3);
                 Optimizer sgd = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(),
                         model.parameters())) {
                assertEquals(cfg.parameterCount(), model.parameterCount(), what + ": parameter count");
                Seq2SeqModelTest.step(be, model, data, sgd, 0f, 0f); // lr 0: the gradients, weights untouched
                java.util.Set<String> allZero = new java.util.TreeSet<>();
                int checked = Seq2SeqModelTest.checkGradients(be, model, data, what, allZero);
                for (String name : allZero) {
                    assertTrue(name.startsWith("encoder.embedding.") || name.startsWith("decoder.embedding."),
                            what + " " + name + ": all zero");
                }
                assertTrue(checked > 50, what + ": " + checked + " entries checked");
            }
        }
    }

    /**
     * The decoder's weight_ih_l0 has E + H input columns, and its h~ columns get a gradient: the
     * attentional state is fed back. The columns of step 0's input are zero (h~_{-1} = 0), so
     * with one target word only (BOS → EOS) those columns' gradient is exactly zero.
     */
    @Test
    void theFedColumnsOfTheInputWeightsLearnOnlyFromLaterSteps() {
        Seq2SeqConfig cfg = config(Cell.GRU, 1, false, Attention.Kind.GENERAL);
        try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 3);
             Optimizer sgd = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(),
                     model.parameters())) {
            Parameter wih = model.parameters().stream().filter(p -> p.name().equals("decoder.rnn.weight_ih_l0"))
                    .findFirst().orElseThrow();
            assertEquals(cfg.embedding() + cfg.hidden(), wih.value().shape().dim(1));
            int e = cfg.embedding();
            int in = e + cfg.hidden();
            for (boolean longer : new boolean[] {false, true}) {
                sgd.zeroGrad();
                // One source sentence; its target is one word (then EOS), or, longer, all MAX words.
                int[][] sentences = {longer ? new int[] {1, 2, 3, 4} : new int[] {1}};
                Seq2SeqModelTest.Batch data = Seq2SeqModelTest.Batch.of(sentences);
                if (!longer) {
                    data = oneWordTarget(data);
                }
                Seq2SeqModelTest.step(be, model, data, sgd, 0f, 0f);
                float[] g = wih.grad().toArray(); // [3G, E + H]
                double fed = 0;
                double embedded = 0;
                for (int r = 0; r < g.length / in; r++) {
                    for (int c = 0; c < in; c++) {
                        if (c < e) {
                            embedded += Math.abs(g[r * in + c]);
                        } else {
                            fed += Math.abs(g[r * in + c]);
                        }
                    }
                }
                assertTrue(embedded > 0, "the embedding's columns learn");
                if (longer) {
                    assertTrue(fed > 1e-4, "h~ columns learn from steps 1.., got " + fed);
                } else {
                    assertEquals(0.0, fed, 0.0, "h~_{-1} = 0: no gradient for its columns");
                }
            }
        }
    }

    /** The batch's first sentence with a target of BOS → EOS alone (one step). */
    private static Seq2SeqModelTest.Batch oneWordTarget(Seq2SeqModelTest.Batch d) {
        int[] input = d.decoderInput().clone();
        int[] target = new int[input.length];
        Arrays.fill(target, IGNORE);
        target[0] = EOS;
        int[] targetLengths = {1};
        return new Seq2SeqModelTest.Batch(d.source(), d.sourceLengths(), input, targetLengths, target, d.sentences());
    }

    /** A model trained for a few steps on reversal, so its words vary from sentence to sentence. */
    private static Seq2SeqModel trained(Seq2SeqConfig cfg) {
        Seq2SeqModel model = new Seq2SeqModel(be, cfg, 11);
        Random r = new Random(7);
        try (Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                model.parameters())) {
            for (int i = 0; i < 60; i++) {
                Seq2SeqModelTest.step(be, model, Seq2SeqModelTest.Batch.random(r, 32), opt, 0.01f, 5f);
            }
        }
        model.eval();
        return model;
    }

    /**
     * Teacher forcing on the words greedy decoding chose gives the loss of greedy decoding's own
     * logits: the training path (per-step cell ops, h~ copied into the next input) and the
     * inference path (the recurrent stack one step at a time) compute the same decoder.
     */
    @Test
    void teacherForcingOnGreedyWordsGivesGreedyDecodingsLogits() {
        for (Cell cell : new Cell[] {Cell.GRU, Cell.LSTM}) {
            Seq2SeqConfig cfg = new Seq2SeqConfig(cell, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 2, 0f, false,
                    Attention.Kind.GENERAL, true);
            try (Seq2SeqModel model = trained(cfg)) {
                Seq2SeqModelTest.Batch held = Seq2SeqModelTest.Batch.random(new Random(96), 8);
                int v = cfg.targetVocabulary();
                for (int i = 0; i < held.batch(); i++) {
                    int n = held.sourceLengths()[i];
                    int[] source = new int[MAX];
                    for (int t = 0; t < MAX; t++) {
                        source[t] = held.source()[t * held.batch() + i];
                    }
                    List<float[]> logits = new ArrayList<>();
                    int[] words;
                    try (IndexTensor src = be.indices(source, MAX, 1)) {
                        words = model.translate(src, new int[] {n}, BOS, EOS, MAX, (t, l) -> logits.add(l))[0];
                    }
                    boolean ended = logits.size() > words.length; // the last step chose EOS
                    int tokens = words.length + (ended ? 1 : 0);
                    int[] input = new int[MAX + 1];
                    int[] target = new int[MAX + 1];
                    Arrays.fill(target, IGNORE);
                    input[0] = BOS;
                    double nll = 0;
                    for (int t = 0; t < tokens; t++) {
                        int word = t < words.length ? words[t] : EOS;
                        target[t] = word;
                        if (t + 1 <= MAX) {
                            input[t + 1] = word;
                        }
                        float[] l = logits.get(t);
                        double max = Double.NEGATIVE_INFINITY;
                        for (float x : l) {
                            max = Math.max(max, x);
                        }
                        double sum = 0;
                        for (float x : l) {
                            sum += Math.exp(x - max);
                        }
                        nll += max + Math.log(sum) - l[word];
                    }
                    assertEquals(v, logits.get(0).length);
                    float loss;
                    try (IndexTensor src = be.indices(source, MAX, 1);
                         IndexTensor in = be.indices(input, MAX + 1, 1);
                         IndexTensor tgt = be.indices(target, MAX + 1)) {
                        loss = model.loss(src, new int[] {n}, in, new int[] {Math.max(1, tokens)}, tgt, IGNORE);
                    }
                    assertEquals(nll / tokens, loss, 1e-5 * (1 + nll / tokens), cell.id() + " sentence " + i);
                }
            }
        }
    }

    @Test
    void aBeamOfOneIsGreedyDecodingWordForWord() {
        for (Attention.Kind kind : new Attention.Kind[] {Attention.Kind.DOT, Attention.Kind.GENERAL,
            Attention.Kind.ADDITIVE}) {
            Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 1, 0f, false, kind, true);
            try (Seq2SeqModel model = trained(cfg)) {
                Seq2SeqModelTest.Batch held = Seq2SeqModelTest.Batch.random(new Random(99), 40);
                for (int maxLength : new int[] {2, MAX + 2}) {
                    try (IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
                        int[][] greedy = model.translate(src, held.sourceLengths(), BOS, EOS, maxLength);
                        BeamSearch.Hypothesis[] beam = model.beamSearch(src, held.sourceLengths(), BOS, EOS,
                                maxLength, 1, 0.6);
                        int differentFromFirst = 0;
                        for (int i = 0; i < held.batch(); i++) {
                            assertArrayEquals(greedy[i], beam[i].words(), kind.id() + " sentence " + i + " maxLength "
                                    + maxLength);
                            differentFromFirst += Arrays.equals(greedy[i], greedy[0]) ? 0 : 1;
                        }
                        assertTrue(differentFromFirst > 10, kind.id() + ": the translations vary ("
                                + differentFromFirst + " differ from the first)");
                    }
                }
                // A wider beam decodes each sentence as it does alone: h~ follows its beam's rows.
                try (IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
                    BeamSearch.Hypothesis[] beam = model.beamSearch(src, held.sourceLengths(), BOS, EOS, MAX + 2, 3,
                            0.6);
                    for (int i = 0; i < 6; i++) {
                        int[] one = new int[MAX];
                        for (int t = 0; t < MAX; t++) {
                            one[t] = held.source()[t * held.batch() + i];
                        }
                        try (IndexTensor alone = be.indices(one, MAX, 1)) {
                            BeamSearch.Hypothesis a = model.beamSearch(alone, new int[] {held.sourceLengths()[i]}, BOS,
                                    EOS, MAX + 2, 3, 0.6)[0];
                            assertArrayEquals(beam[i].words(), a.words(), kind.id() + " sentence " + i + " alone");
                            assertEquals(beam[i].score(), a.score(), 1e-5, kind.id() + " sentence " + i + " alone");
                        }
                    }
                }
            }
        }
    }

    /** Input feeding learns reversal, with dropout between two decoder layers (the per-step masks). */
    @Test
    void itLearnsReversalWithDropoutBetweenLayers() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 2 + SYMBOLS, 4 + SYMBOLS, 16, 32, 2, 0.1f, false,
                Attention.Kind.GENERAL, true);
        Random r = new Random(3);
        try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 1);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters())) {
            Seq2SeqModelTest.Batch heldOut = Seq2SeqModelTest.Batch.random(new Random(42), 64);
            float first = loss(model, heldOut);
            for (int i = 0; i < 300; i++) {
                Seq2SeqModelTest.step(be, model, Seq2SeqModelTest.Batch.random(r, 32), opt, 0.01f, 1f);
            }
            model.eval();
            float last = loss(model, heldOut);
            assertTrue(last < 0.5f * first, "held-out loss " + first + " -> " + last);
            assertTrue(Long.parseLong(model.extraState().get(Seq2SeqModel.DECODER_DROPOUT_COUNTER)) > 0,
                    "the decoder's dropout stream advanced");
        }
    }

    @Test
    void configRoundTripsAndOnlyInputFeedingWritesItsField() {
        Seq2SeqConfig fed = new Seq2SeqConfig(Cell.LSTM, 11, 13, 5, 7, 2, 0.25f, true, Attention.Kind.ADDITIVE, true);
        assertEquals(fed, Seq2SeqConfig.fromJson(fed.toJson()));
        assertTrue(fed.toJson().contains("\"input_feeding\":1"), fed.toJson());
        Seq2SeqConfig plain = new Seq2SeqConfig(Cell.LSTM, 11, 13, 5, 7, 2, 0.25f, true, Attention.Kind.ADDITIVE);
        assertFalse(plain.inputFeeding());
        assertFalse(plain.toJson().contains("input_feeding"), plain.toJson());
        assertEquals(plain, Seq2SeqConfig.fromJson(plain.toJson()));
        assertNotEquals(plain.parameterCount(), fed.parameterCount());
        // The decoder's weight_ih grows by H columns per gate row of layer 0.
        assertEquals(plain.parameterCount() + (long) 4 * 7 * 7, fed.parameterCount());
        assertEquals(fed, Seq2SeqConfig.fromJson(fed.toJson().replace("\"input_feeding\":1", "\"input_feeding\":true")));
    }

    @Test
    void inputFeedingWithoutAttentionIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Seq2SeqConfig(Cell.GRU, 7, 9, 8, 8, 1, 0f, false, Attention.Kind.NONE, true));
        assertEquals("seq2seq: input feeding feeds the attentional state h~ back into the decoder, so it needs"
                + " attention (additive, dot or general), got attention none", e.getMessage());
        String json = new Seq2SeqConfig(Cell.GRU, 7, 9, 8, 8, 1, 0f).toJson().replace("}", ",\"input_feeding\":1}");
        e = assertThrows(IllegalArgumentException.class, () -> Seq2SeqConfig.fromJson(json));
        assertTrue(e.getMessage().contains("input feeding"), e.getMessage());
    }

    @Test
    void aModelWithInputFeedingSavesAndLoads(@TempDir Path dir) throws Exception {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 1, 0f, true,
                Attention.Kind.ADDITIVE, true);
        Path file = dir.resolve("fed.safetensors");
        Seq2SeqModelTest.Batch held = Seq2SeqModelTest.Batch.random(new Random(97), 20);
        int[][] before;
        float lossBefore;
        try (Seq2SeqModel model = trained(cfg); IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
            before = model.translate(src, held.sourceLengths(), BOS, EOS, MAX + 2);
            lossBefore = loss(model, held);
            model.save(file);
        }
        assertTrue(Checkpoint.read(file).modelConfig().contains("\"input_feeding\":1"));
        try (Seq2SeqModel loaded = Seq2SeqModel.load(be, Checkpoint.read(file));
             IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
            assertEquals(cfg, loaded.config());
            loaded.eval();
            int[][] after = loaded.translate(src, held.sourceLengths(), BOS, EOS, MAX + 2);
            for (int i = 0; i < before.length; i++) {
                assertArrayEquals(before[i], after[i], "sentence " + i);
            }
            assertEquals(lossBefore, loss(loaded, held), 0f);
        }
    }
}
