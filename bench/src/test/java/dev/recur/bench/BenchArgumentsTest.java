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
            ''                              | say what to measure: lstm, gru, rnn, options, gemm, peak, data-parallel, report, jmh
            bogus                           | unknown measurement 'bogus' (one of: lstm, gru, rnn, options, gemm, peak, data-parallel, report, jmh)
            --batch 4                       | say what to measure before the options: lstm, gru, rnn, options, gemm, peak, data-parallel, report, jmh
            --backend cpu lstm              | say what to measure before the options: lstm, gru, rnn, options, gemm, peak, data-parallel, report, jmh
            lstm --batch 0                  | invalid value for option '--batch': must be >= 1, got 0
            lstm --batch many               | invalid value for option '--batch': not an integer: 'many'
            gru --hidden -3                 | invalid value for option '--hidden': must be >= 1, got -3
            rnn --iters 0                   | invalid value for option '--iters': must be >= 1, got 0
            lstm --warmup -1                | invalid value for option '--warmup': must be >= 0, got -1
            lstm --steps                    | missing required parameter for option '--steps' (T)
            lstm --steps 3 --steps 4        | option '--steps' (T) should be specified only once
            lstm --layers 2                 | unknown option '--layers'
            lstm extra                      | unexpected argument 'extra'
            lstm --peer torhc               | invalid value for option '--peer': unknown peer 'torhc' (the peers are: torch, dl4j)
            lstm --backend dl4j             | dl4j is a peer, not a Recur engine: use --peer dl4j
            lstm --backend=                 | option '--backend' needs an engine name
            lstm --peak 0                   | invalid value for option '--peak': must be a number > 0, got '0'
            lstm --peak fast                | invalid value for option '--peak': not a number: 'fast'
            options --proj-size 512         | option '--proj-size' must be smaller than --hidden 512, got 512
            options --cell rnn_tanh         | option '--cell' needs an LSTM or GRU cell for the cell options, got rnn_tanh
            options --zoneout 0             | options '--recurrent-dropout' and '--zoneout' must be > 0 here (a row with them off is the plain row), got 0.25 and 0.0
            gemm --m 0                      | invalid value for option '--m': must be >= 1, got 0
            gemm --trans-b=yes              | invalid value for option '--trans-b': 'yes' is not a boolean
            peak --seconds -1               | invalid value for option '--seconds': must be a number > 0, got '-1'
            peak --threads 0                | invalid value for option '--threads': must be >= 1, got 0
            peak --backend cpu              | unknown option '--backend'
            data-parallel --batch 63        | option '--batch' must be a multiple of --ranks (2), got 63
            data-parallel --peer dl4j       | option '--peer' of data-parallel takes torch, got 'dl4j'
            data-parallel --ranks 0         | invalid value for option '--ranks': must be >= 1, got 0
            report --date 2024-13-01        | invalid value for option '--date': needs YYYY-MM-DD, got '2024-13-01'
            report --gemm 0                 | invalid value for option '--gemm': must be >= 1, got 0
            report --peer dl4j              | unknown option '--peer' (did you mean --peak-seconds?)
            lstm --hiden 8                  | unknown option '--hiden' (did you mean --hidden?)
            gemm --trans-a                  | unknown option '--trans-a' (did you mean --trans-b?)
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
        assertTrue(top.out().matches("(?s).*\n  bench +measure an engine beside PyTorch and DL4J.*"), top::toString);
        Streams help = Streams.recur("help", "bench");
        assertEquals(Recur.EXIT_OK, help.status);
        assertTrue(help.out().contains("Usage: recur bench <what> [options]\n"), help::toString);
        assertEquals(help.out(), Streams.recur("bench", "lstm", "--help").out());
    }

    /** The generated help names every measurement, and every option of each with its default. */
    @Test
    void helpListsEveryMeasurementAndOption() {
        String help = Streams.recur("help", "bench").out();
        for (String what : BenchCommand.WHAT.split(", ")) {
            assertTrue(help.matches("(?s).*\n  " + what + "(, [a-z_]+)? +\\S.*"), what + " not listed:\n" + help);
        }
        for (String synopsis : List.of("recur bench lstm | gru | rnn [options]", "recur bench gemm ",
                "recur bench peak ", "recur bench data-parallel ", "recur bench report ", "recur bench jmh [--] [JMH options]")) {
            assertTrue(help.contains("Usage: " + synopsis), synopsis + " missing:\n" + help);
        }
        for (String option : List.of("--backend=NAME", "--peer=NAME", "--iters=N", "--warmup=N", "--peak=GFLOPS",
                "--batch=B", "--input=I", "--hidden=H", "--steps=T", "--m=M", "--n=N", "--k=K", "--trans-b",
                "--threads=N", "--seconds=S", "--out=DIR", "--date=YYYY-MM-DD", "--no-peer", "--gemm=N",
                "--peak-seconds=S", "JMH-OPTION")) {
            assertTrue(help.contains(option), option + " missing:\n" + help);
        }
        for (String defaults : List.of("Default: 64", "Default: 512", "Default: 100", "Default: 1024", "Default: 5",
                "Default: 2", "Default: 0.5", "Default: bench/results", "Default: auto")) {
            assertTrue(help.contains(defaults), defaults + " missing:\n" + help);
        }
    }

    /** Every spelling the scripts use (bin/gpu-bench's rnn_tanh, upper case, --name=value) still parses. */
    @ParameterizedTest(name = "recur bench {0}")
    @CsvSource(delimiter = '|', textBlock = """
            rnn_tanh --backend nosuch --batch 2 --input 4 --hidden 4 --steps 2 --iters 1 --warmup 0 --peak 1
            LSTM --backend=nosuch --batch=2 --peak=1
            gemm --backend nosuch --m 2 --n 2 --k 2 --trans-b --peer torch --peak 1
            report --backend nosuch --no-peer --iters 1 --warmup 0 --out /nonexistent/x --date 2024-01-02
            """)
    void scriptSpellingsParse(String args) {
        Streams s = Streams.recur(("bench " + args).split(" "));
        // Parsed and checked; the engine named is not there, so it fails at the first measurement.
        assertEquals(Recur.EXIT_FAILED, s.status, s::toString);
        assertTrue(s.err().contains("backend 'nosuch' was asked for but is not on the class path"), s::toString);
    }
}
