package org.mec4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mec4j.onnx.ConvLayer;
import org.mec4j.onnx.OnnxExecutor;
import org.mec4j.onnx.OnnxModelException;
import org.mec4j.onnx.Tensor;

/**
 * A child JVM's --model work: the real operands of each Conv node (from ONNX Runtime's run of the
 * model with every Conv's input and output exposed, held for the model's tasks) and the whole
 * model's timings in ONNX Runtime and OnnxExecutor.
 */
final class ModelRunner implements AutoCloseable {
  /** What every algorithm of a Conv node is checked against. */
  static final String REFERENCE = "ONNX Runtime's output of the node (whole model)";

  static final String REFERENCE_TRANSPOSED =
      "ONNX Runtime's output of the node minus its bias (whole model)";

  /** Elementwise bound of the executor against ONNX Runtime: |a - b| <= 1e-4 max(1, |b|). */
  static final double EXECUTOR_TOLERANCE = 1e-4;

  private final Options options;
  private final int threads;
  private Models.Model current;
  private Models.Capture capture;

  ModelRunner(Options options, int threads) {
    this.options = options;
    this.threads = threads;
  }

  Models.Model model(String name) {
    for (Models.Model m : options.modelList()) if (m.name().equals(name)) return m;
    throw new IllegalArgumentException("no --model named " + name);
  }

  /** The node's real operands: the caller's LayerRunner frees them. */
  LayerRunner.Given given(Plan.Task t) {
    Models.Model m = model(t.network());
    Models.Node n = m.node(t.name());
    if (current != m) {
      close();
      capture = new Models.Capture(m, options.seed, threads);
      current = m;
    }
    FloatBuffer in = capture.values(n.input(), n.inputShape());
    FloatBuffer out = capture.values(n.output(), n.outputShape());
    ConvLayer l = n.layer();
    float[] hwio = n.spec().kernelFromPyTorch(l.weights());
    List<NativeFloats> made = new ArrayList<>();
    try {
      NativeFloats kernel = keep(made, new NativeFloats(hwio.length));
      kernel.write(0, hwio, hwio.length);
      if (!n.transposed()) {
        NativeFloats input = keep(made, Models.nhwc(in, n.inputShape(), null));
        NativeFloats ref = keep(made, Models.nhwc(out, n.outputShape(), null));
        expect(input.size(), n.spec().inputSize(), "input", n);
        expect(ref.size(), n.spec().outputSize(), "output", n);
        NativeFloats bias = null;
        if (l.bias() != null) {
          bias = keep(made, new NativeFloats(l.bias().length));
          bias.write(0, l.bias(), l.bias().length);
        }
        return new LayerRunner.Given(input, kernel, bias, ref, l.weights(), l.bias(), REFERENCE);
      }
      // ConvTranspose: its input is the gradient of the output of the convolution it transposes,
      // its output (minus the bias) that convolution's input gradient.
      NativeFloats gradOut = keep(made, Models.nhwc(in, n.inputShape(), null));
      NativeFloats ref = keep(made, Models.nhwc(out, n.outputShape(), l.bias()));
      expect(gradOut.size(), n.spec().outputSize(), "input", n);
      expect(ref.size(), n.spec().inputSize(), "output", n);
      return new LayerRunner.Given(
          gradOut, kernel, null, ref, l.weights(), null, REFERENCE_TRANSPOSED);
    } catch (RuntimeException | Error e) {
      for (NativeFloats f : made) f.close();
      throw e;
    }
  }

  private static NativeFloats keep(List<NativeFloats> made, NativeFloats f) {
    made.add(f);
    return f;
  }

  private static void expect(long got, long want, String what, Models.Node n) {
    if (got != want)
      throw new IllegalStateException(
          "node " + n.name() + ": its " + what + " has " + got + " values, the layer " + want);
  }

  /** One whole-model timing: a row's worth. */
  record Timing(
      String algorithm, int threads, double[] samplesMs, String resolved, double maxRelErr) {}

  /** Whole-model results of one model: timings and what could not run (issues' messages). */
  record Whole(List<Timing> timings, List<String[]> issues) {}

