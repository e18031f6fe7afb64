package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CheckerTest {
  @org.junit.jupiter.api.BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
  }

  /** Dot products of length k in two summation orders (forward in float, pairwise in float). */
  static float[][] twoOrders(int n, int k, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n], b = new float[n];
    for (int i = 0; i < n; i++) {
      float[] x = new float[k];
      for (int j = 0; j < k; j++)
        x[j] = (float) ((r.nextDouble() * 2 - 1) * (r.nextDouble() * 2 - 1));
      float s = 0;
      for (float v : x) s += v;
      a[i] = s;
      b[i] = pairwise(x, 0, k);
    }
    return new float[][] {a, b};
  }

  static float pairwise(float[] x, int from, int to) {
    if (to - from <= 8) {
      float s = 0;
      for (int i = to - 1; i >= from; i--) s += x[i];
      return s;
    }
    int mid = (from + to) >>> 1;
    return pairwise(x, from, mid) + pairwise(x, mid, to);
  }

  @Test
  void roundingDifferencesOfCorrectResultsPass() {
    for (int k : new int[] {27, 576, 4608}) {
      float[][] ab = twoOrders(2000, k, k);
      Checker.Result r = Checker.compare(ab[0], ab[1], k, Checker.DEFAULT_FACTOR);
      assertTrue(r.ok(), "k=" + k + ": " + r);
      assertTrue(r.relError() > 0, "the two orders should differ a little");
    }
  }

  @Test
  void aDeliberatelyWrongResultIsRefused() {
    float[][] ab = twoOrders(500, 576, 1);
    float[] wrong = ab[0].clone();
    // one output off by one product term's size: what a real indexing bug does
    wrong[123] += 0.3f;
    Checker.Result r = Checker.compare(wrong, ab[1], 576, Checker.DEFAULT_FACTOR);
    assertFalse(r.ok(), r.toString());
    assertEquals(123, r.worstIndex());
    // a swapped pair of outputs
    float[] swapped = ab[0].clone();
    float t = swapped[10];
    swapped[10] = swapped[11];
    swapped[11] = t;
    assertFalse(Checker.compare(swapped, ab[1], 576, Checker.DEFAULT_FACTOR).ok());
    // a NaN anywhere
    float[] nan = ab[0].clone();
    nan[499] = Float.NaN;
    Checker.Result rn = Checker.compare(nan, ab[1], 576, Checker.DEFAULT_FACTOR);
    assertFalse(rn.ok());
    assertFalse(rn.finite());
    assertTrue(rn.toString().contains("non-finite"));
    // all zeros (an algorithm that wrote nothing useful)
    assertFalse(Checker.compare(new float[500], ab[1], 576, Checker.DEFAULT_FACTOR).ok());
  }

  @Test
  void toleranceGrowsLikeSqrtK() {
    assertEquals(2 * Checker.tolerance(100, 16), Checker.tolerance(400, 16), 1e-18);
    assertEquals(16 * Math.ulp(1f) * 10, Checker.tolerance(100, 16), 1e-18);
  }

  @Test
  void nativeBuffersCompareLikeArrays() {
    org.mec4j.Blas.backend(); // JavaCPP's allocator comes with the library
    float[][] ab = twoOrders(3000, 64, 5);
    try (NativeFloats a = new NativeFloats(3000);
        NativeFloats b = new NativeFloats(3000)) {
      for (int i = 0; i < 3000; i++) {
        a.set(i, ab[0][i]);
        b.set(i, ab[1][i]);
      }
      assertEquals(0, a.pointer().address() % 64);
      Checker.Result x = Checker.compare(a, b, 64, 16), y = Checker.compare(ab[0], ab[1], 64, 16);
      assertEquals(y.relError(), x.relError());
      a.set(2999, a.get(2999) + 1);
      assertFalse(Checker.compare(a, b, 64, 16).ok());
    }
  }
}
