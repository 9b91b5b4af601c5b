package dev.recur.models.cli;

import dev.recur.models.train.Trainer;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options every training command shares (a picocli mixin: {@code @Mixin RunOptions run;}):
 * how many saves to keep, resuming and pausing. {@link #apply} hands them to a {@link Trainer} with
 * the checkpoint and the metrics and loss-curve files beside it.
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

    /** Sets the checkpoint, these options, the metrics file and the loss curve on {@code b}; checks them first. */
    Trainer.Builder apply(Trainer.Builder b, Path checkpoint) {
        check();
        return b.checkpoint(checkpoint).keepLast(keep).resume(resume).stopAfter(stopAfter)
                .allowChanged(resumeChanging).metrics(metrics(checkpoint)).lossCurve(lossCurve(checkpoint));
    }
}
