package org.mec4j.onnx;

import java.nio.file.Path;
import java.util.Map;

/** The package's test helpers for tests in other packages (examples). */
public final class TestDataAccess {
  private TestDataAccess() {}

  public static void loadOrtFirst() {
    Ort.ENV.getVersion();
  }

  public static Path blazeFacePath() {
    return TestData.cached(TestData.BLAZEFACE);
  }

  public static Path astronautPath() {
    return TestData.astronaut();
  }

  public static Map<String, Tensor> ort(byte[] model, Map<String, Tensor> inputs) {
    return Ort.run(model, inputs);
  }

  public static double maxRelativeError(Tensor actual, Tensor expected) {
    return Ort.maxRelativeError(actual, expected);
  }
}
