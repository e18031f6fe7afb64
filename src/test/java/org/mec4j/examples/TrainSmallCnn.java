package org.mec4j.examples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.mec4j.*;

/**
 * Trains a small CNN in plain Java on images it generates itself, with every convolution pass
 * (forward, backward-data, backward-weights) run by mec4j, first with {@link Algorithm#MEC} and
 * then with {@link Algorithm#IM2COL}, and compares the two runs' time and convolution workspace.
 *
 * <pre>
 * input 16x16x1 (NHWC)
 *   conv 3x3, padding 1, 1 -> 8 channels, ReLU, max pool 2x2   16x16x8 -> 8x8x8
 *   conv 3x3, padding 1, 8 -> 16 channels, ReLU, max pool 2x2  8x8x16  -> 4x4x16
 *   dense 256 -> 5, softmax cross-entropy; SGD with momentum
 * </pre>
 *
 * <p>Data: five classes (horizontal bar, vertical bar, diagonal, cross, ring) of random size and
 * position with Gaussian noise, from the seed. Everything but the convolutions (ReLU, pooling, the
 * dense layer, softmax, the optimizer) is plain loops.
 *
 * <pre>
 * mvn -B -q -pl lib test-compile exec:java -Dexec.mainClass=org.mec4j.examples.TrainSmallCnn -Dexec.classpathScope=test
 *     [-Dexec.args="--epochs 8 --batch 32 --algorithm both --seed 1 --samples 2048"]
 * </pre>
 */
public final class TrainSmallCnn {
  static final int SIZE = 16;
  static final String[] CLASSES = {"horizontal", "vertical", "diagonal", "cross", "ring"};
  static final float LEARNING_RATE = 0.05f;
  static final float MOMENTUM = 0.9f;

  private TrainSmallCnn() {}

  /** Command-line options; every one has a default. */
  public record Options(int epochs, int batch, List<Algorithm> algorithms, long seed, int samples) {
    static final String USAGE =
        "usage: TrainSmallCnn [--epochs N] [--batch N] [--algorithm MEC|IM2COL|both]"
            + " [--seed N] [--samples N]";

    public static Options parse(String... args) {
      int epochs = 8, batch = 32, samples = 2048;
      long seed = 1;
      List<Algorithm> algorithms = List.of(Algorithm.MEC, Algorithm.IM2COL);
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (name.equals("--help") || name.equals("-h")) throw new IllegalArgumentException(USAGE);
        if (i + 1 == args.length)
          throw new IllegalArgumentException(name + " needs a value\n" + USAGE);
        String value = args[++i];
        switch (name) {
          case "--epochs" -> epochs = positive(name, value);
          case "--batch" -> batch = positive(name, value);
          case "--samples" -> samples = positive(name, value);
          case "--seed" -> seed = Long.parseLong(value);
          case "--algorithm" ->
              algorithms =
                  switch (value.toUpperCase(Locale.ROOT)) {
                    case "MEC" -> List.of(Algorithm.MEC);
                    case "IM2COL" -> List.of(Algorithm.IM2COL);
                    case "BOTH" -> List.of(Algorithm.MEC, Algorithm.IM2COL);
                    default ->
                        throw new IllegalArgumentException("--algorithm " + value + "\n" + USAGE);
                  };
          default -> throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
        }
      }
      if (samples < batch)
        throw new IllegalArgumentException("--samples " + samples + " < --batch " + batch);
      return new Options(epochs, batch, algorithms, seed, samples);
    }

