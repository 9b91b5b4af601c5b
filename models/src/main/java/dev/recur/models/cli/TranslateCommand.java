package dev.recur.models.cli;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.data.TranslationPairs;
import dev.recur.models.data.WordVocabulary;
import dev.recur.models.io.Checkpoint;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import dev.recur.models.seq2seq.Bleu;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;
import dev.recur.models.train.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code recur translate}: a sequence-to-sequence translator (word embeddings, an encoder whose
 * final states start a decoder, a linear layer over the target words) trained on
 * {@code source<TAB>target} lines, reporting on held-out pairs the loss, corpus BLEU and the
 * share of sentences translated exactly, with greedy decoding.
 *
 * <p>Shapes: every batch is {@code [Ts, B]} source ids and {@code [Tt, B]} decoder inputs, with
 * Ts the longest source sentence kept and Tt one more than the longest target sentence, so the
 * buffers are made once; the engines skip the steps past each sentence's own length. The last
 * batch of an epoch is filled up to B with padding rows whose loss is ignored.
 */
final class TranslateCommand implements Subcommand {

    /** The target id of padding positions; softmax cross-entropy skips them. */
    static final int IGNORE = -1;

    /** Checkpoint metadata: the vocabularies, and the longest target of the training data plus one. */
    static final String SOURCE_VOCABULARY = "source_vocabulary";
    static final String TARGET_VOCABULARY = "target_vocabulary";
    static final String TARGET_STEPS = "target_steps";

    @Override
    public String name() {
        return "translate";
    }

    @Override
    public String summary() {
        return "train a sequence-to-sequence translator on source<TAB>target lines; report BLEU";
    }

    @Override
    public String usage() {
        return """
                usage: recur translate --data FILE [options] [SENTENCE ...]
                       recur translate --from CHECKPOINT SENTENCE ...

                Trains an encoder-decoder (Sutskever et al. 2014): the encoder reads the source sentence,
                its final states start the decoder, which learns to write the target sentence word by
                word from the words before it (teacher forcing), on lines of source<TAB>target such as
                Tatoeba's English-French pairs ("Go.<TAB>Va !"; further TAB-separated columns are
                ignored). Pairs with more than --max-length tokens (words and punctuation marks) on
                either side are left out. The pairs are shuffled with --seed and split into training and
                test parts; each language's vocabulary comes from the training part only. Each epoch
                prints the training and test loss (the mean cross-entropy per target token, <eos>
                included); the end saves --checkpoint, then prints, for the test part, corpus BLEU-4 and
                the share of sentences translated exactly by greedy decoding (each step takes the most
                likely word, until <eos>), --examples test translations and a translation of each
                SENTENCE. With --from, nothing is trained: the model of a checkpoint that --checkpoint
                wrote translates each SENTENCE.

                options (defaults in brackets):
                  --data FILE            source<TAB>target lines (UTF-8) [required]
                  --cell NAME            lstm, lstm_peephole, lstm_coupled, gru, gru_original, rnn_tanh, rnn_relu [gru]
                  --layers N             stacked layers in the encoder and in the decoder [1]
                  --hidden N             hidden units per layer [256]
                  --embedding N          word embedding size of both languages [128]
                  --bidirectional        the encoder reads each sentence both ways (each decoder layer
                                         starts from the sum of its encoder layer's two final states)
                  --dropout P            dropout between layers while training [0]
                  --epochs N             passes over the training part [10]
                  --batch N              pairs per batch [64]
                  --max-length N         longest sentence kept, in tokens [10]
                  --min-count N          words seen fewer times in training become <unk> [1]
                  --optimizer NAME       sgd, rmsprop, adam, adamw [adam]
                  --lr X                 learning rate [0.003]
                  --clip X               clip gradients to this global norm, 0 = off [5]
                  --test-fraction X      share of the pairs held out for testing [0.1]
                  --examples N           test translations to print at the end [5]
                  --seed N               seed of the split, the shuffling and the initial weights [1]
                  --checkpoint FILE      also save the model and both vocabularies there [no file]
                  --from CHECKPOINT      translate the SENTENCEs with this saved model; no training
                """;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Options o = Options.declare()
                .value("--data").value("--cell").value("--layers").value("--hidden").value("--embedding")
                .flag("--bidirectional")
                .value("--dropout").value("--epochs").value("--batch").value("--max-length").value("--min-count")
                .value("--optimizer").value("--lr").value("--clip").value("--test-fraction").value("--examples")
                .value("--seed").value("--checkpoint").value("--from")
                .parse(args);
        if (o.has("--from")) {
            return translateFrom(o, out, err);
        }
        if (!o.has("--data")) {
            throw new UsageException("option '--data' is required: there is no built-in translation data;"
                    + " give a file of source<TAB>target lines");
        }
        Path file = CommandPaths.path("--data", o.string("--data", ""));
        Cell cell = TrainLmCommand.cell(o.string("--cell", "gru"));
        Optimizer.Kind kind = TrainLmCommand.kind(o.string("--optimizer", "adam"));
        int layers = TrainLmCommand.positive(o, "--layers", 1);
        int hidden = TrainLmCommand.positive(o, "--hidden", 256);
        int embedding = TrainLmCommand.positive(o, "--embedding", 128);
        float dropout = o.floatValue("--dropout", 0f);
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new UsageException("option '--dropout' must be in [0, 1), got " + dropout);
        }
        int epochs = TrainLmCommand.positive(o, "--epochs", 10);
        int batch = TrainLmCommand.positive(o, "--batch", 64);
        int maxLength = TrainLmCommand.positive(o, "--max-length", 10);
        int minCount = TrainLmCommand.positive(o, "--min-count", 1);
        float lr = o.floatValue("--lr", 0.003f);
        if (!(lr > 0f)) {
            throw new UsageException("option '--lr' must be > 0, got " + lr);
        }
        float clip = o.floatValue("--clip", 5f);
        if (clip < 0f) {
            throw new UsageException("option '--clip' must be >= 0, got " + clip);
        }
        double testFraction = ClassifyCommand.fraction(o, "--test-fraction", 0.1f);
        int examples = o.intValue("--examples", 5);
        if (examples < 0) {
            throw new UsageException("option '--examples' must be >= 0, got " + examples);
        }
        long seed = o.longValue("--seed", 1);
        Path checkpoint = o.has("--checkpoint") ? CommandPaths.path("--checkpoint", o.string("--checkpoint", "")) : null;
        List<String> sentences = o.positional();

