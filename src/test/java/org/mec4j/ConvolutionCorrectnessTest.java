package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every fast algorithm against the direct reference, on seeded random and hand-picked layers. */
class ConvolutionCorrectnessTest {

  /**
   * Runs spec with a caller-supplied, NaN-poisoned workspace. Returns null if the algorithm cannot
   * run it.
   */
  private static float[] run(Conv2d spec, Algorithm a, float[] in, float[] k, float[] bias) {
    if (!TestShapes.supports(spec, a)) return null;
    long bytes = Math.max(1, spec.workspaceBytes(a));
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    java.util.Arrays.fill(out, Float.NaN);
    try (Workspace ws = Workspace.allocate(bytes);
        Convolution c = Convolution.create(spec, a, ws)) {
      for (int run = 0; run < 2; run++) { // a second run over the first run's leftovers
        TestShapes.poison(ws);
        c.forward(in, 0, k, 0, bias, 0, out, 0);
      }
    }
    return out;
  }

  @Test
  void randomLayersAreExactWithSmallIntegers() {
    long seed = TestShapes.seed();
    Random r = new Random(seed);
    List<Conv2d> shapes = TestShapes.random(r, 200);
    for (int i = 0; i < shapes.size(); i++) {
      Conv2d spec = shapes.get(i);
      float[] in = TestShapes.integers(r, spec.inputSize()),
          k = TestShapes.integers(r, spec.kernelSize());
      float[] bias = i % 3 == 0 ? TestShapes.integers(r, spec.biasSize()) : null;
      float[] expected = TestShapes.reference(spec, in, k, bias);
      for (Algorithm a : TestShapes.FAST) {
        float[] got = run(spec, a, in, k, bias);
        if (got != null)
          assertArrayEquals(expected, got, 0f, () -> a + " on " + spec + " (seed " + seed + ")");
      }
    }
  }

