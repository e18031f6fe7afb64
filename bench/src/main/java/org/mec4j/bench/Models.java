package org.mec4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.mec4j.Conv2d;
import org.mec4j.onnx.ConvLayer;
import org.mec4j.onnx.OnnxExecutor;
import org.mec4j.onnx.OnnxModelException;
import org.mec4j.onnx.proto.Onnx.GraphProto;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;
import org.mec4j.onnx.proto.Onnx.TensorShapeProto;
import org.mec4j.onnx.proto.Onnx.TypeProto;
import org.mec4j.onnx.proto.Onnx.ValueInfoProto;

/**
 * Real ONNX models for {@code --model}: every Conv and ConvTranspose node of a model, with its real
 * weights (read by {@code mec4j-onnx}'s {@link ConvLayer}) and its real input, the activation ONNX
 * Runtime computes for it when it runs the whole model on a seeded input.
 *
 * <p>ONNX Runtime hands out only a graph's outputs, so the model it runs for the activations (its
 * <em>capture</em>) is the model with every Conv's input and output added to the graph's outputs
 * (as float tensors of unknown shape: ORT infers the rest). Those values then stay what the model
 * computes: ORT does not fuse away a value that is a graph output (Conv+BatchNormalization,
 * Conv+Relu), so each Conv's output is the Conv's own. The whole-model timings run the original
 * model, with every fusion ORT does.
 */
final class Models {
  private Models() {}

  /** Default sizes of the known models' dynamic input dimensions, by a word of the file name. */
  static final Map<String, long[]> KNOWN =
      new LinkedHashMap<>(
          Map.of(
              "det", new long[] {1, 3, 640, 640},
              "rec", new long[] {1, 3, 48, 320},
              "cls", new long[] {1, 3, 48, 192}));

  /** The text of --help about the defaults. */
  static final String DEFAULTS_HELP =
      "a file name with 'det' 1,3,640,640, 'rec' 1,3,48,320, 'cls' 1,3,48,192 (PaddleOCR's"
          + " detector, recogniser, direction classifier); any other dynamic batch dimension 1";

  /**
   * A Conv or ConvTranspose node.
   *
   * @param name its name in results.csv: the node's name, or "(output NAME)" for an unnamed node
   *     (made unique within the model)
   * @param input the value it reads (NCHW)
   * @param output the value it writes (NCHW)
   * @param inputShape the input's shape on this run's input
   * @param outputShape the output's
   * @param spec the mec4j layer (a ConvTranspose: the convolution whose backward-data pass it is)
   */
  record Node(
      int index,
      String name,
      String opType,
      String input,
      String output,
      ConvLayer layer,
      long[] inputShape,
      long[] outputShape,
      Conv2d spec) {
    boolean transposed() {
      return layer.isTransposed();
    }

    /** The pass the runner times: forward for a Conv, backward data for a ConvTranspose. */
    Dir direction() {
      return transposed() ? Dir.BWD_D : Dir.FWD;
    }
  }

  /**
   * A model, read and sized.
   *
   * @param name its file name (results.csv's network column)
   * @param inputs every graph input with the shape this run feeds
   * @param nodes its Conv and ConvTranspose nodes, in graph order
   */
  record Model(
      Path file, String name, ModelProto proto, Map<String, long[]> inputs, List<Node> nodes) {
    Node node(String nodeName) {
      for (Node n : nodes) if (n.name().equals(nodeName)) return n;
      throw new IllegalArgumentException("model " + name + " has no Conv node '" + nodeName + "'");
    }

    String inputsText() {
      List<String> p = new ArrayList<>();
      for (var e : inputs.entrySet()) p.add(e.getKey() + " " + dims(e.getValue()));
      return String.join(", ", p);
    }

    long transposedNodes() {
      return nodes.stream().filter(Node::transposed).count();
    }
  }

