package dev.recur.models.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TranslationPairsTest {

    @Test
    void readsTatoebaLinesIgnoringFurtherColumnsAndBlankLines() throws DataException {
        TranslationPairs p = TranslationPairs.parse("t", "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n\n"
                + "  Hi.  \t Salut ! \r\nWe must go home now.\tNous devons rentrer maintenant.\n");
        assertEquals(List.of(new TranslationPairs.Pair("Go.", "Va !", 1), new TranslationPairs.Pair("Hi.", "Salut !", 3),
                new TranslationPairs.Pair("We must go home now.", "Nous devons rentrer maintenant.", 4)), p.pairs());
        // "we must go home now ." is 6 tokens, "nous devons rentrer maintenant ." 5.
        assertEquals(2, p.atMost(5).pairs().size());
        assertEquals(3, p.atMost(6).pairs().size());
    }

    @Test
    void theValidationPartComesFromTheTrainingPartNeverTheTest() throws DataException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sb.append("s").append(i).append('\t').append("t").append(i).append('\n');
        }
        TranslationPairs p = TranslationPairs.parse("t", sb.toString());
        TranslationPairs.Split split = p.split(0.2, 0.1, 7);
        assertEquals(10, split.test().size());
        assertEquals(4, split.validation().size()); // round(40 * 0.1)
        assertEquals(36, split.train().size());
        Set<TranslationPairs.Pair> all = new HashSet<>(split.train());
        all.addAll(split.validation());
        all.addAll(split.test());
        assertEquals(50, all.size(), "the three parts share no pair");
        // The test part is the one a two-way split draws: adding validation does not change it.
        assertEquals(split.test(), p.split(0.2, 0.5, 7).test());
        // At least one validation pair, however small the fraction.
        assertEquals(1, p.split(0.2, 0.001, 7).validation().size());
        assertThrows(DataException.class, () -> TranslationPairs.parse("t", "a\tb\nc\td\n").split(0.5, 0.5, 1));
    }

    @Test
    void malformedLinesNameTheLine() {
        DataException e = assertThrows(DataException.class, () -> TranslationPairs.parse("t", "a\tb\n\tb\n"));
        assertEquals("t:2: no source sentence before the first TAB", e.getMessage());
        e = assertThrows(DataException.class, () -> TranslationPairs.parse("t", " \n"));
        assertEquals("t: no pairs: the data is empty or blank (expected lines of source<TAB>target)", e.getMessage());
    }

    @Test
    void reservedTokensTakeTheIdsAfterPadAndUnknown() {
        WordVocabulary v = WordVocabulary.build(List.of("un deux", "deux"), 1,
                List.of(WordVocabulary.BOS, WordVocabulary.EOS));
        assertEquals(List.of("<pad>", "<unk>", "<bos>", "<eos>", "deux", "un"),
                List.of(v.toStorageString().split("\n")));
        assertEquals(2, v.id(WordVocabulary.BOS));
        assertEquals(3, v.id(WordVocabulary.EOS));
        assertEquals(v, WordVocabulary.fromStorageString(v.toStorageString()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordVocabulary.build(List.of("a"), 1, List.of("bos")));
        assertEquals("reserved token 'bos' could be a word; use e.g. <bos>", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> WordVocabulary.build(List.of("a"), 1, List.of(WordVocabulary.EOS, WordVocabulary.EOS)));
        assertEquals("reserved token '<eos>' is <pad>, <unk> or listed twice", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WordVocabulary.build(List.of("a"), 1, List.of(" ")));
        assertEquals("reserved token ' ' is blank or holds white space", e.getMessage());
    }

    @Test
    void noBreakSpacesSeparateTokensAndAreNoneThemselves() {
        // French puts a narrow no-break space (U+202F) or a no-break space (U+00A0) before "!" and "?".
        assertEquals(List.of("va", "!"), WordVocabulary.tokenize("Va\u202F!"));
        assertEquals(List.of("vraiment", "?"), WordVocabulary.tokenize("Vraiment\u00A0?"));
    }

    @Test
    void aReservedMarkerInThePairsIsRefusedNamingTheLine() {
        DataException e = assertThrows(DataException.class,
                () -> TranslationPairs.parse("p", "Hi.\tSalut.\nEnd <eos> now.\tFin.\n"));
        assertTrue(e.getMessage().contains("<eos>, a marker Recur reserves"), e.getMessage());
        assertTrue(e.getMessage().contains("2"), e.getMessage());
    }
}
