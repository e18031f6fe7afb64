package org.mec4j.bench;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mec4j.Algorithm;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;
import org.mec4j.PackedKernel;
import org.mec4j.Workspace;

/**
 * Runs one layer at one batch: the same seeded input and weights for every algorithm, each
 * output checked against im2col's and oneDNN's before anything is timed, then the timed
 * repetitions with the algorithms interleaved (A B C, B C A, C A B, ...) so that a slow phase of
 * the noisy machine does not land on one algorithm only. Memory is allocated per layer and freed
 * before this returns.
 */
public final class LayerRunner {

  /**
   * How much to measure.
   *
   * @param minReps timed repetitions per algorithm, at least
   * @param maxReps at most (short layers repeat until {@code minTimeMs})
   * @param minTimeMs total timed time per algorithm to aim for
   * @param warmupMs untimed runs per algorithm until this much time was spent (the check run counts)
   * @param tolerance factor of {@link Checker#tolerance}
   * @param seed base seed of the random input and weights
   * @param algorithms what to run (IM2COL is always run: it is the reference of the check)
   * @param fault test hook: corrupt this algorithm's output after its check run (null: none)
   * @param maxAlgSeconds timed seconds per algorithm and layer beyond which repetitions are cut
   *     (never below one)
   */
  public record Settings(int minReps, int maxReps, double minTimeMs, double warmupMs, double tolerance, long seed,
      Set<Algo> algorithms, Algo fault, double maxAlgSeconds) {
    public Settings {
      if (minReps < 1 || maxReps < minReps) throw new IllegalArgumentException("need 1 <= minReps <= maxReps");
      algorithms = EnumSet.copyOf(algorithms);
      algorithms.add(Algo.IM2COL);
    }
  }

  /** One timed algorithm. */
  public record Measured(Algo algo, double[] samplesMs, long workspaceBytes, String resolved, double maxRelErr) {
    public Stats stats() {
      return Stats.of(samplesMs);
    }
  }

  /** An algorithm that could not run this layer (not an error). */
  public record Skipped(Algo algo, String reason) {}

  /**
   * What ran. onednnImpl is null when oneDNN did not run; packedKernelIsa is null when MEC_PACKED
   * did not run, else the ISA whose layout its kernel was packed in (packedKernelBytes: the native
   * bytes of that one-off copy, like onednnWeightsBytes for oneDNN's reordered weights).
   */
  public record Outcome(List<Measured> measured, List<Skipped> skipped, String onednnImpl, long onednnWeightsBytes,
      String packedKernelIsa, long packedKernelBytes) {}

  /** A result that failed the correctness check: the layer is aborted, nothing of it is timed. */
  public static final class MismatchException extends RuntimeException {
    private final Algo algo;

    public MismatchException(Algo algo, String message) {
      super(message);
      this.algo = algo;
    }

    public Algo algo() {
      return algo;
    }
  }

  /** Progress callback: a short label of what runs now and the fraction of this layer done. */
  public interface Listener {
    void step(String label, double fraction);
  }

  private static final class Contestant {
    final Algo algo;
    final Runnable run;
    final NativeFloats out;
    final long workspaceBytes;
    /** MEC_PACKED: the float[] its timed call writes; copied into {@link #out} after the check run only. */
    /** MEC_PACKED: its kernel, packed once (closed with the layer's resources). */
    PackedKernel packed;
    String resolved;
    double checkMs;
    double maxRelErr;
    final List<Double> samples = new ArrayList<>();

    Contestant(Algo algo, Runnable run, NativeFloats out, long workspaceBytes, String resolved) {
      this.algo = algo;
      this.run = run;
      this.out = out;
      this.workspaceBytes = workspaceBytes;
      this.resolved = resolved;
    }

    double timed() {
      long t0 = System.nanoTime();
      run.run();
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  private LayerRunner() {}

  /** Seed of a tensor: depends on the base seed, the shape and the role only (same data in every JVM). */
  static long seed(long base, Conv2d c, String role) {
    long h = base * 0x9E3779B97F4A7C15L;
    for (char ch : (c + "/" + role).toCharArray()) h = (h ^ ch) * 0x100000001B3L;
    return h;
  }

  public static Outcome run(Conv2d c, Settings s, Listener listener) {
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      return run(c, s, listener, resources);
    } finally {
      for (int i = resources.size() - 1; i >= 0; i--) {
        try {
          resources.get(i).close();
        } catch (Exception e) {
          throw new IllegalStateException("closing " + resources.get(i), e);
        }
      }
    }
  }

  private static <T extends AutoCloseable> T keep(List<AutoCloseable> resources, T r) {
    resources.add(r);
    return r;
  }

