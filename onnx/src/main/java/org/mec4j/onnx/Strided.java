package org.mec4j.onnx;

/**
 * Loops over strided arrays: out[o] = op(a[ia], b[ib]) for every index of a shape, each array with
 * its own strides (0 where it is broadcast), walked in the output's memory order so that the
 * innermost loop runs over the output's fastest dimension.
 */
final class Strided {
  private Strided() {}

  /**
   * A binary operation on contiguous runs: out[o + i] = a[ai + i] op b[bi + i] for i &lt; n. An
   * implementation per operation keeps each loop monomorphic, so the JIT inlines and vectorizes it;
   * the call per run (not per value) is what stays virtual.
   */
  interface Rows {
    void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n);

    /** out[o + i] = a[ai + i] op b for i &lt; n: b broadcast along the run. */
    void apply(float[] a, int ai, float b, float[] out, int o, int n);
  }

  // Strided or broadcast operands are gathered into contiguous runs of at most this many values.
  private static final int CHUNK = 1024;

  /**
   * out[outOffset + index·outStrides] = op(a[aOffset + index·aStrides], b[index·bStrides]) for
   * every index of shape; with b == null (and op == null) a copy of a. Dimensions that are
   * contiguous for all three arrays are merged, so that same-layout operands, a broadcast scalar or
   * a per-channel vector run as few long rows.
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
      Rows op) {
    long total = 1;
    for (int d : shape) total *= d;
    if (total == 0) return;
    int[] zero = new int[shape.length];
    int[] bs0 = b == null ? zero : bStrides;
    // The dimensions, outermost first, without those of size 1 and merged where contiguous.
    int[] size = new int[shape.length + 1], os = new int[size.length];
    int[] as = new int[size.length], bs = new int[size.length];
    int r = 0;
    for (int d : order(outStrides, shape)) {
      if (shape[d] == 1) continue;
      if (r > 0
          && os[r - 1] == outStrides[d] * shape[d]
          && as[r - 1] == aStrides[d] * shape[d]
          && bs[r - 1] == bs0[d] * shape[d]) {
        size[r - 1] *= shape[d];
      } else {
        size[r] = shape[d];
        r++;
      }
      os[r - 1] = outStrides[d];
      as[r - 1] = aStrides[d];
      bs[r - 1] = bs0[d];
    }
    if (r == 0) { // a single value
      size[0] = 1;
      r = 1;
    }
    int n = size[r - 1];
    // b constant along contiguous runs of a and out (a per-channel or per-row value): no gather.
    boolean bAlongRun = b != null && as[r - 1] == 1 && bs[r - 1] == 0 && os[r - 1] == 1;
    float[] runA = null, runB = null, runOut = null;
    if (b != null && !bAlongRun) {
      int len = Math.min(n, CHUNK);
      if (as[r - 1] != 1) runA = new float[len];
      if (bs[r - 1] != 1) runB = new float[len];
      if (os[r - 1] != 1) runOut = new float[len];
    }
    int[] idx = new int[r];
    int oo = outOffset, ao = aOffset, bo = 0;
    for (long t = total / n; t > 0; t--) {
      if (b == null) copyRun(a, ao, as[r - 1], out, oo, os[r - 1], n);
      else if (bAlongRun) op.apply(a, ao, b[bo], out, oo, n);
      else
        for (int c = 0; c < n; c += CHUNK) {
          int len = Math.min(CHUNK, n - c);
          int ai = ao + c * as[r - 1], bi = bo + c * bs[r - 1], oi = oo + c * os[r - 1];
          if (runA != null) copyRun(a, ai, as[r - 1], runA, 0, 1, len);
          if (runB != null) copyRun(b, bi, bs[r - 1], runB, 0, 1, len);
          op.apply(
              runA != null ? runA : a,
              runA != null ? 0 : ai,
              runB != null ? runB : b,
              runB != null ? 0 : bi,
              runOut != null ? runOut : out,
              runOut != null ? 0 : oi,
              len);
          if (runOut != null) copyRun(runOut, 0, 1, out, oi, os[r - 1], len);
        }
      for (int k = r - 2; k >= 0; k--) {
        idx[k]++;
        oo += os[k];
        ao += as[k];
        bo += bs[k];
        if (idx[k] < size[k]) break;
        oo -= os[k] * size[k];
        ao -= as[k] * size[k];
        bo -= bs[k] * size[k];
        idx[k] = 0;
      }
    }
  }

  /** out[o + i·os] = a[ai + i·as] for i &lt; n (a fill where as is 0). */
  private static void copyRun(float[] a, int ai, int as, float[] out, int o, int os, int n) {
    if (as == 1 && os == 1) System.arraycopy(a, ai, out, o, n);
    else if (as == 0 && os == 1) java.util.Arrays.fill(out, o, o + n, a[ai]);
    else for (int i = 0; i < n; i++) out[o + i * os] = a[ai + i * as];
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
    // An insertion sort (a handful of dimensions), stable: equal keys keep their order.
    int[] r = new int[strides.length];
    for (int i = 0; i < r.length; i++) {
      int d = i, j = i;
      for (; j > 0 && orderKey(strides, shape, r[j - 1]) < orderKey(strides, shape, d); j--)
        r[j] = r[j - 1];
      r[j] = d;
    }
    return r;
  }

  private static long orderKey(int[] strides, int[] shape, int d) {
    return shape[d] == 1 ? Long.MAX_VALUE : strides[d];
  }
}
