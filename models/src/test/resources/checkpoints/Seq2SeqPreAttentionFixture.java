import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.seq2seq.Seq2SeqConfig;
import dev.recur.models.seq2seq.Seq2SeqModel;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes seq2seq-pre-attention.safetensors with Recur as it was before attention (commit fdda618):
 * a GRU encoder-decoder (source vocabulary 7, target 9, embedding 3, hidden 4, seed 1) and, in the
 * metadata "greedy", that code's greedy translations of the sources below, so that a test can
 * check that today's code loads the file and translates the same. Run against that commit's
 * models, engine-api and engine-cpu jars:
 *   java -cp MODELS_JAR:ENGINE_API_JAR:ENGINE_CPU_JAR:DEPENDENCIES Seq2SeqPreAttentionFixture.java OUT
 */
public class Seq2SeqPreAttentionFixture {
    public static void main(String[] args) throws Exception {
        try (Backend be = Backends.named("cpu");
             Seq2SeqModel model = new Seq2SeqModel(be, new Seq2SeqConfig(Cell.GRU, 7, 9, 3, 4, 1, 0f), 1);
             // [Ts = 3, B = 4] source ids, time-major; lengths 3, 2, 1, 3
             IndexTensor src = be.indices(new int[] {2, 3, 4, 5, 6, 2, 0, 3, 4, 0, 0, 6}, 3, 4)) {
            model.eval();
            int[][] out = model.translate(src, new int[] {3, 2, 1, 3}, 2, 3, 6);
            model.save(Path.of(args[0]), Map.of("greedy", Arrays.deepToString(out)));
            System.out.println(Arrays.deepToString(out));
        }
    }
}
