package dev.recur.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reusable barrier for the threads of one sliced time loop (CpuLayer): each of {@code parties}
 * threads calls {@link #await} once per step and none goes on before all have come. Spins (a step
 * is tens of µs), yielding after a while so that a machine with more threads than cores still
 * moves. A thread whose work failed calls {@link #breakBarrier}, and every wait then ends with an
 * exception instead of waiting forever. Allocates nothing.
 */
final class StepBarrier {

    /** Spin rounds before each yield. */
    private static final int SPINS = 2_000;

    private final AtomicInteger arrived = new AtomicInteger();
    private volatile int phase;
    private volatile boolean broken;
    private int parties;

    /** Readies the barrier for a loop of {@code parties} threads (before they start). */
    void reset(int parties) {
        this.parties = parties;
        arrived.set(0);
        broken = false;
    }

    void await() {
        int p = phase;
        if (arrived.incrementAndGet() == parties) {
            arrived.set(0);
            phase = p + 1; // volatile write after the reset: the others see both
            return;
        }
        int spins = 0;
        while (phase == p) {
            if (broken) {
                throw new IllegalStateException("another thread of the time loop failed");
            }
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                spins = 0;
                Thread.yield();
            }
        }
    }

    void breakBarrier() {
        broken = true;
    }
}
