package org.mec4j.onnx;

import java.util.Arrays;
import java.util.List;

/**
 * The executor's ops other than the convolutions: plain Java loops over float arrays, in whatever
 * layout their input has where the op does not care (elementwise and per-channel ops keep NHWC data
 * NHWC), in NHWC for the spatial ops (pooling, Resize), row-major for the ops that reorder or index
 * values (Reshape, Slice, MatMul, Softmax).
 */
final class Ops {
  private Ops() {}

  interface Unary {
    float apply(float x);
  }

  // --- elementwise ---------------------------------------------------------------------------

  /** op applied to every value; the result keeps the input's layout. */
  static Tensor unary(Buffers buffers, Tensor x, Unary op) {
    float[] in = floats(x, "the input"), out = buffers.floats(in.length);
    for (int i = 0; i < in.length; i++) out[i] = op.apply(in[i]);
    return new Tensor(out, x.shape, x.strides);
  }

  /** (x * clip(x + shift, lo, hi)) / divisor per value (PaddleOCR's hard swish), in x's layout. */
  static Tensor hardSwish(
      Buffers buffers, Tensor x, float shift, float lo, float hi, float divisor) {
    float[] in = floats(x, "the input"), out = buffers.floats(in.length);
    for (int i = 0; i < in.length; i++) {
      float v = in[i];
      out[i] = v * Math.min(Math.max(v + shift, lo), hi) / divisor;
    }
    return new Tensor(out, x.shape, x.strides);
  }

  static void clipInPlace(float[] v, float min, float max) {
    if (min == 0f && max == Float.POSITIVE_INFINITY) { // Relu: one max per value, NaN stays NaN
      for (int i = 0; i < v.length; i++) v[i] = Math.max(v[i], 0f);
      return;
    }
    for (int i = 0; i < v.length; i++) v[i] = Math.min(Math.max(v[i], min), max);
  }

