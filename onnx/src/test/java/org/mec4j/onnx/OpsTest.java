package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mec4j.onnx.Graphs.f;
import static org.mec4j.onnx.Graphs.i;
import static org.mec4j.onnx.Graphs.ints;
import static org.mec4j.onnx.Graphs.s;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mec4j.onnx.proto.Onnx.AttributeProto;

/**
 * The executor's other ops against ONNX Runtime, each after a Conv so that it reads NHWC-ordered
 * values (the layout the executor keeps between convolutions) and, where it matters, on a plain
 * row-major input too.
 */
class OpsTest {
  static {
    Ort.ENV.getVersion();
  }

  static final long[] IN = {2, 3, 9, 8};

  /** X -> Conv (4 channels, 3x3, pad 1) -> c, then the given nodes, output Y. */
  static Graphs afterConv() {
    return Graphs.create()
        .input("X", IN)
        .output("Y")
        .init("W", TestData.random(4 * 3 * 9, 41), 4, 3, 3, 3)
        .init("B", TestData.random(4, 42), 4)
        .node("Conv", "conv", List.of("X", "W", "B"), List.of("c"), ints("pads", 1, 1, 1, 1));
  }

  static Graphs op(String type, List<String> in, AttributeProto... attrs) {
    return afterConv().node(type, "op", in, List.of("Y"), attrs);
  }

  static void check(Graphs g) {
    ConvAttributesTest.compareWithOrt(g, IN);
  }

  @Test
  void maxPool() {
    check(op("MaxPool", List.of("c"), ints("kernel_shape", 2, 2), ints("strides", 2, 2)));
    check(
        op(
            "MaxPool",
            List.of("c"),
            ints("kernel_shape", 3, 3),
            ints("strides", 2, 2),
            ints("pads", 1, 0, 1, 1),
            i("ceil_mode", 1)));
  }

  @Test
  void averagePool() {
    check(
        op(
            "AveragePool",
            List.of("c"),
            ints("kernel_shape", 3, 2),
            ints("strides", 3, 2),
            ints("pads", 1, 1, 1, 1)));
    check(
        op(
            "AveragePool",
            List.of("c"),
            ints("kernel_shape", 3, 3),
            ints("strides", 2, 2),
            ints("pads", 1, 1, 1, 1),
            i("count_include_pad", 1)));
  }

  @Test
  void globalAveragePoolThenBroadcastMul() {
    check(
        afterConv()
            .node("GlobalAveragePool", "gap", List.of("c"), List.of("g"))
            .node("HardSigmoid", "hs", List.of("g"), List.of("h"), f("alpha", 0.2f))
            .node("Mul", "op", List.of("c", "h"), List.of("Y")));
  }

  @Test
  void batchNormalization() {
    check(
        withBatchNormStatistics(afterConv())
            .node(
                "BatchNormalization", "op", BATCH_NORM_INPUTS, List.of("Y"), f("epsilon", 1e-3f)));
  }

  /**
   * A BatchNormalization that is its Conv's only reader folds into the Conv's weights and bias (a
   * Relu after it then fuses too); one whose input another node also reads runs on its own.
   */
  @Test
  void batchNormalizationFoldsIntoTheConvBeforeIt() {
    Graphs folded =
        withBatchNormStatistics(afterConv())
            .node("BatchNormalization", "bn", BATCH_NORM_INPUTS, List.of("b"), f("epsilon", 1e-3f))
            .node("Relu", "op", List.of("b"), List.of("Y"));
    check(folded);
    assertEquals(List.of("Conv+activation"), plan(folded));
    try (OnnxExecutor x = OnnxExecutor.load(folded.bytes())) { // the node's own weights
      assertArrayEquals(TestData.random(4 * 3 * 9, 41), x.convLayers().get(0).weights());
    }
    Graphs kept =
        withBatchNormStatistics(afterConv())
            .node("BatchNormalization", "bn", BATCH_NORM_INPUTS, List.of("b"), f("epsilon", 1e-3f))
            .node("Add", "op", List.of("b", "c"), List.of("Y"));
    check(kept);
    assertEquals(List.of("Conv", "BatchNormalization", "Add"), plan(kept));
  }

  /**
   * A Mul by a constant scalar (as the first operand, as PP-LCNetV3 exports it) and an Add of a
   * per-channel constant fold into the Conv before them; an Add of a constant that varies along the
   * width does not.
   */
  @Test
  void mulAndAddByConstantsFoldIntoTheConvBeforeThem() {
    Graphs folded =
        afterConv()
            .init("s", new float[] {0.75f})
            .init("k", TestData.random(4, 65), 1, 4, 1, 1)
            .node("Mul", "mul", List.of("s", "c"), List.of("m"))
            .node("Add", "add", List.of("m", "k"), List.of("a"))
            .node("Relu", "op", List.of("a"), List.of("Y"));
    check(folded);
    assertEquals(List.of("Conv+activation"), plan(folded));
    Graphs kept =
        afterConv()
            .init("row", TestData.random(8, 66), 1, 1, 1, 8)
            .node("Add", "op", List.of("c", "row"), List.of("Y"));
    check(kept);
    assertEquals(List.of("Conv", "Add"), plan(kept));
  }

