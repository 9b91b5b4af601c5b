package dev.recur.cuda;

import dev.recur.api.Collective;
import dev.recur.api.CollectiveException;
import dev.recur.api.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * {@link Collective} on NCCL for tensors in the CUDA engine's memory: one communicator per GPU
 * (per rank), its unique id made by rank 0 and broadcast over the ranks' host collective (MPI),
 * and {@link #allReduce(Tensor, Reduction)} enqueued on the engine's main stream, so that it runs
 * after the backward's kernels that produced the gradient and before the update's, with no host
 * synchronisation. Host arrays, byte broadcasts, barriers and aborts go to the host collective.
 *
 * <p>Order of calls: {@link #open} on every rank (collective: it broadcasts the id and
 * {@code ncclCommInitRank} waits for all ranks), then collectives in the same order on every
 * rank, then {@link #close} ({@code ncclCommDestroy}; the host collective stays open, its owner
 * closes it). Each rank must have its own GPU (with several GPUs per host, give each rank one,
 * e.g. {@code srun --gpus-per-task=1} or {@code CUDA_VISIBLE_DEVICES} per local rank).
 *
 * <p>Not verified here: this machine has no GPU; the binding is tested against the real
 * {@code libnccl.so.2} ({@code NcclBindingTest}), the device path only on a GPU host.
 */
final class NcclCollective implements Collective {

    private final Nccl.Library nccl;
    private final Collective host;
    private final CudaBackend backend;
    private final MemorySegment comm;
    private boolean closed;

    private NcclCollective(Nccl.Library nccl, Collective host, CudaBackend backend, MemorySegment comm) {
        this.nccl = nccl;
        this.host = host;
        this.backend = backend;
        this.comm = comm;
    }

    /**
     * Makes this rank's communicator: rank 0's {@code ncclGetUniqueId} broadcast over {@code host},
     * then {@code ncclCommInitRank} in {@code backend}'s context.
     */
    static NcclCollective open(Nccl.Library nccl, Collective host, CudaBackend backend) {
        byte[] id = new byte[Nccl.UNIQUE_ID_BYTES];
        if (host.rank() == 0) {
            backend.enter("ncclGetUniqueId");
            id = nccl.uniqueId();
        }
        host.broadcast(id, 0);
        backend.enter("ncclCommInitRank");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            MemorySegment idStruct = a.allocate(Nccl.UNIQUE_ID);
            MemorySegment.copy(id, 0, idStruct, JAVA_BYTE, 0, id.length);
            nccl.check((int) nccl.commInitRank().invokeExact(out, host.worldSize(), idStruct, host.rank()),
                    "ncclCommInitRank(rank " + host.rank() + " of " + host.worldSize() + ")");
            return new NcclCollective(nccl, host, backend, out.get(ADDRESS, 0));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("ncclCommInitRank: " + t, t);
        }
    }

    @Override
    public String description() {
        return nccl.describe() + " on the CUDA engine's stream, bootstrapped over " + host.description();
    }

    @Override
    public int rank() {
        return host.rank();
    }

    @Override
    public int worldSize() {
        return host.worldSize();
    }

    @Override
    public boolean readsDeviceMemory() {
        return true;
    }

    /** In place, on the engine's main stream ({@code ncclAvg} for the average). */
    @Override
    public synchronized void allReduce(Tensor tensor, Reduction op) {
        requireOpen();
        long address = CudaBackend.address(tensor);
        backend.enter("ncclAllReduce");
        try {
            nccl.check((int) nccl.allReduce().invokeExact(address, address, (long) tensor.shape().size(),
                    Nccl.NCCL_FLOAT32, op == Reduction.AVERAGE ? Nccl.NCCL_AVG : Nccl.NCCL_SUM, comm,
                    MemorySegment.ofAddress(backend.mainStreamAddress())), "ncclAllReduce");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("ncclAllReduce: " + t, t);
        }
    }

    /** Rank {@code root}'s tensor to every rank, on the engine's main stream. */
    @Override
    public synchronized void broadcast(Tensor tensor, int root) {
        requireOpen();
        Collective.checkRoot(root, worldSize());
        long address = CudaBackend.address(tensor);
        backend.enter("ncclBroadcast");
        try {
            nccl.check((int) nccl.broadcast().invokeExact(address, address, (long) tensor.shape().size(),
                    Nccl.NCCL_FLOAT32, root, comm, MemorySegment.ofAddress(backend.mainStreamAddress())),
                    "ncclBroadcast");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("ncclBroadcast: " + t, t);
        }
    }

    @Override
    public void allReduce(float[] data, int offset, int count, Reduction op) {
        host.allReduce(data, offset, count, op);
    }

    @Override
    public void broadcast(float[] data, int offset, int count, int root) {
        host.broadcast(data, offset, count, root);
    }

    @Override
    public void broadcast(byte[] data, int root) {
        host.broadcast(data, root);
    }

    @Override
    public void barrier() {
        host.barrier();
    }

    @Override
    public void abort(int exitCode) {
        host.abort(exitCode);
    }

    /** {@code ncclCommDestroy}; the host collective stays open. Harmless twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        backend.enter("ncclCommDestroy");
        try {
            nccl.check((int) nccl.commDestroy().invokeExact(comm), "ncclCommDestroy");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new CollectiveException("ncclCommDestroy: " + t, t);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the NCCL collective is closed");
        }
    }
}
