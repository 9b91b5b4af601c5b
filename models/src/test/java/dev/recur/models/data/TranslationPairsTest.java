package dev.recur.models.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
