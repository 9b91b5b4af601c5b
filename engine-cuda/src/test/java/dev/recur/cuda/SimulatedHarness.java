package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.Direction;
import dev.recur.cuda.LayerRuns.Inputs;
import dev.recur.cuda.LayerRuns.Params;
import dev.recur.cuda.LayerRuns.Shape;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link LayerRuns.Harness} on a {@link SimulatedDevice}: the same inputs, the same result names,
 * but the ops are {@link CudaLayer}'s, called as {@link CudaBackend}'s {@code ...Impl} methods
 * call them (tensors become addresses, absent states become 0). Buffers come from
 * {@link CudaLayer#newBuffers} with the maxima a workspace of the real harness has (T + 2, B + 1;
 * T = 1 for the cell ops), one set for a one-direction layer and one per direction otherwise.
 */
final class SimulatedHarness {

    final SimulatedDevice device;
    final CudaLayer layer;
    final Inputs in;
    final CudaLayerBuffers[] buffers;
    /** Buffers the layer code allocated (through its {@link LayerDevice.Memory}). */
    int layerAllocations;

    private final Shape s;
    private final Cell cell;
    private final int gh;
    private final long x;
    private final long y;
    private final long dy;
    private final long dx;
    private final CudaLayer.Params[] params;
    private final CudaLayer.Params[] grads;
    private final long[] h0;
    private final long[] c0;
    private final long[] hT;
    private final long[] cT;
    private final long[] dhT;
    private final long[] dcT;
    private final long[] dh0;
    private final long[] dc0;

    SimulatedHarness(SimulatedDevice device, CudaLayer layer, Inputs in, boolean stepOps) {
        this.device = device;
        this.layer = layer;
        this.in = in;
        this.s = in.shape;
        this.cell = in.cell;
        int t = s.steps();
        int b = s.batch();
        int h = s.hidden();
        int dirs = in.dirs;
        boolean lstm = cell.hasCellState();
        gh = cell.gates() * h;
        x = device.upload(in.x);
        y = device.zeros(t * b * dirs * h);
        dy = device.upload(in.dy);
        dx = device.zeros(t * b * s.input());
        params = new CudaLayer.Params[dirs];
        grads = new CudaLayer.Params[dirs];
        h0 = new long[dirs];
        c0 = new long[dirs];
        hT = new long[dirs];
        cT = new long[dirs];
        dhT = new long[dirs];
        dcT = new long[dirs];
        dh0 = new long[dirs];
        dc0 = new long[dirs];
        for (int d = 0; d < dirs; d++) {
            params[d] = params(in.params[d]);
            grads[d] = params(in.grads0[d]);
            h0[d] = in.h0[d] == null ? 0 : device.upload(in.h0[d]);
            c0[d] = in.c0[d] == null ? 0 : device.upload(in.c0[d]);
            hT[d] = device.zeros(b * h);
            cT[d] = lstm ? device.zeros(b * h) : 0;
            dhT[d] = device.upload(in.dhT[d]);
            dcT[d] = lstm ? device.upload(in.dcT[d]) : 0;
            dh0[d] = device.zeros(b * h);
            dc0[d] = lstm ? device.zeros(b * h) : 0;
        }
        LayerDevice.Memory memory = (bytes, what) -> {
            layerAllocations++;
            return device.allocate(bytes, what);
        };
        int maxSteps = stepOps ? 1 : t + 2;
        buffers = new CudaLayerBuffers[dirs];
        for (int d = 0; d < dirs; d++) {
            buffers[d] = layer.newBuffers(memory, cell, maxSteps, b + 1, s.input(), h,
                    dirs == 1 ? "layer" : d == 0 ? "forward" : "reverse");
        }
    }

    private CudaLayer.Params params(Params p) {
        return new CudaLayer.Params(device.upload(p.wIh()), device.upload(p.wHh()), device.upload(p.bIh()),
                device.upload(p.bHh()), p.peep() == null ? 0 : device.upload(p.peep()));
    }

    private void resetGrads() {
        for (int d = 0; d < in.dirs; d++) {
            Params g = in.grads0[d];
            SimulatedDevice.write(grads[d].wIh(), g.wIh());
            SimulatedDevice.write(grads[d].wHh(), g.wHh());
            SimulatedDevice.write(grads[d].bIh(), g.bIh());
            SimulatedDevice.write(grads[d].bHh(), g.bHh());
            if (g.peep() != null) {
                SimulatedDevice.write(grads[d].peep(), g.peep());
            }
        }
    }

    private CudaLayer.Forward forward(int d) {
        return new CudaLayer.Forward(h0[d], c0[d], params[d], hT[d], cT[d]);
    }

