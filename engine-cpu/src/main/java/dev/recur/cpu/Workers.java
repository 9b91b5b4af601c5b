package dev.recur.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads, made once per backend and reused by every op: {@link #forEach} runs
 * {@code task.run(i)} for {@code i} in {@code [0, count)} on the caller and the helper threads.
 *
 * <p>Which thread runs which index varies, so a task must write only outputs that belong to its
 * index and must compute them in an order fixed by the index alone; then results are bitwise the
 * same at any thread count. {@code forEach} allocates nothing; calls from several threads are
 * serialized.
 *
 * <p>Hand-over: each call opens a new generation in one atomic {@link #ticket} (generation, index
 * count, next index), and every thread, the caller included, claims indices from it by
 * compare-and-set until none is left. The caller then waits only for the indices that were
 * claimed; a helper that has not woken up by then claims nothing and is not waited for. The
 * previous hand-over made the caller wait for every helper to check in at every call: on a
 * machine with more runnable threads than cores, a descheduled helper cost a scheduler time
 * slice per call, twice per step of a stepwise time loop (LSTM B=16 H=256 inference took 87 ms
 * stepwise against 13 ms on one thread, measured on the loaded 2-core Zen 5 VM, 2026-12-07).
 * A claim that succeeds proves that its generation is still open, so the claimer read that
 * generation's task (written before the ticket opened it, replaced only after all its indices
 * were claimed and run).
 */
final class Workers implements AutoCloseable {

    /** The work of one index. */
    interface Task {
        void run(int index);
    }

    /** Spin-wait rounds before parking: a step of a recurrence hands work over every few tens of µs. */
    private static final int SPINS = 20_000;
    // Ticket layout: generation in the high 24 bits, index count in the next 20, next index in the low 20.
    private static final int INDEX_BITS = 20;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    /** Most indices one call may have. */
    static final int MAX_COUNT = (int) INDEX_MASK;

    private final int threads;
    private final Thread[] helpers;
    /** Helpers parked or about to park: a call unparks them. */
    private final AtomicInteger sleepers = new AtomicInteger();
    private final Object callLock = new Object();
    private final AtomicLong ticket = new AtomicLong();
    /** Indices of the open generation that have been run (or failed). */
    private final AtomicInteger completed = new AtomicInteger();
    /** The first failure of the open generation. */
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The open generation's task: written before the ticket opens the generation. */
    private volatile Task task;
    private volatile boolean closed;

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

    /** Elements of element-wise work below which a stage runs on the caller alone (a hand-over costs more). */
    static final int PARALLEL_MIN_ELEMENTS = 1 << 14;

    /**
     * A column-wise pass (column sums) over {@code rows × cols}: {@code task} runs once per chunk of
     * {@link #columnChunk} columns, on the workers when there are at least
     * {@link #PARALLEL_MIN_ELEMENTS} elements, else on the caller in order. Each chunk's result
     * depends on its columns alone, so the bits do not depend on who runs it.
     */
    void forEachColumnChunk(int rows, int cols, Task task) {
        int chunk = columnChunk(cols);
        int chunks = (cols + chunk - 1) / chunk;
        if ((long) rows * cols < PARALLEL_MIN_ELEMENTS) {
            for (int i = 0; i < chunks; i++) {
                task.run(i);
            }
        } else {
            forEach(chunks, task);
        }
    }

    /** Columns per chunk of {@link #forEachColumnChunk}: a multiple of 16, about one chunk per thread. */
    int columnChunk(int cols) {
        return Math.max(16, (cols / threads + 15) / 16 * 16);
    }

    void forEach(int count, Task task) {
        if (helpers.length == 0 || count <= 1) {
            for (int i = 0; i < count; i++) {
                task.run(i);
            }
            return;
        }
        if (count > MAX_COUNT) {
            throw new IllegalArgumentException("at most " + MAX_COUNT + " indices per call, got " + count);
        }
        synchronized (callLock) {
            if (closed) {
                throw new IllegalStateException("the CPU backend is closed");
            }
            this.task = task;
            completed.set(0);
            failure.set(null);
            long generation = (ticket.get() >>> (2 * INDEX_BITS)) + 1;
            long open = (generation << (2 * INDEX_BITS)) | ((long) count << INDEX_BITS);
            ticket.set(open); // volatile write after task, completed and failure: a claimer sees them
            if (sleepers.get() > 0) {
                for (Thread h : helpers) {
                    LockSupport.unpark(h);
                }
            }
            claim(open >>> INDEX_BITS, task);
            // Every index is claimed; wait for those still running elsewhere.
            for (int spin = 0; completed.get() < count; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            this.task = null;
            Throwable first = failure.getAndSet(null);
            if (first instanceof RuntimeException re) {
                throw re;
            }
            if (first instanceof Error err) {
                throw err;
            }
            if (first != null) {
                throw new IllegalStateException(first);
            }
        }
    }

    /**
     * Claims and runs indices of the generation {@code head} (the ticket without its next-index
     * bits) until none is left or another generation is open; each claimed index counts as
     * completed, failed or not.
     */
    private void claim(long head, Task t) {
        int count = (int) (head & INDEX_MASK);
        while (true) {
            long now = ticket.get();
            if (now >>> INDEX_BITS != head) {
                return;
            }
            int i = (int) (now & INDEX_MASK);
            if (i >= count) {
                return;
            }
            if (ticket.compareAndSet(now, now + 1)) {
                try {
                    t.run(i);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    completed.incrementAndGet();
                }
            }
        }
    }

    private void helperLoop() {
        // The head before any call (ticket 0): a call opened before this thread first runs is new to it.
        long seen = 0;
        int spin = 0;
        while (!closed) {
            long now = ticket.get();
            long head = now >>> INDEX_BITS;
            if (head != seen) {
                seen = head;
                spin = 0;
                // Read after the ticket: this generation's task, or a later one, which no claim
                // of this generation can then succeed to run (see the class comment).
                Task t = task;
                if (t != null && (now & INDEX_MASK) < (head & INDEX_MASK)) {
                    claim(head, t);
                }
                continue;
            }
            if (++spin < SPINS) {
                Thread.onSpinWait();
                continue;
            }
            sleepers.incrementAndGet();
            // Re-check after announcing the sleep: a call that opened before the announcement
            // is seen here, one that opens after it unparks this thread.
            if (ticket.get() >>> INDEX_BITS == seen && !closed) {
                LockSupport.park(this);
            }
            sleepers.decrementAndGet();
            spin = 0;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
    }
}