  private static Outcome run(Conv2d c, Settings s, Listener listener, List<AutoCloseable> res) {
    listener.step("allocating and filling input", 0);
    NativeFloats input = keep(res, new NativeFloats(c.inputSize()).fillRandom(seed(s.seed(), c, "input")));
    NativeFloats kernel = keep(res, new NativeFloats(c.kernelSize()).fillRandom(seed(s.seed(), c, "kernel")));
    NativeFloats refOut = keep(res, new NativeFloats(c.outputSize()));
    List<Skipped> skipped = new ArrayList<>();
    Map<Algo, Contestant> cs = new LinkedHashMap<>();

    // im2col first: the reference of the check.
    Convolution im2col = keep(res, Convolution.create(c, Algorithm.IM2COL));
    cs.put(Algo.IM2COL, new Contestant(Algo.IM2COL, () -> im2col.forward(input.pointer(), kernel.pointer(), null, refOut.pointer()),
        refOut, im2col.workspaceBytes(), "IM2COL"));

    OneDnnConv dnnl = null;
    NativeFloats dnnlOut = null;
    if (s.algorithms().contains(Algo.ONEDNN)) {
      NativeFloats o = keep(res, new NativeFloats(c.outputSize()));
      OneDnnConv d = keep(res, new OneDnnConv(c, input, kernel, o));
      dnnl = d;
      dnnlOut = o;
      cs.put(Algo.ONEDNN, new Contestant(Algo.ONEDNN, d::run, o, d.scratchpadBytes(), d.impl()));
    }

    // The MEC variants run one after another: they share one workspace and one output.
    List<Algo> mecs = new ArrayList<>();
    long mecBytes = 0;
    Map<Algo, Long> mecWs = new LinkedHashMap<>();
    for (Algo a : new Algo[] {Algo.MEC, Algo.MEC_A, Algo.MEC_B, Algo.MEC_ROWS, Algo.MEC_FUSED, Algo.MEC_PACKED}) {
      if (!s.algorithms().contains(a)) continue;
      try {
        long b = c.workspaceBytes(a.lib());  // MEC_PACKED: MEC_FUSED's
        mecWs.put(a, b);
        mecs.add(a);
        mecBytes = Math.max(mecBytes, b);
      } catch (IllegalArgumentException e) {
        skipped.add(new Skipped(a, e.getMessage()));
      }
    }
    PackedKernel packed = null;
    if (!mecs.isEmpty()) {
      NativeFloats mecOut = keep(res, new NativeFloats(c.outputSize()));
      Workspace ws = mecBytes > 0 ? keep(res, Workspace.allocate(mecBytes)) : null;
      for (Algo a : mecs) {
        if (a == Algo.MEC_PACKED) {
          Contestant x = packedContestant(c, input, kernel, mecOut, ws, mecWs.get(a), skipped, res);
          if (x == null) continue;
          cs.put(a, x);
          packed = x.packed;
          continue;
        }
        Convolution conv;
        try {
          conv = ws == null ? Convolution.create(c, a.lib()) : Convolution.create(c, a.lib(), ws);
        } catch (IllegalArgumentException e) {
          skipped.add(new Skipped(a, e.getMessage()));
          continue;
        }
        keep(res, conv);
        cs.put(a, new Contestant(a, () -> conv.forward(input.pointer(), kernel.pointer(), null, mecOut.pointer()), mecOut,
            mecWs.get(a), conv.resolvedAlgorithm().name()));
      }
    }

    // Correctness: every output against im2col's and oneDNN's, before any timing.
    long dot = Layer.dotLength(c);
    List<Contestant> list = new ArrayList<>(cs.values());
    int total = list.size();
    int k = 0;
    for (Contestant x : list) {
      listener.step("checking " + x.algo.label(), 0.05 + 0.25 * k++ / total);
      x.out.fill(Float.NaN);
      x.checkMs = x.timed();
      if (x.algo == s.fault()) corrupt(x.out);
      if (x.algo != Algo.IM2COL) {
        Checker.Result r = Checker.compare(x.out, refOut, dot, s.tolerance());
        x.maxRelErr = Math.max(x.maxRelErr, r.relError());
        if (!r.ok()) {
          String what = x.algo == Algo.ONEDNN ? "oneDNN and im2col disagree" : x.algo + " differs from im2col";
          throw new MismatchException(x.algo, what + ": " + r);
        }
        if (dnnlOut != null && x.algo != Algo.ONEDNN) {
          Checker.Result r2 = Checker.compare(x.out, dnnlOut, dot, s.tolerance());
          x.maxRelErr = Math.max(x.maxRelErr, r2.relError());
          if (!r2.ok()) throw new MismatchException(x.algo, x.algo + " differs from oneDNN: " + r2);
        }
      } else if (s.fault() == Algo.IM2COL && dnnlOut == null) {
        throw new IllegalStateException("a fault in im2col can only be caught with oneDNN enabled");
      }
    }
    Contestant ref = cs.get(Algo.IM2COL);
    if (dnnl != null) ref.maxRelErr = cs.get(Algo.ONEDNN).maxRelErr;

    // MEC (auto) runs the variant it resolved to: under mec4j's measured tuning, the fastest one on
    // its first run (the check above), else the heuristic's. When that variant is timed anyway, MEC
    // shares its samples instead of being timed twice. It was checked above like every other algorithm.
    Contestant auto = cs.get(Algo.MEC);
    Contestant twin = null;
    if (auto != null) {
      Conv2d.Resolution chosen = c.resolution(Algorithm.MEC);
      auto.resolved = chosen.toString();  // e.g. "MEC_FUSED (measured)"
      // Never MEC_PACKED: it skips the kernel packing that MEC's call does (its resolved name is not a variant's either).
      for (Contestant x : list)
        if (x != auto && x.algo.isMecFamily() && x.algo != Algo.MEC_PACKED && x.resolved.equals(chosen.algorithm().name()))
          twin = x;
    }
    List<Contestant> timed = new ArrayList<>(list);
    if (twin != null) timed.remove(auto);
    int nt = timed.size();

    // Warm-up beyond the check run, for short layers.
    for (Contestant x : timed) {
      double spent = x.checkMs;
      for (int i = 0; spent < s.warmupMs() && i < 1000; i++) spent += x.timed();
    }

    // Timed repetitions, interleaved with a rotating start. Short layers repeat until minTimeMs;
    // an algorithm whose runs are long gets fewer repetitions (at least one): planned from its
    // check run, and stopped once its timed samples add up to maxAlgSeconds (on a loaded machine a
    // run of many small multi-threaded GEMMs can stall for tens of seconds). This keeps one slow
    // variant from dominating the run; results.csv says how many samples each row has.
    double mean = 0;
    for (Contestant x : timed) mean += x.checkMs / nt;
    int reps = (int) Math.max(s.minReps(), Math.min(s.maxReps(), Math.ceil(s.minTimeMs() / Math.max(mean, 1e-3))));
    Map<Contestant, Integer> own = new java.util.HashMap<>();
    for (Contestant x : timed)
      own.put(x, (int) Math.max(1, Math.min(reps, Math.floor(s.maxAlgSeconds() * 1e3 / Math.max(x.checkMs, 1e-3)))));
    for (int r = 0; r < reps; r++) {
      listener.step("timing rep " + (r + 1) + "/" + reps, 0.3 + 0.7 * r / reps);
      for (int j = 0; j < nt; j++) {
        Contestant x = timed.get((r + j) % nt);
        if (r >= own.get(x)) continue;
        double spent = 0;
        for (double v : x.samples) spent += v;
        if (!x.samples.isEmpty() && spent >= s.maxAlgSeconds() * 1e3) continue;  // a run stalled: enough
        x.samples.add(x.timed());
      }
    }
    if (twin != null) auto.samples.addAll(twin.samples);
    List<Measured> measured = new ArrayList<>();
    for (Contestant x : list)
      measured.add(new Measured(x.algo, x.samples.stream().mapToDouble(Double::doubleValue).toArray(), x.workspaceBytes,
          x.resolved, x.maxRelErr));
    listener.step("done", 1);
    return new Outcome(measured, skipped, dnnl == null ? null : dnnl.impl(), dnnl == null ? 0 : dnnl.reorderedWeightsBytes(),
        packed == null ? null : packed.isa().toString(), packed == null ? 0 : packed.bytes());
  }

