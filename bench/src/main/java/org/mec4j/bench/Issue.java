package org.mec4j.bench;

import java.util.List;

/**
 * Something that is not a result: an {@code error} (a wrong result, a crash, a BLAS that is not the
 * one requested) or a {@code skipped} combination (e.g. MEC_A when |O| &gt; |L|).
 */
public record Issue(
    String severity,
    String layer,
    long batch,
    String blas,
    int threads,
    String algorithm,
    String message) {
  public static final String HEADER = "severity,layer,batch,blas,threads,algorithm,message";

  public boolean isError() {
    return severity.equals("error");
  }

  public String toCsv() {
    return Csv.line(severity, layer, batch, blas, threads, algorithm, message.replace('\n', ' '));
  }

  public static Issue parse(String line) {
    return of(Csv.fields(line));
  }

  static Issue of(List<String> f) {
    if (f.size() != 7)
      throw new IllegalArgumentException("issue line needs 7 fields: " + Csv.line(f));
    return new Issue(
        f.get(0),
        f.get(1),
        Long.parseLong(f.get(2)),
        f.get(3),
        Integer.parseInt(f.get(4)),
        f.get(5),
        f.get(6));
  }
}
