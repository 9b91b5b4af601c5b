package dev.recur.models.seq2seq;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.models.io.Json;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.RecurrentConfig;

/**
 * The settings of an encoder-decoder ({@link Seq2SeqModel}): word embeddings of {@code embedding}
 * values for both vocabularies, and an encoder and a decoder of the same shape ({@code layers}
 * stacked, unidirectional, {@code hidden} units, the same cell), so that each encoder layer's
 * final state can start the same decoder layer. Immutable; checked when made;
 * {@link #toJson()} / {@link #fromJson(String)} store it in checkpoints.
 *
 * @param sourceVocabulary ids of the source language, {@code >= 2}
 * @param targetVocabulary ids of the target language, including its BOS and EOS tokens, {@code >= 4}
 * @param dropout          between stacked layers of both, while training; in {@code [0, 1)}
 * @param bidirectionalEncoder the encoder reads each sentence both ways; each decoder layer
 *                         then starts from the sum of that encoder layer's two final states
 * @param attention        how the decoder attends to the encoder's outputs ({@link Attention});
 *                         {@link Attention.Kind#NONE}: not at all, the decoder sees only its initial
 *                         states. {@code dot} needs keys of the decoder's size, so not with a
 *                         bidirectional encoder
 * @param inputFeeding     Luong et al. (2015)'s input feeding, only with attention: the decoder's
 *                         input at step t is {@code [emb(y_t); h~_{t-1}]} ({@code h~_{-1} = 0}), so
 *                         its input size is {@code embedding + hidden} and it runs step by step
 *                         in training too
 * @param options          the cell options of encoder and decoder ({@link CellOptions}: layer
 *                         normalisation, recurrent dropout, zoneout); {@link CellOptions#NONE} for
 *                         plain cells. Not yet with a projection (attention, the head and the bridge
 *                         from encoder to decoder read H-wide states) nor with input feeding (whose
 *                         decoder runs on the per-step cell ops, which take plain cells)
 */
