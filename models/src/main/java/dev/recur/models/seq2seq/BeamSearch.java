package dev.recur.models.seq2seq;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search over a decoder that runs {@code sentences × beam} rows at once (row
 * {@code n·beam + k} is beam k of sentence n), with GNMT's length penalty (Wu et al., 2016):
 * a finished hypothesis of {@code len} tokens (its words and EOS) and log-probability
 * {@code log P} scores {@code log P / lp(len)}, {@code lp(len) = ((5 + len) / 6)^α}; α = 0 ranks by
 * {@code log P} alone, larger α favours longer translations.
 *
 * <p>Each step, every live beam of a sentence proposes each word with
 * {@code log P(prefix) + log softmax(logits)[word]} (log-softmax in float64); of the 2K best
 * proposals (ties to the lower beam, then the lower word id), those that are EOS among the first K
 * become finished hypotheses, and the first K that are not EOS become the next step's beams. A
 * sentence stops when it holds K finished hypotheses; at {@code maxLength} words the live beams
 * are finished as they are (with {@code len = maxLength}, no EOS). The answer is the finished
 * hypothesis with the highest score (the earlier found among equals).
 *
 * <p>With K = 1 this is greedy decoding exactly: the one proposal kept is the argmax of the logits
 * (the lowest id among equals), EOS ends the sentence, and the maximum length cuts it as greedy
 * does.
 *
 * <p>All host bookkeeping: the engine work is the {@link Decoder}'s (one batched step of all rows,
 * and reordering its state rows by the parents chosen here, e.g. by an embedding gather).
 */
public final class BeamSearch {

    /** One decoder step over all {@code sentences × beam} rows. */
    public interface Decoder {
        /**
         * Makes row r's state a copy of row {@code parents[r]}'s (all rows of one sentence), feeds
         * {@code tokens[r]} to row r and returns the logits {@code [rows, V]} of the step.
         */
        float[] step(int[] parents, int[] tokens);

        /** The attention weights {@code [rows, S]} of the last step, or null without attention. */
        default float[] attention() {
            return null;
        }
    }

    /**
     * A translation: its words (EOS not included), {@code log P} of its tokens (EOS included when
     * it ended with one), its score {@code log P / lp(len)}, and, with attention, the weights that
     * produced each token ({@code [tokens][S]}, EOS's row last), else null.
     */
    public record Hypothesis(int[] words, double logProb, double score, float[][] attention) {
    }

    private BeamSearch() {
    }

    /** GNMT's length penalty {@code ((5 + len) / 6)^alpha}. */
    public static double lengthPenalty(int len, double alpha) {
        return Math.pow((5.0 + len) / 6.0, alpha);
    }

