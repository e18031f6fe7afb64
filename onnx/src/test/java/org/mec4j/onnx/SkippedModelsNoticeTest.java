package org.mec4j.onnx;

import org.junit.jupiter.api.Test;

/**
 * Says so when the build left out the tests on fetched models (-Dmec4j.onnx.skipModels=true, as the
 * Docker image's offline build does), so that a run without them is never silent about it.
 */
class SkippedModelsNoticeTest {
  @Test
  void sayWhetherTheModelTestsRun() {
    if (Boolean.getBoolean("mec4j.onnx.skipModels"))
      System.out.println(
          "mec4j-onnx: -Dmec4j.onnx.skipModels=true: the tests on real models (tag \"models\":"
              + " BlazeFace, PaddleOCR, FaceDetect) were left out");
  }
}
