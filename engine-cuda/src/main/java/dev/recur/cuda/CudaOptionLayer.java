package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import jcuda.driver.CUstream;

/**
 * One direction of one recurrent layer with {@link CellOptions} or a step mask, on the GPU: the
 * option path (options.cu, options_math.cuh). DESIGN.md's recipe with the contract's additions:
 *
 * <pre>
 * forward:  Ax[T*B, GH] = X·W_ihᵀ                                  (one GEMM, biases go in the step kernels)
 *           for each step t (T-1..0 in the reverse direction):
 *             q_t = m ⊙ r_{t-1}                                      (optRecurrentInput; m = 1 at inference)
 *             Ah = q_t·W_hhᵀ                                         (one GEMM; the original GRU: two)
 *             gates, c~, c_t (zoneout), hCand                         (one fused kernel per cell)
 *             h~ = hCand·W_hrᵀ                                       (projected LSTM: one GEMM)
 *             h_t = zoneout(h_{t-1}, h~) where the step runs          (optCommitState)
 *             r_t = h_t·W_hrᵀ                                        (projected GRU: one GEMM)
 *             y_t = h_t (or r_t), the last output at holes, 0 past a length   (optOutput)
 * backward: the same steps in reverse order, then after the loop, over all T*B rows at once:
 *           dW_ih += dGxᵀ·X, dW_hh += dGhᵀ·Q, dW_hr += (its two or one products), dX = dGx·W_ih,
 *           bias and peephole sums (addColumnSums, addPeepholeGrads)
 * </pre>
 *
 * Rows are dense ({@code t*B + b}), not packed by length as the plain path's are: every step
 * kernel runs all B rows and a per-row step code (run, hole, padding; {@link #codes}) decides what
 * each does, so holes anywhere, lengths and both directions are one code path. Rows that do not
 * run write zero gate gradients, so the weight-gradient GEMMs over all rows add nothing for them.
 * Random numbers are drawn in the kernels from (seed, counter + index) as CellOptions specifies,
 * and drawn again in the backward from the seed and counter the forward used (kept in the
 * buffers); no mask is stored.
 *
 * <p>Streams and graphs: everything runs on the main stream, step by step from the host (a
 * bidirectional call runs the forward direction, then the reverse one); there is no host round
 * trip inside the loop, only enqueued work. Each loop leaves a {@link LayerPath.Kind#OPTIONS}
 * record. Buffers ({@link CudaOptionBuffers}) are made on the workspace's first option call, the
 * backward's on its first backward; nothing allocates after that.
 *
 * <p>Layer normalisation (options_ln.cu): the input projections of all steps are normalised once
 * before the loop, each step's recurrent projections after its GEMM, and the LSTM's c~ after its
 * gate kernel (optLayerNormCell); the backward runs the same in reverse, the input side's once
 * after the loop, and the gains' and biases' gradients are column sums of per-row terms.
 *
 * <p>The original GRU with a projection forms its n block's recurrent input as CellOptions says,
 * {@code W_hn (m ⊙ W_hr (r ⊙ h_{t-1}))}: two more GEMMs per step forward and backward.
 */
final class CudaOptionLayer {

    /**
     * Weights or gradients of one direction as device addresses; {@code peep} and {@code wHr} are 0
     * when absent, {@code norm} null without layer normalisation.
     */
    record Params(long wIh, long wHh, long bIh, long bHh, long peep, long wHr, Norm norm) {
    }

    /** Layer normalisation's gains and biases (LayerNormParams) as device addresses; gainC and biasC 0 for the GRU. */
    record Norm(long gainIh, long biasIh, long gainHh, long biasHh, long gainC, long biasC) {
    }

    /** A forward's state in and out (0: zeros in, not wanted out) and its parameters. */
    record Forward(long h0, long c0, Params params, long hT, long cT) {
    }

    /** A backward's gradients in (0: none) and out (0: not wanted), parameters and gradient accumulators. */
    record Backward(Params params, long dhT, long dcT, long dh0, long dc0, Params grads) {
    }

    /**
     * What a call asks of the option path, besides tensors: the options, the step mask (null: no
     * holes), the draws' seed (each direction's first counter value is passed on its own), and
     * whether it trains (draws masks) or infers (m = 1, zoneout's expectation).
     */
    record Call(CellOptions options, byte[] mask, long seed, boolean train) {
    }

