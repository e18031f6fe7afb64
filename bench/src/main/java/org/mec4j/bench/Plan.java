package org.mec4j.bench;

import java.util.ArrayList;
import java.util.List;
import org.mec4j.Conv2d;

/**
 * The tasks of one child JVM (one BLAS, one thread count), in order, with a rough cost estimate
 * (seconds) for the progress bar. Parent and child build the same plan from the same options.
 */
public final class Plan {
  public enum Kind {
    SGEMM,
    LAYER,
    SWEEP,
    NETWORK,
    /** A Conv (forward) or ConvTranspose (backward data) node of a --model. */
    MODEL,
    /** A --model as a whole: ONNX Runtime and OnnxExecutor. */
    MODEL_RUN
  }

  /**
   * One unit of work: a layer at a batch in one direction, a sweep point, a network's layer, or the
   * sgemm ceiling. {@code network} and {@code count} (times the network has the layer) are for
   * NETWORK tasks; {@code direction} is FWD but for the backward passes of LAYER and NETWORK tasks.
   */
  public record Task(
      int index,
      Kind kind,
      String name,
      Conv2d spec,
      double estSeconds,
      String network,
      long count,
      Dir direction) {
    public Task(
        int index,
        Kind kind,
        String name,
        Conv2d spec,
        double estSeconds,
        String network,
        long count) {
      this(index, kind, name, spec, estSeconds, network, count, Dir.FWD);
    }

    public Task(int index, Kind kind, String name, Conv2d spec, double estSeconds) {
      this(index, kind, name, spec, estSeconds, "", 1);
    }

    public String label() {
      String d = direction.backward() ? " " + direction.id() : "";
      return switch (kind) {
        case SGEMM -> "sgemm ceiling";
        case LAYER -> name + " mb" + spec.batch() + d;
        case SWEEP -> "sweep " + name + " (mb" + spec.batch() + ")";
        case MODEL ->
            "[" + network + "] " + name + (direction.backward() ? " (ConvTranspose)" : "");
        case MODEL_RUN -> "[" + network + "] whole model";
        case NETWORK ->
            "["
                + network
                + "] "
                + name
                + (count > 1 ? " x" + count : "")
                + " mb"
                + spec.batch()
                + d;
      };
    }
  }

  /** A sweep point: kernel k x k, stride s x s on the sweep's base layer. */
  public record SweepPoint(long k, long s, Conv2d spec) {
    public String name() {
      return "k" + k + "s" + s;
    }
  }

  private Plan() {}

  /** Assumed sustained GFLOP/s per thread, only for the first estimate of the time left. */
  static final double GFLOPS_PER_THREAD = 45;

  public static List<Task> build(Options o, int threads, boolean withSweep) {
    return build(o, threads, withSweep, false);
  }

