package org.mec4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;

/** Seeded random layers and data for the tests; -Dmec4j.test.seed=N replays a run. */
final class TestShapes {
  private TestShapes() {}

  /** The GEMM-based algorithms, each checked against {@link Algorithm#REFERENCE}. */
  static final Algorithm[] FAST = {
    Algorithm.IM2COL,
    Algorithm.MEC,
    Algorithm.MEC_A,
    Algorithm.MEC_B,
    Algorithm.MEC_ROWS,
    Algorithm.MEC_FUSED,
    Algorithm.DEPTHWISE
  };

  /**
   * What the implementation list says: MEC_A and MEC_B need one contiguous window per output row
   * (no groups, no dilation down the rows), MEC_A also |output| <= |L| (Solution B's workspace, the
   * whole lowering); MEC_ROWS no groups.
   */
  static boolean supports(Conv2d spec, Algorithm a) {
    boolean oneWindow = spec.groups() == 1 && spec.dilationHeight() == 1;
    return switch (a) {
      case MEC_A ->
          oneWindow && spec.outputSize() <= spec.workspaceBytes(Algorithm.MEC_B) / Float.BYTES;
      case MEC_B -> oneWindow;
      case MEC_ROWS -> spec.groups() == 1;
      case DEPTHWISE -> spec.isDepthwise();
      default -> true;
    };
  }

  /** The output of every fast algorithm that supports the layer, each with its own workspace. */
  static java.util.Map<Algorithm, float[]> fastOutputs(
      Conv2d spec, float[] in, float[] k, float[] bias) {
    java.util.Map<Algorithm, float[]> outputs = new java.util.LinkedHashMap<>();
    for (Algorithm a : FAST) {
      if (!supports(spec, a)) continue;
      float[] out = new float[Math.toIntExact(spec.outputSize())];
      try (Convolution c = Convolution.create(spec, a)) {
        c.forward(in, 0, k, 0, bias, 0, out, 0);
      }
      outputs.put(a, out);
    }
    return outputs;
  }

  /**
   * Whether the BLAS promises the same bits whatever the buffers' alignment: OpenBLAS does, MKL
   * only in its reproducibility mode (MKL_CBWR, as the test-mkl run sets; test-mkl-default-mode
   * does not).
   */
  static boolean alignmentIndependentBits() {
    return !"mkl".equalsIgnoreCase(System.getProperty(Blas.BLAS_PROPERTY))
        || System.getenv("MKL_CBWR") != null;
  }

  static long seed() {
    return Long.getLong("mec4j.test.seed", 20170706L);
  }

  /**
   * Random small layers: odd sizes, strides above the kernel, padding up to two beyond the kernel,
   * 1x1 kernels, batch > 1; a quarter grouped (depthwise among them), a fifth dilated.
   */
  static List<Conv2d> random(Random r, int count) {
    List<Conv2d> shapes = new ArrayList<>();
    while (shapes.size() < count) shapes.add(randomLayer(r, 5, 12, 6, 7, 3, 4));
    return shapes;
  }

  /** One random layer with kernels up to maxKernel, inputs up to minimum + maxExtra, etc. */
  static Conv2d randomLayer(
      Random r,
      int maxKernel,
      int maxExtra,
      int maxChannels,
      int maxOut,
      int maxBatch,
      int maxStride) {
    int kh = 1 + r.nextInt(maxKernel), kw = 1 + r.nextInt(maxKernel);
    int pt = r.nextInt(kh + 2),
        pb = r.nextInt(kh + 2),
        pl = r.nextInt(kw + 2),
        pr = r.nextInt(kw + 2);
    int groups = 1, ic = 1 + r.nextInt(maxChannels), oc = 1 + r.nextInt(maxOut);
    if (r.nextInt(4) == 0) {
      groups = 2 + r.nextInt(3);
      ic = groups * (r.nextBoolean() ? 1 : 1 + r.nextInt(3)); // half of them depthwise
      oc = groups * (1 + r.nextInt(3));
    }
    int dh = 1, dw = 1;
    if (r.nextInt(5) == 0) {
      dh = 1 + r.nextInt(3);
      dw = 1 + r.nextInt(3);
    }
    int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
    int ih = Math.max(1, ekh - pt - pb) + r.nextInt(maxExtra),
        iw = Math.max(1, ekw - pl - pr) + r.nextInt(maxExtra);
    return Conv2d.builder()
        .batch(1 + r.nextInt(maxBatch))
        .input(ih, iw, ic)
        .kernel(kh, kw)
        .outputChannels(oc)
        .stride(1 + r.nextInt(maxStride), 1 + r.nextInt(maxStride))
        .padding(pt, pb, pl, pr)
        .groups(groups)
        .dilation(dh, dw)
        .mecThreshold(1 + r.nextInt(16))
        .build();
  }

