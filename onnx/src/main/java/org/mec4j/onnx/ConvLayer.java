package org.mec4j.onnx;

import java.util.Arrays;
import org.mec4j.Conv2d;
import org.mec4j.onnx.proto.Onnx.NodeProto;

/**
 * An ONNX Conv or ConvTranspose node as a mec4j layer: its attributes mapped onto {@link Conv2d}
 * (ONNX's pads are [top, left, bottom, right], mec4j's builder takes top, bottom, left, right;
 * auto_pad SAME_UPPER/SAME_LOWER/VALID resolved against the input size), its OIHW weights and its
 * bias.
 *
 * <p>A ConvTranspose is the backward-data pass of the convolution it transposes: that forward
 * convolution has the ConvTranspose's output as its input, its input as its output and the same
 * weights, whose ONNX layout (C_in x C_out/group x k_h x k_w) is that convolution's OIHW. Its
 * output_padding (less than the stride) only adds rows and columns that no input reaches; they get
 * the bias alone, as in ONNX. output_shape and auto_pad SAME_* are refused on ConvTranspose.
 */
public final class ConvLayer {
  /** ONNX's auto_pad. */
  public enum AutoPad {
    NOTSET,
    SAME_UPPER,
    SAME_LOWER,
    VALID
  }

  private final String node;
  private final boolean transposed;
  private final int kernelHeight, kernelWidth, strideHeight, strideWidth;
  private final int dilationHeight, dilationWidth, group;
  private final int[] pads; // ONNX order: top, left, bottom, right
  private final AutoPad autoPad;
  private final int outputPaddingHeight, outputPaddingWidth;
  private final long[] weightDims; // as stored: OIHW (Conv), IOHW per group (ConvTranspose)
  private final float[] weights;
  private final float[] bias; // null: none

  private ConvLayer(
      String node,
      boolean transposed,
      long[] weightDims,
      float[] weights,
      float[] bias,
      int[] strides,
      int[] dilations,
      int[] pads,
      AutoPad autoPad,
      int group,
      int[] outputPadding) {
    this.node = node;
    this.transposed = transposed;
    this.weightDims = weightDims;
    this.weights = weights;
    this.bias = bias;
    this.kernelHeight = (int) weightDims[2];
    this.kernelWidth = (int) weightDims[3];
    this.strideHeight = strides[0];
    this.strideWidth = strides[1];
    this.dilationHeight = dilations[0];
    this.dilationWidth = dilations[1];
    this.pads = pads;
    this.autoPad = autoPad;
    this.group = group;
    this.outputPaddingHeight = outputPadding[0];
    this.outputPaddingWidth = outputPadding[1];
  }

  /**
   * The layer of a Conv or ConvTranspose node.
   *
   * @param where the node as error messages name it
   * @param weights the node's second input (a constant)
   * @param bias its third input, or null
   * @throws OnnxModelException naming the node if an attribute or the weights do not fit
   */
  static ConvLayer of(NodeProto n, String where, Tensor weights, Tensor bias) {
    boolean transposed = n.getOpType().equals("ConvTranspose");
    Attributes a = new Attributes(n, where);
    if (weights.type() != Tensor.Type.FLOAT)
      throw new OnnxModelException(where + ": the weights are not float");
    long[] dims = weights.shape();
    if (dims.length != 4)
      throw new OnnxModelException(
          where
              + ": weights of shape "
              + Arrays.toString(dims)
              + "; only 2-D convolutions (4-D weights) are supported");
    for (long d : dims)
      if (d <= 0)
        throw new OnnxModelException(where + ": weights of shape " + Arrays.toString(dims));
    long[] kernelShape = a.ints("kernel_shape", 2, dims[2], dims[3]);
    if (kernelShape[0] != dims[2] || kernelShape[1] != dims[3])
      throw new OnnxModelException(
          where
              + ": kernel_shape "
              + Arrays.toString(kernelShape)
              + " does not match the weights' shape "
              + Arrays.toString(dims));
    int group = positive(a.i("group", 1), "group", where);
    int[] strides = positive(a.ints("strides", 2, 1, 1), "strides", where);
    int[] dilations = positive(a.ints("dilations", 2, 1, 1), "dilations", where);
    long[] p = a.ints("pads", 4, 0, 0, 0, 0);
    int[] pads = new int[4];
    for (int i = 0; i < 4; i++) {
      if (p[i] < 0 || p[i] > Integer.MAX_VALUE)
        throw new OnnxModelException(where + ": pads " + Arrays.toString(p) + " (negative pads)");
      pads[i] = (int) p[i];
    }
    AutoPad autoPad;
    String ap = a.s("auto_pad", "NOTSET");
    try {
      autoPad = AutoPad.valueOf(ap);
    } catch (IllegalArgumentException e) {
      throw new OnnxModelException(where + ": auto_pad '" + ap + "' is not an ONNX value");
    }
    if (autoPad != AutoPad.NOTSET && a.has("pads") && Arrays.stream(pads).anyMatch(v -> v != 0))
      throw new OnnxModelException(where + ": both auto_pad " + ap + " and pads are given");
    int[] outputPadding = {0, 0};
    long outChannels;
    if (transposed) {
      if (a.has("output_shape"))
        throw new OnnxModelException(
            where + ": ConvTranspose's output_shape is not supported (give pads instead)");
      if (autoPad == AutoPad.SAME_UPPER || autoPad == AutoPad.SAME_LOWER)
        throw new OnnxModelException(
            where
                + ": ConvTranspose with auto_pad "
                + ap
                + " is not supported (give pads instead)");
      long[] op = a.ints("output_padding", 2, 0, 0);
      for (int i = 0; i < 2; i++) {
        if (op[i] < 0 || op[i] >= Math.max(strides[i], dilations[i]))
          throw new OnnxModelException(
              where
                  + ": output_padding "
                  + Arrays.toString(op)
                  + " must be non-negative and less than the stride or the dilation");
        outputPadding[i] = (int) op[i];
      }
      if (dims[0] % group != 0)
        throw new OnnxModelException(
            where + ": " + dims[0] + " input channels are not divisible by group " + group);
      outChannels = dims[1] * group;
    } else {
      if (dims[0] % group != 0)
        throw new OnnxModelException(
            where + ": " + dims[0] + " output channels are not divisible by group " + group);
      outChannels = dims[0];
    }
    float[] b = null;
    if (bias != null) {
      if (bias.type() != Tensor.Type.FLOAT || bias.size() != outChannels)
        throw new OnnxModelException(
            where
                + ": bias "
                + bias
                + " does not have one float per output channel ("
                + outChannels
                + ")");
      b = bias.floats();
    }
    return new ConvLayer(
        where,
        transposed,
        dims,
        weights.floats(),
        b,
        strides,
        dilations,
        pads,
        autoPad,
        group,
        outputPadding);
  }

