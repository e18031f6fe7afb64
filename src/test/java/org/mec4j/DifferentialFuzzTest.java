package org.mec4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing: random layers, every fast algorithm against the reference.
 *
 * <p>Each case has its own seed (base seed + case index), printed on failure, so one case can be
 * replayed alone: {@code mvn test -Dtest=DifferentialFuzzTest -Dmec4j.fuzz.seed=S
 * -Dmec4j.fuzz.cases=1}. Long mode: {@code -Dmec4j.fuzz.cases=200000}.
 */
class DifferentialFuzzTest {

  static Conv2d randomLayer(Random r) {
    // Sizes skewed small (most bugs live at edges) with an occasional wide one; groups, dilation
    // and padding beyond the kernel as in TestShapes.
    return TestShapes.randomLayer(
        r,
        r.nextInt(8) == 0 ? 11 : 5,
        r.nextInt(4) == 0 ? 40 : 10,
        r.nextInt(4) == 0 ? 64 : 8,
        r.nextInt(4) == 0 ? 64 : 8,
        r.nextInt(4) == 0 ? 8 : 2,
        r.nextInt(3) == 0 ? 6 : 2);
  }

  /** Checks one case; returns null when all algorithms agree, else a description. */
  static String check(long seed) {
    Random r = new Random(seed);
    Conv2d spec = randomLayer(r);
    boolean integers = r.nextBoolean();
    float[] in =
        integers
            ? TestShapes.integers(r, spec.inputSize())
            : TestShapes.uniform(r, spec.inputSize());
    float[] k =
        integers
            ? TestShapes.integers(r, spec.kernelSize())
            : TestShapes.uniform(r, spec.kernelSize());
    float[] bias = r.nextBoolean() ? TestShapes.integers(r, spec.biasSize()) : null;
    float[] expected = TestShapes.reference(spec, in, k, bias);
    float[] independent = TestShapes.javaReference(spec, in, k, bias);
    for (int i = 0; i < expected.length; i++)
      if (!(Math.abs(independent[i] - expected[i])
          <= (integers ? 0f : TestShapes.tolerance(spec, expected[i]))))
        return "REFERENCE differs from the Java oracle on "
            + spec
            + ": ["
            + i
            + "] "
            + expected[i]
            + " != "
            + independent[i];
    float[] got = new float[expected.length];
    for (Algorithm a : TestShapes.FAST) {
      if (!TestShapes.supports(spec, a)) continue;
      try (Workspace ws = Workspace.allocate(Math.max(1, spec.workspaceBytes(a)));
          Convolution c = Convolution.create(spec, a, ws)) {
        TestShapes.poison(ws);
        java.util.Arrays.fill(got, Float.NaN);
        c.forward(in, 0, k, 0, bias, 0, got, 0);
      }
      for (int i = 0; i < got.length; i++) {
        float tol = integers ? 0f : TestShapes.tolerance(spec, expected[i]);
        if (!(Math.abs(got[i] - expected[i]) <= tol))
          return a
              + " on "
              + spec
              + (integers ? " (integers)" : " (floats)")
              + ": ["
              + i
              + "] "
              + got[i]
              + " != "
              + expected[i];
      }
    }
    return checkBackward(spec, r, integers, in, k);
  }

  private static final String[] GRADIENTS = {"gradInput", "gradKernel", "gradBias"};

