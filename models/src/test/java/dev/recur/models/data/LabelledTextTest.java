package dev.recur.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelledTextTest {

    @TempDir
    Path dir;

    private Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void parsesSentenceTabLabelLinesLikeTheSentimentFiles() throws IOException {
        // As in the UCI files: spaces before the TAB, LF endings, a trailing newline.
        Path f = file("reviews.txt", "Great phone, works well.  \t1\nBattery died after a day.\t0\n\nLoved it!\t1\n");
        LabelledText data = LabelledText.read(f);
        assertEquals(List.of("0", "1"), data.classes());
        assertEquals(List.of(new LabelledText.Example("Great phone, works well.", 1),
                new LabelledText.Example("Battery died after a day.", 0),
                new LabelledText.Example("Loved it!", 1)), data.examples());
        assertArrayEquals(new int[] {1, 2}, data.classCounts());
    }

    @Test
    void integerLabelsSortNumericallyAndOthersAlphabetically() throws DataException {
        LabelledText numeric = LabelledText.parse("n", "a\t10\nb\t9\nc\t2\n");
        assertEquals(List.of("2", "9", "10"), numeric.classes());
        assertEquals(2, numeric.examples().get(0).label());
        LabelledText words = LabelledText.parse("w", "a\tpos\nb\tneg\nc\tneutral\n");
        assertEquals(List.of("neg", "neutral", "pos"), words.classes());
    }

    @Test
    void concatenatesSeveralFiles() throws IOException {
        LabelledText data = LabelledText.read(file("a.txt", "x\t0\ny\t1\n"), file("b.txt", "z\t1\n"));
        assertEquals(3, data.examples().size());
        assertTrue(data.source().endsWith("b.txt"), data.source());
    }

    @Test
    void refusalsNameTheFileAndLine() throws IOException {
        Path noTab = file("notab.txt", "fine\t1\nno tab here 0\n");
        assertEquals(noTab + ":2: expected text<TAB>label, found no TAB: 'no tab here 0'",
                assertThrows(DataException.class, () -> LabelledText.read(noTab)).getMessage());

        Path noLabel = file("nolabel.txt", "fine\t1\nother\t0\n\nthird\t \n");
        assertEquals(noLabel + ":4: no label after the TAB: 'third'",
                assertThrows(DataException.class, () -> LabelledText.read(noLabel)).getMessage());

        Path noText = file("notext.txt", " \t1\n");
        assertEquals(noText + ":1: no text before the TAB", assertThrows(DataException.class, () -> LabelledText.read(noText)).getMessage());

        Path empty = file("empty.txt", "\n  \n");
        assertTrue(assertThrows(DataException.class, () -> LabelledText.read(empty)).getMessage()
                .startsWith(empty + ": no examples"));

        Path single = file("single.txt", "good\t1\ngreat\t1\n");
        assertEquals(single + ": only one class ('1') among 2 examples; a classifier needs at least two",
                assertThrows(DataException.class, () -> LabelledText.read(single)).getMessage());

        Path missing = dir.resolve("missing.txt");
        assertEquals(missing + ": no such file", assertThrows(DataException.class, () -> LabelledText.read(missing)).getMessage());
    }

    private static LabelledText hundred() throws DataException {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            s.append("sentence ").append(i).append('\t').append(i % 2).append('\n');
        }
        return LabelledText.parse("hundred", s.toString());
    }

    @Test
    void seededSplitIsRepeatableDisjointAndComplete() throws DataException {
        LabelledText data = hundred();
        LabelledText.Split a = data.split(0.2, 42);
        LabelledText.Split b = data.split(0.2, 42);
        LabelledText.Split c = data.split(0.2, 43);
        assertEquals(a, b);
        assertNotEquals(a.test(), c.test());
        assertEquals(80, a.train().size());
        assertEquals(20, a.test().size());
        Set<LabelledText.Example> all = new HashSet<>(a.train());
        all.addAll(a.test());
        assertEquals(new HashSet<>(data.examples()), all);
        assertNotEquals(data.examples().subList(0, 20), a.test(), "shuffled");
        // Pinned: java.util.Random's sequence is specified, so this holds on every JVM.
        assertEquals("sentence 87", data.split(0.2, 42).test().get(0).text());
    }

    @Test
    void validationIsCarvedFromTheTrainingPartAndStratifiedOnRequest() throws DataException {
        // 90 of class 0, 10 of class 1: a plain split may leave the rare class out of a small part.
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            s.append("sentence ").append(i).append('\t').append(i % 10 == 0 ? 1 : 0).append('\n');
        }
        LabelledText data = LabelledText.parse("skewed", s.toString());
        LabelledText.Parts plain = data.split(0.2, 0.1, 5, false);
        assertEquals(data.split(0.2, 5).test(), plain.test(), "the test part as the two-way split makes it");
        assertEquals(72, plain.train().size());
        assertEquals(8, plain.validation().size());
        Set<LabelledText.Example> all = new HashSet<>(plain.train());
        all.addAll(plain.validation());
        all.addAll(plain.test());
        assertEquals(100, all.size(), "disjoint and complete");
        LabelledText.Parts strat = data.split(0.2, 0.1, 5, true);
        assertEquals(2, strat.test().stream().filter(e -> e.label() == 1).count(), "10% of the 20 test examples");
        assertEquals(18, strat.test().stream().filter(e -> e.label() == 0).count());
        assertEquals(1, strat.validation().stream().filter(e -> e.label() == 1).count(), "round(8 * 0.1)");
        assertEquals(7, strat.validation().stream().filter(e -> e.label() == 0).count(), "round(72 * 0.1)");
        assertEquals(strat, data.split(0.2, 0.1, 5, true), "seeded");
        // A validation fraction too small to round to one example still holds one out.
        assertEquals(1, data.split(0.2, 0.001, 5, false).validation().size());
    }

    @Test
    void splitRefusesAnEmptySide() throws DataException {
        LabelledText two = LabelledText.parse("two", "a\t0\nb\t1\n");
        assertThrows(DataException.class, () -> two.split(0.1, 1)); // round(0.2) = 0 test examples
        assertEquals(1, two.split(0.5, 1).test().size());
    }

    @Test
    void tokensAreLowerCasedWordsAndPunctuation() {
        assertEquals(List.of("don't", "buy", "it", "!", "the", "2nd", "one", "was", "ok", "."),
                WordVocabulary.tokenize("Don't BUY it!  The 2nd one was OK."));
        assertEquals(List.of(), WordVocabulary.tokenize("   "));
    }

    @Test
    void vocabularyKeepsFrequentWordsInADeterministicOrder() {
        WordVocabulary v = WordVocabulary.build(List.of("the cat sat", "the dog sat", "a bird"), 2);
        assertEquals(List.of("<pad>", "<unk>", "sat", "the"), List.of(v.word(0), v.word(1), v.word(2), v.word(3)));
        assertEquals(4, v.size());
        assertArrayEquals(new int[] {3, 1, 2, 1}, v.encode("The cow sat quietly"));
        assertEquals(v, WordVocabulary.fromStorageString(v.toStorageString()));
        WordVocabulary all = WordVocabulary.build(List.of("b a", "a"), 1);
        assertEquals("<pad>\n<unk>\na\nb", all.toStorageString()); // count 2 before count 1
        assertThrows(IllegalArgumentException.class, () -> WordVocabulary.fromStorageString("a\nb"));
    }

    @Test
    void batchesArePaddedTimeMajorWithLengthsAndLabels() {
        WordVocabulary v = WordVocabulary.build(List.of("good film", "bad film", "good good plot"), 1);
        List<LabelledText.Example> ex = new ArrayList<>(List.of(
                new LabelledText.Example("good film", 1),
                new LabelledText.Example("bad", 0),
                new LabelledText.Example("good bad good film plot", 1),
                new LabelledText.Example("...", 0)));
        PaddedBatch p = v.batch(ex, 4);
        assertEquals(4, p.batchSize());
        assertEquals(4, p.maxLength());                           // the third is cut to 4 tokens
        assertArrayEquals(new int[] {2, 1, 4, 3}, p.lengths());  // "..." is three "." tokens, all unknown
        assertArrayEquals(new int[] {1, 0, 1, 0}, p.labels());
        int good = v.id("good");
        int film = v.id("film");
        assertEquals(good, p.token(0, 0));
        assertEquals(film, p.token(1, 0));
        assertEquals(WordVocabulary.PAD_ID, p.token(2, 0));
        assertEquals(WordVocabulary.PAD_ID, p.token(3, 0));
        assertEquals(v.id("plot"), v.id("plot"));
        assertEquals(film, p.token(3, 2));
        assertEquals(WordVocabulary.UNK_ID, p.token(0, 3));
        assertEquals(16, p.tokens().length); // [L, B]
        assertEquals(p.token(1, 2), p.tokens()[1 * 4 + 2]);
    }

    @Test
    void oneNumberSpeltTwoWaysAndReservedMarkersAreRefusedNamingTheLines() {
        DataException e = assertThrows(DataException.class,
                () -> LabelledText.parse("d", "good\t1\nbad\t0\nfine\t1.0\n"));
        assertTrue(e.getMessage().contains("labels '1' (d:1) and '1.0' (d:3) are the same number"), e.getMessage());
        e = assertThrows(DataException.class, () -> LabelledText.parse("d", "good\t1\nsee <PAD> here\t0\n"));
        assertTrue(e.getMessage().contains("d:2") || e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("<pad>, a marker Recur reserves"), e.getMessage());
    }
}
