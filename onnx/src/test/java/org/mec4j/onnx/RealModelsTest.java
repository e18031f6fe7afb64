package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;

/**
 * Whole real models in the executor against ONNX Runtime on the same input: every output within
 * 1e-4 relative, |a - b| &lt;= 1e-4 max(1, |b|) element by element.
 */
@Tag("models")
class RealModelsTest {
  static final double TOLERANCE = 1e-4;

  static {
    Ort.ENV.getVersion(); // ONNX Runtime loads before mec4j
  }

  static void compare(String name, byte[] model, Map<String, Tensor> inputs) {
    Map<String, Tensor> expected = Ort.run(model, inputs);
    Map<String, Tensor> actual;
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      actual = x.run(inputs);
    }
    assertEquals(expected.keySet(), actual.keySet(), name + ": outputs");
    for (String out : expected.keySet()) {
      double e = Ort.maxRelativeError(actual.get(out), expected.get(out));
      System.out.printf("%s output %s: max relative error %.3g%n", name, out, e);
      assertTrue(e <= TOLERANCE, name + " output " + out + ": max relative error " + e);
    }
  }

  @Test
  void blazeFaceOnRandomInput() throws Exception {
    compare(
        "BlazeFace",
        TestData.blazeFace(),
        Map.of("input:0", Tensor.of(TestData.random(128 * 128 * 3, 1), 1, 128, 128, 3)));
  }

  /**
   * Later runs (the kernels packed once where MEC_FUSED runs) give ONNX Runtime's outputs too, and
   * the same bits every time.
   */
  @Test
  void blazeFaceRunsAgainWithPackedKernels() throws Exception {
    byte[] model = TestData.blazeFace();
    Map<String, Tensor> in =
        Map.of("input:0", Tensor.of(TestData.random(128 * 128 * 3, 8), 1, 128, 128, 3));
    Map<String, Tensor> expected = Ort.run(model, in);
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      Map<String, Tensor> previous = null;
      for (int run = 0; run < 3; run++) {
        Map<String, Tensor> actual = x.run(in);
        for (String out : expected.keySet()) {
          double e = Ort.maxRelativeError(actual.get(out), expected.get(out));
          assertTrue(e <= TOLERANCE, "run " + run + ", " + out + ": " + e);
          if (run == 2)
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                previous.get(out).floats(), actual.get(out).floats(), out);
        }
        previous = actual;
      }
      int packed = x.packedConvolutions();
      System.out.println("BlazeFace: " + packed + " of 37 convolutions on packed kernels");
      assertTrue(packed > 0, "no convolution ran on a packed kernel");
    }
  }

  @Test
  void paddleClsOnRandomInput() throws Exception {
    compare(
        "PaddleOCR cls",
        withLogits(TestData.paddle(TestData.CLS), "Softmax", 2),
        Map.of("x", Tensor.of(TestData.random(3 * 48 * 192, 2), 1, 3, 48, 192)));
  }

  /**
   * The model with the input of its last op of this type as a graph output too: the detectors end
   * in a sigmoid, the recognisers in a softmax, which would hide errors in the logits.
   */
  static byte[] withLogits(byte[] model, String opType, int rank) throws Exception {
    ModelProto m = ModelProto.parseFrom(model);
    String logits = null;
    for (NodeProto n : m.getGraph().getNodeList())
      if (n.getOpType().equals(opType)) logits = n.getInput(0);
    assertTrue(logits != null, "no " + opType);
    long[] dynamic = new long[rank];
    java.util.Arrays.fill(dynamic, -1);
    return m.toBuilder()
        .setGraph(m.getGraph().toBuilder().addOutput(Graphs.value(logits, dynamic)))
        .build()
        .toByteArray();
  }

  @Test
  void paddleDetV3() throws Exception {
    compare(
        "PaddleOCR det v3",
        withLogits(TestData.paddle(TestData.DET_V3), "Sigmoid", 4),
        Map.of("x", Tensor.of(TestData.random(3 * 96 * 128, 3), 1, 3, 96, 128)));
  }

  @Test
  void paddleDetV4() throws Exception {
    compare(
        "PaddleOCR det v4",
        withLogits(TestData.paddle(TestData.DET_V4), "Sigmoid", 4),
        Map.of("x", Tensor.of(TestData.random(3 * 96 * 128, 4), 1, 3, 96, 128)));
  }

  @Test
  void paddleRecV3() throws Exception {
    compare(
        "PaddleOCR rec v3",
        withLogits(TestData.paddle(TestData.REC_V3), "Softmax", 3),
        Map.of("x", Tensor.of(TestData.random(3 * 48 * 160, 5), 1, 3, 48, 160)));
  }

  @Test
  void paddleRecV4() throws Exception {
    compare(
        "PaddleOCR rec v4",
        withLogits(TestData.paddle(TestData.REC_V4), "Softmax", 3),
        Map.of("x", Tensor.of(TestData.random(3 * 48 * 160, 6), 1, 3, 48, 160)));
  }

  /** Every Conv and ConvTranspose node of every model becomes a layer, weights and bias mapped. */
  @Test
  void everyConvNodeOfEveryModelMaps() throws Exception {
    List<byte[]> models = new ArrayList<>();
    List<String> names = new ArrayList<>(List.of(TestData.PADDLE));
    for (String name : TestData.PADDLE) models.add(TestData.paddle(name));
    models.add(TestData.blazeFace());
    names.add(TestData.BLAZEFACE);
    for (int m = 0; m < models.size(); m++) {
      ModelProto proto = ModelProto.parseFrom(models.get(m));
      List<String> convNodes = new ArrayList<>();
      for (NodeProto n : proto.getGraph().getNodeList())
        if (n.getOpType().equals("Conv") || n.getOpType().equals("ConvTranspose"))
          convNodes.add(OnnxExecutor.describe(n));
      try (OnnxExecutor x = OnnxExecutor.load(models.get(m))) {
        List<String> mapped = new ArrayList<>();
        for (ConvLayer l : x.convLayers()) {
          mapped.add(l.node());
          assertEquals(
              l.outputChannels()
                  * l.inputChannels()
                  / l.group()
                  * l.weightShape()[2]
                  * l.weightShape()[3],
              l.weights().length,
              l.node());
        }
        assertEquals(convNodes, mapped, names.get(m));
        System.out.printf("%s: %d Conv/ConvTranspose nodes mapped%n", names.get(m), mapped.size());
      }
    }
  }
}
