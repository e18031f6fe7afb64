package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mec4j.onnx.Graphs.ints;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;

/**
 * Bad models and inputs: an {@link OnnxModelException} that names the node (or the input), never
 * another exception, a crash or a hang.
 */
class BadInputTest {
  static {
    Ort.ENV.getVersion(); // the same load order as the other tests' JVM
  }

  static void assertMessage(OnnxModelException e, String... parts) {
    for (String p : parts)
      assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
  }

  /** A small valid model: Conv (named conv1) then Relu, input [1, 2, 5, 5]. */
  static Graphs small() {
    return Graphs.create()
        .input("X", 1, 2, 5, 5)
        .output("Y")
        .init("W", TestData.random(3 * 2 * 9, 1), 3, 2, 3, 3)
        .node("Conv", "conv1", List.of("X", "W"), List.of("a"), ints("pads", 1, 1, 1, 1))
        .node("Relu", "relu1", List.of("a"), List.of("Y"));
  }

  @Test
  void truncatedFile() {
    byte[] model = small().bytes();
    for (int len : new int[] {model.length - 1, model.length / 2, 40, 3}) {
      byte[] cut = Arrays.copyOf(model, len);
      OnnxModelException e =
          assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(cut), "length " + len);
      assertTrue(
          e.getMessage().contains("ONNX model") || e.getMessage().contains("node"), e.getMessage());
    }
  }

  @Test
  void emptyAndNonOnnxFiles() {
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(new byte[0])), "no graph");
    byte[] text = "<html>not a model</html>".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(text));
  }

  @Test
  @Tag("models")
  void truncatedRealModel() throws Exception {
    byte[] model = TestData.blazeFace();
    for (int len : new int[] {model.length - 7, model.length * 2 / 3, model.length / 3, 1000}) {
      byte[] cut = Arrays.copyOf(model, len);
      assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(cut), "length " + len);
    }
  }

  /**
   * Seeded byte flips and overwritten runs over a small model: each loads and runs, or throws
   * OnnxModelException; nothing else escapes.
   */
  @Test
  void corruptedFiles() {
    byte[] model = small().bytes();
    SplittableRandom r = new SplittableRandom(7);
    Tensor input = Tensor.of(TestData.random(50, 2), 1, 2, 5, 5);
    for (int trial = 0; trial < 400; trial++) {
      byte[] bad = model.clone();
      int flips = 1 + r.nextInt(4);
      for (int k = 0; k < flips; k++) {
        int at = r.nextInt(bad.length);
        bad[at] = trial % 2 == 0 ? (byte) (bad[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
      }
      try (OnnxExecutor x = OnnxExecutor.load(bad)) {
        for (String name : x.inputNames()) x.run(Map.of(name, input));
      } catch (OnnxModelException expected) {
        // the message names what is wrong
      }
    }
  }

  @Test
  void wrongInputShape() {
    try (OnnxExecutor x = OnnxExecutor.load(small().bytes())) {
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("X", Tensor.of(new float[75], 1, 3, 5, 5)))),
          "input 'X'",
          "[1, 3, 5, 5]",
          "[1, 2, 5, 5]");
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("X", Tensor.of(new float[50], 2, 5, 5)))),
          "input 'X'");
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("Y", Tensor.of(new float[50], 1, 2, 5, 5)))),
          "'X' is missing");
    }
  }

  @Test
  void wrongChannelsOnADynamicInputNameTheConv() {
    Graphs g =
        Graphs.create()
            .input("X", -1, -1, -1, -1)
            .output("Y")
            .init("W", TestData.random(3 * 2 * 9, 1), 3, 2, 3, 3)
            .node("Conv", "conv1", List.of("X", "W"), List.of("Y"));
    try (OnnxExecutor x = OnnxExecutor.load(g.bytes())) {
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("X", Tensor.of(new float[4 * 25], 1, 4, 5, 5)))),
          "node 'conv1' (Conv)",
          "4 channels");
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("X", Tensor.of(new float[2 * 4], 1, 2, 2, 2)))),
          "node 'conv1' (Conv)");
    }
  }

  @Test
  @Tag("models")
  void wrongInputShapeOnBlazeFace() throws Exception {
    try (OnnxExecutor x = OnnxExecutor.load(TestData.blazeFace())) {
      assertMessage(
          assertThrows(
              OnnxModelException.class,
              () -> x.run(Map.of("input:0", Tensor.of(new float[3 * 128 * 128], 1, 3, 128, 128)))),
          "input 'input:0'",
          "[1, 128, 128, 3]");
    }
  }

  @Test
  void unknownOp() {
    Graphs g = small().node("FancyAttention", "attn7", List.of("Y"), List.of("Z")).output("Z");
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(g.bytes())),
        "node 'attn7' (FancyAttention)",
        "not supported");
  }

  @Test
  void unnamedNodeIsNamedByItsOutput() {
    Graphs g = small().node("FancyAttention", "", List.of("Y"), List.of("Z")).output("Z");
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(g.bytes())),
        "node producing 'Z' (FancyAttention)");
  }

  @Test
  void weightOfTheWrongSize() {
    ModelProto m = small().model();
    TensorProto w = m.getGraph().getInitializer(0);
    ModelProto bad =
        m.toBuilder()
            .setGraph(
                m.getGraph().toBuilder()
                    .setInitializer(
                        0, w.toBuilder().setRawData(w.getRawData().substring(0, 50 * 4))))
            .build();
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(bad.toByteArray())),
        "node 'conv1' (Conv)",
        "'W'",
        "200 bytes");
    // Values that fit their dims, but dims that are no convolution's weights.
    ModelProto threeD =
        m.toBuilder()
            .setGraph(
                m.getGraph().toBuilder()
                    .setInitializer(0, w.toBuilder().clearDims().addDims(3).addDims(2).addDims(9)))
            .build();
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(threeD.toByteArray())),
        "node 'conv1' (Conv)",
        "4-D weights");
    Graphs wrongBias =
        Graphs.create()
            .input("X", 1, 2, 5, 5)
            .output("Y")
            .init("W", TestData.random(3 * 2 * 9, 1), 3, 2, 3, 3)
            .init("B", new float[] {1, 2}, 2)
            .node("Conv", "conv1", List.of("X", "W", "B"), List.of("Y"));
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(wrongBias.bytes())),
        "node 'conv1' (Conv)",
        "bias");
  }

  @Test
  void weightsThatAreNotConstant() {
    Graphs g =
        Graphs.create()
            .input("X", 1, 2, 5, 5)
            .input("W", 3, 2, 3, 3)
            .output("Y")
            .node("Conv", "conv1", List.of("X", "W"), List.of("Y"));
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(g.bytes())),
        "node 'conv1' (Conv)",
        "not a constant");
  }

  @Test
  void inputNobodyProduces() {
    Graphs g = small().node("Relu", "relu2", List.of("nowhere"), List.of("Z")).output("Z");
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(g.bytes())),
        "node 'relu2' (Relu)",
        "'nowhere'");
  }

  @Test
  void externalData() {
    ModelProto m = small().model();
    TensorProto w = m.getGraph().getInitializer(0);
    ModelProto ext =
        m.toBuilder()
            .setGraph(
                m.getGraph().toBuilder()
                    .setInitializer(
                        0,
                        w.toBuilder()
                            .clearRawData()
                            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                            .addExternalData(
                                org.mec4j.onnx.proto.Onnx.StringStringEntryProto.newBuilder()
                                    .setKey("location")
                                    .setValue("w.bin"))))
            .build();
    assertMessage(
        assertThrows(OnnxModelException.class, () -> OnnxExecutor.load(ext.toByteArray())),
        "node 'conv1' (Conv)",
        "external data");
  }

  /** An input declared without a shape (found by the loader fuzzer): any shape is taken. */
  @Test
  void inputWithoutDeclaredShape() {
    Graphs g = small();
    g.inputs.set(0, org.mec4j.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName("X").build());
    try (OnnxExecutor x = OnnxExecutor.load(g.bytes())) {
      assertEquals(List.of("X"), x.inputNames());
      assertNull(x.inputShape("X"));
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> x.inputShape("Y"))
              .getMessage()
              .contains("no input 'Y'"));
      Tensor y = x.run(Map.of("X", Tensor.of(TestData.random(2 * 25, 3), 1, 2, 5, 5))).get("Y");
      assertArrayEquals(new long[] {1, 3, 5, 5}, y.shape());
    }
  }
}
