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
 * Runs one layer at one batch in one direction: the same seeded tensors for every algorithm, each
 * result checked against im2col's and oneDNN's before anything is timed, then the timed repetitions
 * with the algorithms interleaved (A B C, B C A, C A B, ...) so that a slow phase of the noisy
 * machine does not land on one algorithm only. Memory is allocated per layer and freed before this
 * returns. The backward passes run MEC, MEC_ROWS, MEC_FUSED (weights), im2col and oneDNN (the other
 * MEC variants and MEC_PACKED are forward-only and left out without an issue).
 */
public final class LayerRunner {

  /**
   * How much to measure.
   *
   * @param minReps timed repetitions per algorithm, at least
   * @param maxReps at most (short layers repeat until {@code minTimeMs})
   * @param minTimeMs total timed time per algorithm to aim for
   * @param warmupMs untimed runs per algorithm until this much time was spent (the check run
   *     counts)
   * @param tolerance factor of {@link Checker#tolerance}
   * @param seed base seed of the random input and weights
   * @param algorithms what to run (IM2COL is always run: it is the reference of the check)
   * @param fault test hook: corrupt this algorithm's output after its check run (null: none)
   * @param maxAlgSeconds timed seconds per algorithm and layer beyond which repetitions are cut
   *     (never below one)
   */
  public record Settings(
      int minReps,
      int maxReps,
      double minTimeMs,
      double warmupMs,
      double tolerance,
      long seed,
      Set<Algo> algorithms,
      Algo fault,
      double maxAlgSeconds) {
    public Settings {
      if (minReps < 1 || maxReps < minReps)
        throw new IllegalArgumentException("need 1 <= minReps <= maxReps");
      algorithms = EnumSet.copyOf(algorithms);
      algorithms.add(Algo.IM2COL);
    }
  }

