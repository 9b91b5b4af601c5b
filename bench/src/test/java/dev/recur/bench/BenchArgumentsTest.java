package dev.recur.bench;

import dev.recur.models.cli.Recur;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad arguments: exit status 2, nothing on stdout, one line on stderr that names the problem. */
class BenchArgumentsTest {

    @ParameterizedTest(name = "recur bench {0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                              | say what to measure: lstm, gru, rnn, gemm, peak, report, jmh
            bogus                           | unknown measurement 'bogus' (one of: lstm, gru, rnn, gemm, peak, report, jmh)
            --batch 4                       | say what to measure before the options: lstm, gru, rnn, gemm, peak, report, jmh
            lstm --batch 0                  | option '--batch' must be >= 1, got 0
            lstm --batch many               | option '--batch' needs an integer, got 'many'
            gru --hidden -3                 | option '--hidden' must be >= 1, got -3
            rnn --iters 0                   | option '--iters' must be >= 1, got 0
            lstm --warmup -1                | option '--warmup' must be >= 0, got -1
            lstm --steps                    | option '--steps' needs a value
            lstm --layers 2                 | unknown option '--layers'
            lstm extra                      | unexpected argument 'extra'
            lstm --peer torhc               | unknown peer 'torhc' (the peers are: torch, dl4j)
            lstm --backend dl4j             | dl4j is a peer, not a Recur engine: use --peer dl4j
            lstm --peak 0                   | option '--peak' must be a number > 0, got '0'
            lstm --peak fast                | option '--peak' needs a number, got 'fast'
            gemm --m 0                      | option '--m' must be >= 1, got 0
            gemm --trans-b=yes              | option '--trans-b' takes no value, got 'yes'
            peak --seconds -1               | option '--seconds' must be a number > 0, got '-1'
            peak --threads 0                | option '--threads' must be >= 1, got 0
            report --date 2024-13-01        | option '--date' needs YYYY-MM-DD, got '2024-13-01'
            report --gemm 0                 | option '--gemm' must be >= 1, got 0
            report --peer dl4j              | unknown option '--peer'
            """)
    void badArgumentsExitTwoWithOneLine(String args, String message) {
        String[] argv = args.isEmpty() ? new String[] {"bench"} : ("bench " + args).split(" ");
        Streams s = Streams.recur(argv);
        assertEquals(Recur.EXIT_USAGE, s.status, s::toString);
        assertEquals("", s.out(), s::toString);
        assertEquals(List.of("recur bench: " + message + "; see 'recur help bench'"), s.errLines(), s::toString);
    }

    @Test
    void badJmhOptionsAreUsageErrorsToo() {
        Streams s = Streams.recur("bench", "jmh", "--", "-f", "many");
        assertEquals(Recur.EXIT_USAGE, s.status, s::toString);
        assertEquals("", s.out());
        assertEquals(1, s.errLines().size(), s::toString);
        assertTrue(s.err().startsWith("recur bench: JMH: "), s::toString);
    }

    @Test
    void anEngineThatIsNotThereFailsWithExitOne() {
        Streams s = Streams.recur("bench", "lstm", "--backend", "nosuch", "--peak", "100");
        assertEquals(Recur.EXIT_FAILED, s.status, s::toString);
        assertEquals("", s.out());
        assertEquals(1, s.errLines().size(), s::toString);
        assertTrue(s.err().startsWith("recur bench: backend 'nosuch' was asked for but is not on the class path"),
                s::toString);
    }

    @Test
    void benchIsFoundThroughServiceLoaderAndHasHelp() {
        Streams top = Streams.recur("--help");
        assertEquals(Recur.EXIT_OK, top.status);
        assertTrue(top.out().matches("(?s).*\n  bench +measure an engine beside DL4J.*"), top::toString);
        Streams help = Streams.recur("help", "bench");
        assertEquals(Recur.EXIT_OK, help.status);
        assertTrue(help.out().startsWith("Usage: recur bench <what> [options]\n"), help::toString);
        assertEquals(help.out(), Streams.recur("bench", "lstm", "--help").out());
    }
}