  /**
   * The constant B (k x n, row-major) of a MatMul as n 1x1 filters over k channels: A·B is this
   * convolution over A's rows taken as pixels.
   */
  static ConvLayer ofMatMulWeights(String where, Tensor b) {
    int k = b.shape[0], n = b.shape[1];
    float[] rowMajor = b.floats(), w = new float[n * k];
    for (int o = 0; o < n; o++) for (int i = 0; i < k; i++) w[o * k + i] = rowMajor[i * n + o];
    return new ConvLayer(
        where,
        false,
        new long[] {n, k, 1, 1},
        w,
        null,
        new int[] {1, 1},
        new int[] {1, 1},
        new int[4],
        AutoPad.NOTSET,
        1,
        new int[] {0, 0});
  }

  /**
   * This layer with each output channel's weights multiplied by scale[o] and the bias replaced: a
   * per-channel affine op on its output (a BatchNormalization) folded in at load.
   */
  ConvLayer scaled(float[] scale, float[] newBias) {
    float[] w = weights.clone();
    int kernel = kernelHeight * kernelWidth;
    // Runs of one kernel's weights, output channel by output channel: OIHW for Conv, IOHW per
    // group for ConvTranspose (the group's output channels repeat for each of its input channels).
    int outPerGroup = (int) outputChannels() / group, inPerGroup = (int) inputChannels() / group;
    for (int run = 0; run < w.length / kernel; run++) {
      int o =
          transposed
              ? run / (inPerGroup * outPerGroup) * outPerGroup + run % outPerGroup
              : run / inPerGroup;
      for (int i = run * kernel; i < (run + 1) * kernel; i++) w[i] *= scale[o];
    }
    return new ConvLayer(
        node,
        transposed,
        weightDims,
        w,
        newBias,
        new int[] {strideHeight, strideWidth},
        new int[] {dilationHeight, dilationWidth},
        pads,
        autoPad,
        group,
        new int[] {outputPaddingHeight, outputPaddingWidth});
  }

  private static int positive(long v, String name, String where) {
    if (v < 1 || v > Integer.MAX_VALUE)
      throw new OnnxModelException(where + ": " + name + " " + v + " must be positive");
    return (int) v;
  }

