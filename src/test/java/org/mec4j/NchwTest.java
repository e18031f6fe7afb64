package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * NCHW layers (OIHW kernels) give the NHWC layer's results on transposed data, bit for bit on
 * integers (run at each ISA cap by the build); what does not take NCHW says so.
 */
class NchwTest {
  private static final String[] SHAPES = {
    "mb2ih11iw9ic40oc37kh3kw3ph1pw1",
    "mb1ih12iw12ic16oc64kh3kw3",
    "mb3ih6iw5ic33oc19kh1kw1sh2sw1",
    "mb1ih9iw8ic64oc96kh3kw3ph1pw1g4",
    "mb2ih10iw10ic24oc24kh3kw3sh2sw2ph1pw1g24",
    "mb1ih9iw9ic8oc20kh5kw5ph2pw2dh1dw1",
    "mb1ih227iw227ic3oc16kh11kw11sh4sw4"
  };

  /** NHWC (n, h, w, c) to NCHW. */
  static float[] toNchw(float[] nhwc, long n, long h, long w, long c) {
    float[] out = new float[nhwc.length];
    int i = 0;
    for (long b = 0; b < n; b++)
      for (long y = 0; y < h; y++)
        for (long x = 0; x < w; x++)
          for (long ch = 0; ch < c; ch++) out[(int) (((b * c + ch) * h + y) * w + x)] = nhwc[i++];
    return out;
  }

  /** mec4j's HWIO kernel (per group) to OIHW. */
  static float[] toOihw(Conv2d s, float[] hwio) {
    long g = s.groups(), icg = s.inputChannels() / g, kcg = s.outputChannels() / g;
    long taps = s.kernelHeight() * s.kernelWidth();
    float[] out = new float[hwio.length];
    for (long grp = 0; grp < g; grp++)
      for (long t = 0; t < taps; t++)
        for (long ci = 0; ci < icg; ci++)
          for (long o = 0; o < kcg; o++)
            out[(int) (((grp * kcg + o) * icg + ci) * taps + t)] =
                hwio[(int) (((grp * taps + t) * icg + ci) * kcg + o)];
    return out;
  }

  @Test
  void nchwEqualsNhwcOnTransposedData() {
    Random r = new Random(TestShapes.seed() + 53);
    for (String shape : SHAPES) {
      Conv2d nhwc = Conv2d.parse(shape);
      Conv2d nchw = nhwc.toBuilder().layout(Layout.NCHW).build();
      float[] in = TestShapes.integers(r, nhwc.inputSize()),
          k = TestShapes.integers(r, nhwc.kernelSize()),
          bias = TestShapes.integers(r, nhwc.biasSize());
      float[] want = new float[Math.toIntExact(nhwc.outputSize())];
      try (Convolution c = Convolution.create(nhwc, Algorithm.MEC)) {
        c.forward(in, k, bias, want);
      }
      float[] wantNchw =
          toNchw(
              want, nhwc.batch(), nhwc.outputHeight(), nhwc.outputWidth(), nhwc.outputChannels());
      float[] inNchw =
          toNchw(in, nhwc.batch(), nhwc.inputHeight(), nhwc.inputWidth(), nhwc.inputChannels());
      float[] oihw = toOihw(nhwc, k);
      for (Algorithm a :
          new Algorithm[] {Algorithm.MEC, Algorithm.MEC_FUSED, Algorithm.REFERENCE}) {
        float[] got = new float[want.length];
        try (Convolution c = Convolution.create(nchw, a)) {
          c.forward(inNchw, oihw, bias, got);
        }
        assertArrayEquals(wantNchw, got, 0f, a + " " + nchw);
      }
      // None (the transposed GEMM), or the HWIO kernel and one band within half of L2 (any L2 up
      // to 16 MiB).
      long workspace = nchw.workspaceBytes(Algorithm.MEC);
      assertTrue(
          workspace >= 0 && workspace <= 4 * nchw.kernelSize() + (8L << 20),
          "NCHW workspace " + workspace + ", " + nchw);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> PackedKernel.pack(nchw, oihw));
      assertTrue(e.getMessage().contains("nothing to pack"), e.getMessage());
    }
  }

  @Test
  void whatDoesNotTakeNchwSaysSo() {
    Conv2d nchw =
        Conv2d.parse("mb1ih8iw8ic4oc8kh3kw3ph1pw1").toBuilder().layout(Layout.NCHW).build();
    assertEquals("mb1ih8iw8ic4oc8kh3kw3sh1sw1pt1pb1pl1pr1 nchw", nchw.toString());
    for (Algorithm a : new Algorithm[] {Algorithm.IM2COL, Algorithm.MEC_ROWS, Algorithm.MEC_B}) {
      assertFalse(nchw.supports(a, Direction.FORWARD), a.toString());
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Convolution.create(nchw, a));
      assertTrue(e.getMessage().contains("NCHW"), e.getMessage());
    }
    assertFalse(nchw.supports(Algorithm.MEC, Direction.BACKWARD_DATA));
    assertFalse(
        nchw.toBuilder()
            .mecWorkspaceLimit(Conv2d.NO_WORKSPACE_LIMIT)
            .build()
            .supports(Algorithm.MEC, Direction.FORWARD));
    float[] w = new float[Math.toIntExact(nchw.kernelSize())];
    w[5] = 3f;
    assertArrayEquals(w, nchw.kernelFromPyTorch(w), 0f);
  }
}
