package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A fused activation gives the bits of the unfused forward followed by the activation, for every
 * algorithm (run at each ISA cap by the build), and the layers that carry one refuse the backward
 * passes with a message that says why.
 */
class ActivationTest {
  private static final Conv2d[] LAYERS = {
    Conv2d.parse("mb2ih11iw9ic40oc37kh3kw3ph1pw1"), // padded: MEC's lowering, padded row copies
    Conv2d.parse("mb1ih12iw12ic16oc64kh3kw3"), // unpadded: windows read in the input
    Conv2d.parse("mb3ih6iw5ic33oc19kh1kw1sh2sw1"), // strided 1x1
    Conv2d.parse("mb1ih9iw8ic64oc96kh3kw3ph1pw1g4"), // grouped
    Conv2d.parse("mb2ih10iw10ic24oc24kh3kw3sh2sw2ph1pw1g24"), // depthwise
    Conv2d.parse("mb1ih9iw9ic8oc20kh5kw5ph2pw2dh1dw1") // dilated
  };

  private static final Activation[] ACTIVATIONS = {
    Activation.RELU,
    Activation.relu6(),
    Activation.clamp(-4f, 10f),
    Activation.clamp(Float.NEGATIVE_INFINITY, 0f)
  };

  @Test
  void fusedEqualsUnfusedThenActivatedBitForBit() {
    Random r = new Random(TestShapes.seed() + 41);
    int runs = 0;
    for (Conv2d plainSpec : LAYERS) {
      // Small integers: exact sums, which the bounds above cut through.
      float[] in = TestShapes.integers(r, plainSpec.inputSize()),
          k = TestShapes.integers(r, plainSpec.kernelSize()),
          bias = TestShapes.integers(r, plainSpec.biasSize());
      for (Algorithm a : Algorithm.values()) {
        if (!plainSpec.supports(a, Direction.FORWARD)) continue;
        float[] plain = new float[Math.toIntExact(plainSpec.outputSize())];
        try (Convolution c = Convolution.create(plainSpec, a)) {
          c.forward(in, k, bias, plain);
        }
        for (Activation act : ACTIVATIONS) {
          Conv2d spec = plainSpec.toBuilder().activation(act).build();
          float[] fused = new float[plain.length];
          try (Convolution c = Convolution.create(spec, a)) {
            c.forward(in, k, bias, fused);
          }
          int clamped = 0;
          for (int i = 0; i < plain.length; ++i) {
            float want = act.apply(plain[i]);
            clamped += want != plain[i] ? 1 : 0;
            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(fused[i]))
              throw new AssertionError(
                  a + " " + spec + ": [" + i + "] fused " + fused[i] + ", unfused then " + want);
          }
          assertTrue(clamped > 0 && clamped < plain.length, spec + ": the activation cut nothing");
          ++runs;
        }
      }
    }
    assertTrue(runs >= LAYERS.length * ACTIVATIONS.length * 4, runs + " runs");
  }

  @Test
  void packedKernelTakesTheActivation() {
    Random r = new Random(TestShapes.seed() + 43);
    Conv2d plainSpec = Conv2d.parse("mb2ih11iw9ic40oc37kh3kw3ph1pw1");
    Conv2d spec = plainSpec.toBuilder().activation(Activation.relu6()).build();
    float[] in = TestShapes.uniform(r, spec.inputSize()),
        k = TestShapes.uniform(r, spec.kernelSize()),
        bias = TestShapes.uniform(r, spec.biasSize());
    float[] plain = new float[Math.toIntExact(spec.outputSize())], fused = new float[plain.length];
    try (Convolution c = Convolution.create(plainSpec, Algorithm.MEC_FUSED);
        Convolution f = Convolution.create(spec, Algorithm.MEC_FUSED);
        PackedKernel pk = PackedKernel.pack(plainSpec, k)) {
      c.forward(in, k, bias, plain);
      f.forward(in, pk, bias, fused);
    }
    for (int i = 0; i < plain.length; ++i)
      assertEquals(
          Float.floatToRawIntBits(Activation.relu6().apply(plain[i])),
          Float.floatToRawIntBits(fused[i]),
          "[" + i + "]");
  }

  @Test
  void backwardPassesAreRefusedWithTheReason() {
    Conv2d spec =
        Conv2d.parse("mb1ih8iw8ic4oc8kh3kw3ph1pw1").toBuilder().activation(Activation.RELU).build();
    for (Algorithm a : new Algorithm[] {Algorithm.MEC, Algorithm.MEC_FUSED, Algorithm.IM2COL}) {
      assertTrue(!spec.supports(a, Direction.BACKWARD_DATA), a + " backward data");
      assertTrue(!spec.supports(a, Direction.BACKWARD_WEIGHTS), a + " backward weights");
      try (Convolution c = Convolution.create(spec, a)) {
        float[] dO = new float[Math.toIntExact(spec.outputSize())],
            k = new float[Math.toIntExact(spec.kernelSize())],
            dI = new float[Math.toIntExact(spec.inputSize())];
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> c.backwardData(dO, k, dI));
        assertTrue(e.getMessage().contains("fused activation (relu)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.backwardWeights(dI, dO, k, null));
        assertTrue(e.getMessage().contains("fused activation (relu)"), e.getMessage());
      }
    }
  }

  @Test
  void badBoundsAreRefusedAndSpecsDiffer() {
    assertThrows(IllegalArgumentException.class, () -> Activation.clamp(6f, 0f));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Activation.clamp(Float.NaN, 1f));
    assertTrue(e.getMessage().contains("min"), e.getMessage());
    assertThrows(
        NullPointerException.class,
        () -> Conv2d.parse("mb1ih8iw8ic4oc8kh3kw3").toBuilder().activation(null));
    Conv2d plain = Conv2d.parse("mb1ih8iw8ic4oc8kh3kw3");
    Conv2d relu = plain.toBuilder().activation(Activation.RELU).build();
    assertNotEquals(plain, relu);
    assertEquals(relu, plain.toBuilder().activation(Activation.RELU).build());
    assertNotEquals(
        plain.toBuilder().activation(Activation.clamp(0, 6)).build(),
        plain.toBuilder().activation(Activation.clamp(0, 5)).build());
    assertEquals("mb1ih8iw8ic4oc8kh3kw3sh1sw1pt0pb0pl0pr0 relu", relu.toString());
    assertEquals(Activation.RELU, relu.activation());
    assertEquals(Activation.NONE, plain.activation());
  }
}
