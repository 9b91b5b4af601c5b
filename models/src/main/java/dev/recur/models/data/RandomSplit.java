package dev.recur.models.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * A seeded random split of examples into a kept part ({@link #train()}) and a held-out part
 * ({@link #test()}, or a validation part): the examples are shuffled with
 * {@code java.util.Random(seed)} (whose sequence the Java specification fixes, so a seed gives
 * the same split on every JVM), then the first {@code round(n * fraction)} are held out and the
 * rest kept, both in shuffled order.
 *
 * <p>Stratified (a {@code stratum} function, such as an example's class): each stratum gives
 * {@code round(count * fraction)} of its examples, the first of it in shuffled order, so the
 * held-out part has the classes in the proportions of the whole.
 */
record RandomSplit<T>(List<T> train, List<T> test) {

    /**
     * A plain split for testing: {@code round(n * testFraction)} held out.
     *
     * @param testFraction in {@code (0, 1)}
     * @param source       what an error message calls the data
     * @throws DataException when either part would be empty
     */
    static <T> RandomSplit<T> of(List<T> examples, double testFraction, long seed, String source)
            throws DataException {
        return of(examples, testFraction, seed, source, null, 0, "testing");
    }

    /**
     * @param fraction in {@code (0, 1)}
     * @param source   what an error message calls the data
     * @param stratum  the stratum of an example, or null for a plain split
     * @param minimum  hold out at least this many (the next ones in shuffled order)
     * @param part     what the held-out part is for, in the error message ("testing", "validation")
     * @throws DataException when either part would be empty
     */
    static <T> RandomSplit<T> of(List<T> examples, double fraction, long seed, String source,
                                 ToIntFunction<? super T> stratum, int minimum, String part) throws DataException {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("fraction must be in (0, 1), got " + fraction);
        }
        List<T> shuffled = new ArrayList<>(examples);
        Collections.shuffle(shuffled, new Random(seed));
        int n = shuffled.size();
        boolean[] held = new boolean[n];
        int count = 0;
        if (stratum == null) {
            count = (int) Math.round(n * fraction);
            for (int i = 0; i < count; i++) {
                held[i] = true;
            }
        } else {
            Map<Integer, Integer> sizes = new HashMap<>();
            shuffled.forEach(e -> sizes.merge(stratum.applyAsInt(e), 1, Integer::sum));
            Map<Integer, Integer> taken = new HashMap<>();
            for (int i = 0; i < n; i++) {
                int s = stratum.applyAsInt(shuffled.get(i));
                int quota = (int) Math.round(sizes.get(s) * fraction);
                if (taken.getOrDefault(s, 0) < quota) {
                    taken.merge(s, 1, Integer::sum);
                    held[i] = true;
                    count++;
                }
            }
        }
        for (int i = 0; i < n && count < minimum; i++) {
            if (!held[i]) {
                held[i] = true;
                count++;
            }
        }
        if (count < 1 || count >= n) {
            throw new DataException(source, n + " examples are too few to hold out " + fraction + " of them for "
                    + part + " and keep some for training");
        }
        List<T> kept = new ArrayList<>(n - count);
        List<T> out = new ArrayList<>(count);
        for (int i = 0; i < n; i++) {
            (held[i] ? out : kept).add(shuffled.get(i));
        }
        return new RandomSplit<>(List.copyOf(kept), List.copyOf(out));
    }
}