    private static int positive(String name, String value) {
      int n = Integer.parseInt(value);
      if (n <= 0) throw new IllegalArgumentException(name + " must be positive: " + value);
      return n;
    }
  }

  /**
   * One training run: per epoch the mean loss, the training accuracy (of the batches as they were
   * trained on) and the wall time; and the convolution workspace, the sum of both layers' {@link
   * Convolution#workspaceBytes()} (each layer owns its workspace for the whole run).
   */
  /**
   * convMsPerStep: the convolution passes' share of a training step (forward + backward), in ms.
   */
  public record Run(
      Algorithm algorithm,
      double[] loss,
      double[] accuracy,
      double[] seconds,
      long workspaceBytes,
      double convMsPerStep) {
    public double totalSeconds() {
      return Arrays.stream(seconds).sum();
    }
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    run(options);
  }

  /** Trains once per algorithm asked for, on the same data from the same initial weights. */
  public static List<Run> run(Options options) {
    BlasBackend blas = Blas.backend();
    System.out.printf(
        Locale.ROOT,
        "mec4j over %s, %d thread(s), ISA %s%n",
        blas.version(),
        blas.threads(),
        Cpu.effectiveIsa());
    Dataset data = Dataset.generate(options.samples(), options.seed());
    System.out.printf(
        Locale.ROOT,
        "%d generated %dx%d images of %d classes %s, batch %d, seed %d%n",
        options.samples(),
        SIZE,
        SIZE,
        CLASSES.length,
        Arrays.toString(CLASSES),
        options.batch(),
        options.seed());
    System.out.printf(
        Locale.ROOT,
        "conv 3x3 1->8, ReLU, pool 2x2 | conv 3x3 8->16, ReLU, pool 2x2 | dense 256->%d,"
            + " softmax; SGD lr %.2f momentum %.1f%n",
        CLASSES.length,
        LEARNING_RATE,
        MOMENTUM);
    List<Run> runs = new ArrayList<>();
    for (Algorithm algorithm : options.algorithms()) runs.add(train(algorithm, data, options));
    if (runs.size() == 2) {
      Run a = runs.get(0), b = runs.get(1);
      System.out.printf(
          Locale.ROOT,
          "%s vs %s: time %.2f s vs %.2f s (%.2fx), convolution passes %.3f vs %.3f ms per"
              + " step (%.2fx), conv workspace (sum) %s vs %s (%.2fx), final loss %.4f vs %.4f%n",
          a.algorithm(),
          b.algorithm(),
          a.totalSeconds(),
          b.totalSeconds(),
          a.totalSeconds() / b.totalSeconds(),
          a.convMsPerStep(),
          b.convMsPerStep(),
          a.convMsPerStep() / b.convMsPerStep(),
          bytes(a.workspaceBytes()),
          bytes(b.workspaceBytes()),
          (double) a.workspaceBytes() / b.workspaceBytes(),
          last(a.loss()),
          last(b.loss()));
    }
    return runs;
  }

  /**
   * Trains a fresh network (weights and batch order from the seed) with every convolution on {@code
   * algorithm}.
   */
  static Run train(Algorithm algorithm, Dataset data, Options options) {
    int batch = options.batch(),
        steps = options.samples() / batch; // a last partial batch is dropped
    double[] loss = new double[options.epochs()],
        accuracy = new double[loss.length],
        seconds = new double[loss.length];
    try (Network net = new Network(batch, algorithm, new Random(options.seed()))) {
      System.out.printf(
          Locale.ROOT,
          "== %s: conv workspace %s = conv1 %s + conv2 %s (sum: both are held for the"
              + " whole run)%n",
          algorithm,
          bytes(net.workspaceBytes()),
          bytes(net.conv1.workspaceBytes()),
          bytes(net.conv2.workspaceBytes()));
      // What each pass needs: a Convolution's own workspace is the largest of them (for conv1 too
      // backward-data's, although this network never asks conv1 for it).
      for (Convolution conv : new Convolution[] {net.conv1, net.conv2}) {
        Conv2d spec = conv.spec();
        System.out.printf(
            Locale.ROOT,
            "   %s %s: forward %s, backward-data %s, backward-weights %s%n",
            conv == net.conv1 ? "conv1" : "conv2",
            spec,
            bytes(spec.workspaceBytes(algorithm, Direction.FORWARD)),
            bytes(spec.workspaceBytes(algorithm, Direction.BACKWARD_DATA)),
            bytes(spec.workspaceBytes(algorithm, Direction.BACKWARD_WEIGHTS)));
      }
      Random shuffle = new Random(options.seed() + 1);
      int[] order = new int[options.samples()];
      for (int i = 0; i < order.length; i++) order[i] = i;
      float[] images = new float[batch * SIZE * SIZE];
      int[] labels = new int[batch];
      for (int epoch = 0; epoch < options.epochs(); epoch++) {
        long start = System.nanoTime();
        shuffle(order, shuffle);
        double lossSum = 0;
        int correct = 0;
        for (int step = 0; step < steps; step++) {
          data.gather(order, step * batch, images, labels);
          BatchResult result = net.trainStep(images, labels);
          lossSum += result.loss();
          correct += result.correct();
        }
        seconds[epoch] = (System.nanoTime() - start) / 1e9;
        loss[epoch] = lossSum / steps;
        accuracy[epoch] = (double) correct / (steps * batch);
        System.out.printf(
            Locale.ROOT,
            "epoch %2d/%d  loss %.4f  train accuracy %5.1f%%  %6.2f s  conv workspace (sum) %s%n",
            epoch + 1,
            options.epochs(),
            loss[epoch],
            100 * accuracy[epoch],
            seconds[epoch],
            bytes(net.workspaceBytes()));
      }
      double convMs = net.convNanos / 1e6 / ((long) steps * options.epochs());
      System.out.printf(
          Locale.ROOT,
          "   convolution passes: %.3f ms per step (forward, backward data, backward weights)%n",
          convMs);
      return new Run(algorithm, loss, accuracy, seconds, net.workspaceBytes(), convMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Data

  /** Single-channel SIZE x SIZE images, NHWC (C = 1), and their labels. */
  record Dataset(float[] images, int[] labels) {
    static Dataset generate(int count, long seed) {
      Random random = new Random(seed);
      float[] images = new float[count * SIZE * SIZE];
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = i % CLASSES.length; // balanced; the batch order is shuffled
        float[] image = new float[SIZE * SIZE];
        draw(labels[i], 0.5f + 0.5f * random.nextFloat(), random, image);
        for (int p = 0; p < image.length; p++) image[p] += 0.2f * (float) random.nextGaussian();
        System.arraycopy(image, 0, images, i * image.length, image.length);
      }
      return new Dataset(images, labels);
    }

    /** Draws one shape of the class with the given ink, at a random size and position. */
    private static void draw(int label, float ink, Random random, float[] image) {
      switch (CLASSES[label]) {
        case "horizontal", "vertical" -> {
          int length = 7 + random.nextInt(5), line = 1 + random.nextInt(SIZE - 2);
          int from = random.nextInt(SIZE - length + 1);
          boolean horizontal = CLASSES[label].equals("horizontal");
          for (int t = from; t < from + length; t++)
            set(image, horizontal ? line : t, horizontal ? t : line, ink);
        }
        case "diagonal" -> { // either direction
          int length = 7 + random.nextInt(5), row = random.nextInt(SIZE - length + 1);
          int col = random.nextInt(SIZE - length + 1);
          boolean down = random.nextBoolean();
          for (int t = 0; t < length; t++)
            set(image, row + t, down ? col + t : col + length - 1 - t, ink);
        }
        case "cross" -> {
          int arm = 2 + random.nextInt(2),
              row = 3 + random.nextInt(SIZE - 6),
              col = 3 + random.nextInt(SIZE - 6);
          for (int t = -arm; t <= arm; t++) {
            set(image, row, col + t, ink);
            set(image, row + t, col, ink);
          }
        }
        case "ring" -> {
          double radius = 2.5 + 2 * random.nextDouble();
          double cy = radius + 0.5 + random.nextDouble() * (SIZE - 2 * radius - 2);
          double cx = radius + 0.5 + random.nextDouble() * (SIZE - 2 * radius - 2);
          for (int y = 0; y < SIZE; y++)
            for (int x = 0; x < SIZE; x++)
              if (Math.abs(Math.hypot(y - cy, x - cx) - radius) < 0.6) set(image, y, x, ink);
        }
        default -> throw new AssertionError(label);
      }
    }

    private static void set(float[] image, int y, int x, float value) {
      image[y * SIZE + x] = value;
    }

    /** Copies the examples order[from..from+labels.length) into one batch. */
    void gather(int[] order, int from, float[] batchImages, int[] batchLabels) {
      int pixels = SIZE * SIZE;
      for (int i = 0; i < batchLabels.length; i++) {
        System.arraycopy(images, order[from + i] * pixels, batchImages, i * pixels, pixels);
        batchLabels[i] = labels[order[from + i]];
      }
    }
  }

  private static void shuffle(int[] a, Random random) { // Fisher-Yates
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1), t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The network

  record BatchResult(double loss, int correct) {}

  /** A weight tensor with its gradient and momentum buffer. */
  static final class Param {
    final float[] value, grad, velocity;

    Param(int size, double std, Random random) {
      value = new float[size];
      grad = new float[size];
      velocity = new float[size];
      for (int i = 0; i < size; i++) value[i] = (float) (std * random.nextGaussian());
    }

    /** SGD with momentum, as PyTorch's: v = mu v + g; w -= lr v. */
    void update() {
      for (int i = 0; i < value.length; i++) {
        velocity[i] = MOMENTUM * velocity[i] + grad[i];
        value[i] -= LEARNING_RATE * velocity[i];
      }
    }
  }

  static final class Network implements AutoCloseable {
    static final int C1 = 8, C2 = 16, H1 = SIZE, H2 = SIZE / 2, H3 = SIZE / 4;
    static final int FEATURES = H3 * H3 * C2, K = CLASSES.length;

    final int batch;
    final Convolution conv1, conv2;
    // He initialisation for the ReLU layers; biases start at zero.
    final Param kernel1, bias1, kernel2, bias2, weights3, bias3;
    // Activations (NHWC) and their gradients: a = ReLU(conv), p = maxpool(a), pool[] = which input
    // won.
    final float[] a1, p1, a2, p2, logits;
    final int[] pool1, pool2;
    final float[] gradA1, gradP1, gradA2, gradP2, gradLogits;

    Network(int batch, Algorithm algorithm, Random random) {
      this.batch = batch;
      Conv2d spec1 =
          Conv2d.builder()
              .batch(batch)
              .input(H1, H1, 1)
              .kernel(3, 3)
              .outputChannels(C1)
              .stride(1, 1)
              .padding(1, 1, 1, 1)
              .build();
      Conv2d spec2 =
          Conv2d.builder()
              .batch(batch)
              .input(H2, H2, C1)
              .kernel(3, 3)
              .outputChannels(C2)
              .stride(1, 1)
              .padding(1, 1, 1, 1)
              .build();
      conv1 = Convolution.create(spec1, algorithm);
      try {
        conv2 = Convolution.create(spec2, algorithm);
      } catch (RuntimeException | Error e) {
        conv1.close();
        throw e;
      }
      kernel1 = new Param((int) spec1.kernelSize(), Math.sqrt(2.0 / (3 * 3)), random);
      bias1 = new Param(C1, 0, random);
      kernel2 = new Param((int) spec2.kernelSize(), Math.sqrt(2.0 / (3 * 3 * C1)), random);
      bias2 = new Param(C2, 0, random);
      weights3 = new Param(FEATURES * K, Math.sqrt(1.0 / FEATURES), random);
      bias3 = new Param(K, 0, random);
      a1 = new float[(int) spec1.outputSize()];
      gradA1 = new float[a1.length];
      p1 = new float[(int) spec2.inputSize()];
      gradP1 = new float[p1.length];
      pool1 = new int[p1.length];
      a2 = new float[(int) spec2.outputSize()];
      gradA2 = new float[a2.length];
      p2 = new float[batch * FEATURES];
      gradP2 = new float[p2.length];
      pool2 = new int[p2.length];
      logits = new float[batch * K];
      gradLogits = new float[logits.length];
    }

    long workspaceBytes() {
      return conv1.workspaceBytes() + conv2.workspaceBytes();
    }

    /**
     * Forward, backward and one optimizer step on a batch; returns its mean loss and how many it
     * got right.
     */
    /**
     * Nanoseconds spent in mec4j's convolution passes (forward and backward), summed over steps.
     */
    long convNanos;

    BatchResult trainStep(float[] images, int[] labels) {
      // Forward.
      long t0 = System.nanoTime();
      conv1.forward(images, kernel1.value, bias1.value, a1);
      convNanos += System.nanoTime() - t0;
      relu(a1);
      maxPool(a1, H1, C1, p1, pool1);
      t0 = System.nanoTime();
      conv2.forward(p1, kernel2.value, bias2.value, a2);
      convNanos += System.nanoTime() - t0;
      relu(a2);
      maxPool(a2, H2, C2, p2, pool2);
      dense(p2, weights3.value, bias3.value, logits);
      BatchResult result = softmaxCrossEntropy(logits, labels, gradLogits);

      // Backward: each layer's gradients from the next one's. mec4j's backward passes overwrite
      // their outputs (gradients of kernel, bias and input), so nothing needs zeroing first.
      denseBackward(p2, weights3.value, gradLogits, weights3.grad, bias3.grad, gradP2);
      maxPoolBackward(gradP2, pool2, gradA2);
      reluBackward(a2, gradA2);
      t0 = System.nanoTime();
      conv2.backwardWeights(p1, gradA2, kernel2.grad, bias2.grad);
      conv2.backwardData(gradA2, kernel2.value, gradP1);
      convNanos += System.nanoTime() - t0;
      maxPoolBackward(gradP1, pool1, gradA1);
      reluBackward(a1, gradA1);
      t0 = System.nanoTime();
      conv1.backwardWeights(
          images, gradA1, kernel1.grad, bias1.grad); // no backwardData: its input is the data
      convNanos += System.nanoTime() - t0;

      for (Param p : new Param[] {kernel1, bias1, kernel2, bias2, weights3, bias3}) p.update();
      return result;
    }

    static void relu(float[] x) {
      for (int i = 0; i < x.length; i++) x[i] = Math.max(x[i], 0f);
    }

    /** grad *= ReLU'(a), from the ReLU's output a (a > 0 exactly where its input was). */
    static void reluBackward(float[] a, float[] grad) {
      for (int i = 0; i < a.length; i++) if (a[i] <= 0) grad[i] = 0;
    }

    /**
     * 2x2 max pooling, stride 2, of a batch of NHWC h x h x c maps; winner[o] = the input index of
     * out[o].
     */
    void maxPool(float[] in, int h, int c, float[] out, int[] winner) {
      int oh = h / 2, o = 0;
      for (int n = 0; n < batch; n++)
        for (int y = 0; y < oh; y++)
          for (int x = 0; x < oh; x++)
            for (int ch = 0; ch < c; ch++, o++) {
              int best = ((n * h + 2 * y) * h + 2 * x) * c + ch;
              for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                  int i = ((n * h + 2 * y + dy) * h + 2 * x + dx) * c + ch;
                  if (in[i] > in[best]) best = i;
                }
              out[o] = in[best];
              winner[o] = best;
            }
    }

    /**
     * Each output's gradient goes to the input that won (the windows do not overlap); the others
     * get 0.
     */
    static void maxPoolBackward(float[] gradOut, int[] winner, float[] gradIn) {
      Arrays.fill(gradIn, 0f);
      for (int o = 0; o < gradOut.length; o++) gradIn[winner[o]] = gradOut[o];
    }

    /** logits[n][k] = bias[k] + sum_f x[n][f] w[f][k] (x is the pooled NHWC map, flattened). */
    void dense(float[] x, float[] w, float[] bias, float[] out) {
      for (int n = 0; n < batch; n++)
        for (int k = 0; k < K; k++) {
          float sum = bias[k];
          for (int f = 0; f < FEATURES; f++) sum += x[n * FEATURES + f] * w[f * K + k];
          out[n * K + k] = sum;
        }
    }

    void denseBackward(
        float[] x, float[] w, float[] gradOut, float[] gradW, float[] gradBias, float[] gradX) {
      Arrays.fill(gradW, 0f);
      Arrays.fill(gradBias, 0f);
      for (int n = 0; n < batch; n++)
        for (int f = 0; f < FEATURES; f++) {
          float sum = 0;
          for (int k = 0; k < K; k++) {
            float g = gradOut[n * K + k];
            gradW[f * K + k] += x[n * FEATURES + f] * g;
            sum += w[f * K + k] * g;
          }
          gradX[n * FEATURES + f] = sum;
        }
      for (int n = 0; n < batch; n++) for (int k = 0; k < K; k++) gradBias[k] += gradOut[n * K + k];
    }

    /**
     * Mean cross-entropy of softmax(logits) over the batch, the number of correct predictions, and
     * its gradient with respect to the logits: (softmax - one-hot) / batch.
     */
    BatchResult softmaxCrossEntropy(float[] logits, int[] labels, float[] gradLogits) {
      double loss = 0;
      int correct = 0;
      double[] p = new double[K];
      for (int n = 0; n < batch; n++) {
        int predicted = 0;
        for (int k = 1; k < K; k++)
          if (logits[n * K + k] > logits[n * K + predicted]) predicted = k;
        if (predicted == labels[n]) correct++;
        double max = logits[n * K + predicted], sum = 0; // subtract the max: exp cannot overflow
        for (int k = 0; k < K; k++) sum += p[k] = Math.exp(logits[n * K + k] - max);
        loss -= Math.log(p[labels[n]] / sum);
        for (int k = 0; k < K; k++)
          gradLogits[n * K + k] = (float) ((p[k] / sum - (k == labels[n] ? 1 : 0)) / batch);
      }
      return new BatchResult(loss / batch, correct);
    }

    @Override
    public void close() {
      try {
        conv2.close();
      } finally {
        conv1.close();
      }
    }
  }

  private static double last(double[] a) {
    return a[a.length - 1];
  }

  private static String bytes(long b) {
    return String.format(Locale.ROOT, "%,d B", b);
  }
}
