package dev.recur.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.recur.models.io.Json;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's metrics as JSON lines, one object per line: {@code {"step":12,"epoch":1,"lr":0.005,
 * "loss":2.31,"seconds":4.2}} after each step, {@code {"step":100,"epoch":1,"validation_loss":1.93,
 * "best":true}} after each validation. Also keeps the curves in memory for the loss plot. A resumed
 * run keeps the lines up to the step it resumes from and drops any written after it.
 */
final class MetricsLog implements Closeable {

    private static final JsonMapper JSON = Json.MAPPER;

    private BufferedWriter writer; // null: memory only
    final List<double[]> train = new ArrayList<>();      // {step, loss}
    final List<double[]> validation = new ArrayList<>(); // {step, loss}

    /**
     * @param file      where to write, or null to keep the curves in memory only
     * @param resumedAt the step a resumed run starts from (lines after it are dropped), or -1 for
     *                  a fresh run (the file is replaced)
     */
    MetricsLog(Path file, long resumedAt) throws IOException {
        if (file == null) {
            return;
        }
        List<String> kept = new ArrayList<>();
        if (resumedAt >= 0 && Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                JsonNode o;
                try {
                    o = JSON.readTree(line);
                } catch (IOException e) {
                    continue; // a line cut short by a killed run
                }
                if (o == null || !o.has("step") || o.get("step").asLong() > resumedAt) {
                    continue;
                }
                kept.add(line);
                long step = o.get("step").asLong();
                if (o.has("loss")) {
                    train.add(new double[] {step, o.get("loss").asDouble()});
                }
                if (o.has("validation_loss")) {
                    validation.add(new double[] {step, o.get("validation_loss").asDouble()});
                }
            }
        }
        writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        for (String line : kept) {
            writer.write(line);
            writer.newLine();
        }
        writer.flush();
    }

    void step(long step, int epoch, float lr, float loss, double seconds) throws IOException {
        train.add(new double[] {step, loss});
        write(JSON.createObjectNode().put("step", step).put("epoch", epoch).put("lr", lr).put("loss", loss)
                .put("seconds", Math.round(seconds * 1000) / 1000.0));
    }

    void validation(long step, int epoch, double loss, boolean best) throws IOException {
        validation.add(new double[] {step, loss});
        write(JSON.createObjectNode().put("step", step).put("epoch", epoch).put("validation_loss", loss)
                .put("best", best));
    }

    private void write(ObjectNode o) throws IOException {
        if (writer != null) {
            writer.write(o.toString());
            writer.newLine();
            writer.flush();
        }
    }

    @Override
    public void close() throws IOException {
        if (writer != null) {
            writer.close();
            writer = null;
        }
    }
}
