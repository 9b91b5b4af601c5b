package dev.recur.models.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of long work: epoch and step, loss, items (tokens or samples) per second and the time
 * left. On a terminal it redraws one live bar in place (at most ten times a second); otherwise it
 * prints a plain line every {@code every} steps, so logs stay readable.
 */
public final class Progress {

    private final PrintStream out;
    private final boolean live;
    private final long totalSteps;
    private final String unit;
    private final int every;
    private final long started;
    private long lastDraw;
    private boolean barShown;

    /**
     * @param live       redraw a bar in place (a terminal) rather than print lines
     * @param totalSteps steps of the whole run (for the bar and the time left)
     * @param unit       what the rate counts, e.g. "tok" or "samples"
     * @param every      with plain lines, print one every this many steps
     */
    public Progress(PrintStream out, boolean live, long totalSteps, String unit, int every) {
        this.out = out;
        this.live = live;
        this.totalSteps = Math.max(1, totalSteps);
        this.unit = unit;
        this.every = Math.max(1, every);
        this.started = System.nanoTime();
    }

    /** Whether standard output is a terminal (and TERM is not "dumb"): then a live bar. */
    public static boolean isTerminal() {
        return System.console() != null && System.console().isTerminal()
                && !"dumb".equals(System.getenv("TERM"));
    }

    /** Reports step {@code step} (1-based) of {@code epoch}, with the loss and items done so far. */
    public void update(int epoch, long step, float loss, long itemsDone) {
        long now = System.nanoTime();
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double rate = itemsDone / seconds;
        double left = seconds / step * (totalSteps - step);
        String text = String.format(Locale.ROOT, "epoch %d  step %d/%d  loss %.4f  %s %s/s  eta %s", epoch, step,
                totalSteps, loss, human(rate), unit, duration(left));
        if (live) {
            if (now - lastDraw < 100_000_000L && step < totalSteps) {
                return;
            }
            lastDraw = now;
            int width = 24;
            int done = (int) (width * step / totalSteps);
            out.print("\r[" + "=".repeat(done) + (done < width ? ">" : "") + " ".repeat(Math.max(0, width - done - 1))
                    + "] " + text + "\u001b[K");
            out.flush();
            barShown = true;
        } else if (step % every == 0 || step == totalSteps) {
            out.println(text);
        }
    }

    /** Prints a line of its own (a validation result, a sample), keeping the bar intact below it. */
    public void line(String text) {
        if (live && barShown) {
            out.print("\r\u001b[K");
            barShown = false;
        }
        out.println(text);
    }

    /** Ends the bar's line. */
    public void finish() {
        if (live && barShown) {
            out.println();
            barShown = false;
        }
    }

    static String human(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return (s / 3600) + "h" + String.format(Locale.ROOT, "%02dm", (s % 3600) / 60);
        }
        if (s >= 60) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02ds", s % 60);
        }
        return s + "s";
    }
}
