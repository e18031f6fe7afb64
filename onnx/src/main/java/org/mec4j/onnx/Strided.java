package org.mec4j.onnx;

/**
 * Loops over strided arrays: out[o] = op(a[ia], b[ib]) for every index of a shape, each array with
 * its own strides (0 where it is broadcast), walked in the output's memory order so that the
 * innermost loop runs over the output's fastest dimension.
 */
final class Strided {
  private Strided() {}

  /** Binary operations on floats (float arithmetic, as ONNX Runtime computes). */
  interface FloatOp {
    float apply(float a, float b);
  }

  /**
   * out[outOffset + index·outStrides] = op(a[aOffset + index·aStrides], b[index·bStrides]) for
   * every index of shape; with b == null (and op == null) a copy of a.
   */
  static void map(
      int[] shape,
      float[] out,
      int outOffset,
      int[] outStrides,
      float[] a,
      int aOffset,
      int[] aStrides,
      float[] b,
      int[] bStrides,
      FloatOp op) {
    int r = shape.length;
    long total = 1;
    for (int d : shape) total *= d;
    if (total == 0) return;
    if (r == 0) {
      out[outOffset] = b == null ? a[aOffset] : op.apply(a[aOffset], b[0]);
      return;
    }
    int[] order = order(outStrides, shape);
    int inner = order[r - 1];
    int n = shape[inner], os = outStrides[inner], as = aStrides[inner];
    int bs = b == null ? 0 : bStrides[inner];
    int[] idx = new int[r];
    int oo = outOffset, ao = aOffset, bo = 0;
    for (long t = total / n; t > 0; t--) {
      if (b == null) for (int i = 0; i < n; i++) out[oo + i * os] = a[ao + i * as];
      else for (int i = 0; i < n; i++) out[oo + i * os] = op.apply(a[ao + i * as], b[bo + i * bs]);
      for (int k = r - 2; k >= 0; k--) {
        int d = order[k];
        idx[d]++;
        oo += outStrides[d];
        ao += aStrides[d];
        if (b != null) bo += bStrides[d];
        if (idx[d] < shape[d]) break;
        oo -= outStrides[d] * shape[d];
        ao -= aStrides[d] * shape[d];
        if (b != null) bo -= bStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  }

  /** The same copy for int64 values. */
  static void copyLongs(int[] shape, long[] a, int[] aStrides, long[] out, int[] outStrides) {
    copyLongs(shape, a, 0, aStrides, out, 0, outStrides);
  }

  static void copyLongs(
      int[] shape,
      long[] a,
      int aOffset,
      int[] aStrides,
      long[] out,
      int outOffset,
      int[] outStrides) {
    int r = shape.length;
    int total = Tensor.numel(shape);
    if (total == 0) return;
    if (r == 0) {
      out[outOffset] = a[aOffset];
      return;
    }
    int[] idx = new int[r];
    int oo = outOffset, ao = aOffset;
    for (int t = 0; t < total; t++) {
      out[oo] = a[ao];
      for (int d = r - 1; d >= 0; d--) {
        idx[d]++;
        oo += outStrides[d];
        ao += aStrides[d];
        if (idx[d] < shape[d]) break;
        oo -= outStrides[d] * shape[d];
        ao -= aStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  }

  /** Dimensions from the largest output stride to the smallest (size-1 dimensions first). */
  static int[] order(int[] strides, int[] shape) {
    Integer[] o = new Integer[strides.length];
    for (int i = 0; i < o.length; i++) o[i] = i;
    java.util.Arrays.sort(
        o,
        (x, y) -> {
          long sx = shape[x] == 1 ? Long.MAX_VALUE : strides[x];
          long sy = shape[y] == 1 ? Long.MAX_VALUE : strides[y];
          return sx != sy ? Long.compare(sy, sx) : Integer.compare(x, y);
        });
    int[] r = new int[o.length];
    for (int i = 0; i < r.length; i++) r[i] = o[i];
    return r;
  }
}
