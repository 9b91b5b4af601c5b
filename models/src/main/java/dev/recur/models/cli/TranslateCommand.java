package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.TranslationPairs;
import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.nn.LearningRateSchedule;
import dev.recur.models.nn.ModelKinds;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.seq2seq.Attention;
import dev.recur.models.seq2seq.AttentionHeatmap;
import dev.recur.models.seq2seq.BeamSearch;
import dev.recur.models.seq2seq.Bleu;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;
import dev.recur.models.train.Progress;
import dev.recur.models.train.Trainer;
import dev.recur.models.train.TrainingDivergedException;
import dev.recur.models.train.ShuffledTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code recur translate}: a sequence-to-sequence translator (word embeddings, an encoder whose
 * final states start a decoder, a linear layer over the target words) trained through the
 * {@link Trainer} on {@code source<TAB>target} lines, optionally with attention over the encoder's
 * outputs, with a validation loss each epoch on pairs carved from the training part, and, once at
 * the end, the test part's loss, corpus BLEU and the share of sentences translated exactly, by
 * greedy decoding or a beam search ({@code --beam}), and attention heatmaps ({@code --heatmaps}).
 *
 * <p>Shapes: every batch is {@code [Ts, B]} source ids and {@code [Tt, B]} decoder inputs, with
 * Ts the longest source sentence kept and Tt one more than the longest target sentence, so the
 * buffers are made once; the engines skip the steps past each sentence's own length. The last
 * batch of an epoch is filled up to B with padding rows whose loss is ignored.
 */
@Command(name = "translate", header = "train a sequence-to-sequence translator on source<TAB>target lines; report BLEU",
        showDefaultValues = true, sortOptions = false,
        customSynopsis = {"recur translate --data FILE [OPTIONS] [SENTENCE...]",
            "       recur translate --from CHECKPOINT SENTENCE..."},
        description = {
            "Trains an encoder-decoder (Sutskever et al. 2014): the encoder reads the source sentence, its",
            "final states start the decoder, which learns to write the target sentence word by word from the",
            "words before it (teacher forcing), on lines of source<TAB>target such as Tatoeba's",
            "English-French pairs (\"Go.<TAB>Va !\"; further TAB-separated columns are ignored). Pairs with",
            "more than --max-length tokens (words and punctuation marks) on either side are left out. The",
            "pairs are shuffled with --seed and split into a test part (--test-fraction) and a training part,",
            "from which --validation-fraction is held out for validation; each language's vocabulary comes",
            "from the training pairs only. Each epoch prints the last step's training loss and the validation",
            "loss (the mean cross-entropy per target token, <eos> included). Checkpoints go to --checkpoint",
            "(the lowest validation loss also to NAME.best.safetensors), metrics to NAME.metrics.jsonl and the",
            "loss curve to NAME.loss.png beside it; --resume continues a run. At the end, once, the test part's",
            "loss, corpus BLEU-4 and the share of sentences translated exactly by greedy decoding (each step",
            "takes the most likely word, until <eos>; with --beam K > 1 a beam search of K hypotheses ranked by",
            "log P / ((5 + len) / 6)^A, GNMT's length penalty with A = --length-penalty), --examples test",
            "translations and a translation of each SENTENCE. --attention lets the decoder attend to the",
            "encoder's outputs at every step (Bahdanau's additive score, Luong's dot or general; the attentional",
            "state tanh(W_c [context; h]) feeds the output layer); --input-feeding also feeds that state back",
            "into the decoder's next step (Luong et al. 2015); --heatmaps DIR then draws the attention weights",
            "of a few test sentences (or of each SENTENCE with --from) as PNGs. With --from, nothing is trained:",
            "the model of a checkpoint that translate wrote translates each SENTENCE."})
final class TranslateCommand extends CliCommand {

    static final String DEFAULT_CHECKPOINT = "runs/translate.safetensors";

    /** The target id of padding positions; softmax cross-entropy skips them. */
    static final int IGNORE = -1;

    /** Checkpoint metadata: the vocabularies, and the longest target of the data plus one. */
    static final String SOURCE_VOCABULARY = "source_vocabulary";
    static final String TARGET_VOCABULARY = "target_vocabulary";
    static final String TARGET_STEPS = "target_steps";
    /** Checkpoint metadata that a resumed run must match: pairs per batch. */
    static final String BATCH = "translate.batch";

    /** The options that may go with --from; every other is for training. */
    private static final Set<String> FROM_OPTIONS = Set.of("--from", "--backend", "--beam", "--length-penalty",
            "--heatmaps");