  static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-x)));
  }

  static int[] broadcastShape(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (da != db && da != 1 && db != 1)
        throw new IllegalArgumentException(
            "shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** A tensor's strides aligned to a broadcast output of rank r (0 where it is broadcast). */
  static int[] alignedStrides(Tensor t, int[] outShape) {
    int r = outShape.length, off = r - t.shape.length;
    int[] s = new int[r];
    for (int i = off; i < r; i++) s[i] = t.shape[i - off] == 1 ? 0 : t.strides[i - off];
    return s;
  }

  /** The elementwise binary ops: float runs (a loop of its own each) and int64 values. */
  enum Arithmetic implements Strided.Rows {
    ADD("Add") {
      @Override
      public void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] + b[bi + i];
      }

      @Override
      public void apply(float[] a, int ai, float b, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] + b;
      }

      @Override
      long apply(long x, long y) {
        return x + y;
      }
    },
    SUB("Sub") {
      @Override
      public void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] - b[bi + i];
      }

      @Override
      public void apply(float[] a, int ai, float b, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] - b;
      }

      @Override
      long apply(long x, long y) {
        return x - y;
      }
    },
    MUL("Mul") {
      @Override
      public void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] * b[bi + i];
      }

      @Override
      public void apply(float[] a, int ai, float b, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] * b;
      }

      @Override
      long apply(long x, long y) {
        return x * y;
      }
    },
    DIV("Div") {
      @Override
      public void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] / b[bi + i];
      }

      @Override
      public void apply(float[] a, int ai, float b, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = a[ai + i] / b;
      }

      @Override
      long apply(long x, long y) {
        if (y == 0) throw new ArithmeticException("integer division by zero");
        return x / y; // truncation, as C++ and ONNX Runtime
      }
    },
    POW("Pow") {
      @Override
      public void apply(float[] a, int ai, float[] b, int bi, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = (float) Math.pow(a[ai + i], b[bi + i]);
      }

      @Override
      public void apply(float[] a, int ai, float b, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = (float) Math.pow(a[ai + i], b);
      }
    };

    /** The ONNX op type. */
    final String opType;

    Arithmetic(String opType) {
      this.opType = opType;
    }

    long apply(long x, long y) {
      throw new IllegalArgumentException(opType + " on int64 values is not supported");
    }
  }

  /** a op b with numpy broadcasting; the result takes the layout of an input of its shape. */
  static Tensor binary(Buffers buffers, Tensor a, Tensor b, Arithmetic op) {
    if (a.type == Tensor.Type.INT64 && b.type == Tensor.Type.INT64) return binaryLongs(a, b, op);
    // A broadcast first operand of a commutative op goes second, where runs take it as a scalar.
    if ((op == Arithmetic.ADD || op == Arithmetic.MUL) && a.size() < b.size())
      return binary(buffers, b, a, op);
    float[] af = floats(a, "input A"), bf = floats(b, "input B");
    int[] shape = broadcastShape(a.shape, b.shape);
    int[] outStrides =
        Arrays.equals(a.shape, shape)
            ? a.strides
            : Arrays.equals(b.shape, shape) ? b.strides : Tensor.standardStrides(shape);
    float[] out = buffers.floats(Tensor.numel(shape));
    Strided.map(
        shape,
        out,
        0,
        outStrides,
        af,
        0,
        alignedStrides(a, shape),
        bf,
        alignedStrides(b, shape),
        op);
    return new Tensor(out, shape, outStrides);
  }

  // Shape arithmetic (int64, small): row-major loops.
  private static Tensor binaryLongs(Tensor a, Tensor b, Arithmetic op) {
    int[] shape = broadcastShape(a.shape, b.shape);
    int[] as = alignedStrides(a, shape), bs = alignedStrides(b, shape);
    int n = Tensor.numel(shape);
    long[] out = new long[n];
    int[] idx = new int[shape.length];
    for (int i = 0; i < n; i++) {
      int ao = 0, bo = 0;
      for (int d = 0; d < shape.length; d++) {
        ao += idx[d] * as[d];
        bo += idx[d] * bs[d];
      }
      out[i] = op.apply(a.l[ao], b.l[bo]);
      for (int d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return new Tensor(out, shape);
  }

  /** (x - mean) / sqrt(var + eps) * scale + bias per channel (dimension 1), in x's layout. */
  static Tensor batchNorm(
      Buffers buffers, Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor var, float eps) {
    if (x.rank() < 2)
      throw new IllegalArgumentException("input " + x + " has no channel dimension");
    int c = x.shape[1];
    float[][] affine = batchNormAffine(scale, bias, mean, var, eps, c, null);
    float[] mul = affine[0], add = affine[1];
    float[] in = floats(x, "X"), out = buffers.floats(in.length);
    // Values lie in blocks of c channels, each channel a run of cs values (1 in NHWC, H·W in NCHW).
    int cs = x.shape[1] == 1 ? 1 : x.strides[1];
    for (int block = 0; block < in.length; block += c * cs)
      for (int k = 0; k < c; k++) {
        float m = mul[k], a = add[k];
        for (int i = block + k * cs; i < block + (k + 1) * cs; i++) out[i] = in[i] * m + a;
      }
    return new Tensor(out, x.shape, x.strides);
  }

  /**
   * BatchNormalization as y = x * mul[k] + add[k], returned as {mul, add}. With the bias of a Conv
   * before it (null for none), add is that Conv's new bias once its weights are scaled by mul:
   * (convBias - mean) * mul + bias, as ONNX Runtime folds it.
   */
  static float[][] batchNormAffine(
      Tensor scale, Tensor bias, Tensor mean, Tensor var, float eps, int c, float[] convBias) {
    float[] s = perChannel(scale, c, "scale"), b = perChannel(bias, c, "B");
    float[] m = perChannel(mean, c, "input_mean"), v = perChannel(var, c, "input_var");
    float[] mul = new float[c], add = new float[c];
    for (int k = 0; k < c; k++) {
      mul[k] = (float) (s[k] / Math.sqrt(v[k] + (double) eps));
      add[k] = ((convBias == null ? 0f : convBias[k]) - m[k]) * mul[k] + b[k];
    }
    return new float[][] {mul, add};
  }

  private static float[] perChannel(Tensor t, int c, String name) {
    if (t.type != Tensor.Type.FLOAT || t.size() != c)
      throw new IllegalArgumentException(
          name + " " + t + " must hold one float per channel (" + c + ")");
    return t.floats();
  }

  // --- spatial (NHWC) -----------------------------------------------------------------------

  /** MaxPool or AveragePool over an NCHW tensor, computed on NHWC values. */
  static Tensor pool(Buffers buffers, Tensor x, Attributes a, boolean max, String where) {
    if (x.rank() != 4) throw new IllegalArgumentException("only 2-D pooling (4-D input), got " + x);
    String autoPad = a.s("auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID"))
      throw new OnnxModelException(where + ": auto_pad " + autoPad + " is not supported");
    long[] k = a.ints("kernel_shape");
    if (k == null || k.length != 2)
      throw new OnnxModelException(where + ": kernel_shape must give 2 values");
    long[] s = a.ints("strides", 2, 1, 1);
    long[] p = autoPad.equals("VALID") ? new long[4] : a.ints("pads", 4, 0, 0, 0, 0);
    long[] d = a.ints("dilations", 2, 1, 1);
    if (d[0] != 1 || d[1] != 1)
      throw new OnnxModelException(where + ": dilated pooling is not supported");
    if (a.i("storage_order", 0) != 0)
      throw new OnnxModelException(where + ": storage_order 1 is not supported");
    boolean ceil = a.i("ceil_mode", 0) != 0;
    boolean countPad = a.i("count_include_pad", 0) != 0;
    int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    int kh = (int) k[0], kw = (int) k[1], sh = (int) s[0], sw = (int) s[1];
    int pt = (int) p[0], pl = (int) p[1], pb = (int) p[2], pr = (int) p[3];
    int oh = pooledSize(h, kh, sh, pt, pb, ceil), ow = pooledSize(w, kw, sw, pl, pr, ceil);
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || oh < 1 || ow < 1)
      throw new OnnxModelException(where + ": pooling " + Arrays.toString(k) + " on " + x);
    float[] in = x.toChannelsLast().f, out = buffers.floats(n * oh * ow * c);
    float[] acc = new float[c];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int z = 0; z < ow; z++) {
          int y0 = y * sh - pt, z0 = z * sw - pl;
          int y1 = Math.min(y0 + kh, h), z1 = Math.min(z0 + kw, w);
          int yPadEnd = Math.min(y0 + kh, h + pb), zPadEnd = Math.min(z0 + kw, w + pr);
          int ya = Math.max(y0, 0), za = Math.max(z0, 0);
          int o = ((b * oh + y) * ow + z) * c;
          if (max && y1 - ya == 2 && z1 - za == 2) { // 2x2 inside the input (BlazeFace, most CNNs)
            int p00 = ((b * h + ya) * w + za) * c, p10 = p00 + w * c;
            for (int ch = 0; ch < c; ch++)
              out[o + ch] =
                  Math.max(
                      Math.max(in[p00 + ch], in[p00 + c + ch]),
                      Math.max(in[p10 + ch], in[p10 + c + ch]));
            continue;
          }
          if (max) { // straight into the output: the window's first pixel, then the others
            if (ya >= y1 || za >= z1) {
              Arrays.fill(out, o, o + c, Float.NEGATIVE_INFINITY);
              continue;
            }
            System.arraycopy(in, ((b * h + ya) * w + za) * c, out, o, c);
            for (int yy = ya; yy < y1; yy++)
              for (int zz = yy == ya ? za + 1 : za; zz < z1; zz++) {
                int base = ((b * h + yy) * w + zz) * c;
                for (int ch = 0; ch < c; ch++) out[o + ch] = Math.max(out[o + ch], in[base + ch]);
              }
            continue;
          }
          Arrays.fill(acc, 0f);
          for (int yy = ya; yy < y1; yy++)
            for (int zz = za; zz < z1; zz++) {
              int base = ((b * h + yy) * w + zz) * c;
              for (int ch = 0; ch < c; ch++) acc[ch] += in[base + ch];
            }
          int count =
              countPad ? (yPadEnd - y0) * (zPadEnd - z0) : Math.max(1, (y1 - ya) * (z1 - za));
          for (int ch = 0; ch < c; ch++) out[o + ch] = acc[ch] / count;
        }
    return Tensor.channelsLast(out, n, c, oh, ow);
  }

  static int pooledSize(int in, int k, int s, int padBegin, int padEnd, boolean ceil) {
    int span = in + padBegin + padEnd - k;
    if (span < 0) return 0;
    int out = (ceil ? (span + s - 1) / s : span / s) + 1;
    // A window must start inside the input or the leading padding (ONNX Runtime's rule).
    if (ceil && (out - 1) * s >= in + padBegin) out--;
    return out;
  }

  static Tensor globalAveragePool(Buffers buffers, Tensor x) {
    if (x.rank() != 4) throw new IllegalArgumentException("a 4-D input expected, got " + x);
    int n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3];
    float[] in = x.toChannelsLast().f, out = buffers.floats(n * c);
    double[] acc = new double[c];
    for (int b = 0; b < n; b++) {
      Arrays.fill(acc, 0);
      for (int p = 0; p < hw; p++) {
        int base = (b * hw + p) * c;
        for (int ch = 0; ch < c; ch++) acc[ch] += in[base + ch];
      }
      for (int ch = 0; ch < c; ch++) out[b * c + ch] = (float) (acc[ch] / hw);
    }
    return Tensor.of(out, n, c, 1, 1);
  }

  /** Resize, mode nearest, over H and W of an NCHW tensor (N and C keep their size). */
  static Tensor resizeNearest(
      Buffers buffers, Tensor x, Tensor scales, Tensor sizes, Attributes a, String where) {
    String mode = a.s("mode", "nearest");
    if (!mode.equals("nearest"))
      throw new OnnxModelException(
          where + ": Resize mode " + mode + " is not supported (nearest only)");
    if (x.rank() != 4) throw new OnnxModelException(where + ": Resize of " + x + " (4-D only)");
    int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    int oh, ow;
    double scaleH, scaleW;
    if (sizes != null && sizes.size() > 0) {
      long[] sz = sizes.longs();
      if (sz.length != 4 || sz[0] != n || sz[1] != c)
        throw new OnnxModelException(where + ": Resize sizes " + Arrays.toString(sz));
      oh = (int) sz[2];
      ow = (int) sz[3];
      scaleH = (double) oh / h;
      scaleW = (double) ow / w;
    } else if (scales != null && scales.size() > 0) {
      float[] sc = scales.floats();
      if (sc.length != 4 || sc[0] != 1 || sc[1] != 1)
        throw new OnnxModelException(
            where + ": Resize scales " + Arrays.toString(sc) + " (N and C must keep their size)");
      scaleH = sc[2];
      scaleW = sc[3];
      oh = (int) Math.floor(h * scaleH);
      ow = (int) Math.floor(w * scaleW);
    } else throw new OnnxModelException(where + ": Resize needs scales or sizes");
    String coord = a.s("coordinate_transformation_mode", "half_pixel");
    String nearest = a.s("nearest_mode", "round_prefer_floor");
    int[] ys = new int[oh], xs = new int[ow];
    for (int i = 0; i < oh; i++) ys[i] = source(i, scaleH, h, oh, coord, nearest, where);
    for (int i = 0; i < ow; i++) xs[i] = source(i, scaleW, w, ow, coord, nearest, where);
    float[] in = x.toChannelsLast().f, out = buffers.floats(n * oh * ow * c);
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int z = 0; z < ow; z++)
          System.arraycopy(
              in, ((b * h + ys[y]) * w + xs[z]) * c, out, ((b * oh + y) * ow + z) * c, c);
    return Tensor.channelsLast(out, n, c, oh, ow);
  }

  private static int source(
      int o, double scale, int in, int out, String coord, String nearest, String where) {
    double v =
        switch (coord) {
          case "asymmetric" -> o / scale;
          case "half_pixel" -> (o + 0.5) / scale - 0.5;
          case "pytorch_half_pixel" -> out > 1 ? (o + 0.5) / scale - 0.5 : 0;
          case "align_corners" -> out > 1 ? o * (in - 1) / (double) (out - 1) : 0;
          case "tf_half_pixel_for_nn" -> (o + 0.5) / scale;
          default ->
              throw new OnnxModelException(
                  where + ": coordinate_transformation_mode " + coord + " is not supported");
        };
    long r =
        switch (nearest) {
          case "floor" -> (long) Math.floor(v);
          case "ceil" -> (long) Math.ceil(v);
          case "round_prefer_floor" ->
              v == Math.floor(v) + 0.5 ? (long) Math.floor(v) : Math.round(v);
          case "round_prefer_ceil" -> (long) Math.floor(v + 0.5);
          default ->
              throw new OnnxModelException(
                  where + ": nearest_mode " + nearest + " is not supported");
        };
    return (int) Math.max(0, Math.min(in - 1, r));
  }

  // --- reordering and indexing -----------------------------------------------------------------

  static Tensor concat(Buffers buffers, List<Tensor> in, int axis) {
    Tensor first = in.get(0);
    int r = first.rank();
    if (axis < -r || axis >= r)
      throw new IllegalArgumentException("axis " + axis + " for rank " + r);
    if (axis < 0) axis += r;
    int[] shape = first.shape.clone();
    shape[axis] = 0;
    // Channels-last when any input is (a convolution's output beside a constant, as BlazeFace
    // pads channels): the elementwise op that reads the result then meets equal strides.
    boolean channelsLast = false;
    for (Tensor t : in) {
      if (t.rank() != r || t.type != first.type)
        throw new IllegalArgumentException("inputs " + in + " differ in rank or type");
      for (int d = 0; d < r; d++)
        if (d != axis && t.shape[d] != first.shape[d])
          throw new IllegalArgumentException("input shapes " + in + " differ outside axis " + axis);
      shape[axis] += t.shape[axis];
      channelsLast |= r == 4 && t.type == Tensor.Type.FLOAT && t.isChannelsLast();
    }
    int[] os = channelsLast ? Tensor.channelsLastStrides(shape) : Tensor.standardStrides(shape);
    int offset = 0;
    if (first.type == Tensor.Type.INT64) {
      long[] out = new long[Tensor.numel(shape)];
      for (Tensor t : in) {
        Strided.copyLongs(t.shape, t.l, 0, t.strides, out, offset * os[axis], os);
        offset += t.shape[axis];
      }
      return new Tensor(out, shape);
    }
    float[] out = buffers.floats(Tensor.numel(shape));
    if (channelsLast && axis == 1) { // channels of NHWC pixels: one run per pixel and input
      int pixels = shape[0] * shape[2] * shape[3], c = shape[1];
      for (Tensor t : in) {
        Tensor cl = t.toChannelsLast();
        int ct = t.shape[1];
        if (!cl.isAllZero()) {
          float[] src = cl.f;
          for (int p = 0, o = offset; p < pixels; p++, o += c)
            System.arraycopy(src, p * ct, out, o, ct);
        } else // constant padding (BlazeFace's): zeros written, nothing read
        for (int p = 0, o = offset; p < pixels; p++, o += c) Arrays.fill(out, o, o + ct, 0f);
        offset += ct;
      }
      return new Tensor(out, shape, os);
    }
    for (Tensor t : in) {
      Strided.map(t.shape, out, offset * os[axis], os, t.f, 0, t.strides, null, null, null);
      offset += t.shape[axis];
    }
    return new Tensor(out, shape, os);
  }

  static Tensor reshape(Tensor x, long[] target, boolean allowZero) {
    int[] shape = new int[target.length];
    int infer = -1;
    long known = 1;
    for (int i = 0; i < target.length; i++) {
      long d = target[i];
      if (d == -1) {
        if (infer >= 0)
          throw new IllegalArgumentException("two -1 in shape " + Arrays.toString(target));
        infer = i;
        continue;
      }
      if (d == 0 && !allowZero) {
        if (i >= x.rank())
          throw new IllegalArgumentException(
              "shape " + Arrays.toString(target) + ": 0 beyond the input's rank");
        d = x.shape[i];
      }
      if (d < 0) throw new IllegalArgumentException("shape " + Arrays.toString(target));
      shape[i] = (int) d;
      known *= d;
    }
    if (infer >= 0) {
      if (known == 0 || x.size() % known != 0)
        throw new IllegalArgumentException(
            "cannot reshape " + x + " to " + Arrays.toString(target));
      shape[infer] = (int) (x.size() / known);
    }
    return x.reshape(shape);
  }

  static Tensor slice(Tensor x, long[] starts, long[] ends, long[] axes, long[] steps) {
    int r = x.rank();
    int[] start = new int[r], step = new int[r], count = x.shape.clone();
    Arrays.fill(step, 1);
    if (starts.length != ends.length
        || (axes != null && axes.length != starts.length)
        || (steps != null && steps.length != starts.length))
      throw new IllegalArgumentException("starts, ends, axes and steps differ in length");
    for (int i = 0; i < starts.length; i++) {
      int ax = axes == null ? i : (int) (axes[i] < 0 ? axes[i] + r : axes[i]);
      if (ax < 0 || ax >= r) throw new IllegalArgumentException("axis " + axes[i] + " for " + x);
      long st = steps == null ? 1 : steps[i];
      if (st == 0) throw new IllegalArgumentException("step 0");
      long dim = x.shape[ax];
      long s = starts[i], e = ends[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      if (st > 0) {
        s = Math.max(0, Math.min(dim, s));
        e = Math.max(0, Math.min(dim, e));
        count[ax] = (int) Math.max(0, (e - s + st - 1) / st);
      } else {
        s = Math.max(-1, Math.min(dim - 1, s));
        e = Math.max(-1, Math.min(dim - 1, e));
        count[ax] = (int) Math.max(0, (s - e + (-st) - 1) / (-st));
      }
      start[ax] = (int) s;
      step[ax] = (int) st;
    }
    int offset = 0;
    int[] viewStrides = new int[r];
    for (int d = 0; d < r; d++) {
      offset += start[d] * x.strides[d];
      viewStrides[d] = x.strides[d] * step[d];
    }
    int[] os = Tensor.standardStrides(count);
    if (x.type == Tensor.Type.INT64) {
      long[] out = new long[Tensor.numel(count)];
      Strided.copyLongs(count, x.l, offset, viewStrides, out, 0, os);
      return new Tensor(out, count);
    }
    float[] out = new float[Tensor.numel(count)];
    Strided.map(count, out, 0, os, x.f, offset, viewStrides, null, null, null);
    return new Tensor(out, count, os);
  }

  static Tensor pad(Tensor x, long[] pads, float value, String mode) {
    if (!mode.equals("constant"))
      throw new IllegalArgumentException("Pad mode " + mode + " is not supported (constant only)");
    int r = x.rank();
    if (pads.length != 2 * r)
      throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " for rank " + r);
    int[] shape = new int[r];
    for (int d = 0; d < r; d++) {
      if (pads[d] < 0 || pads[d + r] < 0)
        throw new IllegalArgumentException("negative pads " + Arrays.toString(pads));
      shape[d] = (int) (x.shape[d] + pads[d] + pads[d + r]);
    }
    Tensor s = x.type == Tensor.Type.FLOAT ? x : x.standard();
    boolean channelsLast = r == 4 && x.isChannelsLast();
    int[] os = channelsLast ? Tensor.channelsLastStrides(shape) : Tensor.standardStrides(shape);
    int offset = 0;
    for (int d = 0; d < r; d++) offset += (int) pads[d] * os[d];
    if (x.type == Tensor.Type.INT64) {
      long[] out = new long[Tensor.numel(shape)];
      Arrays.fill(out, (long) value);
      Strided.copyLongs(x.shape, s.l, 0, s.strides, out, offset, os);
      return new Tensor(out, shape);
    }
    float[] out = new float[Tensor.numel(shape)];
    Arrays.fill(out, value);
    Strided.map(x.shape, out, offset, os, s.f, 0, s.strides, null, null, null);
    return new Tensor(out, shape, os);
  }

  static Tensor matMul(Tensor a, Tensor b) {
    if (a.rank() < 2 || b.rank() < 2)
      throw new IllegalArgumentException(
          "MatMul of " + a + " and " + b + " (1-D operands unsupported)");
    int m = a.shape[a.rank() - 2], k = a.shape[a.rank() - 1];
    int k2 = b.shape[b.rank() - 2], n = b.shape[b.rank() - 1];
    if (k != k2) throw new IllegalArgumentException("MatMul of " + a + " and " + b);
    int[] batchA = Arrays.copyOf(a.shape, a.rank() - 2),
        batchB = Arrays.copyOf(b.shape, b.rank() - 2);
    int[] batch = broadcastShape(batchA, batchB);
    int batches = Tensor.numel(batch);
    int sizeA = Tensor.numel(batchA), sizeB = Tensor.numel(batchB);
    if ((sizeA != batches && sizeA != 1) || (sizeB != batches && sizeB != 1))
      throw new IllegalArgumentException("MatMul batch broadcasting of " + a + " and " + b);
    floats(a, "A");
    floats(b, "B");
    float[] af = a.standard().f, bf = b.standard().f;
    float[] out = new float[batches * m * n];
    for (int t = 0; t < batches; t++) {
      int ao = (sizeA == 1 ? 0 : t) * m * k, bo = (sizeB == 1 ? 0 : t) * k * n, oo = t * m * n;
      for (int i = 0; i < m; i++)
        for (int p = 0; p < k; p++) {
          float v = af[ao + i * k + p];
          int brow = bo + p * n, orow = oo + i * n;
          for (int j = 0; j < n; j++) out[orow + j] += v * bf[brow + j];
        }
    }
    int[] shape = Arrays.copyOf(batch, batch.length + 2);
    shape[batch.length] = m;
    shape[batch.length + 1] = n;
    return new Tensor(out, shape, Tensor.standardStrides(shape));
  }

  /**
   * Softmax: before opset 13 over the input flattened to 2-D at axis (default 1), from 13 on along
   * axis (default -1).
   */
  static Tensor softmax(Tensor x, long axisAttr, boolean flattenSemantics) {
    int r = x.rank();
    int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
    if (axis < 0 || axis >= Math.max(r, 1))
      throw new IllegalArgumentException("axis " + axisAttr + " for " + x);
    Tensor s = x.standard();
    int outer = 1, len = 1, inner = 1;
    for (int d = 0; d < r; d++) {
      if (d < axis) outer *= x.shape[d];
      else if (d == axis || flattenSemantics) len *= x.shape[d];
      else inner *= x.shape[d];
    }
    float[] in = s.f, out = new float[in.length];
    for (int o = 0; o < outer; o++)
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) max = Math.max(max, in[base + j * inner]);
        double sum = 0;
        for (int j = 0; j < len; j++) {
          float e = (float) Math.exp(in[base + j * inner] - max);
          out[base + j * inner] = e;
          sum += e;
        }
        for (int j = 0; j < len; j++) out[base + j * inner] = (float) (out[base + j * inner] / sum);
      }
    return new Tensor(out, x.shape, Tensor.standardStrides(x.shape));
  }

  /** The mean over the given axes (all if null), those axes kept as 1 if keepDims. */
  static Tensor reduceMean(Tensor x, long[] axes, boolean keepDims) {
    int r = x.rank();
    boolean[] reduce = new boolean[r];
    if (axes == null) Arrays.fill(reduce, true);
    else
      for (long ax : axes) {
        int d = (int) (ax < 0 ? ax + r : ax);
        if (d < 0 || d >= r) throw new IllegalArgumentException("axis " + ax + " for " + x);
        reduce[d] = true;
      }
    int[] kept = new int[r];
    int count = 1;
    for (int d = 0; d < r; d++) {
      kept[d] = reduce[d] ? 1 : x.shape[d];
      if (reduce[d]) count *= x.shape[d];
    }
    int[] keptStrides = Tensor.standardStrides(kept);
    float[] in = floats(x, "data");
    double[] acc = new double[Tensor.numel(kept)];
    int[] idx = new int[r];
    Tensor s = x.standard();
    in = s.f;
    for (int i = 0; i < in.length; i++) {
      int o = 0;
      for (int d = 0; d < r; d++) if (!reduce[d]) o += idx[d] * keptStrides[d];
      acc[o] += in[i];
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < x.shape[d]) break;
        idx[d] = 0;
      }
    }
    float[] out = new float[acc.length];
    for (int i = 0; i < out.length; i++) out[i] = (float) (acc[i] / count);
    if (keepDims) return new Tensor(out, kept, keptStrides);
    int[] shape = new int[r];
    int k = 0;
    for (int d = 0; d < r; d++) if (!reduce[d]) shape[k++] = x.shape[d];
    shape = Arrays.copyOf(shape, k);
    return new Tensor(out, shape, Tensor.standardStrides(shape));
  }

  static Tensor cast(Tensor x, long to) {
    boolean toFloat = to == 1 || to == 11 || to == 10 || to == 16;
    boolean toInt = to == 6 || to == 7 || to == 2 || to == 3 || to == 9 || to == 12 || to == 13;
    if (!toFloat && !toInt)
      throw new IllegalArgumentException("Cast to data type " + to + " is not supported");
    if (toFloat) {
      if (x.type == Tensor.Type.FLOAT) return x;
      float[] out = new float[x.l.length];
      for (int i = 0; i < out.length; i++) out[i] = x.l[i];
      return new Tensor(out, x.shape, x.strides);
    }
    if (x.type == Tensor.Type.INT64) return x;
    float[] in = x.standard().f;
    long[] out = new long[in.length];
    for (int i = 0; i < out.length; i++) out[i] = to == 9 ? (in[i] != 0 ? 1 : 0) : (long) in[i];
    return new Tensor(out, x.shape);
  }

  static float[] floats(Tensor t, String name) {
    if (t.type != Tensor.Type.FLOAT)
      throw new IllegalArgumentException(name + " " + t + " is not float");
    return t.f;
  }
}