  /**
   * The whole model, seeded input: ONNX Runtime and OnnxExecutor at this JVM's threads (the
   * executor's outputs checked against ONNX Runtime's), interleaved like the layers' algorithms.
   */
  Whole whole(Plan.Task t, LayerRunner.Listener listener) throws IOException {
    close(); // the node activations are no longer needed
    Models.Model m = model(t.network());
    List<String[]> issues = new ArrayList<>();
    List<AutoCloseable> res = new ArrayList<>();
    List<Runnable> runs = new ArrayList<>();
    List<Timing> out = new ArrayList<>();
    List<List<Double>> samples = new ArrayList<>();
    try {
      listener.step("ONNX Runtime session", 0);
      byte[] bytes = m.proto().toByteArray();
      Map<String, OnnxTensor> feed = Models.feed(m.name(), m.inputs(), options.seed);
      res.add(() -> feed.values().forEach(OnnxTensor::close));
      // At this JVM's threads; a run with models always has a 1-thread JVM (Main adds one).
      List<Integer> ortThreads = List.of(threads);
      Map<String, float[]> ortOut = null;
      for (int th : ortThreads) {
        OrtSession s;
        try (OrtSession.SessionOptions so = Models.sessionOptions(th)) {
          s = OrtConv.env().createSession(bytes, so);
        }
        res.add(s);
        if (ortOut == null) ortOut = outputs(s.run(feed));
        runs.add(
            () -> {
              try (OrtSession.Result r = s.run(feed)) {
                if (r.size() < 1) throw new IllegalStateException("no output");
              } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
              }
            });
        out.add(
            new Timing(
                "ONNXRUNTIME", th, null, "CPU provider, whole model (all graph optimizations)", 0));
      }
      listener.step("OnnxExecutor", 0.05);
      OnnxExecutor ex = null;
      try {
        ex = OnnxExecutor.load(m.file());
        res.add(ex);
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (var e : m.inputs().entrySet())
          in.put(
              e.getKey(),
              Tensor.of(
                  Models.seeded(Models.seed(options.seed, m.name(), e.getKey()), e.getValue()),
                  e.getValue()));
        Map<String, Tensor> got = ex.run(in);
        double worst = 0;
        String bad = null;
        for (var e : ortOut.entrySet()) {
          Tensor g = got.get(e.getKey());
          if (g == null || g.type() != Tensor.Type.FLOAT) continue;
          double err = relErr(g.floats(), e.getValue());
          worst = Math.max(worst, err);
          if (!(err <= EXECUTOR_TOLERANCE) && bad == null)
            bad =
                String.format(
                    Locale.ROOT,
                    "output '%s': max |a - b| / max(1, |b|) = %.3g (bound %.0e)",
                    e.getKey(),
                    err,
                    EXECUTOR_TOLERANCE);
        }
        if (bad != null) {
          issues.add(
              new String[] {
                "error",
                "EXECUTOR",
                "OnnxExecutor differs from ONNX Runtime on the whole model: " + bad
              });
        } else {
          OnnxExecutor x = ex;
          runs.add(() -> x.run(in));
          out.add(
              new Timing(
                  "EXECUTOR",
                  threads,
                  null,
                  "mec4j-onnx OnnxExecutor (NHWC, every Conv on mec4j)",
                  worst));
        }
      } catch (OnnxModelException | IOException e) {
        issues.add(
            new String[] {
              "skipped", "EXECUTOR", "OnnxExecutor cannot run the model: " + e.getMessage()
            });
      }
      for (int i = 0; i < runs.size(); i++) samples.add(new ArrayList<>());
      time(runs, samples, listener);
      List<Timing> done = new ArrayList<>();
      for (int i = 0; i < out.size(); i++) {
        Timing x = out.get(i);
        done.add(
            new Timing(
                x.algorithm(),
                x.threads(),
                samples.get(i).stream().mapToDouble(Double::doubleValue).toArray(),
                x.resolved(),
                x.maxRelErr()));
      }
      listener.step("done", 1);
      return new Whole(done, issues);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime on " + m.name() + ": " + e.getMessage(), e);
    } finally {
      for (int i = res.size() - 1; i >= 0; i--) {
        try {
          res.get(i).close();
        } catch (Exception e) {
          // freeing: nothing to add
        }
      }
    }
  }

  /**
   * Untimed whole-model runs before the timed ones: at least this long, each runner. The executor's
   * ops are Java code, which runs interpreted for its first calls and compiled only after thousands
   * (30 ms of warm-up left BlazeFace's executor at 1.5x its steady time); ONNX Runtime gets the
   * same.
   */
  static final double WHOLE_MODEL_WARMUP_MS = 2000;

  /** Warm-up, then the runs interleaved with a rotating start, as LayerRunner times layers. */
  private void time(
      List<Runnable> runs, List<List<Double>> samples, LayerRunner.Listener listener) {
    int nt = runs.size();
    double mean = 0;
    for (Runnable r : runs) {
      double spent = 0;
      int i = 0;
      do {
        long t0 = System.nanoTime();
        r.run();
        double ms = (System.nanoTime() - t0) / 1e6;
        spent += ms;
        if (i == 0) mean += ms / nt;
        i++;
      } while (spent < Math.max(options.warmupMs, WHOLE_MODEL_WARMUP_MS) && i < 2000);
    }
    int reps =
        (int)
            Math.max(
                options.reps,
                Math.min(options.maxReps, Math.ceil(options.minTimeMs / Math.max(mean, 1e-3))));
    for (int r = 0; r < reps; r++) {
      listener.step("timing rep " + (r + 1) + "/" + reps, 0.1 + 0.9 * r / reps);
      for (int j = 0; j < nt; j++) {
        int k = (r + j) % nt;
        long t0 = System.nanoTime();
        runs.get(k).run();
        samples.get(k).add((System.nanoTime() - t0) / 1e6);
      }
    }
  }

  private static Map<String, float[]> outputs(OrtSession.Result r) {
    Map<String, float[]> m = new LinkedHashMap<>();
    try (r) {
      for (Map.Entry<String, OnnxValue> e : r)
        if (e.getValue() instanceof OnnxTensor t
            && t.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
          FloatBuffer b = t.getFloatBuffer();
          float[] v = new float[b.remaining()];
          b.get(v);
          m.put(e.getKey(), v);
        }
    }
    return m;
  }

  /** max |a - b| / max(1, |b|) (infinite for different lengths or a non-finite value). */
  static double relErr(float[] a, float[] b) {
    if (a.length != b.length) return Double.POSITIVE_INFINITY;
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs((double) a[i] - b[i]) / Math.max(1.0, Math.abs(b[i]));
      if (!Double.isFinite(d)) return Double.POSITIVE_INFINITY;
      worst = Math.max(worst, d);
    }
    return worst;
  }

  /** Frees the held activations. */
  @Override
  public void close() {
    if (capture != null) capture.close();
    capture = null;
    current = null;
  }
}