  /**
   * MEC_PACKED, the inference path: MEC_FUSED with the kernel packed once, here, outside the
   * timing (as oneDNN's weights are reordered once when it is created); the timed call is the
   * forward alone, on the same native buffers as the MEC variants. Null, with a skip, when it
   * cannot run this layer.
   */
  private static Contestant packedContestant(Conv2d c, NativeFloats input, NativeFloats kernel, NativeFloats out,
      Workspace ws, long workspaceBytes, List<Skipped> skipped, List<AutoCloseable> res) {
    if (c.kernelSize() > Integer.MAX_VALUE - 8) {
      skipped.add(new Skipped(Algo.MEC_PACKED, "its kernel exceeds a Java float[] (PackedKernel.pack takes one)"));
      return null;
    }
    float[] k = new float[(int) c.kernelSize()];  // setup only: the timed forward reads the native buffers
    kernel.read(0, k, k.length);
    Convolution conv;
    PackedKernel pk;
    try {
      conv = keep(res, ws == null ? Convolution.create(c, Algorithm.MEC_FUSED) : Convolution.create(c, Algorithm.MEC_FUSED, ws));
      pk = keep(res, PackedKernel.pack(c, k));
    } catch (IllegalArgumentException e) {
      skipped.add(new Skipped(Algo.MEC_PACKED, e.getMessage()));
      return null;
    }
    Contestant x = new Contestant(Algo.MEC_PACKED, () -> conv.forward(input.pointer(), pk, null, out.pointer()), out,
        workspaceBytes, "MEC_FUSED (kernel packed once)");
    x.packed = pk;
    return x;
  }

  /** The test hook: one element off by 0.1% of the output's scale, the kind a small indexing bug makes. */
  private static void corrupt(NativeFloats out) {
    float max = 0;
    for (long i = 0; i < out.size(); i++) max = Math.max(max, Math.abs(out.get(i)));
    long i = out.size() / 2;
    out.set(i, out.get(i) + 1e-3f * Math.max(max, 1e-20f));
  }
}
