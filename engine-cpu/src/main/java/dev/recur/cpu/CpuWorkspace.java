package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.api.Workspace;

/**
 * A {@link Workspace} holding one {@link LayerBuffers} per direction (the plain path), or, for a
 * workspace made with cell options, one {@link OptionBuffers} per direction; each is made on first
 * use, since the options are set after construction.
 */
final class CpuWorkspace extends Workspace {

    private LayerBuffers forward;
    private LayerBuffers reverse;
    private OptionBuffers forwardOptions;
    private OptionBuffers reverseOptions;
    private boolean closed;

    CpuWorkspace(CpuBackend backend, Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                 boolean bidirectional) {
        super(backend, cell, maxSteps, maxBatch, inputSize, hiddenSize, bidirectional);
    }

    /** The plain path's buffers of {@code d}; a one-direction workspace serves either direction. */
    LayerBuffers buffers(Direction d) {
        requireOpen();
        boolean second = d == Direction.REVERSE && bidirectional();
        if (second) {
            if (reverse == null) {
                reverse = new LayerBuffers(cell(), maxSteps(), maxBatch(), inputSize(), hiddenSize());
            }
            return reverse;
        }
        if (forward == null) {
            forward = new LayerBuffers(cell(), maxSteps(), maxBatch(), inputSize(), hiddenSize());
        }
        return forward;
    }

    /** The option path's buffers of {@code d}, for this workspace's options. */
    OptionBuffers optionBuffers(Direction d) {
        requireOpen();
        boolean second = d == Direction.REVERSE && bidirectional();
        OptionBuffers b = second ? reverseOptions : forwardOptions;
        if (b == null || !b.fits(cell(), options())) {
            b = new OptionBuffers(cell(), options(), maxSteps(), maxBatch(), hiddenSize());
            if (second) {
                reverseOptions = b;
            } else {
                forwardOptions = b;
            }
        }
        return b;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("workspace is closed");
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        forward = null;
        reverse = null;
        forwardOptions = null;
        reverseOptions = null;
    }
}