  @Test
  void randomLayersMatchWithinToleranceWithRandomFloats() {
    long seed = TestShapes.seed() + 1;
    Random r = new Random(seed);
    for (Conv2d spec : TestShapes.random(r, 150)) {
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize());
      float[] bias = TestShapes.uniform(r, spec.biasSize());
      float[] expected = TestShapes.reference(spec, in, k, bias);
      for (Algorithm a : TestShapes.FAST) {
        float[] got = run(spec, a, in, k, bias);
        if (got == null) continue;
        for (int i = 0; i < got.length; i++)
          if (!(Math.abs(got[i] - expected[i]) <= TestShapes.tolerance(spec, expected[i])))
            fail(
                a
                    + " on "
                    + spec
                    + " (seed "
                    + seed
                    + "): ["
                    + i
                    + "] "
                    + got[i]
                    + " != "
                    + expected[i]);
      }
    }
  }

  @Test
  void handPickedLayers() {
    String[] shapes = {
      "mb1ih7iw7ic1oc1kh3kw3", // the paper's worked example
      "mb2ih9iw11ic3oc5kh1kw1", // 1x1 kernel
      "mb3ih13iw10ic2oc4kh2kw3sh5sw4", // strides larger than the kernel
      "mb2ih5iw6ic3oc2kh3kw3ph2pw1", // padding on every side
      "mb1ih1iw1ic4oc3kh3kw3ph1pw1", // 1x1 input, padding only
      "mb4ih17iw15ic3oc8kh5kw3sh2sw3pt1pb4pl0pr2", // asymmetric everything
      "mb1ih3iw40ic2oc3kh3kw1", // o_w above the default T
      "mb5ih8iw8ic16oc32kh3kw3",
    };
    Random r = new Random(TestShapes.seed() + 2);
    for (String s : shapes) {
      Conv2d spec = Conv2d.parse(s);
      float[] in = TestShapes.integers(r, spec.inputSize()),
          k = TestShapes.integers(r, spec.kernelSize());
      float[] bias = TestShapes.integers(r, spec.biasSize());
      float[] expected = TestShapes.reference(spec, in, k, bias);
      for (Algorithm a : TestShapes.FAST) {
        float[] got = run(spec, a, in, k, bias);
        if (got != null) assertArrayEquals(expected, got, 0f, () -> a + " on " + spec);
      }
    }
  }

  /**
   * The "20-line program": cv1 (AlexNet conv1) at batch 1 with MEC, against the reference.
   */
  @Test
  void cv1BatchOneWithMecMatchesReference() {
    Conv2d spec =
        Conv2d.builder()
            .batch(1)
            .input(227, 227, 3)
            .kernel(11, 11)
            .outputChannels(96)
            .stride(4, 4)
            .padding(0, 0, 0, 0)
            .build();
    assertEquals(55, spec.outputHeight());
    assertEquals(55, spec.outputWidth());
    Random r = new Random(TestShapes.seed() + 3);
    float[] in = TestShapes.integers(r, spec.inputSize()),
        k = TestShapes.integers(r, spec.kernelSize());
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    try (Convolution conv = Convolution.create(spec, Algorithm.MEC)) {
      conv.forward(in, k, out);
    }
    assertArrayEquals(TestShapes.reference(spec, in, k, null), out, 0f);
  }

  @ParameterizedTest
  @EnumSource(
      value = Algorithm.class,
      names = {"IM2COL", "MEC", "MEC_B", "MEC_ROWS", "MEC_FUSED"})
  void arraysWithOffsetsDirectBuffersAndPointersAgree(Algorithm a) {
    Conv2d spec = Conv2d.parse("mb2ih9iw8ic3oc4kh3kw2sh2sw1ph1pw1");
    Random r = new Random(TestShapes.seed() + 4);
    float[] in = TestShapes.integers(r, spec.inputSize()),
        k = TestShapes.integers(r, spec.kernelSize());
    float[] bias = TestShapes.integers(r, spec.biasSize());
    float[] expected = TestShapes.reference(spec, in, k, bias);
    int n = Math.toIntExact(spec.outputSize());
    try (Convolution c = Convolution.create(spec, a)) {
      // Arrays with offsets: the data sits after 3, 5, 7 and 11 unrelated floats.
      float[] inX = shifted(in, 3),
          kX = shifted(k, 5),
          bX = shifted(bias, 7),
          outX = new float[n + 11 + 13];
      java.util.Arrays.fill(outX, 42f);
      c.forward(inX, 3, kX, 5, bX, 7, outX, 11);
      assertArrayEquals(expected, java.util.Arrays.copyOfRange(outX, 11, 11 + n), 0f);
      for (int i = 0; i < 11; i++) assertEquals(42f, outX[i], "written before the output range");
      for (int i = 11 + n; i < outX.length; i++)
        assertEquals(42f, outX[i], "written after the output range");

      // Direct buffers, from their positions.
      FloatBuffer inB = direct(in, 2),
          kB = direct(k, 0),
          bB = direct(bias, 1),
          outB = direct(new float[n], 0);
      c.forward(inB, kB, bB, outB);
      float[] got = new float[n];
      outB.get(0, got);
      assertArrayEquals(expected, got, 0f);
      assertEquals(2, inB.position(), "positions are not changed");

      // Native pointers.
      try (FloatPointer inP = new FloatPointer(in);
          FloatPointer kP = new FloatPointer(k);
          FloatPointer bP = new FloatPointer(bias);
          FloatPointer outP = new FloatPointer(n)) {
        c.forward(inP, kP, bP, outP);
        outP.get(got);
        assertArrayEquals(expected, got, 0f);
      }
    }
  }

  /**
   * A workspace shared between layers holds the previous layer's lowered data (not poison) when the
   * next one runs: each algorithm must give the reference's output anyway (exact, integers).
   */
  @Test
  void resultsDoNotDependOnPreviousWorkspaceContents() {
    Conv2d spec = Conv2d.parse("mb2ih12iw12ic4oc6kh3kw3ph1pw1");
    Conv2d other = Conv2d.parse("mb3ih13iw11ic5oc6kh3kw3pt2pb0pl1pr2");
    Random r = new Random(TestShapes.seed() + 5);
    float[] in = TestShapes.integers(r, spec.inputSize()),
        k = TestShapes.integers(r, spec.kernelSize());
    float[] otherIn = TestShapes.integers(r, other.inputSize()),
        otherK = TestShapes.integers(r, other.kernelSize());
    float[] expected = TestShapes.reference(spec, in, k, null);
    int checked = 0;
    for (Algorithm a : TestShapes.FAST) {
      if (!TestShapes.supports(spec, a) || !TestShapes.supports(other, a)) continue;
      long bytes = Math.max(1, Math.max(spec.workspaceBytes(a), other.workspaceBytes(a)));
      try (Workspace ws = Workspace.allocate(bytes);
          Convolution first = Convolution.create(other, a, ws);
          Convolution second = Convolution.create(spec, a, ws)) {
        first.forward(otherIn, otherK, new float[Math.toIntExact(other.outputSize())]);
        float[] out = new float[expected.length];
        second.forward(in, k, out);
        assertArrayEquals(expected, out, 0f, a.toString());
        checked++;
      }
    }
    assertTrue(checked >= 5, "algorithms checked: " + checked);
  }

  @Test
  void heuristicChoiceFollowsTheRule() {
    Tuning before = Tuning.current();
    Tuning.set(Tuning.HEURISTIC);
    try {
      // Padded, few output channels (2 * k_c below the micro-kernel's tile width): the BLAS rule.
      // Batch > 1, small k_w*i_c: the paper's rule, A when o_w <= T and |O| <= |L|.
      Conv2d small = Conv2d.parse("mb2ih7iw7ic4oc2kh3kw3ph1pw1");
      assertEquals(Algorithm.MEC_A, small.resolve(Algorithm.MEC));
      assertEquals(
          Algorithm.MEC_B, small.toBuilder().mecThreshold(4).build().resolve(Algorithm.MEC));
      // At batch 1, A would run B's GEMMs plus a permutation: B, or ROWS when k_w*i_c >= 16.
      assertEquals(Algorithm.MEC_B, small.toBuilder().batch(1).build().resolve(Algorithm.MEC));
      assertEquals(
          Algorithm.MEC_ROWS,
          small.toBuilder().batch(1).input(7, 7, 8).build().resolve(Algorithm.MEC));
      // Unpadded: the igemm reads the windows in the input itself, with no workspace, whatever the
      // channels.
      Conv2d unpadded = Conv2d.parse("mb2ih9iw9ic4oc2kh3kw3");
      assertEquals(Algorithm.MEC_FUSED, unpadded.resolve(Algorithm.MEC));
      assertEquals(0, unpadded.workspaceBytes(Algorithm.MEC));
      // Enough output channels: mec4j's own igemm, at any batch.
      assertEquals(
          Algorithm.MEC_FUSED, Conv2d.parse("mb1ih7iw7ic512oc512kh3kw3").resolve(Algorithm.MEC));
      assertEquals(
          Algorithm.MEC_FUSED, Conv2d.parse("mb32ih7iw7ic512oc512kh3kw3").resolve(Algorithm.MEC));
      // Depthwise layers: the direct kernel, no workspace; other grouped or row-dilated layers:
      // the igemm, the only MEC variant that takes them.
      Conv2d depthwise = Conv2d.parse("mb2ih14iw14ic32oc32kh3kw3ph1pw1g32");
      assertEquals(Algorithm.DEPTHWISE, depthwise.resolve(Algorithm.MEC));
      assertEquals(0, depthwise.workspaceBytes(Algorithm.MEC));
      assertEquals(
          Algorithm.MEC_FUSED, Conv2d.parse("mb2ih9iw9ic4oc2kh3kw3g2").resolve(Algorithm.MEC));
      assertEquals(
          Algorithm.MEC_FUSED, Conv2d.parse("mb2ih9iw9ic4oc2kh3kw3dh1").resolve(Algorithm.MEC));
      // Unpadded 1x1: the igemm reads the input in place, with no workspace, even for 2 channels.
      Conv2d pointwise = Conv2d.parse("mb2ih4iw4ic1oc2kh1kw1");
      assertEquals(
          new Conv2d.Resolution(Algorithm.MEC_FUSED, false), pointwise.resolution(Algorithm.MEC));
      assertEquals(0, pointwise.workspaceBytes(Algorithm.MEC));
      assertEquals(Algorithm.IM2COL, pointwise.resolve(Algorithm.IM2COL));
    } finally {
      Tuning.set(before);
    }
  }

  @Test
  void measuredChoiceIsKeptAndReported() {
    Tuning before = Tuning.current();
    Tuning.set(Tuning.MEASURE);
    try {
      Conv2d spec =
          Conv2d.builder()
              .batch(2)
              .input(11, 10, 6)
              .kernel(3, 3)
              .outputChannels(9)
              .padding(1, 1, 1, 1)
              .mecThreshold(23)
              .build(); // a threshold no other test uses: not measured yet
      assertFalse(spec.resolution(Algorithm.MEC).measured());
      Random r = new Random(TestShapes.seed() + 11);
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize());
      float[] first = run(spec, Algorithm.MEC, in, k, null);
      Conv2d.Resolution chosen = spec.resolution(Algorithm.MEC);
      assertTrue(chosen.measured(), chosen.toString());
      for (int i = 0; i < 3; i++)
        assertArrayEquals(first, run(spec, Algorithm.MEC, in, k, null), 0f);
      assertArrayEquals(
          first, run(spec, chosen.algorithm(), in, k, null), 0f, "the winner gives MEC's bits");
    } finally {
      Tuning.set(before);
    }
  }

  private static float[] shifted(float[] a, int offset) {
    float[] b = new float[a.length + offset + 9];
    java.util.Arrays.fill(b, Float.NaN);
    System.arraycopy(a, 0, b, offset, a.length);
    return b;
  }

  private static FloatBuffer direct(float[] a, int position) {
    FloatBuffer b =
        ByteBuffer.allocateDirect((a.length + position) * 4)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    b.position(position);
    b.put(a);
    b.position(position);
    return b;
  }

  /**
   * A grouped, dilated, padded layer with its weights given as PyTorch holds them (k_c x i_c/g x
   * k_h x k_w): converted by kernelFromPyTorch, every algorithm that takes the layer matches a
   * direct convolution written against PyTorch's own indexing.
   */
  @Test
  void pyTorchWeightsOfAGroupedDilatedLayer() {
    Conv2d spec =
        Conv2d.builder()
            .batch(2)
            .input(9, 8, 6)
            .kernel(3, 2)
            .outputChannels(9)
            .groups(3)
            .dilation(2, 3)
            .stride(1, 2)
            .padding(2, 3, 4, 1)
            .build();
    Random r = new Random(TestShapes.seed() + 11);
    float[] in = TestShapes.integers(r, spec.inputSize()),
        torch = TestShapes.integers(r, spec.kernelSize());
    int oh = (int) spec.outputHeight(), ow = (int) spec.outputWidth(), icg = 2, kcg = 3;
    float[] expected = new float[Math.toIntExact(spec.outputSize())];
    for (int n = 0; n < 2; n++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          for (int o = 0; o < 9; o++) {
            float acc = 0;
            for (int c = 0; c < icg; c++)
              for (int kr = 0; kr < 3; kr++)
                for (int kq = 0; kq < 2; kq++) {
                  int iy = y + kr * 2 - 2, ix = x * 2 + kq * 3 - 4;
                  if (iy < 0 || iy >= 9 || ix < 0 || ix >= 8) continue;
                  acc +=
                      in[((n * 9 + iy) * 8 + ix) * 6 + o / kcg * icg + c]
                          * torch[((o * icg + c) * 3 + kr) * 2 + kq];
                }
            expected[((n * oh + y) * ow + x) * 9 + o] = acc;
          }
    float[] kernel = spec.kernelFromPyTorch(torch);
    int ran = 0;
    for (Algorithm a : Algorithm.values()) {
      float[] got =
          a == Algorithm.REFERENCE
              ? TestShapes.reference(spec, in, kernel, null)
              : run(spec, a, in, kernel, null);
      if (got == null) continue;
      assertArrayEquals(expected, got, 0f, a.toString());
      ran++;
    }
    assertTrue(ran >= 4, "algorithms run: " + ran); // REFERENCE, IM2COL, MEC, MEC_FUSED
  }
}
