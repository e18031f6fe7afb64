import ai.onnxruntime.*;
import java.lang.management.*;
import java.lang.reflect.*;
import java.net.*;
import java.nio.FloatBuffer;
import java.nio.file.*;
import java.util.*;

/**
 * Whole-model A/B in one JVM, interleaved, by thread CPU time (a shared, noisy host's wall clock
 * says little): ONNX Runtime at 1 thread ("ort"), the executor on the class path ("new") and, with
 * -Dold=DIR, the executor classes compiled in DIR ("old": a child-first loader for
 * org.mec4j.onnx.*, mec4j and its natives shared). Each runner is warmed for 3 s, then they run in
 * turn for -Dseconds (at least 15 rounds); prints the medians and their ratios. Run by
 * executor-ab.sh. Arguments: MODEL:INPUT_NAME:D0xD1x... (the input filled with seeded values in
 * [-1, 1)).
 */
public class ExecutorAb {
  static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  interface Runner {
    void run() throws Exception;
  }

  static final class ChildFirst extends URLClassLoader {
    ChildFirst(URL[] u, ClassLoader parent) {
      super(u, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (name.startsWith("org.mec4j.onnx.") && !name.startsWith("org.mec4j.onnx.proto.")) {
          Class<?> c = findLoadedClass(name);
          if (c == null) {
            try {
              c = findClass(name);
            } catch (ClassNotFoundException e) {
              c = null;
            }
          }
          if (c != null) {
            if (resolve) resolveClass(c);
            return c;
          }
        }
        return super.loadClass(name, resolve);
      }
    }
  }

  /** An executor of this class loader's classes, loaded, and the run on the seeded input. */
  record Loaded(Object executor, Method runMethod, Method floats, Map<String, Object> input) {
    static Loaded of(ClassLoader cl, Path model, String name, long[] shape, float[] values)
        throws Exception {
      Class<?> ex = Class.forName("org.mec4j.onnx.OnnxExecutor", true, cl);
      Class<?> tensor = Class.forName("org.mec4j.onnx.Tensor", true, cl);
      Object t = tensor.getMethod("of", float[].class, long[].class).invoke(null, values, shape);
      return new Loaded(
          ex.getMethod("load", Path.class).invoke(null, model),
          ex.getMethod("run", Map.class),
          tensor.getMethod("floats"),
          Map.of(name, t));
    }

    Object run() throws Exception {
      return runMethod.invoke(executor, input);
    }

    float[] firstOutput() throws Exception {
      return (float[]) floats.invoke(((Map<?, ?>) run()).values().iterator().next());
    }
  }

  public static void main(String[] args) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double seconds = Double.parseDouble(System.getProperty("seconds", "15"));
    String old = System.getProperty("old");
    ClassLoader newCl = ExecutorAb.class.getClassLoader();
    ClassLoader oldCl =
        old == null ? null : new ChildFirst(new URL[] {Path.of(old).toUri().toURL()}, newCl);
    for (String arg : args) {
      String[] p = arg.split(":");
      Path model = Path.of(p[0]);
      String input = p[1];
      for (int i = 2; i < p.length - 1; i++) input += ":" + p[i];
      String[] dims = p[p.length - 1].split("x");
      long[] shape = new long[dims.length];
      int n = 1;
      for (int i = 0; i < dims.length; i++) {
        shape[i] = Long.parseLong(dims[i]);
        n *= shape[i];
      }
      float[] values = new float[n];
      SplittableRandom r = new SplittableRandom(1);
      for (int i = 0; i < n; i++) values[i] = (float) (r.nextDouble() * 2 - 1);
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setIntraOpNumThreads(1);
      so.setInterOpNumThreads(1);
      so.addConfigEntry("session.intra_op.allow_spinning", "0");
      OrtSession s = env.createSession(model.toString(), so);
      OnnxTensor feed = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
      String inName = s.getInputNames().iterator().next();
      List<String> names = new ArrayList<>();
      List<Runner> runners = new ArrayList<>();
      names.add("ort");
      runners.add(
          () -> {
            try (OrtSession.Result res = s.run(Map.of(inName, feed))) {}
          });
      names.add("new");
      Loaded current = Loaded.of(newCl, model, input, shape, values);
      runners.add(current::run);
      if (oldCl != null) {
        names.add("old");
        Loaded previous = Loaded.of(oldCl, model, input, shape, values);
        runners.add(previous::run);
        float[] a = current.firstOutput(), b = previous.firstOutput();
        double worst = 0;
        for (int i = 0; i < a.length; i++)
          worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
        System.out.printf(
            "%s: new vs old first output max rel diff %.3g%n", model.getFileName(), worst);
      }
      // warm-up: 3 s each
      for (Runner run : runners) {
        long end = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < end) run.run();
      }
      List<List<Double>> samples = new ArrayList<>();
      for (int i = 0; i < runners.size(); i++) samples.add(new ArrayList<>());
      long end = System.nanoTime() + (long) (seconds * 1e9);
      int round = 0;
      while (System.nanoTime() < end || round < 15) {
        for (int k = 0; k < runners.size(); k++) {
          int i = (k + round) % runners.size();
          long t0 = MX.getCurrentThreadCpuTime();
          runners.get(i).run();
          samples.get(i).add((MX.getCurrentThreadCpuTime() - t0) / 1e6);
        }
        round++;
      }
      double[] med = new double[runners.size()];
      StringBuilder sb =
          new StringBuilder(
              String.format(
                  "%-45s rounds %4d", model.getFileName() + " " + Arrays.toString(shape), round));
      for (int i = 0; i < runners.size(); i++) {
        List<Double> l = samples.get(i);
        Collections.sort(l);
        med[i] = l.get(l.size() / 2);
        sb.append(String.format("  %s %.3f ms", names.get(i), med[i]));
      }
      sb.append(String.format("  new/ort %.3f", med[1] / med[0]));
      if (oldCl != null)
        sb.append(String.format("  old/ort %.3f  new/old %.3f", med[2] / med[0], med[1] / med[2]));
      System.out.println(sb);
      feed.close();
      s.close();
    }
  }
}
