package dev.recur.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads, made once per backend and reused by every op: {@link #forEach} runs
 * {@code task.run(i)} for {@code i} in {@code [0, count)} on the caller and the helper threads.
 *
 * <p>Which thread runs which index varies, so a task must write only outputs that belong to its
 * index and must compute them in an order fixed by the index alone; then results are bitwise the
 * same at any thread count. {@code forEach} allocates nothing; calls from several threads are
 * serialized.
 */
final class Workers implements AutoCloseable {

    /** The work of one index. */
    interface Task {
        void run(int index);
    }

    private final int threads;
    private final Thread[] helpers;
    private final Object lock = new Object();
    private final Object callLock = new Object();
    private final AtomicInteger next = new AtomicInteger();
    /** Spin-wait rounds before blocking: a step of a recurrence hands work over every few hundred µs. */
    private static final int SPINS = 20_000;

    // Written under lock; volatile so that spinning threads see them without taking it.
    private volatile Task task;
    private volatile int count;
    private volatile int pending;
    private volatile long generation;
    private volatile boolean closed;
    private Throwable failure; // guarded by lock

    Workers(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.helpers = new Thread[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            Thread t = new Thread(this::helperLoop, "recur-cpu-" + (i + 1));
            t.setDaemon(true);
            helpers[i] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    void forEach(int count, Task task) {
        if (helpers.length == 0 || count <= 1) {
            for (int i = 0; i < count; i++) {
                task.run(i);
            }
            return;
        }
        synchronized (callLock) {
            synchronized (lock) {
                if (closed) {
                    throw new IllegalStateException("the CPU backend is closed");
                }
                this.task = task;
                this.count = count;
                this.failure = null;
                next.set(0);
                pending = helpers.length;
                generation++;
                lock.notifyAll();
            }
            Throwable mine = null;
            try {
                work(task, count);
            } catch (Throwable t) {
                mine = t;
            }
            Throwable theirs;
            for (int spin = 0; spin < SPINS && pending > 0; spin++) {
                Thread.onSpinWait();
            }
            synchronized (lock) {
                while (pending > 0) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for CPU workers", e);
                    }
                }
                this.task = null;
                theirs = failure;
            }
            Throwable first = mine != null ? mine : theirs;
            if (first instanceof RuntimeException re) {
                throw re;
            }
            if (first instanceof Error err) {
                throw err;
            }
        }
    }

    private void work(Task t, int n) {
        for (int i; (i = next.getAndIncrement()) < n; ) {
            t.run(i);
        }
    }

    private void helperLoop() {
        long seen = 0;
        while (true) {
            Task t;
            int n;
            for (int spin = 0; spin < SPINS && generation == seen && !closed; spin++) {
                Thread.onSpinWait();
            }
            synchronized (lock) {
                while (generation == seen && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                seen = generation;
                t = task;
                n = count;
            }
            Throwable err = null;
            try {
                work(t, n);
            } catch (Throwable e) {
                err = e;
            }
            synchronized (lock) {
                if (err != null && failure == null) {
                    failure = err;
                }
                if (--pending == 0) {
                    lock.notifyAll();
                }
            }
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }
}
