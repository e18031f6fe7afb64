package org.mec4j.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.mec4j.onnx.proto.Onnx.AttributeProto;
import org.mec4j.onnx.proto.Onnx.GraphProto;
import org.mec4j.onnx.proto.Onnx.ModelProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;
import org.mec4j.onnx.proto.Onnx.OperatorSetIdProto;
import org.mec4j.onnx.proto.Onnx.TensorProto;
import org.mec4j.onnx.proto.Onnx.TensorShapeProto;
import org.mec4j.onnx.proto.Onnx.ValueInfoProto;

/**
 * Runs an ONNX CNN: every Conv and ConvTranspose on mec4j ({@link ConvLayer}, a {@link
 * org.mec4j.Convolution} per node, which owns its workspace), the other ops of {@link #OPS} as
 * plain Java loops. Images are NHWC inside: the convolutions read and write NHWC, and the ops in
 * between keep that layout (a tensor carries its strides), so the data is converted once at the
 * input (or by the model's own Transpose, which is free here) and once at the output.
 *
 * <pre>{@code
 * try (OnnxExecutor model = OnnxExecutor.load(Path.of("model.onnx"))) {
 *   Map<String, Tensor> out = model.run(Map.of("x", Tensor.of(values, 1, 3, 48, 192)));
 * }
 * }</pre>
 *
 * <p>Loading checks everything it can without an input: an op it does not have, a weight of the
 * wrong size, a node reading a value nothing produces; each {@link OnnxModelException} names the
 * node (its name and op type). Running checks the input shapes against the model's declared ones.
 * Not thread-safe: the convolutions own their workspaces, and the arrays of intermediate values are
 * reused from step to step and from run to run (never the arrays of the outputs a run returns,
 * which are the caller's). Close it to free them; use one executor per thread to run concurrently.
 */
public final class OnnxExecutor implements AutoCloseable {
  /** The ops this executor runs (Constant nodes and constant subgraphs are evaluated at load). */
  public static final Set<String> OPS =
      Set.of(
          ("Conv ConvTranspose Relu Clip HardSigmoid HardSwish Sigmoid Tanh Exp Sqrt Neg Add Sub Mul"
                  + " Div Pow BatchNormalization MaxPool AveragePool GlobalAveragePool ReduceMean"
                  + " Concat Reshape Flatten Transpose Squeeze Unsqueeze Pad Constant ConstantOfShape"
                  + " Shape Slice Cast MatMul Gemm Softmax Resize Identity Dropout")
              .split(" "));

  private interface Op {
    /** The outputs; arrays from buffers where the op writes every element. */
    Tensor[] run(Tensor[] in, Buffers buffers);
  }

  private static final class Step {
    final String where;
    final String opType;
    final List<String> inputs;
    List<String> outputs;
    final Op op;
    final ConvStep conv; // for Conv, ConvTranspose and a MatMul by a constant
    // An activation fused into an elementwise float op (Add, Sub, Mul, Div): clamped in place
    // on the op's fresh output; null if none.
    ConvStep.Activation activation;

    Step(
        String where,
        String opType,
        List<String> inputs,
        List<String> outputs,
        Op op,
        ConvStep conv) {
      this.where = where;
      this.opType = opType;
      this.inputs = inputs;
      this.outputs = outputs;
      this.op = op;
      this.conv = conv;
    }
  }

  private final Map<String, Tensor> constants;
  private final Map<String, long[]> inputShapes; // declared; -1 for a dynamic dimension
  private final List<String> outputNames;
  private final List<Step> steps;
  private final Map<String, Integer> lastUse = new HashMap<>();
  // Clip steps whose bounds are known at load (attributes or constant inputs): fusable.
  private final Map<Step, float[]> clipBounds = new HashMap<>();
  // BatchNormalization steps and their epsilon: foldable into a convolution before them.
  private final Map<Step, Float> batchNormEpsilon = new HashMap<>();
  private final List<ConvLayer> nodeLayers = new ArrayList<>(); // before any fold
  private final long opset;
  // The intermediate values' arrays, reused across steps and runs (why run is not thread-safe).
  private final Buffers buffers = new Buffers();
  private boolean closed;