        TranslationPairs all;
        TranslationPairs kept;
        TranslationPairs.Split split;
        try {
            all = TranslationPairs.read(file);
            kept = all.atMost(maxLength);
            if (kept.pairs().isEmpty()) {
                err.println("recur translate: " + file + ": no pair has at most " + maxLength + " tokens on both"
                        + " sides; raise --max-length");
                return Recur.EXIT_FAILED;
            }
            split = kept.split(testFraction, seed);
            if (checkpoint != null) {
                CommandPaths.createParent(checkpoint);
            }
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
        List<Encoded> train = Encoded.all(split.train(), sourceWords, targetWords); // tokenized once, not per epoch
        List<Encoded> test = Encoded.all(split.test(), sourceWords, targetWords);
        Batcher.Shape shape = Batcher.Shape.of(train, test, batch);
        Seq2SeqConfig cfg = new Seq2SeqConfig(cell, sourceWords.size(), targetWords.size(), embedding, hidden, layers,
                dropout, o.has("--bidirectional"));
        OptimizerConfig optimizerConfig = OptimizerConfig.builder(kind).build();
        int batchesPerEpoch = (split.train().size() + batch - 1) / batch;

        long started = System.nanoTime();
        try (Backend be = Backends.best();
             Seq2SeqModel model = new Seq2SeqModel(be, cfg, seed);
             Optimizer optimizer = new Optimizer(be, optimizerConfig, model.parameters());
             Batcher batcher = new Batcher(be, targetWords, shape)) {
            out.println("recur translate: " + file + " on the " + be.name() + " backend");
            out.printf(Locale.ROOT, "  %d pairs, %d with at most %d tokens on both sides; %d for training, %d for"
                            + " testing%n", all.pairs().size(), kept.pairs().size(), maxLength, split.train().size(),
                    split.test().size());
            out.printf(Locale.ROOT, "  vocabularies (from the training part, min count %d): source %d words, target"
                    + " %d words; %d source steps, %d target steps per batch%n", minCount, sourceWords.size(),
                    targetWords.size(), shape.sourceSteps(), shape.targetSteps());
            out.println("  " + cfg);
            out.println("  batch " + batch + ", epochs " + epochs + ", " + optimizerConfig + ", lr " + lr + ", clip "
                    + clip + ", seed " + seed);
            Progress progress = new Progress(out, Progress.isTerminal(), (long) epochs * batchesPerEpoch, "pairs",
                    batchesPerEpoch);
            List<Encoded> order = new ArrayList<>(train);
            Random shuffle = new Random(seed + 1); // not the split's own sequence
            long step = 0;
            long done = 0;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Collections.shuffle(order, shuffle);
                double lossSum = 0;
                long tokens = 0;
                for (int from = 0; from < order.size(); from += batch) {
                    List<Encoded> chunk = order.subList(from, Math.min(order.size(), from + batch));
                    int counted = batcher.load(chunk);
                    float loss;
                    try {
                        loss = CheckedStep.loss(() -> batcher.trainStep(model, optimizer, lr, clip), ++step, epoch);
                    } catch (CheckedStep.Diverged e) {
                        progress.finish();
                        err.println("recur translate: " + e.getMessage());
                        return Recur.EXIT_FAILED;
                    }
                    lossSum += (double) loss * counted; // the batch's loss is a mean over its tokens
                    tokens += counted;
                    done += chunk.size();
                    progress.update(epoch, step, loss, done);
                }
                progress.line(String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f, test loss %.4f", epoch,
                        epochs, lossSum / tokens, testLoss(model, batcher, test)));
            }
            progress.finish();
            if (checkpoint != null) { // before the evaluation, so nothing after training can lose it
                save(model, cfg, optimizerConfig, sourceWords, targetWords, shape, step, seed, checkpoint);
                out.println("checkpoint " + checkpoint);
            }
            List<int[]> translated = translate(be, model, sourceWords, targetWords, sourcesOf(split.test()), batch,
                    shape.targetSteps());
            List<List<String>> candidates = new ArrayList<>();
            List<List<String>> references = new ArrayList<>();
            int exact = 0;
            for (int i = 0; i < translated.size(); i++) {
                List<String> cand = words(targetWords, translated.get(i));
                List<String> ref = WordVocabulary.tokenize(split.test().get(i).target());
                candidates.add(cand);
                references.add(ref);
                exact += cand.equals(ref) ? 1 : 0;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(Locale.ROOT, "test BLEU-4 %.2f, exact %.4f (%d/%d) by greedy decoding; %.1f s%n",
                    100 * Bleu.corpus(candidates, references), (double) exact / translated.size(), exact,
                    translated.size(), seconds);
            for (int i = 0; i < Math.min(examples, translated.size()); i++) {
                TranslationPairs.Pair p = split.test().get(i);
                out.println("  " + p.source() + " => " + String.join(" ", candidates.get(i)) + "   (reference: "
                        + p.target() + ")");
            }
            if (!sentences.isEmpty()) {
                printTranslations(out, sentences, translate(be, model, sourceWords, targetWords, sentences, batch,
                        maxWords(sentences, shape.targetSteps())), targetWords);
            }
            return Recur.EXIT_OK;
        } catch (IOException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
    }

