package dev.recur.models.seq2seq;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BeamSearch} on tiny decoders whose scores are known: a bigram table (the next word's
 * logits depend on the previous word only), so every hypothesis's log-probability can be
 * enumerated by brute force and the search's best hypothesis and score compared exactly (the
 * same float64 operations in the same order give the same bits).
 */
class BeamSearchTest {

    static final int BOS = 0;
    static final int EOS = 1;
    static final int V = 4; // BOS, EOS, words 2 and 3

    /**
     * Logits of the next word after each previous word (rows: BOS, EOS, 2, 3). Made so that
     * greedy is wrong: after BOS, word 2 looks best, but everything after 2 is poor, while 3
     * leads to a confident EOS.
     */
    static final float[][] BIGRAM = {
        {-9f, -1f, 1.0f, 0.9f},   // after BOS: 2 slightly above 3, EOS unlikely
        {0f, 0f, 0f, 0f},         // after EOS: never used
        {-9f, 0f, 0.1f, 0.05f},   // after 2: EOS, 2, 3 about even: every continuation costs ~1.1
        {-9f, 3f, -2f, -2f},      // after 3: EOS almost sure
    };

    /** A decoder over the bigram table: each row's state is its previous word. */
    static final class BigramDecoder implements BeamSearch.Decoder {
        int[] previous;
        int steps;

        @Override
        public float[] step(int[] parents, int[] tokens) {
            steps++;
            float[] logits = new float[tokens.length * V];
            for (int r = 0; r < tokens.length; r++) {
                System.arraycopy(BIGRAM[tokens[r]], 0, logits, r * V, V);
            }
            previous = tokens.clone();
            return logits;
        }
    }

    /** log softmax of a bigram row, as BeamSearch computes it (float64, max first). */
    static double logProb(int previous, int word) {
        float[] l = BIGRAM[previous];
        double max = Double.NEGATIVE_INFINITY;
        for (float x : l) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : l) {
            sum += Math.exp(x - max);
        }
        return l[word] - (max + Math.log(sum));
    }

    /** Every hypothesis of at most maxLength words (ending with EOS, or cut at maxLength), with its score. */
    static List<Object[]> enumerate(int maxLength, double alpha) {
        List<Object[]> out = new ArrayList<>();
        enumerate(new int[0], BOS, 0.0, maxLength, alpha, out);
        return out;
    }

    private static void enumerate(int[] words, int previous, double logP, int maxLength, double alpha,
                                  List<Object[]> out) {
        double end = logP + logProb(previous, EOS);
        out.add(new Object[] {words, end / BeamSearch.lengthPenalty(words.length + 1, alpha)});
        for (int w = 2; w < V; w++) {
            double next = logP + logProb(previous, w);
            int[] longer = Arrays.copyOf(words, words.length + 1);
            longer[words.length] = w;
            if (longer.length == maxLength) {
                out.add(new Object[] {longer, next / BeamSearch.lengthPenalty(maxLength, alpha)});
            } else {
                enumerate(longer, w, next, maxLength, alpha, out);
            }
        }
    }

    @Test
    void aWideBeamFindsTheBestHypothesisAndItsExactScore() {
        for (double alpha : new double[] {0, 0.6, 2}) {
            int maxLength = 4;
            List<Object[]> all = enumerate(maxLength, alpha);
            Object[] best = all.get(0);
            for (Object[] h : all) {
                if ((double) h[1] > (double) best[1]) {
                    best = h;
                }
            }
            // A beam as wide as the vocabulary keeps every prefix that can win here.
            BeamSearch.Hypothesis[] got = BeamSearch.search(new BigramDecoder(), 2, 8, V, BOS, EOS, maxLength, alpha,
                    0);
            for (BeamSearch.Hypothesis h : got) {
                assertArrayEquals((int[]) best[0], h.words(), "alpha " + alpha);
                assertEquals((double) best[1], h.score(), 0.0, "alpha " + alpha + ": the score, exactly");
                assertEquals(h.logProb() / BeamSearch.lengthPenalty(h.words().length + 1, alpha), h.score(), 0.0);
                assertEquals(null, h.attention());
            }
        }
        // With α = 0: [3] then EOS (log P ≈ -0.70 - 0.04) beats greedy's [2, ...].
        BeamSearch.Hypothesis h = BeamSearch.search(new BigramDecoder(), 1, 2, V, BOS, EOS, 4, 0, 0)[0];
        assertArrayEquals(new int[] {3}, h.words());
        assertEquals(logProb(BOS, 3) + logProb(3, EOS), h.logProb(), 0.0);
    }

    @Test
    void beamOneIsGreedy() {
        // Greedy: after BOS the argmax is 2; after 2 the argmax is 2 (0.1 > 0.05 > 0), and so on to the cut.
        BeamSearch.Hypothesis h = BeamSearch.search(new BigramDecoder(), 3, 1, V, BOS, EOS, 5, 0.6, 0)[1];
        assertArrayEquals(new int[] {2, 2, 2, 2, 2}, h.words());
        double logP = logProb(BOS, 2) + 4 * logProb(2, 2);
        assertEquals(logP, h.logProb(), 1e-12);
        assertEquals(logP / BeamSearch.lengthPenalty(5, 0.6), h.score(), 1e-12);
    }

    @Test
    void theBestHypothesisKeepsItsOwnAttentionRows() {
        // Each row's "attention" is [row, step]: the best hypothesis must carry the rows it came through.
        BigramDecoder bigram = new BigramDecoder();
        BeamSearch.Decoder withAttention = new BeamSearch.Decoder() {
            int step = -1;
            int[] parents;

            @Override
            public float[] step(int[] p, int[] tokens) {
                step++;
                parents = p.clone();
                return bigram.step(p, tokens);
            }

            @Override
            public float[] attention() {
                float[] a = new float[parents.length * 2];
                for (int r = 0; r < parents.length; r++) {
                    a[r * 2] = bigram.previous[r];   // the word this row was fed
                    a[r * 2 + 1] = step;
                }
                return a;
            }
        };
        BeamSearch.Hypothesis h = BeamSearch.search(withAttention, 1, 3, V, BOS, EOS, 4, 0, 2)[0];
        assertArrayEquals(new int[] {3}, h.words());
        assertEquals(2, h.attention().length, "one row per token: the word and EOS");
        assertArrayEquals(new float[] {BOS, 0}, h.attention()[0]); // fed BOS at step 0
        assertArrayEquals(new float[] {3, 1}, h.attention()[1]);   // fed its word 3 at step 1
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BeamSearch.search(new BigramDecoder(), 1, 0, V, BOS, EOS, 4, 0, 0));
        assertEquals("beam search: beam must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BeamSearch.search(new BigramDecoder(), 1, 2, V, BOS, EOS, 4, -1, 0));
        assertEquals("beam search: the length penalty must be finite and >= 0, got -1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BeamSearch.search(new BigramDecoder(), 1, 2, V, BOS, EOS, 0, 0, 0));
        assertTrue(e.getMessage().contains("maxLength must be >= 1"), e.getMessage());
    }
}
