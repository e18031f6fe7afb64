package org.mec4j;

import java.util.Locale;
import org.mec4j.internal.MecNative;

/**
 * How {@link Algorithm#MEC} picks its variant for a layer (process-wide; the environment variable
 * {@value #ENV} sets the initial mode).
 *
 * <ul>
 *   <li>{@link #MEASURE} (default): a layer's first run (per layer sizes, thread count and ISA cap)
 *       times the variants that fit MEC's workspace on the caller's data, three times each,
 *       interleaved, and keeps the fastest (the heuristic's pick unless another beats it by more
 *       than 3%) for the rest of the process (as cudnnFind or FFTW's MEASURE planner). That first
 *       call takes a few times longer. Its output is the winner's, so results never change from
 *       call to call within a process; another process may pick another variant and differ in the
 *       last bits.
 *   <li>{@link #HEURISTIC}: a fixed rule from the layer's sizes and the micro-kernel's tile: the
 *       same variant, hence the same bits, in every run on the same CPU and ISA cap (the
 *       deterministic mode, as cuDNN's).
 * </ul>
 */
public enum Tuning {
  MEASURE(0),
  HEURISTIC(1);

  public static final String ENV = "MEC4J_TUNING";

  final int code;

  Tuning(int code) {
    this.code = code;
  }

  /** The current mode. */
  public static Tuning current() {
    Native.ensureLoaded();
    int[] t = new int[1];
    Native.check(MecNative.mec4j_get_tuning(t), ENV + "=" + System.getenv(ENV));
    return t[0] == HEURISTIC.code ? HEURISTIC : MEASURE;
  }

  /** Sets the mode for all later calls in this process (measured choices already made are kept). */
  public static void set(Tuning tuning) {
    java.util.Objects.requireNonNull(tuning, "tuning");
    Native.ensureLoaded();
    Native.check(MecNative.mec4j_set_tuning(tuning.code), "Tuning.set(" + tuning + ")");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
