package dev.recur.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.CUstreamCaptureMode;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;

/**
 * An executable CUDA graph made by stream capture: the one class that calls the driver's graph
 * API ({@code cuStreamBeginCapture}, {@code cuStreamEndCapture}, {@code cuGraphInstantiate},
 * {@code cuGraphLaunch}, {@code cuGraphExecDestroy}).
 *
 * <p>Capture records, instead of running, the work that a piece of code enqueues on one stream:
 * kernel launches with their argument values, cuBLAS calls made through a handle bound to that
 * stream, device-to-device copies. The graph reads and writes the same device addresses every
 * time it is launched; only the memory's contents may change in between.
 *
 * <p>Capture uses {@code CU_STREAM_CAPTURE_MODE_THREAD_LOCAL}: calls that are unsafe during a
 * capture (an allocation, a synchronisation) fail only when made from the capturing thread, so
 * other threads' ordinary work does not break it. The stream captured on should be one that no
 * other code enqueues on (the backend keeps private capture streams for this, see
 * {@link CudaBackend#captureStreamFor}), since anything enqueued on it during the capture would
 * land in the graph instead of running.
 *
 * <p>Order of calls: {@link #capture}, then any number of {@link #launch}, then {@link #close()}
 * (idempotent; a launch still in flight completes, the driver frees the graph afterwards). The
 * backend's context must be current for each call.
 */
final class CudaGraph implements LayerDevice.Graph {

    private final CUgraphExec exec;
    private boolean closed;

    private CudaGraph(CUgraphExec exec) {
        this.exec = exec;
    }

    /**
     * Why a capture did not give a graph: the driver refused to start, end or instantiate it, or
     * a driver or cuBLAS call inside the captured code failed (its message is kept). The captured
     * work did not run, so the caller may run it again without a graph.
     */
    static final class CaptureFailedException extends Exception {
        private static final long serialVersionUID = 1L;

        CaptureFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Captures what {@code body} enqueues on {@code stream} and instantiates it.
     *
     * @throws CaptureFailedException when the driver refuses the capture or a driver or cuBLAS call in
     *                                {@code body} fails (a {@link CudaException} or JCuda's exception);
     *                                the capture is ended and nothing ran
     * @throws RuntimeException       any other exception of {@code body}, after the capture was ended
     *                                (an argument check that fails is a bug, not a reason to go stepwise)
     */
    static CudaGraph capture(CudaStream stream, Runnable body) throws CaptureFailedException {
        int begin = cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        if (begin != CUresult.CUDA_SUCCESS) {
            throw new CaptureFailedException("cuStreamBeginCapture(" + stream.name() + "): " + status(begin), null);
        }
        RuntimeException inBody = null;
        try {
            body.run();
        } catch (RuntimeException e) {
            inBody = e;
        } catch (Error e) {
            endAndDiscard(stream);
            throw e;
        }
        CUgraph graph = new CUgraph();
        int end = cuStreamEndCapture(stream.handle(), graph);
        if (inBody != null) {
            if (end == CUresult.CUDA_SUCCESS) {
                cuGraphDestroy(graph);
            }
            if (inBody instanceof CudaException || inBody instanceof jcuda.CudaException) {
                throw new CaptureFailedException("a call failed during capture: " + inBody.getMessage(), inBody);
            }
            throw inBody;
        }
        if (end != CUresult.CUDA_SUCCESS) {
            throw new CaptureFailedException("cuStreamEndCapture(" + stream.name() + "): " + status(end), null);
        }
        CUgraphExec exec = new CUgraphExec();
        int instantiate = cuGraphInstantiate(exec, graph, 0);
        // The executable graph is independent of the graph it came from, which can go at once.
        int destroy = cuGraphDestroy(graph);
        if (instantiate != CUresult.CUDA_SUCCESS) {
            throw new CaptureFailedException("cuGraphInstantiate: " + status(instantiate), null);
        }
        if (destroy != CUresult.CUDA_SUCCESS) {
            cuGraphExecDestroy(exec);
            throw new CaptureFailedException("cuGraphDestroy: " + status(destroy), null);
        }
        return new CudaGraph(exec);
    }

    /** Ends a capture whose body threw an Error, dropping whatever was captured. */
    private static void endAndDiscard(CudaStream stream) {
        CUgraph graph = new CUgraph();
        if (cuStreamEndCapture(stream.handle(), graph) == CUresult.CUDA_SUCCESS) {
            cuGraphDestroy(graph);
        }
    }

    /** Enqueues the whole graph on {@code stream}, after the work already there. */
    @Override
    public void launch(CudaStream stream) {
        if (closed) {
            throw new IllegalStateException("launch: the CUDA graph is closed");
        }
        CudaDriver.check(cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch(" + stream.name() + ")");
    }

    /** Destroys the executable graph; idempotent. A launch in flight still completes. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CudaDriver.check(cuGraphExecDestroy(exec), "cuGraphExecDestroy");
    }

    private static String status(int result) {
        String text = CudaDriver.errorString(result);
        return CudaDriver.errorName(result) + (text == null ? "" : " (" + text + ")");
    }
}
