package dev.recur.models.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Sentence pairs for sequence-to-sequence translation, read from lines of
 * {@code source<TAB>target}, the format of the Tatoeba pairs that PyTorch's translation tutorial
 * uses ({@code "Go.\tVa !"}); further TAB-separated columns, such as Tatoeba's attribution, are
 * ignored.
 *
 * <h2>Parsing</h2>
 * Each non-blank line is one pair: the source is what precedes the first TAB, the target what
 * follows it up to the next TAB or the end, both with surrounding spaces removed. Blank lines are
 * skipped. A line with no TAB, or an empty source or target, is an error naming the file and the
 * line; so is a file with no pairs. Immutable.
 */
public final class TranslationPairs {

    /** One pair, with the line it came from (1-based). */
    public record Pair(String source, String target, int line) {
    }

    /** A split into training, validation and test pairs; the three never share a pair. */
    public record Split(List<Pair> train, List<Pair> validation, List<Pair> test) {
    }

    private final String source;
    private final List<Pair> pairs; // file order

    private TranslationPairs(String source, List<Pair> pairs) {
        this.source = source;
        this.pairs = List.copyOf(pairs);
    }

    /**
     * Reads a file of {@code source<TAB>target} lines (UTF-8).
     *
     * @throws DataException naming the file (and line) for a missing or non-UTF-8 file, a
     *                       malformed line, or no pairs at all
     */
    public static TranslationPairs read(Path file) throws DataException {
        return parse(file.toString(), TextFiles.readUtf8(file));
    }

    /**
     * Parses in-memory {@code source<TAB>target} lines.
     *
     * @param source what messages call the data
     * @throws DataException as {@link #read(Path)}
     */
    public static TranslationPairs parse(String source, String content) throws DataException {
        List<Pair> pairs = new ArrayList<>();
        String[] lines = content.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            String[] columns = line.split("\t", -1);
            if (columns.length < 2) {
                throw new DataException(source, i + 1, "expected source<TAB>target, found no TAB: "
                        + TextFiles.abbreviate(line));
            }
            String from = columns[0].strip();
            String to = columns[1].strip();
            if (from.isEmpty()) {
                throw new DataException(source, i + 1, "no source sentence before the first TAB");
            }
            if (to.isEmpty()) {
                throw new DataException(source, i + 1, "no target sentence after the first TAB: "
                        + TextFiles.abbreviate(line));
            }
            String reserved = WordVocabulary.reservedIn(from + "\t" + to);
            if (reserved != null) {
                throw new DataException(source, i + 1, "the pair holds " + reserved + ", a marker Recur reserves;"
                        + " remove or rewrite it: " + TextFiles.abbreviate(line));
            }
            pairs.add(new Pair(from, to, i + 1));
        }
        if (pairs.isEmpty()) {
            throw new DataException(source, "no pairs: the data is empty or blank (expected lines of source<TAB>target)");
        }
        return new TranslationPairs(source, pairs);
    }

    /** The file or name of the data. */
    public String source() {
        return source;
    }

    /** Every pair, in file order; unmodifiable. */
    public List<Pair> pairs() {
        return pairs;
    }

    /**
     * The pairs whose source and target both have at most {@code maxTokens} tokens (words and
     * punctuation marks, as {@link WordVocabulary#tokenize} splits them), in file order.
     */
    public TranslationPairs atMost(int maxTokens) {
        List<Pair> kept = new ArrayList<>();
        for (Pair p : pairs) {
            if (WordVocabulary.tokenize(p.source()).size() <= maxTokens
                    && WordVocabulary.tokenize(p.target()).size() <= maxTokens) {
                kept.add(p);
            }
        }
        return new TranslationPairs(source, kept);
    }

    /**
     * A seeded random split: first the test part, as {@link RandomSplit} describes; then the
     * validation part, carved from what is left for training (never from the test part), by a
     * second shuffle: {@code round(n * validationFraction)} of those n pairs, at least one.
     *
     * @param testFraction       in {@code (0, 1)}
     * @param validationFraction in {@code (0, 1)}, of the pairs left after the test part
     * @throws DataException when any part would be empty
     */
    public Split split(double testFraction, double validationFraction, long seed) throws DataException {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in (0, 1), got " + validationFraction);
        }
        RandomSplit<Pair> s = RandomSplit.of(pairs, testFraction, seed, source);
        List<Pair> rest = new ArrayList<>(s.train());
        // Another sequence than the test split's, so the two draws are not the same permutation.
        Collections.shuffle(rest, new Random(seed ^ 0x9E3779B97F4A7C15L));
        int validation = Math.max(1, (int) Math.round(rest.size() * validationFraction));
        if (validation >= rest.size()) {
            throw new DataException(source, pairs.size() + " pairs are too few to hold out " + s.test().size()
                    + " for testing and " + validation + " for validation and keep some for training");
        }
        return new Split(List.copyOf(rest.subList(validation, rest.size())), List.copyOf(rest.subList(0, validation)),
                s.test());
    }

    @Override
    public String toString() {
        return "TranslationPairs{" + source + ", " + pairs.size() + " pairs}";
    }
}
