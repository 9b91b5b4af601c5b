package dev.recur.models.io;

import dev.recur.api.Cell;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.seq.SequenceModelConfig;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model configurations that checkpoints carry: written and read with Jackson, byte for byte
 * the JSON that the hand-written code before it wrote (so old checkpoints load and old Recur
 * builds can read new ones), other kinds refused by name, unknown fields ignored.
 */
class ModelConfigJsonTest {

    // Literals copied from the output of the hand-concatenated toJson() methods (and of
    // ClassifyCommand.save's String.format) that this code replaced.
    private static final String OLD_CHAR_LM =
            "{\"model\":\"char-lm\",\"vocabulary\":65,\"embedding\":32,\"cell\":\"lstm\",\"hidden\":128,\"layers\":2,"
                    + "\"dropout\":0.1}";
    private static final String OLD_SEQ2SEQ =
            "{\"model\":\"seq2seq\",\"cell\":\"gru\",\"source_vocabulary\":120,\"target_vocabulary\":90,"
                    + "\"embedding\":24,\"hidden\":48,\"layers\":2,\"dropout\":0.25,\"bidirectional_encoder\":1}";
    private static final String OLD_CLASSIFIER =
            "{\"model\":\"sequence-classifier\",\"vocabulary\":500,\"embedding\":16,\"cell\":\"lstm_peephole\","
                    + "\"hidden\":32,\"layers\":1,\"bidirectional\":true,\"dropout\":0.0,\"classes\":3,"
                    + "\"max_length\":40}";

