package dev.recur.models.cli;

import dev.recur.api.Backends;
import dev.recur.api.BackendUnavailableException;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The {@code recur} command line: {@code recur <command> [options]}.
 *
 * <p>{@link #run} does all the work and returns the exit status, so tests call it with their own
 * streams; {@link #main} only passes its result to {@link System#exit}. Exit status:
 * {@link #EXIT_OK} done, {@link #EXIT_FAILED} the command ran and failed (for example no engine
 * can be used), {@link #EXIT_USAGE} bad arguments. Bad arguments print one line on stderr and no
 * stack trace.
 */
public final class Recur {

    /** The command did what was asked. */
    public static final int EXIT_OK = 0;
    /** The command ran and failed; stderr or its report says why. */
    public static final int EXIT_FAILED = 1;
    /** Bad arguments: unknown command or option, missing or malformed value. */
    public static final int EXIT_USAGE = 2;

    /** The benchmarks' subcommand, registered by the bench module's jar. */
    static final String BENCH = "bench";
    static final String BENCH_SUMMARY = "time the engines and their peers (PyTorch, DL4J) on RNN, LSTM, GRU and GEMM;"
            + " recur help bench";

    /**
     * Subcommands that other modules' jars register, by name, with the module that has each: run
     * without that jar (a library user's class path, models' own tests), a call names the module
     * instead of calling the command unknown.
     */
    static final Map<String, String> PLUGGED_IN = Map.of(BENCH, "bench", "export", "interop", "import", "interop",
            "import-keras", "interop");

    private final Map<String, Subcommand> commands = new LinkedHashMap<>();
    /** Subcommand providers that could not be used, each a line for stderr; see {@link #standard()}. */
    private final List<String> warnings = new ArrayList<>();

    /**
     * A command line with these subcommands, listed in this order in the help.
     *
     * @throws IllegalArgumentException when two share a name or one is called {@code help}
     */
    public Recur(List<Subcommand> subcommands) {
        for (Subcommand c : subcommands) {
            if (c.name().equals("help") || commands.putIfAbsent(c.name(), c) != null) {
                throw new IllegalArgumentException("subcommand name taken: " + c.name());
            }
        }
    }

    /**
     * The command line users get: the subcommands of this module ({@code info}, {@code train-lm}, ...),
     * then those that other jars on the class path register as
     * {@code META-INF/services/dev.recur.models.cli.Subcommand} ({@code export}, {@code import} and
     * {@code import-keras} from the interop module, {@code bench} from the bench module), sorted by name.
     */
    public static Recur standard() {
        return standard(ServiceLoader.load(Subcommand.class));
    }

    /**
     * {@link #standard()} with the plugged-in subcommands taken from {@code plugins}. One that
     * cannot be loaded ({@link ServiceConfigurationError}) or whose name is taken is left out, and
     * each run says so in one line on stderr, so that a broken jar does not take {@code recur info}
     * down with it.
     */
    static Recur standard(Iterable<Subcommand> plugins) {
        List<Subcommand> own = List.of(new InfoCommand(), new TrainLmCommand(), new SampleCommand(),
                new ClassifyCommand(), new ForecastCommand(), new TranslateCommand());
        List<Subcommand> found = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Iterator<Subcommand> it = plugins.iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                problems.add("a subcommand could not be loaded: " + e.getMessage());
            }
        }
        found.sort(Comparator.comparing(Subcommand::name));
        List<Subcommand> all = new ArrayList<>(own);
        for (Subcommand s : found) {
            String name = s.name();
            boolean taken = name.equals("help") || all.stream().anyMatch(c -> c.name().equals(name));
            if (taken) {
                problems.add("subcommand '" + name + "' of " + s.getClass().getName() + " left out: the name is taken");
            } else {
                all.add(s);
            }
        }
        Recur recur = new Recur(all);
        recur.warnings.addAll(problems);
        return recur;
    }

    /** The subcommands, in help order. */
    java.util.Collection<Subcommand> commands() {
        return java.util.Collections.unmodifiableCollection(commands.values());
    }

    public static void main(String[] args) {
        System.exit(standard().run(args, System.out, System.err));
    }

    /**
     * Runs one command line.
     *
     * @param args the arguments after {@code recur}
     * @return the exit status
     */
    public int run(String[] args, PrintStream out, PrintStream err) {
        for (String w : warnings) {
            err.println("recur: warning: " + w);
        }
        try {
            return dispatch(Arrays.asList(args), out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int dispatch(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            out.print(usage());
            return EXIT_OK;
        }
        String first = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (first) {
            case "help", "--help", "-h" -> {
                return help(rest, out, err);
            }
            case "--version" -> {
                out.println("recur " + version());
                return EXIT_OK;
            }
            default -> {
            }
        }
        if (first.startsWith("-")) {
            return usageError(err, "recur", "unknown option '" + first + "'", "recur --help");
        }
        Subcommand command = commands.get(first);
        if (command == null && PLUGGED_IN.containsKey(first)) {
            err.println("recur: '" + first + "' runs with the " + PLUGGED_IN.get(first) + " module's class path,"
                    + " which this one lacks; run it through the recur launcher at the repository's root (./recur "
                    + first + " ...)");
            return EXIT_FAILED;
        }
        if (command == null) {
            return usageError(err, "recur", "unknown command '" + first + "' (commands: " + commandNames() + ")",
                    "recur --help");
        }
        String prefix = "recur " + command.name();
        // --help anywhere before "--" wins over every other argument, as in git and javac.
        for (String a : rest) {
            if (a.equals("--")) {
                break;
            }
            if (a.equals("--help") || a.equals("-h")) {
                out.print(command.usage());
                return EXIT_OK;
            }
        }
        try {
            return command.run(rest, out, err);
        } catch (UsageException e) {
            return usageError(err, prefix, e.getMessage(), "recur help " + command.name());
        } catch (BackendUnavailableException e) {
            // An expected condition of the machine, not a bug: one line, no stack trace.
            err.println(prefix + ": " + e.getMessage());
            return EXIT_FAILED;
        } catch (RuntimeException e) {
            // A refusal a command did not turn into its own line (a size the engine cannot hold,
            // say), or a bug: one line either way; RECUR_DEBUG=1 adds the stack trace.
            boolean refusal = e instanceof IllegalArgumentException || e instanceof IllegalStateException;
            err.println(prefix + ": " + (refusal && e.getMessage() != null ? e.getMessage()
                    : "unexpected " + e.getClass().getName() + ": " + e.getMessage() + " (RECUR_DEBUG=1 shows where)"));
            debug(e, err);
            return EXIT_FAILED;
        } catch (OutOfMemoryError e) {
            err.println(prefix + ": ran out of memory (" + e.getMessage() + "); give the JVM more with"
                    + " RECUR_JAVA_OPTS=-Xmx..., or use a smaller model or batch");
            debug(e, err);
            return EXIT_FAILED;
        }
    }

    private static void debug(Throwable e, PrintStream err) {
        if (System.getenv("RECUR_DEBUG") != null) {
            e.printStackTrace(err);
        }
    }

    private int help(List<String> rest, PrintStream out, PrintStream err) {
        if (rest.isEmpty()) {
            out.print(usage());
            return EXIT_OK;
        }
        if (rest.size() > 1) {
            return usageError(err, "recur help", "unexpected argument '" + rest.get(1) + "'", "recur --help");
        }
        String name = rest.get(0);
        if (name.equals("help")) {
            out.print(usage());
            return EXIT_OK;
        }
        Subcommand command = commands.get(name);
        if (command == null) {
            return usageError(err, "recur help", "unknown command '" + name + "' (commands: " + commandNames() + ")",
                    "recur --help");
        }
        out.print(command.usage());
        return EXIT_OK;
    }

    private static int usageError(PrintStream err, String prefix, String message, String seeAlso) {
        err.println(prefix + ": " + message + "; see '" + seeAlso + "'");
        return EXIT_USAGE;
    }

    /** The top-level help text. */
    public String usage() {
        int width = BENCH.length();
        for (String name : commands.keySet()) {
            width = Math.max(width, name.length());
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: recur <command> [options]\n");
        sb.append("\n");
        sb.append("Recur trains recurrent sequence models (RNN, LSTM, GRU) on the best engine this machine has.\n");
        sb.append("\n");
        sb.append("Commands:\n");
        for (Subcommand c : commands.values()) {
            sb.append(String.format("  %-" + width + "s  %s%n", c.name(), c.summary()));
        }
        if (!commands.containsKey(BENCH)) {
            // The launcher runs `recur bench` with the bench module's class path (JMH, DL4J).
            sb.append(String.format("  %-" + width + "s  %s%n", BENCH, BENCH_SUMMARY));
        }
        sb.append(String.format("  %-" + width + "s  %s%n", "help", "show this help, or a command's: recur help <command>"));
        sb.append("\n");
        sb.append("Options:\n");
        sb.append("  -h, --help   show this help (after a command: that command's help)\n");
        sb.append("  --version    show the version\n");
        sb.append("\n");
        sb.append("Choosing an engine: the lowest-ranked available one is used unless one is forced with\n");
        sb.append("  RECUR_JAVA_OPTS=-D" + Backends.PROPERTY + "=NAME or " + Backends.ENVIRONMENT
                + "=NAME (the property wins).\n");
        sb.append("Exit status: 0 done, 1 failed, 2 bad arguments.\n");
        return sb.toString();
    }

    private String commandNames() {
        return String.join(", ", commands.keySet()) + (commands.isEmpty() ? "" : ", ") + "help";
    }

    /** The version from the jar's manifest, or "dev" when running from class folders. */
    static String version() {
        String v = Recur.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
