package org.mec4j;

/**
 * The BLAS that is really loaded in this JVM, as found at run time (not as requested).
 *
 * @param vendor "OpenBLAS", "Intel MKL" or "unknown"
 * @param version the library's own version or configuration string
 * @param library the file that provides cblas_sgemm
 * @param threads the BLAS's thread count, or -1 if it cannot be asked
 * @param requested what was asked for: "openblas" or "mkl"
 */
public record BlasBackend(
    String vendor, String version, String library, int threads, String requested) {
  public boolean isMkl() {
    return vendor.equals("Intel MKL");
  }

  public boolean isOpenBlas() {
    return vendor.equals("OpenBLAS");
  }

  @Override
  public String toString() {
    return vendor
        + " ("
        + version
        + ") from "
        + library
        + ", "
        + threads
        + " thread(s), requested "
        + requested;
  }
}
