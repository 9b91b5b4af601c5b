package dev.recur.models.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.ServiceConfigurationError;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecurTest {

    /** A subcommand that records its arguments, to check what the dispatcher hands on. */
    private static class Echo implements Subcommand {
        List<String> got;

        @Override public String name() { return "echo"; }
        @Override public String summary() { return "print the arguments"; }
        @Override public String usage() { return "Usage: recur echo [ARG...]\n"; }

        @Override
        public int run(List<String> args, PrintStream out, PrintStream err) {
            got = args;
            // Its only option is --loud; after "--" everything is an argument.
            for (String a : args) {
                if (a.equals("--")) {
                    break;
                }
                if (a.startsWith("-") && !a.equals("--loud")) {
                    throw new UsageException("unknown option '" + a + "'");
                }
            }
            out.println(String.join(" ", args));
            return Recur.EXIT_OK;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "--help", "-h", "help"})
    void helpListsEveryCommandOnStdout(String arg) {
        Streams s = arg.isEmpty() ? Streams.run(Recur.standard()) : Streams.run(Recur.standard(), arg);
        assertEquals(Recur.EXIT_OK, s.status);
        assertEquals("", s.err());
        String out = s.out();
        assertTrue(out.startsWith("Usage: recur <command> [options]\n"), out);
        assertTrue(out.matches("(?s).*\n  info +show the Java runtime, the engines found and the one that would be chosen\n.*"), out);
        assertTrue(out.matches("(?s).*\n  train-lm +train a character-level language model.*"), out);
        assertTrue(out.matches("(?s).*\n  help +show this help, or a command's: recur help <command>\n.*"), out);
        assertTrue(out.contains("RECUR_JAVA_OPTS=-Drecur.backend=NAME or RECUR_BACKEND=NAME"), out);
        assertTrue(out.contains("Exit status: 0 done, 1 failed, 2 bad arguments."), out);
    }

    @Test
    void commandHelpComesFromHelpOrDashDashHelp() {
        Streams a = Streams.run(Recur.standard(), "help", "info");
        Streams b = Streams.run(Recur.standard(), "info", "--help");
        assertEquals(Recur.EXIT_OK, a.status);
        assertEquals(Recur.EXIT_OK, b.status);
        assertTrue(a.out().startsWith("Usage: recur info [--backend=NAME]\n"), a.out());
        assertEquals(a.out(), b.out());
    }

    @Test
    void unknownCommandIsOneLineNamingItAndExitTwo() {
        Streams s = Streams.run(Recur.standard(), "bogus", "--whatever");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("", s.out());
        assertArrayEquals(new String[] {
                "recur: unknown command 'bogus' (commands: info, train-lm, sample, classify, forecast, translate, help); see 'recur --help'", ""}, s.errLines());
    }

    @Test
    void unknownTopLevelOptionIsOneLineAndExitTwo() {
        Streams s = Streams.run(Recur.standard(), "--bogus");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("recur: unknown option '--bogus'; see 'recur --help'\n", s.err());
    }

    @Test
    void helpForAnUnknownCommandIsAUsageError() {
        Streams s = Streams.run(Recur.standard(), "help", "bogus");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("recur help: unknown command 'bogus' (commands: info, train-lm, sample, classify, forecast, translate, help); see 'recur --help'\n", s.err());
        s = Streams.run(Recur.standard(), "help", "info", "extra");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("recur help: unexpected argument 'extra'; see 'recur --help'\n", s.err());
    }

    @Test
    void versionIsPrinted() {
        Streams s = Streams.run(Recur.standard(), "--version");
        assertEquals(Recur.EXIT_OK, s.status);
        assertEquals("recur " + Recur.version() + "\n", s.out());
    }

    @Test
    void aPluggedInSubcommandGetsTheArgumentsAfterItsName() {
        Echo echo = new Echo();
        Recur recur = new Recur(List.of(echo));
        Streams s = Streams.run(recur, "echo", "a", "--loud", "b");
        assertEquals(Recur.EXIT_OK, s.status);
        assertEquals(List.of("a", "--loud", "b"), echo.got);
        assertEquals("a --loud b\n", s.out());
        assertTrue(recur.usage().matches("(?s).*\n  echo +print the arguments\n.*"), recur.usage());

        s = Streams.run(recur, "echo", "--quiet");
        assertEquals(Recur.EXIT_USAGE, s.status);
        assertEquals("recur echo: unknown option '--quiet'; see 'recur help echo'\n", s.err());
        // "--help" after "--" is an argument, not a request for help.
        s = Streams.run(recur, "echo", "--", "--help");
        assertEquals(Recur.EXIT_OK, s.status);
        assertFalse(s.out().startsWith("Usage"), s.out());
    }

    @Test
    void subcommandNamesMustBeUnique() {
        assertThrows(IllegalArgumentException.class, () -> new Recur(List.of(new Echo(), new Echo())));
        Subcommand help = new Echo() {
            @Override public String name() { return "help"; }
        };
        assertThrows(IllegalArgumentException.class, () -> new Recur(List.of(help)));
    }

    @Test
    void pluggedInSubcommandsAreFoundSortedAndListed() {
        Subcommand zeta = new Echo() {
            @Override public String name() { return "zeta"; }
        };
        Recur recur = Recur.standard(List.of(zeta, new Echo()));
        String usage = recur.usage();
        assertTrue(usage.matches("(?s).*\n  info +show the Java runtime.*"), usage);
        int info = usage.indexOf("  info ");
        int echo = usage.indexOf("  echo ");
        int z = usage.indexOf("  zeta ");
        assertTrue(info < echo && echo < z, "info first, then the plug-ins by name: " + usage);
        Streams s = Streams.run(recur, "echo", "x");
        assertEquals(Recur.EXIT_OK, s.status);
        assertEquals("x\n", s.out());
        assertEquals("", s.err());
    }

    @Test
    void aPlugInThatCannotLoadOrTakesANameIsLeftOutWithAWarning() {
        Subcommand info = new Echo() {
            @Override public String name() { return "info"; }
        };
        Iterable<Subcommand> plugins = () -> new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return i < 3;
            }

            @Override
            public Subcommand next() {
                switch (i++) {
                    case 0 -> throw new ServiceConfigurationError("dev.example.Broken: Provider not found");
                    case 1 -> {
                        return info;
                    }
                    case 2 -> {
                        return new Echo();
                    }
                    default -> throw new NoSuchElementException();
                }
            }
        };
        Recur recur = Recur.standard(plugins);
        Streams s = Streams.run(recur, "echo", "y");
        assertEquals(Recur.EXIT_OK, s.status);
        assertEquals("y\n", s.out());
        String[] err = s.errLines();
        assertEquals(3, err.length, s.err());
        assertEquals("recur: warning: a subcommand could not be loaded: dev.example.Broken: Provider not found", err[0]);
        assertTrue(err[1].startsWith("recur: warning: subcommand 'info' of "), err[1]);
        assertTrue(err[1].endsWith(" left out: the name is taken"), err[1]);
        assertEquals("", err[2]);
        // The shipped info is the one that runs.
        Streams i = Streams.run(recur, "info", "--help");
        assertTrue(i.out().startsWith("Usage: recur info [--backend=NAME]\n"), i.out());
    }

    @Test
    void helpListsBenchEvenWithoutTheBenchModuleAndSaysHowToRunIt() {
        Recur recur = Recur.standard(List.of());
        Streams help = Streams.run(recur, "--help");
        assertTrue(help.out().contains("  bench "), help.out());
        Streams bench = Streams.run(recur, "bench", "lstm");
        bench.assertOneLineFailure("recur: ", "bench module's class path", "./recur bench");
    }

    @Test
    void theInteropCommandsWithoutTheInteropModuleNameIt() {
        // models' own class path has no interop jar: export, import and import-keras come from there.
        for (String name : List.of("export", "import", "import-keras")) {
            Streams s = Streams.run(Recur.standard(), name, "--onnx", "x.onnx", "m.safetensors");
            s.assertOneLineFailure("recur: ", "'" + name + "'", "interop module's class path", "./recur " + name);
        }
    }

    @Test
    void aFailureNoCommandExpectedIsOneLineNotAStackTrace() {
        Subcommand broken = new Subcommand() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public String summary() {
                return "fails";
            }

            @Override
            public String usage() {
                return "usage: recur broken\n";
            }

            @Override
            public int run(List<String> args, PrintStream out, PrintStream err) {
                if (args.isEmpty()) {
                    throw new IllegalArgumentException("hidden size 100000 is too large");
                }
                throw new NullPointerException("x is null");
            }
        };
        Recur recur = new Recur(List.of(broken));
        Streams.run(recur, "broken").assertOneLineFailure("recur broken: ", "hidden size 100000 is too large");
        Streams npe = Streams.run(recur, "broken", "npe");
        assertEquals(Recur.EXIT_FAILED, npe.status);
        assertEquals("recur broken: unexpected java.lang.NullPointerException: x is null (RECUR_DEBUG=1 shows where)\n",
                npe.err());
    }
}
