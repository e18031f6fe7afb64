package org.mec4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;

/** Seeded random layers and data for the tests; -Dmec4j.test.seed=N replays a run. */
final class TestShapes {
  private TestShapes() {}

  /** The GEMM-based algorithms, each checked against {@link Algorithm#REFERENCE}. */
  static final Algorithm[] FAST = {Algorithm.IM2COL, Algorithm.MEC, Algorithm.MEC_A, Algorithm.MEC_B, Algorithm.MEC_ROWS, Algorithm.MEC_FUSED};

  /** MEC_A needs |output| <= |workspace|; everything else runs every layer. */
  static boolean supports(Conv2d spec, Algorithm a) {
    return a != Algorithm.MEC_A || spec.outputSize() <= spec.workspaceBytes(Algorithm.MEC) / Float.BYTES;
  }

  /** The output of every fast algorithm that supports the layer, each with its own workspace. */
  static java.util.Map<Algorithm, float[]> fastOutputs(Conv2d spec, float[] in, float[] k, float[] bias) {
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

  static long seed() {
    return Long.getLong("mec4j.test.seed", 20170706L);
  }

  /** Random small layers: odd sizes, strides above the kernel, padding, 1x1 kernels, batch > 1. */
  static List<Conv2d> random(Random r, int count) {
    List<Conv2d> shapes = new ArrayList<>();
    while (shapes.size() < count) {
      int kh = 1 + r.nextInt(5), kw = 1 + r.nextInt(5);
      int pt = r.nextInt(kh), pb = r.nextInt(kh), pl = r.nextInt(kw), pr = r.nextInt(kw);
      int ih = Math.max(1, kh - pt - pb) + r.nextInt(12), iw = Math.max(1, kw - pl - pr) + r.nextInt(12);
      shapes.add(Conv2d.builder().batch(1 + r.nextInt(3)).input(ih, iw, 1 + r.nextInt(6)).kernel(kh, kw)
          .outputChannels(1 + r.nextInt(7)).stride(1 + r.nextInt(4), 1 + r.nextInt(4))
          .padding(pt, pb, pl, pr).mecThreshold(1 + r.nextInt(16)).build());
    }
    return shapes;
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

  /** Relative tolerance for float inputs in [-1, 1]: grows with sqrt of the dot-product length. */
  static float tolerance(Conv2d spec, float expected) {
    double k = spec.kernelHeight() * spec.kernelWidth() * spec.inputChannels();
    return (float) (1e-5 * Math.sqrt(k) * (1 + Math.abs(expected)) * 4);
  }
}
