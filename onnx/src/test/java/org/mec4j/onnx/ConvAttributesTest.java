package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mec4j.onnx.Graphs.f;
import static org.mec4j.onnx.Graphs.i;
import static org.mec4j.onnx.Graphs.ints;
import static org.mec4j.onnx.Graphs.s;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mec4j.Conv2d;
import org.mec4j.onnx.proto.Onnx.AttributeProto;

/**
 * Conv and ConvTranspose attributes mapped onto mec4j, each on a tiny hand-made model: the mapped
 * layer's geometry, and the executor's output against ONNX Runtime's (1e-4 relative, as {@link
 * RealModelsTest}).
 */
class ConvAttributesTest {
  static {
    Ort.ENV.getVersion(); // ONNX Runtime loads before mec4j
  }

  /** A one-node Conv/ConvTranspose model on an NCHW input, seeded weights and bias. */
  static Graphs conv(String op, long[] in, long[] weights, boolean bias, AttributeProto... attrs) {
    int wn = 1;
    for (long d : weights) wn *= (int) d;
    long outChannels = op.equals("Conv") ? weights[0] : weights[1] * group(attrs);
    Graphs g = Graphs.create().input("X", in).output("Y");
    g.init("W", TestData.random(wn, 11), weights);
    if (bias) g.init("B", TestData.random((int) outChannels, 12), outChannels);
    return g.node(
        op, "the_conv", bias ? List.of("X", "W", "B") : List.of("X", "W"), List.of("Y"), attrs);
  }

  private static long group(AttributeProto... attrs) {
    for (AttributeProto a : attrs) if (a.getName().equals("group")) return a.getI();
    return 1;
  }