  /** Small integers in [-3, 3]: every product and sum is exact in float, in any order. */
  static float[] integers(Random r, long n) {
    float[] a = new float[Math.toIntExact(n)];
    for (int i = 0; i < a.length; i++) a[i] = r.nextInt(7) - 3;
    return a;
  }

  static float[] uniform(Random r, long n) {
    float[] a = new float[Math.toIntExact(n)];
    for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() * 2 - 1;
    return a;
  }

  /** Fills the workspace with NaN (all bits set), so that reading stale data would show. */
  static void poison(Workspace ws) {
    Pointer.memset(ws.pointer(), 0xFF, ws.bytes());
  }

  static float[] reference(Conv2d spec, float[] in, float[] k, float[] bias) {
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    try (Convolution c = Convolution.create(spec, Algorithm.REFERENCE)) {
      if (bias == null) c.forward(in, k, out);
      else c.forward(in, k, bias, out);
    }
    return out;
  }

  /**
   * A second oracle, independent of the native library: direct loops in double, written from the
   * layout documentation alone (NHWC input, per-group HWIO kernel, dilation, zero padding).
   */
  static float[] javaReference(Conv2d spec, float[] in, float[] k, float[] bias) {
    int n = (int) spec.batch(),
        ih = (int) spec.inputHeight(),
        iw = (int) spec.inputWidth(),
        ic = (int) spec.inputChannels();
    int kh = (int) spec.kernelHeight(),
        kw = (int) spec.kernelWidth(),
        kc = (int) spec.outputChannels();
    int oh = (int) spec.outputHeight(), ow = (int) spec.outputWidth(), g = (int) spec.groups();
    int icg = ic / g, kcg = kc / g;
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          for (int o = 0; o < kc; o++) {
            int group = o / kcg, j = o % kcg;
            double acc = bias == null ? 0 : bias[o];
            for (int r = 0; r < kh; r++)
              for (int q = 0; q < kw; q++) {
                long iy =
                    (long) y * spec.strideHeight()
                        + (long) r * spec.dilationHeight()
                        - spec.padTop();
                long ix =
                    (long) x * spec.strideWidth()
                        + (long) q * spec.dilationWidth()
                        - spec.padLeft();
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                for (int c = 0; c < icg; c++)
                  acc +=
                      (double) in[(int) (((b * ih + iy) * iw + ix) * ic + group * icg + c)]
                          * k[(((group * kh + r) * kw + q) * icg + c) * kcg + j];
              }
            out[((b * oh + y) * ow + x) * kc + o] = (float) acc;
          }
    return out;
  }

  /** Relative tolerance for float inputs in [-1, 1]: grows with sqrt of the dot-product length. */
  static float tolerance(Conv2d spec, float expected) {
    double k = spec.kernelHeight() * spec.kernelWidth() * spec.inputChannels() / spec.groups();
    return (float) (1e-5 * Math.sqrt(k) * (1 + Math.abs(expected)) * 4);
  }

  /** The algorithms with backward passes, each checked against {@link Algorithm#REFERENCE}. */
  static final Algorithm[] BACKWARD = {
    Algorithm.IM2COL, Algorithm.MEC, Algorithm.MEC_ROWS, Algorithm.MEC_FUSED, Algorithm.DEPTHWISE
  };

  /**
   * What the implementation list says for the backward passes: DEPTHWISE only on depthwise layers;
   * MEC_FUSED's backward data at stride 1 only; MEC's passes (one image or row band at a time) not
   * under a limit so small that the forward tiles single output columns.
   */
  static boolean supportsBackward(Conv2d spec, Algorithm a, Direction d) {
    return switch (a) {
      case DEPTHWISE -> spec.isDepthwise();
      case MEC_ROWS -> !columnTiled(spec);
      case MEC_FUSED ->
          d == Direction.BACKWARD_WEIGHTS ? !columnTiled(spec) : backwardDataAsForward(spec);
      case MEC -> spec.isDepthwise() || !columnTiled(spec);
      case REFERENCE, IM2COL -> true;
      default -> false;
    };
  }

  /**
   * MEC_FUSED's backward data, a forward convolution of the output's gradient: stride 1, padding
   * within the kernel's extent, the default workspace.
   */
  static boolean backwardDataAsForward(Conv2d spec) {
    long eh = (spec.kernelHeight() - 1) * spec.dilationHeight();
    long ew = (spec.kernelWidth() - 1) * spec.dilationWidth();
    return spec.strideHeight() == 1
        && spec.strideWidth() == 1
        && spec.mecWorkspaceLimit() == 0
        && spec.padTop() <= eh
        && spec.padBottom() <= eh
        && spec.padLeft() <= ew
        && spec.padRight() <= ew;
  }