    /** Test sentences drawn by --heatmaps after training. */
    static final int HEATMAPS = 3;

    @Option(names = "--data", paramLabel = "FILE", converter = Checks.FileName.class,
            description = "source<TAB>target lines (UTF-8); required to train")
    Path data;
    @Option(names = "--cell", paramLabel = "NAME", defaultValue = "gru", converter = Checks.CellName.class,
            description = "lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu")
    Cell cell;
    @Option(names = "--layers", paramLabel = "N", defaultValue = "1", converter = Checks.Size.class,
            description = "stacked layers in the encoder and in the decoder")
    int layers;
    @Option(names = "--hidden", paramLabel = "N", defaultValue = "256", converter = Checks.Size.class,
            description = "hidden units per layer")
    int hidden;
    @Option(names = "--embedding", paramLabel = "N", defaultValue = "128", converter = Checks.Size.class,
            description = "word embedding size of both languages")
    int embedding;
    @Option(names = "--bidirectional", description = "the encoder reads each sentence both ways (each decoder layer"
            + " starts from the sum of its encoder layer's two final states)")
    boolean bidirectional;
    @Option(names = "--attention", paramLabel = "NAME", defaultValue = "none", converter = AttentionName.class,
            description = "none, additive (Bahdanau), dot or general (Luong): how the decoder attends to the"
                    + " encoder's outputs; dot cannot go with --bidirectional")
    Attention.Kind attention;
    @Option(names = "--input-feeding", description = "input feeding (Luong et al. 2015): the decoder's input at each"
            + " step is the word's embedding and the previous step's attentional state; needs --attention")
    boolean inputFeeding;
    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0", converter = Checks.Dropout.class,
            description = "dropout between layers while training")
    float dropout;
    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10", converter = Checks.Positive.class,
            description = "passes over the training pairs")
    int epochs;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", converter = Checks.Size.class,
            description = "pairs per batch")
    int batch;
    @Option(names = "--max-length", paramLabel = "N", defaultValue = "10", converter = Checks.Positive.class,
            description = "longest sentence kept, in tokens")
    int maxLength;
    @Option(names = "--min-count", paramLabel = "N", defaultValue = "1", converter = Checks.Positive.class,
            description = "words seen fewer times in training become <unk>")
    int minCount;
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", converter = Checks.OptimizerName.class,
            description = "sgd, rmsprop, adam, adamw")
    Optimizer.Kind optimizer;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.003", converter = Checks.PositiveNumber.class,
            description = "learning rate")
    float lr;
    @Option(names = "--clip", paramLabel = "X", defaultValue = "5", converter = Checks.NonNegativeNumber.class,
            description = "clip gradients to this global norm, 0 = off")
    float clip;
    @Option(names = "--test-fraction", paramLabel = "X", defaultValue = "0.1", converter = Checks.Fraction.class,
            description = "share of the pairs held out for testing, evaluated once at the end")
    double testFraction;
    @Option(names = "--validation-fraction", paramLabel = "X", defaultValue = "0.1", converter = Checks.Fraction.class,
            description = "share of the training pairs held out for the validation loss (at least one pair)")
    double validationFraction;
    @Option(names = "--patience", paramLabel = "N", defaultValue = "0", converter = Checks.NonNegative.class,
            description = "stop after N epochs without a lower validation loss, 0 = never")
    int patience;
    @Option(names = "--restore-best", description = "end with the weights of the lowest validation loss rather"
            + " than the last epoch's")
    boolean restoreBest;
    @Option(names = "--examples", paramLabel = "N", defaultValue = "5", converter = Checks.NonNegative.class,
            description = "test translations to print at the end")
    int examples;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "seed of the split, the shuffling and the initial weights")
    long seed;
    @Option(names = "--checkpoint", paramLabel = "FILE", defaultValue = DEFAULT_CHECKPOINT,
            converter = Checks.FileName.class, description = "where to save the model and both vocabularies")
    Path checkpoint;
    @Mixin
    CellOptionFlags cellFlags;
    @Mixin
    RunOptions run;
    @Option(names = "--beam", paramLabel = "K", defaultValue = "1", converter = Checks.Positive.class,
            description = "hypotheses kept by the beam search; 1 = greedy decoding")
    int beam;
    @Option(names = "--length-penalty", paramLabel = "A", defaultValue = "0.6",
            converter = Checks.NonNegativeNumber.class,
            description = "the beam search ranks hypotheses by log P / ((5 + len) / 6)^A (GNMT); 0 = log P alone")
    float lengthPenalty;
    @Option(names = "--heatmaps", paramLabel = "DIR", converter = Checks.FileName.class,
            description = "write attention heatmaps (PNG) of a few test sentences, or of each SENTENCE with --from;"
                    + " needs a model with attention")
    Path heatmaps;
    @Option(names = "--save-split", paramLabel = "FILE", converter = Checks.FileName.class,
            description = "also write the pairs kept, their split and both vocabularies as JSON (ids, test"
                    + " references), so a peer trains on the same data (bench/python/seq2seq_torch.py)")
    Path saveSplit;
    @Option(names = "--from", paramLabel = "CHECKPOINT", converter = Checks.FileName.class,
            description = "translate the SENTENCEs with this saved model; no training")
    Path from;
    @Parameters(paramLabel = "SENTENCE", arity = "0..*", description = "sentences to translate at the end")
    List<String> sentences;

    @Spec
    CommandSpec spec;

    @Override
    protected void check() {
        if (sentences == null) {
            sentences = List.of();
        }
        if (from != null) {
            for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
                if (!FROM_OPTIONS.contains(o.longestName())) {
                    throw new UsageException("option '" + o.longestName() + "' is for training; --from only"
                            + " translates");
                }
            }
            if (sentences.isEmpty()) {
                throw new UsageException("--from needs at least one SENTENCE to translate");
            }
        } else if (data == null) {
            throw new UsageException("option '--data' is required: there is no built-in translation data;"
                    + " give a file of source<TAB>target lines");
        } else {
            if (heatmaps != null && attention == Attention.Kind.NONE) {
                throw new UsageException("option '--heatmaps' needs attention: add --attention additive, dot or"
                        + " general");
            }
            if (inputFeeding && attention == Attention.Kind.NONE) {
                throw new UsageException("option '--input-feeding' feeds the attentional state back into the decoder,"
                        + " so it needs '--attention' additive, dot or general (got none)");
            }
            if (attention == Attention.Kind.DOT && bidirectional) {
                throw new UsageException("option '--attention' dot needs encoder outputs of the decoder's size;"
                        + " with --bidirectional use general or additive");
            }
            dev.recur.api.CellOptions o = cellFlags.options(cell, hidden);
            if (o.projectionSize() > 0) {
                throw new UsageException("option '--proj-size' is not supported by translate (attention, the head"
                        + " and the encoder-decoder bridge read --hidden-wide states), got " + o.projectionSize());
            }
            if (inputFeeding && !o.isPlain()) {
                throw new UsageException("option '--input-feeding' runs the decoder on plain cells; it cannot be"
                        + " combined with --layer-norm, --recurrent-dropout or --zoneout (got " + o + ")");
            }
        }
    }

    /** {@code --attention}: none, additive, dot, general. */
    static final class AttentionName implements ITypeConverter<Attention.Kind> {
        @Override
        public Attention.Kind convert(String value) {
            try {
                return Attention.Kind.parse(value.strip());
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    @Override
    protected int call(PrintStream out, PrintStream err) {
        if (from != null) {
            return translateFrom(out, err);
        }
        try {
            return run.distributed(name(), out, err, o -> train(o, err));
        } catch (IOException e) { // train reports its own
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    private int train(PrintStream out, PrintStream err) {
        TranslationPairs all;
        TranslationPairs kept;
        TranslationPairs.Split split;
        try {
            all = TranslationPairs.read(data);
            kept = all.atMost(maxLength);
            if (kept.pairs().isEmpty()) {
                err.println("recur translate: " + data + ": no pair has at most " + maxLength + " tokens on both"
                        + " sides; raise --max-length");
                return Recur.EXIT_FAILED;
            }
            split = kept.split(testFraction, validationFraction, seed);
            // Made before training, so a checkpoint folder that cannot exist fails at once (a fresh
            // clone has no runs/ folder).
            CommandPaths.createParent(checkpoint);
        } catch (IOException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        List<String> sourceTexts = new ArrayList<>();
        List<String> targetTexts = new ArrayList<>();
        split.train().forEach(p -> {
            sourceTexts.add(p.source());
            targetTexts.add(p.target());
        });
        WordVocabulary sourceWords = WordVocabulary.build(sourceTexts, minCount);
        WordVocabulary targetWords = WordVocabulary.build(targetTexts, minCount,
                List.of(WordVocabulary.BOS, WordVocabulary.EOS));
        // Tokenized once, not per epoch.
        List<Encoded> train = Encoded.all(split.train(), sourceWords, targetWords);
        List<Encoded> validation = Encoded.all(split.validation(), sourceWords, targetWords);
        List<Encoded> test = Encoded.all(split.test(), sourceWords, targetWords);
        Batcher.Shape shape = Batcher.Shape.of(List.of(train, validation, test), batch);
        if (saveSplit != null) {
            try {
                writeSplit(saveSplit, sourceWords, targetWords, train, validation, test, split.test(),
                        shape.targetSteps());
            } catch (IOException e) {
                err.println("recur translate: cannot write " + saveSplit + ": " + e.getMessage());
                return Recur.EXIT_FAILED;
            }
        }
        Seq2SeqConfig cfg = new Seq2SeqConfig(cell, sourceWords.size(), targetWords.size(), embedding, hidden, layers,
                dropout, bidirectional, attention, inputFeeding, cellFlags.options(cell, hidden));
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(optimizer).build();
        Path metrics = RunOptions.metrics(checkpoint);
        Path lossCurve = RunOptions.lossCurve(checkpoint);

        long started = System.nanoTime();
        try (Backend be = openBackend();
             Seq2SeqModel model = new Seq2SeqModel(be, cfg, seed);
             Optimizer opt = new Optimizer(be, optimizerConfig, model.parameters());
             Batcher batcher = new Batcher(be, targetWords, shape)) {
            out.println("recur translate: " + data + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d pairs, %d with at most %d tokens on both sides; %d for training, %d for"
                            + " validation, %d for testing%n", all.pairs().size(), kept.pairs().size(), maxLength,
                    split.train().size(), split.validation().size(), split.test().size());
            out.printf(Locale.ROOT, "  vocabularies (from the training pairs, min count %d): source %d words, target"
                    + " %d words; %d source steps, %d target steps per batch%n", minCount, sourceWords.size(),
                    targetWords.size(), shape.sourceSteps(), shape.targetSteps());
            out.println("  " + cfg);
            out.println("  batch " + batch + ", epochs " + epochs + ", " + optimizerConfig + ", lr " + lr + ", clip "
                    + clip + ", patience " + (patience == 0 ? "off" : patience) + ", ends with the "
                    + (restoreBest ? "best validation's" : "last epoch's") + " weights, seed " + seed);
            Task task = new Task(model, opt, batcher, train, validation, sourceWords, targetWords, seed);
            Progress progress = new Progress(out, Progress.isTerminal(), (long) epochs * task.batchesPerEpoch(),
                    "pairs", task.batchesPerEpoch());
            Trainer.Result r = run.apply(Trainer.builder(), checkpoint).epochs(epochs)
                    .learningRate(LearningRateSchedule.constant(lr)).clip(clip).patience(patience)
                    .restoreBest(restoreBest).seed(seed).progress(progress).build()
                    .fit(task);
            out.printf(Locale.ROOT, "done: %s; checkpoint %s, metrics %s, loss curve %s%n", r.stoppedBecause(),
                    checkpoint, metrics, lossCurve);
            if (!r.finished()) {
                return Recur.EXIT_OK; // paused: the test part waits for the end of the run
            }
            model.eval();
            double testLoss = meanLoss(model, batcher, test);
            List<BeamSearch.Hypothesis> translated = translate(be, model, sourceWords, targetWords,
                    sourcesOf(split.test()), batch, shape.targetSteps(), beam, lengthPenalty);
            List<List<String>> candidates = new ArrayList<>();
            List<List<String>> references = new ArrayList<>();
            int exact = 0;
            for (int i = 0; i < translated.size(); i++) {
                List<String> cand = words(targetWords, translated.get(i).words());
                List<String> ref = WordVocabulary.tokenize(split.test().get(i).target());
                candidates.add(cand);
                references.add(ref);
                exact += cand.equals(ref) ? 1 : 0;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(Locale.ROOT, "test loss %.4f, BLEU-4 %.2f, exact %.4f (%d/%d) by %s; %.1f s%n",
                    testLoss, 100 * Bleu.corpus(candidates, references), (double) exact / translated.size(), exact,
                    translated.size(), decoding(), seconds);
            for (int i = 0; i < Math.min(examples, translated.size()); i++) {
                TranslationPairs.Pair p = split.test().get(i);
                out.println("  " + p.source() + " => " + String.join(" ", candidates.get(i)) + "   (reference: "
                        + p.target() + ")");
            }
            if (heatmaps != null) {
                List<String> drawn = sourcesOf(split.test()).subList(0, Math.min(HEATMAPS, split.test().size()));
                writeHeatmaps(out, drawn, translated.subList(0, drawn.size()), targetWords);
            }
            if (!sentences.isEmpty()) {
                printTranslations(out, sentences, translate(be, model, sourceWords, targetWords, sentences, batch,
                        maxWords(sentences, shape.targetSteps()), beam, lengthPenalty), targetWords);
            }
            return Recur.EXIT_OK;
        } catch (IOException | TrainingDivergedException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    /**
     * The training of a {@link Seq2SeqModel} as the {@link Trainer} runs it: step s is batch
     * {@code s % batchesPerEpoch} of epoch {@code s / batchesPerEpoch}, whose order is a shuffle
     * drawn from the seed and the epoch alone, so a resumed run sees the batches an uninterrupted
     * one sees; the validation loss is the mean per target token over the validation pairs.
     */
    private static final class Task extends ShuffledTask {
        private final Seq2SeqModel model;
        private final Optimizer opt;
        private final Batcher batcher;
        private final List<Encoded> train;
        private final List<Encoded> validation;
        private final WordVocabulary sourceWords;
        private final WordVocabulary targetWords;

        Task(Seq2SeqModel model, Optimizer opt, Batcher batcher, List<Encoded> train, List<Encoded> validation,
             WordVocabulary sourceWords, WordVocabulary targetWords, long seed) {
            super(model, opt, train.size(), batcher.shape.batch(), seed, "pairs");
            this.model = model;
            this.opt = opt;
            this.batcher = batcher;
            this.train = train;
            this.validation = validation;
            this.sourceWords = sourceWords;
            this.targetWords = targetWords;
        }

        private double tokenShare = 1;

        @Override
        public float trainStep(int epoch, int batch, float lr, float clip) {
            List<Encoded> chunk = new ArrayList<>(batch());
            for (int i : batchOrder(epoch, batch)) {
                chunk.add(train.get(i));
            }
            int mine = batcher.load(chunk);
            if (super.shardShare() != 1) {
                // Data parallel: the loss is a mean over target words (and EOS), so this rank's
                // share is its words over the whole batch's, not its examples over the batch's.
                long all = 0;
                for (int i : wholeBatchOrder(epoch, batch)) {
                    all += train.get(i).target().length + 1;
                }
                tokenShare = (double) mine / all;
            } else {
                tokenShare = 1;
            }
            return batcher.trainStep(model, opt, lr, clip);
        }

        @Override
        public double shardShare() {
            return tokenShare;
        }

        @Override
        public boolean validates() {
            return true;
        }

        @Override
        public double validationLoss() {
            return meanLoss(model, batcher, validation);
        }

        @Override
        public void save(Checkpoint.Builder c) {
            c.metadata(SOURCE_VOCABULARY, sourceWords.toStorageString())
                    .metadata(TARGET_VOCABULARY, targetWords.toStorageString())
                    .metadata(TARGET_STEPS, Integer.toString(batcher.shape.targetSteps()))
                    .metadata(BATCH, Integer.toString(batcher.shape.batch()));
        }

        @Override
        public void restore(Checkpoint c) throws CheckpointException {
            if (!sourceWords.toStorageString().equals(c.metadata(SOURCE_VOCABULARY))
                    || !targetWords.toStorageString().equals(c.metadata(TARGET_VOCABULARY))) {
                throw new CheckpointException(c.source(), "mismatched: the file was trained on other pairs (its"
                        + " vocabularies differ); resume on the same data with the same --seed, --max-length,"
                        + " --min-count and fractions, or start afresh");
            }
            if (!Integer.toString(batcher.shape.batch()).equals(c.metadata(BATCH))) {
                throw new CheckpointException(c.source(), "mismatched: the file was trained with --batch "
                        + c.metadata(BATCH) + ", this run asks for " + batcher.shape.batch()
                        + "; resume with the same settings or start afresh");
            }
        }
    }

    /** {@code --from}: translates the positional sentences with a checkpoint's model. */
    private int translateFrom(PrintStream out, PrintStream err) {
        Checkpoint c;
        WordVocabulary sourceWords;
        WordVocabulary targetWords;
        int targetSteps;
        try {
            c = Checkpoint.read(from);
            ModelKinds.require(c, ModelKinds.SEQ2SEQ);
            String source = c.metadata(SOURCE_VOCABULARY);
            String target = c.metadata(TARGET_VOCABULARY);
            String steps = c.metadata(TARGET_STEPS);
            if (source == null || target == null || steps == null) {
                err.println("recur translate: " + from + " holds a seq2seq model without its vocabularies or target"
                        + " steps (not written by recur translate)");
                return Recur.EXIT_FAILED;
            }
            sourceWords = WordVocabulary.fromStorageString(source);
            targetWords = WordVocabulary.fromStorageString(target);
            targetSteps = Integer.parseInt(steps);
        } catch (IOException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        } catch (IllegalArgumentException e) {
            err.println("recur translate: " + from + ": " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        try (Backend be = openBackend();
             Seq2SeqModel model = Seq2SeqModel.load(be, c)) {
            Seq2SeqConfig cfg = model.config();
            if (sourceWords.size() != cfg.sourceVocabulary() || targetWords.size() != cfg.targetVocabulary()) {
                err.println("recur translate: " + from + ": the vocabularies (" + sourceWords.size() + ", "
                        + targetWords.size() + " words) do not match the model configuration (" + cfg + ")");
                return Recur.EXIT_FAILED;
            }
            if (heatmaps != null && cfg.attention() == Attention.Kind.NONE) {
                err.println("recur translate: " + from + " holds a model without attention; --heatmaps needs one"
                        + " trained with --attention");
                return Recur.EXIT_FAILED;
            }
            model.eval();
            List<BeamSearch.Hypothesis> translated = translate(be, model, sourceWords, targetWords, sentences, 64,
                    maxWords(sentences, targetSteps), beam, lengthPenalty);
            printTranslations(out, sentences, translated, targetWords);
            if (heatmaps != null) {
                writeHeatmaps(out, sentences, translated, targetWords);
            }
            return Recur.EXIT_OK;
        } catch (IOException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    private static List<String> sourcesOf(List<TranslationPairs.Pair> pairs) {
        return pairs.stream().map(TranslationPairs.Pair::source).toList();
    }

    private static List<String> words(WordVocabulary vocabulary, int[] ids) {
        List<String> w = new ArrayList<>(ids.length);
        for (int id : ids) {
            w.add(vocabulary.word(id));
        }
        return w;
    }

    /** The mean loss per target token over {@code pairs} (each batch's loss is a mean over its tokens). */
    private static double meanLoss(Seq2SeqModel model, Batcher batcher, List<Encoded> pairs) {
        double sum = 0;
        long tokens = 0;
        int batch = batcher.shape.batch();
        for (int from = 0; from < pairs.size(); from += batch) {
            int counted = batcher.load(pairs.subList(from, Math.min(pairs.size(), from + batch)));
            sum += (double) batcher.loss(model) * counted;
            tokens += counted;
        }
        return sum / tokens;
    }

    /** A pair as ids: the source's words and the target's words (no BOS or EOS). */
    private record Encoded(int[] source, int[] target) {
        static List<Encoded> all(List<TranslationPairs.Pair> pairs, WordVocabulary sourceWords,
                                 WordVocabulary targetWords) {
            return pairs.stream().map(p -> new Encoded(sourceWords.encode(p.source()), targetWords.encode(p.target())))
                    .toList();
        }
    }

    /**
     * Fills the device's training buffers from at most B pairs, padding rows after them; one
     * host array of each, reused. Translation makes tensors of each chunk's own shape instead.
     */
    private static final class Batcher implements AutoCloseable {

        /** Ts (longest source), Tt (longest target + 1) and B. */
        record Shape(int sourceSteps, int targetSteps, int batch) {
            static Shape of(List<List<Encoded>> parts, int batch) {
                int ts = 1;
                int tt = 1;
                for (List<Encoded> part : parts) {
                    for (Encoded p : part) {
                        ts = Math.max(ts, p.source().length);
                        tt = Math.max(tt, p.target().length + 1);
                    }
                }
                return new Shape(ts, tt, batch);
            }
        }

        private final int bos;
        private final int eos;
        private final Shape shape;
        private final IndexTensor source;        // [Ts, B]
        private final IndexTensor decoderInput;  // [Tt, B]
        private final IndexTensor decoderTarget; // [Tt*B]
        private final int[] sourceIds;
        private final int[] inputIds;
        private final int[] targetIds;
        private int[] lengths;       // source lengths [B]
        private int[] targetLengths; // [B]

        Batcher(Backend be, WordVocabulary targetWords, Shape shape) {
            this.bos = targetWords.id(WordVocabulary.BOS);
            this.eos = targetWords.id(WordVocabulary.EOS);
            this.shape = shape;
            int b = shape.batch();
            this.source = be.indices(shape.sourceSteps(), b);
            this.decoderInput = be.indices(shape.targetSteps(), b);
            this.decoderTarget = be.indices(shape.targetSteps() * b);
            this.sourceIds = new int[shape.sourceSteps() * b];
            this.inputIds = new int[shape.targetSteps() * b];
            this.targetIds = new int[shape.targetSteps() * b];
        }

        /** Loads the pairs; returns the number of target tokens the loss counts (EOS included). */
        int load(List<Encoded> pairs) {
            int b = shape.batch();
            lengths = new int[b];
            Arrays.fill(sourceIds, WordVocabulary.PAD_ID);
            for (int r = 0; r < b; r++) {
                int[] words = r < pairs.size() ? pairs.get(r).source() : new int[0];
                words = words.length == 0 ? new int[] {WordVocabulary.UNK_ID} : words; // padding row, or no words
                for (int t = 0; t < words.length; t++) {
                    sourceIds[t * b + r] = words[t];
                }
                lengths[r] = words.length;
            }
            source.copyFrom(sourceIds);
            targetLengths = new int[b];
            Arrays.fill(inputIds, WordVocabulary.PAD_ID);
            Arrays.fill(targetIds, IGNORE);
            int counted = 0;
            for (int r = 0; r < b; r++) {
                inputIds[r] = bos;
                if (r >= pairs.size()) {
                    targetLengths[r] = 1; // a padding row: BOS in, nothing to predict
                    continue;
                }
                int[] words = pairs.get(r).target();
                for (int t = 0; t < words.length; t++) {
                    targetIds[t * b + r] = words[t];
                    inputIds[(t + 1) * b + r] = words[t];
                }
                targetIds[words.length * b + r] = eos;
                targetLengths[r] = words.length + 1;
                counted += targetLengths[r];
            }
            decoderInput.copyFrom(inputIds);
            decoderTarget.copyFrom(targetIds);
            return counted;
        }

        float trainStep(Seq2SeqModel model, Optimizer optimizer, float lr, float clip) {
            return model.trainStep(source, lengths, decoderInput, targetLengths, decoderTarget, IGNORE, optimizer, lr,
                    clip);
        }

        float loss(Seq2SeqModel model) {
            return model.loss(source, lengths, decoderInput, targetLengths, decoderTarget, IGNORE);
        }

        @Override
        public void close() {
            source.close();
            decoderInput.close();
            decoderTarget.close();
        }
    }

    /**
     * {@code --save-split}: one JSON object with both vocabularies (words by id), the special ids,
     * the most words a translation may have ({@code max_words}, the longest target plus one, as
     * this command decodes), and each part's pairs as ids ({@code [source ids, target ids]}, no
     * BOS or EOS), the test pairs also with their reference tokens, in the order of the split.
     */
    private static void writeSplit(Path file, WordVocabulary sourceWords, WordVocabulary targetWords,
                                   List<Encoded> train, List<Encoded> validation, List<Encoded> test,
                                   List<TranslationPairs.Pair> testPairs, int maxWords) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode o = dev.recur.models.io.Json.MAPPER.createObjectNode();
        com.fasterxml.jackson.databind.node.ArrayNode sv = o.putArray("source_vocabulary");
        for (int i = 0; i < sourceWords.size(); i++) {
            sv.add(sourceWords.word(i));
        }
        com.fasterxml.jackson.databind.node.ArrayNode tv = o.putArray("target_vocabulary");
        for (int i = 0; i < targetWords.size(); i++) {
            tv.add(targetWords.word(i));
        }
        o.put("pad", WordVocabulary.PAD_ID).put("unk", WordVocabulary.UNK_ID)
                .put("bos", targetWords.id(WordVocabulary.BOS)).put("eos", targetWords.id(WordVocabulary.EOS))
                .put("max_words", maxWords);
        for (var part : List.of(java.util.Map.entry("train", train), java.util.Map.entry("validation", validation),
                java.util.Map.entry("test", test))) {
            com.fasterxml.jackson.databind.node.ArrayNode a = o.putArray(part.getKey());
            for (Encoded e : part.getValue()) {
                com.fasterxml.jackson.databind.node.ArrayNode pair = a.addArray();
                com.fasterxml.jackson.databind.node.ArrayNode src = pair.addArray();
                for (int id : e.source()) {
                    src.add(id);
                }
                com.fasterxml.jackson.databind.node.ArrayNode tgt = pair.addArray();
                for (int id : e.target()) {
                    tgt.add(id);
                }
            }
        }
        com.fasterxml.jackson.databind.node.ArrayNode refs = o.putArray("test_references");
        for (TranslationPairs.Pair p : testPairs) {
            com.fasterxml.jackson.databind.node.ArrayNode r = refs.addArray();
            WordVocabulary.tokenize(p.target()).forEach(r::add);
        }
        CommandPaths.createParent(file);
        Files.writeString(file, dev.recur.models.io.Json.write(o));
    }

    /** "greedy decoding" or "beam search (beam K, length penalty A)", for the report. */
    private String decoding() {
        return beam == 1 ? "greedy decoding"
                : String.format(Locale.ROOT, "beam search (beam %d, length penalty %s)", beam, lengthPenalty);
    }

    /**
     * Draws {@code DIR/attention-N.png} for each sentence (N from 1): its source words against the
     * translation's words (and EOS when it ended with one). Makes DIR when missing.
     */
    private void writeHeatmaps(PrintStream out, List<String> sources, List<BeamSearch.Hypothesis> translated,
                               WordVocabulary targetWords) throws IOException {
        Files.createDirectories(heatmaps);
        for (int i = 0; i < sources.size(); i++) {
            BeamSearch.Hypothesis h = translated.get(i);
            List<String> source = WordVocabulary.tokenize(sources.get(i));
            if (source.isEmpty()) {
                source = List.of(WordVocabulary.UNK); // translated as one unknown word
            }
            List<String> target = new ArrayList<>(words(targetWords, h.words()));
            if (h.attention().length > target.size()) {
                target.add(WordVocabulary.EOS);
            }
            Path file = heatmaps.resolve("attention-" + (i + 1) + ".png");
            AttentionHeatmap.write(file, sources.get(i), source, target, h.attention());
            out.println("  attention heatmap " + file + ": " + sources.get(i));
        }
    }

    /**
     * Translations of any number of sentences, up to {@code chunkSize} at a time, each chunk in ids
     * of its own shape {@code [longest, n]} (no sentence is cut, no padding row decoded), by a
     * beam search of {@code beam} hypotheses (1: greedy decoding, word for word): target ids,
     * EOS left out, at most {@code maxWords} each, with their attention weights when the model
     * has attention.
     */
    static List<BeamSearch.Hypothesis> translate(Backend be, Seq2SeqModel model, WordVocabulary sourceWords,
                                                 WordVocabulary targetWords, List<String> sentences, int chunkSize,
                                                 int maxWords, int beam, double lengthPenalty) {
        List<BeamSearch.Hypothesis> out = new ArrayList<>(sentences.size());
        int bos = targetWords.id(WordVocabulary.BOS);
        int eos = targetWords.id(WordVocabulary.EOS);
        for (int from = 0; from < sentences.size(); from += chunkSize) {
            List<String> chunk = sentences.subList(from, Math.min(sentences.size(), from + chunkSize));
            int n = chunk.size();
            int[][] encoded = new int[n][];
            int longest = 1;
            for (int r = 0; r < n; r++) {
                encoded[r] = sourceWords.encode(chunk.get(r));
                if (encoded[r].length == 0) {
                    encoded[r] = new int[] {WordVocabulary.UNK_ID}; // a sentence with no words
                }
                longest = Math.max(longest, encoded[r].length);
            }
            int[] ids = new int[longest * n]; // [T, n], PAD past each length
            int[] lengths = new int[n];
            for (int r = 0; r < n; r++) {
                for (int t = 0; t < encoded[r].length; t++) {
                    ids[t * n + r] = encoded[r][t];
                }
                lengths[r] = encoded[r].length;
            }
            try (IndexTensor source = be.indices(ids, longest, n)) {
                out.addAll(Arrays.asList(model.beamSearch(source, lengths, bos, eos, maxWords, beam, lengthPenalty)));
            }
        }
        return out;
    }

    /**
     * The most words a translation of these sentences may have: at least {@code dataTargetSteps}
     * (the longest target of the training data, plus one), and 2n + 1 for a sentence of n tokens.
     */
    static int maxWords(List<String> sentences, int dataTargetSteps) {
        int longest = sentences.stream().mapToInt(t -> WordVocabulary.tokenize(t).size()).max().orElse(0);
        return Math.max(dataTargetSteps, 2 * longest + 1);
    }

    /** Prints "SENTENCE => translation" for each sentence. */
    static void printTranslations(PrintStream out, List<String> sentences, List<BeamSearch.Hypothesis> translated,
                                  WordVocabulary targetWords) {
        for (int i = 0; i < sentences.size(); i++) {
            out.println("  " + sentences.get(i) + " => " + String.join(" ", words(targetWords,
                    translated.get(i).words())));
        }
    }
}
