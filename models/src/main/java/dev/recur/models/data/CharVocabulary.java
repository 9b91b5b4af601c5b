package dev.recur.models.data;

import java.util.Arrays;

/**
 * The characters of a text, each given an id: the distinct Unicode code points, sorted
 * ascending, numbered from 0. A character-level language model has one input and one output per
 * id.
 *
 * <p>Characters are code points, not Java {@code char}s, so a character outside the Basic
 * Multilingual Plane (an emoji) is one symbol, not two surrogates. The vocabulary is stored in a
 * checkpoint's metadata as {@link #toStorageString()}, which is simply its characters in id
 * order, and restored with {@link #fromStorageString}. Immutable.
 */
public final class CharVocabulary {

    private final int[] codePoints; // [size], strictly ascending; id = index

    private CharVocabulary(int[] codePoints) {
        this.codePoints = codePoints;
    }

    /**
     * The sorted distinct characters of {@code text}.
     *
     * @throws IllegalArgumentException when the text is empty
     */
    public static CharVocabulary of(CharSequence text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("cannot build a vocabulary from empty text");
        }
        int[] distinct = text.codePoints().distinct().sorted().toArray();
        return new CharVocabulary(distinct);
    }

    /**
     * The vocabulary that {@link #toStorageString()} wrote.
     *
     * @throws IllegalArgumentException when {@code stored} is empty or its characters are not
     *                                  distinct and ascending
     */
    public static CharVocabulary fromStorageString(String stored) {
        int[] cps = stored.codePoints().toArray();
        if (cps.length == 0) {
            throw new IllegalArgumentException("stored vocabulary is empty");
        }
        for (int i = 1; i < cps.length; i++) {
            if (cps[i] <= cps[i - 1]) {
                throw new IllegalArgumentException("stored vocabulary must list distinct characters in ascending order; "
                        + describe(cps[i]) + " at " + i + " follows " + describe(cps[i - 1]));
            }
        }
        return new CharVocabulary(cps);
    }

    /** The characters in id order, as one string (see {@link #fromStorageString}). */
    public String toStorageString() {
        return new String(codePoints, 0, codePoints.length);
    }

    /** The number of characters (ids {@code 0 .. size()-1}). */
    public int size() {
        return codePoints.length;
    }

    /** Whether the character is in the vocabulary. */
    public boolean contains(int codePoint) {
        return Arrays.binarySearch(codePoints, codePoint) >= 0;
    }

    /**
     * The id of a character.
     *
     * @throws IllegalArgumentException when it is not in the vocabulary
     */
    public int id(int codePoint) {
        int i = Arrays.binarySearch(codePoints, codePoint);
        if (i < 0) {
            throw new IllegalArgumentException(describe(codePoint) + " is not in the vocabulary");
        }
        return i;
    }

    /** The character (code point) of an id. */
    public int codePoint(int id) {
        checkId(id);
        return codePoints[id];
    }

    /**
     * The ids of the characters of {@code text}, one per code point.
     *
     * @throws IllegalArgumentException naming the first character that is not in the vocabulary
     *                                  and its position (in code points)
     */
    public int[] encode(CharSequence text) {
        int[] cps = text.codePoints().toArray();
        int[] ids = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int id = Arrays.binarySearch(codePoints, cps[i]);
            if (id < 0) {
                throw new IllegalArgumentException(describe(cps[i]) + " at position " + i + " is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    /**
     * The text of these ids.
     *
     * @throws IllegalArgumentException for an id outside {@code 0 .. size()-1}
     */
    public String decode(int... ids) {
        int[] cps = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i]);
            cps[i] = codePoints[ids[i]];
        }
        return new String(cps, 0, cps.length);
    }

    private void checkId(int id) {
        if (id < 0 || id >= codePoints.length) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + codePoints.length);
        }
    }

    /** A character for messages: {@code 'é' (U+00E9)}, or just the code for controls. */
    static String describe(int codePoint) {
        String code = String.format("U+%04X", codePoint);
        return Character.isISOControl(codePoint) || Character.isWhitespace(codePoint)
                ? "character " + code
                : "character '" + Character.toString(codePoint) + "' (" + code + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharVocabulary v && Arrays.equals(codePoints, v.codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }

    /** The size and the characters, with controls escaped. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("CharVocabulary{size=").append(codePoints.length).append(", chars=\"");
        for (int cp : codePoints) {
            switch (cp) {
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '\r' -> s.append("\\r");
                case '\\' -> s.append("\\\\");
                case '"' -> s.append("\\\"");
                default -> {
                    if (Character.isISOControl(cp)) {
                        s.append(String.format("\\u%04x", cp));
                    } else {
                        s.appendCodePoint(cp);
                    }
                }
            }
        }
        return s.append("\"}").toString();
    }
}
