package dev.recur.models.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A text for a character-level language model: its characters as ids of a
 * {@link CharVocabulary}, split into a training part (the first 90%) and a validation part (the
 * last 10%), and cut into batches for truncated back-propagation through time by
 * {@link CharBatches}.
 *
 * <p>The split is by position, not at random, so validation text is text the model never
 * trained on and the batches stay contiguous: of {@code n} characters (code points), the last
 * {@code n / 10} (rounded down) are validation. The vocabulary covers the whole text, both parts.
 * Immutable.
 *
 * <pre>
 *   TextCorpus corpus = TextCorpus.read(Path.of("tinyshakespeare.txt"));   // or defaultCorpus()
 *   CharBatches train = corpus.trainBatches(64, 100);                      // B = 64, T = 100
 *   train.seek(Integer.parseInt(checkpoint.dataPosition()));               // when resuming
 *   CharBatch b = train.next();                                            // b.inputs(), b.targets(): [T, B]
 * </pre>
 */
public final class TextCorpus {

    /** The fraction of the text, at its end, held out for validation. */
    public static final double VALIDATION_FRACTION = 0.1;

    /** The classpath resource of {@link #defaultCorpus()}. */
    public static final String DEFAULT_CORPUS_RESOURCE = "/corpus/recur-stories.txt";

    private final String name;
    private final String text;
    private final CharVocabulary vocabulary;
    private final int[] ids;        // [n], one per code point
    private final int trainLength;  // ids[0, trainLength) train, ids[trainLength, n) validation

    private TextCorpus(String name, String text, CharVocabulary vocabulary, int[] ids) {
        this.name = name;
        this.text = text;
        this.vocabulary = vocabulary;
        this.ids = ids;
        this.trainLength = ids.length - ids.length / 10;
    }

    /**
     * Reads a UTF-8 text file.
     *
     * @throws DataException when the file is missing, unreadable, not UTF-8, or empty
     */
    public static TextCorpus read(Path file) throws DataException {
        return of(file.toString(), TextFiles.readUtf8(file));
    }

    /**
     * A corpus of in-memory text.
     *
     * @param name what messages call it (a file name, "default corpus", ...)
     * @throws DataException when the text is empty
     */
    public static TextCorpus of(String name, String text) throws DataException {
        if (text.isEmpty()) {
            throw new DataException(name, "the text is empty");
        }
        CharVocabulary v = CharVocabulary.of(text);
        return new TextCorpus(name, text, v, v.encode(text));
    }

    /**
     * The corpus that ships with Recur ({@value #DEFAULT_CORPUS_RESOURCE}, about 30 KB of
     * original English prose written for the project, plain ASCII), for training with no data
     * of one's own.
     */
    public static TextCorpus defaultCorpus() {
        try (InputStream in = TextCorpus.class.getResourceAsStream(DEFAULT_CORPUS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + DEFAULT_CORPUS_RESOURCE + " missing from the classpath");
            }
            return of("default corpus", TextFiles.decodeUtf8(DEFAULT_CORPUS_RESOURCE, in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + DEFAULT_CORPUS_RESOURCE, e);
        }
    }

    /**
     * The same text with ids of another vocabulary, typically the one stored in the checkpoint a
     * run resumes from or fine-tunes.
     *
     * @throws DataException naming the line and column of the first character the vocabulary
     *                       lacks
     */
    public TextCorpus withVocabulary(CharVocabulary other) throws DataException {
        int[] cps = text.codePoints().toArray();
        int[] otherIds = new int[cps.length];
        int line = 1;
        int column = 1;
        for (int i = 0; i < cps.length; i++) {
            if (!other.contains(cps[i])) {
                throw new DataException(name, line, "column " + column + ": " + CharVocabulary.describe(cps[i])
                        + " is not in the vocabulary (" + other.size() + " characters) the model was trained with");
            }
            otherIds[i] = other.id(cps[i]);
            if (cps[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new TextCorpus(name, text, other, otherIds);
    }

    /** What messages call it: the file, or the name given. */
    public String name() {
        return name;
    }

    /** The whole text. */
    public String text() {
        return text;
    }

    /** The vocabulary the ids belong to. */
    public CharVocabulary vocabulary() {
        return vocabulary;
    }

    /** The number of characters (code points), both parts. */
    public int length() {
        return ids.length;
    }

    /** The ids of the whole text (a copy). */
    public int[] ids() {
        return ids.clone();
    }

    /** The ids of the training part, the first {@code n - n/10} characters (a copy). */
    public int[] trainIds() {
        return Arrays.copyOfRange(ids, 0, trainLength);
    }

    /** The ids of the validation part, the last {@code n/10} characters (a copy). */
    public int[] validationIds() {
        return Arrays.copyOfRange(ids, trainLength, ids.length);
    }

    /**
     * Batches of the training part, position 0.
     *
     * @param batchSize B, the number of sequences per batch, {@code >= 1}
     * @param steps     T, the time steps per batch, {@code >= 1}
     * @throws DataException when the training part has fewer than {@code B * (T + 1)} characters
     */
    public CharBatches trainBatches(int batchSize, int steps) throws DataException {
        return new CharBatches(name + " (training part)", trainIds(), batchSize, steps);
    }

    /**
     * Batches of the validation part, position 0; one epoch of them is one pass over it.
     *
     * @throws DataException when the validation part has fewer than {@code B * (T + 1)}
     *                       characters
     */
    public CharBatches validationBatches(int batchSize, int steps) throws DataException {
        return new CharBatches(name + " (validation part)", validationIds(), batchSize, steps);
    }

    @Override
    public String toString() {
        return "TextCorpus{" + name + ", " + ids.length + " characters (" + trainLength + " train, "
                + (ids.length - trainLength) + " validation), vocabulary " + vocabulary.size() + "}";
    }
}
