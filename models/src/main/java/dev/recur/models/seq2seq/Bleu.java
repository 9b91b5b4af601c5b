package dev.recur.models.seq2seq;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU (Papineni et al., 2002) with one reference per sentence, the measure translation
 * papers report: the geometric mean of the modified n-gram precisions for n = 1..4 (each n-gram
 * of a candidate counts at most as often as it occurs in its reference; counts are summed over
 * the corpus before dividing), times the brevity penalty {@code exp(1 - r/c)} when the
 * candidates' total length c is below the references' r. No smoothing: a corpus with no
 * matching 4-gram scores 0, as in the original definition (and in sacreBLEU with
 * {@code smooth_method="none"}). Tokens are compared as given (ids or words).
 */
public final class Bleu {

    /** The largest n-gram order. */
    public static final int ORDER = 4;

    private Bleu() {
    }

    /**
     * @param candidates the system's sentences, as token lists
     * @param references one reference per candidate, in the same order
     * @return BLEU in [0, 1]; 0 for an empty corpus or one with no candidate tokens
     */
    public static <T> double corpus(List<List<T>> candidates, List<List<T>> references) {
        if (candidates.size() != references.size()) {
            throw new IllegalArgumentException("BLEU: " + candidates.size() + " candidates but " + references.size()
                    + " references");
        }
        long[] matched = new long[ORDER];
        long[] total = new long[ORDER];
        long candidateLength = 0;
        long referenceLength = 0;
        for (int s = 0; s < candidates.size(); s++) {
            List<T> cand = candidates.get(s);
            List<T> ref = references.get(s);
            candidateLength += cand.size();
            referenceLength += ref.size();
            for (int n = 1; n <= ORDER; n++) {
                Map<List<T>, Integer> refCounts = counts(ref, n);
                for (Map.Entry<List<T>, Integer> e : counts(cand, n).entrySet()) {
                    matched[n - 1] += Math.min(e.getValue(), refCounts.getOrDefault(e.getKey(), 0));
                    total[n - 1] += e.getValue();
                }
            }
        }
        if (candidateLength == 0) {
            return 0;
        }
        double logSum = 0;
        for (int n = 0; n < ORDER; n++) {
            if (matched[n] == 0) {
                return 0;
            }
            logSum += Math.log((double) matched[n] / total[n]);
        }
        double brevity = candidateLength < referenceLength ? Math.exp(1 - (double) referenceLength / candidateLength)
                : 1;
        return brevity * Math.exp(logSum / ORDER);
    }

    private static <T> Map<List<T>, Integer> counts(List<T> tokens, int n) {
        Map<List<T>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
        }
        return counts;
    }
}
