package dev.recur.models.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Named tensors and string metadata in the
 * <a href="https://github.com/huggingface/safetensors">safetensors</a> format, the format of
 * Recur's checkpoints and of PyTorch's {@code safetensors.torch.save_file}.
 *
 * <h2>The format</h2>
 * <pre>
 *   [8 bytes]  N, an unsigned little-endian 64-bit integer
 *   [N bytes]  the header: UTF-8 JSON, one object
 *              { "__metadata__": {"key": "value", ...},          (optional, strings only)
 *                "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]},
 *                ... }
 *              padded at the end with spaces (Recur and the reference writer pad to a
 *              multiple of 8 bytes, so the data starts 8-byte aligned)
 *   [rest]     the data section: each tensor's values, row-major, little-endian, at bytes
 *              [begin, end) counted from the start of the data section
 * </pre>
 *
 * <p>This class is the plain layer: it reads any valid safetensors file, with or without
 * {@code __metadata__} (for example a PyTorch {@code nn.LSTM} state dict saved with
 * {@code safetensors.torch.save_file}, whose names {@code weight_ih_l0}, {@code bias_hh_l0},
 * ... are Recur's names too), and writes float32 files. {@link Checkpoint} builds Recur's
 * checkpoints on top of it (format version, checksum, training state).
 *
 * <h2>What {@link #read} accepts</h2>
 * Everything below is checked before a value is used, and any failure is a
 * {@link CheckpointException} naming the file and the problem: the file exists and is at least
 * 8 bytes long; {@code N} is at most the rest of the file and at most 100,000,000 (the limit of
 * the reference implementation); the header is one JSON object with no duplicate keys and
 * nothing after it but spaces; {@code __metadata__}, when present, maps strings to strings;
 * every other entry has a known dtype, a shape of non-negative integers and two offsets
 * {@code begin <= end} whose span is exactly elements × dtype size; sorted by offset, the
 * tensors tile the data section with no overlap and no gap, and end exactly where the file
 * ends (shorter is "truncated", longer is "trailing bytes"). Dtypes F32 (bit-exact), F16 and
 * BF16 (exact) and F64 (rounded to float32) are read; the other safetensors dtypes (integers,
 * bool, 8-bit floats) are refused by name.
 *
 * <p>Instances are immutable: the tensors keep their order (the header's order after a read,
 * insertion order otherwise).
 */
public final class SafeTensors {

    /** The header key of the string-to-string metadata map. */
    public static final String METADATA_KEY = "__metadata__";

    /** The largest header {@link #read} accepts, in bytes; the reference implementation's limit. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Bytes read or written per I/O call; a multiple of every dtype size. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** Strict: duplicate keys and anything after the header object are errors. */
    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Map<String, StoredTensor> tensors; // unmodifiable, ordered
    private final Map<String, String> metadata;      // unmodifiable, ordered
    private final Path source;                       // null when built in memory
    private final String dataSha256;                 // null when built in memory
    private final List<Layout> layout;               // header order; null when built in memory

    /**
     * Tensors and metadata in memory, ready to {@link #write}.
     *
     * @param tensors  name → tensor, in the order to write them; names must be non-empty and
     *                 not {@value #METADATA_KEY}
     * @param metadata key → value, written as {@code __metadata__} unless empty
     * @throws IllegalArgumentException for a bad name or a null key, value or tensor
     */
    public SafeTensors(Map<String, StoredTensor> tensors, Map<String, String> metadata) {
        this(copyTensors(tensors), copyMetadata(metadata), null, null, null);
    }

    private SafeTensors(Map<String, StoredTensor> tensors, Map<String, String> metadata, Path source, String dataSha256,
                        List<Layout> layout) {
        this.layout = layout;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.source = source;
        this.dataSha256 = dataSha256;
    }

    private static Map<String, StoredTensor> copyTensors(Map<String, StoredTensor> tensors) {
        Map<String, StoredTensor> copy = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            checkName(name);
            if (t == null) {
                throw new IllegalArgumentException("tensor '" + name + "' is null");
            }
            copy.put(name, t);
        });
        return copy;
    }

    static void checkName(String name) {
        if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
            throw new IllegalArgumentException("bad tensor name: " + (name == null ? "null" : "'" + name + "'"));
        }
    }

    private static Map<String, String> copyMetadata(Map<String, String> metadata) {
        Map<String, String> copy = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException("metadata key or value is null: " + k + " = " + v);
            }
            copy.put(k, v);
        });
        return copy;
    }

    /** Name → tensor, in order; unmodifiable. */
    public Map<String, StoredTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map, in order; empty when the file has none; unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file these tensors were read from, or null when they were built in memory. */
    public Path source() {
        return source;
    }

    /**
     * The SHA-256 of the data section as {@link #read} found it, as 64 lower-case hex digits:
     * the hash of the file's bytes from offset {@code 8 + N} to the end, that is of every
     * tensor's little-endian bytes in the order of their offsets. The header is not hashed.
     * Null when the tensors were built in memory.
     */
    public String dataSha256() {
        return dataSha256;
    }

    /**
     * The SHA-256 of the whole content as {@link #read} found it, header and data: every tensor's
     * name, dtype, shape and offsets in header order, every metadata entry but {@code checksumKey}
     * in order, and the data section's SHA-256 (see {@link #contentSha256Of}). A change to any of
     * them changes it; what it leaves out is only the JSON's spelling (spaces, key quoting), which
     * decides nothing. Null when the tensors were built in memory.
     */
    public String contentSha256(String checksumKey) {
        return layout == null ? null : contentSha256(layout, metadata, checksumKey, HexFormat.of().parseHex(dataSha256));
    }

    /** One tensor's place in a file, as the header gives it. */
    record Layout(String name, String dtype, int[] shape, long begin, long end) {
    }

    /** What {@link #contentSha256(String)} of the file that {@link #write} makes of these would be. */
    static String contentSha256Of(Map<String, StoredTensor> tensors, Map<String, String> metadata, String checksumKey) {
        List<Layout> layout = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, StoredTensor> e : tensors.entrySet()) {
            long end = offset + 4L * e.getValue().size();
            layout.add(new Layout(e.getKey(), DType.F32.name(), e.getValue().shape(), offset, end));
            offset = end;
        }
        return contentSha256(layout, metadata, checksumKey, HexFormat.of().parseHex(sha256Of(tensors)));
    }

    private static String contentSha256(List<Layout> layout, Map<String, String> metadata, String checksumKey,
                                        byte[] dataDigest) {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            writeString(out, "recur safetensors content 1");
            out.writeInt(layout.size());
            for (Layout l : layout) {
                writeString(out, l.name());
                writeString(out, l.dtype());
                out.writeInt(l.shape().length);
                for (int d : l.shape()) {
                    out.writeInt(d);
                }
                out.writeLong(l.begin());
                out.writeLong(l.end());
            }
            List<Map.Entry<String, String>> meta = metadata.entrySet().stream()
                    .filter(e -> !e.getKey().equals(checksumKey)).toList();
            out.writeInt(meta.size());
            for (Map.Entry<String, String> e : meta) {
                writeString(out, e.getKey());
                writeString(out, e.getValue());
            }
            out.write(dataDigest);
            out.flush();
            return HexFormat.of().formatHex(sha256().digest(bytes.toByteArray()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    private static void writeString(java.io.DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    /** Whether a tensor of this name is present. */
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor {@code name}, which must have exactly the shape the caller expects.
     *
     * @param name  the tensor's name, e.g. {@code weight_hh_l0}
     * @param shape the shape the model needs, e.g. {@code 4 * hidden, hidden}
     * @throws CheckpointException "missing: ..." when there is no such tensor (the message
     *                             lists some of the names present), "mismatched: weight_hh_l0 is
     *                             [16, 4] in the file, the model needs [16, 5]" when the shape
     *                             differs
     */
    public StoredTensor require(String name, int... shape) throws CheckpointException {
        return require(tensors, source, name, shape);
    }

    static StoredTensor require(Map<String, StoredTensor> tensors, Path source, String name, int... shape)
            throws CheckpointException {
        StoredTensor t = tensors.get(name);
        String where = source == null ? "the checkpoint" : "the file";
        if (t == null) {
            List<String> names = new ArrayList<>(tensors.keySet());
            String present = names.isEmpty() ? "it holds no tensors"
                    : "it holds " + names.size() + ": " + String.join(", ", names.subList(0, Math.min(12, names.size())))
                    + (names.size() > 12 ? ", ..." : "");
            throw new CheckpointException(source, "missing: the model needs " + name + " " + Arrays.toString(shape)
                    + ", " + where + " has no tensor of that name (" + present + ")");
        }
        if (!t.hasShape(shape)) {
            throw new CheckpointException(source, "mismatched: " + name + " is " + Arrays.toString(t.shape())
                    + " in " + where + ", the model needs " + Arrays.toString(shape));
        }
        return t;
    }

    @Override
    public String toString() {
        return "SafeTensors{" + (source == null ? "in memory" : source.toString()) + ", tensors="
                + tensors.entrySet().stream().map(e -> e.getKey() + Arrays.toString(e.getValue().shape()))
                        .collect(Collectors.joining(", ", "[", "]"))
                + ", metadata=" + metadata + "}";
    }

    // ------------------------------------------------------------------------------------ write

    /**
     * Writes the tensors as float32 and the metadata to {@code file}, replacing it atomically:
     * the bytes go to a temporary file in the same folder, which is flushed to the disk and then
     * renamed over {@code file}. A crash or an error leaves either the old file or the new one,
     * never a mix, and the temporary file is removed on error. The folder must exist.
     *
     * @throws CheckpointException when the file cannot be written (the message names it and why)
     */
    public void write(Path file) throws IOException {
        write(file, tensors, metadata, null, WriteHook.NONE);
    }

    /** Called by the writer after each tensor's bytes; tests throw from it to fail a write midway. */
    interface WriteHook {
        WriteHook NONE = name -> { };

        void afterTensor(String name) throws IOException;
    }

    /**
     * The writer behind {@link #write} and {@link Checkpoint#write}.
     *
     * @param checksumKey when not null, the SHA-256 of the whole content (hex, see
     *                    {@link #contentSha256(String)}) is added to the metadata under this key,
     *                    after the given entries
     */
    static void write(Path file, Map<String, StoredTensor> tensors, Map<String, String> metadata,
                      String checksumKey, WriteHook hook) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        if (checksumKey != null) {
            meta.put(checksumKey, contentSha256Of(tensors, metadata, checksumKey));
        }
        byte[] header = header(tensors, meta);
        AtomicFiles.replace(file, channel -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length).flip();
            writeFully(channel, buf);
            writeFully(channel, ByteBuffer.wrap(header));
            for (Map.Entry<String, StoredTensor> e : tensors.entrySet()) {
                float[] data = e.getValue().dataView();
                for (int done = 0; done < data.length; ) {
                    int n = Math.min(data.length - done, CHUNK_BYTES / 4);
                    buf.clear();
                    buf.asFloatBuffer().put(data, done, n);
                    buf.limit(4 * n);
                    writeFully(channel, buf);
                    done += n;
                }
                hook.afterTensor(e.getKey());
            }
        });
    }

    /** SHA-256 (hex) of the data section the writer will produce for these tensors. */
    static String sha256Of(Map<String, StoredTensor> tensors) {
        MessageDigest sha = sha256();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (StoredTensor t : tensors.values()) {
            float[] data = t.dataView();
            for (int done = 0; done < data.length; ) {
                int n = Math.min(data.length - done, CHUNK_BYTES / 4);
                buf.clear();
                buf.asFloatBuffer().put(data, done, n);
                sha.update(buf.array(), 0, 4 * n);
                done += n;
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java platform has SHA-256", e);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does. */
    private static byte[] header(Map<String, StoredTensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, StoredTensor> e : tensors.entrySet()) {
            StoredTensor t = e.getValue();
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", "F32");
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.size();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    // ------------------------------------------------------------------------------------- read

    /** One tensor entry of a header, validated. */
    private record Entry(String name, DType dtype, int[] shape, int count, long begin, long end) {
        String describe() {
            return "'" + name + "' [" + begin + ", " + end + ")";
        }
    }

    /**
     * Reads every tensor (converted to float32) and the metadata of a safetensors file,
     * checking the whole structure first (see the class comment). Does not interpret the
     * metadata: {@link Checkpoint#read} checks Recur's format version and checksum on top.
     *
     * @throws CheckpointException when the file is missing, unreadable or not a valid
     *                             safetensors file; the message names the file and the problem
     */
    public static SafeTensors read(Path file) throws CheckpointException {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file, "is a folder, not a file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new CheckpointException(file, "is not a regular file (a pipe or a device?); give a checkpoint file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch);
        } catch (CheckpointException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new CheckpointException(file, "permission denied", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e, e);
        }
    }

    private static SafeTensors read(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new CheckpointException(file, "too short: " + size + " bytes, not even the 8-byte header length"
                    + " a safetensors file starts with");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.flip().getLong(); // unsigned in the format: a "negative" value is > 2^63
        if (n < 0 || n > size - 8) {
            throw new CheckpointException(file, "header length " + Long.toUnsignedString(n)
                    + " is larger than the file (" + size + " bytes); not a safetensors file, or truncated");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(file, ch, headerBuf, 8);
        JsonNode root = parseHeader(file, headerBuf.array());

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> p : root.properties()) {
            if (p.getKey().equals(METADATA_KEY)) {
                readMetadata(file, p.getValue(), metadata);
            } else {
                entries.add(entry(file, p.getKey(), p.getValue()));
            }
        }

        long dataStart = 8 + n;
        long dataLength = size - dataStart;
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin < covered) {
                throw new CheckpointException(file, "tensors " + previous.describe() + " and " + e.describe()
                        + " overlap in the data section");
            }
            if (e.begin > covered) {
                throw new CheckpointException(file, "bytes [" + covered + ", " + e.begin
                        + ") of the data section belong to no tensor (a gap before " + e.describe() + ")");
            }
            covered = e.end;
            previous = e;
        }
        if (covered > dataLength) {
            throw new CheckpointException(file, "truncated: the header describes " + covered
                    + " bytes of tensor data, the file holds only " + dataLength + " (it is " + size
                    + " bytes, " + (dataStart + covered) + " expected; "
                    + (previous == null ? "" : "tensor " + previous.describe() + " reaches past the end") + ")");
        }
        if (covered < dataLength) {
            throw new CheckpointException(file, "trailing bytes: " + (dataLength - covered)
                    + " bytes after the last tensor's data (the header describes " + covered
                    + " bytes of tensor data, the file holds " + dataLength + ")");
        }

        // The tensors tile [0, dataLength) in this order, so hashing them in turn hashes exactly
        // the data section.
        MessageDigest sha = sha256();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Entry e : byOffset) {
            float[] dst = new float[e.count]; // [product of shape]
            long bytes = e.end - e.begin;
            int filled = 0;
            for (long done = 0; done < bytes; ) {
                int chunk = (int) Math.min(bytes - done, CHUNK_BYTES);
                buf.clear().limit(chunk);
                readFully(file, ch, buf, dataStart + e.begin + done);
                sha.update(buf.array(), 0, chunk);
                buf.flip();
                int elements = chunk / e.dtype.bytes;
                e.dtype.decode(buf, dst, filled, elements);
                filled += elements;
                done += chunk;
            }
            values.put(e.name, dst);
        }
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        List<Layout> layout = new ArrayList<>();
        for (Entry e : entries) {
            tensors.put(e.name, new StoredTensor(e.shape, values.get(e.name), true));
            layout.add(new Layout(e.name, e.dtype.name(), e.shape, e.begin, e.end));
        }
        return new SafeTensors(tensors, metadata, file, HexFormat.of().formatHex(sha.digest()), layout);
    }

    private static JsonNode parseHeader(Path file, byte[] header) throws CheckpointException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "malformed JSON header: not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (header line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new CheckpointException(file, "malformed JSON header: " + oneLine(e.getOriginalMessage()) + where, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "malformed JSON header: expected one JSON object, found "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        return root;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ");
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) throws CheckpointException {
        if (node.isNull()) {
            return; // the reference implementation writes nothing, but its reader accepts null
        }
        if (!node.isObject()) {
            throw new CheckpointException(file, METADATA_KEY + " must be an object of strings, found " + node.getNodeType().toString().toLowerCase());
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(file, METADATA_KEY + " must map strings to strings; '" + m.getKey()
                        + "' is " + m.getValue().getNodeType().toString().toLowerCase() + " " + m.getValue());
            }
            into.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Entry entry(Path file, String name, JsonNode node) throws CheckpointException {
        String what = "tensor '" + name + "'";
        if (name.isEmpty()) {
            throw new CheckpointException(file, "a tensor has an empty name");
        }
        if (!node.isObject()) {
            throw new CheckpointException(file, what + ": expected an object with dtype, shape and data_offsets, found " + node);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(file, what + ": dtype missing or not a string");
        }
        String dtypeName = dtypeNode.textValue();
        DType dtype = DType.byName(dtypeName);
        if (dtype == null) {
            if (DType.SAFETENSORS_NAMES.contains(dtypeName)) {
                throw new CheckpointException(file, what + " has dtype " + dtypeName
                        + ", which Recur does not read (it reads F32, F16, BF16 and F64)");
            }
            throw new CheckpointException(file, what + " has unknown dtype '" + dtypeName + "'");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(file, what + ": shape missing or not an array");
        }
        int[] shape = new int[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw new CheckpointException(file, what + ": shape " + shapeNode + " must hold integers from 0 to "
                        + Integer.MAX_VALUE);
            }
            shape[i] = d.intValue();
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !isNonNegativeLong(offsets.get(0)) || !isNonNegativeLong(offsets.get(1))) {
            throw new CheckpointException(file, what + ": data_offsets must be [begin, end], two non-negative integers, found " + offsets);
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (end < begin) {
            throw new CheckpointException(file, what + ": data_offsets " + offsets + " end before they begin");
        }
        long count = 1;
        for (int d : shape) {
            count *= d; // cannot overflow before exceeding the limit below: each d < 2^31, checked in turn
            if (count > Integer.MAX_VALUE - 8) {
                throw new CheckpointException(file, what + ": shape " + Arrays.toString(shape)
                        + " has more elements than a Java array holds");
            }
        }
        long bytes = count * dtype.bytes;
        if (end - begin != bytes) {
            throw new CheckpointException(file, what + ": data_offsets " + offsets + " span " + (end - begin)
                    + " bytes, but shape " + Arrays.toString(shape) + " of " + dtypeName + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, (int) count, begin, end);
    }

    private static boolean isNonNegativeLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0;
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, at);
            if (r < 0) {
                throw new CheckpointException(file, "truncated: the file ended at byte " + at + " while reading");
            }
            at += r;
        }
    }
}