    private CudaLayer.Backward backward(int d, CudaLayer.Params into) {
        return new CudaLayer.Backward(params[d], dhT[d], dcT[d], dh0[d], dc0[d], into);
    }

    /** As {@link LayerRuns.Harness#layer(Direction)}. */
    Map<String, float[]> layer(Direction dir) {
        return layer(dir, s.lengths());
    }

    /** As {@link LayerRuns.Harness#layer(Direction, int[])}. */
    Map<String, float[]> layer(Direction dir, int[] lengths) {
        resetGrads();
        int h = s.hidden();
        layer.forward("layerForward", cell, dir, s.steps(), s.batch(), x, lengths, forward(0), y, h, 0, buffers[0]);
        Map<String, float[]> out = new LinkedHashMap<>();
        out.put("y", SimulatedDevice.read(y, s.steps() * s.batch() * h));
        putState(out, "fin", hT[0], cT[0]);
        layer.backward("layerBackward", cell, s.steps(), s.batch(), x, buffers[0], dy, h, 0, backward(0, grads[0]),
                dx);
        out.put("dx", SimulatedDevice.read(dx, s.steps() * s.batch() * s.input()));
        putState(out, "dInit", dh0[0], dc0[0]);
        putParams(out, "grads", grads[0]);
        return out;
    }

    /** As {@link LayerRuns.Harness#bidirectional(boolean)}. */
    Map<String, float[]> bidirectional(boolean sharedGrads) {
        resetGrads();
        int h = s.hidden();
        layer.bidirectionalForward("bidirectionalForward", cell, s.steps(), s.batch(), x, s.lengths(), forward(0),
                forward(1), y, buffers[0], buffers[1]);
        Map<String, float[]> out = new LinkedHashMap<>();
        out.put("y", SimulatedDevice.read(y, s.steps() * s.batch() * 2 * h));
        putState(out, "fin.forward", hT[0], cT[0]);
        putState(out, "fin.reverse", hT[1], cT[1]);
        layer.bidirectionalBackward("bidirectionalBackward", cell, s.steps(), s.batch(), x, dy, dx,
                backward(0, grads[0]), backward(1, sharedGrads ? grads[0] : grads[1]), buffers[0], buffers[1]);
        out.put("dx", SimulatedDevice.read(dx, s.steps() * s.batch() * s.input()));
        putState(out, "dInit.forward", dh0[0], dc0[0]);
        putState(out, "dInit.reverse", dh0[1], dc0[1]);
        putParams(out, "grads.forward", grads[0]);
        if (!sharedGrads) {
            putParams(out, "grads.reverse", grads[1]);
        }
        return out;
    }

    /** As {@link LayerRuns.Harness#cell()}: next = (hT, cT) of direction 0, dNext = (dy's first step, dcT). */
    Map<String, float[]> cell() {
        resetGrads();
        int b = s.batch();
        int h = s.hidden();
        layer.forward("cellForward", cell, Direction.FORWARD, 1, b, x, null,
                new CudaLayer.Forward(h0[0], c0[0], params[0], 0, cT[0]), hT[0], h, 0, buffers[0]);
        Map<String, float[]> out = new LinkedHashMap<>();
        putState(out, "next", hT[0], cT[0]);
        long dh = device.upload(Arrays.copyOf(in.dy, b * h));
        layer.backward("cellBackward", cell, 1, b, x, buffers[0], dh, h, 0,
                new CudaLayer.Backward(params[0], 0, dcT[0], dh0[0], dc0[0], grads[0]), dx);
        out.put("dx", SimulatedDevice.read(dx, b * s.input()));
        putState(out, "dPrev", dh0[0], dc0[0]);
        putParams(out, "grads", grads[0]);
        return out;
    }

    private void putState(Map<String, float[]> out, String name, long h, long c) {
        int n = s.batch() * s.hidden();
        out.put(name + ".h", SimulatedDevice.read(h, n));
        if (c != 0) {
            out.put(name + ".c", SimulatedDevice.read(c, n));
        }
    }

    private void putParams(Map<String, float[]> out, String name, CudaLayer.Params p) {
        int h = s.hidden();
        out.put(name + ".weightIh", SimulatedDevice.read(p.wIh(), gh * s.input()));
        out.put(name + ".weightHh", SimulatedDevice.read(p.wHh(), gh * h));
        out.put(name + ".biasIh", SimulatedDevice.read(p.bIh(), gh));
        out.put(name + ".biasHh", SimulatedDevice.read(p.bHh(), gh));
        if (p.peep() != 0) {
            out.put(name + ".peephole", SimulatedDevice.read(p.peep(), 3 * h));
        }
    }
}
