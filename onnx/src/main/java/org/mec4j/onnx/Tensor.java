package org.mec4j.onnx;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor of the executor: float or int64 values under a logical ONNX shape (NCHW for images),
 * with per-dimension strides that are a permutation of a dense row-major layout. The strides let an
 * NHWC array stand for an NCHW tensor without a copy (what the convolutions read and write) and
 * make Transpose a view. Callers see the logical layout only: {@link #of} takes row-major values,
 * {@link #floats()} returns them row-major.
 */
public final class Tensor {
  /**
   * The element types the executor computes with (int32, bool and int8 values are held as int64).
   */
  public enum Type {
    FLOAT,
    INT64
  }

  final Type type;
  final float[] f; // FLOAT
  final long[] l; // INT64
  final int[] shape;
  final int[] strides;

  Tensor(float[] data, int[] shape, int[] strides) {
    this.type = Type.FLOAT;
    this.f = data;
    this.l = null;
    this.shape = shape;
    this.strides = strides;
  }

  Tensor(long[] data, int[] shape) {
    this.type = Type.INT64;
    this.f = null;
    this.l = data;
    this.shape = shape;
    this.strides = standardStrides(shape);
  }

  /** A float tensor from row-major values (not copied). */
  public static Tensor of(float[] rowMajor, long... shape) {
    Objects.requireNonNull(rowMajor, "rowMajor");
    int[] s = toIntShape(shape);
    if (numel(s) != rowMajor.length)
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + numel(s)
              + " values, got "
              + rowMajor.length);
    return new Tensor(rowMajor, s, standardStrides(s));
  }

  /** An int64 tensor from row-major values (not copied). */
  public static Tensor ofLongs(long[] rowMajor, long... shape) {
    Objects.requireNonNull(rowMajor, "rowMajor");
    int[] s = toIntShape(shape);
    if (numel(s) != rowMajor.length)
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + numel(s)
              + " values, got "
              + rowMajor.length);
    return new Tensor(rowMajor, s);
  }

  /** An NCHW tensor whose values lie in NHWC order (as a convolution writes them). */
  static Tensor channelsLast(float[] nhwc, int n, int c, int h, int w) {
    return new Tensor(nhwc, new int[] {n, c, h, w}, new int[] {h * w * c, 1, w * c, c});
  }

  public Type type() {
    return type;
  }

  /** The logical (ONNX) shape. */
  public long[] shape() {
    long[] s = new long[shape.length];
    for (int i = 0; i < s.length; i++) s[i] = shape[i];
    return s;
  }

  public int rank() {
    return shape.length;
  }

  public int size() {
    return numel(shape);
  }

  /** The values in row-major order of the logical shape (a copy unless already in that order). */
  public float[] floats() {
    if (type != Type.FLOAT) throw new IllegalStateException("an int64 tensor, not float");
    return standard().f;
  }

  /** The values of an int64 tensor, row-major. */
  public long[] longs() {
    if (type != Type.INT64) throw new IllegalStateException("a float tensor, not int64");
    return l;
  }

  @Override
  public String toString() {
    return (type == Type.FLOAT ? "float" : "int64") + Arrays.toString(shape);
  }

  // --- layouts ----------------------------------------------------------------------------

  static int numel(int[] shape) {
    long n = 1;
    for (int d : shape) n = Math.multiplyExact(n, d);
    return checkAllocatable(n);
  }

  /**
   * n, if an array of n floats (or longs) can be allocated: at most a Java array and half the heap,
   * so that a model asking for more (a corrupted shape) fails with a message, not an
   * OutOfMemoryError.
   */
  static int checkAllocatable(long n) {
    if (n > Integer.MAX_VALUE - 16 || n * 4 > Runtime.getRuntime().maxMemory() / 2)
      throw new IllegalArgumentException(
          "a tensor of " + n + " elements exceeds a Java array or half the Java heap");
    return (int) n;
  }

  static int[] toIntShape(long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE)
        throw new IllegalArgumentException("dimension " + i + " of " + Arrays.toString(shape));
      s[i] = (int) shape[i];
    }
    return s;
  }

  static int[] standardStrides(int[] shape) {
    int[] st = new int[shape.length];
    int s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = s;
      s *= Math.max(1, shape[i]);
    }
    return st;
  }

  static int[] channelsLastStrides(int[] nchw) {
    int c = nchw[1], h = nchw[2], w = nchw[3];
    return new int[] {h * w * c, 1, w * c, c};
  }

  /** Whether the strides equal these (dimensions of size 1 may have any stride). */
  boolean hasStrides(int[] expected) {
    for (int i = 0; i < shape.length; i++)
      if (shape[i] > 1 && strides[i] != expected[i]) return false;
    return true;
  }

  boolean isStandard() {
    return hasStrides(standardStrides(shape));
  }

  boolean isChannelsLast() {
    return shape.length == 4 && hasStrides(channelsLastStrides(shape));
  }

  /** The same values row-major (this tensor if they already are). */
  Tensor standard() {
    if (isStandard())
      return Arrays.equals(strides, standardStrides(shape))
          ? this
          : restrided(standardStrides(shape));
    return copyTo(standardStrides(shape));
  }

  /**
   * A 4-D tensor with NHWC-ordered values (this one if they already are). The copy is kept: a
   * constant (BlazeFace's channel padding) is then converted once, not on every run.
   */
  Tensor toChannelsLast() {
    if (shape.length != 4) throw new IllegalArgumentException("a 4-D tensor expected, got " + this);
    if (isChannelsLast()) return this;
    Tensor c = channelsLastCopy;
    if (c == null) channelsLastCopy = c = copyTo(channelsLastStrides(shape));
    return c;
  }

  // toChannelsLast's copy (a benign race: two threads would make equal copies).
  private Tensor channelsLastCopy;

  /**
   * Whether every value is +0 (a float tensor). Remembered once true: the tensors asked are
   * constants or fresh results, never written after they are made.
   */
  boolean isAllZero() {
    if (allZero) return true;
    if (type != Type.FLOAT) return false;
    for (float v : f) if (Float.floatToRawIntBits(v) != 0) return false;
    return allZero = true;
  }

  private boolean allZero;

  private Tensor restrided(int[] st) {
    return type == Type.FLOAT ? new Tensor(f, shape, st) : new Tensor(l, shape);
  }

  /** A copy of this tensor's values laid out with the given (dense) strides. */
  Tensor copyTo(int[] outStrides) {
    if (type == Type.INT64) {
      long[] out = new long[l.length];
      Strided.copyLongs(shape, l, strides, out, outStrides);
      return new Tensor(out, shape);
    }
    float[] out = new float[f.length];
    Strided.map(shape, out, 0, outStrides, f, 0, strides, null, null, null);
    return new Tensor(out, shape, outStrides);
  }

  /** The logical transpose: a view for float values (no copy), a row-major copy for int64. */
  Tensor permute(int[] perm) {
    int[] s = new int[perm.length], st = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      s[i] = shape[perm[i]];
      st[i] = strides[perm[i]];
    }
    if (type == Type.FLOAT) return new Tensor(f, s, st);
    long[] out = new long[l.length]; // int64 tensors are kept row-major
    Strided.copyLongs(s, l, st, out, standardStrides(s));
    return new Tensor(out, s);
  }

  /** Row-major values under another shape of the same size. */
  Tensor reshape(int[] newShape) {
    if (numel(newShape) != size())
      throw new IllegalArgumentException(
          "cannot reshape " + this + " to " + Arrays.toString(newShape));
    Tensor s = standard();
    return s.type == Type.FLOAT
        ? new Tensor(s.f, newShape, standardStrides(newShape))
        : new Tensor(s.l, newShape);
  }
}
