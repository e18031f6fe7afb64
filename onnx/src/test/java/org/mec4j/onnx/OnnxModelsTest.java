package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.mec4j.onnx.proto.Onnx.AttributeProto;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;

class OnnxModelsTest {
  private static final OnnxModels.Conv C =
      new OnnxModels.Conv(2, 4, 7, 6, 6, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1, 2);

  @Test
  void shapes() {
    // (7 + 1 + 2 - 2*2 - 1)/2 + 1 = 3; (6 + 0 + 1 - 1*1 - 1)/1 + 1 = 6
    assertArrayEquals(new long[] {2, 6, 3, 6}, C.outputShape());
    assertArrayEquals(new long[] {6, 2, 3, 2}, C.weightsShape());
  }

  @Test
  void roundTrip() throws Exception {
    float[] w = new float[(int) C.weightsSize()];
    for (int i = 0; i < w.length; i++) w[i] = i * 0.5f - 3;
    float[] b = {1, 2, 3, 4, 5, 6};
    ModelProto m = ModelProto.parseFrom(OnnxModels.convBytes(C, w, b));
    assertEquals(OnnxModels.IR_VERSION, m.getIrVersion());
    assertEquals(OnnxModels.OPSET, m.getOpsetImport(0).getVersion());
    NodeProto n = m.getGraph().getNode(0);
    assertEquals("Conv", n.getOpType());
    assertEquals(java.util.List.of("X", "W", "B"), n.getInputList());
    AttributeProto pads =
        n.getAttributeList().stream().filter(a -> a.getName().equals("pads")).findFirst().get();
    assertEquals(java.util.List.of(1L, 0L, 2L, 1L), pads.getIntsList());
    TensorProto t = m.getGraph().getInitializer(0);
    assertEquals(java.util.List.of(6L, 2L, 3L, 2L), t.getDimsList());
    float[] back = new float[w.length];
    ByteBuffer.wrap(t.getRawData().toByteArray())
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(back);
    assertArrayEquals(w, back);
    assertEquals(
        2, m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimValue());
  }

  @Test
  void refusesWrongSizes() {
    assertThrows(IllegalArgumentException.class, () -> OnnxModels.conv(C, new float[3], null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new OnnxModels.Conv(1, 3, 5, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2));
  }
}
