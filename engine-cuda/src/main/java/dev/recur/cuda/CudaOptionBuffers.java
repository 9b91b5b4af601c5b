package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;

/**
 * The device memory of one direction of the option path ({@link CudaOptionLayer}), in blocks
 * owned by the workspace, sized once for its maxima ({@code Nmax = maxT * maxB} dense rows): the
 * forward's buffers on the first option call, the backward's on the first backward. Also kept:
 * the step codes of the last forward (host copy and device copy) and the direction, seed and
 * counter it drew with, which its backward draws again.
 *
 * <p>Widths: H hidden, G gates (GH = G*H), R recurrent width, S state width, P projection.
 * Buffers a cell or option does not need are 0.
 */
final class CudaOptionBuffers {

    final Cell cell;
    final int inputSize;
    final int hidden;
    final int gh;
    final int recurrent;   // R
    final int state;       // S
    final int projection;  // P, 0 for none
    final boolean gruFamily;
    final boolean layerNorm;
    final int maxRows;
    final int maxBatch;

    final int[] codesHost;  // [Nmax]      step codes, staged for upload
    final long codes;       // [Nmax] int  RECUR_STEP_PAD / RUN / HOLE per row t*B + b

    final long ax;      // [Nmax, GH]  x·W_ihᵀ of every row (no bias)
    final long ah;      // [maxB, GH]  this step's q·W_hhᵀ
    final long gates;   // [Nmax, GH]  activated gates
    final long q;       // [Nmax, R]   m ⊙ r_{t-1}, the recurrent GEMM's input of each row
    final long hPrev;   // [Nmax, S]   h_{t-1} of each row (the undropped state)
    final long cPrev;   // [Nmax, H]   c_{t-1} (LSTM family; else 0)
    final long cTilde;  // [Nmax, H]   c~ (LSTM family; else 0)
    final long extra;   // [Nmax, H]   GRU: W_hn q + b_hn; original GRU: r ⊙ q (r ⊙ h_{t-1} with a projection); else 0
    final long hHat;    // [Nmax, H]   projected LSTM: o ⊙ tanh(c~), the projection's input; else 0
    final long hAfter;  // [Nmax, H]   projected GRU: h_t, the output projection's input; else 0
    final long h;       // [maxB, S]   running h
    final long c;       // [maxB, H]   running c (LSTM family; else 0)
    final long rec;     // [maxB, P]   projected GRU: W_hr h, the recurrent input and output; else 0
    final long hCand;   // [maxB, H]   this step's candidate h~ (or the projected LSTM's unused scratch)
    final long hProj;   // [maxB, P]   projected LSTM: h~ = W_hr hHat; else 0
    final long yLast;   // [maxB, R]   the last output of each sequence (holes repeat it)
    final long qn;      // [Nmax, P]   projected original GRU: m ⊙ W_hr (r ⊙ h_{t-1}), the n block's GEMM input
    final long tanhC;   // [Nmax, H]   tanh(c~), or tanh(LN(c~)) (LSTM family; else 0)
    // Layer normalisation (0 without): ax above stays raw, the gate kernels read axLn and ah (normalised).
    final long axLn;    // [Nmax, GH]    LN(x·W_ihᵀ) per gate block
    final long statsX;  // [Nmax, G, 2]  its (μ, rstd)
    final long ahRaw;   // [Nmax, GH]    q·W_hhᵀ of every row, before LN (the GEMM writes here)
    final long statsH;  // [Nmax, G, 2]  its (μ, rstd)
    final long statsC;  // [Nmax, 2]     (μ, rstd) of c~ (LSTM family)

