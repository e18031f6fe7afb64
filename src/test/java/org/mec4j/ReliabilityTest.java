package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** Concurrency, leaks, caps and numerical edge cases. */
class ReliabilityTest {

  @Test
  void manyConvolutionsInParallelAreBitIdenticalToASerialRun() throws Exception {
    // MKL's last bits depend on array alignment and its run-time thread choice unless its
    // Conditional Numerical Reproducibility mode is on; pom.xml sets it for the MKL test run.
    if (Blas.backend().isMkl())
      assertTrue(
          String.valueOf(System.getenv("MKL_CBWR")).contains("STRICT"),
          "run MKL tests with MKL_CBWR=AUTO,STRICT");
    parallelRunsMatchSerial();
  }

  private void parallelRunsMatchSerial() throws Exception {
    int threads = 8, calls = 500;
    Random r = new Random(TestShapes.seed() + 10);
    List<Conv2d> specs = new ArrayList<>();
    List<float[][]> data = new ArrayList<>();
    List<float[]> serial = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Conv2d spec =
          Conv2d.parse(
              new String[] {
                    "mb2ih12iw10ic3oc8kh3kw3ph1pw1",
                    "mb1ih9iw9ic16oc16kh3kw3",
                    "mb3ih8iw8ic4oc4kh2kw2sh2sw2",
                    "mb1ih15iw7ic2oc5kh5kw3sh1sw2pt2pb2",
                    "mb2ih14iw14ic40oc40kh3kw3ph1pw1g40",
                    "mb1ih12iw12ic8oc12kh3kw3g4dh1",
                    "mb2ih9iw9ic6oc12kh3kw3sh2sw2ph1pw1g6",
                    "mb1ih10iw8ic5oc7kh2kw3pt3pb3pl4pr4"
                  }
                  [t]);
      specs.add(spec);
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize());
      data.add(new float[][] {in, k});
      float[] out = new float[(int) spec.outputSize()];
      try (Convolution c = Convolution.create(spec, algorithmFor(t, spec))) {
        c.forward(in, k, out);
      }
      serial.add(out);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        final int id = t;
        results.add(
            pool.submit(
                () -> {
                  Conv2d spec = specs.get(id);
                  float[] out = new float[(int) spec.outputSize()];
                  int identical = 0;
                  try (Convolution c = Convolution.create(spec, algorithmFor(id, spec))) {
                    for (int i = 0; i < calls; i++) {
                      c.forward(data.get(id)[0], data.get(id)[1], out);
                      if (java.util.Arrays.equals(out, serial.get(id))) identical++;
                    }
                  }
                  return identical;
                }));
      }
      for (Future<Integer> f : results)
        assertEquals(calls, f.get(), "calls bit-identical to the serial run");
    } finally {
      pool.shutdown();
    }
  }

  /** Every fast algorithm but MEC_A (which needs |O| <= |L|) takes a turn. */
  /** A different algorithm per thread; MEC where the layer does not take that one. */
  private static Algorithm algorithmFor(int thread, Conv2d spec) {
    Algorithm a = TestShapes.FAST[thread % TestShapes.FAST.length];
    return a == Algorithm.MEC_A || !TestShapes.supports(spec, a) ? Algorithm.MEC : a;
  }

  @Test
  void createForwardCloseCyclesKeepNativeMemoryFlat() {
    // A 46 KiB workspace per cycle: a leak of even one per cycle would add 4.6 GB of RSS, far
    // above what the Java heap's own growth can add (RSS counts both).
    Conv2d spec = Conv2d.parse("mb1ih32iw32ic4oc4kh3kw3");
    float[] in = new float[(int) spec.inputSize()],
        k = new float[(int) spec.kernelSize()],
        out = new float[(int) spec.outputSize()];
    int cycles = Integer.getInteger("mec4j.leak.cycles", 100_000);
    Runnable cycle =
        () -> {
          try (Convolution c = Convolution.create(spec, Algorithm.MEC)) {
            c.forward(in, k, out);
          }
        };
    int threads = Blas.backend().threads();
    Blas.setThreads(1); // a tiny layer: waking the BLAS's threads 300,000 times would dominate
    try {
      cycles(cycle, cycles, spec);
    } finally {
      Blas.setThreads(Math.max(1, threads));
    }
  }

  private static void cycles(Runnable cycle, int cycles, Conv2d spec) {
    for (int i = 0; i < 5_000; i++) cycle.run(); // warm up allocators and JIT
    System.gc();
    long liveBefore = Workspace.liveBytes(),
        javacppBefore = Pointer.totalBytes(),
        rssBefore = Pointer.physicalBytes();
    for (int i = 0; i < cycles; i++) cycle.run();
    System.gc();
    long liveAfter = Workspace.liveBytes(),
        javacppAfter = Pointer.totalBytes(),
        rssAfter = Pointer.physicalBytes();
    System.out.printf(
        "leak check: %d cycles of a %d-byte workspace: workspace live bytes %d -> %d, JavaCPP bytes %d -> %d, "
            + "RSS %.1f -> %.1f MiB%n",
        cycles,
        spec.workspaceBytes(Algorithm.MEC),
        liveBefore,
        liveAfter,
        javacppBefore,
        javacppAfter,
        rssBefore / 1048576.0,
        rssAfter / 1048576.0);
    assertEquals(liveBefore, liveAfter, "workspace bytes still allocated");
    assertTrue(
        javacppAfter - javacppBefore < 1 << 20,
        "JavaCPP-tracked bytes grew by " + (javacppAfter - javacppBefore));
    assertTrue(
        rssAfter - rssBefore < 512L << 20, "RSS grew by " + (rssAfter - rssBefore) + " bytes");
  }

  @Test
  void forgottenWorkspacesAreReclaimedByTheGarbageCollector() throws InterruptedException {
    long before = Workspace.liveCount();
    for (int i = 0; i < 200; i++) Workspace.allocate(4096); // never closed
    for (int i = 0; i < 100 && Workspace.liveCount() > before; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertEquals(
        before, Workspace.liveCount(), "unclosed workspaces must be freed once unreachable");
  }

  @Test
  void workspaceCapIsEnforcedWithAClearError() {
    long old = Workspace.maxBytes();
    Conv2d spec = Conv2d.parse("mb1ih64iw64ic8oc8kh3kw3ph1pw1"); // padded: MEC lowers
    try {
      Workspace.setMaxBytes(1024);
      WorkspaceLimitException e =
          assertThrows(
              WorkspaceLimitException.class, () -> Convolution.create(spec, Algorithm.MEC));
      assertEquals(spec.workspaceBytes(Algorithm.MEC), e.requestedBytes());
      assertEquals(1024, e.maxBytes());
      assertTrue(e.getMessage().contains("exceeds the limit of 1024 bytes"), e.getMessage());
      try (Convolution c = Convolution.create(spec, Algorithm.REFERENCE)) { // needs none: allowed
        assertEquals(0, c.workspaceBytes());
      }
    } finally {
      Workspace.setMaxBytes(old);
    }
    assertThrows(IllegalArgumentException.class, () -> Workspace.setMaxBytes(0));
  }

  @Test
  void cappedMecTilesItsWorkAndStaysExact() {
    Random r = new Random(TestShapes.seed() + 13);
    for (String shape :
        new String[] {
          "mb5ih12iw11ic3oc4kh3kw3ph1pw1", "mb1ih20iw17ic4oc6kh5kw3sh2sw1", "mb3ih9iw9ic8oc8kh3kw3"
        }) {
      Conv2d full = Conv2d.parse(shape);
      float[] in = TestShapes.integers(r, full.inputSize()),
          k = TestShapes.integers(r, full.kernelSize());
      float[] bias = TestShapes.integers(r, full.biasSize());
      float[] expected = TestShapes.reference(full, in, k, bias);
      long strip =
          (full.inputHeight() + full.padTop() + full.padBottom())
              * full.kernelWidth()
              * full.inputChannels()
              * 4;
      long band =
          full.kernelHeight() * full.outputWidth() * full.kernelWidth() * full.inputChannels() * 4;
      long smallest = Math.min(strip, band);
      assertEquals(smallest, full.minimumMecWorkspaceLimit());
      long whole = full.workspaceBytes(Algorithm.MEC_B);
      for (long limit :
          new long[] {smallest, strip, band, band * 2 + 7, whole / 2, whole - 1, whole}) {
        if (limit < smallest) continue;
        Conv2d capped = full.toBuilder().mecWorkspaceLimit(limit).build();
        for (Algorithm a :
            new Algorithm[] {
              Algorithm.MEC, Algorithm.MEC_B, Algorithm.MEC_ROWS, Algorithm.MEC_FUSED
            }) {
          assertTrue(capped.workspaceBytes(a) <= limit, a + " workspace over the cap " + limit);
          float[] got = new float[expected.length];
          long bytes = capped.workspaceBytes(a); // 0: unpadded MEC_FUSED reads the input in place
          try (Workspace ws = bytes > 0 ? Workspace.allocate(bytes) : null;
              Convolution c =
                  ws != null ? Convolution.create(capped, a, ws) : Convolution.create(capped, a)) {
            if (ws != null) TestShapes.poison(ws);
            c.forward(in, k, bias, got);
          }
          assertArrayEquals(expected, got, 0f, a + " on " + shape + " capped at " + limit);
        }
      }
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> full.toBuilder().mecWorkspaceLimit(smallest - 1).build());
      assertTrue(e.getMessage().contains("below MEC's smallest tile"), e.getMessage());
    }
  }

  @Test
  void nanAndInfinityPropagateLikeTheReference() {
    Random r = new Random(TestShapes.seed() + 11);
    for (String s :
        new String[] {
          "mb2ih7iw6ic3oc4kh3kw3ph1pw1", "mb1ih9iw9ic8oc8kh3kw3sh2sw2", "mb3ih5iw5ic2oc3kh1kw1"
        }) {
      Conv2d spec = Conv2d.parse(s);
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize());
      in[r.nextInt(in.length)] = Float.NaN;
      in[r.nextInt(in.length)] = Float.POSITIVE_INFINITY;
      in[r.nextInt(in.length)] = Float.NEGATIVE_INFINITY;
      k[r.nextInt(k.length)] = Float.POSITIVE_INFINITY;
      float[] expected = TestShapes.reference(spec, in, k, null);
      for (var e : TestShapes.fastOutputs(spec, in, k, null).entrySet()) {
        Algorithm a = e.getKey();
        float[] got = e.getValue();
        for (int i = 0; i < got.length; i++) {
          if (Float.isNaN(expected[i]) || Float.isInfinite(expected[i]))
            assertEquals(expected[i], got[i], a + " on " + s + " at " + i); // NaN equals NaN here
          else
            assertTrue(
                Math.abs(expected[i] - got[i]) <= TestShapes.tolerance(spec, expected[i]),
                a + " on " + s + " at " + i);
        }
      }
    }
  }

  @Test
  void denormalsAndLargeChannelCounts() {
    Random r = new Random(TestShapes.seed() + 12);
    Conv2d deep = Conv2d.parse("mb1ih3iw3ic4096oc64kh1kw1");
    Conv2d spatial = Conv2d.parse("mb2ih6iw6ic8oc8kh3kw3");
    for (Conv2d spec : new Conv2d[] {deep, spatial}) {
      boolean tiny = spec == spatial;
      float[] in = TestShapes.uniform(r, spec.inputSize()),
          k = TestShapes.uniform(r, spec.kernelSize());
      if (tiny) for (int i = 0; i < in.length; i++) in[i] *= Float.MIN_NORMAL; // denormal inputs
      float[] expected = TestShapes.reference(spec, in, k, null);
      for (var e : TestShapes.fastOutputs(spec, in, k, null).entrySet()) {
        Algorithm a = e.getKey();
        float[] got = e.getValue();
        for (int i = 0; i < got.length; i++) {
          // Denormal results may be flushed to zero by a BLAS: allow an absolute error below
          // MIN_NORMAL.
          float tol = tiny ? Float.MIN_NORMAL : TestShapes.tolerance(spec, expected[i]);
          assertTrue(
              Math.abs(expected[i] - got[i]) <= tol,
              a + " on " + spec + " at " + i + ": " + got[i] + " vs " + expected[i]);
        }
      }
    }
  }
}
