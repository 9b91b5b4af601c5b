package dev.recur.models.cli;

import dev.recur.api.Collective;
import dev.recur.api.Collectives;
import dev.recur.api.Launcher;
import dev.recur.models.train.TrainingDivergedException;
import dev.recur.models.train.Trainer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The options every training command shares (a picocli mixin: {@code @Mixin RunOptions run;}):
 * how many saves to keep, resuming and pausing, and data parallelism. {@link #apply} hands them to a
 * {@link Trainer} with the checkpoint and the metrics and loss-curve files beside it.
 *
 * <p>Data parallelism: a command that trains runs its training through {@link #distributed}, which
 * binds the job's {@link Collective} when a launcher ({@code mpirun}, {@code mpiexec}, {@code srun})
 * started the process, prints on rank 0 how many ranks and what was bound, silences the other
 * ranks' output, and takes the whole job down ({@link Collective#abort}) when a rank fails, so that
 * no rank waits for a dead one. {@code --data-parallel} insists on a launcher.
 */
final class RunOptions {

    @Option(names = "--keep", paramLabel = "N", defaultValue = "1", converter = Checks.Positive.class,
            description = "keep the last N saves (the older as NAME.step-S.safetensors)")
    int keep;
    @Option(names = "--resume", description = "continue the run saved in --checkpoint")
    boolean resume;
    @Option(names = "--resume-changing", paramLabel = "SETTING[,SETTING...]", split = ",",
            description = "with --resume: settings that may differ from the saved run's (as the refusal names"
                    + " them, e.g. clip,lr_first,lr_next,lr_last)")
    java.util.List<String> resumeChanging = new java.util.ArrayList<>();
    @Option(names = "--stop-after", paramLabel = "N", defaultValue = "0", converter = Checks.NonNegative.class,
            description = "pause after N steps of this run, saving a checkpoint, 0 = never")
    int stopAfter;
    @Option(names = "--data-parallel", description = "train data-parallel over the ranks of mpirun -np N or srun"
            + " (detected without this option too); without a launcher this option is an error")
    boolean dataParallel;

    /** The collective of the running {@link #distributed} body; a single process outside one. */
    private Collective collective = new dev.recur.api.SingleProcessCollective();

    /** What {@link #distributed} runs: the command's training, printing to {@code out}. */
    @FunctionalInterface
    interface Training {
        int run(PrintStream out) throws IOException;
    }

    /** {@code NAME.metrics.jsonl} beside the checkpoint. */
    static Path metrics(Path checkpoint) {
        return Trainer.sibling(checkpoint, ".metrics", ".jsonl");
    }

    /** {@code NAME.loss.png} beside the checkpoint. */
    static Path lossCurve(Path checkpoint) {
        return Trainer.sibling(checkpoint, ".loss", ".png");
    }

    /** Refuses --resume-changing without --resume. */
    void check() {
        if (!resumeChanging.isEmpty() && !resume) {
            throw new UsageException("option '--resume-changing' is for --resume");
        }
    }

    /**
     * Sets the checkpoint, these options, the metrics file, the loss curve and the job's collective
     * on {@code b}; checks them first.
     */
    Trainer.Builder apply(Trainer.Builder b, Path checkpoint) {
        check();
        return b.checkpoint(checkpoint).keepLast(keep).resume(resume).stopAfter(stopAfter)
                .allowChanged(resumeChanging).metrics(metrics(checkpoint)).lossCurve(lossCurve(checkpoint))
                .collective(collective);
    }

    /** The collective that {@link #distributed} bound (a single process before and after it). */
    Collective collective() {
        return collective;
    }

    /**
     * Runs {@code training} as this process' part of the job: binds the collective (a single
     * process without a launcher), prints on rank 0 the world size and what was bound, gives the
     * other ranks a silent {@code out}, and when this rank fails (an exception, or a status other
     * than 0) prints the reason and ends the whole job with that status.
     *
     * @throws UsageException      {@code --data-parallel} without a launcher (exit 2)
     * @throws dev.recur.api.CollectiveException when a launcher started several ranks and no MPI
     *                             library can be bound (exit 1, the reason in one line)
     */
    int distributed(String command, PrintStream out, PrintStream err, Training training) throws IOException {
        if (dataParallel && Launcher.detect().isEmpty()) {
            throw new UsageException("option '--data-parallel' needs a launcher: start the command with mpirun -np N"
                    + " or srun (no OMPI_COMM_WORLD_SIZE, PMI_SIZE or SLURM_STEP_NUM_TASKS in the environment)");
        }
        Collective c = Collectives.open();
        if (c.worldSize() == 1) {
            try (c) {
                if (dataParallel) {
                    out.println("recur " + command + ": data parallel over 1 rank (" + Launcher.detect().orElseThrow()
                            + "): a single process");
                }
                return training.run(out);
            }
        }
        collective = c;
        String where = " (rank " + c.rank() + " of " + c.worldSize() + ")";
        PrintStream mine = c.rank() == 0 ? out : new PrintStream(OutputStream.nullOutputStream());
        mine.println("recur " + command + ": data parallel over " + c.worldSize() + " ranks ("
                + Launcher.detect().map(Launcher::toString).orElse("?") + "), collective " + c.description());
        // A rank ended by a signal (mpirun's SIGTERM when another rank died, srun's on a time
        // limit) says so on its way out; the JVM runs shutdown hooks on SIGTERM and SIGINT.
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread farewell = new Thread(() -> {
            if (running.get()) {
                err.println("recur " + command + ": ended by a signal before the run finished" + where
                        + "; a launcher ends every rank when one dies; the last checkpoint is kept");
                err.flush();
            }
        });
        Runtime.getRuntime().addShutdownHook(farewell);
        int status;
        try {
            status = training.run(mine);
        } catch (UsageException e) {
            throw e; // every rank has the same arguments and says the same; exit 2 ends the job
        } catch (IOException | TrainingDivergedException | IllegalArgumentException | IllegalStateException e) {
            err.println("recur " + command + ": " + e.getMessage() + where);
            err.flush();
            out.flush();
            running.set(false); // this rank said why; the others are ended by the abort
            c.abort(Recur.EXIT_FAILED);
            throw e; // abort does not return
        } catch (RuntimeException e) {
            err.println("recur " + command + ": unexpected " + e + where);
            err.flush();
            out.flush();
            running.set(false); // this rank said why; the others are ended by the abort
            c.abort(Recur.EXIT_FAILED);
            throw e;
        }
        out.flush();
        running.set(false);
        if (status != Recur.EXIT_OK) {
            err.println("recur " + command + ": this rank failed" + where + "; ending the job");
            err.flush();
            running.set(false);
            c.abort(status);
        }
        try {
            c.barrier(); // no rank leaves before the others are done
        } finally {
            c.close();
            collective = new dev.recur.api.SingleProcessCollective();
        }
        return status;
    }
}
