package org.mec4j;

import java.util.Locale;
import org.mec4j.internal.MecNative;

/**
 * The instruction sets mec4j's micro-kernels use, and the process-wide cap on them (as oneDNN's
 * {@code ONEDNN_MAX_CPU_ISA}): kernels are chosen at run time from what the CPU has, capped at
 * {@link #maxIsa()}. Each architecture has its own levels: x86-64 {@code portable}, {@code avx2},
 * {@code avx512}; aarch64 {@code portable}, {@code neon}. The cap starts from the environment
 * variable {@value #MAX_ISA_ENV} (one of this architecture's levels or {@code best}; unset means
 * best) and {@link #setMaxIsa} changes it; a cap above what the CPU has caps at what it has. A
 * misspelt value, or another architecture's ISA, makes the library refuse to run (an {@link
 * IllegalStateException} naming the accepted values) until {@link #setMaxIsa} sets a valid one.
 */
public final class Cpu {
  private Cpu() {}

  public static final String MAX_ISA_ENV = "MEC4J_MAX_ISA";

  private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

  /** What MEC4J_MAX_ISA accepts on this architecture, for messages. */
  private static String acceptedCaps() {
    return AARCH64
        ? "neon, portable, best (avx512 and avx2 are x86-64's)"
        : "avx512, avx2, portable, best (neon is aarch64's)";
  }

  /**
   * mec4j's kernel levels, each architecture's lowest first (x86-64: PORTABLE, AVX2, AVX512;
   * aarch64: PORTABLE, NEON); {@link #BEST} as a cap means none.
   */
  public enum Isa {
    PORTABLE(0),
    AVX2(1),
    AVX512(2),
    /** aarch64: NEON (Advanced SIMD) tiles sized for its 32 vector registers. */
    NEON(4),
    BEST(3);

    final int code;

    Isa(int code) {
      this.code = code;
    }

    static Isa ofCode(int code) {
      for (Isa i : values()) if (i.code == code) return i;
      throw new IllegalStateException("mec4j: unknown native ISA code " + code);
    }

    /** Parses avx512, avx2, neon, portable or best (any case), whatever the architecture. */
    public static Isa parse(String name) {
      for (Isa i : values()) if (i.toString().equalsIgnoreCase(name)) return i;
      throw new IllegalArgumentException(
          "ISA must be one of avx512, avx2, neon, portable, best, got '" + name + "'");
    }

    /** This architecture's levels, lowest first (os.arch: aarch64, else x86-64's). */
    static java.util.List<Isa> levels() {
      return AARCH64
          ? java.util.List.of(PORTABLE, NEON)
          : java.util.List.of(PORTABLE, AVX2, AVX512);
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The ISA whose kernels run: min(cap, what this CPU has). */
  public static Isa effectiveIsa() {
    Native.ensureLoaded();
    int[] isa = new int[1];
    Native.check(MecNative.mec4j_get_effective_isa(isa), "effective ISA");
    return Isa.ofCode(isa[0]);
  }

  /** The best ISA this CPU runs, whatever the cap. */
  public static Isa hostIsa() {
    Native.ensureLoaded();
    return Isa.ofCode(MecNative.mec4j_get_host_isa());
  }

  /** The cap ({@link Isa#BEST} when there is none). */
  public static Isa maxIsa() {
    Native.ensureLoaded();
    int[] isa = new int[1];
    Native.check(MecNative.mec4j_get_max_isa(isa), MAX_ISA_ENV + "=" + System.getenv(MAX_ISA_ENV));
    return Isa.ofCode(isa[0]);
  }

  /**
   * Caps the kernels at {@code isa} for all later calls in this process.
   *
   * @throws IllegalArgumentException for another architecture's ISA (AVX2 on aarch64)
   */
  public static void setMaxIsa(Isa isa) {
    java.util.Objects.requireNonNull(isa, "isa");
    if (isa != Isa.BEST && !Isa.levels().contains(isa))
      throw new IllegalArgumentException(
          "mec4j: setMaxIsa(" + isa + "): this architecture's caps are " + acceptedCaps());
    Native.ensureLoaded();
    Native.check(MecNative.mec4j_set_max_isa(isa.code), "setMaxIsa(" + isa + ")");
  }

  /** The indirect-GEMM micro-kernel that runs, e.g. {@code f32-igemm-6x16-avx2-fma}. */
  public static String igemmKernel() {
    Native.ensureLoaded();
    return MecNative.mec4j_kernel_name().getString();
  }

  /**
   * The depthwise kernel that runs now, e.g. {@code f32-dwconv-3x32-avx2-fma} ({@link
   * Algorithm#DEPTHWISE}).
   */
  public static String depthwiseKernel() {
    Native.ensureLoaded();
    return MecNative.mec4j_depthwise_kernel_name().getString();
  }

  /**
   * Fails early, with the accepted values, when {@value #MAX_ISA_ENV} or the tuning variable is
   * misspelt.
   */
  static void checkEnvironment() {
    int[] v = new int[1];
    if (MecNative.mec4j_get_max_isa(v) == Native.BAD_ENVIRONMENT)
      throw new IllegalStateException(
          "mec4j: "
              + MAX_ISA_ENV
              + "='"
              + System.getenv(MAX_ISA_ENV)
              + "' is not one of "
              + acceptedCaps());
    if (MecNative.mec4j_get_tuning(v) == Native.BAD_ENVIRONMENT)
      throw new IllegalStateException(
          "mec4j: "
              + Tuning.ENV
              + "='"
              + System.getenv(Tuning.ENV)
              + "' is not one of measure, heuristic");
  }
}
