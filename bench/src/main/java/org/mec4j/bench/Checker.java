package org.mec4j.bench;

/**
 * The correctness gate run before anything is timed: an output is compared with a reference output
 * of the same layer (im2col's, and oneDNN's).
 *
 * <p>Metric: max |got - ref| / max |ref| over the whole output (NaN or infinity anywhere fails).
 * Tolerance: {@code factor * 2^-23 * sqrt(K)}, K = k_h·k_w·i_c/g the length of each dot product:
 * rounding errors of two correct fp32 summation orders grow like sqrt(K), so the bound stays tight
 * for small layers and fair for large ones. With inputs and weights uniform in [-1, 1), dropping or
 * corrupting a single product in one output element is caught for K up to ~10^5.
 */
public final class Checker {
  /** Default factor of the tolerance. */
  public static final double DEFAULT_FACTOR = 16.0;

  private static final double EPS = Math.ulp(1.0f);
  private static final int CHUNK = 1 << 20;

  /** Outcome of one comparison. */
  public record Result(
      double maxAbsError,
      double maxAbsRef,
      double relError,
      double tolerance,
      long worstIndex,
      boolean finite) {
    public boolean ok() {
      return finite && relError <= tolerance;
    }

    @Override
    public String toString() {
      if (!finite) return "non-finite value at index " + worstIndex;
      return String.format(
          java.util.Locale.ROOT,
          "max|diff|/max|ref| = %.3g (tolerance %.3g, worst at index %d)",
          relError,
          tolerance,
          worstIndex);
    }
  }

  private Checker() {}

  public static double tolerance(long dotLength, double factor) {
    return factor * EPS * Math.sqrt(Math.max(1, dotLength));
  }

  public static Result compare(float[] got, float[] ref, long dotLength, double factor) {
    if (got.length != ref.length)
      throw new IllegalArgumentException("lengths differ: " + got.length + " vs " + ref.length);
    Acc a = new Acc();
    a.add(got, ref, got.length, 0);
    return a.result(dotLength, factor);
  }

  static Result compare(NativeFloats got, NativeFloats ref, long dotLength, double factor) {
    if (got.size() != ref.size())
      throw new IllegalArgumentException("sizes differ: " + got.size() + " vs " + ref.size());
    long n = got.size();
    float[] g = new float[(int) Math.min(CHUNK, n)], r = new float[g.length];
    Acc a = new Acc();
    for (long i = 0; i < n; i += g.length) {
      int m = (int) Math.min(g.length, n - i);
      got.read(i, g, m);
      ref.read(i, r, m);
      a.add(g, r, m, i);
    }
    return a.result(dotLength, factor);
  }

  private static final class Acc {
    double maxDiff, maxRef;
    long worst = -1;
    boolean finite = true;

    void add(float[] g, float[] r, int n, long base) {
      for (int j = 0; j < n; j++) {
        float gv = g[j], rv = r[j];
        if (!Float.isFinite(gv) || !Float.isFinite(rv)) {
          if (finite) worst = base + j;
          finite = false;
          continue;
        }
        double d = Math.abs((double) gv - rv);
        if (d > maxDiff) {
          maxDiff = d;
          if (finite) worst = base + j;
        }
        double a = Math.abs(rv);
        if (a > maxRef) maxRef = a;
      }
    }

    Result result(long dotLength, double factor) {
      double rel = maxRef > 0 ? maxDiff / maxRef : (maxDiff > 0 ? Double.POSITIVE_INFINITY : 0);
      return new Result(
          maxDiff, maxRef, rel, tolerance(dotLength, factor), Math.max(worst, 0), finite);
    }
  }
}
