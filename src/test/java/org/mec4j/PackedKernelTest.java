package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Weights packed once give MEC_FUSED's exact results; misuse is refused before native code runs.
 */
class PackedKernelTest {
  @Test
  void packedForwardEqualsFusedBitForBit() {
    Random r = new Random(TestShapes.seed() + 17);
    for (Conv2d spec :
        new Conv2d[] {
          Conv2d.parse("mb2ih11iw9ic40oc37kh3kw3ph1pw1"),
          Conv2d.parse("mb1ih7iw7ic64oc70kh3kw3"),
          Conv2d.parse("mb3ih6iw5ic33oc19kh1kw1sh2sw1")
        }) {
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize()),
          bias = TestShapes.uniform(r, spec.biasSize());
      float[] plain = new float[Math.toIntExact(spec.outputSize())],
          packed = new float[plain.length];
      try (Convolution fused = Convolution.create(spec, Algorithm.MEC_FUSED);
          Convolution auto = Convolution.create(spec, Algorithm.MEC);
          PackedKernel pk = PackedKernel.pack(spec, k)) {
        fused.forward(in, k, bias, plain);
        auto.forward(in, pk, bias, packed);
        assertArrayEquals(plain, packed, 0f, spec.toString());
        try (org.bytedeco.javacpp.FloatPointer pin = new org.bytedeco.javacpp.FloatPointer(in);
            org.bytedeco.javacpp.FloatPointer pb = new org.bytedeco.javacpp.FloatPointer(bias);
            org.bytedeco.javacpp.FloatPointer pout =
                new org.bytedeco.javacpp.FloatPointer(plain.length)) {
          auto.forward(pin, pk, pb, pout);
          float[] viaPointers = new float[plain.length];
          pout.get(viaPointers);
          assertArrayEquals(plain, viaPointers, 0f, "FloatPointer overload, " + spec);
        }
        // Direct buffers, read and written from their positions, which stay where they are.
        java.nio.FloatBuffer bin = direct(in.length + 3),
            bb = direct(bias.length + 1),
            bout = direct(plain.length + 5);
        bin.position(3);
        bin.put(in).position(3);
        bb.position(1);
        bb.put(bias).position(1);
        bout.position(5);
        auto.forward(bin, pk, bb, bout);
        assertEquals(5, bout.position());
        float[] viaBuffers = new float[plain.length];
        bout.get(viaBuffers);
        assertArrayEquals(plain, viaBuffers, 0f, "FloatBuffer overload, " + spec);
        assertTrue(pk.bytes() >= spec.kernelSize() * Float.BYTES, pk.bytes() + " bytes");
      }
    }
  }

  private static java.nio.FloatBuffer direct(int floats) {
    return java.nio.ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(java.nio.ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  @Test
  void misuseIsRefusedWithTheOutputUntouched() {
    Conv2d spec = Conv2d.parse("mb1ih8iw8ic4oc8kh3kw3");
    float[] k = new float[Math.toIntExact(spec.kernelSize())],
        in = new float[Math.toIntExact(spec.inputSize())];
    float[] out = new float[Math.toIntExact(spec.outputSize())];
    java.util.Arrays.fill(out, 7f);
    try (PackedKernel pk = PackedKernel.pack(spec, k)) {
      try (Convolution im2col = Convolution.create(spec, Algorithm.IM2COL)) {
        assertThrows(IllegalArgumentException.class, () -> im2col.forward(in, pk, null, out));
      }
      Conv2d other = spec.toBuilder().outputChannels(9).build();
      try (Convolution c = Convolution.create(other, Algorithm.MEC)) {
        assertThrows(
            IllegalArgumentException.class,
            () -> c.forward(in, pk, null, new float[Math.toIntExact(other.outputSize())]));
      }
      Cpu.Isa before = Cpu.maxIsa();
      if (Cpu.effectiveIsa() != Cpu.Isa.PORTABLE) {
        Cpu.setMaxIsa(Cpu.Isa.PORTABLE);
        try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
          IllegalStateException e =
              assertThrows(IllegalStateException.class, () -> c.forward(in, pk, null, out));
          assertTrue(e.getMessage().contains("pack it again"), e.getMessage());
        } finally {
          Cpu.setMaxIsa(before);
        }
      }
    }
    for (float v : out) assertTrue(v == 7f);
    assertThrows(IndexOutOfBoundsException.class, () -> PackedKernel.pack(spec, new float[3]));
  }
}
