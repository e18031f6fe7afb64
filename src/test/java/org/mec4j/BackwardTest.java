package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** The backward passes through the Java API: gradients of the forward, overloads, validation. */
class BackwardTest {
  private static final Algorithm[] TRAINABLE = {
    Algorithm.MEC, Algorithm.MEC_ROWS, Algorithm.IM2COL, Algorithm.REFERENCE
  };

  /**
   * MEC's backward weights: the measured or heuristic choice between MEC_ROWS and MEC_FUSED,
   * stated.
   */
  @Test
  void resolutionNamesTheBackwardImplementation() {
    Conv2d thin =
        Conv2d.builder()
            .batch(2)
            .input(20, 20, 3)
            .kernel(3, 3)
            .outputChannels(16)
            .padding(1, 1, 1, 1)
            .build();
    Conv2d dw = thin.toBuilder().input(20, 20, 16).groups(16).build();
    assertEquals(
        Algorithm.MEC_ROWS, thin.resolution(Algorithm.MEC, Direction.BACKWARD_DATA).algorithm());
    // Before any measurement (or under HEURISTIC): the micro-kernels where the BLAS's GEMMs would
    // be thin (k_w*i_c below 256 with the AVX2 kernels, 768 with AVX-512's), the BLAS otherwise.
    Conv2d wide = thin.toBuilder().input(10, 10, 512).build();
    Conv2d.Resolution t = thin.resolution(Algorithm.MEC, Direction.BACKWARD_WEIGHTS);
    Conv2d.Resolution v = wide.resolution(Algorithm.MEC, Direction.BACKWARD_WEIGHTS);
    if (!t.measured()) assertEquals(Algorithm.MEC_FUSED, t.algorithm());
    if (!v.measured()) assertEquals(Algorithm.MEC_ROWS, v.algorithm());
    // 384 rows: between the two crossovers.
    Conv2d.Resolution m =
        thin.toBuilder()
            .input(10, 10, 128)
            .build()
            .resolution(Algorithm.MEC, Direction.BACKWARD_WEIGHTS);
    if (!m.measured())
      assertEquals(
          Cpu.effectiveIsa() == Cpu.Isa.AVX512 ? Algorithm.MEC_FUSED : Algorithm.MEC_ROWS,
          m.algorithm(),
          "at " + Cpu.effectiveIsa());
    assertEquals(
        Algorithm.DEPTHWISE, dw.resolution(Algorithm.MEC, Direction.BACKWARD_WEIGHTS).algorithm());
    assertEquals(
        Algorithm.IM2COL, thin.resolution(Algorithm.IM2COL, Direction.BACKWARD_DATA).algorithm());
  }

  /** loss = <gradOut, forward(input, kernel) + bias>, in double (exact on small integers). */
  private static double loss(
      Conv2d spec, Algorithm a, float[] in, float[] k, float[] bias, float[] gradOut) {
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    try (Convolution c = Convolution.create(spec, a)) {
      c.forward(in, k, bias, out);
    }
    double sum = 0;
    for (int i = 0; i < out.length; i++) sum += (double) out[i] * gradOut[i];
    return sum;
  }