public record Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden,
                            int layers, float dropout, boolean bidirectionalEncoder, Attention.Kind attention,
                            boolean inputFeeding, CellOptions options) {

    /** The {@code "model"} field of its JSON. */
    public static final String KIND = ModelKinds.SEQ2SEQ;

    /** A configuration with a one-directional encoder. */
    public Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden, int layers,
                         float dropout) {
        this(cell, sourceVocabulary, targetVocabulary, embedding, hidden, layers, dropout, false);
    }

    /** A configuration without attention. */
    public Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden, int layers,
                         float dropout, boolean bidirectionalEncoder) {
        this(cell, sourceVocabulary, targetVocabulary, embedding, hidden, layers, dropout, bidirectionalEncoder,
                Attention.Kind.NONE);
    }

    /** A configuration without input feeding. */
    public Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden, int layers,
                         float dropout, boolean bidirectionalEncoder, Attention.Kind attention) {
        this(cell, sourceVocabulary, targetVocabulary, embedding, hidden, layers, dropout, bidirectionalEncoder,
                attention, false);
    }

    /** A configuration of plain cells. */
    public Seq2SeqConfig(Cell cell, int sourceVocabulary, int targetVocabulary, int embedding, int hidden, int layers,
                         float dropout, boolean bidirectionalEncoder, Attention.Kind attention, boolean inputFeeding) {
        this(cell, sourceVocabulary, targetVocabulary, embedding, hidden, layers, dropout, bidirectionalEncoder,
                attention, inputFeeding, CellOptions.NONE);
    }

    public Seq2SeqConfig {
        if (cell == null) {
            throw new IllegalArgumentException("seq2seq: cell is null");
        }
        positive("sourceVocabulary", sourceVocabulary, 2);
        positive("targetVocabulary", targetVocabulary, 4);
        positive("embedding", embedding, 1);
        positive("hidden", hidden, 1);
        positive("layers", layers, 1);
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("seq2seq: dropout must be in [0, 1), got " + dropout);
        }
        if (attention == null) {
            throw new IllegalArgumentException("seq2seq: attention is null (use Attention.Kind.NONE for none)");
        }
        if (attention == Attention.Kind.DOT && bidirectionalEncoder) {
            throw new IllegalArgumentException("seq2seq: dot attention needs encoder outputs of the decoder's size "
                    + hidden + ", a bidirectional encoder gives " + 2 * hidden + "; use general or additive");
        }
        if (inputFeeding && attention == Attention.Kind.NONE) {
            throw new IllegalArgumentException("seq2seq: input feeding feeds the attentional state h~ back into the"
                    + " decoder, so it needs attention (additive, dot or general), got attention none");
        }
        if (options == null) {
            options = CellOptions.NONE;
        }
        options.check(cell, hidden);
        if (options.projectionSize() > 0) {
            throw new IllegalArgumentException("seq2seq: projectionSize " + options.projectionSize() + " is not"
                    + " supported by the encoder-decoder (attention, the head and the bridge read H-wide states)");
        }
        if (inputFeeding && !options.isPlain()) {
            throw new IllegalArgumentException("seq2seq: input feeding runs the decoder on the per-step cell ops,"
                    + " which take plain cells, not " + options);
        }
    }

    /** The encoder's or decoder's stack settings before directions: cell, sizes, depth, dropout, options. */
    public RecurrentConfig.Builder recurrentConfig(int inputSize) {
        return RecurrentConfig.builder(cell, inputSize, hidden).numLayers(layers).dropout(dropout)
                .cellOptions(options);
    }

    /** The decoder's input size: the embedding, plus the attentional state {@code h~} with input feeding. */
    public int decoderInputSize() {
        return inputFeeding ? embedding + hidden : embedding;
    }

    /** K, the size of the encoder's outputs that attention reads: H, or 2H bidirectional. */
    public int keySize() {
        return bidirectionalEncoder ? 2 * hidden : hidden;
    }

    /** The attention module's trainable values ({@link Attention}): 0 without attention. */
    public long attentionParameterCount() {
        long h = hidden;
        long k = keySize();
        long combine = (k + h) * h + h;
        return switch (attention) {
            case NONE -> 0;
            case DOT -> combine;
            case GENERAL -> h * k + combine;
            case ADDITIVE -> h * h + h + h * k + h + combine;
        };
    }

    private static void positive(String name, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException("seq2seq: " + name + " must be >= " + least + ", got " + value);
        }
    }

    /** Trainable values of the model: both embeddings, encoder, decoder, head. */
    public long parameterCount() {
        return (long) sourceVocabulary * embedding
                + RecurrentConfig.parameterCount(cell, options, embedding, hidden, layers, bidirectionalEncoder ? 2 : 1)
                + (long) targetVocabulary * embedding
                + RecurrentConfig.parameterCount(cell, options, decoderInputSize(), hidden, layers, 1)
                + (long) hidden * targetVocabulary + targetVocabulary
                + attentionParameterCount();
    }

    /**
     * A flat JSON object of the settings, written by Jackson: {@code "model":"seq2seq"} first,
     * then {@code cell, source_vocabulary, target_vocabulary, embedding, hidden, layers, dropout,
     * bidirectional_encoder} (1 or 0), as every Recur so far has written it, and
     * {@code attention} ({@link Attention.Kind#id()}) when there is attention (a model without
     * it writes what Recur wrote before attention existed), and {@code "input_feeding":1} only
     * with input feeding (a model without it writes what Recur wrote before it existed), then the
     * cell options that are on ({@link Json#putCellOptions}).
     */
    public String toJson() {
        ObjectNode o = Json.configObject(KIND).put("cell", cell.id()).put("source_vocabulary", sourceVocabulary)
                .put("target_vocabulary", targetVocabulary).put("embedding", embedding).put("hidden", hidden)
                .put("layers", layers).put("dropout", dropout).put("bidirectional_encoder", bidirectionalEncoder ? 1 : 0);
        if (attention != Attention.Kind.NONE) {
            o.put("attention", attention.id());
        }
        if (inputFeeding) {
            o.put("input_feeding", 1);
        }
        return Json.write(Json.putCellOptions(o, options));
    }

    /**
     * The configuration {@link #toJson()} wrote; fields it does not know are ignored.
     * {@code bidirectional_encoder} may also be {@code true}/{@code false}; without
     * {@code attention} (a checkpoint from before attention) there is none; without
     * {@code input_feeding} (1/0 or true/false) there is no input feeding.
     *
     * @throws IllegalArgumentException when it is not a seq2seq configuration
     *                                  ({@code "this is a char-lm model config, not a seq2seq one"}),
     *                                  lacks a field or holds a value out of range; the message
     *                                  names the field
     */
    public static Seq2SeqConfig fromJson(String json) {
        ObjectNode o = Json.readConfig(json, KIND);
        return new Seq2SeqConfig(Json.cell(o, "cell"), Json.integer(o, "source_vocabulary"),
                Json.integer(o, "target_vocabulary"), Json.integer(o, "embedding"), Json.integer(o, "hidden"),
                Json.integer(o, "layers"), (float) Json.number(o, "dropout"), Json.bool(o, "bidirectional_encoder"),
                o.has("attention") ? Attention.Kind.parse(Json.string(o, "attention")) : Attention.Kind.NONE,
                o.has("input_feeding") && Json.bool(o, "input_feeding"), Json.cellOptions(o));
    }

    @Override
    public String toString() {
        return "Seq2SeqConfig{cell=" + cell.id() + ", sourceVocabulary=" + sourceVocabulary + ", targetVocabulary="
                + targetVocabulary + ", embedding=" + embedding + ", hidden=" + hidden + ", layers=" + layers
                + ", dropout=" + dropout + ", bidirectionalEncoder=" + bidirectionalEncoder + ", attention=" + attention.id()
                + (inputFeeding ? ", inputFeeding=true" : "") + (options.isPlain() ? "" : ", options=" + options) + "}";
    }
}
