package org.mec4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import org.mec4j.Conv2d;
import org.mec4j.onnx.OnnxModels;

/**
 * ONNX Runtime's CPU convolution for a layer: a one-node ONNX model ({@code Conv}, NCHW input, OIHW
 * weights as an initializer) written by {@link OnnxModels} from the same seeded data as the other
 * columns, loaded once into a session (intra-op threads = the run's threads, inter-op 1, all graph
 * optimizations, the default CPU provider). Set-up converts the NHWC input into an NCHW direct
 * buffer wrapped in an {@link OnnxTensor} and the HWIO kernel into OIHW, outside any timing, as
 * oneDNN's primitive creation and weight reorder are. The timed call ({@link #run()}) is what a
 * user pays: {@code session.run} on that NCHW tensor, with whatever layout handling ONNX Runtime
 * does inside (on AVX-512 its MLAS kernels reorder to a blocked NCHWc layout and back), returning
 * the NCHW output, which is then closed. {@link #runAndCapture()} does the same and copies the
 * output into the caller's NHWC buffer, for the correctness check.
 */
final class OrtConv implements AutoCloseable {
  /** Intra-op threads; ChildMain sets the run's thread count (default: -Dmec4j.threads or 1). */
  static volatile int threads = Integer.getInteger("mec4j.threads", 1);

  /** Leave ORT's idle spinning on (--spin-wait); off by default like the other runtimes'. */
  static volatile boolean allowSpinning = false;

  /** results.csv's resolved column. */
  static final String RESOLVED = "CPU provider, one Conv node (NCHW)";

  /** NCHW shapes of what the session reads and writes. */
  private final long[] inShape, outShape;

  private final OrtSession session;
  private final OnnxTensor input;
  private final Map<String, OnnxTensor> feed;
  private final NativeFloats out;
  private boolean closed;

  static OrtEnvironment env() {
    return OrtEnvironment.getEnvironment();
  }

  /** "ONNX Runtime 1.29.0 (CPU provider)". */
  static String version() {
    return "ONNX Runtime " + env().getVersion() + " (CPU provider)";
  }

  /**
   * Why this layer cannot run (null: it can): buffers beyond what a Java direct buffer or a
   * protobuf message holds.
   */
  static String unsupported(Conv2d c) {
    long limit = (Integer.MAX_VALUE - 64) / 4;
    if (c.inputSize() > limit || c.outputSize() > limit)
      return "input or output exceeds a Java direct buffer (2 GiB)";
    if (c.kernelSize() > (1L << 28)) return "kernel exceeds a protobuf message (2 GiB)";
    return null;
  }

  /** The layer's ONNX description (ONNX names the pads top, left, bottom, right). */
  static OnnxModels.Conv onnxConv(Conv2d c) {
    return new OnnxModels.Conv(
        c.batch(),
        c.inputChannels(),
        c.inputHeight(),
        c.inputWidth(),
        c.outputChannels(),
        c.kernelHeight(),
        c.kernelWidth(),
        c.strideHeight(),
        c.strideWidth(),
        c.padTop(),
        c.padLeft(),
        c.padBottom(),
        c.padRight(),
        c.dilationHeight(),
        c.dilationWidth(),
        c.groups());
  }

  /**
   * mec4j's kernel (g x HWIO: group, k_h, k_w, i_c/g, k_c/g) as ONNX's OIHW (k_c x i_c/g x k_h x
   * k_w); the inverse of {@link Conv2d#kernelFromPyTorch(float[])}.
   */
  static float[] oihw(Conv2d c, float[] kernel) {
    int kcg = (int) (c.outputChannels() / c.groups()),
        icg = (int) (c.inputChannels() / c.groups()),
        kh = (int) c.kernelHeight(),
        kw = (int) c.kernelWidth();
    float[] w = new float[kernel.length];
    for (int o = 0; o < c.outputChannels(); o++) {
      int group = o / kcg, j = o % kcg;
      for (int ch = 0; ch < icg; ch++)
        for (int r = 0; r < kh; r++)
          for (int q = 0; q < kw; q++)
            w[((o * icg + ch) * kh + r) * kw + q] =
                kernel[(((group * kh + r) * kw + q) * icg + ch) * kcg + j];
    }
    return w;
  }

  /**
   * Session and input tensor for {@code c}, from the NHWC input and HWIO kernel the other columns
   * use; {@code output} (NHWC) receives the result of {@link #runAndCapture()}.
   *
   * @param bias k_c floats, or null for none
   */
  OrtConv(
      Conv2d c,
      NativeFloats nhwcInput,
      NativeFloats hwioKernel,
      float[] bias,
      NativeFloats output) {
    this(c, nhwcInput, oihw(c, read(hwioKernel, c)), bias, output);
  }