  /** One timed algorithm. */
  public record Measured(
      Algo algo, double[] samplesMs, long workspaceBytes, String resolved, double maxRelErr) {
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
  public record Outcome(
      List<Measured> measured,
      List<Skipped> skipped,
      String onednnImpl,
      long onednnWeightsBytes,
      String packedKernelIsa,
      long packedKernelBytes) {}

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

  /**
   * A real model's node (--model): its operands and the result every algorithm is checked against
   * in place of im2col's, ONNX Runtime's own output of the node in its run of the whole model. The
   * runner takes them over (frees them with the layer).
   *
   * @param input forward: the node's input, NHWC; backward data (a ConvTranspose): its input, the
   *     gradient of the output of the convolution it transposes
   * @param kernel HWIO (mec4j's layout, per group)
   * @param bias forward: k_c floats, or null; backward data: null (the reference has it subtracted)
   * @param reference the node's output as ONNX Runtime computed it, NHWC (backward data: minus the
   *     bias)
   * @param oihw the weights as ONNX stores them, for the one-node ONNX Runtime model (a Conv's
   *     OIHW; a ConvTranspose's C_in x C_out/group x k_h x k_w)
   * @param biasArray the bias as floats (forward), or null
   * @param referenceLabel what the reference is, for messages
   */
  public record Given(
      NativeFloats input,
      NativeFloats kernel,
      NativeFloats bias,
      NativeFloats reference,
      float[] oihw,
      float[] biasArray,
      String referenceLabel) {
    void closeAll() {
      for (NativeFloats f : new NativeFloats[] {input, kernel, bias, reference})
        if (f != null) f.close();
    }
  }

  /** Progress callback: a short label of what runs now and the fraction of this layer done. */
  public interface Listener {
    void step(String label, double fraction);
  }

  private static final class Contestant {
    final Algo algo;
    final Runnable run;

    /**
     * What one call writes, each checked against the reference's: the output (BWD_W: the kernel's
     * and the bias's gradients).
     */
    final NativeFloats[] out;

    final long workspaceBytes;

    /** MEC_PACKED: its kernel, packed once (closed with the layer's resources). */
    PackedKernel packed;

    /**
     * The check's run, which must leave the result in {@link #out} ({@link #run} unless the timed
     * call keeps its result elsewhere: ONNX Runtime's NCHW output is converted only here).
     */
    Runnable checkRun;

    String resolved;
    double checkMs;
    double maxRelErr;
    final List<Double> samples = new ArrayList<>();

    Contestant(Algo algo, Runnable run, long workspaceBytes, String resolved, NativeFloats... out) {
      this.algo = algo;
      this.run = run;
      this.out = out;
      this.workspaceBytes = workspaceBytes;
      this.resolved = resolved;
      this.checkRun = run;
    }

    double timed() {
      return timed(run);
    }

    static double timed(Runnable r) {
      long t0 = System.nanoTime();
      r.run();
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  private LayerRunner() {}

  /**
   * Seed of a tensor: depends on the base seed, the shape and the role only (same data in every
   * JVM).
   */
  static long seed(long base, Conv2d c, String role) {
    long h = base * 0x9E3779B97F4A7C15L;
    for (char ch : (c + "/" + role).toCharArray()) h = (h ^ ch) * 0x100000001B3L;
    return h;
  }

  /** The forward pass. */
  public static Outcome run(Conv2d c, Settings s, Listener listener) {
    return run(c, s, Dir.FWD, listener);
  }

  public static Outcome run(Conv2d c, Settings s, Dir d, Listener listener) {
    return run(c, s, d, null, listener);
  }

  /**
   * A pass on given operands (null: seeded ones), checked against {@code given}'s reference. Given
   * operands run forward or backward data only.
   */
  public static Outcome run(Conv2d c, Settings s, Dir d, Given given, Listener listener) {
    List<AutoCloseable> resources = new ArrayList<>();
    if (given != null) resources.add(given::closeAll);
    try {
      if (given != null && d == Dir.BWD_W)
        throw new IllegalArgumentException("given operands: forward or backward data only");
      return d == Dir.FWD
          ? run(c, s, listener, given, resources)
          : backward(c, s, d, listener, given, resources);
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

  private static Outcome run(
      Conv2d c, Settings s, Listener listener, Given given, List<AutoCloseable> res) {
    listener.step("allocating and filling input", 0);
    NativeFloats input =
        given != null
            ? given.input()
            : keep(res, new NativeFloats(c.inputSize()).fillRandom(seed(s.seed(), c, "input")));
    NativeFloats kernel =
        given != null
            ? given.kernel()
            : keep(res, new NativeFloats(c.kernelSize()).fillRandom(seed(s.seed(), c, "kernel")));
    NativeFloats biasF = given != null ? given.bias() : null;
    org.bytedeco.javacpp.FloatPointer bias = biasF == null ? null : biasF.pointer();
    NativeFloats refOut = keep(res, new NativeFloats(c.outputSize()));
    List<Skipped> skipped = new ArrayList<>();
    Map<Algo, Contestant> cs = new LinkedHashMap<>();

    // im2col first: the reference of the check.
    Convolution im2col = keep(res, Convolution.create(c, Algorithm.IM2COL));
    cs.put(
        Algo.IM2COL,
        new Contestant(
            Algo.IM2COL,
            () -> im2col.forward(input.pointer(), kernel.pointer(), bias, refOut.pointer()),
            im2col.workspaceBytes(),
            "IM2COL",
            refOut));

    OneDnnConv dnnl = null;
    if (s.algorithms().contains(Algo.ONEDNN)) {
      NativeFloats o = keep(res, new NativeFloats(c.outputSize()));
      OneDnnConv d =
          keep(
              res,
              biasF == null
                  ? new OneDnnConv(c, input, kernel, o)
                  : new OneDnnConv(c, input, kernel, biasF, o));
      dnnl = d;
      cs.put(Algo.ONEDNN, new Contestant(Algo.ONEDNN, d::run, d.scratchpadBytes(), d.impl(), o));
    }

    // ONNX Runtime: a one-node model of the layer, its session created here, outside the timing.
    if (s.algorithms().contains(Algo.ONNXRUNTIME)) {
      String why = OrtConv.unsupported(c);
      if (why != null) skipped.add(new Skipped(Algo.ONNXRUNTIME, why));
      else {
        NativeFloats o = keep(res, new NativeFloats(c.outputSize()));
        OrtConv ort =
            keep(
                res,
                given != null
                    ? new OrtConv(c, input, given.oihw(), given.biasArray(), o)
                    : new OrtConv(c, input, kernel, null, o));
        Contestant x =
            new Contestant(
                Algo.ONNXRUNTIME, ort::run, -1, OrtConv.RESOLVED, o); // workspace unknown
        x.checkRun = ort::runAndCapture;
        cs.put(Algo.ONNXRUNTIME, x);
      }
    }

    // The MEC variants run one after another: they share one workspace and one output.
    List<Algo> mecs = new ArrayList<>();
    long mecBytes = 0;
    Map<Algo, Long> mecWs = new LinkedHashMap<>();
    for (Algo a :
        new Algo[] {
          Algo.MEC, Algo.MEC_A, Algo.MEC_B, Algo.MEC_ROWS, Algo.MEC_FUSED, Algo.MEC_PACKED
        }) {
      if (!s.algorithms().contains(a)) continue;
      try {
        // MEC_PACKED: MEC_FUSED's; on a depthwise layer DEPTHWISE's (what it runs there)
        long b = c.workspaceBytes(a == Algo.MEC_PACKED ? packedAlgorithm(c) : a.lib());
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
          Contestant x =
              packedContestant(c, input, kernel, bias, mecOut, ws, mecWs.get(a), skipped, res);
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
        cs.put(
            a,
            new Contestant(
                a,
                () -> conv.forward(input.pointer(), kernel.pointer(), bias, mecOut.pointer()),
                mecWs.get(a),
                conv.resolvedAlgorithm().name(),
                mecOut));
      }
    }

    // Correctness: every output against im2col's and oneDNN's, before any timing.
    check(cs, s, Layer.dotLength(c), new String[] {null}, given, listener);
    List<Contestant> list = new ArrayList<>(cs.values());

    // MEC (auto) runs the variant it resolved to: under mec4j's measured tuning, the fastest one on
    // its first run (the check above), else the heuristic's. When that variant is timed anyway, MEC
    // shares its samples instead of being timed twice. It was checked above like every other
    // algorithm.
    Contestant auto = cs.get(Algo.MEC);
    Contestant twin = null;
    if (auto != null) {
      Conv2d.Resolution chosen = c.resolution(Algorithm.MEC);
      auto.resolved = chosen.toString(); // e.g. "MEC_FUSED (measured)"
      // Never MEC_PACKED: it skips the kernel packing that MEC's call does (its resolved name is
      // not a variant's either).
      for (Contestant x : list)
        if (x != auto
            && x.algo.isMecFamily()
            && x.algo != Algo.MEC_PACKED
            && x.resolved.equals(chosen.algorithm().name())) twin = x;
    }
    List<Contestant> timed = new ArrayList<>(list);
    if (twin != null) timed.remove(auto);
    time(timed, s, listener);
    if (twin != null) auto.samples.addAll(twin.samples);
    listener.step("done", 1);
    return new Outcome(
        measured(list),
        skipped,
        dnnl == null ? null : dnnl.impl(),
        dnnl == null ? 0 : dnnl.reorderedWeightsBytes(),
        packed == null ? null : packed.isa().toString(),
        packed == null ? 0 : packed.bytes());
  }

  /**
   * The backward passes: seeded gradOutput, and the kernel (BWD_D) or the input (BWD_W); im2col,
   * MEC, MEC_ROWS and oneDNN write into their own gradient buffers (the MEC variants share theirs),
   * each checked against im2col's and oneDNN's, then timed like the forward. Every call passes a
   * bias gradient to BWD_W, so all of them do the same work.
   */
  private static Outcome backward(
      Conv2d c, Settings s, Dir d, Listener listener, Given given, List<AutoCloseable> res) {
    listener.step("allocating and filling " + d.id() + " operands", 0);
    NativeFloats gradOut =
        given != null
            ? given.input()
            : keep(
                res, new NativeFloats(c.outputSize()).fillRandom(seed(s.seed(), c, "gradOutput")));
    boolean data = d == Dir.BWD_D;
    NativeFloats operand =
        given != null
            ? given.kernel()
            : data
                ? keep(
                    res, new NativeFloats(c.kernelSize()).fillRandom(seed(s.seed(), c, "kernel")))
                : keep(res, new NativeFloats(c.inputSize()).fillRandom(seed(s.seed(), c, "input")));
    org.mec4j.Direction dir = d.lib();
    List<Skipped> skipped = new ArrayList<>();
    Map<Algo, Contestant> cs = new LinkedHashMap<>();

    Convolution im2col = keep(res, Convolution.create(c, Algorithm.IM2COL));
    cs.put(
        Algo.IM2COL,
        mecContestant(c, Algo.IM2COL, im2col, d, gradOut, operand, gradients(c, d, res)));

    OneDnnConv dnnl = null;
    if (s.algorithms().contains(Algo.ONEDNN)) {
      NativeFloats[] g = gradients(c, d, res);
      dnnl =
          keep(
              res,
              data
                  ? OneDnnConv.backwardData(c, gradOut, operand, g[0])
                  : OneDnnConv.backwardWeights(c, operand, gradOut, g[0], g[1]));
      cs.put(
          Algo.ONEDNN,
          new Contestant(Algo.ONEDNN, dnnl::run, dnnl.scratchpadBytes(), dnnl.impl(), g));
    }

    // A model's ConvTranspose node: ONNX Runtime on a one-node ConvTranspose model of it (without
    // its bias: the reference has it subtracted).
    if (given != null
        && data
        && given.oihw() != null
        && s.algorithms().contains(Algo.ONNXRUNTIME)) {
      String why = OrtConv.unsupported(c);
      if (why != null) skipped.add(new Skipped(Algo.ONNXRUNTIME, why));
      else {
        NativeFloats o = keep(res, new NativeFloats(c.inputSize()));
        OrtConv ort = keep(res, OrtConv.transposed(c, gradOut, given.oihw(), null, o));
        Contestant x = new Contestant(Algo.ONNXRUNTIME, ort::run, -1, ORT_TRANSPOSED, o);
        x.checkRun = ort::runAndCapture;
        cs.put(Algo.ONNXRUNTIME, x);
      }
    }

    NativeFloats[] mecGrads = null;
    for (Algo a : new Algo[] {Algo.MEC, Algo.MEC_ROWS, Algo.MEC_FUSED}) {
      if (!s.algorithms().contains(a)) continue;
      if (a == Algo.MEC_FUSED && !c.supports(a.lib(), dir))
        continue; // backward data at stride 1 only, by design
      Convolution conv;
      try {
        c.workspaceBytes(
            a.lib(), dir); // refuses a layer this algorithm does not run in this direction
        conv = keep(res, Convolution.create(c, a.lib()));
      } catch (IllegalArgumentException e) {
        skipped.add(new Skipped(a, d.id() + ": " + e.getMessage()));
        continue;
      }
      if (mecGrads == null) mecGrads = gradients(c, d, res);
      cs.put(a, mecContestant(c, a, conv, d, gradOut, operand, mecGrads));
    }

    String[] names =
        data
            ? new String[] {"gradient of the input"}
            : new String[] {"gradient of the kernel", "gradient of the bias"};
    check(cs, s, Layer.dotLength(c, d), names, given, listener);
    // The check ran each pass once: under MEASURE that was MEC's first backward pass, which
    // measured
    // its choice; name what it runs from now on.
    if (cs.containsKey(Algo.MEC)) cs.get(Algo.MEC).resolved = resolved(c, Algo.MEC, d);
    List<Contestant> list = new ArrayList<>(cs.values());
    time(list, s, listener);
    listener.step("done", 1);
    return new Outcome(
        measured(list),
        skipped,
        dnnl == null ? null : dnnl.impl(),
        dnnl == null ? 0 : dnnl.reorderedWeightsBytes(),
        null,
        0);
  }

  /**
   * One algorithm's gradient buffers: the input's (BWD_D), or the kernel's and the bias's (BWD_W).
   */
  private static NativeFloats[] gradients(Conv2d c, Dir d, List<AutoCloseable> res) {
    if (d == Dir.BWD_D) return new NativeFloats[] {keep(res, new NativeFloats(c.inputSize()))};
    return new NativeFloats[] {
      keep(res, new NativeFloats(c.kernelSize())), keep(res, new NativeFloats(c.biasSize()))
    };
  }

  /**
   * A mec4j algorithm's backward call, on the shared operands; its workspace as mec4j reports it
   * for this pass.
   */
  private static Contestant mecContestant(
      Conv2d c,
      Algo a,
      Convolution conv,
      Dir d,
      NativeFloats gradOut,
      NativeFloats operand,
      NativeFloats[] g) {
    Runnable run =
        d == Dir.BWD_D
            ? () -> conv.backwardData(gradOut.pointer(), operand.pointer(), g[0].pointer())
            : () ->
                conv.backwardWeights(
                    operand.pointer(), gradOut.pointer(), g[0].pointer(), g[1].pointer());
    return new Contestant(a, run, c.workspaceBytes(a.lib(), d.lib()), resolved(c, a, d), g);
  }

  /**
   * What a mec4j algorithm runs in a backward pass: a forced variant itself; MEC (auto) what the
   * library says it runs ({@link Conv2d#resolution(Algorithm, org.mec4j.Direction)}: DEPTHWISE,
   * MEC_ROWS, or for weight gradients MEC_FUSED). MEC is timed on its own.
   */
  static String resolved(Conv2d c, Algo a, Dir d) {
    if (a != Algo.MEC) return a.lib().name();
    return c.resolution(Algorithm.MEC, d.lib()).algorithm().name();
  }

  /**
   * The correctness gate, before any timing: each contestant runs once (into NaN-filled buffers)
   * and each of its results is compared with im2col's and oneDNN's. A mismatch aborts the layer.
   *
   * @param names what each result is, for the message (null: the forward's single output)
   */
  private static void check(
      Map<Algo, Contestant> cs,
      Settings s,
      long dot,
      String[] names,
      Given given,
      Listener listener) {
    if (given != null) {
      checkGiven(cs, s, dot, given, listener);
      return;
    }
    Contestant ref = cs.get(Algo.IM2COL), dnnl = cs.get(Algo.ONEDNN);
    List<Contestant> list = new ArrayList<>(cs.values());
    int total = list.size();
    int k = 0;
    for (Contestant x : list) {
      listener.step("checking " + x.algo.label(), 0.05 + 0.25 * k++ / total);
      for (NativeFloats o : x.out) o.fill(Float.NaN);
      x.checkMs = Contestant.timed(x.checkRun);
      if (x.algo == s.fault()) corrupt(x.out[0]);
      if (x.algo != Algo.IM2COL) {
        for (int i = 0; i < x.out.length; i++) {
          String of = names[i] == null ? "" : " (" + names[i] + ")";
          Checker.Result r = Checker.compare(x.out[i], ref.out[i], dot, s.tolerance());
          x.maxRelErr = Math.max(x.maxRelErr, r.relError());
          if (!r.ok()) {
            String what =
                x.algo == Algo.ONEDNN
                    ? "oneDNN and im2col disagree"
                    : x.algo == Algo.ONNXRUNTIME
                        ? "ONNX Runtime and im2col disagree"
                        : x.algo + " differs from im2col";
            throw new MismatchException(x.algo, what + of + ": " + r);
          }
          if (dnnl != null && x.algo != Algo.ONEDNN) {
            Checker.Result r2 = Checker.compare(x.out[i], dnnl.out[i], dot, s.tolerance());
            x.maxRelErr = Math.max(x.maxRelErr, r2.relError());
            if (!r2.ok())
              throw new MismatchException(x.algo, x.algo + " differs from oneDNN" + of + ": " + r2);
          }
        }
      } else if (s.fault() == Algo.IM2COL && dnnl == null) {
        throw new IllegalStateException("a fault in im2col can only be caught with oneDNN enabled");
      }
    }
    if (dnnl != null) ref.maxRelErr = dnnl.maxRelErr;
  }

  /**
   * The gate on a model's node: every algorithm (im2col too) against ONNX Runtime's own output of
   * the node.
   */
  private static void checkGiven(
      Map<Algo, Contestant> cs, Settings s, long dot, Given given, Listener listener) {
    List<Contestant> list = new ArrayList<>(cs.values());
    int k = 0;
    for (Contestant x : list) {
      listener.step("checking " + x.algo.label(), 0.05 + 0.25 * k++ / list.size());
      for (NativeFloats o : x.out) o.fill(Float.NaN);
      x.checkMs = Contestant.timed(x.checkRun);
      if (x.algo == s.fault()) corrupt(x.out[0]);
      Checker.Result r = Checker.compare(x.out[0], given.reference(), dot, s.tolerance());
      x.maxRelErr = r.relError();
      if (!r.ok())
        throw new MismatchException(
            x.algo, x.algo + " differs from " + given.referenceLabel() + ": " + r);
    }
  }

  private static List<Measured> measured(List<Contestant> list) {
    List<Measured> measured = new ArrayList<>();
    for (Contestant x : list)
      measured.add(
          new Measured(
              x.algo,
              x.samples.stream().mapToDouble(Double::doubleValue).toArray(),
              x.workspaceBytes,
              x.resolved,
              x.maxRelErr));
    return measured;
  }

  /** Warm-up beyond the check run, then the timed repetitions, interleaved. */
  private static void time(List<Contestant> timed, Settings s, Listener listener) {
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
    int reps =
        (int)
            Math.max(
                s.minReps(),
                Math.min(s.maxReps(), Math.ceil(s.minTimeMs() / Math.max(mean, 1e-3))));
    Map<Contestant, Integer> own = new java.util.HashMap<>();
    for (Contestant x : timed)
      own.put(
          x,
          (int)
              Math.max(
                  1,
                  Math.min(reps, Math.floor(s.maxAlgSeconds() * 1e3 / Math.max(x.checkMs, 1e-3)))));
    for (int r = 0; r < reps; r++) {
      listener.step("timing rep " + (r + 1) + "/" + reps, 0.3 + 0.7 * r / reps);
      for (int j = 0; j < nt; j++) {
        Contestant x = timed.get((r + j) % nt);
        if (r >= own.get(x)) continue;
        double spent = 0;
        for (double v : x.samples) spent += v;
        if (!x.samples.isEmpty() && spent >= s.maxAlgSeconds() * 1e3)
          continue; // a run stalled: enough
        x.samples.add(x.timed());
      }
    }
  }

  /**
   * MEC_PACKED, the inference path: MEC_FUSED with the kernel packed once, here, outside the timing
   * (as oneDNN's weights are reordered once when it is created); the timed call is the forward
   * alone, on the same native buffers as the MEC variants. Null, with a skip, when it cannot run
   * this layer.
   */
  private static Contestant packedContestant(
      Conv2d c,
      NativeFloats input,
      NativeFloats kernel,
      org.bytedeco.javacpp.FloatPointer bias,
      NativeFloats out,
      Workspace ws,
      long workspaceBytes,
      List<Skipped> skipped,
      List<AutoCloseable> res) {
    if (packedAlgorithm(c) == Algorithm.DEPTHWISE) {
      // The library's inference path on a depthwise layer: DEPTHWISE on the plain kernel (a packed
      // kernel would force MEC_FUSED, ~20x slower there); nothing to pack.
      Convolution conv;
      try {
        conv =
            keep(
                res,
                ws == null
                    ? Convolution.create(c, Algorithm.DEPTHWISE)
                    : Convolution.create(c, Algorithm.DEPTHWISE, ws));
      } catch (IllegalArgumentException e) {
        skipped.add(new Skipped(Algo.MEC_PACKED, e.getMessage()));
        return null;
      }
      return new Contestant(
          Algo.MEC_PACKED,
          () -> conv.forward(input.pointer(), kernel.pointer(), bias, out.pointer()),
          workspaceBytes,
          PACKED_DEPTHWISE,
          out);
    }
    if (c.kernelSize() > Integer.MAX_VALUE - 8) {
      skipped.add(
          new Skipped(
              Algo.MEC_PACKED, "its kernel exceeds a Java float[] (PackedKernel.pack takes one)"));
      return null;
    }
    float[] k =
        new float[(int) c.kernelSize()]; // setup only: the timed forward reads the native buffers
    kernel.read(0, k, k.length);
    Convolution conv;
    PackedKernel pk;
    try {
      conv =
          keep(
              res,
              ws == null
                  ? Convolution.create(c, Algorithm.MEC_FUSED)
                  : Convolution.create(c, Algorithm.MEC_FUSED, ws));
      pk = keep(res, PackedKernel.pack(c, k));
    } catch (IllegalArgumentException e) {
      skipped.add(new Skipped(Algo.MEC_PACKED, e.getMessage()));
      return null;
    }
    Contestant x =
        new Contestant(
            Algo.MEC_PACKED,
            () -> conv.forward(input.pointer(), pk, bias, out.pointer()),
            workspaceBytes,
            "MEC_FUSED (kernel packed once)",
            out);
    x.packed = pk;
    return x;
  }

  /** ONNX Runtime's resolved name on a ConvTranspose node. */
  static final String ORT_TRANSPOSED = "CPU provider, one ConvTranspose node (NCHW, no bias)";

  /** MEC_PACKED's resolved name on a depthwise layer. */
  static final String PACKED_DEPTHWISE = "DEPTHWISE (plain kernel, nothing to pack)";

  /**
   * What MEC_PACKED runs on a layer: what the library's inference path runs, MEC_FUSED with the
   * kernel packed once, except on depthwise layers, where MEC runs DEPTHWISE on the plain kernel
   * (Convolution refuses a packed kernel there).
   */
  static Algorithm packedAlgorithm(Conv2d c) {
    return c.isDepthwise() ? Algorithm.DEPTHWISE : Algorithm.MEC_FUSED;
  }

  /**
   * The test hook: one element off by 0.1% of the output's scale, the kind a small indexing bug
   * makes.
   */
  private static void corrupt(NativeFloats out) {
    float max = 0;
    for (long i = 0; i < out.size(); i++) max = Math.max(max, Math.abs(out.get(i)));
    long i = out.size() / 2;
    out.set(i, out.get(i) + 1e-3f * Math.max(max, 1e-20f));
  }
}
