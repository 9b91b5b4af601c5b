package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;

/**
 * A {@code recur} subcommand whose options are declared once, with picocli's annotations: name,
 * default, help text and check (a converter from {@link Checks}) side by side, usage text
 * generated from them. Subclasses are annotated {@code @Command(name = ..., header = summary,
 * description = ...)}, declare {@code @Option} fields, and implement {@link #call}; cross-option
 * checks go in {@link #check()}. Every option is parsed and checked before {@link #call} starts
 * any work.
 *
 * <p>Every training and inference command takes {@code --backend}. Public so that subcommands of
 * other modules (the bench module's {@code bench}) are declared the same way.
 */
public abstract class CliCommand implements Subcommand {

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "engine: auto (the best this machine has), cpu or cuda")
    protected String backend;

    private CommandLine line;

    private CommandLine line() {
        if (line == null) {
            line = new CommandLine(this)
                    .setCommandName("recur " + name())
                    .setCaseInsensitiveEnumValuesAllowed(true)
                    .setOverwrittenOptionsAllowed(false)
                    .setUnmatchedArgumentsAllowed(false)
                    .setUsageHelpWidth(100)
                    .setUsageHelpAutoWidth(false);
            // The header is the one-line summary in `recur --help`; a command's own help starts
            // with its usage line, then the description and the options, a blank line between.
            List<String> keys = new java.util.ArrayList<>(line.getHelpSectionKeys());
            keys.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER_HEADING);
            keys.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER);
            line.setHelpSectionKeys(keys);
            line.getCommandSpec().usageMessage().descriptionHeading("%n").parameterListHeading("%nArguments:%n")
                    .optionListHeading("%nOptions:%n");
        }
        return line;
    }

    /** The parsed declaration of this command's options (for tests that go through every option). */
    CommandLine.Model.CommandSpec spec() {
        return line().getCommandSpec();
    }

    private Command command() {
        return getClass().getAnnotation(Command.class);
    }

    @Override
    public String name() {
        return command().name();
    }

    @Override
    public String summary() {
        return command().header()[0];
    }

    @Override
    public String usage() {
        return line().getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    @Override
    public final int run(List<String> args, PrintStream out, PrintStream err) {
        try {
            line().parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.UnmatchedArgumentException e) {
            List<String> unmatched = e.getUnmatched();
            String first = unmatched.isEmpty() ? "?" : unmatched.get(0);
            List<String> close = e.getSuggestions();
            String hint = close.isEmpty() ? "" : " (did you mean " + String.join(" or ", close) + "?)";
            throw new UsageException((first.startsWith("-") ? "unknown option '" : "unexpected argument '") + first
                    + "'" + hint);
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(plain(e.getMessage()));
        }
        check();
        return call(out, err);
    }

    /** Picocli's "Invalid value for option '--hidden': must be >= 1, got 0" as one lower-case line. */
    private static String plain(String message) {
        String m = message.strip();
        return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
    }

    /** Checks that involve several options; throws {@link UsageException}. Nothing by default. */
    protected void check() {
    }

    /** Runs the command with the parsed options; returns the exit status. */
    protected abstract int call(PrintStream out, PrintStream err);

    /**
     * The engine {@code --backend} asks for: {@code auto} picks as {@link Backends#best()} does.
     *
     * @throws dev.recur.api.BackendUnavailableException when it cannot be used (one line, exit 1)
     */
    protected Backend openBackend() {
        return backend.equalsIgnoreCase("auto") ? Backends.best() : Backends.named(backend);
    }
}