  private static float[] read(NativeFloats hwioKernel, Conv2d c) {
    String why = unsupported(c);
    if (why != null) throw new IllegalArgumentException(why);
    float[] k = new float[(int) c.kernelSize()];
    hwioKernel.read(0, k, k.length);
    return k;
  }

  /**
   * The same with ONNX's OIHW weights as given, e.g. a real model's (--model): the one-node model
   * has that node's weights, bias, pads, strides, dilations and group.
   */
  OrtConv(
      Conv2d c, NativeFloats nhwcInput, float[] oihwWeights, float[] bias, NativeFloats output) {
    this(
        OnnxModels.convBytes(onnxConv(c), oihwWeights, bias),
        onnxConv(c).inputShape(),
        onnxConv(c).outputShape(),
        nhwcInput,
        output,
        unsupported(c));
  }

  /**
   * A real model's ConvTranspose node as a one-node ONNX model ({@link #convTransposeBytes}): its
   * input is {@code c}'s output (NHWC, {@code nhwcInput}), its output {@code c}'s input (NHWC,
   * {@code output}), {@code c} being the convolution it transposes.
   *
   * @param weights as the node stores them (C_in x C_out/group x k_h x k_w)
   */
  static OrtConv transposed(
      Conv2d c, NativeFloats nhwcInput, float[] weights, float[] bias, NativeFloats output) {
    return new OrtConv(
        convTransposeBytes(c, weights, bias),
        new long[] {c.batch(), c.outputChannels(), c.outputHeight(), c.outputWidth()},
        new long[] {c.batch(), c.inputChannels(), c.inputHeight(), c.inputWidth()},
        nhwcInput,
        output,
        unsupported(c));
  }

