package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** Bad input: a precise exception naming the parameter and value, and the output untouched. */
class ValidationTest {
  private static Conv2d.Builder valid() {
    return Conv2d.builder()
        .batch(2)
        .input(9, 8, 3)
        .kernel(3, 3)
        .outputChannels(4)
        .stride(1, 1)
        .padding(0, 0, 0, 0);
  }

  private static void rejects(String fragment, Consumer<Conv2d.Builder> change) {
    Conv2d.Builder b = valid();
    change.accept(b);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
    assertTrue(
        e.getMessage().contains(fragment),
        "message '" + e.getMessage() + "' lacks '" + fragment + "'");
  }

  @Test
  void badSpecsAreRejectedWithTheParameterAndValue() {
    rejects("batch must be >= 1, got 0", b -> b.batch(0));
    rejects("batch must be >= 1, got -4", b -> b.batch(-4));
    rejects("inputHeight must be >= 1, got 0", b -> b.input(0, 8, 3));
    rejects("inputWidth must be >= 1, got -1", b -> b.input(9, -1, 3));
    rejects("inputChannels must be >= 1, got 0", b -> b.input(9, 8, 0));
    rejects("kernelHeight must be >= 1, got 0", b -> b.kernel(0, 3));
    rejects("kernelWidth must be >= 1, got -2", b -> b.kernel(3, -2));
    rejects("outputChannels must be >= 1, got 0", b -> b.outputChannels(0));
    rejects("strideHeight must be >= 1, got 0", b -> b.stride(0, 1));
    rejects("strideWidth must be >= 1, got -3", b -> b.stride(1, -3));
    rejects("padTop must be >= 0, got -1", b -> b.padding(-1, 0, 0, 0));
    rejects("padBottom must be >= 0, got -3", b -> b.padding(0, -3, 0, 0));
    rejects("padLeft must be >= 0, got -5", b -> b.padding(0, 0, -5, 0));
    rejects("groups must be >= 1, got 0", b -> b.groups(0));
    rejects("groups 2 must divide inputChannels 3", b -> b.groups(2));
    rejects("groups 3 must divide outputChannels 4", b -> b.groups(3));
    rejects("dilationHeight must be >= 1, got 0", b -> b.dilation(0, 1));
    rejects("dilationWidth must be >= 1, got -2", b -> b.dilation(1, -2));
    rejects(
        "kernelHeight 3 dilated by 5 (11 rows) exceeds the padded input height 9: no output row",
        b -> b.dilation(5, 1));
    rejects("dilated kernel width overflows 64 bits", b -> b.dilation(1, Long.MAX_VALUE));
    rejects("padRight must be >= 0, got -7", b -> b.padding(0, 0, 0, -7));
    rejects("kernelHeight 10 exceeds the padded input height 9", b -> b.kernel(10, 3));
    rejects(
        "kernelWidth 11 exceeds the padded input width 10",
        b -> b.kernel(3, 11).padding(0, 0, 1, 1));
    rejects("input overflows 64 bits", b -> b.batch(Long.MAX_VALUE / 4));
    rejects("kernel overflows 64 bits", b -> b.input(9, 8, 1L << 40).outputChannels(1L << 30));
    rejects(
        "padded input width overflows 64 bits",
        b -> b.input(9, Long.MAX_VALUE, 3).padding(0, 0, 1, 1));
    rejects("mecThreshold must be >= 0", b -> b.mecThreshold(-1));
    IllegalArgumentException unset =
        assertThrows(
            IllegalArgumentException.class,
            () -> Conv2d.builder().kernel(3, 3).outputChannels(1).build());
    assertTrue(unset.getMessage().contains("inputHeight must be >= 1, got 0"), unset.getMessage());
  }

