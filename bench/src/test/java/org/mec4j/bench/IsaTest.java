package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --max-isa: the environment of the child JVMs, the host note and the report's line. */
class IsaTest {
  @Test
  void eachValueCapsEveryLibrary() {
    assertEquals(
        Map.of("ONEDNN_DEFAULT_FPMATH_MODE", "STRICT"), Isa.childEnv("best", true, Map.of()));
    assertEquals(
        Map.of(
            "MEC4J_MAX_ISA",
            "avx512",
            "OPENBLAS_CORETYPE",
            "SKYLAKEX",
            "MKL_ENABLE_INSTRUCTIONS",
            "AVX512",
            "ONEDNN_MAX_CPU_ISA",
            "AVX512_CORE",
            "ONEDNN_DEFAULT_FPMATH_MODE",
            "STRICT"),
        Isa.childEnv("avx512", true, Map.of()));
    Map<String, String> avx2 =
        Map.of(
            "MEC4J_MAX_ISA",
            "avx2",
            "OPENBLAS_CORETYPE",
            "HASWELL",
            "MKL_ENABLE_INSTRUCTIONS",
            "AVX2",
            "ONEDNN_MAX_CPU_ISA",
            "AVX2",
            "ONEDNN_DEFAULT_FPMATH_MODE",
            "STRICT");
    assertEquals(avx2, Isa.childEnv("avx2", true, Map.of()));
    assertEquals(avx2, Isa.childEnv("avx2", false, Map.of()));
    Map<String, String> portable =
        Map.of(
            "MEC4J_MAX_ISA",
            "portable",
            "OPENBLAS_CORETYPE",
            "PRESCOTT",
            "MKL_ENABLE_INSTRUCTIONS",
            "SSE4_2",
            "ONEDNN_MAX_CPU_ISA",
            "SSE41",
            "ONEDNN_DEFAULT_FPMATH_MODE",
            "STRICT");
    assertEquals(portable, Isa.childEnv("portable", true, Map.of()));
    assertEquals(portable, Isa.childEnv("portable", false, Map.of()));
  }

  @Test
  void noAvx512ValueOnAHostWithoutIt() {
    // OPENBLAS_CORETYPE=SKYLAKEX would crash OpenBLAS there: only mec4j's own cap is set.
    assertEquals(
        Map.of("MEC4J_MAX_ISA", "avx512", "ONEDNN_DEFAULT_FPMATH_MODE", "STRICT"),
        Isa.childEnv("avx512", false, Map.of()));
    assertEquals(
        Map.of("ONEDNN_DEFAULT_FPMATH_MODE", "STRICT"), Isa.childEnv("best", false, Map.of()));
    assertTrue(Isa.note("avx512", false).contains("no avx512f"));
    assertTrue(Isa.note("best", false).contains("no avx512f"));
    assertNull(Isa.note("avx512", true));
    assertNull(Isa.note("best", true));
    assertNull(Isa.note("avx2", false));
    assertNull(Isa.note("portable", false));
  }

  @Test
  void theUsersFpmathModeIsForwarded() {
    assertEquals(
        "BF16",
        Isa.childEnv("best", false, Map.of("ONEDNN_DEFAULT_FPMATH_MODE", "BF16"))
            .get("ONEDNN_DEFAULT_FPMATH_MODE"));
    assertEquals(
        "STRICT",
        Isa.childEnv("avx2", false, Map.of("ONEDNN_DEFAULT_FPMATH_MODE", ""))
            .get("ONEDNN_DEFAULT_FPMATH_MODE"));
  }

  @Test
  void everyValueOfTheOptionMapsAndOthersAreRefused() {
    for (String v : Isa.VALUES)
      assertEquals(v, new Isa.Converter().convert(v.toUpperCase(java.util.Locale.ROOT)));
    assertThrows(
        picocli.CommandLine.TypeConversionException.class,
        () -> new Isa.Converter().convert("avx"));
  }

  @Test
  void theReportNamesTheCapsTheFpmathModeAndMec4jsKernel() {
    Options o = new Options();
    Map<String, String> e =
        Map.of(
            "max_isa",
            "avx2",
            "host_avx512",
            "false",
            "mec4j_max_isa",
            "avx2",
            "mec4j_cpu_max_isa",
            "avx2",
            "openblas_coretype",
            "HASWELL",
            "mkl_enable_instructions",
            "AVX2",
            "onednn_max_cpu_isa",
            "AVX2",
            "onednn_default_fpmath_mode",
            "STRICT",
            "mec4j_cpu_isa",
            "avx2",
            "mec4j_cpu_igemm_kernel",
            "f32-igemm-6x16-avx2-fma");
    Report.Input in =
        new Report.Input(
            o,
            List.of(),
            List.of(),
            Map.of("openblas-t1", e),
            1,
            List.of(),
            List.of("openblas-t1"));
    String s = instructionSetNote(in);
    for (String x :
        new String[] {
          "`--max-isa avx2`",
          "MEC4J_MAX_ISA=avx2",
          "OPENBLAS_CORETYPE=HASWELL",
          "MKL_ENABLE_INSTRUCTIONS=AVX2",
          "ONEDNN_MAX_CPU_ISA=AVX2",
          "ONEDNN_DEFAULT_FPMATH_MODE=STRICT (strict fp32",
          "avx2 (cap avx2), `f32-igemm-6x16-avx2-fma`"
        }) assertTrue(s.contains(x), x + " in " + s);
    in =
        new Report.Input(
            o,
            List.of(),
            List.of(),
            Map.of("openblas-t1", Map.of("tag", "openblas-t1")),
            1,
            List.of(),
            List.of("openblas-t1"));
    assertTrue(instructionSetNote(in).startsWith("not recorded"));
  }

  @Test
  void mec4jsCpuIsRecordedOrSaidToBeMissing() {
    Map<String, String> m = ChildMain.mec4jCpu();
    assertFalse(m.containsKey("mec4j_cpu_error"), m.toString());
    assertTrue(
        m.get("mec4j_cpu_isa").startsWith("n/a") || m.containsKey("mec4j_cpu_igemm_kernel"),
        m.toString());
  }

  /** The report's method note on the instruction set, after "- Instruction set: ". */
  private static String instructionSetNote(Report.Input in) {
    String prefix = "- Instruction set: ";
    return Report.render(in, List.of())
        .lines()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .orElseThrow()
        .substring(prefix.length());
  }
}
