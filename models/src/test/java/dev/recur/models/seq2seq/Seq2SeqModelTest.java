package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The encoder-decoder on a task it can only solve by passing the source through the encoder's
 * final states: "translating" a sequence of 1 to 4 symbols into the same symbols reversed, each
 * written with the target vocabulary's own id. Ids: source symbols 2..6 (0 pad, 1 unknown);
 * target 0 pad, 1 unknown, 2 BOS, 3 EOS, words 4..8.
 */
public class Seq2SeqModelTest {

    static final int PAD = 0;
    static final int BOS = 2;
    static final int EOS = 3;
    static final int IGNORE = -1;
    static final int SYMBOLS = 5;
    static final int MAX = 4;

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** A batch of reversal examples, laid out as {@link Seq2SeqModel#trainStep} takes them. */
    record Batch(int[] source, int[] sourceLengths, int[] decoderInput, int[] targetLengths, int[] decoderTarget,
                 int[][] sentences) {

        static Batch random(Random r, int b) {
            int[][] sentences = new int[b][];
            for (int i = 0; i < b; i++) {
                sentences[i] = new int[1 + r.nextInt(MAX)];
                for (int t = 0; t < sentences[i].length; t++) {
                    sentences[i][t] = r.nextInt(SYMBOLS);
                }
            }
            return of(sentences);
        }

        static Batch of(int[][] sentences) {
            int b = sentences.length;
            int ts = MAX;
            int tt = MAX + 1;
            int[] source = new int[ts * b];
            int[] input = new int[tt * b];
            int[] target = new int[tt * b];
            Arrays.fill(target, IGNORE);
            int[] sourceLengths = new int[b];
            int[] targetLengths = new int[b];
            for (int i = 0; i < b; i++) {
                int[] s = sentences[i];
                int n = s.length;
                sourceLengths[i] = n;
                targetLengths[i] = n + 1;
                input[i] = BOS;
                for (int t = 0; t < n; t++) {
                    source[t * b + i] = 2 + s[t];
                    int word = 4 + s[n - 1 - t];
                    target[t * b + i] = word;
                    input[(t + 1) * b + i] = word;
                }
                target[n * b + i] = EOS;
            }
            return new Batch(source, sourceLengths, input, targetLengths, target, sentences);
        }

        int batch() {
            return sourceLengths.length;
        }
    }

    static Seq2SeqConfig config(Cell cell) {
        return new Seq2SeqConfig(cell, 2 + SYMBOLS, 4 + SYMBOLS, 16, 48, 1, 0f);
    }

    static float step(Seq2SeqModel model, Batch data, Optimizer opt, float lr, float clip) {
        return step(be, model, data, opt, lr, clip);
    }

    static float step(Backend be, Seq2SeqModel model, Batch data, Optimizer opt, float lr, float clip) {
        int b = data.batch();
        try (IndexTensor src = be.indices(data.source(), MAX, b);
             IndexTensor in = be.indices(data.decoderInput(), MAX + 1, b);
             IndexTensor tgt = be.indices(data.decoderTarget(), (MAX + 1) * b)) {
            return model.trainStep(src, data.sourceLengths(), in, data.targetLengths(), tgt, IGNORE, opt, lr, clip);
        }
    }

    static float loss(Seq2SeqModel model, Batch data) {
        return loss(be, model, data);
    }

    /** The model's loss on {@code data} (no gradients), on {@code be}. */
    static float loss(Backend be, Seq2SeqModel model, Batch data) {
        int b = data.batch();
        try (IndexTensor src = be.indices(data.source(), MAX, b);
             IndexTensor in = be.indices(data.decoderInput(), MAX + 1, b);
             IndexTensor tgt = be.indices(data.decoderTarget(), (MAX + 1) * b)) {
            return model.loss(src, data.sourceLengths(), in, data.targetLengths(), tgt, IGNORE);
        }
    }

    /**
     * Compares the gradients a step left in {@code model}'s parameters with central differences of
     * its loss on {@code data}, at about 7 entries of each parameter: a step of 1e-2, tolerance
     * {@code 4e-3 + 3e-2·|fd|} (float32 losses of order 1 carry rounding ~1e-6, so the quotient
     * carries noise ~1e-4; a missing or misrouted gradient is off by far more). Fails naming
     * {@code what}, the parameter and the entry.
     *
     * @param allZero when not null, receives the names of the parameters whose checked gradient
     *                entries were all zero
     * @return the number of entries checked
     */
    static int checkGradients(Backend be, Seq2SeqModel model, Batch data, String what,
                              java.util.Set<String> allZero) {
        int checked = 0;
        for (Parameter p : model.parameters()) {
            float[] grad = p.grad().toArray();
            float[] v = p.value().toArray();
            boolean nonZero = false;
            for (int i = 0; i < v.length; i += Math.max(1, v.length / 7)) {
                float keep = v[i];
                v[i] = keep + 1e-2f;
                p.value().copyFrom(v);
                double up = loss(be, model, data);
                v[i] = keep - 1e-2f;
                p.value().copyFrom(v);
                double down = loss(be, model, data);
                v[i] = keep;
                p.value().copyFrom(v);
                double fd = (up - down) / 2e-2;
                if (!(Math.abs(grad[i] - fd) <= 4e-3 + 3e-2 * Math.abs(fd))) {
                    fail(what + " " + p.name() + "[" + i + "]: gradient " + grad[i] + ", finite difference " + fd);
                }
                nonZero |= grad[i] != 0f;
                checked++;
            }
            if (!nonZero && allZero != null) {
                allZero.add(p.name());
            }
        }
        return checked;
    }

    /**
     * The losses of {@code steps} Adam steps (lr 0.01, clipping at 1) on reversal batches of 16
     * drawn from a fixed seed, from weights of a fixed seed: the same numbers on any engine up to
     * rounding (CudaTrainingTest compares the "cuda" engine's with the "cpu" engine's).
     */
    public static float[] trainLosses(Backend engine, Seq2SeqConfig cfg, int steps) {
        Random r = new Random(21);
        float[] losses = new float[steps];
        try (Seq2SeqModel model = new Seq2SeqModel(engine, cfg, 5);
             Optimizer opt = new Optimizer(engine, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters())) {
            for (int s = 0; s < steps; s++) {
                losses[s] = step(engine, model, Batch.random(r, 16), opt, 0.01f, 1f);
            }
        }
        return losses;
    }

    @Test
    void sameSeedsSameLossesBitForBit() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM, 2 + SYMBOLS, 4 + SYMBOLS, 8, 16, 2, 0.1f, true);
        float[] first = trainLosses(be, cfg, 6);
        assertArrayEquals(first, trainLosses(be, cfg, 6));
        assertTrue(first[5] < first[0], Arrays.toString(first));
    }

    /**
     * Trained for 400 steps of 32 examples, a GRU and an LSTM encoder-decoder, and a GRU one with a
     * bidirectional encoder, translate at least
     * 90% of 200 unseen examples exactly. Reversal needs the whole source in the encoder's
     * final state: a decoder that got nothing from the encoder could only guess, and would get
     * about (1/5)^n of the n-symbol sentences right (under 10% overall).
     */
    @Test
    void learnsToReverseThroughTheEncodersFinalStates() {
        for (Seq2SeqConfig cfg : new Seq2SeqConfig[] {config(Cell.GRU), config(Cell.LSTM),
            new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 16, 48, 1, 0f, true)}) {
            String cell = cfg.cell().id() + (cfg.bidirectionalEncoder() ? " (bidirectional encoder)" : "");
            Random r = new Random(7);
            try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 11);
                 Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                         model.parameters())) {
                Batch held = Batch.random(new Random(99), 200);
                float before = loss(model, held);
                for (int i = 0; i < 400; i++) {
                    step(model, Batch.random(r, 32), opt, 0.01f, 5f);
                }
                float after = loss(model, held);
                int exact = 0;
                try (IndexTensor src = be.indices(held.source(), MAX, held.batch())) {
                    int[][] out = model.translate(src, held.sourceLengths(), BOS, EOS, MAX + 2);
                    for (int i = 0; i < held.batch(); i++) {
                        int[] s = held.sentences()[i];
                        int[] want = new int[s.length];
                        for (int t = 0; t < s.length; t++) {
                            want[t] = 4 + s[s.length - 1 - t];
                        }
                        exact += Arrays.equals(out[i], want) ? 1 : 0;
                    }
                }
                System.out.printf("seq2seq %s: held-out loss %.4f -> %.4f, exact %d/200%n", cell, before, after,
                        exact);
                assertTrue(after < 0.2f * before, cell + ": held-out loss " + before + " -> " + after);
                assertTrue(exact >= 180, cell + ": " + exact + "/200 exact translations");
            }
        }
    }

    /**
     * The encoder's gradients (which reach it only through the decoder's initial-state
     * gradients) and the decoder's agree with central differences of the loss. Step and
     * tolerances as in RecurrentStackGradientTest: float32 losses of order 1 carry rounding
     * ~1e-6, so a step of 1e-2 leaves noise ~1e-4 in the quotient; a missing or misrouted
     * state gradient is off by far more.
     */
    @Test
    void encoderAndDecoderGradientsMatchFiniteDifferences() {
        Batch data = Batch.random(new Random(5), 3);
        for (Seq2SeqConfig cfg : new Seq2SeqConfig[] {
            new Seq2SeqConfig(Cell.LSTM, 2 + SYMBOLS, 4 + SYMBOLS, 3, 4, 2, 0f),
            new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 3, 4, 2, 0f),
            new Seq2SeqConfig(Cell.LSTM, 2 + SYMBOLS, 4 + SYMBOLS, 3, 4, 2, 0f, true)}) {
            String cell = cfg.cell() + (cfg.bidirectionalEncoder() ? " (bidirectional encoder)" : "");
            try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 3);
                 Optimizer sgd = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(),
                         model.parameters())) {
                // lr = 0: the step leaves the weights as they are and the gradients in place.
                step(model, data, sgd, 0f, 0f);
                checkGradients(be, model, data, cell, null);
            }
        }
    }

    @Test
    void translationStopsAtEosOrTheLengthLimit() {
        try (Seq2SeqModel model = new Seq2SeqModel(be, config(Cell.GRU), 1);
             IndexTensor src = be.indices(new int[] {2, 3, 4, 0}, 2, 2)) {
            int[][] out = model.translate(src, new int[] {2, 1}, BOS, EOS, 3);
            assertEquals(2, out.length);
            for (int[] words : out) {
                assertTrue(words.length <= 3);
                for (int w : words) {
                    assertTrue(w != EOS && w >= 0 && w < 4 + SYMBOLS, Arrays.toString(words));
                }
            }
            // The same sentence alone gives the same words: rows do not leak into each other.
            try (IndexTensor one = be.indices(new int[] {2, 4}, 2, 1)) {
                assertArrayEquals(out[0], model.translate(one, new int[] {2}, BOS, EOS, 3)[0]);
            }
        }
    }

    @Test
    void configRoundTripsThroughJson() {
        for (boolean bi : new boolean[] {false, true}) {
            Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.LSTM_PEEPHOLE, 11, 13, 5, 7, 2, 0.25f, bi);
            assertEquals(cfg, Seq2SeqConfig.fromJson(cfg.toJson()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Seq2SeqConfig.fromJson("{\"model\":\"char-lm\",\"vocabulary\":3}"));
        assertEquals("this is a char-lm model config, not a seq2seq one", e.getMessage());
    }

    @Test
    void badArgumentsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Seq2SeqConfig(Cell.GRU, 7, 3, 8, 8, 1, 0f));
        assertEquals("seq2seq: targetVocabulary must be >= 4, got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Seq2SeqConfig(Cell.GRU, 7, 9, 8, 8, 1, 1f));
        assertEquals("seq2seq: dropout must be in [0, 1), got 1.0", e.getMessage());
        try (Seq2SeqModel model = new Seq2SeqModel(be, config(Cell.GRU), 1);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters());
             IndexTensor src = be.indices(4, 2);
             IndexTensor in = be.indices(5, 2);
             IndexTensor wrong = be.indices(9)) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(src, new int[] {1, 1}, in, new int[] {1, 1}, wrong, IGNORE, opt, 0.1f, 0f));
            assertEquals("seq2seq: decoderTarget must be [Tt*B] = [10], got [9]", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> model.translate(src, new int[] {1, 1}, BOS, 9, 3));
            assertEquals("seq2seq: bos 2 and eos 9 must be ids in [0, 9)", e.getMessage());
        }
    }
}