  /**
   * Both backward passes of every algorithm that has them against the reference and the Java
   * oracle.
   */
  static String checkBackward(Conv2d spec, Random r, boolean integers, float[] in, float[] k) {
    float[] gradOut =
        integers
            ? TestShapes.integers(r, spec.outputSize())
            : TestShapes.uniform(r, spec.outputSize());
    float[][] expected = TestShapes.referenceBackward(spec, in, k, gradOut);
    float[][] independent = TestShapes.javaBackward(spec, in, k, gradOut);
    long[] terms = TestShapes.backwardTerms(spec);
    String mismatch =
        compare(
            "REFERENCE backward vs the Java oracle", spec, integers, independent, expected, terms);
    if (mismatch != null) return mismatch;
    // A quarter of the cases also run MEC's passes in row bands, under a limit below one image.
    Conv2d banded = r.nextInt(4) == 0 ? TestShapes.withBandLimit(spec, r) : null;
    for (Algorithm a : TestShapes.BACKWARD) {
      mismatch = checkBackward(spec, a, integers, in, k, gradOut, expected, terms);
      if (mismatch == null
          && banded != null
          && (a == Algorithm.MEC || a == Algorithm.MEC_ROWS || a == Algorithm.MEC_FUSED))
        mismatch = checkBackward(banded, a, integers, in, k, gradOut, expected, terms);
      if (mismatch != null) return mismatch;
    }
    return null;
  }

  private static String checkBackward(
      Conv2d spec,
      Algorithm a,
      boolean integers,
      float[] in,
      float[] k,
      float[] gradOut,
      float[][] expected,
      long[] terms) {
    boolean data = TestShapes.supportsBackward(spec, a, Direction.BACKWARD_DATA);
    boolean weights = TestShapes.supportsBackward(spec, a, Direction.BACKWARD_WEIGHTS);
    if (spec.supports(a, Direction.BACKWARD_DATA) != data
        || spec.supports(a, Direction.BACKWARD_WEIGHTS) != weights)
      return a + " backward support on " + spec + " is not data " + data + ", weights " + weights;
    if (!data && !weights) return null;
    float[][] got = TestShapes.emptyGradients(spec);
    for (float[] gradient : got) java.util.Arrays.fill(gradient, Float.NaN);
    if (!data) got[0] = expected[0].clone(); // nothing to compare
    long need =
        Math.max(
            data ? spec.workspaceBytes(a, Direction.BACKWARD_DATA) : 0,
            weights ? spec.workspaceBytes(a, Direction.BACKWARD_WEIGHTS) : 0);
    // Borrowed: it must fit the forward too, where the algorithm has one (MEC_ROWS: grouped layers
    // backward only).
    if (spec.supports(a, Direction.FORWARD)) need = Math.max(need, spec.workspaceBytes(a));
    try (Workspace ws = Workspace.allocate(Math.max(1, need));
        Convolution c = Convolution.create(spec, a, ws)) {
      if (data) {
        TestShapes.poison(ws);
        c.backwardData(gradOut, k, got[0]);
      }
      if (weights) {
        TestShapes.poison(ws);
        c.backwardWeights(in, gradOut, got[1], got[2]);
      }
    }
    return compare(a + " backward", spec, integers, got, expected, terms);
  }

  private static String compare(
      String what, Conv2d spec, boolean integers, float[][] got, float[][] expected, long[] terms) {
    for (int g = 0; g < 3; g++)
      for (int i = 0; i < expected[g].length; i++) {
        float tol = integers ? 0f : TestShapes.backwardTolerance(terms[g], expected[g][i]);
        if (!(Math.abs(got[g][i] - expected[g][i]) <= tol))
          return what
              + " on "
              + spec
              + (integers ? " (integers)" : " (floats)")
              + ": "
              + GRADIENTS[g]
              + "["
              + i
              + "] "
              + got[g][i]
              + " != "
              + expected[g][i];
      }
    return null;
  }

  @Test
  void randomLayersAgreeWithTheReference() {
    long base = Long.getLong("mec4j.fuzz.seed", TestShapes.seed() * 1_000_003L);
    int cases = Integer.getInteger("mec4j.fuzz.cases", 2000);
    long start = System.nanoTime();
    for (int i = 0; i < cases; i++) {
      String failure = check(base + i);
      if (failure != null)
        fail(
            "fuzz case "
                + i
                + " failed; replay with -Dmec4j.fuzz.seed="
                + (base + i)
                + " -Dmec4j.fuzz.cases=1: "
                + failure);
      if (cases > 10_000 && i % 10_000 == 0 && i > 0)
        System.out.printf(
            "fuzz: %d/%d cases, %.0f s%n", i, cases, (System.nanoTime() - start) / 1e9);
    }
  }
}
