package org.mec4j;

import java.lang.System.Logger.Level;
import java.util.Locale;
import org.mec4j.internal.MecNative;

/**
 * The BLAS under mec4j: OpenBLAS by default, Intel MKL on request, chosen when the native library
 * first loads (once per JVM; no rebuild).
 *
 * <ul>
 *   <li>{@code -Dmec4j.blas=mkl} or the environment variable {@code MEC4J_BLAS=mkl} asks for MKL
 *       (the org.bytedeco:mkl {@code linux-x86_64-redist} jar must be on the class path); {@code
 *       openblas} is the default. The system property wins over the variable.
 *   <li>{@code -Dmec4j.threads=N} or {@code MEC4J_NUM_THREADS=N} sets the BLAS thread count at
 *       load; {@link #setThreads} changes it later. Otherwise the BLAS's own default applies
 *       (OPENBLAS_NUM_THREADS / MKL_NUM_THREADS, else all cores).
 * </ul>
 *
 * <p>What was really loaded is logged (System.Logger "org.mec4j") and returned by {@link
 * #backend()}; if MKL was asked for but OpenBLAS is what loaded, a warning is logged.
 */
public final class Blas {
  public static final String BLAS_PROPERTY = "mec4j.blas";
  public static final String BLAS_ENV = "MEC4J_BLAS";
  public static final String THREADS_PROPERTY = "mec4j.threads";
  public static final String THREADS_ENV = "MEC4J_NUM_THREADS";

  /** The OpenBLAS preset's own switch, which mec4j sets for you. */
  static final String PRESET_LOAD_PROPERTY = "org.bytedeco.openblas.load";

  private static final System.Logger LOG = System.getLogger("org.mec4j");
  private static String requested;

  private Blas() {}

  /** The BLAS actually loaded: vendor, version, library file, threads. Loads it if needed. */
  public static BlasBackend backend() {
    Native.ensureLoaded();
    return query();
  }

  /** Sets the BLAS's thread count for all later calls in this JVM. */
  public static void setThreads(int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    Native.ensureLoaded();
    Native.check(MecNative.mec4j_blas_set_threads(threads), "setThreads(" + threads + ")");
  }

  private static String setting(String property, String env) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) v = System.getenv(env);
    return v == null || v.isBlank() ? null : v.trim();
  }

  static synchronized void load() {
    if (requested != null) return;
    String want = setting(BLAS_PROPERTY, BLAS_ENV);
    want = want == null ? "openblas" : want.toLowerCase(Locale.ROOT);
    switch (want) {
      case "openblas":
        break;
      case "mkl":
      case "mkl_rt":
        want = "mkl";
        if (System.getProperty(PRESET_LOAD_PROPERTY) == null)
          System.setProperty(PRESET_LOAD_PROPERTY, "mkl_rt");
        break;
      default:
        throw new IllegalArgumentException(
            BLAS_PROPERTY + " / " + BLAS_ENV + " must be 'openblas' or 'mkl', got '" + want + "'");
    }
    String threads = setting(THREADS_PROPERTY, THREADS_ENV);
    int n = 0;
    if (threads != null) {
      try {
        n = Integer.parseInt(threads);
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1)
        throw new IllegalArgumentException(
            THREADS_PROPERTY
                + " / "
                + THREADS_ENV
                + " must be an integer >= 1, got '"
                + threads
                + "'");
    }
    MecNative.load();
    requested = want;
    Native.markLoaded();
    if (n > 0) Native.check(MecNative.mec4j_blas_set_threads(n), THREADS_PROPERTY + "=" + n);
    BlasBackend b = query();
    Cpu.checkEnvironment();
    LOG.log(
        Level.INFO,
        "mec4j: BLAS is {0}; ISA {1} (cap {2}), micro-kernel {3}, tuning {4}",
        b,
        Cpu.effectiveIsa(),
        Cpu.maxIsa(),
        Cpu.igemmKernel(),
        Tuning.current());
    if (want.equals("mkl") && !b.isMkl())
      LOG.log(
          Level.WARNING,
          "mec4j: Intel MKL was requested ({0}=mkl) but {1} is loaded: is the org.bytedeco:mkl "
              + "linux-x86_64-redist jar on the class path?",
          BLAS_PROPERTY,
          b.vendor());
  }

  private static BlasBackend query() {
    try (MecNative.BlasInfoStruct info = new MecNative.BlasInfoStruct()) {
      Native.check(MecNative.mec4j_blas_query(info), "BLAS query");
      return new BlasBackend(
          info.vendor().getString(),
          info.version().getString(),
          info.library().getString(),
          info.threads(),
          requested);
    }
  }
}
