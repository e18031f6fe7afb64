package org.mec4j.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.mec4j.onnx.proto.Onnx.AttributeProto;
import org.mec4j.onnx.proto.Onnx.GraphProto;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;
import org.mec4j.onnx.proto.Onnx.OperatorSetIdProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;
import org.mec4j.onnx.proto.Onnx.TensorShapeProto;
import org.mec4j.onnx.proto.Onnx.TypeProto;
import org.mec4j.onnx.proto.Onnx.ValueInfoProto;

/**
 * ONNX models written in memory: a single 2-D {@code Conv} node (NCHW input {@value #INPUT}, OIHW
 * weights {@value #WEIGHTS} and the optional bias {@value #BIAS} as initializers, output {@value
 * #OUTPUT}), the serialized bytes of which an ONNX runtime loads directly.
 */
public final class OnnxModels {
  /** IR version 8 (ONNX 1.10+), understood by every ONNX Runtime of the last years. */
  public static final long IR_VERSION = 8;

  /** The default-domain operator set; Conv's definition is the same since opset 11. */
  public static final long OPSET = 17;

  public static final String INPUT = "X", WEIGHTS = "W", BIAS = "B", OUTPUT = "Y";

  private OnnxModels() {}

  /**
   * A 2-D convolution in ONNX's terms (NCHW activations, OIHW weights of {@code outChannels x
   * inChannels/groups x kernelHeight x kernelWidth}).
   */
  public record Conv(
      long batch,
      long inChannels,
      long inHeight,
      long inWidth,
      long outChannels,
      long kernelHeight,
      long kernelWidth,
      long strideHeight,
      long strideWidth,
      long padTop,
      long padLeft,
      long padBottom,
      long padRight,
      long dilationHeight,
      long dilationWidth,
      long groups) {
    public Conv {
      if (batch < 1
          || inChannels < 1
          || inHeight < 1
          || inWidth < 1
          || outChannels < 1
          || kernelHeight < 1
          || kernelWidth < 1
          || strideHeight < 1
          || strideWidth < 1
          || dilationHeight < 1
          || dilationWidth < 1
          || groups < 1
          || padTop < 0
          || padLeft < 0
          || padBottom < 0
          || padRight < 0) throw new IllegalArgumentException("invalid convolution " + this);
      if (inChannels % groups != 0 || outChannels % groups != 0)
        throw new IllegalArgumentException("groups must divide both channel counts: " + this);
      // The fields are assigned after this body: compute from the parameters.
      if (inHeight + padTop + padBottom < dilationHeight * (kernelHeight - 1) + 1
          || inWidth + padLeft + padRight < dilationWidth * (kernelWidth - 1) + 1)
        throw new IllegalArgumentException("the kernel does not fit the padded input: " + this);
    }

    public long outHeight() {
      return (inHeight + padTop + padBottom - dilationHeight * (kernelHeight - 1) - 1)
              / strideHeight
          + 1;
    }

    public long outWidth() {
      return (inWidth + padLeft + padRight - dilationWidth * (kernelWidth - 1) - 1) / strideWidth
          + 1;
    }

    public long[] inputShape() {
      return new long[] {batch, inChannels, inHeight, inWidth};
    }

    public long[] weightsShape() {
      return new long[] {outChannels, inChannels / groups, kernelHeight, kernelWidth};
    }

    public long[] outputShape() {
      return new long[] {batch, outChannels, outHeight(), outWidth()};
    }

    public long weightsSize() {
      return outChannels * (inChannels / groups) * kernelHeight * kernelWidth;
    }
  }

  /**
   * The one-node model of {@code c}.
   *
   * @param weights OIHW, {@link Conv#weightsSize()} floats
   * @param bias {@code outChannels} floats, or null for none
   */
  public static ModelProto conv(Conv c, float[] weights, float[] bias) {
    Objects.requireNonNull(weights, "weights");
    if (weights.length != c.weightsSize())
      throw new IllegalArgumentException(
          "weights has " + weights.length + " floats, the layer needs " + c.weightsSize());
    if (bias != null && bias.length != c.outChannels())
      throw new IllegalArgumentException(
          "bias has " + bias.length + " floats, the layer needs " + c.outChannels());
    NodeProto.Builder node =
        NodeProto.newBuilder()
            .setName("conv")
            .setOpType("Conv")
            .addInput(INPUT)
            .addInput(WEIGHTS)
            .addOutput(OUTPUT)
            .addAttribute(ints("kernel_shape", c.kernelHeight(), c.kernelWidth()))
            .addAttribute(ints("strides", c.strideHeight(), c.strideWidth()))
            .addAttribute(ints("pads", c.padTop(), c.padLeft(), c.padBottom(), c.padRight()))
            .addAttribute(ints("dilations", c.dilationHeight(), c.dilationWidth()))
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("group")
                    .setType(AttributeProto.AttributeType.INT)
                    .setI(c.groups()));
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("conv")
            .addInitializer(floatTensor(WEIGHTS, c.weightsShape(), weights))
            .addInput(floatValue(INPUT, c.inputShape()))
            .addOutput(floatValue(OUTPUT, c.outputShape()));
    if (bias != null) {
      node.addInput(BIAS);
      graph.addInitializer(floatTensor(BIAS, new long[] {c.outChannels()}, bias));
    }
    graph.addNode(node);
    return ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setProducerName("mec4j")
        .setGraph(graph)
        .build();
  }

  /** The serialized model: what {@code OrtEnvironment.createSession(byte[])} loads. */
  public static byte[] convBytes(Conv c, float[] weights, float[] bias) {
    return conv(c, weights, bias).toByteArray();
  }

  /** A float tensor, its data as little-endian raw bytes. */
  public static TensorProto floatTensor(String name, long[] dims, float[] data) {
    long n = 1;
    for (long d : dims) n = Math.multiplyExact(n, d);
    if (n != data.length)
      throw new IllegalArgumentException(
          name + ": " + data.length + " floats for " + n + " elements");
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, 4));
    b.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(data);
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) t.addDims(d);
    return t.build();
  }

  /** A float tensor's name, type and fixed shape (a graph's input or output). */
  public static ValueInfoProto floatValue(String name, long[] dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(shape)))
        .build();
  }

  private static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) a.addInts(v);
    return a.build();
  }
}