  /**
   * Central finite differences of the forward pass: the loss is linear in each of input, kernel and
   * bias, so with step 1 on small integers the difference quotient is exact and every gradient
   * element must match it exactly.
   */
  @Test
  void gradientsAreTheForwardsFiniteDifferences() {
    Random r = new Random(TestShapes.seed() + 11);
    Conv2d[] specs = {
      Conv2d.builder()
          .batch(2)
          .input(5, 6, 2)
          .kernel(3, 2)
          .outputChannels(3)
          .stride(2, 1)
          .padding(1, 0, 2, 1)
          .build(),
      Conv2d.builder()
          .batch(1)
          .input(6, 5, 4)
          .kernel(2, 3)
          .outputChannels(4)
          .stride(1, 2)
          .padding(1, 1, 0, 1)
          .groups(2)
          .dilation(2, 1)
          .build(),
      Conv2d.builder()
          .batch(1)
          .input(5, 5, 3)
          .kernel(3, 3)
          .outputChannels(6)
          .padding(1, 1, 1, 1)
          .groups(3)
          .build()
    };
    for (Conv2d spec : specs)
      for (Algorithm a : new Algorithm[] {Algorithm.MEC, Algorithm.IM2COL}) {
        float[] in = TestShapes.integers(r, spec.inputSize()),
            k = TestShapes.integers(r, spec.kernelSize());
        float[] bias = TestShapes.integers(r, spec.biasSize()),
            gradOut = TestShapes.integers(r, spec.outputSize());
        float[][] g = TestShapes.emptyGradients(spec);
        try (Convolution c = Convolution.create(spec, a)) {
          c.backwardData(gradOut, k, g[0]);
          c.backwardWeights(in, gradOut, g[1], g[2]);
        }
        float[][] params = {in, k, bias};
        for (int p = 0; p < 3; p++)
          for (int i = 0; i < params[p].length; i++) {
            float saved = params[p][i];
            params[p][i] = saved + 1;
            double up = loss(spec, a, in, k, bias, gradOut);
            params[p][i] = saved - 1;
            double down = loss(spec, a, in, k, bias, gradOut);
            params[p][i] = saved;
            assertEquals(
                (up - down) / 2, g[p][i], 0.0, a + " " + spec + ": gradient " + p + "[" + i + "]");
          }
      }
  }

