package org.mec4j.onnx.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mec4j.onnx.OnnxExecutor;
import org.mec4j.onnx.Tensor;
import org.mec4j.onnx.TestDataAccess;

/** FaceDetect on astronaut.png (skimage's 512x512 NASA portrait): one face, where the face is. */
@Tag("models")
class FaceDetectTest {
  static {
    TestDataAccess.loadOrtFirst();
  }

  @Test
  void findsTheAstronautsFace(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("faces.png");
    List<FaceDetect.Face> faces =
        FaceDetect.run(TestDataAccess.blazeFacePath(), TestDataAccess.astronautPath(), out);
    System.out.println("FaceDetect on astronaut.png: " + faces);
    assertEquals(1, faces.size(), "faces: " + faces);
    FaceDetect.Face f = faces.get(0);
    assertTrue(f.score() > 0.75f, "score " + f.score());
    // The face: about x 170-290, y 50-190 of 512 x 512 (seen in the photo). Generous bounds.
    float cx = (f.xMin() + f.xMax()) / 2, cy = (f.yMin() + f.yMax()) / 2;
    assertTrue(cx > 180 && cx < 280, "box centre x " + cx);
    assertTrue(cy > 70 && cy < 170, "box centre y " + cy);
    float w = f.xMax() - f.xMin(), h = f.yMax() - f.yMin();
    assertTrue(w > 50 && w < 220 && h > 50 && h < 220, "box size " + w + " x " + h);
    BufferedImage written = ImageIO.read(out.toFile());
    assertTrue(Files.size(out) > 0);
    assertEquals(512, written.getWidth());
    assertEquals(512, written.getHeight());
  }

  /** The raw outputs on the photo equal ONNX Runtime's within 1e-4 relative. */
  @Test
  void rawOutputsOnThePhotoMatchOnnxRuntime() throws Exception {
    BufferedImage photo = ImageIO.read(TestDataAccess.astronautPath().toFile());
    Tensor input = FaceDetect.input(photo);
    byte[] model = Files.readAllBytes(TestDataAccess.blazeFacePath());
    Map<String, Tensor> expected = TestDataAccess.ort(model, Map.of("input:0", input));
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      Map<String, Tensor> actual = x.run(Map.of("input:0", input));
      for (String name : expected.keySet()) {
        double e = TestDataAccess.maxRelativeError(actual.get(name), expected.get(name));
        System.out.printf("BlazeFace on astronaut.png, %s: max relative error %.3g%n", name, e);
        assertTrue(e <= 1e-4, name + ": " + e);
      }
    }
  }
}
