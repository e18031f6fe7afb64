package org.mec4j.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.mec4j.onnx.proto.Onnx.TensorProto;

/**
 * ONNX tensors (initializers, Constant values) as executor tensors: float from raw_data (little
 * endian, as ONNX stores it), float_data or double_data; integers from raw_data, int64_data or
 * int32_data. The number of values must equal the product of the dims.
 */
final class TensorProtos {
  private TensorProtos() {}

  static Tensor decode(TensorProto t, String where) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0)
      throw new OnnxModelException(
          where + ": tensor '" + t.getName() + "' has external data, unsupported");
    long[] dims = new long[t.getDimsCount()];
    long n = 1;
    for (int i = 0; i < dims.length; i++) {
      dims[i] = t.getDims(i);
      if (dims[i] < 0)
        throw new OnnxModelException(
            where + ": tensor '" + t.getName() + "' has negative dims " + t.getDimsList());
      n *= dims[i];
      if (n > Integer.MAX_VALUE - 16)
        throw new OnnxModelException(where + ": tensor '" + t.getName() + "' is too large");
    }
    int count = (int) n;
    int type = t.getDataType();
    ByteString raw = t.hasRawData() ? t.getRawData() : null;
    switch (type) {
      case 1: // FLOAT
        {
          float[] v;
          if (raw != null) {
            checkCount(t, where, raw.size(), 4, count);
            v = new float[count];
            raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
          } else {
            checkCount(t, where, t.getFloatDataCount(), 1, count);
            v = new float[count];
            for (int i = 0; i < count; i++) v[i] = t.getFloatData(i);
          }
          return Tensor.of(v, dims);
        }
      case 11: // DOUBLE
        {
          float[] v = new float[count];
          if (raw != null) {
            checkCount(t, where, raw.size(), 8, count);
            ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) v[i] = (float) b.getDouble(i * 8);
          } else {
            checkCount(t, where, t.getDoubleDataCount(), 1, count);
            for (int i = 0; i < count; i++) v[i] = (float) t.getDoubleData(i);
          }
          return Tensor.of(v, dims);
        }
      case 7: // INT64
        {
          long[] v = new long[count];
          if (raw != null) {
            checkCount(t, where, raw.size(), 8, count);
            raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
          } else {
            checkCount(t, where, t.getInt64DataCount(), 1, count);
            for (int i = 0; i < count; i++) v[i] = t.getInt64Data(i);
          }
          return Tensor.ofLongs(v, dims);
        }
      case 6: // INT32
      case 2: // UINT8
      case 3: // INT8
      case 9: // BOOL
        {
          int width = type == 6 ? 4 : 1;
          long[] v = new long[count];
          if (raw != null) {
            checkCount(t, where, raw.size(), width, count);
            ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++)
              v[i] =
                  type == 6 ? b.getInt(i * 4) : type == 2 || type == 9 ? b.get(i) & 0xff : b.get(i);
          } else {
            checkCount(t, where, t.getInt32DataCount(), 1, count);
            for (int i = 0; i < count; i++) v[i] = t.getInt32Data(i);
          }
          return Tensor.ofLongs(v, dims);
        }
      default:
        throw new OnnxModelException(
            where + ": tensor '" + t.getName() + "' has data type " + type + ", unsupported");
    }
  }

  private static void checkCount(TensorProto t, String where, long have, int width, int need) {
    if (have != (long) need * width)
      throw new OnnxModelException(
          where
              + ": tensor '"
              + t.getName()
              + "' holds "
              + (width == 1 ? have + " values" : have + " bytes")
              + ", its dims "
              + Arrays.toString(t.getDimsList().toArray())
              + " need "
              + (width == 1 ? need + " values" : (long) need * width + " bytes"));
  }
}