  @Test
  void shapeStringsAreParsedAndErrorsNamed() {
    Conv2d c = Conv2d.parse("mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0");
    assertEquals(32, c.batch());
    assertEquals(55, c.outputHeight());
    assertEquals(c, Conv2d.parse(c.toString()));
    // benchdnn's grammar: g groups, dh/dw the dilation minus one (dh0 = none)
    Conv2d dw = Conv2d.parse("g32mb1ic32ih112oc32kh3ph1dh1");
    assertEquals(32, dw.groups());
    assertTrue(dw.isDepthwise());
    assertEquals(2, dw.dilationHeight());
    assertEquals(2, dw.dilationWidth());
    assertEquals(dw, Conv2d.parse(dw.toString()));
    assertEquals(3 * 3 * 32, dw.kernelSize());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Conv2d.parse("mb1ih7ic3oc4kh3zz9"));
    assertTrue(e.getMessage().contains("position"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conv2d.parse("mb1ih7ic3kh3"));
    assertTrue(e.getMessage().contains("'oc' is required"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conv2d.parse("mb1mb2ih7ic3oc1kh3"));
    assertTrue(e.getMessage().contains("given twice"), e.getMessage());
    assertThrows(NullPointerException.class, () -> Conv2d.parse(null));
  }

  @Test
  void badArraysAreRejectedAndTheOutputIsUntouched() {
    Conv2d spec = valid().build();
    float[] in = new float[(int) spec.inputSize()], k = new float[(int) spec.kernelSize()];
    float[] bias = new float[(int) spec.biasSize()], out = new float[(int) spec.outputSize()];
    Arrays.fill(out, 7f);
    float[] before = out.clone();
    try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
      assertEquals(
          "input",
          assertThrows(NullPointerException.class, () -> c.forward(null, k, out)).getMessage());
      assertEquals(
          "kernel",
          assertThrows(NullPointerException.class, () -> c.forward(in, null, out)).getMessage());
      assertEquals(
          "output",
          assertThrows(NullPointerException.class, () -> c.forward(in, k, null)).getMessage());
      // A null bias is no bias, in the array form as in the buffer and pointer forms.
      float[] ones = new float[in.length], halves = new float[k.length];
      Arrays.fill(ones, 1f);
      Arrays.fill(halves, 0.5f);
      float[] noBias = new float[out.length], zeroBias = new float[out.length];
      c.forward(ones, halves, null, noBias);
      c.forward(ones, halves, bias, zeroBias);
      assertTrue(noBias[0] != 0f);
      assertArrayEquals(zeroBias, noBias, 0f);
      String m =
          assertThrows(IndexOutOfBoundsException.class, () -> c.forward(new float[10], k, out))
              .getMessage();
      assertTrue(
          m.contains(
              "input needs " + spec.inputSize() + " floats from offset 0, but its length is 10"),
          m);
      m =
          assertThrows(IndexOutOfBoundsException.class, () -> c.forward(in, new float[3], out))
              .getMessage();
      assertTrue(m.contains("kernel needs"), m);
      m =
          assertThrows(IndexOutOfBoundsException.class, () -> c.forward(in, k, new float[2], out))
              .getMessage();
      assertTrue(m.contains("bias needs 4 floats"), m);
      float[] shortOut = new float[out.length - 1];
      m =
          assertThrows(IndexOutOfBoundsException.class, () -> c.forward(in, k, shortOut))
              .getMessage();
      assertTrue(m.contains("output needs"), m);
      m =
          assertThrows(
                  IndexOutOfBoundsException.class, () -> c.forward(in, -1, k, 0, null, 0, out, 0))
              .getMessage();
      assertTrue(m.contains("inputOffset must be >= 0, got -1"), m);
      m =
          assertThrows(
                  IndexOutOfBoundsException.class, () -> c.forward(in, 0, k, 1, null, 0, out, 0))
              .getMessage();
      assertTrue(m.contains("from offset 1"), m);
      assertThrows(
          IndexOutOfBoundsException.class,
          () -> c.forward(in, 0, k, 0, null, 0, out, Integer.MAX_VALUE));
      float[] shared = new float[(int) (spec.inputSize() + spec.outputSize())];
      m =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> c.forward(shared, 0, k, 0, null, 0, shared, 5))
              .getMessage();
      assertTrue(m.contains("input and output must not overlap"), m);
      assertArrayEquals(before, out, 0f);
    }
  }

  @Test
  void badBuffersAndPointersAreRejected() {
    Conv2d spec = valid().build();
    FloatBuffer in = direct(spec.inputSize()),
        k = direct(spec.kernelSize()),
        out = direct(spec.outputSize());
    try (Convolution c = Convolution.create(spec, Algorithm.IM2COL)) {
      String m =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> c.forward(FloatBuffer.allocate((int) spec.inputSize()), k, null, out))
              .getMessage();
      assertTrue(m.contains("input must be a direct FloatBuffer"), m);
      FloatBuffer bigEndian =
          ByteBuffer.allocateDirect((int) spec.kernelSize() * 4)
              .order(ByteOrder.BIG_ENDIAN)
              .asFloatBuffer();
      m =
          assertThrows(IllegalArgumentException.class, () -> c.forward(in, bigEndian, null, out))
              .getMessage();
      assertTrue(m.contains("kernel must be in native byte order"), m);
      m =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> c.forward(in, k, null, out.asReadOnlyBuffer()))
              .getMessage();
      assertTrue(m.contains("output must be writable"), m);
      FloatBuffer shortIn = direct(spec.inputSize());
      shortIn.position(1);
      m =
          assertThrows(IndexOutOfBoundsException.class, () -> c.forward(shortIn, k, null, out))
              .getMessage();
      assertTrue(m.contains("input needs " + spec.inputSize() + " floats from position 1"), m);
      FloatBuffer both = direct(spec.inputSize() + spec.outputSize());
      FloatBuffer outInside = both.duplicate().position(3).slice();
      m =
          assertThrows(IllegalArgumentException.class, () -> c.forward(both, k, null, outInside))
              .getMessage();
      assertTrue(m.contains("input and output must not overlap"), m);
      // Adjacent, not overlapping: the output starts right after the input, in the same memory.
      FloatBuffer outAfter = both.duplicate().position((int) spec.inputSize()).slice();
      c.forward(both, k, null, outAfter);

      try (FloatPointer pin = new FloatPointer(spec.inputSize());
          FloatPointer pk = new FloatPointer(spec.kernelSize());
          FloatPointer pout = new FloatPointer(spec.outputSize() - 1)) {
        m =
            assertThrows(IndexOutOfBoundsException.class, () -> c.forward(pin, pk, null, pout))
                .getMessage();
        assertTrue(m.contains("output needs"), m);
        assertThrows(
            NullPointerException.class, () -> c.forward(pin, new FloatPointer(), null, pout));
      }
    }
  }

  @Test
  void anOutputMustNotOverlapAnyOtherArgumentOutputsIncluded() {
    Conv2d spec = valid().build();
    int in = (int) spec.inputSize(), k = (int) spec.kernelSize(), out = (int) spec.outputSize();
    try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
      float[] shared = new float[in + out];
      String m =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> c.backwardData(shared, new float[k], shared))
              .getMessage();
      assertEquals(
          "gradOutput and gradInput must not overlap (the same array, gradOutput from offset 0, gradInput from offset 0)",
          m);
      FloatBuffer gradients = direct(k + spec.biasSize()),
          gradKernel = gradients.duplicate().limit(k).slice();
      gradients.put(k - 1, 7f);
      FloatBuffer gradBias = gradients.duplicate().position(k - 1).slice();
      m =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> c.backwardWeights(direct(in), direct(out), gradKernel, gradBias))
              .getMessage();
      assertEquals("gradBias and gradKernel must not overlap in memory", m);
      assertEquals(7f, gradients.get(k - 1), "outputs untouched");
      c.backwardWeights(
          direct(in),
          direct(out),
          gradKernel,
          gradients.duplicate().position(k).slice()); // adjacent
      try (FloatPointer unlimited = new FloatPointer(direct(out)).limit(0)) {
        m =
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                        c.backwardData(
                            unlimited, new FloatPointer(direct(k)), new FloatPointer(direct(in))))
                .getMessage();
        assertTrue(m.startsWith("gradOutput has no known limit"), m);
      }
    }
  }

  @Test
  void algorithmsThatCannotRunALayerSaySoAtCreate() {
    Conv2d wide = Conv2d.parse("mb1ih4iw4ic1oc64kh1kw1"); // |O| > |L|: no Solution A
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Convolution.create(wide, Algorithm.MEC_A));
    assertTrue(e.getMessage().contains("Solution A"), e.getMessage());
    assertThrows(NullPointerException.class, () -> Convolution.create(null, Algorithm.MEC));
    assertThrows(NullPointerException.class, () -> Convolution.create(wide, null));
    try (Workspace small = Workspace.allocate(8)) {
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Convolution.create(valid().build(), Algorithm.MEC_B, small));
      assertTrue(e.getMessage().contains("workspace has 8 bytes"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Workspace.allocate(0));
    assertThrows(OutOfMemoryError.class, () -> Workspace.allocate(Long.MAX_VALUE / 2));
  }

  @Test
  void closedConvolutionsAndWorkspacesFailFast() {
    Conv2d spec = valid().build();
    float[] in = new float[(int) spec.inputSize()],
        k = new float[(int) spec.kernelSize()],
        out = new float[(int) spec.outputSize()];
    Convolution c = Convolution.create(spec, Algorithm.MEC);
    c.close();
    c.close(); // idempotent
    assertTrue(
        assertThrows(IllegalStateException.class, () -> c.forward(in, k, out))
            .getMessage()
            .contains("closed"));
    Workspace ws = Workspace.allocate(spec.workspaceBytes(Algorithm.MEC_B));
    Convolution borrowing = Convolution.create(spec, Algorithm.MEC_B, ws);
    ws.close();
    assertTrue(
        assertThrows(IllegalStateException.class, () -> borrowing.forward(in, k, out))
            .getMessage()
            .contains("Workspace is closed"));
    borrowing.close();
    assertThrows(IllegalStateException.class, () -> Convolution.create(spec, Algorithm.MEC_B, ws));
  }

  @Test
  void concurrentUseOfOneConvolutionFailsFast() throws Exception {
    Conv2d spec = Conv2d.parse("mb8ih64iw64ic16oc32kh3kw3");
    float[] in = new float[(int) spec.inputSize()], k = new float[(int) spec.kernelSize()];
    AtomicInteger refused = new AtomicInteger();
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    try (Convolution c =
        Convolution.create(spec, Algorithm.REFERENCE)) { // ~10 ms a call: calls overlap
      CountDownLatch start = new CountDownLatch(1);
      Runnable hammer =
          () -> {
            try {
              start.await();
              for (int i = 0; i < 30 && refused.get() == 0; i++) {
                try {
                  c.forward(in, k, new float[(int) spec.outputSize()]);
                } catch (IllegalStateException e) {
                  if (e.getMessage().contains("not thread-safe")) refused.incrementAndGet();
                  else throw e;
                }
              }
            } catch (Throwable t) {
              unexpected.set(t);
            }
          };
      Thread a = new Thread(hammer), b = new Thread(hammer);
      a.start();
      b.start();
      start.countDown();
      a.join();
      b.join();
    }
    assertEquals(null, unexpected.get());
    assertTrue(refused.get() > 0, "a concurrent call must be refused");
  }

  private static FloatBuffer direct(long n) {
    return ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }
}
