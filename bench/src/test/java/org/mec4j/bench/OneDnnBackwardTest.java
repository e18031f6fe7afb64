package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mec4j.Conv2d;

/**
 * oneDNN's backward passes against a direct double-precision loop, on the layouts the runner hands
 * it.
 */
class OneDnnBackwardTest {
  @org.junit.jupiter.api.BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
    org.mec4j.Blas.backend(); // JavaCPP's allocator comes with the library
  }

  /**
   * Plain, strided, padded, grouped, depthwise, dilated, and padding wider than the kernel (outputs
   * that see only zeros).
   */
  static final String[] SHAPES = {
    "mb2ih9iw11ic3oc4kh3kw2sh1sw2",
    "mb1ih8ic4oc5kh3sh2ph1pw2",
    "mb3ih7ic2oc3kh7",
    "mb2ih6ic8oc20kh1",
    "mb2ih9iw8ic6oc4kh3kw2g2ph1",
    "mb1ih10ic8oc8kh3g8ph1sh2sw2",
    "mb2ih11iw9ic3oc4kh3dh1dw2ph2",
    "mb1ih7ic4oc8kh3g4dh1ph4pw3",
    "mb2ih12ic6oc6kh3g3dh1ph2sh2"
  };

  /**
   * The backward passes by their definition, in double: with h = y·s_h + r·d_h − p_t and w = x·s_w
   * + q·d_w − p_l inside the input, dIn[n,h,w,c] = Σ dO[n,y,x,o]·K[g][r][q][c mod icg][o mod kcg],
   * dK[g][r][q][ci][co] = Σ in[n,h,w,g·icg+ci]·dO[n,y,x,g·kcg+co], dBias[o] = Σ dO[n,y,x,o]; o and
   * c in the same group g. Returns {dIn, dK, dBias}.
   */
  static double[][] reference(Conv2d c, float[] in, float[] k, float[] dO) {
    int n = (int) c.batch(),
        ih = (int) c.inputHeight(),
        iw = (int) c.inputWidth(),
        ic = (int) c.inputChannels();
    int oh = (int) c.outputHeight(), ow = (int) c.outputWidth(), oc = (int) c.outputChannels();
    int kh = (int) c.kernelHeight(),
        kw = (int) c.kernelWidth(),
        g = (int) c.groups(),
        icg = ic / g,
        kcg = oc / g;
    int sh = (int) c.strideHeight(),
        sw = (int) c.strideWidth(),
        dh = (int) c.dilationHeight(),
        dw = (int) c.dilationWidth();
    int pt = (int) c.padTop(), pl = (int) c.padLeft();
    double[] dIn = new double[in.length], dK = new double[k.length], dB = new double[oc];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          for (int o = 0; o < oc; o++) {
            double go = dO[((b * oh + y) * ow + x) * oc + o];
            dB[o] += go;
            int gr = o / kcg, co = o % kcg;
            for (int r = 0; r < kh; r++) {
              int h = y * sh + r * dh - pt;
              if (h < 0 || h >= ih) continue;
              for (int q = 0; q < kw; q++) {
                int w = x * sw + q * dw - pl;
                if (w < 0 || w >= iw) continue;
                for (int ci = 0; ci < icg; ci++) {
                  int ii = ((b * ih + h) * iw + w) * ic + gr * icg + ci;
                  int ki = (((gr * kh + r) * kw + q) * icg + ci) * kcg + co;
                  dIn[ii] += go * k[ki];
                  dK[ki] += go * in[ii];
                }
              }
            }
          }
    return new double[][] {dIn, dK, dB};
  }

  static float[] floats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
    return f;
  }

  static float[] floats(NativeFloats b) {
    float[] f = new float[(int) b.size()];
    b.read(0, f, f.length);
    return f;
  }

  @Test
  void backwardDataAndWeightsMatchTheDefinition() {
    for (String shape : SHAPES) {
      Conv2d c = Conv2d.parse(shape);
      try (NativeFloats in = new NativeFloats(c.inputSize()).fillRandom(1);
          NativeFloats k = new NativeFloats(c.kernelSize()).fillRandom(2);
          NativeFloats dO = new NativeFloats(c.outputSize()).fillRandom(3);
          NativeFloats dIn = new NativeFloats(c.inputSize());
          NativeFloats dK = new NativeFloats(c.kernelSize());
          NativeFloats dB = new NativeFloats(c.outputChannels());
          OneDnnConv bd = OneDnnConv.backwardData(c, dO, k, dIn);
          OneDnnConv bw = OneDnnConv.backwardWeights(c, in, dO, dK, dB)) {
        double[][] ref = reference(c, floats(in), floats(k), floats(dO));
        // NaN first: every element must be written (BWD_W with a reorder: by the reorder into HWIO)
        for (int rep = 0; rep < 2; rep++) { // the second call must not accumulate onto the first
          dIn.fill(Float.NaN);
          dK.fill(Float.NaN);
          dB.fill(Float.NaN);
          bd.run();
          bw.run();
          String what =
              shape
                  + " ("
                  + bd.impl()
                  + " / "
                  + bw.impl()
                  + (bw.reordersGradients() ? ", reordered to HWIO" : ", HWIO")
                  + ")";
          Checker.Result rd =
              Checker.compare(
                  floats(dIn),
                  floats(ref[0]),
                  Layer.dotLength(c, Dir.BWD_D),
                  Checker.DEFAULT_FACTOR);
          assertTrue(rd.ok(), "diff_src " + what + ": " + rd);
          Checker.Result rw =
              Checker.compare(
                  floats(dK),
                  floats(ref[1]),
                  Layer.dotLength(c, Dir.BWD_W),
                  Checker.DEFAULT_FACTOR);
          assertTrue(rw.ok(), "diff_weights " + what + ": " + rw);
          Checker.Result rb =
              Checker.compare(
                  floats(dB),
                  floats(ref[2]),
                  Layer.dotLength(c, Dir.BWD_W),
                  Checker.DEFAULT_FACTOR);
          assertTrue(rb.ok(), "diff_bias " + what + ": " + rb);
        }
        assertEquals(Dir.BWD_D, bd.direction());
        assertTrue(bd.scratchpadBytes() >= 0 && bw.scratchpadBytes() >= 0);
        assertFalse(bd.impl().isBlank() || bw.impl().isBlank());
        assertEquals(bw.reordersGradients(), bw.reorderedWeightsBytes() > 0, shape);
      }
    }
  }

  @Test
  void theReferenceIsTheAdjointOfTheForward() {
    // <conv(in, K), dO> = <in, dIn(dO, K)> = <K, dK(in, dO)>: pins the reference's indexing against
    // mec4j's forward.
    for (String shape : SHAPES) {
      Conv2d c = Conv2d.parse(shape);
      try (NativeFloats in = new NativeFloats(c.inputSize()).fillRandom(4);
          NativeFloats k = new NativeFloats(c.kernelSize()).fillRandom(5);
          NativeFloats dO = new NativeFloats(c.outputSize()).fillRandom(6);
          NativeFloats out = new NativeFloats(c.outputSize());
          org.mec4j.Convolution ref =
              org.mec4j.Convolution.create(c, org.mec4j.Algorithm.REFERENCE)) {
        ref.forward(in.pointer(), k.pointer(), null, out.pointer());
        float[] fi = floats(in), fk = floats(k), fo = floats(dO), y = floats(out);
        double[][] r = reference(c, fi, fk, fo);
        double lhs = 0, din = 0, dk = 0, scale = 0;
        for (int i = 0; i < y.length; i++) {
          lhs += (double) y[i] * fo[i];
          scale += Math.abs((double) y[i] * fo[i]);
        }
        for (int i = 0; i < fi.length; i++) din += fi[i] * r[0][i];
        for (int i = 0; i < fk.length; i++) dk += fk[i] * r[1][i];
        assertEquals(lhs, din, 1e-5 * scale, shape);
        assertEquals(lhs, dk, 1e-5 * scale, shape);
      }
    }
  }
}
