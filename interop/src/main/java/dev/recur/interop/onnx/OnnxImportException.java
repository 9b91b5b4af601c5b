package dev.recur.interop.onnx;

/**
 * An ONNX file that cannot be read as a Recur model, with a one-line reason naming what stands in
 * the way: the first node that cannot be mapped (its op type and name), a malformed tensor, a
 * cycle, or a truncated file.
 */
public final class OnnxImportException extends Exception {

    public OnnxImportException(String message) {
        super(message);
    }
}
