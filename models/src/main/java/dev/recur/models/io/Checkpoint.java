package dev.recur.models.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A Recur checkpoint: the model's tensors, the optimizer's tensors and the training state, in
 * one safetensors file (see {@link SafeTensors} for the byte layout).
 *
 * <h2>Contents (format version 2)</h2>
 * <ul>
 *   <li>Tensors, float32, under PyTorch's parameter names so that an {@code nn.LSTM}
 *       state dict maps one to one: {@code weight_ih_l0 [G*H, I]}, {@code weight_hh_l0 [G*H, H]},
 *       {@code bias_ih_l0 [G*H]}, {@code bias_hh_l0 [G*H]}, {@code _reverse} for the backward
 *       direction, {@code embedding.weight}, ...; optimizer state under names of the caller's
 *       choosing (for example {@code optimizer.adam.m.weight_ih_l0}).</li>
 *   <li>{@code __metadata__}, strings only, in this order: {@code format} =
 *       {@value #FORMAT}; {@code format_version} = {@code "2"}; {@code model_config}, a JSON
 *       object given by the caller; {@code optimizer}, {@code data_position} (free strings);
 *       {@code step}, {@code seed} (decimal integers); then the caller's extra entries (for
 *       example a vocabulary); last {@code checksum}.</li>
 *   <li>{@code checksum}: SHA-256, as 64 lower-case hex digits, of the whole content (see
 *       {@link SafeTensors#contentSha256}): each tensor's name, dtype, shape and data offsets in
 *       header order, every other metadata entry in order, and the SHA-256 of the data section
 *       (every tensor's little-endian float32 bytes). A flipped bit in a tensor's name, swapped
 *       offsets or an edited metadata value is caught as surely as damaged data. Version 1
 *       hashed the data section only; its files still load, checked that way.</li>
 * </ul>
 *
 * <h2>Writing and reading</h2>
 * {@link #write} replaces the target atomically (temporary file, flush to disk, rename), so a
 * crash leaves the previous checkpoint or the new one, never half of one. {@link #read}
 * refuses, with a {@link CheckpointException} naming the file and the problem, everything
 * {@link SafeTensors#read} refuses plus: a file that is not a Recur checkpoint ({@code format}
 * missing or different), a {@code format_version} newer than {@link #FORMAT_VERSION} ("written
 * by a newer Recur"), a checksum that does not match the data ("corrupt"), and missing or
 * malformed metadata values. Files written by any older format version keep loading. To import
 * plain tensors from a file written by another tool, use {@link SafeTensors#read}.
 *
 * <p>Instances are immutable; {@link #toBuilder()} makes a changed copy.
 */
public final class Checkpoint {

    /** The value of {@code __metadata__.format} in every Recur checkpoint. */
    public static final String FORMAT = "recur-checkpoint";
    /** The format version this Recur writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 2;

    public static final String KEY_FORMAT = "format";
    public static final String KEY_FORMAT_VERSION = "format_version";
    public static final String KEY_MODEL_CONFIG = "model_config";
    public static final String KEY_OPTIMIZER = "optimizer";
    public static final String KEY_DATA_POSITION = "data_position";
    public static final String KEY_STEP = "step";
    public static final String KEY_SEED = "seed";
    public static final String KEY_CHECKSUM = "checksum";

    /** Metadata keys Recur owns; {@link Builder#metadata} refuses them. */
    public static final List<String> RESERVED_KEYS = List.of(KEY_FORMAT, KEY_FORMAT_VERSION, KEY_MODEL_CONFIG,
            KEY_OPTIMIZER, KEY_DATA_POSITION, KEY_STEP, KEY_SEED, KEY_CHECKSUM);

    private final Map<String, StoredTensor> tensors; // unmodifiable, ordered
    private final String modelConfig;
    private final String optimizer;
    private final String dataPosition;
    private final long step;
    private final long seed;
    private final Map<String, String> extraMetadata; // unmodifiable, ordered
    private final Path source;                        // null when built in memory
    private final int formatVersion;

    private Checkpoint(Map<String, StoredTensor> tensors, String modelConfig, String optimizer, String dataPosition,
                       long step, long seed, Map<String, String> extraMetadata, Path source, int formatVersion) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.modelConfig = modelConfig;
        this.optimizer = optimizer;
        this.dataPosition = dataPosition;
        this.step = step;
        this.seed = seed;
        this.extraMetadata = Collections.unmodifiableMap(new LinkedHashMap<>(extraMetadata));
        this.source = source;
        this.formatVersion = formatVersion;
    }

    /** An empty builder: no tensors, model config {@code {}}, empty strings, step and seed 0. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding everything this checkpoint holds. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.tensors.putAll(tensors);
        b.modelConfig = modelConfig;
        b.optimizer = optimizer;
        b.dataPosition = dataPosition;
        b.step = step;
        b.seed = seed;
        b.extra.putAll(extraMetadata);
        return b;
    }

    /** Name → tensor (model and optimizer), in order; unmodifiable. */
    public Map<String, StoredTensor> tensors() {
        return tensors;
    }

    /** Whether a tensor of this name is present. */
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor {@code name}, which must have exactly the shape the model expects.
     *
     * @throws CheckpointException "missing: ..." or "mismatched: weight_hh_l0 is [16, 4] in
     *                             the file, the model needs [16, 5]", naming the file
     */
    public StoredTensor require(String name, int... shape) throws CheckpointException {
        return SafeTensors.require(tensors, source, name, shape);
    }

    /** The model's configuration, a JSON object as the caller wrote it. */
    public String modelConfig() {
        return modelConfig;
    }

    /** The optimizer's description (for example its name and hyper-parameters), as given. */
    public String optimizer() {
        return optimizer;
    }

    /** Where the training data stream stood, as given (for example a batch counter). */
    public String dataPosition() {
        return dataPosition;
    }

    /** Training steps taken when this checkpoint was made. */
    public long step() {
        return step;
    }

    /** The run's random seed. */
    public long seed() {
        return seed;
    }

    /** The caller's metadata entries (not Recur's own keys), in order; unmodifiable. */
    public Map<String, String> extraMetadata() {
        return extraMetadata;
    }

    /** One caller's metadata entry, or null when absent. */
    public String metadata(String key) {
        return extraMetadata.get(key);
    }

    /** The file this checkpoint was read from, or null when it was built in memory. */
    public Path source() {
        return source;
    }

    /** The format version of the file it was read from; {@link #FORMAT_VERSION} when built in memory. */
    public int formatVersion() {
        return formatVersion;
    }

    /**
     * The metadata exactly as {@link #write} puts it in the header, without the checksum, in
     * order (see the class comment).
     */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_FORMAT, FORMAT);
        m.put(KEY_FORMAT_VERSION, Integer.toString(FORMAT_VERSION));
        m.put(KEY_MODEL_CONFIG, modelConfig);
        m.put(KEY_OPTIMIZER, optimizer);
        m.put(KEY_DATA_POSITION, dataPosition);
        m.put(KEY_STEP, Long.toString(step));
        m.put(KEY_SEED, Long.toString(seed));
        m.putAll(extraMetadata);
        return m;
    }

    /**
     * Writes this checkpoint to {@code file} in format version {@value #FORMAT_VERSION},
     * atomically: a temporary file in the same folder is written, forced to the disk and
     * renamed over {@code file}. On any failure the previous {@code file}, if there was one, is
     * left as it was and the temporary file is removed. The folder must exist.
     *
     * @throws CheckpointException naming the file when it cannot be written
     */
    public void write(Path file) throws IOException {
        write(file, SafeTensors.WriteHook.NONE);
    }

    /** {@link #write} with a hook called after each tensor, for tests that fail a write midway. */
    void write(Path file, SafeTensors.WriteHook hook) throws IOException {
        SafeTensors.write(file, tensors, metadata(), KEY_CHECKSUM, hook);
    }

    /**
     * Reads and checks a Recur checkpoint (see the class comment for everything checked).
     *
     * @throws CheckpointException naming the file and the problem
     */
    public static Checkpoint read(Path file) throws CheckpointException {
        SafeTensors st = SafeTensors.read(file);
        Map<String, String> meta = st.metadata();
        String format = meta.get(KEY_FORMAT);
        if (format == null) {
            throw new CheckpointException(file, "not a Recur checkpoint: no '" + KEY_FORMAT + "' in " + SafeTensors.METADATA_KEY
                    + " (a plain safetensors file, e.g. from PyTorch? SafeTensors.read imports its tensors)");
        }
        if (!format.equals(FORMAT)) {
            throw new CheckpointException(file, "not a Recur checkpoint: format is '" + format + "', expected '" + FORMAT + "'");
        }
        String versionText = required(file, meta, KEY_FORMAT_VERSION);
        int version;
        try {
            version = Integer.parseInt(versionText);
        } catch (NumberFormatException e) {
            throw new CheckpointException(file, "format_version is '" + versionText + "', expected an integer");
        }
        if (version > FORMAT_VERSION) {
            throw new CheckpointException(file, "written by a newer Recur: format_version " + version
                    + ", this Recur reads format_version " + FORMAT_VERSION + " and older");
        }
        if (version < 1) {
            throw new CheckpointException(file, "format_version " + version + " does not exist (the first is 1)");
        }
        String checksum = required(file, meta, KEY_CHECKSUM);
        // Version 1 hashed the data section only; version 2 hashes the header's content too.
        String actual = version == 1 ? st.dataSha256() : st.contentSha256(KEY_CHECKSUM);
        if (!checksum.equalsIgnoreCase(actual)) {
            throw new CheckpointException(file, "corrupt: checksum mismatch: the header records SHA-256 " + checksum
                    + ", the " + (version == 1 ? "data section" : "file's tensors, metadata and data") + " hash to "
                    + actual);
        }
        String modelConfig = required(file, meta, KEY_MODEL_CONFIG);
        String problem = jsonObjectProblem(modelConfig);
        if (problem != null) {
            throw new CheckpointException(file, "model_config is not a JSON object: " + problem);
        }
        long step = longValue(file, meta, KEY_STEP);
        if (step < 0) {
            throw new CheckpointException(file, "step is " + step + ", expected 0 or more");
        }
        long seed = longValue(file, meta, KEY_SEED);
        Map<String, String> extra = new LinkedHashMap<>(meta);
        RESERVED_KEYS.forEach(extra::remove);
        return new Checkpoint(st.tensors(), modelConfig, required(file, meta, KEY_OPTIMIZER),
                required(file, meta, KEY_DATA_POSITION), step, seed, extra, file, version);
    }

    private static String required(Path file, Map<String, String> meta, String key) throws CheckpointException {
        String v = meta.get(key);
        if (v == null) {
            throw new CheckpointException(file, "no '" + key + "' in " + SafeTensors.METADATA_KEY
                    + " (every Recur checkpoint has one)");
        }
        return v;
    }

    private static long longValue(Path file, Map<String, String> meta, String key) throws CheckpointException {
        String v = required(file, meta, key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(file, key + " is '" + v + "', expected an integer");
        }
    }

    /** Null when {@code json} is one JSON object, otherwise what is wrong with it. */
    static String jsonObjectProblem(String json) {
        try {
            JsonNode n = SafeTensors.JSON.readTree(json);
            if (n == null || !n.isObject()) {
                return "found " + (n == null || n.isMissingNode() ? "nothing" : n.getNodeType().toString().toLowerCase());
            }
            return null;
        } catch (JacksonException e) {
            return e.getOriginalMessage().replaceAll("\\s*\\R\\s*", " ");
        }
    }

    /** The source, training state and every tensor's shape. */
    @Override
    public String toString() {
        return "Checkpoint{" + (source == null ? "in memory" : source.toString())
                + ", format_version=" + formatVersion + ", step=" + step + ", seed=" + seed
                + ", optimizer='" + optimizer + "', data_position='" + dataPosition + "', model_config=" + modelConfig
                + ", extra=" + extraMetadata.keySet()
                + ", tensors=" + tensors.entrySet().stream().map(e -> e.getKey() + Arrays.toString(e.getValue().shape()))
                        .collect(Collectors.joining(", ", "[", "]")) + "}";
    }

    /**
     * Collects a checkpoint's parts; {@link #build} checks them. Not thread-safe; reusable.
     */
    public static final class Builder {
        private final Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        private String modelConfig = "{}";
        private String optimizer = "";
        private String dataPosition = "";
        private long step;
        private long seed;
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Adds a tensor, copying the arrays (the model may keep training on them).
         *
         * @param shape the dimensions, e.g. {@code {4 * H, I}} for {@code weight_ih_l0}
         * @param data  row-major values, {@code product(shape)} of them
         * @throws IllegalArgumentException for a taken or bad name, or a size that does not
         *                                  match the shape
         */
        public Builder tensor(String name, int[] shape, float[] data) {
            return tensor(name, new StoredTensor(shape, data));
        }

        /**
         * Adds a tensor.
         *
         * @throws IllegalArgumentException for a taken or bad name
         */
        public Builder tensor(String name, StoredTensor tensor) {
            SafeTensors.checkName(name);
            Objects.requireNonNull(tensor, "tensor");
            if (tensors.putIfAbsent(name, tensor) != null) {
                throw new IllegalArgumentException("tensor name taken: " + name);
            }
            return this;
        }

        /** Removes a tensor, if present (for {@link Checkpoint#toBuilder} users). */
        public Builder removeTensor(String name) {
            tensors.remove(name);
            return this;
        }

        /** The model's configuration, one JSON object; checked by {@link #build}. */
        public Builder modelConfig(String json) {
            this.modelConfig = Objects.requireNonNull(json, "modelConfig");
            return this;
        }

        /** A description of the optimizer, e.g. {@code adam lr=0.002 beta1=0.9 beta2=0.999}. */
        public Builder optimizer(String optimizer) {
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
            return this;
        }

        /** Where the data stream stands, e.g. {@code Integer.toString(batches.position())}. */
        public Builder dataPosition(String dataPosition) {
            this.dataPosition = Objects.requireNonNull(dataPosition, "dataPosition");
            return this;
        }

        /** Training steps taken, {@code >= 0}. */
        public Builder step(long step) {
            if (step < 0) {
                throw new IllegalArgumentException("step must be >= 0, got " + step);
            }
            this.step = step;
            return this;
        }

        /** The run's random seed. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * An extra metadata entry (a vocabulary, a normalisation, ...), kept in order.
         *
         * @throws IllegalArgumentException for one of {@link #RESERVED_KEYS} or
         *                                  {@value SafeTensors#METADATA_KEY}
         */
        public Builder metadata(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (RESERVED_KEYS.contains(key)) {
                throw new IllegalArgumentException("metadata key '" + key + "' is Recur's own; set it with its builder method");
            }
            extra.put(key, value);
            return this;
        }

        /**
         * The checkpoint.
         *
         * @throws IllegalArgumentException when the model config is not one JSON object
         */
        public Checkpoint build() {
            String problem = jsonObjectProblem(modelConfig);
            if (problem != null) {
                throw new IllegalArgumentException("modelConfig is not a JSON object: " + problem + ": " + modelConfig);
            }
            return new Checkpoint(tensors, modelConfig, optimizer, dataPosition, step, seed, extra, null, FORMAT_VERSION);
        }
    }
}