    long dGx;      // [Nmax, GH]  pre-activation gradients, input side
    long dGh;      // [Nmax, GH]  recurrent side (GRU; else dGx)
    long dh;       // [maxB, S]   gradient reaching the running h
    long dc;       // [maxB, H]   gradient reaching the running c (LSTM family; else 0)
    long carry;    // [maxB, R]   output gradients of holes, on their way to the step whose output they repeat
    long dCand;    // [maxB, S]   gradient reaching h~
    long dq;       // [maxB, R]   gradient reaching q
    long dRq;      // [maxB, H]   original GRU: gradient reaching r ⊙ q; else 0
    long dhTilde;  // [Nmax, P]   projected LSTM: gradient reaching h~ per row; else 0
    long dhHat;    // [maxB, H]   projected LSTM: gradient reaching hHat; else 0
    long gy;       // [Nmax, P]   projected GRU: gradient reaching y_t = W_hr h_t per row; else 0
    long dpn;      // [Nmax, P]   projected original GRU: gradient reaching W_hr (r ⊙ h_{t-1}) per row
    long dr;       // [Nmax, P]   projected GRU: gradient reaching r_{t-1} = W_hr h_{t-1} per row; else 0
    long dAxRaw;   // [Nmax, GH]  layer norm: gradient reaching x·W_ihᵀ (else dGx is)
    long dAhRaw;   // [Nmax, GH]  layer norm: gradient reaching q·W_hhᵀ (else dGh is)
    long gainTermX;// [Nmax, GH]  layer norm: dGx ⊙ x̂ per row, summed into the gain's gradient
    long gainTermH;// [Nmax, GH]  layer norm: dGh ⊙ x̂ per row
    long dcFromH;  // [maxB, H]   layer norm, LSTM: gradient reaching c~ through LN(c~)
    long gainTermC;// [Nmax, H]   layer norm, LSTM: d LN(c~) ⊙ ĉ per row
    long biasTermC;// [Nmax, H]   layer norm, LSTM: d LN(c~) per row

    private final LayerDevice device;
    private final LayerDevice.Memory memory;
    private final String tag;
    private Direction direction = Direction.FORWARD;
    private long seed;
    private long counter;

    CudaOptionBuffers(LayerDevice device, LayerDevice.Memory memory, Cell cell, CellOptions options, int maxSteps,
                      int maxBatch, int inputSize, int hidden, String tag) {
        this.device = device;
        this.memory = memory;
        this.tag = tag;
        this.cell = cell;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.gh = cell.gates() * hidden;
        this.recurrent = options.recurrentWidth(hidden);
        this.state = options.stateWidth(cell, hidden);
        this.projection = options.projectionSize();
        this.gruFamily = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;
        this.layerNorm = options.layerNorm();
        this.maxBatch = maxBatch;
        this.maxRows = Math.multiplyExact(maxSteps, maxBatch);
        boolean lstm = cell.hasCellState();
        long n = maxRows;
        long mb = maxBatch;
        codesHost = new int[maxRows];
        codes = memory.allocate(Integer.BYTES * n, tag + " step codes [Nmax]");
        ax = floats(n * gh, "x·W_ihᵀ [Nmax, G*H]");
        ah = floats(mb * gh, "q·W_hhᵀ [maxB, G*H]");
        gates = floats(n * gh, "gates [Nmax, G*H]");
        q = floats(n * recurrent, "q [Nmax, R]");
        hPrev = floats(n * state, "h_{t-1} [Nmax, S]");
        cPrev = lstm ? floats(n * hidden, "c_{t-1} [Nmax, H]") : 0;
        cTilde = lstm ? floats(n * hidden, "c~ [Nmax, H]") : 0;
        extra = gruFamily ? floats(n * hidden, (cell == Cell.GRU ? "W_hn q + b_hn" : "r ⊙ q") + " [Nmax, H]") : 0;
        hHat = lstm && projection > 0 ? floats(n * hidden, "o ⊙ tanh(c~) [Nmax, H]") : 0;
        hAfter = gruFamily && projection > 0 ? floats(n * hidden, "h_t [Nmax, H]") : 0;
        h = floats(mb * state, "h [maxB, S]");
        c = lstm ? floats(mb * hidden, "c [maxB, H]") : 0;
        rec = gruFamily && projection > 0 ? floats(mb * projection, "W_hr h [maxB, P]") : 0;
        hCand = floats(mb * hidden, "h~ [maxB, H]");
        hProj = lstm && projection > 0 ? floats(mb * projection, "W_hr hHat [maxB, P]") : 0;
        yLast = floats(mb * recurrent, "last y [maxB, R]");
        boolean origProj = cell == Cell.GRU_ORIGINAL && projection > 0;
        qn = origProj ? floats(n * projection, "m ⊙ W_hr (r ⊙ h) [Nmax, P]") : 0;
        tanhC = lstm ? floats(n * hidden, "tanh c [Nmax, H]") : 0;
        int g = cell.gates();
        axLn = layerNorm ? floats(n * gh, "LN(x·W_ihᵀ) [Nmax, G*H]") : 0;
        statsX = layerNorm ? floats(n * g * 2, "LN stats x [Nmax, G, 2]") : 0;
        ahRaw = layerNorm ? floats(n * gh, "q·W_hhᵀ [Nmax, G*H]") : 0;
        statsH = layerNorm ? floats(n * g * 2, "LN stats h [Nmax, G, 2]") : 0;
        statsC = layerNorm && lstm ? floats(n * 2, "LN stats c [Nmax, 2]") : 0;
    }

