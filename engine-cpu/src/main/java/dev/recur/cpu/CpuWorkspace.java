package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.Workspace;

/** A {@link Workspace} holding one {@link LayerBuffers} per direction. */
final class CpuWorkspace extends Workspace {

    private LayerBuffers forward;
    private LayerBuffers reverse;

    CpuWorkspace(CpuBackend backend, Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                 boolean bidirectional) {
        super(backend, cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
        forward = new LayerBuffers(cell, maxSteps, maxBatch, inputSize, hiddenSize);
        reverse = bidirectional ? new LayerBuffers(cell, maxSteps, maxBatch, inputSize, hiddenSize) : null;
    }

    /** The buffers of {@code d}; a one-direction workspace serves either direction. */
    LayerBuffers buffers(Direction d) {
        if (forward == null) {
            throw new IllegalStateException("workspace is closed");
        }
        return d == Direction.REVERSE && reverse != null ? reverse : forward;
    }

    @Override
    public boolean isClosed() {
        return forward == null;
    }

    @Override
    public void close() {
        forward = null;
        reverse = null;
    }
}
