package dev.recur.models.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A seeded random split of examples into a training and a test part: the examples are shuffled
 * with {@code java.util.Random(seed)} (whose sequence the Java specification fixes, so a seed
 * gives the same split on every JVM), then the first {@code round(n * testFraction)} become the
 * test part and the rest the training part, both in shuffled order.
 */
record RandomSplit<T>(List<T> train, List<T> test) {

    /**
     * @param testFraction in {@code (0, 1)}
     * @param source       what an error message calls the data
     * @throws DataException when either part would be empty
     */
    static <T> RandomSplit<T> of(List<T> examples, double testFraction, long seed, String source)
            throws DataException {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
        }
        List<T> shuffled = new ArrayList<>(examples);
        Collections.shuffle(shuffled, new Random(seed));
        int test = (int) Math.round(shuffled.size() * testFraction);
        if (test < 1 || test >= shuffled.size()) {
            throw new DataException(source, shuffled.size() + " examples are too few to hold out " + testFraction
                    + " of them for testing and keep some for training");
        }
        return new RandomSplit<>(List.copyOf(shuffled.subList(test, shuffled.size())),
                List.copyOf(shuffled.subList(0, test)));
    }
}