  private OnnxExecutor(ModelProto model) {
    if (!model.hasGraph() || model.getGraph().getNodeCount() == 0)
      throw new OnnxModelException("not an ONNX model: it has no graph or no nodes");
    GraphProto g = model.getGraph();
    long version = -1;
    for (OperatorSetIdProto o : model.getOpsetImportList())
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) version = o.getVersion();
    if (version < 1)
      throw new OnnxModelException("not an ONNX model: no opset_import for the default domain");
    this.opset = version;
    Map<String, Tensor> consts = new HashMap<>();
    // Initializers are decoded when a node first reads them, so that an error names that node.
    Map<String, TensorProto> initializers = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) initializers.put(t.getName(), t);
    Map<String, long[]> ins = new LinkedHashMap<>();
    for (ValueInfoProto v : g.getInputList()) {
      if (initializers.containsKey(v.getName())) continue;
      ins.put(v.getName(), declaredShape(v));
    }
    if (ins.isEmpty()) throw new OnnxModelException("the model has no graph input");
    Set<String> known = new HashSet<>(ins.keySet());
    known.addAll(initializers.keySet());
    List<Step> list = new ArrayList<>();
    try {
      for (NodeProto n : g.getNodeList()) {
        String where = describe(n);
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx"))
          throw new OnnxModelException(
              where + ": op domain '" + n.getDomain() + "' is not supported (default domain only)");
        for (String in : n.getInputList()) {
          if (!in.isEmpty() && !known.contains(in))
            throw new OnnxModelException(
                where
                    + ": input '"
                    + in
                    + "' is no graph input, initializer or output of an earlier node");
          TensorProto init = initializers.remove(in);
          if (init != null)
            consts.put(in, TensorProtos.decode(init, where + ", initializer '" + in + "'"));
        }
        if (n.getOutputCount() == 0)
          throw new OnnxModelException(where + ": the node has no output");
        Step step = step(n, where, consts);
        boolean allConstant =
            n.getInputList().stream().allMatch(i -> i.isEmpty() || consts.containsKey(i));
        if (step == null) { // Constant
          known.addAll(n.getOutputList());
        } else if (allConstant && step.conv == null) {
          // Constant subgraphs (shapes, reshaped constants) are evaluated once, here.
          Tensor[] out = runStep(step, consts, new Buffers());
          for (int i = 0; i < out.length && i < n.getOutputCount(); i++)
            consts.put(n.getOutput(i), out[i]);
          known.addAll(n.getOutputList());
        } else {
          list.add(step);
          known.addAll(n.getOutputList());
        }
      }
    } catch (RuntimeException e) {
      closeAll(list);
      throw e;
    }
    List<String> outs = new ArrayList<>();
    for (ValueInfoProto v : g.getOutputList()) {
      TensorProto init = initializers.remove(v.getName());
      if (init != null)
        consts.put(v.getName(), TensorProtos.decode(init, "graph output '" + v.getName() + "'"));
      if (!known.contains(v.getName())) {
        closeAll(list);
        throw new OnnxModelException(
            "graph output '" + v.getName() + "' is produced by no node, initializer or input");
      }
      outs.add(v.getName());
    }
    this.constants = consts;
    this.inputShapes = ins;
    this.outputNames = outs;
    this.steps = list;
    foldAffineOpsIntoConvs();
    fuseHardSwish();
    fuseActivations();
    for (int i = 0; i < steps.size(); i++) for (String in : steps.get(i).inputs) lastUse.put(in, i);
  }

  /** Loads a model file. */
  public static OnnxExecutor load(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    return load(Files.readAllBytes(file), file.toString());
  }

  /** Loads a model from its bytes. */
  public static OnnxExecutor load(byte[] model) {
    return load(model, "the model");
  }

  private static OnnxExecutor load(byte[] bytes, String what) {
    Objects.requireNonNull(bytes, "model");
    ModelProto m;
    try {
      m = ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new OnnxModelException(
          what + " is not a valid ONNX model (truncated or corrupted protobuf): " + e.getMessage(),
          e);
    }
    return new OnnxExecutor(m);
  }

  /** The graph inputs (not initializers), in the model's order. */
  public List<String> inputNames() {
    return List.copyOf(inputShapes.keySet());
  }

  /**
   * The declared shape of an input, -1 for a dynamic dimension; {@code null} when the model
   * declares no shape for it (any shape is then taken).
   *
   * @throws IllegalArgumentException if the model has no input of that name
   */
  public long[] inputShape(String name) {
    if (!inputShapes.containsKey(name))
      throw new IllegalArgumentException(
          "the model has no input '" + name + "' (its inputs: " + inputShapes.keySet() + ")");
    long[] s = inputShapes.get(name);
    return s == null ? null : s.clone();
  }

  public List<String> outputNames() {
    return Collections.unmodifiableList(outputNames);
  }

  /**
   * Every Conv and ConvTranspose node's layer as the model gives it, in graph order (the executor
   * may run it with a BatchNormalization or another per-channel op after it folded in).
   */
  public List<ConvLayer> convLayers() {
    return Collections.unmodifiableList(nodeLayers);
  }

  /** How many convolutions run on a kernel packed once (MEC_FUSED, after their first run). */
  int packedConvolutions() {
    int n = 0;
    for (Step s : steps) if (s.conv != null && s.conv.isPacked()) n++;
    return n;
  }

  /** The op types of the steps that run, after fusion ("Conv+Relu" for a fused pair). */
  List<String> plan() {
    List<String> r = new ArrayList<>();
    for (Step s : steps)
      r.add(s.conv != null && s.conv.activation != null ? s.opType + "+activation" : s.opType);
    return r;
  }

  /**
   * Runs the model.
   *
   * @param inputs every graph input by name, NCHW (the model's logical layout)
   * @return every graph output by name, row-major in the model's logical layout
   * @throws OnnxModelException for a missing input or one whose shape the model does not take, or a
   *     node that cannot run on it (named)
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    Objects.requireNonNull(inputs, "inputs");
    if (closed) throw new IllegalStateException("the executor is closed");
    Map<String, Tensor> values = new HashMap<>(constants);
    for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
      Tensor t = inputs.get(e.getKey());
      if (t == null)
        throw new OnnxModelException(
            "input '"
                + e.getKey()
                + "' is missing (the model's inputs: "
                + inputShapes.keySet()
                + ")");
      checkShape(e.getKey(), t, e.getValue());
      values.put(e.getKey(), t);
    }
    for (String name : inputs.keySet())
      if (!inputShapes.containsKey(name))
        throw new OnnxModelException(
            "the model has no input '" + name + "' (its inputs: " + inputShapes.keySet() + ")");
    Set<String> keep = new HashSet<>(outputNames);
    // How many live values share each array (views: Reshape, Transpose, Identity): an array goes
    // back to the buffers when the last of them is dead.
    Map<float[], Integer> sharers = new IdentityHashMap<>();
    try {
      for (int i = 0; i < steps.size(); i++) {
        Step s = steps.get(i);
        Tensor[] out = runStep(s, values, buffers);
        for (int k = 0; k < out.length && k < s.outputs.size(); k++)
          if (!s.outputs.get(k).isEmpty() && values.put(s.outputs.get(k), out[k]) == null)
            if (out[k].f != null) sharers.merge(out[k].f, 1, Integer::sum);
        for (String in : s.inputs) // free what no later step reads (once: dead is then null)
        if (lastUse.getOrDefault(in, -1) == i && !keep.contains(in) && !constants.containsKey(in)) {
            Tensor dead = values.remove(in);
            if (dead != null && dead.f != null && sharers.merge(dead.f, -1, Integer::sum) == 0)
              buffers.release(dead.f);
          }
      }
      Map<String, Tensor> result = new LinkedHashMap<>();
      for (String name : outputNames) result.put(name, values.get(name).standard());
      return result;
    } finally {
      buffers.endRun(); // the outputs' arrays are the caller's now
    }
  }

  private static void checkShape(String name, Tensor t, long[] declared) {
    boolean ok = declared == null || t.rank() == declared.length;
    if (ok && declared != null)
      for (int d = 0; d < declared.length; d++)
        if (declared[d] >= 0 && declared[d] != t.shape[d]) ok = false;
    if (!ok)
      throw new OnnxModelException(
          "input '"
              + name
              + "' has shape "
              + Arrays.toString(t.shape)
              + ", the model expects "
              + Arrays.toString(declared).replace("-1", "?"));
    if (t.type() != Tensor.Type.FLOAT)
      throw new OnnxModelException("input '" + name + "' must be float, got " + t);
  }

  private static Tensor[] runStep(Step s, Map<String, Tensor> values, Buffers buffers) {
    Tensor[] in = new Tensor[s.inputs.size()];
    for (int i = 0; i < in.length; i++) {
      String name = s.inputs.get(i);
      in[i] = name.isEmpty() ? null : values.get(name);
    }
    try {
      Tensor[] out = s.op.run(in, buffers);
      if (s.activation != null) {
        if (out[0].type() != Tensor.Type.FLOAT)
          throw new OnnxModelException(s.activation.node() + ": its input is not float");
        Ops.clipInPlace(out[0].f, s.activation.min(), s.activation.max());
      }
      return out;
    } catch (OnnxModelException e) {
      throw e.getMessage().startsWith(s.where)
          ? e
          : new OnnxModelException(s.where + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new OnnxModelException(s.where + ": " + e.getMessage(), e);
    }
  }

  private static long[] declaredShape(ValueInfoProto v) {
    if (!v.hasType() || !v.getType().hasTensorType() || !v.getType().getTensorType().hasShape())
      return null;
    TensorShapeProto s = v.getType().getTensorType().getShape();
    long[] r = new long[s.getDimCount()];
    for (int i = 0; i < r.length; i++)
      r[i] =
          s.getDim(i).hasDimValue() && s.getDim(i).getDimValue() > 0
              ? s.getDim(i).getDimValue()
              : -1;
    return r;
  }

  /** "node 'Conv_0' (Conv)", or the first output's name for an unnamed node. */
  static String describe(NodeProto n) {
    String name =
        n.getName().isEmpty() && n.getOutputCount() > 0
            ? "producing '" + n.getOutput(0) + "'"
            : "'" + n.getName() + "'";
    return "node " + name + " (" + n.getOpType() + ")";
  }

  /**
   * Pairs each Conv with an activation (Relu, or Clip with constant bounds) that is the only reader
   * of its output and not a graph output: the pair runs as one step ({@link ConvStep}), whose
   * activation is the single seam where mec4j's fused activations will plug in.
   */
  // Elementwise float ops whose output is a fresh array: a Relu or Clip reading only it runs in
  // place on it (one pass and no allocation instead of two and one).
  private static final Set<String> ELEMENTWISE_FUSABLE = Set.of("Add", "Sub", "Mul", "Div");

  private void fuseActivations() {
    Map<String, Integer> readers = readerCounts();
    for (int i = 0; i + 1 < steps.size(); i++) {
      Step c = steps.get(i);
      boolean elementwise = ELEMENTWISE_FUSABLE.contains(c.opType);
      if (c.conv == null && !elementwise) continue;
      if (c.conv != null ? c.conv.activation != null : c.activation != null) continue;
      String out = c.outputs.get(0);
      if (readers.getOrDefault(out, 0) != 1 || outputNames.contains(out)) continue;
      for (int j = i + 1; j < steps.size(); j++) {
        Step a = steps.get(j);
        if (!a.inputs.contains(out)) continue;
        ConvStep.Activation act = activation(a);
        if (act != null && a.inputs.get(0).equals(out)) {
          if (c.conv != null) c.conv.activation = act;
          else c.activation = act;
          c.outputs = a.outputs;
          steps.remove(j);
        }
        break;
      }
    }
  }

  /** How many times each value is read by a step. */
  private Map<String, Integer> readerCounts() {
    Map<String, Integer> readers = new HashMap<>();
    for (Step s : steps) for (String in : s.inputs) readers.merge(in, 1, Integer::sum);
    return readers;
  }

  /**
   * The index of the only step that reads step i's first output, once; -1 if that output has other
   * readers or is a graph output.
   */
  private int soleReader(int i, Map<String, Integer> readers) {
    String out = steps.get(i).outputs.get(0);
    if (readers.getOrDefault(out, 0) != 1 || outputNames.contains(out)) return -1;
    for (int j = i + 1; j < steps.size(); j++) if (steps.get(j).inputs.contains(out)) return j;
    return -1;
  }

  /**
   * Folds per-channel affine ops into the Conv before them, as ONNX Runtime does, while each is the
   * Conv's only reader: a BatchNormalization with constant statistics, a Mul or an Add by a
   * constant scalar or per-channel vector (PP-LCNetV3's learnable affine blocks). The weights are
   * scaled per output channel and the bias shifted, so no pass over the output is left; a Relu or
   * Clip after them then fuses into the convolution.
   */
  private void foldAffineOpsIntoConvs() {
    Map<String, Integer> readers = readerCounts();
    for (int i = 0; i < steps.size(); i++) {
      Step c = steps.get(i);
      if (!c.opType.equals("Conv") && !c.opType.equals("ConvTranspose")) continue;
      for (int j = soleReader(i, readers); j >= 0; j = soleReader(i, readers)) {
        ConvLayer layer = c.conv.layer;
        float[][] affine = affineAfter(steps.get(j), c.outputs.get(0), layer);
        if (affine == null) break;
        c =
            convStep(
                c.where,
                c.opType,
                c.inputs.get(0),
                steps.get(j).outputs,
                layer.scaled(affine[0], affine[1]));
        steps.set(i, c);
        steps.remove(j);
      }
    }
  }

  /**
   * {scale, new bias} of the Conv whose output x step s reads if s is a per-channel affine op with
   * constant parameters that fold into it; null otherwise.
   */
  private float[][] affineAfter(Step s, String x, ConvLayer layer) {
    int channels = (int) layer.outputChannels();
    float[] bias = layer.bias() != null ? layer.bias() : new float[channels];
    if (s.opType.equals("BatchNormalization") && batchNormEpsilon.containsKey(s)) {
      Tensor[] stats = new Tensor[4];
      for (int k = 0; k < 4; k++) stats[k] = constants.get(s.inputs.get(k + 1));
      if (!s.inputs.get(0).equals(x) || Arrays.asList(stats).contains(null)) return null;
      try {
        return Ops.batchNormAffine(
            stats[0], stats[1], stats[2], stats[3], batchNormEpsilon.get(s), channels, bias);
      } catch (IllegalArgumentException e) {
        return null; // statistics of the wrong size: the BatchNormalization step reports them
      }
    }
    boolean mul = s.opType.equals("Mul");
    if (!mul && !s.opType.equals("Add") || s.inputs.size() != 2) return null;
    String other = s.inputs.get(0).equals(x) ? s.inputs.get(1) : s.inputs.get(0);
    float[] perChannel = perChannelConstant(constants.get(other), channels);
    if (other.equals(x) || perChannel == null) return null;
    float[] scale = new float[channels], newBias = new float[channels];
    for (int k = 0; k < channels; k++) {
      scale[k] = mul ? perChannel[k] : 1f;
      newBias[k] = mul ? bias[k] * perChannel[k] : bias[k] + perChannel[k];
    }
    return new float[][] {scale, newBias};
  }

  /**
   * A float constant that broadcasts over an NCHW value along its channels only (a scalar, or C
   * values shaped [C, 1, 1] or [1, C, 1, 1]) as one value per channel; null for any other.
   */
  private static float[] perChannelConstant(Tensor t, int channels) {
    if (t == null || t.type() != Tensor.Type.FLOAT || t.rank() > 4) return null;
    float[] v = t.floats();
    if (v.length == 1) {
      float[] r = new float[channels];
      Arrays.fill(r, v[0]);
      return r;
    }
    int channelAxis = t.rank() - 3; // NCHW's axis 1, aligned to the right
    if (v.length != channels || channelAxis < 0 || t.shape[channelAxis] != channels) return null;
    return v;
  }

  /**
   * PaddleOCR's hard swish, Div(Mul(x, Clip(Add(x, a), lo, hi)), d) with constant a, lo, hi and d,
   * as one step: one pass and one array instead of four, the same float operations in the same
   * order (so the same bits).
   */
  private void fuseHardSwish() {
    Map<String, Integer> readers = readerCounts();
    for (int i = 0; i < steps.size(); i++) {
      Step add = steps.get(i);
      Float shift = constantScalarOperand(add, "Add");
      int ci = shift == null ? -1 : soleReader(i, readers);
      Step clip = ci < 0 ? null : steps.get(ci);
      float[] bounds = clip == null ? null : clipBounds.get(clip);
      if (bounds == null || !clip.inputs.get(0).equals(add.outputs.get(0))) continue;
      int mi = soleReader(ci, readers);
      Step mul = mi < 0 ? null : steps.get(mi);
      String x = add.inputs.get(0), clipped = clip.outputs.get(0);
      if (mul == null
          || !mul.opType.equals("Mul")
          || !(mul.inputs.equals(List.of(x, clipped)) || mul.inputs.equals(List.of(clipped, x))))
        continue;
      int di = soleReader(mi, readers);
      Step div = di < 0 ? null : steps.get(di);
      Float divisor = div == null ? null : constantScalarOperand(div, "Div");
      if (divisor == null || !div.inputs.get(0).equals(mul.outputs.get(0))) continue;
      float a = shift, lo = bounds[0], hi = bounds[1], d = divisor;
      steps.set(
          di,
          new Step(
              add.where,
              "Add+Clip+Mul+Div",
              List.of(x),
              div.outputs,
              (in, buf) -> one(Ops.hardSwish(buf, in[0], a, lo, hi, d)),
              null));
      steps.remove(mi);
      steps.remove(ci);
      steps.remove(i);
      i--;
    }
  }

  /** The value of step s's second input if s is of this op type and that input a float scalar. */
  private Float constantScalarOperand(Step s, String opType) {
    if (!s.opType.equals(opType) || s.inputs.size() != 2) return null;
    Tensor t = constants.get(s.inputs.get(1));
    boolean scalar = t != null && t.type() == Tensor.Type.FLOAT && t.size() == 1 && t.rank() <= 1;
    return scalar && !constants.containsKey(s.inputs.get(0)) ? t.f[0] : null;
  }

  private ConvStep.Activation activation(Step s) {
    if (s.opType.equals("Relu"))
      return new ConvStep.Activation(s.where, 0f, Float.POSITIVE_INFINITY);
    if (!s.opType.equals("Clip")) return null;
    float[] bounds = clipBounds.get(s);
    // Bounds that mec4j's clamp does not take (NaN, min > max) stay an op of their own.
    return bounds == null || !(bounds[0] <= bounds[1])
        ? null
        : new ConvStep.Activation(s.where, bounds[0], bounds[1]);
  }

  private static void closeAll(List<Step> list) {
    for (Step s : list) if (s.conv != null) s.conv.close();
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    closeAll(steps);
  }

  // --- the ops --------------------------------------------------------------------------------

  private Step step(NodeProto n, String where, Map<String, Tensor> consts) {
    String type = n.getOpType();
    if (!OPS.contains(type))
      throw new OnnxModelException(where + ": op " + type + " is not supported by the executor");
    Attributes a = new Attributes(n, where);
    List<String> in = n.getInputList(), out = n.getOutputList();
    Op op;
    switch (type) {
      case "Constant" -> {
        consts.put(n.getOutput(0), constant(a, where));
        return null;
      }
      case "Conv", "ConvTranspose" -> {
        if (in.size() < 2) throw new OnnxModelException(where + ": needs input and weights");
        Tensor w = consts.get(in.get(1));
        if (w == null)
          throw new OnnxModelException(
              where
                  + ": the weights '"
                  + in.get(1)
                  + "' are not a constant (initializer or Constant)");
        Tensor b = null;
        if (in.size() > 2 && !in.get(2).isEmpty()) {
          b = consts.get(in.get(2));
          if (b == null)
            throw new OnnxModelException(
                where + ": the bias '" + in.get(2) + "' is not a constant");
        }
        ConvLayer layer = ConvLayer.of(n, where, w, b);
        nodeLayers.add(layer);
        return convStep(where, type, in.get(0), out, layer);
      }
      case "Relu" -> op = (x, buf) -> one(Ops.unary(buf, x[0], v -> v > 0 || v != v ? v : 0f));
      case "Sigmoid" -> op = (x, buf) -> one(Ops.unary(buf, x[0], Ops::sigmoid));
      case "Tanh" -> op = (x, buf) -> one(Ops.unary(buf, x[0], v -> (float) Math.tanh(v)));
      case "Exp" -> op = (x, buf) -> one(Ops.unary(buf, x[0], v -> (float) Math.exp(v)));
      case "Sqrt" -> op = (x, buf) -> one(Ops.unary(buf, x[0], v -> (float) Math.sqrt(v)));
      case "Neg" -> op = (x, buf) -> one(Ops.unary(buf, x[0], v -> -v));
      case "HardSigmoid" -> {
        float alpha = a.f("alpha", 0.2f), beta = a.f("beta", 0.5f);
        op =
            (x, buf) ->
                one(Ops.unary(buf, x[0], v -> Math.max(0f, Math.min(1f, alpha * v + beta))));
      }
      case "HardSwish" ->
          op =
              (x, buf) ->
                  one(Ops.unary(buf, x[0], v -> v * Math.max(0f, Math.min(1f, v / 6f + 0.5f))));
      case "Clip" -> {
        float[] bounds = clipAttributes(n, a, consts, where);
        op =
            (x, buf) -> {
              float lo = bounds != null ? bounds[0] : scalar(x, 1, Float.NEGATIVE_INFINITY);
              float hi = bounds != null ? bounds[1] : scalar(x, 2, Float.POSITIVE_INFINITY);
              return one(Ops.unary(buf, x[0], v -> Math.min(Math.max(v, lo), hi)));
            };
        Step s = new Step(where, type, in, out, op, null);
        if (bounds != null) clipBounds.put(s, bounds);
        return s;
      }
      case "Add" -> op = (x, buf) -> one(Ops.binary(buf, x[0], x[1], Ops.Arithmetic.ADD));
      case "Sub" -> op = (x, buf) -> one(Ops.binary(buf, x[0], x[1], Ops.Arithmetic.SUB));
      case "Mul" -> op = (x, buf) -> one(Ops.binary(buf, x[0], x[1], Ops.Arithmetic.MUL));
      case "Div" -> op = (x, buf) -> one(Ops.binary(buf, x[0], x[1], Ops.Arithmetic.DIV));
      case "Pow" -> op = (x, buf) -> one(Ops.binary(buf, x[0], x[1], Ops.Arithmetic.POW));
      case "BatchNormalization" -> {
        if (in.size() < 5) throw new OnnxModelException(where + ": needs 5 inputs");
        float eps = a.f("epsilon", 1e-5f);
        op = (x, buf) -> one(Ops.batchNorm(buf, x[0], x[1], x[2], x[3], x[4], eps));
        // The running statistics of training mode are not produced.
        Step s = new Step(where, type, in, out.subList(0, 1), op, null);
        batchNormEpsilon.put(s, eps);
        return s;
      }
      case "MaxPool", "AveragePool" -> {
        boolean max = type.equals("MaxPool");
        if (out.size() > 1)
          throw new OnnxModelException(where + ": MaxPool's Indices output is not supported");
        op = (x, buf) -> one(Ops.pool(buf, x[0], a, max, where));
      }
      case "GlobalAveragePool" -> op = (x, buf) -> one(Ops.globalAveragePool(buf, x[0]));
      case "Concat" -> {
        if (!a.has("axis")) throw new OnnxModelException(where + ": Concat needs an axis");
        int axis = (int) a.i("axis", 0);
        op = (x, buf) -> one(Ops.concat(buf, Arrays.asList(x), axis));
      }
      case "Reshape" -> {
        boolean allowZero = a.i("allowzero", 0) != 0;
        op = (x, buf) -> one(Ops.reshape(x[0], longs(x, 1, "shape"), allowZero));
      }
      case "Flatten" -> {
        long axisAttr = a.i("axis", 1);
        op =
            (x, buf) -> {
              int r = x[0].rank();
              int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
              if (axis < 0 || axis > r) throw new IllegalArgumentException("axis " + axisAttr);
              long outer = 1;
              for (int d = 0; d < axis; d++) outer *= x[0].shape[d];
              return one(
                  x[0].reshape(new int[] {(int) outer, (int) (x[0].size() / Math.max(outer, 1))}));
            };
      }
      case "Transpose" -> {
        long[] perm = a.ints("perm");
        op =
            (x, buf) -> {
              int r = x[0].rank();
              int[] p = new int[r];
              for (int d = 0; d < r; d++) p[d] = perm == null ? r - 1 - d : (int) perm[d];
              if (perm != null && perm.length != r)
                throw new IllegalArgumentException(
                    "perm " + Arrays.toString(perm) + " for " + x[0]);
              boolean[] seen = new boolean[r];
              for (int d : p) {
                if (d < 0 || d >= r || seen[d])
                  throw new IllegalArgumentException("perm " + Arrays.toString(perm));
                seen[d] = true;
              }
              return one(x[0].permute(p));
            };
      }
      case "Squeeze", "Unsqueeze" -> {
        boolean squeeze = type.equals("Squeeze");
        long[] attrAxes = a.ints("axes");
        op =
            (x, buf) -> {
              long[] axes =
                  attrAxes != null ? attrAxes : x.length > 1 && x[1] != null ? x[1].longs() : null;
              return one(squeeze ? squeeze(x[0], axes) : unsqueeze(x[0], axes));
            };
      }
      case "Pad" -> {
        String mode = a.s("mode", "constant");
        long[] attrPads = a.ints("pads");
        float attrValue = a.f("value", 0f);
        op =
            (x, buf) -> {
              long[] pads = attrPads != null ? attrPads : longs(x, 1, "pads");
              float value = x.length > 2 && x[2] != null ? scalar(x, 2, 0f) : attrValue;
              if (x.length > 3 && x[3] != null)
                throw new IllegalArgumentException("Pad's axes input is not supported");
              return one(Ops.pad(x[0], pads, value, mode));
            };
      }
      case "ConstantOfShape" -> {
        AttributeProto v = a.get("value");
        Tensor value =
            v == null ? Tensor.of(new float[] {0f}, 1) : TensorProtos.decode(v.getT(), where);
        if (value.size() != 1)
          throw new OnnxModelException(where + ": value must hold one element");
        op =
            (x, buf) -> {
              int[] shape = Tensor.toIntShape(x[0].longs());
              if (value.type() == Tensor.Type.FLOAT) {
                float[] f = new float[Tensor.numel(shape)];
                Arrays.fill(f, value.f[0]);
                return one(new Tensor(f, shape, Tensor.standardStrides(shape)));
              }
              long[] l = new long[Tensor.numel(shape)];
              Arrays.fill(l, value.l[0]);
              return one(new Tensor(l, shape));
            };
      }
      case "Shape" -> {
        long start = a.i("start", 0), end = a.i("end", Long.MAX_VALUE);
        op =
            (x, buf) -> {
              int r = x[0].rank();
              int s = (int) Math.max(0, Math.min(r, start < 0 ? start + r : start));
              int e = (int) Math.max(0, Math.min(r, end < 0 ? end + r : end));
              long[] v = new long[Math.max(0, e - s)];
              for (int d = s; d < e; d++) v[d - s] = x[0].shape[d];
              return one(Tensor.ofLongs(v, v.length));
            };
      }
      case "Slice" -> {
        long[] attrStarts = a.ints("starts"), attrEnds = a.ints("ends"), attrAxes = a.ints("axes");
        boolean fromAttributes = opset < 10;
        op =
            (x, buf) -> {
              if (fromAttributes) return one(Ops.slice(x[0], attrStarts, attrEnds, attrAxes, null));
              long[] axes = x.length > 3 && x[3] != null ? x[3].longs() : null;
              long[] steps = x.length > 4 && x[4] != null ? x[4].longs() : null;
              return one(Ops.slice(x[0], longs(x, 1, "starts"), longs(x, 2, "ends"), axes, steps));
            };
      }
      case "Cast" -> {
        long to = a.i("to", 1);
        op = (x, buf) -> one(Ops.cast(x[0], to));
      }
      case "MatMul" -> {
        Tensor b = consts.get(in.get(1));
        if (b != null && b.type() == Tensor.Type.FLOAT && b.rank() == 2) {
          ConvStep conv = new ConvStep(ConvLayer.ofMatMulWeights(where, b));
          int rows = b.shape[0], columns = b.shape[1];
          return new Step(
              where,
              type,
              List.of(in.get(0)),
              out,
              (x, buf) -> one(matMulOnConv(conv, x[0], rows, columns, buf)),
              conv);
        }
        op = (x, buf) -> one(Ops.matMul(x[0], x[1]));
      }
      case "Gemm" -> {
        float alpha = a.f("alpha", 1f), beta = a.f("beta", 1f);
        boolean ta = a.i("transA", 0) != 0, tb = a.i("transB", 0) != 0;
        op =
            (x, buf) -> {
              Tensor p = ta ? x[0].permute(new int[] {1, 0}) : x[0];
              Tensor q = tb ? x[1].permute(new int[] {1, 0}) : x[1];
              Tensor y = Ops.matMul(p, q);
              if (alpha != 1f) y = Ops.unary(buf, y, v -> v * alpha);
              if (x.length > 2 && x[2] != null) {
                Tensor c = beta == 1f ? x[2] : Ops.unary(buf, x[2], v -> v * beta);
                y = Ops.binary(buf, y, c, Ops.Arithmetic.ADD);
              }
              return one(y);
            };
      }
      case "Softmax" -> {
        boolean old = opset < 13;
        long axis = a.i("axis", old ? 1 : -1);
        op = (x, buf) -> one(Ops.softmax(x[0], axis, old));
      }
      case "Resize" -> {
        int scalesAt = opset < 11 ? 1 : 2;
        op =
            (x, buf) -> {
              Tensor scales = x.length > scalesAt ? x[scalesAt] : null;
              Tensor sizes = opset >= 11 && x.length > 3 ? x[3] : null;
              return one(Ops.resizeNearest(buf, x[0], scales, sizes, a, where));
            };
      }
      case "ReduceMean" -> {
        long[] attrAxes = a.ints("axes");
        boolean keepDims = a.i("keepdims", 1) != 0;
        boolean noopWithEmptyAxes = a.i("noop_with_empty_axes", 0) != 0;
        op =
            (x, buf) -> {
              long[] axes =
                  attrAxes != null ? attrAxes : x.length > 1 && x[1] != null ? x[1].longs() : null;
              if (axes != null && axes.length == 0) axes = null;
              if (axes == null && noopWithEmptyAxes) return one(x[0]);
              return one(Ops.reduceMean(x[0], axes, keepDims));
            };
      }
      case "Identity", "Dropout" -> {
        op = (x, buf) -> one(x[0]);
        out = out.subList(0, 1);
      }
      default ->
          throw new OnnxModelException(
              where + ": op " + type + " is not supported by the executor");
    }
    return new Step(where, type, in, out, op, null);
  }

  private static Step convStep(
      String where, String type, String input, List<String> outputs, ConvLayer layer) {
    ConvStep conv = new ConvStep(layer);
    return new Step(
        where, type, List.of(input), outputs, (x, buf) -> new Tensor[] {conv.run(x[0], buf)}, conv);
  }

  /**
   * A·B for a constant B of k x n on mec4j: A's rows are the pixels of a 1-pixel-high NHWC image of
   * k channels, B n 1x1 filters (ONNX Runtime's MLAS GEMM against mec4j's instead of a Java loop).
   */
  private static Tensor matMulOnConv(ConvStep conv, Tensor a, int k, int n, Buffers buffers) {
    if (a.rank() < 2 || a.shape[a.rank() - 1] != k)
      throw new IllegalArgumentException("MatMul of " + a + " and a constant of " + k + " x " + n);
    Tensor rowMajor = a.standard();
    int rows = a.size() / k;
    if (rows == 0) return Ops.matMul(a, Tensor.of(new float[k * n], k, n));
    float[] y = conv.run(Tensor.channelsLast(Ops.floats(rowMajor, "A"), 1, k, 1, rows), buffers).f;
    int[] shape = a.shape.clone();
    shape[shape.length - 1] = n;
    return new Tensor(y, shape, Tensor.standardStrides(shape));
  }

  private static Tensor[] one(Tensor t) {
    return new Tensor[] {t};
  }

  private static long[] longs(Tensor[] x, int i, String name) {
    if (x.length <= i || x[i] == null)
      throw new IllegalArgumentException("input " + name + " is missing");
    if (x[i].type() != Tensor.Type.INT64)
      throw new IllegalArgumentException(name + " must be int64, got " + x[i]);
    return x[i].longs();
  }

  private static float scalar(Tensor[] x, int i, float dflt) {
    if (x.length <= i || x[i] == null) return dflt;
    if (x[i].size() != 1)
      throw new IllegalArgumentException("input " + i + " must be a scalar, got " + x[i]);
    return x[i].type() == Tensor.Type.FLOAT ? x[i].f[0] : x[i].l[0];
  }

  /** Clip's bounds if known at load: attributes (before opset 11) or constant inputs; else null. */
  private float[] clipAttributes(
      NodeProto n, Attributes a, Map<String, Tensor> consts, String where) {
    if (opset < 11) return new float[] {a.f("min", -Float.MAX_VALUE), a.f("max", Float.MAX_VALUE)};
    float[] b = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
    for (int i = 1; i < 3 && i < n.getInputCount(); i++) {
      String name = n.getInput(i);
      if (name.isEmpty()) continue;
      Tensor t = consts.get(name);
      if (t == null) return null;
      if (t.size() != 1)
        throw new OnnxModelException(where + ": bound '" + name + "' is not a scalar");
      b[i - 1] = t.type() == Tensor.Type.FLOAT ? t.f[0] : t.l[0];
    }
    return b;
  }

  private static Tensor constant(Attributes a, String where) {
    if (a.has("value")) return TensorProtos.decode(a.get("value").getT(), where);
    if (a.has("value_float")) return Tensor.of(new float[] {a.f("value_float", 0)});
    if (a.has("value_floats")) {
      List<Float> v = a.get("value_floats").getFloatsList();
      float[] f = new float[v.size()];
      for (int i = 0; i < f.length; i++) f[i] = v.get(i);
      return Tensor.of(f, f.length);
    }
    if (a.has("value_int")) return Tensor.ofLongs(new long[] {a.i("value_int", 0)});
    if (a.has("value_ints")) {
      long[] v = a.ints("value_ints");
      return Tensor.ofLongs(v, v.length);
    }
    throw new OnnxModelException(where + ": a Constant without a value this executor reads");
  }

  private static Tensor squeeze(Tensor x, long[] axes) {
    int r = x.rank();
    boolean[] drop = new boolean[r];
    if (axes == null) for (int d = 0; d < r; d++) drop[d] = x.shape[d] == 1;
    else
      for (long ax : axes) {
        int d = (int) (ax < 0 ? ax + r : ax);
        if (d < 0 || d >= r || x.shape[d] != 1)
          throw new IllegalArgumentException("cannot squeeze axis " + ax + " of " + x);
        drop[d] = true;
      }
    int[] s = new int[r];
    int k = 0;
    for (int d = 0; d < r; d++) if (!drop[d]) s[k++] = x.shape[d];
    return x.reshape(Arrays.copyOf(s, k));
  }

  private static Tensor unsqueeze(Tensor x, long[] axes) {
    if (axes == null) throw new IllegalArgumentException("Unsqueeze needs axes");
    int r = x.rank() + axes.length;
    boolean[] add = new boolean[r];
    for (long ax : axes) {
      int d = (int) (ax < 0 ? ax + r : ax);
      if (d < 0 || d >= r || add[d])
        throw new IllegalArgumentException("axes " + Arrays.toString(axes));
      add[d] = true;
    }
    int[] s = new int[r];
    int k = 0;
    for (int d = 0; d < r; d++) s[d] = add[d] ? 1 : x.shape[k++];
    return x.reshape(s);
  }
}