  private static int[] positive(long[] v, String name, String where) {
    int[] r = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      if (v[i] < 1 || v[i] > Integer.MAX_VALUE)
        throw new OnnxModelException(
            where + ": " + name + " " + Arrays.toString(v) + " must be positive");
      r[i] = (int) v[i];
    }
    return r;
  }

  /** The node, as error messages name it. */
  public String node() {
    return node;
  }

  public boolean isTransposed() {
    return transposed;
  }

  public int group() {
    return group;
  }

  public AutoPad autoPad() {
    return autoPad;
  }

  /** The weights as the model stores them (OIHW for Conv; C_in x C_out/group x k_h x k_w). */
  public float[] weights() {
    return weights;
  }

  public long[] weightShape() {
    return weightDims.clone();
  }

  /** One float per output channel, or null. */
  public float[] bias() {
    return bias;
  }

  /** Channels this node's input must have. */
  public long inputChannels() {
    return transposed ? weightDims[0] : weightDims[1] * group;
  }

  /** Channels of this node's output. */
  public long outputChannels() {
    return transposed ? weightDims[1] * group : weightDims[0];
  }

  /**
   * The mec4j layer for an NCHW input of n x c x h x w: for Conv the convolution itself, for
   * ConvTranspose the forward convolution whose backward-data pass it is (its input is this node's
   * output).
   *
   * @throws OnnxModelException naming the node if the input does not fit the weights
   */
  public Conv2d spec(long n, long c, long h, long w) {
    if (c != inputChannels())
      throw new OnnxModelException(
          node
              + ": the input has "
              + c
              + " channels, the weights "
              + Arrays.toString(weightDims)
              + " with group "
              + group
              + " expect "
              + inputChannels());
    try {
      if (!transposed) {
        int[] p = forwardPads(h, w);
        return Conv2d.builder()
            .batch(n)
            .input(h, w, c)
            .kernel(kernelHeight, kernelWidth)
            .outputChannels(weightDims[0])
            .stride(strideHeight, strideWidth)
            .dilation(dilationHeight, dilationWidth)
            .groups(group)
            .padding(p[0], p[2], p[1], p[3]) // mec4j: top, bottom, left, right
            .build();
      }
      long oh = transposedOutput(h, 0), ow = transposedOutput(w, 1);
      if (oh < 1 || ow < 1)
        throw new OnnxModelException(
            node + ": the output would be " + oh + " x " + ow + " (pads larger than the output)");
      Conv2d spec =
          Conv2d.builder()
              .batch(n)
              .input(oh, ow, outputChannels())
              .kernel(kernelHeight, kernelWidth)
              .outputChannels(c)
              .stride(strideHeight, strideWidth)
              .dilation(dilationHeight, dilationWidth)
              .groups(group)
              .padding(pads[0], pads[2], pads[1], pads[3])
              .build();
      if (spec.outputHeight() != h || spec.outputWidth() != w)
        throw new OnnxModelException(
            node
                + ": no convolution maps a "
                + oh
                + " x "
                + ow
                + " output back to "
                + h
                + " x "
                + w);
      return spec;
    } catch (OnnxModelException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new OnnxModelException(node + ": " + e.getMessage(), e);
    }
  }

  /** NCHW output shape for an NCHW input. */
  public long[] outputShape(long n, long c, long h, long w) {
    Conv2d s = spec(n, c, h, w);
    return transposed
        ? new long[] {n, outputChannels(), s.inputHeight(), s.inputWidth()}
        : new long[] {n, outputChannels(), s.outputHeight(), s.outputWidth()};
  }

  /** The weights in mec4j's layout (HWIO per group) for this layer's spec. */
  float[] kernel(Conv2d spec) {
    return spec.kernelFromPyTorch(weights);
  }

  private long transposedOutput(long in, int axis) {
    int s = axis == 0 ? strideHeight : strideWidth;
    int d = axis == 0 ? dilationHeight : dilationWidth;
    int k = axis == 0 ? kernelHeight : kernelWidth;
    int op = axis == 0 ? outputPaddingHeight : outputPaddingWidth;
    long padSum = autoPad == AutoPad.VALID ? 0 : pads[axis] + pads[axis + 2];
    return s * (in - 1) + op + (long) (k - 1) * d + 1 - padSum;
  }

  /** ONNX-ordered pads (top, left, bottom, right) of a Conv for this input size. */
  int[] forwardPads(long h, long w) {
    switch (autoPad) {
      case VALID:
        return new int[4];
      case SAME_UPPER:
      case SAME_LOWER:
        {
          int[] p = new int[4];
          long[] in = {h, w};
          int[] s = {strideHeight, strideWidth}, k = {kernelHeight, kernelWidth};
          int[] d = {dilationHeight, dilationWidth};
          for (int i = 0; i < 2; i++) {
            long out = (in[i] + s[i] - 1) / s[i];
            long total = Math.max(0, (out - 1) * s[i] + (long) (k[i] - 1) * d[i] + 1 - in[i]);
            long small = total / 2, large = total - small;
            // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
            p[i] = (int) (autoPad == AutoPad.SAME_UPPER ? small : large);
            p[i + 2] = (int) (autoPad == AutoPad.SAME_UPPER ? large : small);
          }
          return p;
        }
      default:
        return pads.clone();
    }
  }

  @Override
  public String toString() {
    return node
        + " weights "
        + Arrays.toString(weightDims)
        + " strides "
        + strideHeight
        + "x"
        + strideWidth
        + " pads "
        + Arrays.toString(pads)
        + " group "
        + group;
  }
}