    private static final long F = Float.BYTES;
    private static final float EPS = CellOptions.LAYER_NORM_EPSILON;

    private final LayerDevice device;
    private final CudaLayer paths;

    /**
     * @param device the device ({@link CudaBackend}'s, or a simulated one in host tests)
     * @param paths  where the {@link LayerPath} records go (the backend's {@link CudaLayer})
     */
    CudaOptionLayer(LayerDevice device, CudaLayer paths) {
        this.device = device;
        this.paths = paths;
    }

    /**
     * The step codes of a call: {@code codes[t*B + b]} is RECUR_STEP_PAD (0) at or past
     * {@code lengths[b]}, RECUR_STEP_HOLE (2) where the mask is 0, else RECUR_STEP_RUN (1).
     */
    static void codes(int steps, int batch, int[] lengths, byte[] mask, int[] into) {
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int i = t * batch + b;
                into[i] = lengths != null && t >= lengths[b] ? 0 : mask != null && mask[i] == 0 ? 2 : 1;
            }
        }
    }

    // ---------------------------------------------------------------- forward

    /**
     * One direction's forward on the main stream.
     *
     * @param x       [T, B, I]
     * @param y       receives y_t at {@code y[(t*B + b)*yStride + yCol + j]}, j &lt; R
     * @param counter the first counter value of this direction's draws
     */
    void forward(String op, Cell cell, Direction dir, int steps, int batch, long x, int[] lengths, Call call,
                 long counter, Forward f, long y, int yStride, int yCol, CudaOptionBuffers buf) {
        device.enter(op);
        CudaStream stream = device.mainStream();
        CUstream cs = stream.handle();
        CudaKernels k = device.kernels();
        CellOptions o = call.options();
        Params p = f.params();
        int in = buf.inputSize;
        int hs = buf.hidden;
        int gh = buf.gh;
        int r = buf.recurrent;
        int sw = buf.state;
        int proj = o.projectionSize();
        boolean gruProj = buf.gruFamily && proj > 0;
        boolean lstmProj = cell.hasCellState() && proj > 0;
        int n = steps * batch;
        boolean train = call.train();
        long seed = call.seed();
        long zhStart = counter + o.zoneoutHOffset(batch, hs);
        long zcStart = counter + o.zoneoutCOffset(cell, steps, batch, hs);

        buf.prepare(dir, steps, batch, lengths, call.mask(), seed, counter);
        boolean ln = buf.layerNorm;
        Norm nm = p.norm();
        int g = cell.gates();
        device.gemm(stream, false, true, n, gh, in, 1f, x, in, p.wIh(), in, 0f, buf.ax, gh);
        long ax = buf.ax;
        if (ln) {
            k.optLayerNorm(cs, n, hs, gh, 0, g, EPS, buf.ax, nm.gainIh(), nm.biasIh(), buf.axLn, buf.statsX);
            ax = buf.axLn;
        }
        loadState(buf.h, f.h0(), (long) batch * sw, stream);
        if (buf.c != 0) {
            loadState(buf.c, f.c0(), (long) batch * hs, stream);
        }
        device.memsetD32(buf.yLast, 0, (long) batch * r, stream);
        long rec = buf.h;
        if (gruProj) {
            device.gemm(stream, false, true, batch, proj, hs, 1f, buf.h, hs, p.wHr(), hs, 0f, buf.rec, proj);
            rec = buf.rec;
        }
        for (int s = 0; s < steps; s++) {
            int t = dir == Direction.FORWARD ? s : steps - 1 - s;
            long row = (long) t * batch;
            device.copy(buf.hPrev + F * row * sw, buf.h, F * batch * sw, stream);
            if (buf.c != 0) {
                device.copy(buf.cPrev + F * row * hs, buf.c, F * batch * hs, stream);
            }
            k.optRecurrentInput(cs, batch, r, t, o.recurrentDropout(), train, seed, counter, rec, buf.q);
            long qt = buf.q + F * row * r;
            long cand = buf.hCand;
            // The GEMM writes q·W_hhᵀ to ahOut; with layer normalisation that is the saved raw row
            // block, and optLayerNorm writes its normalised blocks to buf.ah, which the kernels read.
            long ahOut = ln ? buf.ahRaw + F * row * gh : buf.ah;
            long statsT = ln ? buf.statsH + F * row * g * 2 : 0;
            switch (cell) {
                case RNN_TANH, RNN_RELU -> {
                    device.gemm(stream, false, true, batch, gh, r, 1f, qt, r, p.wHh(), r, 0f, ahOut, gh);
                    k.optRnnForward(cs, batch, hs, t, cell == Cell.RNN_RELU, ax, buf.ah, p.bIh(), p.bHh(),
                            buf.gates, buf.hCand);
                }
                case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                    device.gemm(stream, false, true, batch, gh, r, 1f, qt, r, p.wHh(), r, 0f, ahOut, gh);
                    if (ln) {
                        k.optLayerNorm(cs, batch, hs, gh, 0, g, EPS, ahOut, nm.gainHh(), nm.biasHh(), buf.ah, statsT);
                    }
                    long hc = lstmProj ? buf.hHat + F * row * hs : buf.hCand;
                    k.optLstmForward(cs, batch, hs, t, cell == Cell.LSTM_COUPLED, o.zoneoutC(), train, seed, zcStart,
                            buf.codes, ax, buf.ah, p.bIh(), p.bHh(), p.peep(), buf.c, buf.gates, buf.cTilde,
                            buf.tanhC, hc);
                    if (ln) {
                        k.optLayerNormCell(cs, batch, hs, t, gh, gh - hs, EPS, buf.cTilde, buf.gates, nm.gainC(),
                                nm.biasC(), buf.statsC, buf.tanhC, hc);
                    }
                    if (lstmProj) {
                        device.gemm(stream, false, true, batch, proj, hs, 1f, hc, hs, p.wHr(), hs, 0f, buf.hProj, proj);
                        cand = buf.hProj;
                    }
                }
                case GRU -> {
                    device.gemm(stream, false, true, batch, gh, r, 1f, qt, r, p.wHh(), r, 0f, ahOut, gh);
                    if (ln) {
                        k.optLayerNorm(cs, batch, hs, gh, 0, g, EPS, ahOut, nm.gainHh(), nm.biasHh(), buf.ah, statsT);
                    }
                    k.optGruForward(cs, batch, hs, t, ax, buf.ah, p.bIh(), p.bHh(), buf.h, buf.gates, buf.extra,
                            buf.hCand);
                }
                case GRU_ORIGINAL -> {
                    // [r, z] from q, then the n block from r ⊙ q (rows 2H..3H of W_hh); R = H here.
                    device.gemm(stream, false, true, batch, 2 * hs, r, 1f, qt, r, p.wHh(), r, 0f, ahOut, gh);
                    if (ln) {
                        k.optLayerNorm(cs, batch, hs, gh, 0, 2, EPS, ahOut, nm.gainHh(), nm.biasHh(), buf.ah, statsT);
                    }
                    // r ⊙ q, or with a projection r ⊙ h_{t-1}, then projected and dropped: m ⊙ W_hr (r ⊙ h_{t-1}).
                    k.optGruOriginalGates(cs, batch, hs, t, ax, buf.ah, p.bIh(), p.bHh(), gruProj ? buf.h : qt,
                            buf.gates, buf.extra);
                    long nIn = buf.extra + F * row * hs;
                    if (gruProj) {
                        // buf.rec is free until the step's end: the step's q was read from it above.
                        device.gemm(stream, false, true, batch, proj, hs, 1f, nIn, hs, p.wHr(), hs, 0f, buf.rec, proj);
                        k.optRecurrentInput(cs, batch, proj, t, o.recurrentDropout(), train, seed, counter, buf.rec,
                                buf.qn);
                        nIn = buf.qn + F * row * proj;
                    }
                    device.gemm(stream, false, true, batch, hs, r, 1f, nIn, r, p.wHh() + F * 2 * hs * r, r, 0f,
                            ahOut + F * 2 * hs, gh);
                    if (ln) {
                        k.optLayerNorm(cs, batch, hs, gh, 2, 1, EPS, ahOut, nm.gainHh(), nm.biasHh(), buf.ah, statsT);
                    }
                    k.optGruOriginalOutput(cs, batch, hs, t, ax, buf.ah, p.bIh(), p.bHh(), buf.h, buf.gates,
                            buf.hCand);
                }
            }
            k.optCommitState(cs, batch, sw, t, o.zoneoutH(), train, seed, zhStart, buf.codes, cand, buf.h);
            long out = buf.h;
            if (gruProj) {
                device.copy(buf.hAfter + F * row * hs, buf.h, F * batch * hs, stream);
                device.gemm(stream, false, true, batch, proj, hs, 1f, buf.h, hs, p.wHr(), hs, 0f, buf.rec, proj);
                out = buf.rec;
            }
            k.optOutput(cs, batch, r, t, yStride, yCol, buf.codes, out, buf.yLast, y);
        }
        if (f.hT() != 0) {
            device.copy(f.hT(), buf.h, F * batch * sw, stream);
        }
        if (f.cT() != 0 && buf.c != 0) {
            device.copy(f.cT(), buf.c, F * batch * hs, stream);
        }
        paths.record(op, cell, dir, LayerPath.Kind.OPTIONS, stream, steps, describe(call, "forward"));
    }

    private void loadState(long dst, long src, long count, CudaStream stream) {
        if (src == 0) {
            device.memsetD32(dst, 0, count, stream);
        } else {
            device.copy(dst, src, F * count, stream);
        }
    }

    // ---------------------------------------------------------------- backward

    /**
     * The backward of the last {@link #forward} on {@code buf}, on the main stream, with the
     * forward's step codes, seed and counter.
     *
     * @param dy           gradient at {@code dy[(t*B + b)*dyStride + dyCol + j]}, or 0
     * @param dx           [T, B, I], or 0
     * @param dxAccumulate add into dx (the reverse direction of a bidirectional layer) instead of overwriting
     */
    void backward(String op, Cell cell, int steps, int batch, long x, CudaOptionBuffers buf, Call call, long dy,
                  int dyStride, int dyCol, Backward b, long dx, boolean dxAccumulate) {
        device.enter(op);
        buf.ensureBackward();
        CudaStream stream = device.mainStream();
        CUstream cs = stream.handle();
        CudaKernels k = device.kernels();
        CellOptions o = call.options();
        Params p = b.params();
        Params g = b.grads();
        Direction dir = buf.direction();
        int in = buf.inputSize;
        int hs = buf.hidden;
        int gh = buf.gh;
        int r = buf.recurrent;
        int sw = buf.state;
        int proj = o.projectionSize();
        boolean gruProj = buf.gruFamily && proj > 0;
        boolean lstmProj = cell.hasCellState() && proj > 0;
        int n = steps * batch;
        long seed = buf.seed();
        long counter = buf.counter();
        long zhStart = counter + o.zoneoutHOffset(batch, hs);
        long zcStart = counter + o.zoneoutCOffset(cell, steps, batch, hs);
        boolean ln = buf.layerNorm;
        Norm nm = p.norm();
        int gates = cell.gates();

        loadState(buf.dh, b.dhT(), (long) batch * sw, stream);
        if (buf.dc != 0) {
            loadState(buf.dc, b.dcT(), (long) batch * hs, stream);
        }
        device.memsetD32(buf.carry, 0, (long) batch * r, stream);
        for (int s = steps - 1; s >= 0; s--) {
            int t = dir == Direction.FORWARD ? s : steps - 1 - s;
            long row = (long) t * batch;
            // What reaches the state h_t from y_t.
            if (gruProj) {
                long gy = buf.gy + F * row * proj;
                k.optOutputGradient(cs, batch, proj, t, dyStride, dyCol, false, buf.codes, dy, buf.carry, gy);
                device.gemm(stream, false, false, batch, hs, proj, 1f, gy, proj, p.wHr(), hs, 1f, buf.dh, hs);
            } else {
                k.optOutputGradient(cs, batch, r, t, dyStride, dyCol, true, buf.codes, dy, buf.carry, buf.dh);
            }
            // Zoneout of h: the candidate's share, then through the projection of the LSTM.
            long dhc;
            if (lstmProj) {
                long dTilde = buf.dhTilde + F * row * proj;
                k.optZoneBackward(cs, batch, proj, t, o.zoneoutH(), seed, zhStart, buf.codes, buf.dh, dTilde);
                device.gemm(stream, false, false, batch, hs, proj, 1f, dTilde, proj, p.wHr(), hs, 0f, buf.dhHat, hs);
                dhc = buf.dhHat;
            } else {
                k.optZoneBackward(cs, batch, sw, t, o.zoneoutH(), seed, zhStart, buf.codes, buf.dh, buf.dCand);
                dhc = buf.dCand;
            }
            long dGt = buf.dGx + F * row * gh;
            // With layer normalisation the recurrent GEMM's gradient is the LN backward's dAhRaw.
            long ahRawT = ln ? buf.ahRaw + F * row * gh : 0;
            long statsT = ln ? buf.statsH + F * row * gates * 2 : 0;
            long dRawT = ln ? buf.dAhRaw + F * row * gh : 0;
            long gainT = ln ? buf.gainTermH + F * row * gh : 0;
            long dAh;
            switch (cell) {
                case RNN_TANH, RNN_RELU -> {
                    k.optRnnBackward(cs, batch, hs, t, cell == Cell.RNN_RELU, buf.codes, buf.gates, dhc, buf.dGx);
                    dAh = dGt;
                }
                case LSTM, LSTM_PEEPHOLE, LSTM_COUPLED -> {
                    long dcFromH = 0;
                    if (ln) {
                        k.optLayerNormCellBackward(cs, batch, hs, t, gh, gh - hs, buf.cTilde, buf.gates, nm.gainC(),
                                buf.statsC, buf.tanhC, dhc, buf.dcFromH, buf.gainTermC, buf.biasTermC);
                        dcFromH = buf.dcFromH;
                    }
                    k.optLstmBackward(cs, batch, hs, t, cell == Cell.LSTM_COUPLED, o.zoneoutC(), seed, zcStart,
                            buf.codes, buf.gates, p.peep(), buf.cPrev, buf.tanhC, dhc, dcFromH, buf.dc, buf.dGx);
                    dAh = dGt;
                }
                case GRU -> {
                    k.optGruBackward(cs, batch, hs, t, buf.codes, buf.gates, buf.hPrev, buf.extra, dhc, buf.dh,
                            buf.dGx, buf.dGh);
                    dAh = buf.dGh + F * row * gh;
                }
                case GRU_ORIGINAL -> {
                    k.optGruOriginalBackwardOutput(cs, batch, hs, t, buf.codes, buf.gates, buf.hPrev, dhc, buf.dh,
                            buf.dGx);
                    // d(r ⊙ q) = d(W_hn (r ⊙ q))·W_hn, then da_r and dq = r ⊙ d(r ⊙ q), then
                    // dq += d[a_r, a_z]·W_hh[0, 2H); each through LN first when normalising.
                    long dN = dGt + F * 2 * hs;
                    if (ln) {
                        k.optLayerNormBackward(cs, batch, hs, gh, 2, 1, ahRawT, statsT, nm.gainHh(), dGt, dRawT, gainT);
                        dN = dRawT + F * 2 * hs;
                    }
                    if (gruProj) {
                        // Back through m ⊙ W_hr (r ⊙ h_{t-1}): dq_n = dN·W_hn, dp_n = m ⊙ dq_n (kept for dW_hr),
                        // d(r ⊙ h) = dp_n·W_hr; buf.dq serves as scratch before it holds the r, z part.
                        device.gemm(stream, false, false, batch, r, hs, 1f, dN, gh, p.wHh() + F * 2 * hs * r, r, 0f,
                                buf.dq, r);
                        long dpn = buf.dpn + F * row * proj;
                        k.optRecurrentGradient(cs, batch, proj, o.recurrentDropout(), seed, counter, false, buf.dq,
                                dpn);
                        device.gemm(stream, false, false, batch, hs, proj, 1f, dpn, proj, p.wHr(), hs, 0f, buf.dRq,
                                hs);
                    } else {
                        device.gemm(stream, false, false, batch, r, hs, 1f, dN, gh, p.wHh() + F * 2 * hs * r, r, 0f,
                                buf.dRq, r);
                    }
                    // With a projection r ⊙ dRq reaches h_{t-1} itself (into dh); else q (into dq).
                    k.optGruOriginalBackwardGates(cs, batch, hs, t, gruProj, buf.codes, buf.gates,
                            gruProj ? buf.hPrev + F * row * hs : buf.q + F * row * r, buf.dRq,
                            gruProj ? buf.dh : buf.dq, buf.dGx);
                    long dRz = dGt;
                    if (ln) {
                        k.optLayerNormBackward(cs, batch, hs, gh, 0, 2, ahRawT, statsT, nm.gainHh(), dGt, dRawT, gainT);
                        dRz = dRawT;
                    }
                    device.gemm(stream, false, false, batch, r, 2 * hs, 1f, dRz, gh, p.wHh(), r, gruProj ? 0f : 1f,
                            buf.dq, r);
                    dAh = 0;
                }
                default -> throw new IllegalStateException("no option path for " + cell);
            }
            if (dAh != 0) {
                if (ln) {
                    k.optLayerNormBackward(cs, batch, hs, gh, 0, gates, ahRawT, statsT, nm.gainHh(), dAh, dRawT, gainT);
                    dAh = dRawT;
                }
                device.gemm(stream, false, false, batch, r, gh, 1f, dAh, gh, p.wHh(), r, 0f, buf.dq, r);
            }
            // Through the recurrent dropout to r_{t-1}: the state itself, or W_hr h_{t-1} for the projected GRU.
            if (gruProj) {
                long dr = buf.dr + F * row * proj;
                k.optRecurrentGradient(cs, batch, proj, o.recurrentDropout(), seed, counter, false, buf.dq, dr);
                device.gemm(stream, false, false, batch, hs, proj, 1f, dr, proj, p.wHr(), hs, 1f, buf.dh, hs);
            } else {
                k.optRecurrentGradient(cs, batch, r, o.recurrentDropout(), seed, counter, true, buf.dq, buf.dh);
            }
        }
        if (b.dh0() != 0) {
            device.copy(b.dh0(), buf.dh, F * batch * sw, stream);
        }
        if (b.dc0() != 0 && buf.dc != 0) {
            device.copy(b.dc0(), buf.dc, F * batch * hs, stream);
        }

        // Weight gradients over all T*B rows at once (rows that did not run carry zero gradients).
        long dAx = buf.dGx;
        long dAhAll = buf.dGh;
        if (ln) {
            k.optLayerNormBackward(cs, n, hs, gh, 0, gates, buf.ax, buf.statsX, nm.gainIh(), buf.dGx, buf.dAxRaw,
                    buf.gainTermX);
            dAx = buf.dAxRaw;
            dAhAll = buf.dAhRaw;
        }
        device.gemm(stream, true, false, gh, in, n, 1f, dAx, gh, x, in, 1f, g.wIh(), in);
        if (cell == Cell.GRU_ORIGINAL) {
            device.gemm(stream, true, false, 2 * hs, r, n, 1f, dAhAll, gh, buf.q, r, 1f, g.wHh(), r);
            device.gemm(stream, true, false, hs, r, n, 1f, dAhAll + F * 2 * hs, gh, gruProj ? buf.qn : buf.extra, r,
                    1f, g.wHh() + F * 2 * hs * r, r);
            if (gruProj) {
                device.gemm(stream, true, false, proj, hs, n, 1f, buf.dpn, proj, buf.extra, hs, 1f, g.wHr(), hs);
            }
        } else {
            device.gemm(stream, true, false, gh, r, n, 1f, dAhAll, gh, buf.q, r, 1f, g.wHh(), r);
        }
        if (buf.dGh == buf.dGx) {
            k.addColumnSums(cs, n, gh, buf.dGx, g.bIh(), g.bHh());
        } else {
            k.addColumnSums(cs, n, gh, buf.dGx, g.bIh(), 0);
            k.addColumnSums(cs, n, gh, buf.dGh, g.bHh(), 0);
        }
        if (ln) {
            // β of each LN is added where the cell's bias is: the same column sums; γ's are the per-row terms'.
            Norm gn = g.norm();
            k.addColumnSums(cs, n, gh, buf.dGx, gn.biasIh(), 0);
            k.addColumnSums(cs, n, gh, buf.dGh, gn.biasHh(), 0);
            k.addColumnSums(cs, n, gh, buf.gainTermX, gn.gainIh(), 0);
            k.addColumnSums(cs, n, gh, buf.gainTermH, gn.gainHh(), 0);
            if (cell.hasCellState()) {
                k.addColumnSums(cs, n, hs, buf.gainTermC, gn.gainC(), 0);
                k.addColumnSums(cs, n, hs, buf.biasTermC, gn.biasC(), 0);
            }
        }
        if (cell == Cell.LSTM_PEEPHOLE) {
            // p_o reads c~ (CellOptions), which cTilde holds.
            k.addPeepholeGrads(cs, n, hs, buf.dGx, buf.cPrev, buf.cTilde, g.peep());
        }
        if (lstmProj) {
            device.gemm(stream, true, false, proj, hs, n, 1f, buf.dhTilde, proj, buf.hHat, hs, 1f, g.wHr(), hs);
        }
        if (gruProj) {
            device.gemm(stream, true, false, proj, hs, n, 1f, buf.gy, proj, buf.hAfter, hs, 1f, g.wHr(), hs);
            device.gemm(stream, true, false, proj, hs, n, 1f, buf.dr, proj, buf.hPrev, hs, 1f, g.wHr(), hs);
        }
        if (dx != 0) {
            device.gemm(stream, false, false, n, in, gh, 1f, dAx, gh, p.wIh(), in, dxAccumulate ? 1f : 0f, dx, in);
        }
        paths.record(op, cell, dir, LayerPath.Kind.OPTIONS, stream, steps, describe(call, "backward"));
    }

    /**
     * Both directions, one after the other on the main stream: {@code y [T, B, 2R]}, the forward
     * direction in columns [0, R) drawing from {@code counter}, the reverse one in [R, 2R) drawing
     * from {@code reverseCounter} (counter + {@link CellOptions#draws}).
     */
    void bidirectionalForward(String op, Cell cell, int steps, int batch, long x, int[] lengths, Call call,
                              long counter, long reverseCounter, Forward fwd, Forward rev, long y,
                              CudaOptionBuffers bufF, CudaOptionBuffers bufR) {
        int r = bufF.recurrent;
        forward(op, cell, Direction.FORWARD, steps, batch, x, lengths, call, counter, fwd, y, 2 * r, 0, bufF);
        forward(op, cell, Direction.REVERSE, steps, batch, x, lengths, call, reverseCounter, rev, y, 2 * r, r, bufR);
    }

    /** The backward of {@link #bidirectionalForward}: dx (if not 0) = the forward direction's, then + the reverse's. */
    void bidirectionalBackward(String op, Cell cell, int steps, int batch, long x, Call call, long dy, long dx,
                               Backward fwd, Backward rev, CudaOptionBuffers bufF, CudaOptionBuffers bufR) {
        int r = bufF.recurrent;
        backward(op, cell, steps, batch, x, bufF, call, dy, 2 * r, 0, fwd, dx, false);
        backward(op, cell, steps, batch, x, bufR, call, dy, 2 * r, r, rev, dx, true);
    }

    private static String describe(Call call, String what) {
        return "option path " + what + ": " + call.options() + (call.mask() != null ? ", step mask" : "")
                + (call.train() ? "" : ", inference");
    }

    // ---------------------------------------------------------------- buffers

    /** The option buffers of {@code dir} in {@code ws}, made on first use from the workspace's memory. */
    synchronized CudaOptionBuffers buffers(CudaWorkspace ws, Direction dir) {
        CudaOptionBuffers b = ws.attachedOptions(dir);
        if (b == null) {
            device.enter("workspace buffers");
            String tag = ws.bidirectional() ? (dir == Direction.FORWARD ? "forward" : "reverse") : "layer";
            b = new CudaOptionBuffers(device, ws::allocate, ws.cell(), ws.options(), ws.maxSteps(), ws.maxBatch(),
                    ws.inputSize(), ws.hiddenSize(), tag + " options");
            ws.attachOptions(dir, b);
        }
        return b;
    }
}
