package org.mec4j.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.HashMap;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the loader and the executor (Jazzer): any bytes either load and run on
 * a zero input of the model's declared shape, or throw {@link OnnxModelException}; any other
 * exception, a crash or a hang is a finding.
 *
 * <p>Every build runs it as a regression test over the seeds in src/test/resources
 * (LoaderFuzzTestInputs/fuzzLoader: small hand-made models). The build's {@code fuzz-loader}
 * execution fuzzes it for {@link #DURATION}, seeded with the real models too (BlazeFace and
 * PaddleOCR's classifier, which fetch-test-data.sh puts in the cache's fuzz-seeds/).
 */
class LoaderFuzzTest {
  static final String DURATION = "45s";

  static {
    Ort.ENV.getVersion(); // the same load order as the other tests' JVM
  }

  @FuzzTest(maxDuration = DURATION)
  void fuzzLoader(byte[] model) {
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      Map<String, Tensor> inputs = new HashMap<>();
      for (String name : x.inputNames()) {
        long[] shape = x.inputShape(name);
        if (shape == null) return;
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
          // dynamic sizes: batch 1, else 32 (PaddleOCR's sizes are multiples of 32)
          if (shape[d] < 0) shape[d] = d == 0 ? 1 : 32;
          n *= shape[d];
        }
        if (n > (1 << 18)) return; // a large declared input: loading was the test
        inputs.put(name, Tensor.of(new float[(int) n], shape));
      }
      x.run(inputs);
    } catch (OnnxModelException expected) {
      // a clear refusal, naming the node or input
    }
  }
}
