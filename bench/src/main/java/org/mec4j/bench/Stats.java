package org.mec4j.bench;

import java.util.Arrays;

/** Median, minimum and maximum of timing samples. */
public record Stats(double median, double min, double max, int n) {
  public static Stats of(double[] samples) {
    if (samples.length == 0) throw new IllegalArgumentException("no samples");
    double[] s = samples.clone();
    Arrays.sort(s);
    int n = s.length;
    double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    return new Stats(median, s[0], s[n - 1], n);
  }
}
