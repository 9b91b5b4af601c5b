package dev.recur.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextCorpusTest {

    @TempDir
    Path dir;

    /** 100 characters cycling through 'a'..'j', so ids are easy to follow. */
    private static String letters(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append((char) ('a' + i % 10));
        }
        return s.toString();
    }

    @Test
    void lastTenthIsValidation() throws DataException {
        TextCorpus c = TextCorpus.of("t", letters(105));
        assertEquals(105, c.length());
        assertEquals(95, c.trainIds().length); // 105 - 105/10
        assertEquals(10, c.validationIds().length);
        assertArrayEquals(c.vocabulary().encode(letters(105).substring(95)), c.validationIds());
        assertEquals(10, c.vocabulary().size());
    }

    @Test
    void rowsWalkTheirOwnStripesAndBatchesContinueEachOther() throws DataException {
        int[] ids = new int[103];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i; // id = position in the text
        }
        CharBatches batches = new CharBatches("t", ids, 4, 5); // L = 25, (25 - 1) / 5 = 4 batches per epoch
        assertEquals(25, batches.stripeLength());
        assertEquals(4, batches.batchesPerEpoch());

        CharBatch first = batches.next();
        CharBatch second = batches.next();
        for (int b = 0; b < 4; b++) {
            for (int t = 0; t <= 5; t++) {
                assertEquals(b * 25 + t, first.token(t, b), "row " + b + " time " + t);
                assertEquals(b * 25 + 5 + t, second.token(t, b));
            }
            // The next batch starts with the last target of this one.
            assertEquals(first.token(5, b), second.token(0, b));
        }
        // Inputs and targets are the first and last T rows of the T+1, time-major [T, B].
        int[] in = first.inputs();
        int[] tg = first.targets();
        assertEquals(20, in.length);
        for (int t = 0; t < 5; t++) {
            for (int b = 0; b < 4; b++) {
                assertEquals(first.token(t, b), in[t * 4 + b]);
                assertEquals(in[t * 4 + b] + 1, tg[t * 4 + b]);
            }
        }
        assertTrue(first.startsEpoch());
        assertFalse(second.startsEpoch());
    }

    @Test
    void epochsWrapAroundToTheStripeStarts() throws DataException {
        int[] ids = new int[60];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        CharBatches batches = new CharBatches("t", ids, 2, 4); // L = 30, 29 / 4 = 7 per epoch
        List<CharBatch> all = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            all.add(batches.next());
        }
        assertEquals(15, batches.position());
        assertEquals(1, all.get(7).epoch());
        assertEquals(0, all.get(7).indexInEpoch());
        assertTrue(all.get(7).startsEpoch());
        assertArrayEquals(all.get(0).tokens(), all.get(7).tokens());
        assertArrayEquals(all.get(1).tokens(), all.get(8).tokens());
        assertArrayEquals(all.get(0).tokens(), all.get(14).tokens());
        assertEquals(2, all.get(14).epoch());
        // The last batch of an epoch ends inside the stripe: 6 * 4 + 4 = 28 < 30.
        assertEquals(28, all.get(6).token(4, 0));
    }

    @Test
    void aResumedRunSeesTheSameBatches() throws DataException {
        TextCorpus c = TextCorpus.of("t", letters(5000));
        CharBatches straight = c.trainBatches(8, 16);
        List<int[]> expected = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            expected.add(straight.next().tokens());
        }
        CharBatches first = c.trainBatches(8, 16);
        for (int i = 0; i < 37; i++) {
            first.next();
        }
        int saved = first.position(); // what a checkpoint stores as data_position
        CharBatches resumed = TextCorpus.of("t", letters(5000)).trainBatches(8, 16);
        resumed.seek(Integer.parseInt(Integer.toString(saved)));
        for (int i = 37; i < 80; i++) {
            assertArrayEquals(expected.get(i), resumed.next().tokens(), "batch " + i);
        }
    }

    @Test
    void tooShortForOneBatchSaysWhatIsNeeded() throws DataException {
        TextCorpus c = TextCorpus.of("tiny.txt", letters(100)); // 90 train, 10 validation
        DataException e = assertThrows(DataException.class, () -> c.trainBatches(8, 16));
        assertEquals("tiny.txt (training part): has 90 characters, too few for one batch of 8 sequences of 16 steps"
                + " (needs 8 x (16 + 1) = 136); use a smaller batch size or fewer steps", e.getMessage());
        assertEquals(1, c.trainBatches(5, 17).batchesPerEpoch()); // exactly B * (T + 1) = 90
        assertThrows(DataException.class, () -> c.validationBatches(1, 10));
        assertEquals(1, c.validationBatches(1, 9).batchesPerEpoch());
    }

    @Test
    void readsUtf8FilesAndRefusesOthers() throws IOException {
        Path good = Files.writeString(dir.resolve("good.txt"), "caf\u00e9 \u00e9t\u00e9\n", StandardCharsets.UTF_8);
        assertEquals(7, TextCorpus.read(good).vocabulary().size()); // c a f \u00e9 space t newline

        Path latin1 = Files.write(dir.resolve("latin1.txt"), "line one\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        DataException e = assertThrows(DataException.class, () -> TextCorpus.read(latin1));
        assertEquals(latin1 + ":2: not valid UTF-8 (byte 0xE9 at byte offset 12); save the file as UTF-8", e.getMessage());

        Path empty = Files.write(dir.resolve("empty.txt"), new byte[0]);
        assertEquals(empty + ": the text is empty", assertThrows(DataException.class, () -> TextCorpus.read(empty)).getMessage());

        Path missing = dir.resolve("missing.txt");
        assertEquals(missing + ": no such file", assertThrows(DataException.class, () -> TextCorpus.read(missing)).getMessage());
    }

    @Test
    void withVocabularyNamesLineAndColumnOfAnUnknownCharacter() throws DataException {
        CharVocabulary trained = CharVocabulary.of("abc\n");
        TextCorpus c = TextCorpus.of("new.txt", "abc\ncab\nbaz\n");
        DataException e = assertThrows(DataException.class, () -> c.withVocabulary(trained));
        assertEquals("new.txt:3: column 3: character 'z' (U+007A) is not in the vocabulary (4 characters) the model was trained with",
                e.getMessage());
        TextCorpus ok = TextCorpus.of("x", "cab\n").withVocabulary(trained);
        assertArrayEquals(new int[] {3, 1, 2, 0}, ok.ids());
        assertEquals(trained, ok.vocabulary());
    }

    @Test
    void theDefaultCorpusIsOriginalAsciiProseOfTheRightSize() throws DataException {
        TextCorpus c = TextCorpus.defaultCorpus();
        assertTrue(c.length() >= 20_000 && c.length() <= 40_000, "length " + c.length());
        assertTrue(c.text().chars().allMatch(ch -> ch == '\n' || (ch >= 32 && ch < 127)), "plain ASCII");
        assertTrue(c.vocabulary().size() >= 40 && c.vocabulary().size() <= 96, "vocabulary " + c.vocabulary());
        // Big enough for a small char-LM run: 16 rows of 64 steps in training, 4 rows in validation.
        assertTrue(c.trainBatches(16, 64).batchesPerEpoch() >= 20);
        assertTrue(c.validationBatches(4, 64).batchesPerEpoch() >= 5);
    }

    /** A named pipe made with mkfifo, or null where there is none (the test then skips that part). */
    static Path fifo(Path dir) throws Exception {
        Path p = dir.resolve("pipe");
        try {
            Process mk = new ProcessBuilder("mkfifo", p.toString()).start();
            if (mk.waitFor() == 0) {
                return p;
            }
        } catch (IOException e) {
            // reported below
        }
        System.out.println("no mkfifo here: the named-pipe cases are not tried");
        return null;
    }

    @Test
    void pipesDevicesAndHugeFilesAreRefusedWithoutReading(@TempDir Path dir) throws Exception {
        Path pipe = fifo(dir);
        if (pipe != null) {
            DataException e = assertThrows(DataException.class, () -> TextCorpus.read(pipe));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
        Path zero = Path.of("/dev/zero");
        if (Files.exists(zero)) {
            DataException e = assertThrows(DataException.class, () -> TextCorpus.read(zero));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
        Path big = dir.resolve("big.txt");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(TextFiles.MAX_BYTES + 1); // sparse: no disk used
        }
        DataException e = assertThrows(DataException.class, () -> TextCorpus.read(big));
        assertTrue(e.getMessage().contains("more than the"), e.getMessage());
    }
}