    /** Makes the backward's buffers on first use. */
    void ensureBackward() {
        if (dGx != 0) {
            return;
        }
        long n = maxRows;
        long mb = maxBatch;
        boolean lstm = cell.hasCellState();
        dGx = floats(n * gh, "dG [Nmax, G*H]");
        dGh = cell == Cell.GRU ? floats(n * gh, "dG recurrent [Nmax, G*H]") : dGx;
        dh = floats(mb * state, "dh [maxB, S]");
        dc = lstm ? floats(mb * hidden, "dc [maxB, H]") : 0;
        carry = floats(mb * recurrent, "dy carry [maxB, R]");
        dCand = floats(mb * state, "dh~ [maxB, S]");
        dq = floats(mb * recurrent, "dq [maxB, R]");
        dRq = cell == Cell.GRU_ORIGINAL ? floats(mb * hidden, "d(r ⊙ q) [maxB, H]") : 0;
        dhTilde = lstm && projection > 0 ? floats(n * projection, "dh~ [Nmax, P]") : 0;
        dhHat = lstm && projection > 0 ? floats(mb * hidden, "d hHat [maxB, H]") : 0;
        gy = gruFamily && projection > 0 ? floats(n * projection, "dy [Nmax, P]") : 0;
        dpn = cell == Cell.GRU_ORIGINAL && projection > 0 ? floats(n * projection, "d W_hr (r ⊙ h) [Nmax, P]") : 0;
        dr = gruFamily && projection > 0 ? floats(n * projection, "d(W_hr h_{t-1}) [Nmax, P]") : 0;
        dAxRaw = layerNorm ? floats(n * gh, "d(x·W_ihᵀ) [Nmax, G*H]") : 0;
        dAhRaw = layerNorm ? floats(n * gh, "d(q·W_hhᵀ) [Nmax, G*H]") : 0;
        gainTermX = layerNorm ? floats(n * gh, "LN gain terms x [Nmax, G*H]") : 0;
        gainTermH = layerNorm ? floats(n * gh, "LN gain terms h [Nmax, G*H]") : 0;
        dcFromH = layerNorm && lstm ? floats(mb * hidden, "dc~ through LN [maxB, H]") : 0;
        gainTermC = layerNorm && lstm ? floats(n * hidden, "LN gain terms c [Nmax, H]") : 0;
        biasTermC = layerNorm && lstm ? floats(n * hidden, "LN bias terms c [Nmax, H]") : 0;
    }

    /**
     * Before a forward: the step codes of this call ({@link CudaOptionLayer#codes}), uploaded
     * (ordered on the main stream), and the direction, seed and counter its backward draws with.
     */
    void prepare(Direction dir, int steps, int batch, int[] lengths, byte[] mask, long seed, long counter) {
        CudaOptionLayer.codes(steps, batch, lengths, mask, codesHost);
        device.upload(codesHost, codes, steps * batch);
        this.direction = dir;
        this.seed = seed;
        this.counter = counter;
    }

    Direction direction() {
        return direction;
    }

    long seed() {
        return seed;
    }

    long counter() {
        return counter;
    }

    private long floats(long count, String what) {
        return memory.allocate(Float.BYTES * count, tag + " " + what);
    }
}