  static final List<String> BATCH_NORM_INPUTS = List.of("c", "scale", "bias", "mean", "var");

  static Graphs withBatchNormStatistics(Graphs g) {
    return withBatchNormStatistics(g, 4);
  }

  static Graphs withBatchNormStatistics(Graphs g, int channels) {
    float[] var = TestData.random(channels, 54);
    for (int k = 0; k < channels; k++) var[k] = Math.abs(var[k]) + 0.1f;
    return g.init("scale", TestData.random(channels, 51), channels)
        .init("bias", TestData.random(channels, 52), channels)
        .init("mean", TestData.random(channels, 53), channels)
        .init("var", var, channels);
  }

  /**
   * The fold scales each output channel's weights in a grouped Conv (OIHW) and a grouped
   * ConvTranspose (IOHW per group) alike, and a Relu after the folded ConvTranspose still fuses.
   */
  @Test
  void batchNormalizationFoldsIntoGroupedConvAndConvTranspose() {
    long[] in = {1, 4, 5, 5};
    for (String type : List.of("Conv", "ConvTranspose")) {
      long[] weights = type.equals("Conv") ? new long[] {6, 2, 3, 3} : new long[] {4, 3, 3, 3};
      Graphs g =
          withBatchNormStatistics(Graphs.create().input("X", in).output("Y"), 6)
              .init("W", TestData.random(4 * 3 * 3 * 3, 55), weights)
              .init("B", TestData.random(6, 56), 6)
              .node(type, "conv", List.of("X", "W", "B"), List.of("c"), i("group", 2))
              .node("BatchNormalization", "bn", BATCH_NORM_INPUTS, List.of("b"))
              .node("Relu", "op", List.of("b"), List.of("Y"));
      ConvAttributesTest.compareWithOrt(g, in);
      assertEquals(List.of(type + "+activation"), plan(g), type);
    }
  }

  static List<String> plan(Graphs g) {
    try (OnnxExecutor x = OnnxExecutor.load(g.bytes())) {
      return x.plan();
    }
  }

  /** PaddleOCR's hard swish, (x * Clip(x + 3, 0, 6)) / 6 in four nodes, runs as one step. */
  @Test
  void paddleHardSwishRunsAsOneStep() {
    Graphs g =
        afterConv()
            .init("three", new float[] {3f})
            .init("zero", new float[] {0f})
            .init("six", new float[] {6f})
            .node("Add", "add", List.of("c", "three"), List.of("a"))
            .node("Clip", "clip", List.of("a", "zero", "six"), List.of("k"))
            .node("Mul", "mul", List.of("c", "k"), List.of("m"))
            .node("Div", "op", List.of("m", "six"), List.of("Y"));
    check(g);
    assertEquals(List.of("Conv", "Add+Clip+Mul+Div"), plan(g));
  }

  @Test
  void binaryOpsWithBroadcasting() {
    check(
        afterConv()
            .init("k", TestData.random(4, 61), 4, 1, 1)
            .init("row", TestData.random(8, 62), 8)
            .node("Add", "a1", List.of("c", "k"), List.of("d"))
            .node("Sub", "a2", List.of("row", "d"), List.of("e"))
            .node("Mul", "a3", List.of("e", "c"), List.of("m"))
            .node("Pow", "a4", List.of("m", "two"), List.of("p"))
            .init("two", new float[] {2f})
            .node("Div", "op", List.of("p", "k"), List.of("Y")));
  }

  @Test
  void concatOfConvOutputsAndAConstant() {
    check(
        afterConv()
            .node("Relu", "r", List.of("c"), List.of("r1"))
            .init("pad", new float[2 * 2 * 9 * 8], 2, 2, 9, 8)
            .node("Concat", "op", List.of("c", "pad", "r1"), List.of("Y"), i("axis", 1)));
    check(
        afterConv()
            .node("Sigmoid", "s", List.of("c"), List.of("s1"))
            .node("Concat", "op", List.of("c", "s1"), List.of("Y"), i("axis", -1)));
  }

  /**
   * A residual Add then Relu (BlazeFace's blocks) runs as one op; a Clip after a Mul too; an Add
   * whose output another node also reads keeps its own Relu.
   */
  @Test
  void activationsAfterElementwiseOps() {
    check(
        afterConv()
            .node("Relu", "r0", List.of("c"), List.of("r"))
            .init("k", TestData.random(4, 63), 4, 1, 1)
            .node("Add", "add", List.of("c", "r"), List.of("a"))
            .node("Relu", "relu", List.of("a"), List.of("b"))
            .node("Mul", "mul", List.of("b", "k"), List.of("m"))
            .init("lo", new float[] {-0.25f})
            .init("hi", new float[] {0.5f})
            .node("Clip", "clip", List.of("m", "lo", "hi"), List.of("Y")));
    check(
        afterConv()
            .init("k", TestData.random(4, 64), 4, 1, 1)
            .node("Sub", "sub", List.of("c", "k"), List.of("a"))
            .node("Relu", "relu", List.of("a"), List.of("b"))
            .node("Add", "op", List.of("a", "b"), List.of("Y")));
  }

