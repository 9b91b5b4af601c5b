package dev.recur.interop.onnx;

/**
 * A model that cannot be written as ONNX, with a one-line reason naming what stands in the way
 * (a model kind, a cell, a missing parameter).
 */
public final class OnnxExportException extends Exception {

    public OnnxExportException(String message) {
        super(message);
    }
}
