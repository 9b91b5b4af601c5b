package dev.recur.models.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Sentences with class labels for sequence classification, read from lines of
 * {@code text<TAB>label} (the format of the UCI sentiment-labelled sentences:
 * {@code "Great phone, works well.\t1"}).
 *
 * <h2>Parsing</h2>
 * Each non-blank line is one example; the label is what follows the <em>last</em> TAB, the text
 * what precedes it, both with surrounding spaces removed. Blank lines are skipped. A line with no
 * TAB, no text or no label is an error naming the file and the line; so is a file with no
 * examples, and data with fewer than two classes.
 *
 * <h2>Classes</h2>
 * The distinct labels, sorted (numerically when every label is an integer, so "0" and "1" are
 * classes 0 and 1, and "10" sorts after "9"), numbered from 0: {@link #classes()}. Immutable.
 */
public final class LabelledText {

    /** One example: a text and its class id (an index into {@link #classes()}). */
    public record Example(String text, int label) {
    }

    /** A split into training and test examples. */
    public record Split(List<Example> train, List<Example> test) {
    }

    /**
     * A split into the examples a model is fitted on, a validation part carved from the training
     * part (watched while training: early stopping, the best epoch) and a test part (used once,
     * at the end).
     */
    public record Parts(List<Example> train, List<Example> validation, List<Example> test) {
    }

    private final String source;
    private final List<Example> examples; // file order
    private final List<String> classes;  // class id → label as written

    private LabelledText(String source, List<Example> examples, List<String> classes) {
        this.source = source;
        this.examples = List.copyOf(examples);
        this.classes = List.copyOf(classes);
    }

    /**
     * Reads and concatenates files of {@code text<TAB>label} lines (UTF-8).
     *
     * @throws DataException naming the file (and line) for a missing or non-UTF-8 file, a
     *                       malformed line, no examples at all, or a single class
     */
    public static LabelledText read(Path... files) throws DataException {
        return read(List.of(files));
    }

    /** {@link #read(Path...)} for a list. */
    public static LabelledText read(List<Path> files) throws DataException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no files given");
        }
        List<String[]> raw = new ArrayList<>();
        for (Path f : files) {
            String source = f.toString();
            int before = raw.size();
            parseLines(source, TextFiles.readUtf8(f), raw);
            if (raw.size() == before) {
                throw new DataException(source, "no examples: the file is empty or blank (expected lines of text<TAB>label)");
            }
        }
        return build(files.stream().map(Path::toString).collect(Collectors.joining(", ")), raw);
    }

    /**
     * Parses in-memory {@code text<TAB>label} lines.
     *
     * @param source what messages call the data
     * @throws DataException as {@link #read(Path...)}
     */
    public static LabelledText parse(String source, String content) throws DataException {
        List<String[]> raw = new ArrayList<>();
        parseLines(source, content, raw);
        if (raw.isEmpty()) {
            throw new DataException(source, "no examples: the data is empty or blank (expected lines of text<TAB>label)");
        }
        return build(source, raw);
    }

    private static void parseLines(String source, String content, List<String[]> into) throws DataException {
        String[] lines = content.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            int tab = line.lastIndexOf('\t');
            if (tab < 0) {
                throw new DataException(source, i + 1, "expected text<TAB>label, found no TAB: "
                        + TextFiles.abbreviate(line));
            }
            String text = line.substring(0, tab).strip();
            String label = line.substring(tab + 1).strip();
            if (text.isEmpty()) {
                throw new DataException(source, i + 1, "no text before the TAB");
            }
            if (label.isEmpty()) {
                throw new DataException(source, i + 1, "no label after the TAB: " + TextFiles.abbreviate(line));
            }
            String reserved = WordVocabulary.reservedIn(text);
            if (reserved != null) {
                throw new DataException(source, i + 1, "the text holds " + reserved + ", a marker Recur reserves;"
                        + " remove or rewrite it: " + TextFiles.abbreviate(line));
            }
            into.add(new String[] {text, label, source + ":" + (i + 1)});
        }
    }

    private static LabelledText build(String source, List<String[]> raw) throws DataException {
        TreeSet<String> distinct = new TreeSet<>();
        raw.forEach(r -> distinct.add(r[1]));
        // "1" and "1.0" (or "01") as two classes is a spelling accident, not two classes.
        java.util.Map<java.math.BigDecimal, String[]> byNumber = new java.util.HashMap<>();
        for (String[] r : raw) {
            java.math.BigDecimal n = number(r[1]);
            if (n == null) {
                continue;
            }
            String[] first = byNumber.putIfAbsent(n.stripTrailingZeros(), r);
            if (first != null && !first[1].equals(r[1])) {
                throw new DataException(source, "labels '" + first[1] + "' (" + first[2] + ") and '" + r[1] + "' ("
                        + r[2] + ") are the same number spelt two ways; use one spelling for each class");
            }
        }
        List<String> classes = new ArrayList<>(distinct);
        if (classes.stream().allMatch(LabelledText::isInteger)) {
            classes.sort(Comparator.comparing(java.math.BigInteger::new));
        }
        if (classes.size() < 2) {
            throw new DataException(source, "only one class ('" + classes.get(0) + "') among " + raw.size()
                    + " examples; a classifier needs at least two");
        }
        List<Example> examples = new ArrayList<>(raw.size());
        for (String[] r : raw) {
            examples.add(new Example(r[0], classes.indexOf(r[1])));
        }
        return new LabelledText(source, examples, classes);
    }

    private static java.math.BigDecimal number(String s) {
        if (!s.matches("[+-]?(\\d{1,100}(\\.\\d{0,100})?|\\.\\d{1,100})([eE][+-]?\\d{1,4})?")) {
            return null;
        }
        return new java.math.BigDecimal(s);
    }

    private static boolean isInteger(String s) {
        return s.matches("[+-]?\\d{1,100}");
    }

    /** The file(s) or name of the data. */
    public String source() {
        return source;
    }

    /** Every example, in file order; unmodifiable. */
    public List<Example> examples() {
        return examples;
    }

    /** The labels as written, by class id; unmodifiable. */
    public List<String> classes() {
        return classes;
    }

    /** The number of classes, at least 2. */
    public int classCount() {
        return classes.size();
    }

    /** How many examples each class has, by class id. */
    public int[] classCounts() {
        int[] counts = new int[classes.size()];
        examples.forEach(e -> counts[e.label()]++);
        return counts;
    }

    /**
     * A seeded random split, as {@link RandomSplit} describes.
     *
     * @param testFraction in {@code (0, 1)}
     * @throws DataException when either side would be empty
     */
    public Split split(double testFraction, long seed) throws DataException {
        RandomSplit<Example> s = RandomSplit.of(examples, testFraction, seed, source);
        return new Split(s.train(), s.test());
    }

    /**
     * A seeded three-way split: the test part as {@link #split(double, long)} makes it (or
     * stratified by class), then the validation part carved from the rest the same way, shuffled
     * with {@code Random(seed + 1)}, holding at least one example.
     *
     * @param testFraction       in {@code (0, 1)}, of all the examples
     * @param validationFraction in {@code (0, 1)}, of the training part
     * @param stratify           hold out each class in its share of the data
     * @throws DataException when a part would be empty
     */
    public Parts split(double testFraction, double validationFraction, long seed, boolean stratify)
            throws DataException {
        RandomSplit<Example> test = RandomSplit.of(examples, testFraction, seed, source,
                stratify ? Example::label : null, 0, "testing");
        RandomSplit<Example> validation = RandomSplit.of(test.train(), validationFraction, seed + 1, source,
                stratify ? Example::label : null, 1, "validation");
        return new Parts(validation.train(), validation.test(), test.test());
    }

    @Override
    public String toString() {
        return "LabelledText{" + source + ", " + examples.size() + " examples, classes=" + classes
                + ", counts=" + java.util.Arrays.toString(classCounts()) + "}";
    }
}
