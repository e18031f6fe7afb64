package org.mec4j.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.mec4j.onnx.proto.Onnx.AttributeProto;
import org.mec4j.onnx.proto.Onnx.GraphProto;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;
import org.mec4j.onnx.proto.Onnx.OperatorSetIdProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;
import org.mec4j.onnx.proto.Onnx.TensorShapeProto;
import org.mec4j.onnx.proto.Onnx.TypeProto;
import org.mec4j.onnx.proto.Onnx.ValueInfoProto;

/** Tiny hand-made ONNX graphs for the tests (like {@link OnnxModels}, any nodes). */
final class Graphs {
  private Graphs() {}

  static final int OPSET = 13;

  final List<NodeProto> nodes = new ArrayList<>();
  final List<TensorProto> initializers = new ArrayList<>();
  final List<ValueInfoProto> inputs = new ArrayList<>(), outputs = new ArrayList<>();
  int opset = OPSET;

  static Graphs create() {
    return new Graphs();
  }

  Graphs input(String name, long... dims) {
    inputs.add(value(name, dims));
    return this;
  }

  Graphs output(String name) {
    outputs.add(ValueInfoProto.newBuilder().setName(name).build());
    return this;
  }

  Graphs init(String name, float[] data, long... dims) {
    initializers.add(OnnxModels.floatTensor(name, dims, data));
    return this;
  }

  Graphs initLongs(String name, long... data) {
    initializers.add(longs(name, data));
    return this;
  }

  Graphs node(String op, String name, List<String> in, List<String> out, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
    n.addAllInput(in).addAllOutput(out);
    for (AttributeProto a : attrs) n.addAttribute(a);
    nodes.add(n.build());
    return this;
  }

  Graphs opset(int v) {
    opset = v;
    return this;
  }

  ModelProto model() {
    GraphProto g =
        GraphProto.newBuilder()
            .setName("test")
            .addAllNode(nodes)
            .addAllInitializer(initializers)
            .addAllInput(inputs)
            .addAllOutput(outputs)
            .build();
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g)
        .build();
  }

  byte[] bytes() {
    return model().toByteArray();
  }

  /** A float input's value info; -1 is a dynamic dimension. */
  static ValueInfoProto value(String name, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : dims)
      shape.addDim(
          d < 0
              ? TensorShapeProto.Dimension.newBuilder().setDimParam("d" + shape.getDimCount())
              : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
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

  static TensorProto longs(String name, long... data) {
    ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : data) b.putLong(v);
    return TensorProto.newBuilder()
        .setName(name)
        .setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(data.length)
        .setRawData(ByteString.copyFrom(b.array()))
        .build();
  }

  /** A float tensor in float_data (not raw_data). */
  static TensorProto floatData(String name, float[] data, long... dims) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) t.addDims(d);
    for (float v : data) t.addFloatData(v);
    return t.build();
  }

  static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) a.addInts(v);
    return a.build();
  }

  static AttributeProto i(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  static AttributeProto f(String name, float value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.FLOAT)
        .setF(value)
        .build();
  }

  static AttributeProto s(String name, String value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(value))
        .build();
  }

  static AttributeProto t(String name, TensorProto value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(value)
        .build();
  }
}
