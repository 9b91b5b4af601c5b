package dev.recur.mpi;

import dev.recur.api.Collective;
import dev.recur.api.CollectiveException;
import dev.recur.api.Launcher;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@link Collective} on {@code MPI_COMM_WORLD}, through {@code java.lang.foreign}. This class alone
 * calls into MPI.
 *
 * <p>MPI is started with {@code MPI_Init_thread(MPI_THREAD_SERIALIZED)}: the calls may come from
 * different Java threads, never at once (every method holds this object's lock). Errors come back
 * as return codes ({@code MPI_ERRORS_RETURN} on the world), turned into {@link CollectiveException}s
 * with the library's own string. Data goes through one native buffer, grown as needed, that lives
 * until {@link #close()}: Java arrays cannot be handed to MPI (the collector may move them).
 */
@SuppressWarnings("restricted") // binding MPI's functions is this class's job
final class MpiCollective implements Collective {

    private final MpiLibrary lib;
    private final MpiAbi abi;
    private final int rank;
    private final int size;
    private final String description;
    private final Arena arena = Arena.ofShared();
    private final MethodHandle allreduce;
    private final MethodHandle bcast;
    private final MethodHandle barrier;
    private final MethodHandle abort;
    private final MethodHandle finalizeFn;
    private final MethodHandle finalized;
    private final MethodHandle errorString;
    private MemorySegment buffer; // the staging buffer for data, in bytes
    private boolean closed;

    /**
     * Starts MPI (when nobody has yet) and checks that it sees the world the launcher announced.
     *
     * @throws CollectiveException when MPI fails to start or sees another world
     */
    MpiCollective(MpiLibrary lib, Launcher launcher) {
        this.lib = lib;
        this.abi = lib.abi;
        MemoryLayout h = abi.handleLayout();
        this.allreduce = fn("MPI_Allreduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, h, h, h));
        this.bcast = fn("MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, h, JAVA_INT, h));
        this.barrier = fn("MPI_Barrier", FunctionDescriptor.of(JAVA_INT, h));
        this.abort = fn("MPI_Abort", FunctionDescriptor.of(JAVA_INT, h, JAVA_INT));
        this.finalizeFn = fn("MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        this.finalized = fn("MPI_Finalized", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.errorString = fn("MPI_Error_string", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle initialized = fn("MPI_Initialized", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle initThread = fn("MPI_Init_thread",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        MethodHandle commRank = fn("MPI_Comm_rank", FunctionDescriptor.of(JAVA_INT, h, ADDRESS));
        MethodHandle commSize = fn("MPI_Comm_size", FunctionDescriptor.of(JAVA_INT, h, ADDRESS));
        MethodHandle setErrhandler = fn("MPI_Comm_set_errhandler", FunctionDescriptor.of(JAVA_INT, h, h));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment flag = a.allocate(JAVA_INT);
            check("MPI_Initialized", (int) initialized.invoke(flag));
            if (flag.get(JAVA_INT, 0) == 0) {
                MemorySegment provided = a.allocate(JAVA_INT);
                // argc and argv may be NULL since MPI-2: the launcher passes what MPI needs in the environment.
                int rc = (int) initThread.invoke(MemorySegment.NULL, MemorySegment.NULL, abi.threadSerialized(),
                        provided);
                if (rc != 0) {
                    throw new CollectiveException("MPI_Init_thread failed with code " + rc + " in " + lib);
                }
                if (provided.get(JAVA_INT, 0) < abi.threadSerialized()) {
                    throw new CollectiveException(lib + " gives thread level " + provided.get(JAVA_INT, 0)
                            + " below MPI_THREAD_SERIALIZED; the JVM may call MPI from more than one thread");
                }
            }
            check("MPI_Comm_set_errhandler", (int) setErrhandler.invoke(abi.commWorld(), abi.errorsReturn()));
            MemorySegment out = a.allocate(JAVA_INT);
            check("MPI_Comm_rank", (int) commRank.invoke(abi.commWorld(), out));
            this.rank = out.get(JAVA_INT, 0);
            check("MPI_Comm_size", (int) commSize.invoke(abi.commWorld(), out));
            this.size = out.get(JAVA_INT, 0);
        } catch (CollectiveException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("starting MPI (" + lib + "): " + t, t);
        }
        if (size != launcher.size() || rank != launcher.rank()) {
            throw new CollectiveException(launcher + " started rank " + launcher.rank() + " of " + launcher.size()
                    + ", but " + lib + " sees rank " + rank + " of " + size + ": the library is not the one the"
                    + " launcher belongs to (use the mpirun of the same MPI, or set " + MpiLibrary.ENVIRONMENT + ")");
        }
        this.description = "MPI: " + lib.version + " (" + lib.file + ", " + abi.family() + " ABI)";
    }

    private MethodHandle fn(String name, FunctionDescriptor d) {
        return Linker.nativeLinker().downcallHandle(lib.symbols.find(name).orElseThrow(
                () -> new CollectiveException(lib + " exports no " + name)), d);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return size;
    }

    @Override
    public synchronized void allReduce(float[] data, int offset, int count, Reduction op) {
        Collective.checkRange("allReduce", data.length, offset, count);
        open();
        if (count == 0) {
            return;
        }
        MemorySegment b = staging((long) count * Float.BYTES);
        MemorySegment.copy(data, offset, b, JAVA_FLOAT, 0, count);
        try {
            check("MPI_Allreduce", (int) allreduce.invoke(abi.inPlace(), b, count, abi.floatType(), abi.sumOp(),
                    abi.commWorld()));
        } catch (CollectiveException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("MPI_Allreduce: " + t, t);
        }
        MemorySegment.copy(b, JAVA_FLOAT, 0, data, offset, count);
        if (op == Reduction.AVERAGE) {
            for (int i = offset; i < offset + count; i++) {
                data[i] /= size;
            }
        }
    }

    @Override
    public synchronized void broadcast(float[] data, int offset, int count, int root) {
        Collective.checkRange("broadcast", data.length, offset, count);
        Collective.checkRoot(root, size);
        open();
        MemorySegment b = staging((long) Math.max(1, count) * Float.BYTES);
        MemorySegment.copy(data, offset, b, JAVA_FLOAT, 0, count);
        bcast(b, count, abi.floatType(), root);
        MemorySegment.copy(b, JAVA_FLOAT, 0, data, offset, count);
    }

    @Override
    public synchronized void broadcast(byte[] data, int root) {
        Collective.checkRoot(root, size);
        open();
        MemorySegment b = staging(Math.max(1, data.length));
        MemorySegment.copy(data, 0, b, JAVA_BYTE, 0, data.length);
        bcast(b, data.length, abi.byteType(), root);
        MemorySegment.copy(b, JAVA_BYTE, 0, data, 0, data.length);
    }

    private void bcast(MemorySegment b, int count, Object type, int root) {
        try {
            check("MPI_Bcast", (int) bcast.invoke(b, count, type, root, abi.commWorld()));
        } catch (CollectiveException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("MPI_Bcast: " + t, t);
        }
    }

    @Override
    public synchronized void barrier() {
        open();
        try {
            check("MPI_Barrier", (int) barrier.invoke(abi.commWorld()));
        } catch (CollectiveException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("MPI_Barrier: " + t, t);
        }
    }

    @Override
    public void abort(int exitCode) {
        // No lock: a rank that aborts may do so while another thread waits in a collective.
        try {
            int ignored = (int) abort.invoke(abi.commWorld(), exitCode);
        } catch (Throwable t) {
            // MPI_Abort should not return; if it does or fails, this process still ends.
        }
        Runtime.getRuntime().halt(exitCode);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment flag = a.allocate(JAVA_INT);
            check("MPI_Finalized", (int) finalized.invoke(flag));
            if (flag.get(JAVA_INT, 0) == 0) {
                check("MPI_Finalize", (int) finalizeFn.invoke());
            }
        } catch (CollectiveException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("MPI_Finalize: " + t, t);
        } finally {
            arena.close();
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("the MPI collective is closed (MPI_Finalize was called)");
        }
    }

    private MemorySegment staging(long bytes) {
        if (buffer == null || buffer.byteSize() < bytes) {
            buffer = arena.allocate(Math.max(bytes, 1 << 16), 64);
        }
        return buffer;
    }

    private void check(String call, int rc) {
        if (rc == 0) {
            return;
        }
        String text = "";
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(JAVA_BYTE, Math.max(1024, abi.maxErrorString()));
            MemorySegment len = a.allocate(JAVA_INT);
            if ((int) errorString.invoke(rc, s, len) == 0) {
                text = ": " + s.getString(0).strip();
            }
        } catch (Throwable t) {
            text = " (and MPI_Error_string failed: " + t + ")";
        }
        throw new CollectiveException("rank " + rank + " of " + size + ": " + call + " failed with code " + rc + text);
    }

    @Override
    public String toString() {
        return description + ", rank " + rank + " of " + size;
    }
}