    /**
     * The best hypothesis of each sentence.
     *
     * @param beam      K, at least 1
     * @param vocab     V, the logits' width
     * @param maxLength the most words a translation may have, at least 1
     * @param alpha     the length penalty's exponent, finite and {@code >= 0}
     * @param sourceSteps S, the attention rows' width (ignored without attention)
     */
    public static Hypothesis[] search(Decoder decoder, int sentences, int beam, int vocab, int bos, int eos,
                                      int maxLength, double alpha, int sourceSteps) {
        if (beam < 1) {
            throw new IllegalArgumentException("beam search: beam must be >= 1, got " + beam);
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("beam search: maxLength must be >= 1, got " + maxLength);
        }
        if (!(alpha >= 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("beam search: the length penalty must be finite and >= 0, got " + alpha);
        }
        if (bos < 0 || bos >= vocab || eos < 0 || eos >= vocab) {
            throw new IllegalArgumentException("beam search: bos " + bos + " and eos " + eos + " must be ids in [0, "
                    + vocab + ")");
        }
        int rows = sentences * beam;
        double[] live = new double[rows];              // log P of each row's prefix; -inf: not a beam
        for (int r = 0; r < rows; r++) {
            live[r] = r % beam == 0 ? 0 : Double.NEGATIVE_INFINITY; // one start per sentence, no duplicates
        }
        int[] parents = new int[rows];
        int[] tokens = new int[rows];
        for (int r = 0; r < rows; r++) {
            parents[r] = r;
            tokens[r] = bos;
        }
        List<int[]> parentHistory = new ArrayList<>();  // [step][row]: the row each row continued
        List<int[]> tokenHistory = new ArrayList<>();   // [step][row]: the word each row was fed after it
        List<float[]> attentionHistory = new ArrayList<>(); // [step][rows·S]
        List<List<Finished>> finished = new ArrayList<>();
        for (int n = 0; n < sentences; n++) {
            finished.add(new ArrayList<>());
        }
        boolean[] done = new boolean[sentences];
        int open = sentences;
        int[] nextParents = new int[rows];
        int[] nextTokens = new int[rows];
        double[] nextLive = new double[rows];
        for (int t = 0; t < maxLength && open > 0; t++) {
            float[] logits = decoder.step(parents, tokens);
            float[] weights = decoder.attention();
            attentionHistory.add(weights);
            parentHistory.add(parents.clone());
            double[] logSoftmax = logSoftmax(logits, rows, vocab);
            for (int n = 0; n < sentences; n++) {
                if (done[n]) {
                    for (int k = 0; k < beam; k++) { // keep the rows going on something harmless
                        int r = n * beam + k;
                        nextParents[r] = r;
                        nextTokens[r] = eos;
                        nextLive[r] = Double.NEGATIVE_INFINITY;
                    }
                    continue;
                }
                int[] best = topCandidates(live, logSoftmax, n, beam, vocab, 2 * beam);
                int kept = 0;
                for (int i = 0; i < best.length && kept < beam; i++) {
                    int cand = best[i];
                    if (cand < 0) {
                        break;
                    }
                    int row = n * beam + cand / vocab;
                    int word = cand % vocab;
                    double logP = live[row] + logSoftmax[row * vocab + word];
                    if (word == eos) {
                        if (i < beam) {
                            finished.get(n).add(new Finished(t, row, eos, logP, t + 1,
                                    logP / lengthPenalty(t + 1, alpha)));
                        }
                        continue;
                    }
                    int r = n * beam + kept++;
                    nextParents[r] = row;
                    nextTokens[r] = word;
                    nextLive[r] = logP;
                }
                for (int k = kept; k < beam; k++) { // fewer than K continuations: idle rows
                    int r = n * beam + k;
                    nextParents[r] = n * beam;
                    nextTokens[r] = eos;
                    nextLive[r] = Double.NEGATIVE_INFINITY;
                }
                if (finished.get(n).size() >= beam || kept == 0) {
                    done[n] = true;
                    open--;
                } else if (t == maxLength - 1) {
                    for (int k = 0; k < kept; k++) { // cut at the maximum length, no EOS
                        int r = n * beam + k;
                        finished.get(n).add(new Finished(t, nextParents[r], nextTokens[r], nextLive[r], maxLength,
                                nextLive[r] / lengthPenalty(maxLength, alpha)));
                    }
                }
            }
            tokenHistory.add(nextTokens.clone());
            System.arraycopy(nextParents, 0, parents, 0, rows);
            System.arraycopy(nextTokens, 0, tokens, 0, rows);
            System.arraycopy(nextLive, 0, live, 0, rows);
        }
        Hypothesis[] out = new Hypothesis[sentences];
        for (int n = 0; n < sentences; n++) {
            Finished best = null;
            for (Finished f : finished.get(n)) {
                if (best == null || f.score > best.score) {
                    best = f;
                }
            }
            out[n] = backtrack(best, parentHistory, tokenHistory, attentionHistory, eos, sourceSteps);
        }
        return out;
    }

    /** A finished hypothesis: it took {@code token} from row {@code row} at step {@code step}. */
    private record Finished(int step, int row, int token, double logProb, int length, double score) {
    }

    private static Hypothesis backtrack(Finished f, List<int[]> parentHistory, List<int[]> tokenHistory,
                                        List<float[]> attentionHistory, int eos, int s) {
        int steps = f.step + 1;
        int[] words = new int[steps];
        float[][] attention = attentionHistory.get(0) == null ? null : new float[steps][];
        int row = f.row;
        int token = f.token;
        for (int t = f.step; t >= 0; t--) {
            words[t] = token;
            if (attention != null) {
                attention[t] = Arrays.copyOfRange(attentionHistory.get(t), row * s, (row + 1) * s);
            }
            if (t > 0) {
                // Row `row` of step t was fed the word chosen at step t - 1 (tokenHistory[t - 1][row])
                // by the step-(t - 1) row it continues (parentHistory[t][row]).
                int producer = parentHistory.get(t)[row];
                token = tokenHistory.get(t - 1)[row];
                row = producer;
            }
        }
        int n = f.token == eos ? steps - 1 : steps;
        return new Hypothesis(Arrays.copyOf(words, n), f.logProb, f.score, attention);
    }

    private static double[] logSoftmax(float[] logits, int rows, int vocab) {
        double[] out = new double[rows * vocab];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[r * vocab + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[r * vocab + v] - max);
            }
            double log = max + Math.log(sum);
            for (int v = 0; v < vocab; v++) {
                out[r * vocab + v] = logits[r * vocab + v] - log;
            }
        }
        return out;
    }

    /**
     * The {@code count} best proposals {@code beam·V + word} of sentence n's live beams, best
     * first; ties go to the lower beam, then the lower word; -1 fills the rest.
     */
    private static int[] topCandidates(double[] live, double[] logSoftmax, int n, int beam, int vocab, int count) {
        int[] best = new int[count];
        double[] value = new double[count];
        Arrays.fill(best, -1);
        Arrays.fill(value, Double.NEGATIVE_INFINITY);
        for (int k = 0; k < beam; k++) {
            int row = n * beam + k;
            if (live[row] == Double.NEGATIVE_INFINITY) {
                continue;
            }
            for (int w = 0; w < vocab; w++) {
                double v = live[row] + logSoftmax[row * vocab + w];
                if (best[count - 1] >= 0 && !(v > value[count - 1])) {
                    continue; // strictly better only: an earlier candidate wins a tie
                }
                int i = count - 1;
                while (i > 0 && (best[i - 1] < 0 || v > value[i - 1])) {
                    best[i] = best[i - 1];
                    value[i] = value[i - 1];
                    i--;
                }
                best[i] = k * vocab + w;
                value[i] = v;
            }
        }
        return best;
    }
}