  /** float[], direct FloatBuffer and FloatPointer give the same bits. */
  @Test
  void everyBufferKindGivesTheSameGradients() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        TestShapes.alignmentIndependentBits(),
        "MKL without MKL_CBWR: the bits may follow the buffers' alignment");
    Random r = new Random(TestShapes.seed() + 12);
    Conv2d spec =
        Conv2d.builder()
            .batch(3)
            .input(9, 8, 5)
            .kernel(3, 3)
            .outputChannels(7)
            .stride(1, 2)
            .padding(1, 1, 1, 1)
            .build();
    float[] in = TestShapes.uniform(r, spec.inputSize()),
        k = TestShapes.uniform(r, spec.kernelSize());
    float[] gradOut = TestShapes.uniform(r, spec.outputSize());
    for (Algorithm a : TRAINABLE) {
      float[][] arrays = TestShapes.emptyGradients(spec);
      try (Convolution c = Convolution.create(spec, a)) {
        c.backwardData(gradOut, k, arrays[0]);
        c.backwardWeights(in, gradOut, arrays[1], arrays[2]);
        FloatBuffer gi = direct(spec.inputSize()),
            gk = direct(spec.kernelSize()),
            gb = direct(spec.biasSize());
        c.backwardData(direct(gradOut), direct(k), gi);
        c.backwardWeights(direct(in), direct(gradOut), gk, gb);
        assertArrayEquals(arrays[0], toArray(gi), a + " gradInput, FloatBuffer");
        assertArrayEquals(arrays[1], toArray(gk), a + " gradKernel, FloatBuffer");
        assertArrayEquals(arrays[2], toArray(gb), a + " gradBias, FloatBuffer");
        try (FloatPointer pi = new FloatPointer(spec.inputSize());
            FloatPointer pk = new FloatPointer(spec.kernelSize());
            FloatPointer pIn = new FloatPointer(in);
            FloatPointer pGo = new FloatPointer(gradOut);
            FloatPointer pK = new FloatPointer(k)) {
          c.backwardData(pGo, pK, pi);
          c.backwardWeights(pIn, pGo, pk, null);
          float[] gotIn = new float[arrays[0].length], gotK = new float[arrays[1].length];
          pi.get(gotIn);
          pk.get(gotK);
          assertArrayEquals(arrays[0], gotIn, a + " gradInput, FloatPointer");
          assertArrayEquals(arrays[1], gotK, a + " gradKernel, FloatPointer");
        }
      }
    }
  }

  @Test
  void gradBiasMayBeNullAndOutputsAreOverwritten() {
    Random r = new Random(TestShapes.seed() + 13);
    Conv2d spec =
        Conv2d.builder()
            .batch(2)
            .input(6, 6, 3)
            .kernel(3, 3)
            .outputChannels(4)
            .padding(1, 1, 1, 1)
            .build();
    float[] in = TestShapes.integers(r, spec.inputSize()),
        k = TestShapes.integers(r, spec.kernelSize());
    float[] gradOut = TestShapes.integers(r, spec.outputSize());
    float[][] expected = TestShapes.javaBackward(spec, in, k, gradOut);
    try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
      float[] gk = new float[expected[1].length], gi = new float[expected[0].length];
      Arrays.fill(gk, 1e9f); // overwritten, not accumulated
      Arrays.fill(gi, 1e9f);
      c.backwardWeights(in, gradOut, gk, null);
      c.backwardData(gradOut, k, gi);
      assertArrayEquals(expected[1], gk);
      assertArrayEquals(expected[0], gi);
    }
  }

  @Test
  void forwardOnlyAlgorithmsAndBadArgumentsThrowBeforeNativeCode() {
    // Strided: MEC_FUSED's backward data runs at stride 1 only.
    Conv2d spec =
        Conv2d.builder()
            .batch(1)
            .input(6, 6, 2)
            .kernel(3, 3)
            .stride(2, 2)
            .outputChannels(3)
            .build();
    float[] in = new float[(int) spec.inputSize()], k = new float[(int) spec.kernelSize()];
    float[] gradOut = new float[(int) spec.outputSize()];
    float[] gi = new float[(int) spec.inputSize()],
        gk = new float[(int) spec.kernelSize()],
        gb = new float[3];
    Arrays.fill(gi, 5f);
    Arrays.fill(gk, 5f);
    for (Algorithm a : new Algorithm[] {Algorithm.MEC_A, Algorithm.MEC_B, Algorithm.MEC_FUSED}) {
      assertFalse(spec.supports(a, Direction.BACKWARD_DATA), a.toString());
      try (Convolution c = Convolution.create(spec, a)) {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> c.backwardData(gradOut, k, gi));
        assertTrue(e.getMessage().contains(a + " has no BACKWARD_DATA pass"), e.getMessage());
        if (a != Algorithm.MEC_FUSED)
          assertThrows(
              IllegalArgumentException.class, () -> c.backwardWeights(in, gradOut, gk, gb));
      }
    }
    assertTrue(
        spec.supports(Algorithm.MEC_FUSED, Direction.BACKWARD_WEIGHTS),
        "MEC_FUSED computes weight gradients");
    assertThrows(
        IllegalArgumentException.class,
        () -> spec.workspaceBytes(Algorithm.MEC_FUSED, Direction.BACKWARD_DATA));
    try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
      IndexOutOfBoundsException e =
          assertThrows(
              IndexOutOfBoundsException.class,
              () -> c.backwardData(Arrays.copyOf(gradOut, gradOut.length - 1), k, gi));
      assertTrue(
          e.getMessage().startsWith("gradOutput needs " + spec.outputSize()), e.getMessage());
      e =
          assertThrows(
              IndexOutOfBoundsException.class,
              () -> c.backwardWeights(in, gradOut, gk, new float[2]));
      assertTrue(e.getMessage().startsWith("gradBias needs 3"), e.getMessage());
      NullPointerException n =
          assertThrows(NullPointerException.class, () -> c.backwardWeights(in, null, gk, gb));
      assertEquals("gradOutput", n.getMessage());
      IllegalArgumentException same =
          assertThrows(
              IllegalArgumentException.class, () -> c.backwardWeights(in, gradOut, gk, gk));
      assertTrue(same.getMessage().contains("gradBias and gradKernel"), same.getMessage());
      FloatBuffer heap = FloatBuffer.allocate((int) spec.inputSize());
      assertThrows(
          IllegalArgumentException.class, () -> c.backwardData(direct(gradOut), direct(k), heap));
      FloatBuffer shared = direct(spec.inputSize() + spec.outputSize());
      FloatBuffer overlapping = shared.duplicate().position(1).slice();
      assertThrows(
          IllegalArgumentException.class, () -> c.backwardData(shared, direct(k), overlapping));
    }
    for (float v : gi) assertEquals(5f, v, "gradInput untouched");
    for (float v : gk) assertEquals(5f, v, "gradKernel untouched");
    // A borrowed workspace that fits the forward but not a backward pass.
    Conv2d pointwise =
        Conv2d.builder().batch(1).input(8, 8, 4).kernel(1, 1).outputChannels(4).build();
    Conv2d padded =
        Conv2d.builder()
            .batch(1)
            .input(8, 8, 4)
            .kernel(3, 3)
            .outputChannels(4)
            .padding(1, 1, 1, 1)
            .groups(4)
            .build();
    assertEquals(0, pointwise.workspaceBytes(Algorithm.MEC));
    try (Workspace ws = Workspace.allocate(4);
        Convolution c = Convolution.create(padded, Algorithm.MEC, ws)) {
      assertThrows(
          IllegalStateException.class,
          () ->
              c.backwardData(
                  new float[(int) padded.outputSize()],
                  new float[(int) padded.kernelSize()],
                  new float[(int) padded.inputSize()]));
    }
  }

  /**
   * MEC_ROWS's backward workspace is one image's lowering: half of im2col's or less; MEC's backward
   * data at stride 1 (MEC_FUSED's, a forward convolution) the turned kernel and padded copies of
   * the output's gradient. An owned workspace starts at the forward's size and grows on the first
   * backward pass that needs more.
   */
  @Test
  void mecBackwardWorkspaceIsOneImagesLowering() {
    Conv2d cv = Conv2d.parse("mb32ic96ih27oc256kh5ph2pw2");
    long forward = cv.workspaceBytes(Algorithm.MEC),
        im2col = cv.workspaceBytes(Algorithm.IM2COL, Direction.BACKWARD_DATA);
    for (Direction d : new Direction[] {Direction.BACKWARD_DATA, Direction.BACKWARD_WEIGHTS}) {
      long rows = cv.workspaceBytes(Algorithm.MEC_ROWS, d);
      assertEquals(4L * 27 * 31 * 5 * 96, rows, d.toString());
      assertTrue(2 * rows <= im2col, d + ": " + rows + " vs im2col " + im2col);
    }
    assertEquals(
        Algorithm.MEC_FUSED, cv.resolution(Algorithm.MEC, Direction.BACKWARD_DATA).algorithm());
    long copies = cv.workspaceBytes(Algorithm.MEC, Direction.BACKWARD_DATA) / 4 - 5 * 5 * 96 * 256;
    long paddedImage = 31 * 31 * 256; // dO, 27 x 27 x 256, padded by 2
    assertTrue(copies >= paddedImage && copies % paddedImage == 0, "padded images: " + copies);
    long backward = cv.workspaceBytes(Algorithm.MEC, Direction.BACKWARD_DATA);
    try (Convolution c = Convolution.create(cv, Algorithm.MEC)) {
      assertEquals(forward, c.workspaceBytes(), "an owned workspace starts at the forward's");
      float[] gradOut = new float[(int) cv.outputSize()], kernel = new float[(int) cv.kernelSize()];
      float[] gradIn = new float[(int) cv.inputSize()];
      c.backwardData(gradOut, kernel, gradIn);
      assertEquals(Math.max(forward, backward), c.workspaceBytes(), "grown for backward data");
      c.forward(gradIn, kernel, gradOut); // the grown workspace serves the forward too
      assertEquals(Math.max(forward, backward), c.workspaceBytes());
    }
  }

  private static FloatBuffer direct(long floats) {
    return ByteBuffer.allocateDirect(Math.toIntExact(floats * 4))
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  private static FloatBuffer direct(float[] values) {
    FloatBuffer b = direct(values.length);
    b.put(values).flip();
    return b;
  }

  private static float[] toArray(FloatBuffer b) {
    float[] a = new float[b.capacity()];
    b.duplicate().clear().get(a);
    return a;
  }
}
