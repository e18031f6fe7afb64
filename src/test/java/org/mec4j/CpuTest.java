package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ISA cap: every level this host runs gives its own kernel and the reference's results. */
class CpuTest {
  @Test
  void capSelectsTheKernelOfEachLevelAndStaysCorrect() {
    Cpu.Isa before = Cpu.maxIsa();
    Conv2d spec =
        Conv2d.builder()
            .batch(2)
            .input(9, 8, 5)
            .kernel(3, 2)
            .outputChannels(37)
            .stride(2, 1)
            .padding(1, 0, 1, 1)
            .build();
    Random r = new Random(TestShapes.seed() + 3);
    float[] in = TestShapes.integers(r, spec.inputSize()),
        k = TestShapes.integers(r, spec.kernelSize());
    float[] expected = TestShapes.reference(spec, in, k, null);
    try {
      for (Cpu.Isa cap : Cpu.Isa.values()) {
        if (cap != Cpu.Isa.BEST && !Cpu.Isa.levels().contains(cap)) {
          Cpu.Isa current = Cpu.maxIsa();
          assertThrows(IllegalArgumentException.class, () -> Cpu.setMaxIsa(cap), "cap " + cap);
          assertEquals(current, Cpu.maxIsa(), "another architecture's cap leaves the cap alone");
          continue;
        }
        Cpu.setMaxIsa(cap);
        Cpu.Isa effective = Cpu.effectiveIsa();
        Cpu.Isa host = Cpu.hostIsa();
        assertEquals(
            cap == Cpu.Isa.BEST || cap.compareTo(host) > 0 ? host : cap, effective, "cap " + cap);
        assertEquals(cap, Cpu.maxIsa());
        assertTrue(
            Cpu.igemmKernel().contains(effective.toString()),
            Cpu.igemmKernel() + " under " + effective);
        float[] out = new float[Math.toIntExact(spec.outputSize())];
        try (Convolution c = Convolution.create(spec, Algorithm.MEC_FUSED)) {
          c.forward(in, k, out);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            expected, out, 0f, "MEC_FUSED under cap " + cap);
      }
    } finally {
      Cpu.setMaxIsa(before);
    }
  }

  @Test
  void misspeltIsaNamesTheAcceptedValues() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Cpu.Isa.parse("avx3"));
    assertTrue(
        e.getMessage().contains("avx512, avx2, neon, portable, best")
            && e.getMessage().contains("avx3"),
        e.getMessage());
    assertEquals(Cpu.Isa.AVX2, Cpu.Isa.parse("AVX2"));
  }
}