    /** {@code --from}: translates the positional sentences with a checkpoint's model. */
    private static int translateFrom(Options o, PrintStream out, PrintStream err) {
        for (String trainingOnly : List.of("--data", "--cell", "--layers", "--hidden", "--embedding",
                "--bidirectional", "--dropout",
                "--epochs", "--batch", "--max-length", "--min-count", "--optimizer", "--lr", "--clip",
                "--test-fraction", "--examples", "--seed", "--checkpoint")) {
            if (o.has(trainingOnly)) {
                throw new UsageException("option '" + trainingOnly + "' is for training; --from only translates");
            }
        }
        List<String> sentences = o.positional();
        if (sentences.isEmpty()) {
            throw new UsageException("--from needs at least one SENTENCE to translate");
        }
        Path file = CommandPaths.path("--from", o.string("--from", ""));
        Checkpoint c;
        Seq2SeqConfig cfg;
        WordVocabulary sourceWords;
        WordVocabulary targetWords;
        int targetSteps;
        try {
            c = Checkpoint.read(file);
            String source = c.metadata(SOURCE_VOCABULARY);
            String target = c.metadata(TARGET_VOCABULARY);
            String steps = c.metadata(TARGET_STEPS);
            if (c.modelConfig() == null || source == null || target == null || steps == null) {
                err.println("recur translate: " + file + " is not a translate checkpoint (no model configuration,"
                        + " vocabularies or target steps)");
                return Recur.EXIT_FAILED;
            }
            cfg = Seq2SeqConfig.fromJson(c.modelConfig());
            sourceWords = WordVocabulary.fromStorageString(source);
            targetWords = WordVocabulary.fromStorageString(target);
            targetSteps = Integer.parseInt(steps);
            if (sourceWords.size() != cfg.sourceVocabulary() || targetWords.size() != cfg.targetVocabulary()) {
                err.println("recur translate: " + file + ": the vocabularies (" + sourceWords.size() + ", "
                        + targetWords.size() + " words) do not match the model configuration (" + cfg + ")");
                return Recur.EXIT_FAILED;
            }
        } catch (IOException e) {
            err.println("recur translate: " + e.getMessage());
            return Recur.EXIT_FAILED;
        } catch (IllegalArgumentException e) {
            err.println("recur translate: " + file + ": " + e.getMessage());
            return Recur.EXIT_FAILED;
        }
        try (Backend be = Backends.best();
             Seq2SeqModel model = new Seq2SeqModel(be, cfg, 0)) {
            for (Parameter p : model.parameters()) {
                p.value().copyFrom(c.require(p.name(), p.value().shape().toArray()).data());
            }
            printTranslations(out, sentences, translate(be, model, sourceWords, targetWords, sentences, 64,
                    maxWords(sentences, targetSteps)), targetWords);
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

    /** The mean loss per target token over the test pairs (each batch's loss is a mean over its tokens). */
    private static double testLoss(Seq2SeqModel model, Batcher batcher, List<Encoded> test) {
        double sum = 0;
        long tokens = 0;
        int batch = batcher.shape.batch();
        for (int from = 0; from < test.size(); from += batch) {
            int counted = batcher.load(test.subList(from, Math.min(test.size(), from + batch)));
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
            static Shape of(List<Encoded> train, List<Encoded> test, int batch) {
                int ts = 1;
                int tt = 1;
                for (List<Encoded> part : List.of(train, test)) {
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
     * Greedy translations of any number of sentences, up to {@code chunkSize} at a time, each
     * chunk in ids of its own shape {@code [longest, n]} (no sentence is cut, no padding row
     * decoded): target ids, EOS left out, at most {@code maxWords} each.
     */
    static List<int[]> translate(Backend be, Seq2SeqModel model, WordVocabulary sourceWords,
                                 WordVocabulary targetWords, List<String> sentences, int chunkSize, int maxWords) {
        List<int[]> out = new ArrayList<>(sentences.size());
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
                out.addAll(Arrays.asList(model.translate(source, lengths, bos, eos, maxWords)));
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
    static void printTranslations(PrintStream out, List<String> sentences, List<int[]> ids, WordVocabulary targetWords) {
        for (int i = 0; i < sentences.size(); i++) {
            out.println("  " + sentences.get(i) + " => " + String.join(" ", words(targetWords, ids.get(i))));
        }
    }

    private static void save(Seq2SeqModel model, Seq2SeqConfig cfg, OptimizerConfig optimizer,
                             WordVocabulary sourceWords, WordVocabulary targetWords, Batcher.Shape shape, long step,
                             long seed, Path file) throws IOException {
        Checkpoint.Builder b = Checkpoint.builder().modelConfig(cfg.toJson()).optimizer(optimizer.toString())
                .step(step).seed(seed).metadata(SOURCE_VOCABULARY, sourceWords.toStorageString())
                .metadata(TARGET_VOCABULARY, targetWords.toStorageString())
                .metadata(TARGET_STEPS, Integer.toString(shape.targetSteps()));
        for (Parameter p : model.parameters()) {
            b.tensor(p.name(), p.value().shape().toArray(), p.value().toArray());
        }
        b.build().write(file);
    }
}
