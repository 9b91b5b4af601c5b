package dev.recur.models.seq2seq;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BleuTest {

    static List<String> words(String s) {
        return s.isEmpty() ? List.of() : List.of(s.split(" "));
    }

    @Test
    void handComputedSentence() {
        // candidate a b c d e, reference a b c d f g: n-gram precisions 4/5, 3/4, 2/3, 1/2, geometric
        // mean 0.2^(1/4); 5 candidate words against 6 give the brevity penalty exp(1 - 6/5).
        double want = Math.exp(-0.2) * Math.pow(0.2, 0.25); // 0.54752...
        assertEquals(want, Bleu.corpus(List.of(words("a b c d e")), List.of(words("a b c d f g"))), 1e-12);
    }

    @Test
    void countsAreClippedAndSummedOverTheCorpus() {
        // "the the the the" against "the cat the mat" alone has no matching bigram: 0.
        assertEquals(0.0, Bleu.corpus(List.of(words("the the the the")), List.of(words("the cat the mat"))));
        // Beside a perfect 4-word sentence the corpus counts are: unigrams (2 + 4)/(4 + 4), bigrams
        // (0 + 3)/(3 + 3), trigrams (0 + 2)/(2 + 2), 4-grams (0 + 1)/(1 + 1); equal lengths, no penalty.
        double want = Math.pow(6.0 / 8 * 3.0 / 6 * 2.0 / 4 * 1.0 / 2, 0.25);
        assertEquals(want, Bleu.corpus(List.of(words("the the the the"), words("w x y z")),
                List.of(words("the cat the mat"), words("w x y z"))), 1e-12);
    }

    @Test
    void identicalIsOneAndEmptyIsZero() {
        assertEquals(1.0, Bleu.corpus(List.of(words("il fait beau ce matin")), List.of(words("il fait beau ce matin"))),
                1e-12);
        assertEquals(0.0, Bleu.corpus(List.of(words("")), List.of(words("a b"))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bleu.corpus(List.of(words("a")), List.of()));
        assertEquals("BLEU: 1 candidates but 0 references", e.getMessage());
    }
}
