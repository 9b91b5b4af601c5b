package dev.recur.models.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * One {@code recur} subcommand ({@code info}, later {@code train-lm}, {@code sample}, ...).
 *
 * <p>Order of calls: {@link Recur} lists {@link #name()} and {@link #summary()} in its help;
 * {@code recur help NAME} and {@code recur NAME --help} print {@link #usage()}; {@code recur NAME
 * ARGS...} calls {@link #run} with the arguments after the name. A subcommand parses its own
 * arguments (usually by extending {@link CliCommand}, which declares them with picocli) and throws
 * {@link UsageException} for bad ones.
 * To add one, implement this interface and list it in {@link Recur#standard()}, or, from another
 * module, register it in that jar's {@code META-INF/services/dev.recur.models.cli.Subcommand}:
 * {@link Recur#standard()} finds it through {@link java.util.ServiceLoader} whenever the jar is on
 * the class path (the bench module's {@code bench} comes this way). It needs a public no-argument
 * constructor that does no I/O.
 */
public interface Subcommand {

    /** The word that selects it on the command line, lower case, e.g. {@code "info"}. */
    String name();

    /** One line for the command list in {@code recur --help}, lower case, no final period. */
    String summary();

    /** The full help text: a usage line, what it does, its options; ends with a newline. */
    String usage();

    /**
     * Runs the subcommand.
     *
     * @param args the arguments after the subcommand's name; {@code --help} has been handled
     * @param out  where results go
     * @param err  where diagnostics go
     * @return the exit status: {@link Recur#EXIT_OK} or {@link Recur#EXIT_FAILED}
     * @throws UsageException when the arguments are bad (exit status {@link Recur#EXIT_USAGE})
     */
    int run(List<String> args, PrintStream out, PrintStream err);
}