  /** Whether MEC's workspace limit leaves less than one band of output rows of one image. */
  static boolean columnTiled(Conv2d spec) {
    if (spec.mecWorkspaceLimit() <= 0) return false;
    long limit = spec.mecWorkspaceLimit() / Float.BYTES;
    long ihp = spec.inputHeight() + spec.padTop() + spec.padBottom();
    long row = spec.outputWidth() * spec.kernelWidth() * spec.inputChannels();
    long ekh = (spec.kernelHeight() - 1) * spec.dilationHeight() + 1;
    long lowered = spec.batch() * ihp * row;
    return lowered > limit && ihp * row > limit && ekh * row > limit;
  }

  /**
   * The layer under a MEC workspace limit between one band of output rows and one image's lowering.
   */
  static Conv2d withBandLimit(Conv2d spec, Random r) {
    long ihp = spec.inputHeight() + spec.padTop() + spec.padBottom();
    long row = spec.outputWidth() * spec.kernelWidth() * spec.inputChannels() * Float.BYTES;
    long band = ((spec.kernelHeight() - 1) * spec.dilationHeight() + 1) * row;
    return spec.toBuilder()
        .mecWorkspaceLimit(band + (long) (r.nextDouble() * (ihp * row - band)))
        .build();
  }

  /** Both backward passes of the reference: {gradInput, gradKernel, gradBias}. */
  static float[][] referenceBackward(Conv2d spec, float[] in, float[] k, float[] gradOut) {
    float[][] g = emptyGradients(spec);
    try (Convolution c = Convolution.create(spec, Algorithm.REFERENCE)) {
      c.backwardData(gradOut, k, g[0]);
      c.backwardWeights(in, gradOut, g[1], g[2]);
    }
    return g;
  }

  static float[][] emptyGradients(Conv2d spec) {
    return new float[][] {
      new float[Math.toIntExact(spec.inputSize())],
      new float[Math.toIntExact(spec.kernelSize())],
      new float[Math.toIntExact(spec.biasSize())]
    };
  }

  /**
   * The backward passes' independent oracle: every forward product in(pixel) * k(tap) scattered
   * back to its two factors' gradients (the forward loops of {@link #javaReference}, run in
   * reverse), in double. Returns {gradInput, gradKernel, gradBias}.
   */
  static float[][] javaBackward(Conv2d spec, float[] in, float[] k, float[] gradOut) {
    int n = (int) spec.batch(),
        ih = (int) spec.inputHeight(),
        iw = (int) spec.inputWidth(),
        ic = (int) spec.inputChannels();
    int kh = (int) spec.kernelHeight(),
        kw = (int) spec.kernelWidth(),
        kc = (int) spec.outputChannels();
    int oh = (int) spec.outputHeight(), ow = (int) spec.outputWidth(), g = (int) spec.groups();
    int icg = ic / g, kcg = kc / g;
    double[] gIn = new double[in.length], gK = new double[k.length], gB = new double[kc];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          for (int o = 0; o < kc; o++) {
            int group = o / kcg, j = o % kcg;
            double d = gradOut[((b * oh + y) * ow + x) * kc + o];
            gB[o] += d;
            for (int r = 0; r < kh; r++)
              for (int q = 0; q < kw; q++) {
                long iy =
                    (long) y * spec.strideHeight()
                        + (long) r * spec.dilationHeight()
                        - spec.padTop();
                long ix =
                    (long) x * spec.strideWidth()
                        + (long) q * spec.dilationWidth()
                        - spec.padLeft();
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                for (int c = 0; c < icg; c++) {
                  int pixel = (int) (((b * ih + iy) * iw + ix) * ic + group * icg + c);
                  int tap = (((group * kh + r) * kw + q) * icg + c) * kcg + j;
                  gIn[pixel] += d * k[tap];
                  gK[tap] += d * in[pixel];
                }
              }
          }
    return new float[][] {toFloats(gIn), toFloats(gK), toFloats(gB)};
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
    return f;
  }

  /** Tolerance of a backward output for float data in [-1, 1]: sums of `terms` products. */
  static float backwardTolerance(long terms, float expected) {
    return (float) (1e-5 * Math.sqrt(terms) * (1 + Math.abs(expected)) * 4);
  }

  /** Products summed into one element of each gradient: {gradInput, gradKernel, gradBias}. */
  static long[] backwardTerms(Conv2d spec) {
    long pixels = spec.batch() * spec.outputHeight() * spec.outputWidth();
    return new long[] {
      spec.kernelHeight() * spec.kernelWidth() * spec.outputChannels() / spec.groups(),
      pixels,
      pixels
    };
  }
}
