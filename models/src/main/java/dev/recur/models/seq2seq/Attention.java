package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.api.TensorOps;
import dev.recur.models.nn.Linear;
import dev.recur.models.nn.Module;
import dev.recur.models.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Attention of a decoder over the encoder's outputs, with Luong et al. (2015)'s combine:
 * for each decoder output (query) {@code q_t} and the encoder outputs (keys) {@code k_s} of its
 * sentence, scores {@code e_ts}, weights {@code a_t = softmax over the sentence's own s of e_t}
 * (the padding past each source length masked: weight exactly 0, gradient exactly 0), a context
 * {@code c_t = Σ_s a_ts k_s}, and the attentional state {@code h~_t = tanh(W_c [c_t; q_t] + b_c)}
 * that feeds the output projection.
 *
 * <p>Scores ({@link Kind}):
 * <ul>
 *   <li>{@code dot}: {@code e = q·k} (Luong; needs keys of the query's size);</li>
 *   <li>{@code general}: {@code e = q·W_a k} (Luong), {@code weight [H, K]};</li>
 *   <li>{@code additive}: {@code e = v·tanh(W_q q + b_q + W_k k)} (Bahdanau et al., 2015),
 *       {@code query.weight [A, H]}, {@code query.bias [A]}, {@code key.weight [A, K]},
 *       {@code v.weight [1, A]}, with {@code A = H}.</li>
 * </ul>
 * and {@code combine.weight [H, K + H]}, {@code combine.bias [H]} for every kind. Names are those
 * of a PyTorch module with a parameter {@code weight} / submodules {@code query}, {@code key},
 * {@code v}, and {@code combine}, under the prefix given (Seq2SeqModel's is
 * {@code decoder.attention.}).
 *
 * <p>All of it runs on the engine: the scores and contexts are batched GEMMs
 * ({@link Backend#gemmStridedBatched}) over {@code [B, T, S]}, the softmax is
 * {@link TensorOps#maskedSoftmax}. The additive score's pairwise sum {@code W_q q_t + W_k k_s} over
 * every (t, s) is two batched GEMMs with fixed 0/1 selection matrices ({@code [B, T·S, T]} picks
 * q_t, {@code [B, T·S, S]} picks k_s), made once per shape; their transposes give the backward's
 * sums over s and over t. That costs {@code 2·B·T·S·(T+S)·A} extra FLOPs (under 0.1 GFLOP for
 * a batch of 64 sentences of 10 words), and keeps the op count to what every engine has.
 *
 * <p>Legend: B sentences, T target steps (queries), S source steps (keys), H query size
 * (decoder hidden), K key size (encoder output: H, or 2H bidirectional), A additive size.
 *
 * <p>Order of calls: {@link #forward}, then at most one {@link #backward} for it; buffers are
 * remade when (B, T, S) changes. {@link #weights()} reads the last forward's weights.
 */
public final class Attention implements Module {

    /** How a query and a key make a score. */
    public enum Kind {
        NONE, ADDITIVE, DOT, GENERAL;

        /** {@code none}, {@code additive}, {@code dot}, {@code general}: the command line's and the config's word. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The kind named {@code id} ({@link #id()}).
         *
         * @throws IllegalArgumentException naming the accepted words
         */
        public static Kind parse(String id) {
            for (Kind k : values()) {
                if (k.id().equals(id)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("attention must be one of none, additive, dot, general; got '" + id
                    + "'");
        }
    }

    private final Backend be;
    private final Kind kind;
    private final int queryDim; // H
    private final int keyDim;   // K
    private final Parameter general;     // [H, K]   (general)
    private final Linear query;          // A <- H   (additive)
    private final Parameter key;         // [A, K]   (additive)
    private final Parameter v;           // [1, A]   (additive)
    private final Linear combine;        // H <- K + H
    private final List<Parameter> parameters;
    private boolean training = true;

    // Buffers for the current (B, T, S); remade when it changes.
    private int batch = -1;
    private int steps = -1;
    private int sourceSteps = -1;
    private Tensor keyProj;      // [B, S, H] general, [B, S, A] additive
    private Tensor queryProj;    // [B, T, A] additive
    private Tensor dQueryProj;   // [B, T, A] additive
    private Tensor pickQuery;    // [B, T*S, T] additive: 1 where the row's t is the column
    private Tensor pickKey;      // [B, T*S, S] additive: 1 where the row's s is the column
    private Tensor hidden;       // [B, T*S, A] additive: tanh(W_q q_t + b_q + W_k k_s)
    private Tensor dHidden;      // [B, T*S, A]
    private Tensor scores;       // [B, T, S]
    private Tensor probs;        // [B, T, S]
    private Tensor dProbs;       // [B, T, S]
    private Tensor context;      // [B, T, K]
    private Tensor joined;       // [B*T, K + H]: [c_t; q_t]
    private Tensor dJoined;      // [B*T, K + H]
    private Tensor out;          // [B, T, H]: h~
    private Tensor dPre;         // [B*T, H]
    private Tensor dContext;     // [B, T, K]
    private Tensor dQueryPart;   // [B, T, H] additive: W_q's share of dQ
    private Tensor dKeyProj;     // [B, S, H] or [B, S, A]

    private Tensor lastKeys;     // [B, S, K]
    private Tensor lastQueries;  // [B, T, H]
    private IndexTensor lastLengths;

    /**
     * @param prefix   the names' prefix, e.g. {@code "decoder.attention."}
     * @param kind     not {@link Kind#NONE}
     * @param queryDim H, the decoder's hidden size
     * @param keyDim   K, the encoder output's size (H, or 2H with a bidirectional encoder)
     */
    public Attention(Backend backend, String prefix, Kind kind, int queryDim, int keyDim, SplittableRandom random) {
        if (kind == null || kind == Kind.NONE) {
            throw new IllegalArgumentException("attention: kind must be additive, dot or general, got " + kind);
        }
        if (kind == Kind.DOT && queryDim != keyDim) {
            throw new IllegalArgumentException("attention: dot scores need keys of the query's size " + queryDim
                    + ", got " + keyDim + " (a bidirectional encoder's outputs are 2H: use general or additive)");
        }
        this.be = backend;
        this.kind = kind;
        this.queryDim = queryDim;
        this.keyDim = keyDim;
        List<Parameter> all = new ArrayList<>();
        if (kind == Kind.GENERAL) {
            general = new Parameter(prefix + "weight", uniform(random, keyDim, queryDim, keyDim),
                    backend.tensor(queryDim, keyDim));
            all.add(general);
            query = null;
            key = null;
            v = null;
        } else if (kind == Kind.ADDITIVE) {
            general = null;
            int a = queryDim;
            query = new Linear(backend, prefix + "query.", queryDim, a, random);
            key = new Parameter(prefix + "key.weight", uniform(random, keyDim, a, keyDim), backend.tensor(a, keyDim));
            v = new Parameter(prefix + "v.weight", uniform(random, a, 1, a), backend.tensor(1, a));
            all.addAll(query.parameters());
            all.add(key);
            all.add(v);
        } else {
            general = null;
            query = null;
            key = null;
            v = null;
        }
        combine = new Linear(backend, prefix + "combine.", keyDim + queryDim, queryDim, random);
        all.addAll(combine.parameters());
        this.parameters = Collections.unmodifiableList(all);
    }

    /** U(-1/sqrt(fan), 1/sqrt(fan)), nn.Linear's default. */
    private Tensor uniform(SplittableRandom r, int fan, int rows, int cols) {
        double bound = 1 / Math.sqrt(fan);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return be.tensor(x, rows, cols);
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * The attentional states {@code h~ [B, T, H]} (owned by this module, valid until the next
     * forward) for queries {@code [B, T, H]} over keys {@code [B, S, K]}, with {@code lengths [B]}
     * valid keys per sentence (each 1..S). Keeps references to all three for {@link #backward}.
     */
    public Tensor forward(Tensor keys, IndexTensor lengths, Tensor queries) {
        if (keys.shape().rank() != 3 || keys.shape().dim(2) != keyDim) {
            throw new IllegalArgumentException("attention: keys must be [B, S, " + keyDim + "], got " + keys.shape());
        }
        int b = keys.shape().dim(0);
        int s = keys.shape().dim(1);
        if (queries.shape().rank() != 3 || queries.shape().dim(0) != b || queries.shape().dim(2) != queryDim) {
            throw new IllegalArgumentException("attention: queries must be [" + b + ", T, " + queryDim + "], got "
                    + queries.shape());
        }
        int t = queries.shape().dim(1);
        ensureBuffers(b, t, s);
        TensorOps ops = be.tensorOps();
        switch (kind) {
            case DOT -> be.gemmStridedBatched(false, true, 1f, queries, keys, 0f, scores);
            case GENERAL -> {
                be.gemm(false, true, 1f, keys.reshape(b * s, keyDim), general.value(), 0f,
                        keyProj.reshape(b * s, queryDim));                                       // K·W_aᵀ
                be.gemmStridedBatched(false, true, 1f, queries, keyProj, 0f, scores);
            }
            case ADDITIVE -> {
                int a = queryDim;
                query.forward(queries.reshape(b * t, queryDim), queryProj.reshape(b * t, a));  // W_q q + b_q
                be.gemm(false, true, 1f, keys.reshape(b * s, keyDim), key.value(), 0f, keyProj.reshape(b * s, a));
                be.gemmStridedBatched(false, false, 1f, pickQuery, queryProj, 0f, hidden);
                be.gemmStridedBatched(false, false, 1f, pickKey, keyProj, 1f, hidden);
                ops.tanh(hidden, hidden);
                be.gemm(false, true, 1f, hidden.reshape(b * t * s, a), v.value(), 0f, scores.reshape(b * t * s, 1));
            }
            default -> throw new IllegalStateException("attention kind " + kind);
        }
        ops.maskedSoftmax(scores, lengths, probs);
        be.gemmStridedBatched(false, false, 1f, probs, keys, 0f, context);                 // [B, T, K]
        ops.copyIntoColumns(context.reshape(b * t, keyDim), joined, 0);
        ops.copyIntoColumns(queries.reshape(b * t, queryDim), joined, keyDim);
        Tensor h = out.reshape(b * t, queryDim);
        combine.forward(joined, h);
        ops.tanh(h, h);
        lastKeys = keys;
        lastQueries = queries;
        lastLengths = lengths;
        return out;
    }

    /**
     * Back-propagates {@code dOut [B, T, H]} (the gradient of the last forward's output): adds to
     * every parameter's gradient, overwrites {@code dQueries [B, T, H]} and, when not null,
     * {@code dKeys [B, S, K]}. The masked keys get exactly zero gradient.
     */
    public void backward(Tensor dOut, Tensor dQueries, Tensor dKeys) {
        if (lastKeys == null) {
            throw new IllegalStateException("attention: backward needs a forward first");
        }
        int b = batch;
        int t = steps;
        int s = sourceSteps;
        TensorOps ops = be.tensorOps();
        Tensor h = out.reshape(b * t, queryDim);
        ops.tanhBackward(h, dOut.reshape(b * t, queryDim), dPre);
        combine.backward(joined, dPre, dJoined);
        ops.copyFromColumns(dJoined, 0, dContext.reshape(b * t, keyDim));
        ops.copyFromColumns(dJoined, keyDim, dQueries.reshape(b * t, queryDim));          // q's own share
        be.gemmStridedBatched(false, true, 1f, dContext, lastKeys, 0f, dProbs);           // dA = dC·Kᵀ
        if (dKeys != null) {
            be.gemmStridedBatched(true, false, 1f, probs, dContext, 0f, dKeys);           // dK = Aᵀ·dC
        }
        Tensor dScores = dProbs;
        ops.maskedSoftmaxBackward(probs, dProbs, lastLengths, dScores);
        switch (kind) {
            case DOT -> {
                be.gemmStridedBatched(false, false, 1f, dScores, lastKeys, 1f, dQueries);
                if (dKeys != null) {
                    be.gemmStridedBatched(true, false, 1f, dScores, lastQueries, 1f, dKeys);
                }
            }
            case GENERAL -> {
                be.gemmStridedBatched(false, false, 1f, dScores, keyProj, 1f, dQueries);
                be.gemmStridedBatched(true, false, 1f, dScores, lastQueries, 0f, dKeyProj);  // [B, S, H]
                Tensor dkp = dKeyProj.reshape(b * s, queryDim);
                be.gemm(true, false, 1f, dkp, lastKeys.reshape(b * s, keyDim), 1f, general.grad());
                if (dKeys != null) {
                    be.gemm(false, false, 1f, dkp, general.value(), 1f, dKeys.reshape(b * s, keyDim));
                }
            }
            case ADDITIVE -> {
                int a = queryDim;
                Tensor hid = hidden.reshape(b * t * s, a);
                Tensor ds = dScores.reshape(b * t * s, 1);
                be.gemm(true, false, 1f, ds, hid, 1f, v.grad());                           // dv += dEᵀ·tanh
                be.gemm(false, false, 1f, ds, v.value(), 0f, dHidden.reshape(b * t * s, a));
                ops.tanhBackward(hidden, dHidden, dHidden);
                be.gemmStridedBatched(true, false, 1f, pickQuery, dHidden, 0f, dQueryProj); // Σ_s: [B, T, A]
                be.gemmStridedBatched(true, false, 1f, pickKey, dHidden, 0f, dKeyProj);    // Σ_t: [B, S, A]
                query.backward(lastQueries.reshape(b * t, queryDim), dQueryProj.reshape(b * t, a),
                        dQueryPart.reshape(b * t, queryDim));
                ops.axpy(1f, dQueryPart, dQueries);
                Tensor dkp = dKeyProj.reshape(b * s, a);
                be.gemm(true, false, 1f, dkp, lastKeys.reshape(b * s, keyDim), 1f, key.grad());
                if (dKeys != null) {
                    be.gemm(false, false, 1f, dkp, key.value(), 1f, dKeys.reshape(b * s, keyDim));
                }
            }
            default -> throw new IllegalStateException("attention kind " + kind);
        }
    }

    /** The last forward's attention weights {@code [B, T, S]}, read back: zero past each source length. */
    public float[] weights() {
        if (probs == null) {
            throw new IllegalStateException("attention: no forward yet");
        }
        return probs.toArray();
    }

    private void ensureBuffers(int b, int t, int s) {
        if (b == batch && t == steps && s == sourceSteps) {
            return;
        }
        closeBuffers();
        int h = queryDim;
        int k = keyDim;
        scores = be.tensor(b, t, s);
        probs = be.tensor(b, t, s);
        dProbs = be.tensor(b, t, s);
        context = be.tensor(b, t, k);
        dContext = be.tensor(b, t, k);
        joined = be.tensor(b * t, k + h);
        dJoined = be.tensor(b * t, k + h);
        out = be.tensor(b, t, h);
        dPre = be.tensor(b * t, h);
        if (kind == Kind.GENERAL) {
            keyProj = be.tensor(b, s, h);
            dKeyProj = be.tensor(b, s, h);
        } else if (kind == Kind.ADDITIVE) {
            int a = h;
            keyProj = be.tensor(b, s, a);
            dKeyProj = be.tensor(b, s, a);
            queryProj = be.tensor(b, t, a);
            dQueryProj = be.tensor(b, t, a);
            dQueryPart = be.tensor(b, t, h);
            hidden = be.tensor(b, t * s, a);
            dHidden = be.tensor(b, t * s, a);
            float[] pq = new float[b * t * s * t];
            float[] pk = new float[b * t * s * s];
            for (int n = 0; n < b; n++) {
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < s; j++) {
                        int row = n * t * s + i * s + j;
                        pq[row * t + i] = 1f;
                        pk[row * s + j] = 1f;
                    }
                }
            }
            pickQuery = be.tensor(pq, b, t * s, t);
            pickKey = be.tensor(pk, b, t * s, s);
        }
        batch = b;
        steps = t;
        sourceSteps = s;
    }

    private void closeBuffers() {
        for (Tensor x : new Tensor[] {keyProj, queryProj, dQueryProj, pickQuery, pickKey, hidden, dHidden, scores, probs, dProbs,
            context, joined, dJoined, out, dPre, dContext, dQueryPart, dKeyProj}) {
            if (x != null) {
                x.close();
            }
        }
        keyProj = queryProj = dQueryProj = pickQuery = pickKey = hidden = dHidden = scores = probs = dProbs = null;
        context = joined = dJoined = out = dPre = dContext = dQueryPart = dKeyProj = null;
        lastKeys = null;
        lastQueries = null;
        lastLengths = null;
        batch = -1;
        steps = -1;
        sourceSteps = -1;
    }

    @Override
    public boolean training() {
        return training;
    }

    /** Nothing here differs between modes. */
    @Override
    public void train(boolean on) {
        training = on;
    }

    @Override
    public void close() {
        closeBuffers();
        Parameter.closeAll(parameters);
    }
}