  /** Runs the model in the executor and in ONNX Runtime; returns the executor's first layer. */
  static ConvLayer compareWithOrt(Graphs g, long... inputShape) {
    int n = 1;
    for (long d : inputShape) n *= (int) d;
    Map<String, Tensor> in = Map.of("X", Tensor.of(TestData.random(n, 13), inputShape));
    byte[] model = g.bytes();
    Map<String, Tensor> expected = Ort.run(model, in);
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      Map<String, Tensor> actual = x.run(in);
      for (String out : expected.keySet()) {
        double e = Ort.maxRelativeError(actual.get(out), expected.get(out));
        assertTrue(e <= 1e-4, out + ": max relative error " + e);
      }
      return x.convLayers().isEmpty() ? null : x.convLayers().get(0);
    }
  }

  @Test
  void padsAreTopLeftBottomRight() {
    long[] in = {1, 2, 7, 6};
    ConvLayer l =
        compareWithOrt(
            conv("Conv", in, new long[] {3, 2, 3, 3}, true, ints("pads", 1, 0, 2, 3)), in);
    Conv2d s = l.spec(1, 2, 7, 6);
    assertEquals(1, s.padTop());
    assertEquals(0, s.padLeft());
    assertEquals(2, s.padBottom());
    assertEquals(3, s.padRight());
    assertEquals(7 + 1 + 2 - 3 + 1, s.outputHeight());
    assertEquals(6 + 0 + 3 - 3 + 1, s.outputWidth());
  }

  @Test
  void autoPadSameUpperPutsTheOddPixelAtTheEnd() {
    long[] in = {1, 3, 7, 8};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv",
                in,
                new long[] {4, 3, 4, 3},
                true,
                s("auto_pad", "SAME_UPPER"),
                ints("strides", 2, 2)),
            in);
    Conv2d s = l.spec(1, 3, 7, 8);
    // out 4 x 4; rows: (4-1)*2 + 4 - 7 = 3 pads, 1 on top, 2 below; columns: 3*2 + 3 - 8 = 1, right
    assertEquals(
        List.of(1L, 2L, 0L, 1L), List.of(s.padTop(), s.padBottom(), s.padLeft(), s.padRight()));
    assertEquals(4, s.outputHeight());
    assertEquals(4, s.outputWidth());
  }

  @Test
  void autoPadSameLowerPutsTheOddPixelAtTheBeginning() {
    long[] in = {1, 3, 7, 8};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv",
                in,
                new long[] {4, 3, 4, 3},
                false,
                s("auto_pad", "SAME_LOWER"),
                ints("strides", 2, 2)),
            in);
    Conv2d s = l.spec(1, 3, 7, 8);
    assertEquals(
        List.of(2L, 1L, 1L, 0L), List.of(s.padTop(), s.padBottom(), s.padLeft(), s.padRight()));
  }

  @Test
  void autoPadValidHasNoPadding() {
    long[] in = {1, 3, 9, 8};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv",
                in,
                new long[] {2, 3, 3, 3},
                true,
                s("auto_pad", "VALID"),
                ints("strides", 2, 1)),
            in);
    Conv2d s = l.spec(1, 3, 9, 8);
    assertEquals(0, s.padTop() + s.padBottom() + s.padLeft() + s.padRight());
    assertEquals(4, s.outputHeight());
    assertEquals(6, s.outputWidth());
  }

  @Test
  void groups() {
    long[] in = {2, 4, 6, 5};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv", in, new long[] {6, 2, 3, 3}, true, i("group", 2), ints("pads", 1, 1, 1, 1)),
            in);
    assertEquals(2, l.spec(2, 4, 6, 5).groups());
  }

  @Test
  void depthwiseWithChannelMultiplierAndAsymmetricPads() {
    long[] in = {1, 3, 9, 9};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv",
                in,
                new long[] {6, 1, 3, 3},
                true,
                i("group", 3),
                ints("strides", 2, 2),
                ints("pads", 0, 0, 1, 1)),
            in);
    assertTrue(l.spec(1, 3, 9, 9).isDepthwise());
  }

  @Test
  void dilations() {
    long[] in = {1, 2, 11, 10};
    ConvLayer l =
        compareWithOrt(
            conv(
                "Conv",
                in,
                new long[] {3, 2, 3, 2},
                true,
                ints("dilations", 2, 3),
                ints("strides", 1, 2),
                ints("pads", 2, 1, 2, 1)),
            in);
    Conv2d s = l.spec(1, 2, 11, 10);
    assertEquals(2, s.dilationHeight());
    assertEquals(3, s.dilationWidth());
  }

  @Test
  void kernelShapeMustMatchTheWeights() {
    long[] in = {1, 2, 5, 5};
    OnnxModelException e =
        assertThrows(
            OnnxModelException.class,
            () ->
                OnnxExecutor.load(
                    conv("Conv", in, new long[] {3, 2, 3, 3}, false, ints("kernel_shape", 3, 2))
                        .bytes()));
    assertTrue(
        e.getMessage().contains("the_conv") && e.getMessage().contains("kernel_shape"),
        e.getMessage());
  }

  @Test
  void convTransposeStride2Kernel2AsInPaddleOcrDet() {
    long[] in = {1, 4, 5, 6};
    ConvLayer l =
        compareWithOrt(
            conv("ConvTranspose", in, new long[] {4, 3, 2, 2}, true, ints("strides", 2, 2)), in);
    assertTrue(l.isTransposed());
    assertEquals(List.of(1L, 3L, 10L, 12L), List.of(box(l.outputShape(1, 4, 5, 6))));
  }

  @Test
  void convTransposePadsOutputPaddingAndDilation() {
    long[] in = {2, 3, 4, 5};
    compareWithOrt(
        conv(
            "ConvTranspose",
            in,
            new long[] {3, 2, 3, 3},
            true,
            ints("strides", 2, 2),
            ints("pads", 1, 0, 1, 2),
            ints("output_padding", 1, 0)),
        in);
    compareWithOrt(
        conv(
            "ConvTranspose",
            in,
            new long[] {3, 2, 3, 2},
            false,
            ints("dilations", 2, 1),
            ints("strides", 1, 2)),
        in);
  }

  @Test
  void convTransposeGroups() {
    long[] in = {1, 4, 5, 5};
    ConvLayer l =
        compareWithOrt(
            conv(
                "ConvTranspose",
                in,
                new long[] {4, 3, 3, 3},
                true,
                i("group", 2),
                ints("strides", 2, 2),
                ints("pads", 1, 1, 1, 1)),
            in);
    assertEquals(6, l.outputChannels());
  }

  @Test
  void convTransposeRefusesWhatItCannotMap() {
    long[] in = {1, 2, 4, 4};
    OnnxModelException big =
        assertThrows(
            OnnxModelException.class,
            () ->
                OnnxExecutor.load(
                    conv(
                            "ConvTranspose",
                            in,
                            new long[] {2, 2, 3, 3},
                            false,
                            ints("strides", 2, 2),
                            ints("output_padding", 2, 0))
                        .bytes()));
    assertTrue(
        big.getMessage().contains("the_conv") && big.getMessage().contains("output_padding"),
        big.getMessage());
    OnnxModelException shape =
        assertThrows(
            OnnxModelException.class,
            () ->
                OnnxExecutor.load(
                    conv(
                            "ConvTranspose",
                            in,
                            new long[] {2, 2, 3, 3},
                            false,
                            ints("output_shape", 8, 8))
                        .bytes()));
    assertTrue(shape.getMessage().contains("output_shape"), shape.getMessage());
  }

  @Test
  void weightsFromConstantNodesFloatDataAndRawData() {
    long[] in = {1, 3, 6, 6};
    float[] w = TestData.random(2 * 3 * 3 * 3, 21);
    Graphs g =
        Graphs.create()
            .input("X", in)
            .output("Y")
            .node(
                "Constant",
                "w_const",
                List.of(),
                List.of("W"),
                Graphs.t("value", Graphs.floatData("W", w, 2, 3, 3, 3)))
            .node(
                "Constant",
                "b_const",
                List.of(),
                List.of("B"),
                Graphs.t(
                    "value", OnnxModels.floatTensor("B", new long[] {2}, new float[] {0.5f, -1f})))
            .node("Conv", "c", List.of("X", "W", "B"), List.of("Y"), ints("pads", 1, 1, 1, 1));
    ConvLayer l = compareWithOrt(g, in);
    assertEquals(w[5], l.weights()[5]);
  }

  @Test
  void reluAndClipAfterAConvAreFusedIntoIt() {
    long[] in = {1, 3, 6, 6};
    Graphs g =
        Graphs.create()
            .input("X", in)
            .output("Y")
            .output("Z")
            .init("W", TestData.random(4 * 3 * 9, 31), 4, 3, 3, 3)
            .init("lo", new float[] {0f})
            .init("hi", new float[] {0.3f})
            .node("Conv", "c1", List.of("X", "W"), List.of("a"), ints("pads", 1, 1, 1, 1))
            .node("Relu", "r1", List.of("a"), List.of("Y"))
            .node("Conv", "c2", List.of("X", "W"), List.of("b"))
            .node("Clip", "k2", List.of("b", "lo", "hi"), List.of("Z"));
    compareWithOrt(g, in);
    try (OnnxExecutor x = OnnxExecutor.load(g.bytes())) {
      assertEquals(List.of("Conv+activation", "Conv+activation"), x.plan());
    }
    // A conv output read twice stays a separate step (its value is needed as it is).
    Graphs twice =
        Graphs.create()
            .input("X", in)
            .output("Y")
            .output("a")
            .init("W", TestData.random(4 * 3 * 9, 31), 4, 3, 3, 3)
            .node("Conv", "c1", List.of("X", "W"), List.of("a"))
            .node("Relu", "r1", List.of("a"), List.of("Y"));
    compareWithOrt(twice, in);
    try (OnnxExecutor x = OnnxExecutor.load(twice.bytes())) {
      assertEquals(List.of("Conv", "Relu"), x.plan());
    }
  }

  @Test
  void hardSigmoidAttributes() {
    long[] in = {1, 2, 3, 3};
    Graphs g =
        Graphs.create()
            .input("X", in)
            .output("Y")
            .node(
                "HardSigmoid",
                "h",
                List.of("X"),
                List.of("Y"),
                f("alpha", 0.1666667f),
                f("beta", 0.5f));
    compareWithOrt(g, in);
  }

  private static Long[] box(long[] v) {
    Long[] r = new Long[v.length];
    for (int k = 0; k < v.length; k++) r[k] = v[k];
    return r;
  }
}
