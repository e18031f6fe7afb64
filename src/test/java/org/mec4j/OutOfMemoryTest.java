package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * A native allocation that fails reaches Java as {@link OutOfMemoryError} with the outputs
 * untouched (MEC4J_ERROR_OUT_OF_MEMORY through Native.check). The allocation: REFERENCE's
 * backward-weights accumulators, 8 bytes per kernel weight, made to fail in a child JVM that caps
 * its own address space (prlimit) a little above what it has mapped once its buffers exist.
 */
class OutOfMemoryTest {
  private static final int CHANNELS =
      4096; // a 1x1 kernel of 4096 x 4096: 64 MiB, accumulators 128 MiB
  private static final long HEADROOM = 48L << 20; // below the accumulators' 128 MiB

  @Test
  void aFailedNativeAllocationIsAnOutOfMemoryErrorWithTheOutputsUntouched() throws Exception {
    // One run of the suite is enough (the failure is in mec4j's own code, before any BLAS call):
    // the default one, OpenBLAS at the host's ISA.
    assumeTrue(
        !"mkl".equalsIgnoreCase(System.getProperty(Blas.BLAS_PROPERTY))
            && System.getenv("MEC4J_MAX_ISA") == null,
        "the default OpenBLAS run only");
    String prlimit = prlimit();
    assumeTrue(prlimit != null, "no prlimit (util-linux) on PATH");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    for (String p : new String[] {Blas.BLAS_PROPERTY, "java.library.path"})
      if (System.getProperty(p) != null) command.add("-D" + p + "=" + System.getProperty(p));
    command.add(Child.class.getName());
    command.add(prlimit);
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    boolean done = child.waitFor(120, TimeUnit.SECONDS);
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!done) child.destroyForcibly();
    assertTrue(done, "the child JVM did not finish: " + output);
    assertEquals(0, child.exitValue(), output);
    assertTrue(
        output.contains("OutOfMemoryError: mec4j: out of memory (backward weights of REFERENCE"),
        output);
  }

  private static String prlimit() {
    for (String dir :
        System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "prlimit");
      if (Files.isExecutable(p)) return p.toString();
    }
    return null;
  }

  /** The child JVM: buffers first, then the address-space cap, then the call. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Conv2d spec =
          Conv2d.builder()
              .batch(1)
              .input(1, 1, CHANNELS)
              .kernel(1, 1)
              .outputChannels(CHANNELS)
              .build();
      FloatPointer input = new FloatPointer(spec.inputSize());
      FloatPointer gradOutput = new FloatPointer(spec.outputSize());
      FloatPointer gradKernel = new FloatPointer(spec.kernelSize());
      FloatPointer gradBias = new FloatPointer(spec.biasSize());
      FloatBuffer kernelView = gradKernel.asBuffer(), biasView = gradBias.asBuffer();
      fill(input.asBuffer(), 1f);
      fill(gradOutput.asBuffer(), 1f);
      fill(kernelView, -7f);
      fill(biasView, -7f);
      try (Convolution conv = Convolution.create(spec, Algorithm.REFERENCE)) {
        long limit = mappedBytes() + HEADROOM;
        Process p =
            new ProcessBuilder(
                    args[0], "--pid", Long.toString(ProcessHandle.current().pid()), "--as=" + limit)
                .inheritIO()
                .start();
        if (p.waitFor() != 0) throw new IllegalStateException("prlimit failed");
        try {
          conv.backwardWeights(input, gradOutput, gradKernel, gradBias);
          System.out.println("no error: the accumulators fit under the cap");
          System.exit(2);
        } catch (OutOfMemoryError e) {
          for (int i = 0; i < kernelView.capacity(); i++)
            if (kernelView.get(i) != -7f) fail("gradKernel[" + i + "] written");
          for (int i = 0; i < biasView.capacity(); i++)
            if (biasView.get(i) != -7f) fail("gradBias[" + i + "] written");
          System.out.println("OutOfMemoryError: " + e.getMessage());
        }
      }
      System.exit(0);
    }

    private static void fill(FloatBuffer b, float v) {
      for (int i = 0; i < b.capacity(); i++) b.put(i, v);
    }

    private static void fail(String message) {
      System.out.println(message);
      System.exit(3);
    }

    /** VmSize of this process, in bytes. */
    private static long mappedBytes() throws IOException {
      for (String line : Files.readAllLines(Path.of("/proc/self/status")))
        if (line.startsWith("VmSize:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      throw new IllegalStateException("no VmSize in /proc/self/status");
    }
  }
}
