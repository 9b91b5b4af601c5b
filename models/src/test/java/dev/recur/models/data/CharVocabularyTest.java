package dev.recur.models.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CharVocabularyTest {

    @Test
    void idsAreTheSortedDistinctCharacters() {
        CharVocabulary v = CharVocabulary.of("hello, world\n");
        assertEquals("\n ,dehlorw", v.toStorageString());
        assertEquals(10, v.size());
        assertEquals(0, v.id('\n'));
        assertEquals('w', v.codePoint(9));
        assertArrayEquals(new int[] {5, 4, 6, 6, 7}, v.encode("hello"));
        assertEquals("hello, world\n", v.decode(v.encode("hello, world\n")));
    }

    @Test
    void charactersOutsideTheBmpAreOneSymbol() {
        String text = "a\uD83D\uDE00b"; // a, grinning face (one code point, two chars), b
        CharVocabulary v = CharVocabulary.of(text);
        assertEquals(3, v.size());
        assertEquals(3, v.encode(text).length);
        assertEquals(text, v.decode(v.encode(text)));
    }

    @Test
    void storageStringRoundTrips() {
        CharVocabulary v = CharVocabulary.of("The quick brown fox, 12\tjumps!\n\u00e9\uD83D\uDE00");
        assertEquals(v, CharVocabulary.fromStorageString(v.toStorageString()));
    }

    @Test
    void refusesWhatItCannotEncodeOrLoad() {
        CharVocabulary v = CharVocabulary.of("abc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.encode("abz"));
        assertEquals("character 'z' (U+007A) at position 2 is not in the vocabulary", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> v.decode(3));
        assertThrows(IllegalArgumentException.class, () -> v.decode(-1));
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.of(""));
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.fromStorageString(""));
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.fromStorageString("ba"));
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.fromStorageString("aa"));
        assertTrue(v.toString().contains("\"abc\""), v.toString());
    }
}