  @Test
  void transposeReshapeFlattenSoftmax() {
    check(
        afterConv()
            .node("Transpose", "t", List.of("c"), List.of("t1"), ints("perm", 0, 2, 3, 1))
            .initLongs("shape", 2, -1, 4)
            .node("Reshape", "r", List.of("t1", "shape"), List.of("r1"))
            .node("Softmax", "op", List.of("r1"), List.of("Y"), i("axis", 1)));
    check(
        afterConv()
            .node("Flatten", "fl", List.of("c"), List.of("f1"), i("axis", 1))
            .init("M", TestData.random(4 * 9 * 8 * 5, 71), 4 * 9 * 8, 5)
            .node("MatMul", "mm", List.of("f1", "M"), List.of("m1"))
            .node("Softmax", "op", List.of("m1"), List.of("Y")));
  }

  /**
   * A MatMul by a constant runs on mec4j (A's rows as pixels of a 1x1 convolution), here on a 4-D A
   * in NHWC order, with the Relu after it fused.
   */
  @Test
  void matMulByAConstantRunsAsAConvolution() {
    Graphs g =
        afterConv()
            .init("M", TestData.random(8 * 5, 72), 8, 5)
            .node("MatMul", "mm", List.of("c", "M"), List.of("m"))
            .node("Relu", "op", List.of("m"), List.of("Y"));
    check(g);
    assertEquals(List.of("Conv", "MatMul+activation"), plan(g));
  }

  @Test
  void shapeSliceConcatReshapeAsPaddleExportsThem() {
    check(
        afterConv()
            .node("Shape", "sh", List.of("c"), List.of("s"))
            .initLongs("st", 0)
            .initLongs("en", 2)
            .initLongs("ax", 0)
            .node("Slice", "sl", List.of("s", "st", "en", "ax"), List.of("nc"))
            .initLongs("minus1", -1)
            .node("Concat", "ct", List.of("nc", "minus1"), List.of("shape"), i("axis", 0))
            .node("Reshape", "op", List.of("c", "shape"), List.of("Y")));
  }

  @Test
  void sliceWithStepsOnFloats() {
    check(
        afterConv()
            .initLongs("st", 1, -1)
            .initLongs("en", 8, 0)
            .initLongs("ax", 2, 3)
            .initLongs("sp", 2, -2)
            .node("Slice", "op", List.of("c", "st", "en", "ax", "sp"), List.of("Y")));
  }

  @Test
  void padConstant() {
    check(
        afterConv()
            .initLongs("pads", 0, 1, 2, 0, 0, 3, 1, 1)
            .init("v", new float[] {0.25f})
            .node("Pad", "op", List.of("c", "pads", "v"), List.of("Y")));
  }

  @Test
  void resizeNearest() {
    check(
        afterConv()
            .init("roi", new float[0], 0)
            .init("scales", new float[] {1, 1, 2, 2}, 4)
            .node(
                "Resize",
                "op",
                List.of("c", "roi", "scales"),
                List.of("Y"),
                s("mode", "nearest"),
                s("coordinate_transformation_mode", "asymmetric"),
                s("nearest_mode", "floor")));
    check(
        afterConv()
            .init("roi", new float[0], 0)
            .init("scales", new float[0], 0)
            .initLongs("sizes", 2, 4, 13, 5)
            .node(
                "Resize",
                "op",
                List.of("c", "roi", "scales", "sizes"),
                List.of("Y"),
                s("mode", "nearest")));
  }

  @Test
  void clipReluHardSwishOnRowMajorInput() {
    check(
        Graphs.create()
            .opset(14) // HardSwish
            .input("X", IN)
            .output("Y")
            .init("lo", new float[] {-0.2f})
            .init("hi", new float[] {0.4f})
            .node("Clip", "k", List.of("X", "lo", "hi"), List.of("a"))
            .node("HardSwish", "op", List.of("a"), List.of("Y")));
  }

  @Test
  void reduceMeanSqueezeUnsqueeze() {
    check(
        afterConv()
            .node(
                "ReduceMean", "rm", List.of("c"), List.of("r"), ints("axes", -1), i("keepdims", 0))
            .initLongs("ax", 1)
            .node("Unsqueeze", "u", List.of("r", "ax"), List.of("u1"))
            .node("Squeeze", "op", List.of("u1", "ax"), List.of("Y")));
  }

  @Test
  void constantSubgraphsAreFoldedAtLoad() {
    Graphs g =
        afterConv()
            .initLongs("shape", 4, 1, 1)
            .node("ConstantOfShape", "cos", List.of("shape"), List.of("k"))
            .node("Add", "op", List.of("c", "k"), List.of("Y"));
    check(g);
    // ConstantOfShape is evaluated at load; the Add of its per-channel zeros then folds into the
    // Conv.
    assertEquals(List.of("Conv"), plan(g));
  }
}
