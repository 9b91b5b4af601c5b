package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static dev.recur.models.seq2seq.Seq2SeqModelTest.BOS;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.EOS;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.MAX;
import static dev.recur.models.seq2seq.Seq2SeqModelTest.SYMBOLS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder-decoder with attention: every parameter's gradient (the encoder's now also reached
 * through its outputs) against central differences of the loss; greedy decoding equal to a beam
 * of one, word for word; attention weights of a beam search's best hypothesis; the
 * configuration's JSON with and without attention; save and load.
 */
class Seq2SeqAttentionTest {

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
        return new Seq2SeqConfig(cell, 2 + SYMBOLS, 4 + SYMBOLS, 3, 4, layers, 0f, bidirectional, kind);
    }

    /**
     * As Seq2SeqModelTest's check of the model without attention: float32 losses of order 1, a
     * step of 1e-2, so the quotient carries noise ~1e-4; a missing or misrouted gradient is off by
     * far more. The attention module's own gradients are checked in float64 by AttentionTest.
     */
    @Test
    void everyGradientMatchesFiniteDifferences() {
        Seq2SeqModelTest.Batch data = Seq2SeqModelTest.Batch.random(new Random(5), 3);
        for (Seq2SeqConfig cfg : new Seq2SeqConfig[] {
            config(Cell.GRU, 1, false, Attention.Kind.DOT),
            config(Cell.LSTM, 2, false, Attention.Kind.GENERAL),
            config(Cell.GRU, 1, true, Attention.Kind.ADDITIVE),
            config(Cell.LSTM, 1, true, Attention.Kind.GENERAL)}) {
            String what = cfg.cell().id() + " " + cfg.attention().id() + (cfg.bidirectionalEncoder() ? " bi" : "")
                    + " layers " + cfg.layers();
            try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 3);
                 Optimizer sgd = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(),
                         model.parameters())) {
                assertEquals(cfg.parameterCount(), model.parameterCount(), what + ": parameter count");
                Seq2SeqModelTest.step(be, model, data, sgd, 0f, 0f); // lr 0: the gradients, weights untouched
                int checked = Seq2SeqModelTest.checkGradients(be, model, data, what, null);
                assertTrue(model.parameters().stream().anyMatch(p -> p.name().startsWith("decoder.attention.")),
                        what);
                assertTrue(checked > 50, what + ": " + checked + " entries checked");
            }
        }
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

    @Test
    void aBeamOfOneIsGreedyDecodingWordForWord() {
        for (Attention.Kind kind : Attention.Kind.values()) {
            Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 1, 0f, false, kind);
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
            }
        }
    }

    @Test
    void aBeamSearchKeepsTheBestHypothesissAttentionWeights() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 1, 0f, false,
                Attention.Kind.GENERAL);
        try (Seq2SeqModel model = trained(cfg)) {
            Seq2SeqModelTest.Batch held = Seq2SeqModelTest.Batch.random(new Random(98), 12);
            try (IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
                BeamSearch.Hypothesis[] beam = model.beamSearch(src, held.sourceLengths(), BOS, EOS, MAX + 2, 4, 0.6);
                for (int i = 0; i < held.batch(); i++) {
                    BeamSearch.Hypothesis h = beam[i];
                    int len = held.sourceLengths()[i];
                    assertTrue(h.attention().length == h.words().length
                            || h.attention().length == h.words().length + 1, "a row per token");
                    for (float[] row : h.attention()) {
                        assertEquals(MAX, row.length);
                        double sum = 0;
                        for (int s = 0; s < MAX; s++) {
                            if (s >= len) {
                                assertEquals(0f, row[s], 0f, "sentence " + i + ": a padded source position");
                            }
                            sum += row[s];
                        }
                        assertEquals(1, sum, 1e-5, "sentence " + i + ": the weights sum to 1");
                    }
                    // The same sentence decoded alone by the same beam gives the same hypothesis.
                    int[] one = new int[MAX];
                    for (int t = 0; t < MAX; t++) {
                        one[t] = held.source()[t * held.batch() + i];
                    }
                    try (IndexTensor alone = be.indices(one, MAX, 1)) {
                        BeamSearch.Hypothesis a = model.beamSearch(alone, new int[] {len}, BOS, EOS, MAX + 2, 4,
                                0.6)[0];
                        assertArrayEquals(h.words(), a.words(), "sentence " + i + " alone");
                        assertEquals(h.score(), a.score(), 1e-5, "sentence " + i + " alone");
                    }
                }
            }
        }
        try (Seq2SeqModel plain = new Seq2SeqModel(be, config(Cell.GRU, 1, false, Attention.Kind.NONE), 1);
             IndexTensor src = be.indices(new int[] {2, 3}, 2, 1)) {
            assertNull(plain.beamSearch(src, new int[] {2}, BOS, EOS, 3, 2, 0)[0].attention());
        }
    }

    @Test
    void configWithAttentionRoundTripsAndOldConfigsHaveNone() {
        for (Attention.Kind kind : Attention.Kind.values()) {
            Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 11, 13, 5, 7, 2, 0.25f, kind != Attention.Kind.DOT,
                    kind);
            assertEquals(cfg, Seq2SeqConfig.fromJson(cfg.toJson()));
            assertEquals(kind != Attention.Kind.NONE, cfg.toJson().contains("\"attention\""), cfg.toJson());
        }
        // What Recur wrote before attention existed.
        String old = "{\"model\":\"seq2seq\",\"cell\":\"gru\",\"source_vocabulary\":11,\"target_vocabulary\":13,"
                + "\"embedding\":5,\"hidden\":7,\"layers\":1,\"dropout\":0.0,\"bidirectional_encoder\":0}";
        assertEquals(Attention.Kind.NONE, Seq2SeqConfig.fromJson(old).attention());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Seq2SeqConfig.fromJson(old.replace("}", ",\"attention\":\"luong\"}")));
        assertEquals("attention must be one of none, additive, dot, general; got 'luong'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Seq2SeqConfig(Cell.GRU, 7, 9, 8, 8, 1, 0f, true, Attention.Kind.DOT));
        assertEquals("seq2seq: dot attention needs encoder outputs of the decoder's size 8, a bidirectional encoder"
                + " gives 16; use general or additive", e.getMessage());
    }

    /**
     * A checkpoint written by Recur before attention existed (commit fdda618; generator and
     * provenance in src/test/resources/checkpoints) loads as a model without attention and
     * translates as that code did, greedily and with a beam of one.
     */
    @Test
    void aCheckpointFromBeforeAttentionLoadsAndTranslatesAsItDid() throws Exception {
        Checkpoint c = Checkpoint.read(Path.of("src/test/resources/checkpoints/seq2seq-pre-attention.safetensors"));
        assertTrue(!c.modelConfig().contains("attention"), c.modelConfig());
        try (Seq2SeqModel model = Seq2SeqModel.load(be, c);
             IndexTensor src = be.indices(new int[] {2, 3, 4, 5, 6, 2, 0, 3, 4, 0, 0, 6}, 3, 4)) {
            assertEquals(Attention.Kind.NONE, model.config().attention());
            model.eval();
            int[] lengths = {3, 2, 1, 3};
            assertEquals(c.metadata("greedy"), Arrays.deepToString(model.translate(src, lengths, 2, 3, 6)));
            BeamSearch.Hypothesis[] beam = model.beamSearch(src, lengths, 2, 3, 6, 1, 0);
            int[][] words = new int[beam.length][];
            for (int i = 0; i < beam.length; i++) {
                words[i] = beam[i].words();
            }
            assertEquals(c.metadata("greedy"), Arrays.deepToString(words));
        }
    }

    @Test
    void aModelWithAttentionSavesAndLoads(@TempDir Path dir) throws Exception {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 1, 0f, true,
                Attention.Kind.ADDITIVE);
        Path file = dir.resolve("attention.safetensors");
        Seq2SeqModelTest.Batch held = Seq2SeqModelTest.Batch.random(new Random(97), 20);
        int[][] before;
        try (Seq2SeqModel model = trained(cfg); IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
            before = model.translate(src, held.sourceLengths(), BOS, EOS, MAX + 2);
            model.save(file);
        }
        try (Seq2SeqModel loaded = Seq2SeqModel.load(be, Checkpoint.read(file));
             IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
            assertEquals(cfg, loaded.config());
            loaded.eval();
            int[][] after = loaded.translate(src, held.sourceLengths(), BOS, EOS, MAX + 2);
            for (int i = 0; i < before.length; i++) {
                assertArrayEquals(before[i], after[i], "sentence " + i);
            }
        }
    }
}
