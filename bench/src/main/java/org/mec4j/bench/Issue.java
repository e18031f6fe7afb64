package org.mec4j.bench;

import java.util.List;

/**
 * Something that is not a result: an {@code error} (a wrong result, a crash, a BLAS that is not
 * the one requested) or a {@code skipped} combination (e.g. MEC_A when |O| &gt; |L|).
 */
public record Issue(String severity, String layer, long batch, String blas, int threads, String algorithm, String message) {
  public static final String HEADER = "severity,layer,batch,blas,threads,algorithm,message";

  public boolean isError() {
    return severity.equals("error");
  }

  public String toCsv() {
    return String.join(",", Row.Csv.quote(severity), Row.Csv.quote(layer), Long.toString(batch), Row.Csv.quote(blas),
        Integer.toString(threads), Row.Csv.quote(algorithm), Row.Csv.quote(message.replace('\n', ' ')));
  }

  public static Issue parse(String line) {
    List<String> f = Row.Csv.split(line);
    if (f.size() != 7) throw new IllegalArgumentException("issue line needs 7 fields: " + line);
    return new Issue(f.get(0), f.get(1), Long.parseLong(f.get(2)), f.get(3), Integer.parseInt(f.get(4)), f.get(5), f.get(6));
  }
}
