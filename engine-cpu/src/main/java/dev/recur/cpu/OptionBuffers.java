package dev.recur.cpu;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;

/**
 * The memory of one direction of one layer run with {@link CellOptions} ({@link CpuOptionLayer}):
 * what the forward saves for the backward, the running state and the per-step scratch. Made on
 * the first option call of a workspace and sized for its maxima: {@code N = maxT * maxB} rows
 * indexed densely ({@code t*B + b}, the call's B), so nothing is allocated per call or per step;
 * the backward's buffers are made on the first backward.
 *
 * <p>Legend: H hidden, G gate blocks, GH = G*H, R recurrent width, S state width, P projection.
 * Buffers a configuration does not use are null.
 */
final class OptionBuffers {

    final Cell cell;
    final CellOptions options;
    final int maxBatch;
    final int hidden;
    final int gh;
    final int r;
    final int s;
    final int p;

    // Saved by the forward (a training forward's and the backward's; inference uses them as scratch).
    final float[] ax;      // [N, GH]  W_ih x_t + b_ih; with layer norm x̂ of W_ih x_t (per gate block)
    final float[] rsx;     // [N, G]   1/σ of each input-side block (layer norm)
    final float[] ah;      // [N, GH]  W_hh q (original GRU n block: W_hn (r⊙q)); with layer norm x̂
    final float[] rsh;     // [N, G]   1/σ of each recurrent-side block (layer norm)
    final float[] gates;   // [N, GH]  activated gates (LSTM i,f,g,o; coupled f,g,o; GRU r,z,n; RNN h̃)
    final float[] q;       // [N, R]   m ⊙ r_{t-1}: the recurrent GEMM's input
    final float[] hPrev;   // [N, S]   h_{t-1}
    final float[] cPrev;   // [N, H]   c_{t-1} (LSTM family)
    final float[] cTilde;  // [N, H]   c̃ (LSTM family)
    final float[] cHat;    // [N, H]   x̂ of LN(c̃) (LSTM family with layer norm)
    final float[] rsc;     // [N]      1/σ of LN(c̃)
    final float[] tau;     // [N, H]   tanh(LN(c̃)) or tanh(c̃) (LSTM family)
    final float[] hr;      // [N, H]   o ⊙ τ, the projection's input (projected LSTM)
    final float[] rq;      // [N, H]   r ⊙ q (original GRU); projected: r ⊙ h_{t-1}
    final float[] qn;      // [N, P]   projected original GRU: m ⊙ W_hr (r ⊙ h_{t-1}), the n block's GEMM input
    final float[] hNew;    // [N, H]   h_t, every row (projected GRU: the input of y_t = W_hr h_t)

    // Running state and per-step scratch, [maxB, ...].
    final float[] h0;      // [B, S]   the call's initial h (zeros for none): the projected GRU's dW_hr reads it
    final float[] h;       // [B, S]
    final float[] c;       // [B, H]
    final float[] v;       // [B, P]   W_hr h (projected GRU): its recurrent input and output
    final float[] mask;    // [B, R]   recurrent dropout's m (training, when on)
    final float[] hTilde;  // [B, S]   h̃ of the step
    final boolean[] runs;  // [B]      whether each sequence runs this step

    /**
     * W_hh (or, for the original GRU, its blocks, packed at every call) and W_hr packed for the
     * per-step GEMMs; W_hh and W_hr kept packed while unchanged ({@link PackedWeights}).
     */
    final Sgemm.PackedB recurrent = new Sgemm.PackedB();
    final Sgemm.PackedB recurrentN = new Sgemm.PackedB();
    final Sgemm.PackedB projection = new Sgemm.PackedB();
    final PackedWeights recurrentWeights = new PackedWeights(recurrent);
    final PackedWeights projectionWeights = new PackedWeights(projection);
    /** W_ih packed for the input projection, kept while unchanged. */
    final PackedWeights inputWeights = new PackedWeights();
    /** The GEMM in flight (calls are serialized). */
    final Sgemm.Call gemm = new Sgemm.Call();

