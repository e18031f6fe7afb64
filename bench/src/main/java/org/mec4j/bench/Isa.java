package org.mec4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * --max-isa: the environment that caps every library of a child JVM at the same instruction set
 * (mec4j, OpenBLAS, MKL, oneDNN), and oneDNN's strict fp32.
 */
final class Isa {
  private Isa() {}

  static final List<String> VALUES = List.of("best", "avx512", "avx2", "portable");

  /**
   * The variables --max-isa owns: a child gets these from the runner only (inherited ones are
   * removed).
   */
  static final List<String> CAPS =
      List.of(
          "MEC4J_MAX_ISA", "OPENBLAS_CORETYPE", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA");

  static final String FPMATH = "ONEDNN_DEFAULT_FPMATH_MODE";

  /** Every variable recorded in env-*.properties (lower-cased). */
  static final List<String> RECORDED =
      List.of(
          "MEC4J_MAX_ISA",
          "OPENBLAS_CORETYPE",
          "MKL_ENABLE_INSTRUCTIONS",
          "ONEDNN_MAX_CPU_ISA",
          FPMATH);

  /**
   * Accepts best, avx512, avx2, portable (any case); picocli reports anything else as a usage
   * error.
   */
  static final class Converter implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      if (!VALUES.contains(v))
        throw new TypeConversionException(
            "expected one of " + String.join(", ", VALUES) + " but was '" + value + "'");
      return v;
    }
  }

  /**
   * What a child JVM gets for --max-isa on a host with or without AVX-512: the four caps (none for
   * best; for avx512 on a host without it only mec4j's, since OPENBLAS_CORETYPE=SKYLAKEX would
   * crash OpenBLAS there), and ONEDNN_DEFAULT_FPMATH_MODE: the parent's if set, else STRICT.
   */
  static Map<String, String> childEnv(
      String maxIsa, boolean hostAvx512, Map<String, String> parentEnv) {
    Map<String, String> m = new LinkedHashMap<>();
    if (!maxIsa.equals("best")) m.put("MEC4J_MAX_ISA", maxIsa);
    boolean cap =
        maxIsa.equals("avx2")
            || maxIsa.equals("portable")
            || (maxIsa.equals("avx512") && hostAvx512);
    if (cap) {
      m.put(
          "OPENBLAS_CORETYPE",
          switch (maxIsa) {
            case "avx512" -> "SKYLAKEX";
            case "avx2" -> "HASWELL";
            default -> "PRESCOTT";
          });
      m.put(
          "MKL_ENABLE_INSTRUCTIONS",
          switch (maxIsa) {
            case "avx512" -> "AVX512";
            case "avx2" -> "AVX2";
            default -> "SSE4_2";
          });
      m.put(
          "ONEDNN_MAX_CPU_ISA",
          switch (maxIsa) {
            case "avx512" -> "AVX512_CORE";
            case "avx2" -> "AVX2";
            default -> "SSE41";
          });
    }
    String fp = parentEnv.get(FPMATH);
    m.put(FPMATH, fp != null && !fp.isEmpty() ? fp : "STRICT");
    return m;
  }

  /** The one-line note for avx512 or best on a host without AVX-512, else null. */
  static String note(String maxIsa, boolean hostAvx512) {
    if (hostAvx512 || !(maxIsa.equals("avx512") || maxIsa.equals("best"))) return null;
    return maxIsa.equals("best")
        ? "note: this host has no AVX-512 (no avx512f in /proc/cpuinfo): it caps every library at what it has."
        : "note: --max-isa avx512 on a host without AVX-512 (no avx512f in /proc/cpuinfo): it caps every library at what it has "
            + "(MEC4J_MAX_ISA set; OPENBLAS_CORETYPE, MKL_ENABLE_INSTRUCTIONS and ONEDNN_MAX_CPU_ISA left unset).";
  }

  /** Whether /proc/cpuinfo's flags include avx512f (false where it cannot be read). */
  static boolean hostAvx512() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo")))
        if (l.startsWith("flags"))
          return List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).contains("avx512f");
    } catch (IOException | RuntimeException e) {
      // not Linux: assume not (an AVX-512 cap could crash OpenBLAS)
    }
    return false;
  }
}
