package dev.recur.models.cli;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --layer-norm}, {@code --recurrent-dropout}, {@code --zoneout}, {@code --zoneout-h},
 * {@code --zoneout-c} and {@code --proj-size} on every training command: what they make, and the
 * refusals (exit 2, one line naming the option, what it needs and what it got) before any work.
 */
class CellOptionFlagsTest {

    @TempDir
    Path dir;

    private static CellOptionFlags flags(String... args) {
        CellOptionFlags f = new CellOptionFlags();
        new picocli.CommandLine(f).parseArgs(args);
        return f;
    }

    @Test
    void theFlagsMakeTheCellOptions() {
        assertEquals(CellOptions.NONE, flags().options(Cell.LSTM, 8));
        assertEquals(new CellOptions(true, 0.25f, 0.1f, 0.1f, 3), flags("--layer-norm", "--recurrent-dropout",
                "0.25", "--zoneout", "0.1", "--proj-size", "3").options(Cell.LSTM, 8));
        assertEquals(new CellOptions(false, 0f, 0.1f, 0f, 0), flags("--zoneout", "0.1").options(Cell.GRU, 8),
                "--zoneout zones out h alone where there is no c");
        assertEquals(new CellOptions(false, 0f, 0.2f, 0.05f, 0), flags("--zoneout-h", "0.2", "--zoneout-c", "0.05")
                .options(Cell.LSTM_COUPLED, 8));
        UsageException e = assertThrows(UsageException.class,
                () -> flags("--zoneout", "0.1", "--zoneout-h", "0.2").options(Cell.LSTM, 8));
        assertTrue(e.getMessage().contains("'--zoneout' sets both h and c"), e.getMessage());
    }

    /** Each bad combination on each training command: exit 2, one line naming option, expected and actual. */
    @Test
    void badValuesExitTwoNamingTheOptionExpectedAndActual() {
        String data = dir.resolve("absent.txt").toString(); // never read: the refusal comes first
        String cp = dir.resolve("m.safetensors").toString();
        List<String[]> commands = List.of(
                new String[] {"train-lm", "--data", data, "--checkpoint", cp},
                new String[] {"classify", "--data", data, "--checkpoint", cp},
                new String[] {"forecast", "--data", data, "--checkpoint", cp});
        String[][] cases = {
            {"--proj-size 600 --hidden 512", "option '--proj-size' must be smaller than --hidden 512, got 600"},
            {"--layer-norm --cell rnn_tanh", "option '--layer-norm' needs an LSTM or GRU cell", "got --cell rnn_tanh"},
            {"--proj-size 2 --cell rnn_relu", "option '--proj-size' needs an LSTM or GRU cell", "got --cell rnn_relu"},
            {"--zoneout-c 0.1 --cell gru", "option '--zoneout-c' needs a cell with a cell state", "got --cell gru"},
            {"--recurrent-dropout 1", "--recurrent-dropout", "must be in [0, 1), got 1"},
            {"--zoneout 1.5", "--zoneout", "must be in [0, 1), got 1.5"},
            {"--zoneout-h -0.1", "--zoneout-h", "must be in [0, 1), got -0.1"},
            {"--proj-size -1", "--proj-size", "must be >= 0, got -1"},
        };
        int tried = 0;
        for (String[] command : commands) {
            for (String[] c : cases) {
                List<String> args = new ArrayList<>(List.of(command));
                args.addAll(List.of(c[0].split(" ")));
                Streams s = Streams.run(Recur.standard(List.of()), args.toArray(String[]::new));
                String what = String.join(" ", args);
                assertEquals(Recur.EXIT_USAGE, s.status, what + ": " + s.err() + s.out());
                assertEquals(2, s.errLines().length, "one line: " + s.err());
                for (int i = 1; i < c.length; i++) {
                    assertTrue(s.err().contains(c[i]), what + ": '" + c[i] + "' not in " + s.err());
                }
                assertFalse(s.err().contains("Exception"), s.err());
                tried++;
            }
        }
        assertEquals(24, tried);
    }

    /** With --from a saved model is used as it is: the options are training options there. */
    @Test
    void theOptionsAreRefusedWithFrom() {
        String model = dir.resolve("m.safetensors").toString();
        Streams s = Streams.run(Recur.standard(List.of()), "classify", "--from", model, "--layer-norm", "some text");
        assertEquals(Recur.EXIT_USAGE, s.status, s.err());
        assertTrue(s.err().contains("option '--layer-norm' is for training"), s.err());
        s = Streams.run(Recur.standard(List.of()), "forecast", "--from", model, "--data", model, "--horizon", "3",
                "--proj-size", "2");
        assertEquals(Recur.EXIT_USAGE, s.status, s.err());
        assertTrue(s.err().contains("option '--proj-size' trains a model"), s.err());
    }
}