    // The backward's, made on the first backward.
    float[] dPreX;   // [N, GH]  gradient of the input-side pre-activation (after LN); then, in place, of W_ih x
    float[] dPreH;   // [N, GH]  of the recurrent-side pre-activation (GRU; else dPreX itself)
    float[] dAh;     // [N, GH]  of W_hh q (layer norm; else dPreH itself)
    float[] dK;      // [N, H]   of LN(c̃)'s output (LSTM family with layer norm)
    float[] dProj;   // [N, P]   projected LSTM: of h̃ = W_hr(o⊙τ); projected GRU: of W_hr h_t
    float[] dh;      // [B, S]   gradient reaching the running h
    float[] dc;      // [B, H]   ... the running c
    float[] dv;      // [B, P]   ... W_hr h (projected GRU)
    float[] carry;   // [B, R]   output gradient of masked steps, waiting for the step whose y they repeat
    float[] dq;      // [B, R]   gradient of q (then of r_{t-1})
    float[] dHTilde; // [B, S]   of h̃ (after zoneout)
    float[] dCTilde; // [B, H]   of c̃ (after zoneout, before the gate math adds its share)
    float[] dHr;     // [B, H]   of o⊙τ (projected LSTM)
    float[] dRq;     // [B, H]   of r⊙q (original GRU; projected: of r⊙h_{t-1})
    float[] dQn;     // [B, P]   projected original GRU: of qn
    float[] dPq;     // [N, P]   ... of W_hr (r⊙h_{t-1}), kept for dW_hr
    float[] colSums; // [GH]     column-sum scratch: of dPre (dK)
    float[] colSumsB;  // [GH]   ... of dPre⊙x̂ (layer norm's gains), in the same pass
    float[] colSumsB2; // [GH]   ... of dPre⊙ĥ (the LSTM's shared dPre: both sides' gains in one pass)

    OptionBuffers(Cell cell, CellOptions options, int maxSteps, int maxBatch, int hidden) {
        this.cell = cell;
        this.options = options;
        this.maxBatch = maxBatch;
        this.hidden = hidden;
        this.gh = cell.gates() * hidden;
        this.r = options.recurrentWidth(hidden);
        this.s = options.stateWidth(cell, hidden);
        this.p = options.projectionSize();
        int n = Math.multiplyExact(maxSteps, maxBatch);
        int g = cell.gates();
        boolean lstm = cell.hasCellState();
        boolean ln = options.layerNorm();
        ax = new float[Math.multiplyExact(n, gh)];
        ah = new float[n * gh];
        gates = new float[n * gh];
        rsx = ln ? new float[n * g] : null;
        rsh = ln ? new float[n * g] : null;
        q = new float[n * r];
        hPrev = new float[n * s];
        cPrev = lstm ? new float[n * hidden] : null;
        cTilde = lstm ? new float[n * hidden] : null;
        tau = lstm ? new float[n * hidden] : null;
        cHat = lstm && ln ? new float[n * hidden] : null;
        rsc = lstm && ln ? new float[n] : null;
        hr = lstm && p > 0 ? new float[n * hidden] : null;
        rq = cell == Cell.GRU_ORIGINAL ? new float[n * hidden] : null;
        qn = cell == Cell.GRU_ORIGINAL && p > 0 ? new float[n * p] : null;
        hNew = !lstm && p > 0 ? new float[n * hidden] : null;
        h0 = new float[maxBatch * s];
        h = new float[maxBatch * s];
        c = lstm ? new float[maxBatch * hidden] : null;
        v = !lstm && p > 0 ? new float[maxBatch * p] : null;
        mask = new float[maxBatch * r];
        hTilde = new float[maxBatch * s];
        runs = new boolean[maxBatch];
    }

    /** Whether these buffers were made for {@code cell} and {@code options}. */
    boolean fits(Cell cell, CellOptions options) {
        return this.cell == cell && this.options.equals(options);
    }

    /** Makes the backward's buffers on first use. */
    void ensureBackward() {
        if (dPreX != null) {
            return;
        }
        boolean gru = cell == Cell.GRU || cell == Cell.GRU_ORIGINAL;
        dPreX = new float[ax.length];
        dPreH = gru ? new float[ax.length] : dPreX;
        dAh = options.layerNorm() ? new float[ax.length] : dPreH;
        dK = cHat != null ? new float[cHat.length] : null;
        dProj = p > 0 ? new float[q.length / r * p] : null;
        dh = new float[h.length];
        dc = c != null ? new float[c.length] : null;
        dv = v != null ? new float[v.length] : null;
        carry = new float[maxBatch * r];
        dq = new float[maxBatch * r];
        dHTilde = new float[h.length];
        dCTilde = c != null ? new float[c.length] : null;
        dHr = hr != null ? new float[maxBatch * hidden] : null;
        dRq = rq != null ? new float[maxBatch * hidden] : null;
        dQn = qn != null ? new float[maxBatch * p] : null;
        dPq = qn != null ? new float[qn.length] : null;
        colSums = new float[gh];
        colSumsB = options.layerNorm() ? new float[gh] : null;
        colSumsB2 = options.layerNorm() ? new float[gh] : null;
    }
}