    private static void assertMessage(String expectedPart, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(expectedPart), "expected '" + expectedPart + "' in: " + e.getMessage());
    }

    @Test
    void charLmJsonIsWhatTheOldCodeWroteAndReadsBack() {
        CharModelConfig cfg = new CharModelConfig(65, 32, Cell.LSTM, 128, 2, 0.1f);
        assertEquals(OLD_CHAR_LM, cfg.toJson());
        assertEquals(cfg, CharModelConfig.fromJson(OLD_CHAR_LM));
        CharModelConfig noDropout = new CharModelConfig(2, 1, Cell.RNN_RELU, 1, 1, 0f);
        assertEquals("{\"model\":\"char-lm\",\"vocabulary\":2,\"embedding\":1,\"cell\":\"rnn_relu\",\"hidden\":1,"
                + "\"layers\":1,\"dropout\":0.0}", noDropout.toJson());
        assertEquals(noDropout, CharModelConfig.fromJson(noDropout.toJson()));
        assertEquals(CharModelConfig.KIND, Json.kindOf(cfg.toJson()));
    }

    @Test
    void seq2seqJsonIsWhatTheOldCodeWroteAndReadsBack() {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 120, 90, 24, 48, 2, 0.25f, true);
        assertEquals(OLD_SEQ2SEQ, cfg.toJson());
        assertEquals(cfg, Seq2SeqConfig.fromJson(OLD_SEQ2SEQ));
        Seq2SeqConfig oneWay = new Seq2SeqConfig(Cell.LSTM_COUPLED, 2, 4, 1, 1, 1, 0f);
        assertTrue(oneWay.toJson().endsWith(",\"bidirectional_encoder\":0}"), oneWay.toJson());
        assertEquals(oneWay, Seq2SeqConfig.fromJson(oneWay.toJson()));
        // A boolean is read too, should a later writer use one.
        assertEquals(cfg, Seq2SeqConfig.fromJson(OLD_SEQ2SEQ.replace("\"bidirectional_encoder\":1",
                "\"bidirectional_encoder\":true")));
        assertEquals(Seq2SeqConfig.KIND, Json.kindOf(cfg.toJson()));
    }

    @Test
    void classifierJsonIsWhatClassifyCommandWroteAndReadsBack() {
        SequenceModelConfig cfg = SequenceModelConfig.classifier(500, 16, Cell.LSTM_PEEPHOLE, 32, 1, true, 0f, 3);
        assertEquals(cfg, SequenceModelConfig.fromJson(OLD_CLASSIFIER));
        // The command adds max_length to the config's object; nothing else differs.
        assertEquals(OLD_CLASSIFIER, Json.write(cfg.toJsonObject().put("max_length", 40)));
        assertEquals(SequenceModelConfig.CLASSIFIER_KIND, cfg.kind());
        assertEquals(SequenceModelConfig.CLASSIFIER_KIND, Json.kindOf(OLD_CLASSIFIER));
    }

    @Test
    void regressorJsonNamesFeaturesAndOutputsAndReadsBack() {
        SequenceModelConfig cfg = SequenceModelConfig.regressor(3, Cell.GRU_ORIGINAL, 20, 2, 0.5f, 2);
        assertEquals("{\"model\":\"sequence-regressor\",\"vocabulary\":0,\"features\":3,\"cell\":\"gru_original\","
                + "\"hidden\":20,\"layers\":2,\"bidirectional\":false,\"dropout\":0.5,\"outputs\":2}", cfg.toJson());
        assertEquals(cfg, SequenceModelConfig.fromJson(cfg.toJson()));
        assertEquals(SequenceModelConfig.REGRESSOR_KIND, cfg.kind());
        // Numeric input to a classifier: features, classes.
        SequenceModelConfig numericClassifier = new SequenceModelConfig(0, 5, Cell.RNN_TANH, 4, 1, true, 0f, 2, 99);
        assertEquals(2, numericClassifier.outputs(), "a classifier's outputs are its classes");
        assertTrue(numericClassifier.toJson().contains("\"features\":5"), numericClassifier.toJson());
        assertEquals(numericClassifier, SequenceModelConfig.fromJson(numericClassifier.toJson()));
    }

    @Test
    void unknownFieldsAreIgnoredAndWholeNumbersMayHaveADecimalPoint() {
        String newer = OLD_CHAR_LM.replace("{", "{\"tokenizer\":{\"kind\":\"bytes\"},\"tied\":true,")
                .replace("\"hidden\":128", "\"hidden\":128.0");
        assertEquals(new CharModelConfig(65, 32, Cell.LSTM, 128, 2, 0.1f), CharModelConfig.fromJson(newer));
    }

    @Test
    void anotherKindIsRefusedNamingBoth() {
        assertMessage("this is a seq2seq model config, not a char-lm one", () -> CharModelConfig.fromJson(OLD_SEQ2SEQ));
        assertMessage("this is a char-lm model config, not a seq2seq one", () -> Seq2SeqConfig.fromJson(OLD_CHAR_LM));
        assertMessage("this is a char-lm model config, not a sequence-classifier or sequence-regressor one",
                () -> SequenceModelConfig.fromJson(OLD_CHAR_LM));
        assertMessage("this is a sequence-classifier model config, not a char-lm one",
                () -> CharModelConfig.fromJson(OLD_CLASSIFIER));
    }

    @Test
    void aMissingOrMalformedFieldIsNamed() {
        assertMessage("no number field 'hidden'", () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"hidden\":128,", "")));
        assertMessage("field 'layers' is not a number: \"2\"",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"layers\":2", "\"layers\":\"2\"")));
        assertMessage("field 'embedding' must be a whole number, got 32.5",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"embedding\":32", "\"embedding\":32.5")));
        assertMessage("field 'cell': unknown cell 'lstn'",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"lstm\"", "\"lstn\"")));
        assertMessage("no string field 'model'", () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"model\":\"char-lm\",", "")));
        assertMessage("field 'model' must be a string",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"char-lm\"", "7")));
        assertMessage("field 'bidirectional_encoder' must be true, false, 1 or 0, got 2",
                () -> Seq2SeqConfig.fromJson(OLD_SEQ2SEQ.replace("\"bidirectional_encoder\":1", "\"bidirectional_encoder\":2")));
        assertMessage("no number field 'target_vocabulary'",
                () -> Seq2SeqConfig.fromJson(OLD_SEQ2SEQ.replace("\"target_vocabulary\":90,", "")));
        assertMessage("no number field 'classes'",
                () -> SequenceModelConfig.fromJson(OLD_CLASSIFIER.replace("\"classes\":3,", "")));
        assertMessage("no boolean field 'bidirectional'",
                () -> SequenceModelConfig.fromJson(OLD_CLASSIFIER.replace("\"bidirectional\":true,", "")));
        assertMessage("field 'classes' of a sequence-classifier must be >= 2, got 0",
                () -> SequenceModelConfig.fromJson(OLD_CLASSIFIER.replace("\"classes\":3", "\"classes\":0")));
        // Out of range values are refused by the record's own checks.
        assertMessage("dropout must be in [0, 1), got 1.5",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"dropout\":0.1", "\"dropout\":1.5")));
    }

    @Test
    void notOneObjectIsRefused() {
        assertMessage("not valid JSON", () -> CharModelConfig.fromJson("{\"model\":\"char-lm\","));
        assertMessage("expected a JSON object, found array", () -> CharModelConfig.fromJson("[1]"));
        assertMessage("expected a JSON object, found nothing", () -> CharModelConfig.fromJson(""));
        assertMessage("not valid JSON", () -> CharModelConfig.fromJson(OLD_CHAR_LM + " {}"));
        assertMessage("Duplicate field 'hidden'",
                () -> CharModelConfig.fromJson(OLD_CHAR_LM.replace("\"hidden\":128", "\"hidden\":128,\"hidden\":64")));
        assertMessage("null", () -> CharModelConfig.fromJson(null));
    }

    @Test
    void kindOfIsTheModelFieldOrNull() {
        assertEquals("anything", Json.kindOf("{\"a\":1,\"model\":\"anything\"}"));
        assertNull(Json.kindOf("{\"a\":1}"));
        assertNull(Json.kindOf("{\"model\":3}"));
        assertNull(Json.kindOf("[\"model\"]"));
        assertNull(Json.kindOf("{\"model\":"));
        assertNull(Json.kindOf(""));
        assertNull(Json.kindOf(null));
    }
}
