package dev.recur.models.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Words for sequence classification: lower-cased tokens with ids, an unknown token for rare or
 * unseen words, and a padding token, built from the training texts only.
 *
 * <h2>Tokens</h2>
 * {@link #tokenize}: the text lower-cased ({@link Locale#ROOT}), then every run of letters and
 * digits (with inner apostrophes, so "don't" is one token) is a token, and so is every other
 * character that is not white space or a Unicode separator such as a no-break space ("great!"
 * is "great", "!").
 *
 * <h2>Ids</h2>
 * {@value #PAD_ID} is {@value #PAD} (padding, never a real token), {@value #UNK_ID} is
 * {@value #UNK} (a word seen fewer than {@code minCount} times in the training texts, or never);
 * then the reserved tokens, if any ({@link #BOS} and {@link #EOS} for a decoder: ids 2 and 3);
 * then the kept words by descending count, ties in alphabetical order, so the same texts always
 * give the same ids. Stored in a checkpoint's metadata as {@link #toStorageString()}: the words in
 * id order, one per line (tokens never contain white space). Immutable.
 */
public final class WordVocabulary {

    /** The padding token. */
    public static final String PAD = "<pad>";
    /** The unknown-word token. */
    public static final String UNK = "<unk>";
    /** Id of {@link #PAD}. */
    public static final int PAD_ID = 0;
    /** Id of {@link #UNK}. */
    public static final int UNK_ID = 1;
    /** Beginning of a sequence: a decoder's first input (a reserved token, see {@link #build(Collection, int, List)}). */
    public static final String BOS = "<bos>";
    /** End of a sequence: what a decoder emits when its output is complete. */
    public static final String EOS = "<eos>";

    // \s is ASCII white space only; \p{Z} adds Unicode's separators, such as the no-break spaces
    // (U+00A0, U+202F) that French puts before "!", "?" and ":".
    private static final Pattern TOKEN = Pattern.compile("[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*|[^\\s\\p{Z}\\p{L}\\p{N}]");

    private final List<String> words;       // id → word
    private final Map<String, Integer> ids; // word → id

    private WordVocabulary(List<String> words) {
        this.words = List.copyOf(words);
        this.ids = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            if (ids.put(words.get(i), i) != null) {
                throw new IllegalArgumentException("word listed twice: '" + words.get(i) + "'");
            }
        }
    }

    /** The tokens of a text, as described in the class comment. */
    /**
     * The first of {@link #PAD}, {@link #UNK}, {@link #BOS}, {@link #EOS} written in {@code text}
     * (any case), or null: data holding one would be read as a word while printed as the marker,
     * so readers refuse it.
     */
    public static String reservedIn(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        for (String r : List.of(PAD, UNK, BOS, EOS)) {
            if (lower.contains(r)) {
                return r;
            }
        }
        return null;
    }

    public static List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            tokens.add(m.group());
        }
        return tokens;
    }

    /**
     * The vocabulary of these texts (pass the training texts only, so that test words the model
     * never saw are unknown, as they will be in use).
     *
     * @param minCount a word seen fewer times becomes {@link #UNK}; {@code >= 1}
     */
    public static WordVocabulary build(Collection<String> texts, int minCount) {
        return build(texts, minCount, List.of());
    }

    /**
     * {@link #build(Collection, int)} with reserved tokens after {@link #PAD} and {@link #UNK}
     * (ids 2, 3, ... in the order given), such as {@link #BOS} and {@link #EOS} for a decoder.
     * A reserved token must not be one that {@link #tokenize} can produce (so it can never be
     * mistaken for a word): write it in angle brackets.
     */
    public static WordVocabulary build(Collection<String> texts, int minCount, List<String> reserved) {
        Set<String> seen = new HashSet<>(List.of(PAD, UNK));
        for (String r : reserved) {
            if (r.isBlank() || r.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("reserved token '" + r + "' is blank or holds white space");
            }
            if (tokenize(r).equals(List.of(r))) {
                throw new IllegalArgumentException("reserved token '" + r + "' could be a word; use e.g. <" + r + ">");
            }
            if (!seen.add(r)) {
                throw new IllegalArgumentException("reserved token '" + r + "' is " + PAD + ", " + UNK
                        + " or listed twice");
            }
        }
        if (minCount < 1) {
            throw new IllegalArgumentException("minCount must be >= 1, got " + minCount);
        }
        Map<String, Integer> counts = new HashMap<>();
        for (String t : texts) {
            for (String w : tokenize(t)) {
                counts.merge(w, 1, Integer::sum);
            }
        }
        List<String> kept = new ArrayList<>();
        counts.forEach((w, c) -> {
            if (c >= minCount) {
                kept.add(w);
            }
        });
        kept.sort((a, b) -> {
            int byCount = Integer.compare(counts.get(b), counts.get(a));
            return byCount != 0 ? byCount : a.compareTo(b);
        });
        List<String> words = new ArrayList<>(kept.size() + 2 + reserved.size());
        words.add(PAD);
        words.add(UNK);
        words.addAll(reserved);
        words.addAll(kept);
        return new WordVocabulary(words);
    }

    /**
     * The vocabulary {@link #toStorageString()} wrote.
     *
     * @throws IllegalArgumentException when it does not start with {@link #PAD} and {@link #UNK}
     *                                  or lists a word twice
     */
    public static WordVocabulary fromStorageString(String stored) {
        List<String> words = List.of(stored.split("\n", -1));
        if (words.size() < 2 || !words.get(PAD_ID).equals(PAD) || !words.get(UNK_ID).equals(UNK)) {
            throw new IllegalArgumentException("stored word vocabulary must start with " + PAD + " and " + UNK);
        }
        return new WordVocabulary(words);
    }

    /** The words in id order, one per line, no trailing newline. */
    public String toStorageString() {
        return String.join("\n", words);
    }

    /** The number of ids, including {@link #PAD} and {@link #UNK}. */
    public int size() {
        return words.size();
    }

    /** The id of a token, {@link #UNK_ID} when it is not in the vocabulary. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null || id == PAD_ID ? UNK_ID : id;
    }

    /** The word of an id. */
    public String word(int id) {
        return words.get(id);
    }

    /** The ids of a text's tokens (unknown words as {@link #UNK_ID}); empty when it has no tokens. */
    public int[] encode(String text) {
        return tokenize(text).stream().mapToInt(this::id).toArray();
    }

    /**
     * A padded batch of examples, in the given order.
     *
     * @param maxLength longer texts keep their first {@code maxLength} tokens; {@code >= 1}
     * @throws IllegalArgumentException for an empty list or {@code maxLength < 1}
     */
    public PaddedBatch batch(List<LabelledText.Example> examples, int maxLength) {
        if (examples.isEmpty() || maxLength < 1) {
            throw new IllegalArgumentException("need at least one example and maxLength >= 1, got "
                    + examples.size() + " and " + maxLength);
        }
        int b = examples.size();
        int[][] seqs = new int[b][];
        int longest = 1;
        for (int i = 0; i < b; i++) {
            int[] ids = encode(examples.get(i).text());
            if (ids.length == 0) {
                ids = new int[] {UNK_ID}; // every sequence has at least one step
            }
            seqs[i] = ids.length > maxLength ? java.util.Arrays.copyOf(ids, maxLength) : ids;
            longest = Math.max(longest, seqs[i].length);
        }
        int[] tokens = new int[longest * b]; // [L, B], PAD_ID = 0 after each sequence's end
        int[] lengths = new int[b];          // [B]
        int[] labels = new int[b];           // [B]
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < seqs[i].length; t++) {
                tokens[t * b + i] = seqs[i][t];
            }
            lengths[i] = seqs[i].length;
            labels[i] = examples.get(i).label();
        }
        return new PaddedBatch(tokens, lengths, labels, b, longest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WordVocabulary v && words.equals(v.words);
    }

    @Override
    public int hashCode() {
        return words.hashCode();
    }

    @Override
    public String toString() {
        return "WordVocabulary{size=" + words.size() + ", first=" + words.subList(0, Math.min(12, words.size())) + "}";
    }
}
