package dev.recur.models.nn;

/** The learning rate of each optimizer step (counted from 0), as PyTorch's StepLR and CosineAnnealingLR. */
public interface LearningRateSchedule {

    float at(int step);

    static LearningRateSchedule constant(float lr) {
        return step -> lr;
    }

    /** {@code lr · gamma^(step / every)}. */
    static LearningRateSchedule step(float lr, int every, float gamma) {
        if (every < 1) {
            throw new IllegalArgumentException("step schedule: every must be >= 1, got " + every);
        }
        return step -> (float) (lr * Math.pow(gamma, step / every));
    }

    /** From {@code lr} down to {@code min} along half a cosine over {@code total} steps, then {@code min}. */
    static LearningRateSchedule cosine(float lr, int total, float min) {
        if (total < 1) {
            throw new IllegalArgumentException("cosine schedule: total must be >= 1, got " + total);
        }
        return step -> step >= total ? min : (float) (min + (lr - min) * (1 + Math.cos(Math.PI * step / total)) / 2);
    }
}
