package dev.recur.models.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every numeric option of every command refuses values out of its range or not numbers at all,
 * with exit status 2 and one line naming the option, before any work: negative counts, sizes past
 * 2^31 - 1, NaN, infinities, overflowing floats.
 */
class OptionLimitsTest {

    private static final Set<Class<?>> INTS = Set.of(int.class, Integer.class);
    private static final Set<Class<?>> FLOATS = Set.of(float.class, Float.class, double.class, Double.class);

    @Test
    void everyNumericOptionRefusesWhatItCannotHold() {
        List<String> tried = new ArrayList<>();
        for (Subcommand c : Recur.standard(List.of()).commands()) {
            if (!(c instanceof CliCommand command)) {
                continue;
            }
            for (OptionSpec o : command.spec().options()) {
                String name = o.longestName();
                List<String> bad;
                if (INTS.contains(o.type())) {
                    bad = List.of("-1", "2147483648", "1.5", "ten");
                } else if (FLOATS.contains(o.type())) {
                    bad = List.of("NaN", "Infinity", "-Infinity", "1e39", "-1");
                } else {
                    continue;
                }
                for (String v : bad) {
                    Streams s = Streams.run(Recur.standard(List.of()), c.name(), name, v);
                    assertEquals(Recur.EXIT_USAGE, s.status, c.name() + " " + name + " " + v + ": " + s.err() + s.out());
                    assertEquals(1, s.errLines().length - 1, "one line: " + s.err());
                    assertTrue(s.err().contains(name), s.err());
                    tried.add(c.name() + " " + name + " " + v);
                }
            }
        }
        assertTrue(tried.size() > 150, "went through the options: " + tried.size());
    }
}