  /** "1x3x48x192". */
  static String dims(long[] d) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < d.length; i++) b.append(i == 0 ? "" : "x").append(d[i]);
    return b.toString();
  }

  /**
   * Parses --model-input values, NAME=D0,D1,...
   *
   * @throws IllegalArgumentException naming the option and the value
   */
  static Map<String, long[]> parseInputs(List<String> values) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (String v : values) {
      int eq = v.lastIndexOf('=');
      if (eq < 1 || eq == v.length() - 1)
        throw new IllegalArgumentException(
            "--model-input: '" + v + "' is not NAME=D0,D1,... (e.g. x=1,3,48,320)");
      String[] f = v.substring(eq + 1).split("[,x]");
      long[] d = new long[f.length];
      for (int i = 0; i < f.length; i++) {
        try {
          d[i] = Long.parseLong(f[i].trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "--model-input: '" + v + "': '" + f[i] + "' is not a number");
        }
        if (d[i] < 1)
          throw new IllegalArgumentException(
              "--model-input: '" + v + "': every dimension must be >= 1");
      }
      if (m.put(v.substring(0, eq).trim(), d) != null)
        throw new IllegalArgumentException(
            "--model-input: input '" + v.substring(0, eq) + "' given twice");
    }
    return m;
  }

  /**
   * Reads a model and sizes its Conv nodes: their weights through mec4j-onnx, their input and
   * output shapes from one ONNX Runtime run on a seeded input (so a model whose inputs are dynamic
   * needs sizes: --model-input, else the known defaults).
   *
   * @param given --model-input sizes by input name (those of other models are ignored here)
   * @throws IllegalArgumentException naming the model (and the node) when it cannot be run
   */
  static Model read(Path file, Map<String, long[]> given, long seed) {
    String name = file.getFileName().toString();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("--model " + file + ": cannot read it (" + e + ")", e);
    }
    ModelProto proto;
    List<ConvLayer> layers;
    try (OnnxExecutor ex = OnnxExecutor.load(bytes)) {
      proto = ModelProto.parseFrom(bytes);
      layers = ex.convLayers();
    } catch (OnnxModelException | com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "--model " + file + ": mec4j-onnx cannot read it: " + e.getMessage(), e);
    }
    GraphProto g = proto.getGraph();
    Set<String> initializers = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) initializers.add(t.getName());
    Map<String, long[]> inputs = new LinkedHashMap<>();
    for (ValueInfoProto v : g.getInputList())
      if (!initializers.contains(v.getName()))
        inputs.put(v.getName(), inputShape(name, v, given.get(v.getName())));

    // The Conv nodes in graph order: mec4j-onnx's layers are in the same order (it runs every
    // Conv).
    List<NodeProto> convs = new ArrayList<>();
    for (NodeProto n : g.getNodeList())
      if (n.getOpType().equals("Conv") || n.getOpType().equals("ConvTranspose")) convs.add(n);
    if (convs.size() != layers.size())
      throw new IllegalStateException(
          "--model "
              + name
              + ": "
              + convs.size()
              + " Conv/ConvTranspose nodes but mec4j-onnx made "
              + layers.size()
              + " layers");
    if (convs.isEmpty())
      throw new IllegalArgumentException("--model " + name + ": no Conv or ConvTranspose node");
    Map<String, long[]> shapes;
    try (Capture c = new Capture(name, proto, inputs, convs, seed, 1)) {
      shapes = c.shapes();
    }
    List<Node> nodes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < convs.size(); i++) {
      NodeProto n = convs.get(i);
      ConvLayer l = layers.get(i);
      String where = describe(n);
      if (!l.node().equals(where))
        throw new IllegalStateException(
            "--model "
                + name
                + ": node "
                + i
                + " is "
                + where
                + " but mec4j-onnx's is "
                + l.node());
      String nodeName = n.getName().isEmpty() ? "(output " + n.getOutput(0) + ")" : n.getName();
      String unique = nodeName;
      for (int k = 2; !names.add(unique); k++) unique = nodeName + "#" + k;
      long[] in = shapes.get(n.getInput(0)), out = shapes.get(n.getOutput(0));
      if (in == null || out == null || in.length != 4 || out.length != 4)
        throw new IllegalArgumentException(
            "--model "
                + name
                + ": "
                + where
                + ": ONNX Runtime gave its input "
                + (in == null ? "no shape" : Arrays.toString(in))
                + " and its output "
                + (out == null ? "no shape" : Arrays.toString(out))
                + " (2-D convolutions only)");
      Conv2d spec;
      try {
        spec = l.spec(in[0], in[1], in[2], in[3]);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--model " + name + ": " + e.getMessage(), e);
      }
      long[] want = l.outputShape(in[0], in[1], in[2], in[3]);
      if (!Arrays.equals(want, out))
        throw new IllegalArgumentException(
            "--model "
                + name
                + ": "
                + where
                + ": ONNX Runtime's output is "
                + Arrays.toString(out)
                + ", mec4j-onnx's mapping gives "
                + Arrays.toString(want));
      nodes.add(
          new Node(i, unique, n.getOpType(), n.getInput(0), n.getOutput(0), l, in, out, spec));
    }
    return new Model(file, name, proto, inputs, nodes);
  }

  /** As mec4j-onnx's ConvLayer.node() names a node. */
  private static String describe(NodeProto n) {
    String name =
        n.getName().isEmpty() && n.getOutputCount() > 0
            ? "producing '" + n.getOutput(0) + "'"
            : "'" + n.getName() + "'";
    return "node " + name + " (" + n.getOpType() + ")";
  }

  /**
   * The shape fed to an input: --model-input's, else the declared one with defaults for dynamic
   * dimensions.
   */
  static long[] inputShape(String model, ValueInfoProto v, long[] given) {
    long[] declared = null;
    if (v.hasType() && v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
      TensorShapeProto s = v.getType().getTensorType().getShape();
      declared = new long[s.getDimCount()];
      for (int i = 0; i < declared.length; i++)
        declared[i] =
            s.getDim(i).hasDimValue() && s.getDim(i).getDimValue() > 0
                ? s.getDim(i).getDimValue()
                : -1;
    }
    if (v.hasType()
        && v.getType().hasTensorType()
        && v.getType().getTensorType().getElemType() != TensorProto.DataType.FLOAT_VALUE)
      throw new IllegalArgumentException(
          "--model "
              + model
              + ": input '"
              + v.getName()
              + "' is not float (only float inputs are fed)");
    String decl = declared == null ? "no shape" : Arrays.toString(declared).replace("-1", "?");
    if (given != null) {
      if (declared != null) {
        boolean ok = declared.length == given.length;
        for (int i = 0; ok && i < given.length; i++)
          if (declared[i] > 0 && declared[i] != given[i]) ok = false;
        if (!ok)
          throw new IllegalArgumentException(
              "--model-input "
                  + v.getName()
                  + "="
                  + dims(given)
                  + ": model "
                  + model
                  + " declares "
                  + decl);
      }
      return given.clone();
    }
    if (declared == null)
      throw new IllegalArgumentException(
          "--model "
              + model
              + ": input '"
              + v.getName()
              + "' declares no shape: give --model-input "
              + v.getName()
              + "=D0,D1,...");
    long[] known = null;
    String lower = model.toLowerCase(Locale.ROOT);
    for (var e : KNOWN.entrySet())
      if (lower.matches(".*(^|[^a-z])" + e.getKey() + "([^a-z]|$).*")) known = e.getValue();
    long[] r = declared.clone();
    for (int i = 0; i < r.length; i++) {
      if (r[i] > 0) continue;
      if (known != null && known.length == r.length) r[i] = known[i];
      else if (i == 0) r[i] = 1;
      else
        throw new IllegalArgumentException(
            "--model "
                + model
                + ": input '"
                + v.getName()
                + "' has dynamic dimensions "
                + decl
                + ": give --model-input "
                + v.getName()
                + "=D0,D1,...");
    }
    return r;
  }

  /** Seed of a model input: the base seed, the model's and the input's names. */
  static long seed(long base, String model, String input) {
    long h = base * 0x9E3779B97F4A7C15L;
    for (char ch : (model + "/" + input).toCharArray()) h = (h ^ ch) * 0x100000001B3L;
    return h;
  }

  /** The seeded values of an input: uniform in [-1, 1) (normalised image pixels). */
  static float[] seeded(long seed, long[] shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    if (n > Integer.MAX_VALUE - 8)
      throw new IllegalArgumentException("input of " + n + " values: too large");
    float[] v = new float[(int) n];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2.0 - 1.0);
    return v;
  }

  /** ONNX Runtime session options as the runner uses them (threads, no idle spinning). */
  static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(threads);
    o.setInterOpNumThreads(1);
    o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    if (!OrtConv.allowSpinning) {
      o.addConfigEntry("session.intra_op.allow_spinning", "0");
      o.addConfigEntry("session.inter_op.allow_spinning", "0");
    }
    return o;
  }

  /** The seeded input tensors of a model (closed by the caller). */
  static Map<String, OnnxTensor> feed(String model, Map<String, long[]> inputs, long seed)
      throws OrtException {
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    OrtEnvironment env = OrtConv.env();
    for (var e : inputs.entrySet()) {
      float[] v = seeded(seed(seed, model, e.getKey()), e.getValue());
      FloatBuffer b =
          ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
      b.put(v).rewind();
      feed.put(e.getKey(), OnnxTensor.createTensor(env, b, e.getValue()));
    }
    return feed;
  }

  /**
   * ONNX Runtime's run of a model with every Conv's input and output as graph outputs: the real
   * activations, held (in ONNX Runtime's memory) until closed.
   */
  static final class Capture implements AutoCloseable {
    private final String model;
    private final Map<String, OnnxTensor> feed;
    private final OrtSession session;
    private final OrtSession.Result result;

    Capture(Model m, long seed, int threads) {
      this(m.name(), m.proto(), m.inputs(), convNodes(m.proto()), seed, threads);
    }

    private static List<NodeProto> convNodes(ModelProto p) {
      List<NodeProto> r = new ArrayList<>();
      for (NodeProto n : p.getGraph().getNodeList())
        if (n.getOpType().equals("Conv") || n.getOpType().equals("ConvTranspose")) r.add(n);
      return r;
    }

    Capture(
        String model,
        ModelProto proto,
        Map<String, long[]> inputs,
        List<NodeProto> convs,
        long seed,
        int threads) {
      this.model = model;
      byte[] exposed = exposeConvs(proto, convs, inputs.keySet()).toByteArray();
      Map<String, OnnxTensor> f = null;
      OrtSession s = null;
      try (OrtSession.SessionOptions o = sessionOptions(threads)) {
        f = feed(model, inputs, seed);
        s = OrtConv.env().createSession(exposed, o);
        result = s.run(f);
      } catch (OrtException | RuntimeException e) {
        if (f != null) for (OnnxTensor t : f.values()) t.close();
        if (s != null) OrtConv.closeQuietly(s);
        throw new IllegalArgumentException(
            "--model " + model + ": ONNX Runtime cannot run it: " + e.getMessage(), e);
      }
      feed = f;
      session = s;
    }

    /** The shape of every value captured (and of the inputs). */
    Map<String, long[]> shapes() {
      Map<String, long[]> m = new LinkedHashMap<>();
      for (var e : feed.entrySet()) m.put(e.getKey(), e.getValue().getInfo().getShape());
      for (Map.Entry<String, OnnxValue> e : result)
        if (e.getValue() instanceof OnnxTensor t) m.putIfAbsent(e.getKey(), t.getInfo().getShape());
      return m;
    }

    /**
     * A captured value (or an input), NCHW, as ONNX Runtime computed it; its shape in {@code
     * shape}.
     */
    FloatBuffer values(String name, long[] shape) {
      OnnxTensor t = feed.get(name);
      if (t == null)
        t =
            (OnnxTensor)
                result
                    .get(name)
                    .orElseThrow(
                        () ->
                            new IllegalStateException(
                                "model "
                                    + model
                                    + ": ONNX Runtime returned no value '"
                                    + name
                                    + "'"));
      long[] s = t.getInfo().getShape();
      if (!Arrays.equals(s, shape))
        throw new IllegalStateException(
            "model "
                + model
                + ": value '"
                + name
                + "' is "
                + Arrays.toString(s)
                + ", expected "
                + Arrays.toString(shape));
      return t.getFloatBuffer();
    }

    @Override
    public void close() {
      result.close();
      for (OnnxTensor t : feed.values()) t.close();
      OrtConv.closeQuietly(session);
    }
  }

  /**
   * The model with every Conv's input and output among the graph's outputs (float tensors of
   * unknown shape), those that are not graph inputs or outputs already.
   */
  static ModelProto exposeConvs(ModelProto proto, List<NodeProto> convs, Set<String> inputs) {
    GraphProto.Builder g = proto.getGraph().toBuilder();
    Set<String> have = new HashSet<>(inputs);
    for (ValueInfoProto v : g.getOutputList()) have.add(v.getName());
    Set<String> add = new LinkedHashSet<>();
    for (NodeProto n : convs) {
      add.add(n.getInput(0));
      add.add(n.getOutput(0));
    }
    add.removeAll(have);
    for (String name : add)
      g.addOutput(
          ValueInfoProto.newBuilder()
              .setName(name)
              .setType(
                  TypeProto.newBuilder()
                      .setTensorType(
                          TypeProto.Tensor.newBuilder()
                              .setElemType(TensorProto.DataType.FLOAT_VALUE))));
    return proto.toBuilder().setGraph(g).build();
  }

  /**
   * An NCHW buffer of {@code shape} as NHWC native floats (minus {@code bias} per channel if
   * given).
   */
  static NativeFloats nhwc(FloatBuffer nchw, long[] shape, float[] minusBias) {
    int n = (int) shape[0], c = (int) shape[1], h = (int) shape[2], w = (int) shape[3];
    NativeFloats out = new NativeFloats((long) n * c * h * w);
    float[] row = new float[w * c];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < h; y++) {
        for (int ch = 0; ch < c; ch++) {
          float sub = minusBias == null ? 0f : minusBias[ch];
          int base = ((b * c + ch) * h + y) * w;
          for (int x = 0; x < w; x++) row[x * c + ch] = nchw.get(base + x) - sub;
        }
        out.write(((long) (b * h + y) * w) * c, row, row.length);
      }
    return out;
  }
}