  /**
   * @param wholeModelsOnly only the sgemm ceiling and the models' whole-model tasks (the extra
   *     1-thread JVM of a run with models and no 1-thread JVM)
   */
  public static List<Task> build(
      Options o, int threads, boolean withSweep, boolean wholeModelsOnly) {
    if (wholeModelsOnly) {
      List<Task> out = new ArrayList<>();
      for (Task t : build(o, threads, false, false))
        if (t.kind() == Kind.SGEMM || t.kind() == Kind.MODEL_RUN)
          out.add(
              new Task(
                  out.size(),
                  t.kind(),
                  t.name(),
                  t.spec(),
                  t.estSeconds(),
                  t.network(),
                  t.count(),
                  t.direction()));
      return out;
    }
    List<Task> tasks = new ArrayList<>();
    List<Dir> dirs = o.directionList();
    double sg = 2.0 * Math.pow(o.sgemmSize, 3) * 12 / 1e9 / (GFLOPS_PER_THREAD * 2 * threads) + 0.5;
    tasks.add(new Task(0, Kind.SGEMM, "sgemm", null, sg));
    List<Layer> layers = o.layerList();
    List<Long> batches = o.batches;
    for (int bi = 0; bi < batches.size(); bi++) {
      for (Layer l : layers) {
        Conv2d c;
        if (l.fixedBatch()) {
          if (bi > 0) continue;
          c = l.spec();
        } else {
          c = l.at(batches.get(bi));
        }
        for (Dir d : dirs)
          tasks.add(
              new Task(
                  tasks.size(),
                  Kind.LAYER,
                  l.name(),
                  c,
                  estimate(c, runs(o.algorithmSet(), d), o, threads),
                  "",
                  1,
                  d));
      }
    }
    // Networks: layer by layer in list order, at the list's batch or each of --batches.
    if (o.hasNetworks()) {
      for (Networks.Network n : o.networkList()) {
        List<Long> nb =
            o.networkBatches.isEmpty()
                ? java.util.Collections.singletonList(null)
                : o.networkBatches;
        for (Long b : nb)
          for (Networks.NetLayer l : n.layers()) {
            Conv2d c = b == null ? l.spec() : l.at(b);
            for (Dir d : dirs)
              tasks.add(
                  new Task(
                      tasks.size(),
                      Kind.NETWORK,
                      l.name(),
                      c,
                      estimate(c, runs(o.networkAlgorithmSet(), d), o, threads),
                      n.name(),
                      l.count(),
                      d));
          }
      }
    }
    // Models: every Conv node in graph order, then the whole model.
    if (o.hasModels()) {
      for (Models.Model m : o.modelList()) {
        double sum = 0;
        for (Models.Node n : m.nodes()) {
          double est = estimate(n.spec(), runs(o.networkAlgorithmSet(), n.direction()), o, threads);
          sum += est;
          tasks.add(
              new Task(
                  tasks.size(), Kind.MODEL, n.name(), n.spec(), est, m.name(), 1, n.direction()));
        }
        tasks.add(
            new Task(
                tasks.size(), Kind.MODEL_RUN, "(whole model)", null, 1 + sum / 4, m.name(), 1));
      }
    }
    if (withSweep && o.sweep) {
      for (SweepPoint p : sweepSpecs(o))
        tasks.add(
            new Task(
                tasks.size(), Kind.SWEEP, p.name(), p.spec(), estimate(p.spec(), 2, o, threads)));
    }
    return tasks;
  }

  /** How many of these algorithms run in that direction. */
  static int runs(java.util.Set<Algo> algos, Dir d) {
    return (int) algos.stream().filter(d::runs).count();
  }

  static double estimate(Conv2d c, int nAlgos, Options o, int threads) {
    double runs = 1 + o.reps;
    double compute = c.flops() / 1e9 * nAlgos * runs / (GFLOPS_PER_THREAD * threads);
    double bytes =
        4.0 * (c.inputSize() + 3 * c.outputSize()) + Formula.im2colBytes(c) + Formula.mecBytes(c);
    return 0.02 + compute + bytes / 1.0e9 + Math.min(o.minTimeMs * nAlgos / 1e3, 1.0);
  }

  /** The sweep's points: every k of --sweep-k with every s of --sweep-s such that k >= s. */
  public static List<SweepPoint> sweepSpecs(Options o) {
    Conv2d base;
    try {
      base = Conv2d.parse(o.sweepLayer.contains("kh") ? o.sweepLayer : o.sweepLayer + "kh1");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--sweep-layer: " + e.getMessage(), e);
    }
    List<SweepPoint> out = new ArrayList<>();
    for (long s : o.sweepS) {
      for (long k : o.sweepK) {
        if (k < s || k < 1 || s < 1) continue;
        if (k > base.inputHeight() || k > base.inputWidth()) continue;
        out.add(
            new SweepPoint(
                k, s, base.toBuilder().kernel(k, k).stride(s, s).padding(0, 0, 0, 0).build()));
      }
    }
    if (out.isEmpty()) throw new IllegalArgumentException("the sweep has no point with k >= s");
    return out;
  }
}