  private OrtConv(
      byte[] model,
      long[] inShape,
      long[] outShape,
      NativeFloats nhwcInput,
      NativeFloats output,
      String why) {
    if (why != null) throw new IllegalArgumentException(why);
    this.inShape = inShape;
    this.outShape = outShape;
    this.out = output;
    OrtEnvironment env = env();
    OrtSession s = null;
    OnnxTensor t = null;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      if (!allowSpinning) {
        o.addConfigEntry("session.intra_op.allow_spinning", "0");
        o.addConfigEntry("session.inter_op.allow_spinning", "0");
      }
      s = env.createSession(model, o);
      FloatBuffer nchw =
          ByteBuffer.allocateDirect((int) (size(inShape) * 4))
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      toNchw(inShape, nhwcInput, nchw);
      t = OnnxTensor.createTensor(env, nchw, inShape);
    } catch (OrtException e) {
      if (s != null) closeQuietly(s);
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    }
    session = s;
    input = t;
    feed = Map.of(OnnxModels.INPUT, input);
  }

  /** The timed call: {@code session.run} on the NCHW input; the output is closed. */
  void run() {
    try (OrtSession.Result r = session.run(feed)) {
      if (r.size() != 1) throw new IllegalStateException("ONNX Runtime returned " + r.size());
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    }
  }

  /** The same call, its NCHW output copied into the caller's NHWC buffer (the check's run). */
  void runAndCapture() {
    try (OrtSession.Result r = session.run(feed)) {
      OnnxTensor y = (OnnxTensor) r.get(0);
      long[] shape = y.getInfo().getShape();
      long[] want = outShape;
      if (!java.util.Arrays.equals(shape, want))
        throw new IllegalStateException(
            "ONNX Runtime's output is "
                + java.util.Arrays.toString(shape)
                + ", expected "
                + java.util.Arrays.toString(want));
      fromNchw(outShape, y.getFloatBuffer(), out);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    }
  }

  private static long size(long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  /**
   * A one-node ONNX model of a ConvTranspose (input X, weights W and bias B as initializers, output
   * Y) that transposes {@code c}: pads and strides, dilations and group of {@code c}, and the
   * output_padding that makes its output {@code c}'s input size.
   */
  static byte[] convTransposeBytes(Conv2d c, float[] weights, float[] bias) {
    long g = c.groups(), cin = c.outputChannels(), cout = c.inputChannels();
    long[] wDims = {cin, cout / g, c.kernelHeight(), c.kernelWidth()};
    long opH =
        c.inputHeight()
            - (c.strideHeight() * (c.outputHeight() - 1)
                + c.dilationHeight() * (c.kernelHeight() - 1)
                + 1
                - c.padTop()
                - c.padBottom());
    long opW =
        c.inputWidth()
            - (c.strideWidth() * (c.outputWidth() - 1)
                + c.dilationWidth() * (c.kernelWidth() - 1)
                + 1
                - c.padLeft()
                - c.padRight());
    var node =
        org.mec4j.onnx.proto.Onnx.NodeProto.newBuilder()
            .setName("convtranspose")
            .setOpType("ConvTranspose")
            .addInput(OnnxModels.INPUT)
            .addInput(OnnxModels.WEIGHTS)
            .addOutput(OnnxModels.OUTPUT)
            .addAttribute(ints("kernel_shape", c.kernelHeight(), c.kernelWidth()))
            .addAttribute(ints("strides", c.strideHeight(), c.strideWidth()))
            .addAttribute(ints("pads", c.padTop(), c.padLeft(), c.padBottom(), c.padRight()))
            .addAttribute(ints("dilations", c.dilationHeight(), c.dilationWidth()))
            .addAttribute(ints("output_padding", opH, opW))
            .addAttribute(
                org.mec4j.onnx.proto.Onnx.AttributeProto.newBuilder()
                    .setName("group")
                    .setType(org.mec4j.onnx.proto.Onnx.AttributeProto.AttributeType.INT)
                    .setI(g));
    var graph =
        org.mec4j.onnx.proto.Onnx.GraphProto.newBuilder()
            .setName("convtranspose")
            .addInitializer(OnnxModels.floatTensor(OnnxModels.WEIGHTS, wDims, weights))
            .addInput(
                OnnxModels.floatValue(
                    OnnxModels.INPUT,
                    new long[] {c.batch(), cin, c.outputHeight(), c.outputWidth()}))
            .addOutput(
                OnnxModels.floatValue(
                    OnnxModels.OUTPUT,
                    new long[] {c.batch(), cout, c.inputHeight(), c.inputWidth()}));
    if (bias != null) {
      node.addInput(OnnxModels.BIAS);
      graph.addInitializer(OnnxModels.floatTensor(OnnxModels.BIAS, new long[] {cout}, bias));
    }
    graph.addNode(node);
    return org.mec4j.onnx.proto.Onnx.ModelProto.newBuilder()
        .setIrVersion(OnnxModels.IR_VERSION)
        .addOpsetImport(
            org.mec4j.onnx.proto.Onnx.OperatorSetIdProto.newBuilder()
                .setDomain("")
                .setVersion(OnnxModels.OPSET))
        .setProducerName("mec4j")
        .setGraph(graph)
        .build()
        .toByteArray();
  }

  private static org.mec4j.onnx.proto.Onnx.AttributeProto ints(String name, long... values) {
    var a =
        org.mec4j.onnx.proto.Onnx.AttributeProto.newBuilder()
            .setName(name)
            .setType(org.mec4j.onnx.proto.Onnx.AttributeProto.AttributeType.INTS);
    for (long v : values) a.addInts(v);
    return a.build();
  }

  /** NHWC native floats into an NCHW buffer, one image row at a time. */
  static void toNchw(Conv2d c, NativeFloats nhwc, FloatBuffer nchw) {
    toNchw(new long[] {c.batch(), c.inputChannels(), c.inputHeight(), c.inputWidth()}, nhwc, nchw);
  }

  /** The same for an NCHW shape. */
  static void toNchw(long[] s, NativeFloats nhwc, FloatBuffer nchw) {
    int h = (int) s[2], w = (int) s[3], ch = (int) s[1];
    float[] row = new float[w * ch];
    for (long n = 0; n < s[0]; n++)
      for (int y = 0; y < h; y++) {
        nhwc.read(((n * h + y) * w) * ch, row, row.length);
        for (int x = 0; x < w; x++)
          for (int k = 0; k < ch; k++)
            nchw.put((int) (((n * ch + k) * h + y) * w + x), row[x * ch + k]);
      }
  }

  /** An NCHW output (position 0) into NHWC native floats, one output row at a time. */
  static void fromNchw(Conv2d c, FloatBuffer nchw, NativeFloats nhwc) {
    fromNchw(
        new long[] {c.batch(), c.outputChannels(), c.outputHeight(), c.outputWidth()}, nchw, nhwc);
  }

  /** The same for an NCHW shape. */
  static void fromNchw(long[] s, FloatBuffer nchw, NativeFloats nhwc) {
    int h = (int) s[2], w = (int) s[3], ch = (int) s[1];
    float[] row = new float[w * ch];
    for (long n = 0; n < s[0]; n++)
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
          for (int k = 0; k < ch; k++)
            row[x * ch + k] = nchw.get((int) (((n * ch + k) * h + y) * w + x));
        nhwc.write(((n * h + y) * w) * ch, row, row.length);
      }
  }

  static void closeQuietly(AutoCloseable a) {
    try {
      a.close();
    } catch (Exception ignored) {
      // already failing
    }
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    input.close();
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing ONNX Runtime's session", e);
    }
  }
}
