package org.mec4j.onnx;

/**
 * An ONNX model that cannot be read or run: a file that is not an ONNX model, an op the executor
 * does not have, a weight of the wrong size, an input of the wrong shape. The message names the
 * node (its name and op type) or the graph input concerned.
 */
public class OnnxModelException extends IllegalArgumentException {
  public OnnxModelException(String message) {
    super(message);
  }

  public OnnxModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
