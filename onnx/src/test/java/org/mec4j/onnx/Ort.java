package org.mec4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ONNX Runtime (CPU provider, one thread), the reference the executor's outputs are checked
 * against.
 */
final class Ort {
  private Ort() {}

  // ONNX Runtime's native library before mec4j's BLAS (the runner found that order safer).
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Runs the model on float inputs; the float outputs as executor tensors (row-major). */
  static Map<String, Tensor> run(byte[] model, Map<String, Tensor> inputs) {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      o.setInterOpNumThreads(1);
      o.addConfigEntry("session.intra_op.allow_spinning", "0");
      try (OrtSession s = ENV.createSession(model, o)) {
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
          for (Map.Entry<String, Tensor> e : inputs.entrySet())
            feed.put(
                e.getKey(),
                OnnxTensor.createTensor(
                    ENV, FloatBuffer.wrap(e.getValue().floats()), e.getValue().shape()));
          Map<String, Tensor> out = new LinkedHashMap<>();
          try (OrtSession.Result r = s.run(feed)) {
            for (Map.Entry<String, OnnxValue> e : r) {
              OnnxTensor t = (OnnxTensor) e.getValue();
              FloatBuffer b = t.getFloatBuffer();
              float[] v = new float[b.remaining()];
              b.get(v);
              out.put(e.getKey(), Tensor.of(v, t.getInfo().getShape()));
            }
          }
          return out;
        } finally {
          for (OnnxTensor t : feed.values()) t.close();
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    }
  }

  /**
   * The largest |a - b| / max(1, |b|) over the outputs (b: ONNX Runtime's), after checking that the
   * shapes agree; the tests require at most 1e-4.
   */
  static double maxRelativeError(Tensor actual, Tensor expected) {
    if (!java.util.Arrays.equals(actual.shape(), expected.shape()))
      throw new AssertionError(
          "shape "
              + java.util.Arrays.toString(actual.shape())
              + ", ONNX Runtime's "
              + java.util.Arrays.toString(expected.shape()));
    float[] a = actual.floats(), b = expected.floats();
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double e = Math.abs((double) a[i] - b[i]) / Math.max(1.0, Math.abs(b[i]));
      if (!(e <= worst)) worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
    }
    return worst;
  }
}
