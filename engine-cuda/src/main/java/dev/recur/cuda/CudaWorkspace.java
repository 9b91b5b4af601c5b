package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.Workspace;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Workspace} of the CUDA engine: device buffers owned by the workspace, allocated by the
 * layer code the first time it needs them ({@link #allocate}) and released together when the
 * workspace closes, and one slot per direction ({@link #attach}, {@link #attached}) where the
 * layer code keeps the object that describes its buffers for that direction.
 *
 * <p>A one-direction workspace has one slot, which serves either direction (as on the CPU). Not
 * thread-safe: a workspace is used by one op at a time. Closing closes what the slots hold when
 * it is {@link AutoCloseable}, then frees the blocks; closing twice is harmless.
 */
final class CudaWorkspace extends Workspace {

    private final CudaBackend backend;
    private final List<DeviceBlock> blocks = new ArrayList<>();
    private final Object[] slots;
    /** The option path's buffers per direction ({@link CudaOptionLayer}); a plain workspace given a step mask has both kinds. */
    private final CudaOptionBuffers[] optionSlots;
    private boolean closed;

    CudaWorkspace(CudaBackend backend, Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                  boolean bidirectional) {
        super(backend, cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
        this.backend = backend;
        this.slots = new Object[bidirectional ? 2 : 1];
        this.optionSlots = new CudaOptionBuffers[bidirectional ? 2 : 1];
    }

    /**
     * A device buffer of {@code bytes} bytes owned by this workspace (contents undefined), freed
     * when the workspace closes.
     *
     * @param what what it holds, for the leak report (e.g. {@code "gates [T, B, 4H]"})
     * @return its device address
     */
    long allocate(long bytes, String what) {
        requireOpen("allocate");
        DeviceBlock b = backend.allocateBlock(bytes, "workspace " + what);
        blocks.add(b);
        return b.address();
    }

    /** {@link #allocate} for {@code count} floats. */
    long allocateFloats(long count, String what) {
        return allocate(4 * count, what);
    }

    /** Keeps {@code buffers}, the layer code's description of its buffers for {@code direction}. */
    void attach(Direction direction, Object buffers) {
        requireOpen("attach");
        slots[slot(direction)] = buffers;
    }

    /**
     * What {@link #attach} kept for {@code direction}, or null when nothing was attached yet.
     *
     * @throws ClassCastException naming both types when it is not a {@code type}
     */
    <T> T attached(Direction direction, Class<T> type) {
        requireOpen("attached");
        Object o = slots[slot(direction)];
        if (o != null && !type.isInstance(o)) {
            throw new ClassCastException("workspace slot " + direction + " holds a " + o.getClass().getName()
                    + ", not a " + type.getName());
        }
        return type.cast(o);
    }

    /** Keeps the option path's buffers of {@code direction}. */
    void attachOptions(Direction direction, CudaOptionBuffers buffers) {
        requireOpen("attachOptions");
        optionSlots[slot(direction)] = buffers;
    }

    /** What {@link #attachOptions} kept for {@code direction}, or null. */
    CudaOptionBuffers attachedOptions(Direction direction) {
        requireOpen("attachedOptions");
        return optionSlots[slot(direction)];
    }

    /** Bytes of device memory this workspace holds (capacity of its blocks). */
    long bytes() {
        long sum = 0;
        for (DeviceBlock b : blocks) {
            sum += b.capacity();
        }
        return sum;
    }

    private int slot(Direction d) {
        if (d == null) {
            throw new IllegalArgumentException("direction is null");
        }
        return d == Direction.REVERSE && slots.length == 2 ? 1 : 0;
    }

    private void requireOpen(String op) {
        if (isClosed()) {
            throw new IllegalStateException(op + ": workspace is closed");
        }
    }

    @Override
    public boolean isClosed() {
        return closed || backend.isClosed();
    }

    /**
     * Closes what the slots hold when it is {@link AutoCloseable} (the layer code's CUDA graphs),
     * then returns the blocks to the allocator. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] instanceof AutoCloseable c && (i == 0 || slots[i] != slots[0])) {
                try {
                    c.close();
                } catch (Exception e) {
                    RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                    if (first == null) {
                        first = r;
                    } else {
                        first.addSuppressed(r);
                    }
                }
            }
            slots[i] = null;
            optionSlots[i] = null;
        }
        for (DeviceBlock b : blocks) {
            backend.release(b);
        }
        blocks.clear();
        if (first != null) {
            throw first;
        }
    }
}
