package dev.recur.models.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading whole text files as strict UTF-8, with errors that name the file and the line. */
final class TextFiles {

    /** The largest text file read whole: 512 MiB unless {@code -Drecur.data.maxBytes} says otherwise. */
    static final long MAX_BYTES = Long.getLong("recur.data.maxBytes", 512L << 20);

    private TextFiles() {
    }

    /**
     * The file's text. A UTF-8 byte-order mark at the start is dropped.
     *
     * @throws DataException no such file, a folder, unreadable, or not valid UTF-8 (naming the
     *                       line and byte offset of the first bad byte)
     */
    static String readUtf8(Path file) throws DataException {
        String source = file.toString();
        if (Files.isDirectory(file)) {
            throw new DataException(source, "is a folder, not a file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // A FIFO would block forever, a device such as /dev/zero never end.
            throw new DataException(source, "is not a regular file (a pipe or a device?); give a file");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new DataException(source, String.format(java.util.Locale.ROOT, "is %,d bytes, more than the"
                        + " %,d a data file may have here (-Drecur.data.maxBytes raises it)", size, MAX_BYTES));
            }
            bytes = Files.readAllBytes(file);
        } catch (DataException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new DataException(source, 0, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new DataException(source, 0, "permission denied", e);
        } catch (IOException e) {
            throw new DataException(source, 0, "cannot read: " + e.getMessage(), e);
        }
        return decodeUtf8(source, bytes);
    }

    static String decodeUtf8(String source, byte[] bytes) throws DataException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new DataException(source, line, String.format("not valid UTF-8 (byte 0x%02X at byte offset %d); save the file as UTF-8",
                    bytes[at] & 0xff, at));
        }
        decoder.flush(out);
        String text = out.flip().toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** A line for an error message: stripped, in quotes, cut to 60 characters. */
    static String abbreviate(String line) {
        String s = line.strip();
        return "'" + (s.length() > 60 ? s.substring(0, 57) + "..." : s) + "'";
    }
}
