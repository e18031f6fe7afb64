package org.mec4j;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mec4j.internal.MecNative;

/**
 * An immutable description of a 2-D convolution layer: sizes, strides, zero padding.
 *
 * <p>Layouts, all row-major fp32: input NHWC (batch x height x width x channels), kernel HWIO (k_h
 * x k_w x i_c x k_c), output NHWC, bias k_c. Every size is checked when the spec is built; element
 * counts and workspace sizes are 64-bit and overflow-checked.
 *
 * <p>Grouped convolutions ({@link Builder#groups}): group j reads input channels [j·i_c/g,
 * (j+1)·i_c/g) and writes output channels [j·k_c/g, (j+1)·k_c/g), as in oneDNN and PyTorch; the
 * kernel is g x k_h x k_w x (i_c/g) x (k_c/g), each group's HWIO kernel in turn ({@link
 * #kernelFromPyTorch} converts PyTorch's weight). g = i_c is a depthwise convolution. Dilation
 * ({@link Builder#dilation}) spaces the kernel taps d apart (1 = none). Padding may be any size
 * &gt;= 0: outputs that see only padding get the bias.
 *
 * <pre>{@code
 * Conv2d spec = Conv2d.builder().batch(32).input(227, 227, 3).kernel(11, 11)
 *     .outputChannels(96).stride(4, 4).padding(0, 0, 0, 0).build();
 * }</pre>
 */
public final class Conv2d {
  private final long batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels;
  private final long strideHeight, strideWidth, padTop, padBottom, padLeft, padRight;
  private final long groups, dilationHeight, dilationWidth;
  private final long mecThreshold;

  /**
   * A {@link Builder#mecWorkspaceLimit} that caps nothing: MEC's whole lowering, as the paper
   * describes it (and every MEC variant to choose from).
   */
  public static final long NO_WORKSPACE_LIMIT = Long.MAX_VALUE;

  private final long mecWorkspaceLimit;
  private final Activation activation;
  private final Layout layout;
  private final long outHeight, outWidth;
  private final long inputSize, kernelSize, outputSize;

  private Conv2d(Builder b) {
    batch = positive("batch", b.batch);
    inHeight = positive("inputHeight", b.inHeight);
    inWidth = positive("inputWidth", b.inWidth);
    inChannels = positive("inputChannels", b.inChannels);
    kernelHeight = positive("kernelHeight", b.kernelHeight);
    kernelWidth = positive("kernelWidth", b.kernelWidth);
    outChannels = positive("outputChannels", b.outChannels);
    strideHeight = positive("strideHeight", b.strideHeight);
    strideWidth = positive("strideWidth", b.strideWidth);
    padTop = nonNegative("padTop", b.padTop);
    padBottom = nonNegative("padBottom", b.padBottom);
    padLeft = nonNegative("padLeft", b.padLeft);
    padRight = nonNegative("padRight", b.padRight);
    groups = positive("groups", b.groups);
    if (inChannels % groups != 0)
      throw new IllegalArgumentException(
          "groups " + groups + " must divide inputChannels " + inChannels);
    if (outChannels % groups != 0)
      throw new IllegalArgumentException(
          "groups " + groups + " must divide outputChannels " + outChannels);
    dilationHeight = positive("dilationHeight", b.dilationHeight);
    dilationWidth = positive("dilationWidth", b.dilationWidth);
    if (b.mecThreshold < 0)
      throw new IllegalArgumentException(
          "mecThreshold must be >= 0 (0 = default), got " + b.mecThreshold);
    mecThreshold = b.mecThreshold;
    activation = Objects.requireNonNull(b.activation, "activation");
    layout = Objects.requireNonNull(b.layout, "layout");
    long paddedHeight =
        exactAdd("padded input height", inHeight, exactAdd("padding", padTop, padBottom));
    long paddedWidth =
        exactAdd("padded input width", inWidth, exactAdd("padding", padLeft, padRight));
    long extentHeight =
        exactAdd(
            "dilated kernel height",
            product("dilated kernel height", kernelHeight - 1, dilationHeight),
            1);
    long extentWidth =
        exactAdd(
            "dilated kernel width",
            product("dilated kernel width", kernelWidth - 1, dilationWidth),
            1);
    if (extentHeight > paddedHeight)
      throw new IllegalArgumentException(
          "kernelHeight "
              + kernelHeight
              + (dilationHeight > 1
                  ? " dilated by " + dilationHeight + " (" + extentHeight + " rows)"
                  : "")
              + " exceeds the padded input height "
              + paddedHeight
              + ": no output row");
    if (extentWidth > paddedWidth)
      throw new IllegalArgumentException(
          "kernelWidth "
              + kernelWidth
              + (dilationWidth > 1
                  ? " dilated by " + dilationWidth + " (" + extentWidth + " columns)"
                  : "")
              + " exceeds the padded input width "
              + paddedWidth
              + ": no output column");
    outHeight = (paddedHeight - extentHeight) / strideHeight + 1;
    outWidth = (paddedWidth - extentWidth) / strideWidth + 1;
    inputSize = product("input", batch, inHeight, inWidth, inChannels);
    kernelSize = product("kernel", kernelHeight, kernelWidth, inChannels / groups, outChannels);
    outputSize = product("output", batch, outHeight, outWidth, outChannels);
    // The largest workspaces (MEC and im2col), in bytes, must be representable too.
    product(
        "MEC workspace bytes", batch, outWidth, paddedHeight, kernelWidth, inChannels, Float.BYTES);
    product(
        "im2col workspace bytes",
        batch,
        outHeight,
        outWidth,
        kernelHeight,
        kernelWidth,
        inChannels,
        Float.BYTES);
    if (b.mecWorkspaceLimit < 0)
      throw new IllegalArgumentException(
          "mecWorkspaceLimit must be >= 0 (0 = the default, sized from the cache), got "
              + b.mecWorkspaceLimit);
    mecWorkspaceLimit = b.mecWorkspaceLimit;
    if (mecWorkspaceLimit > 0) { // only then the native library is needed
      long smallestTile = minimumMecWorkspaceLimit();
      if (mecWorkspaceLimit < smallestTile)
        throw new IllegalArgumentException(
            "mecWorkspaceLimit "
                + mecWorkspaceLimit
                + " is below MEC's smallest tile"
                + " (one output column of one image, or one output row band): "
                + smallestTile
                + " bytes");
    }
  }

  /**
   * The smallest {@link Builder#mecWorkspaceLimit} this layer accepts, MEC's smallest tile, from
   * the native library's own query: one output row band of one image, or, if smaller and the layer
   * has neither groups nor dilation across rows, one output column of one image.
   */
  public long minimumMecWorkspaceLimit() {
    long[] bytes = new long[1];
    try (MecNative.Conv2dStruct s = toNative()) {
      Native.check(
          MecNative.mec4j_min_workspace_limit(s, bytes),
          "smallest MEC workspace limit for " + this);
    }
    return bytes[0];
  }

  private static long positive(String name, long v) {
    if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
    return v;
  }

  private static long nonNegative(String name, long v) {
    if (v < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + v);
    return v;
  }

  private static long exactAdd(String what, long a, long b) {
    try {
      return Math.addExact(a, b);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(what + " overflows 64 bits: " + a + " + " + b);
    }
  }

  private static long product(String what, long... factors) {
    long p = 1;
    try {
      for (long f : factors) p = Math.multiplyExact(p, f);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          what + " overflows 64 bits: " + java.util.Arrays.toString(factors));
    }
    return p;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder initialised with this spec's values. */
  public Builder toBuilder() {
    return new Builder()
        .batch(batch)
        .input(inHeight, inWidth, inChannels)
        .kernel(kernelHeight, kernelWidth)
        .outputChannels(outChannels)
        .stride(strideHeight, strideWidth)
        .padding(padTop, padBottom, padLeft, padRight)
        .groups(groups)
        .dilation(dilationHeight, dilationWidth)
        .mecThreshold(mecThreshold)
        .mecWorkspaceLimit(mecWorkspaceLimit)
        .activation(activation)
        .layout(layout);
  }

  public long batch() {
    return batch;
  }

  public long inputHeight() {
    return inHeight;
  }

  public long inputWidth() {
    return inWidth;
  }

  public long inputChannels() {
    return inChannels;
  }

  public long kernelHeight() {
    return kernelHeight;
  }

  public long kernelWidth() {
    return kernelWidth;
  }

  public long outputChannels() {
    return outChannels;
  }

  public long strideHeight() {
    return strideHeight;
  }

  public long strideWidth() {
    return strideWidth;
  }

  public long padTop() {
    return padTop;
  }

  public long padBottom() {
    return padBottom;
  }

  public long padLeft() {
    return padLeft;
  }

  public long padRight() {
    return padRight;
  }

  /** Groups (1 = an ordinary convolution; = inputChannels: depthwise). */
  public long groups() {
    return groups;
  }

  public long dilationHeight() {
    return dilationHeight;
  }

  public long dilationWidth() {
    return dilationWidth;
  }

  /** The tensors' layout ({@link Layout#NHWC} unless asked for). */
  public Layout layout() {
    return layout;
  }

  /** The activation fused into the forward pass ({@link Activation#NONE} if none). */
  public Activation activation() {
    return activation;
  }

  /** Whether each input channel has its own filters (groups = inputChannels). */
  public boolean isDepthwise() {
    return groups > 1 && groups == inChannels;
  }

  /** T of the MEC A/B rule; 0 means the library default. */
  public long mecThreshold() {
    return mecThreshold;
  }

  /** MEC's workspace cap in bytes; 0 means none. */
  public long mecWorkspaceLimit() {
    return mecWorkspaceLimit;
  }

  public long outputHeight() {
    return outHeight;
  }

  public long outputWidth() {
    return outWidth;
  }

  /** Floats in the NHWC input. */
  public long inputSize() {
    return inputSize;
  }

  /** Floats in the kernel: k_h·k_w·(i_c/g)·k_c (HWIO, per group). */
  public long kernelSize() {
    return kernelSize;
  }

  /** Floats in the NHWC output. */
  public long outputSize() {
    return outputSize;
  }

  /** Floats in the bias: one per output channel. */
  public long biasSize() {
    return outChannels;
  }

  /** 2·i_n·o_h·o_w·k_c·k_h·k_w·i_c/g: the multiply-adds of the layer, counted as two flops each. */
  public double flops() {
    return 2.0
        * batch
        * outHeight
        * outWidth
        * outChannels
        * kernelHeight
        * kernelWidth
        * (inChannels / groups);
  }

  /**
   * This layer's kernel from a PyTorch {@code Conv2d.weight} (k_c x i_c/g x k_h x k_w, row-major):
   * element (o, c, r, q) goes to mec4j's (group o / (k_c/g), r, q, c, o % (k_c/g)). An {@link
   * Layout#NCHW} layer's kernel is that weight itself (a copy is returned).
   *
   * @throws IllegalArgumentException if the array does not hold {@link #kernelSize()} floats
   */
  public float[] kernelFromPyTorch(float[] weight) {
    Objects.requireNonNull(weight, "weight");
    if (weight.length != kernelSize)
      throw new IllegalArgumentException(
          "weight has " + weight.length + " floats, the kernel needs " + kernelSize);
    if (layout == Layout.NCHW) return weight.clone();
    int kcg = (int) (outChannels / groups),
        icg = (int) (inChannels / groups),
        kh = (int) kernelHeight,
        kw = (int) kernelWidth;
    float[] kernel = new float[weight.length];
    for (int o = 0; o < outChannels; o++) {
      int group = o / kcg, j = o % kcg;
      for (int c = 0; c < icg; c++)
        for (int r = 0; r < kh; r++)
          for (int q = 0; q < kw; q++)
            kernel[(((group * kh + r) * kw + q) * icg + c) * kcg + j] =
                weight[((o * icg + c) * kh + r) * kw + q];
    }
    return kernel;
  }

  /**
   * Scratch bytes the algorithm needs for the forward pass, from the native library's own query.
   */
  public long workspaceBytes(Algorithm algorithm) {
    return workspaceBytes(algorithm, Direction.FORWARD);
  }

  /**
   * Scratch bytes the algorithm needs for one pass. MEC's backward passes need one image's
   * lowering, o_w·i_h·k_w·i_c floats (i_h padded; a row band's under a workspace limit): at most
   * the forward's.
   *
   * @throws IllegalArgumentException if the algorithm does not run that pass on this layer
   */
  public long workspaceBytes(Algorithm algorithm, Direction direction) {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(direction, "direction");
    long[] bytes = new long[1];
    try (MecNative.Conv2dStruct s = toNative()) {
      Native.check(
          MecNative.mec4j_workspace_size_for(s, algorithm.code, direction.code, bytes),
          "algorithm "
              + algorithm
              + (direction == Direction.FORWARD ? "" : ", " + direction)
              + " for "
              + this);
    }
    return bytes[0];
  }

  /**
   * Whether the algorithm runs this pass on this layer (else workspaceBytes and the pass throw).
   */
  public boolean supports(Algorithm algorithm, Direction direction) {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(direction, "direction");
    long[] bytes = new long[1];
    try (MecNative.Conv2dStruct s = toNative()) {
      return MecNative.mec4j_workspace_size_for(s, algorithm.code, direction.code, bytes)
          == Native.OK;
    }
  }

  /**
   * The algorithm that really runs: {@link Algorithm#MEC} resolves to MEC_A, MEC_B, MEC_ROWS or
   * MEC_FUSED (see {@link #resolution} for whether that choice was measured).
   */
  public Algorithm resolve(Algorithm algorithm) {
    return resolution(algorithm).algorithm();
  }

  /**
   * What runs for this layer and how it was chosen. Under {@link Tuning#MEASURE} the automatic MEC
   * times its variants on a layer's first run and keeps the fastest: before that run (or under
   * {@link Tuning#HEURISTIC}) this reports the heuristic's choice, with {@code measured} false.
   */
  public Resolution resolution(Algorithm algorithm) {
    Objects.requireNonNull(algorithm, "algorithm");
    int[] resolved = new int[1], measured = new int[1];
    try (MecNative.Conv2dStruct s = toNative()) {
      Native.check(
          MecNative.mec4j_resolve_algorithm_ex(s, algorithm.code, resolved, measured),
          "algorithm " + algorithm + " for " + this);
    }
    return new Resolution(Algorithm.ofCode(resolved[0]), measured[0] != 0);
  }

  /**
   * What runs for one pass of this layer: for {@link Algorithm#MEC}, backward data runs DEPTHWISE,
   * MEC_FUSED (at stride 1, as a forward convolution of the output's gradient with the kernel
   * turned, where the padding adds few outputs and the layer has thousands of pixels) or MEC_ROWS,
   * backward weights DEPTHWISE, or MEC_FUSED (mec4j's micro-kernels) where MEC_ROWS's BLAS GEMMs
   * would be thin (k_w·i_c &lt; 256 with the AVX2 kernels, &lt; 768 with AVX-512's) or split per
   * group, else MEC_ROWS: a fixed rule.
   */
  public Resolution resolution(Algorithm algorithm, Direction direction) {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(direction, "direction");
    int[] resolved = new int[1], measured = new int[1];
    try (MecNative.Conv2dStruct s = toNative()) {
      Native.check(
          MecNative.mec4j_resolve_algorithm_for(
              s, algorithm.code, direction.code, resolved, measured),
          "algorithm " + algorithm + ", " + direction + " for " + this);
    }
    return new Resolution(Algorithm.ofCode(resolved[0]), measured[0] != 0);
  }

  /** The implementation that runs, and whether the automatic MEC measured it (else: heuristic). */
  public record Resolution(Algorithm algorithm, boolean measured) {
    @Override
    public String toString() {
      return algorithm + (measured ? " (measured)" : " (heuristic)");
    }
  }

  MecNative.Conv2dStruct toNative() {
    Native.ensureLoaded();
    return new MecNative.Conv2dStruct()
        .batch(batch)
        .in_height(inHeight)
        .in_width(inWidth)
        .in_channels(inChannels)
        .kernel_height(kernelHeight)
        .kernel_width(kernelWidth)
        .out_channels(outChannels)
        .stride_height(strideHeight)
        .stride_width(strideWidth)
        .pad_top(padTop)
        .pad_bottom(padBottom)
        .pad_left(padLeft)
        .pad_right(padRight)
        .groups(groups)
        .dilation_height(dilationHeight)
        .dilation_width(dilationWidth)
        .mec_threshold(mecThreshold)
        .mec_workspace_limit(mecWorkspaceLimit)
        .activation(activation.kind().code)
        .activation_min(activation.min())
        .activation_max(activation.max())
        .layout(layout.code);
  }

  private static final Pattern TERM =
      Pattern.compile("(mb|ih|iw|ic|oc|kh|kw|sh|sw|ph|pw|pt|pb|pl|pr|g|dh|dw)(\\d+)");

  /**
   * Parses a benchdnn-style shape such as {@code mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0}.
   * Omitted terms: mb 1, iw = ih, kw = kh, sh/sw 1, padding 0, g 1, no dilation; {@code ph}/{@code
   * pw} pad both sides, {@code pt pb pl pr} one side each. As in benchdnn, {@code dh}/{@code dw}
   * give the dilation minus one ({@code dh0} = none; dw = dh if omitted).
   */
  public static Conv2d parse(String shape) {
    Objects.requireNonNull(shape, "shape");
    String s = shape.trim().toLowerCase(java.util.Locale.ROOT);
    Matcher m = TERM.matcher(s);
    java.util.Map<String, Long> v = new java.util.HashMap<>();
    int end = 0;
    while (m.find()) {
      if (m.start() != end) break;
      try {
        if (v.put(m.group(1), Long.parseLong(m.group(2))) != null)
          throw new IllegalArgumentException(
              "shape '" + shape + "': '" + m.group(1) + "' given twice");
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "shape '" + shape + "': number too large at '" + m.group() + "'");
      }
      end = m.end();
    }
    if (end != s.length() || s.isEmpty())
      throw new IllegalArgumentException(
          "shape '"
              + shape
              + "': cannot parse from position "
              + end
              + " (expected terms like mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0)");
    for (String required : new String[] {"ih", "ic", "oc", "kh"})
      if (!v.containsKey(required))
        throw new IllegalArgumentException("shape '" + shape + "': '" + required + "' is required");
    long ph = v.getOrDefault("ph", 0L), pw = v.getOrDefault("pw", 0L);
    long dh = v.getOrDefault("dh", 0L), dw = v.getOrDefault("dw", dh);
    return builder()
        .batch(v.getOrDefault("mb", 1L))
        .groups(v.getOrDefault("g", 1L))
        .dilation(exactAdd("dilation", dh, 1), exactAdd("dilation", dw, 1))
        .input(v.get("ih"), v.getOrDefault("iw", v.get("ih")), v.get("ic"))
        .kernel(v.get("kh"), v.getOrDefault("kw", v.get("kh")))
        .outputChannels(v.get("oc"))
        .stride(v.getOrDefault("sh", 1L), v.getOrDefault("sw", 1L))
        .padding(
            v.getOrDefault("pt", ph),
            v.getOrDefault("pb", ph),
            v.getOrDefault("pl", pw),
            v.getOrDefault("pr", pw))
        .build();
  }

  /**
   * The benchdnn-style shape string, which {@link #parse} reads back, followed by {@code " nchw"}
   * for that layout and by the activation if there is one (e.g. {@code " relu"}; parse reads
   * neither).
   */
  @Override
  public String toString() {
    return "mb"
        + batch
        + "ih"
        + inHeight
        + "iw"
        + inWidth
        + "ic"
        + inChannels
        + "oc"
        + outChannels
        + "kh"
        + kernelHeight
        + "kw"
        + kernelWidth
        + "sh"
        + strideHeight
        + "sw"
        + strideWidth
        + "pt"
        + padTop
        + "pb"
        + padBottom
        + "pl"
        + padLeft
        + "pr"
        + padRight
        + (groups > 1 ? "g" + groups : "")
        + (dilationHeight > 1 || dilationWidth > 1
            ? "dh" + (dilationHeight - 1) + "dw" + (dilationWidth - 1)
            : "")
        + (layout == Layout.NHWC ? "" : " nchw")
        + (activation.kind() == Activation.Kind.NONE ? "" : " " + activation);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Conv2d)) return false;
    Conv2d c = (Conv2d) o;
    return toString().equals(c.toString())
        && mecThreshold == c.mecThreshold
        && mecWorkspaceLimit == c.mecWorkspaceLimit;
  }

  @Override
  public int hashCode() {
    return (toString().hashCode() * 31 + Long.hashCode(mecThreshold)) * 31
        + Long.hashCode(mecWorkspaceLimit);
  }

  /** Builds a {@link Conv2d}. Defaults: batch 1, stride 1x1, no padding, default MEC threshold. */
  public static final class Builder {
    private long batch = 1, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels;
    private long strideHeight = 1,
        strideWidth = 1,
        padTop,
        padBottom,
        padLeft,
        padRight,
        mecThreshold;
    private long mecWorkspaceLimit;
    private long groups = 1, dilationHeight = 1, dilationWidth = 1;
    private Activation activation = Activation.NONE;
    private Layout layout = Layout.NHWC;

    private Builder() {}

    public Builder batch(long n) {
      batch = n;
      return this;
    }

    /** Input height, width and channels (NHWC). */
    public Builder input(long height, long width, long channels) {
      inHeight = height;
      inWidth = width;
      inChannels = channels;
      return this;
    }

    /** Kernel height and width; the kernel is HWIO: k_h x k_w x i_c x k_c. */
    public Builder kernel(long height, long width) {
      kernelHeight = height;
      kernelWidth = width;
      return this;
    }

    public Builder outputChannels(long k) {
      outChannels = k;
      return this;
    }

    public Builder stride(long height, long width) {
      strideHeight = height;
      strideWidth = width;
      return this;
    }

    /**
     * Groups: g divides the input and output channels; g = inputChannels is depthwise. The kernel
     * is then g x k_h x k_w x (i_c/g) x (k_c/g). Default 1.
     */
    public Builder groups(long g) {
      groups = g;
      return this;
    }

    /** Dilation of the kernel taps down and across (1 = none, as in PyTorch). Default 1, 1. */
    public Builder dilation(long height, long width) {
      dilationHeight = height;
      dilationWidth = width;
      return this;
    }

    /** Zero padding on each side (any size &gt;= 0): top, bottom, left, right. */
    public Builder padding(long top, long bottom, long left, long right) {
      padTop = top;
      padBottom = bottom;
      padLeft = left;
      padRight = right;
      return this;
    }

    /** T of the MEC rule "Solution A when o_w &lt;= T and |O| &lt;= |L|"; 0 = library default. */
    public Builder mecThreshold(long t) {
      mecThreshold = t;
      return this;
    }

    /**
     * Caps MEC's workspace at {@code bytes}: MEC then runs on tiles, so that {@link
     * Conv2d#workspaceBytes} never exceeds the cap: groups of images; when one image does not fit,
     * bands of output rows (same GEMM shapes, fewer rows); when not even one output row fits,
     * groups of output columns (Solution B). {@link Conv2d#minimumMecWorkspaceLimit} is the
     * smallest cap a layer accepts. Other algorithms ignore it.
     *
     * <p>0, the default, sizes MEC's and MEC_FUSED's workspace from the CPU's cache: at most twice
     * the L2 per hardware thread (or one band of output rows where that is larger), whatever the
     * batch; MEC_A, MEC_B and MEC_ROWS, when asked for by name, take their whole lowering. {@link
     * #NO_WORKSPACE_LIMIT} gives every MEC variant the whole lowering (and lets MEC choose among
     * all of them).
     */
    public Builder mecWorkspaceLimit(long bytes) {
      mecWorkspaceLimit = bytes;
      return this;
    }

    /**
     * An activation applied to every output of the forward pass as it is stored ({@link
     * Activation#RELU}, {@link Activation#clamp}, ...). Default {@link Activation#NONE}. A layer
     * with one has no backward passes (see {@link Activation}).
     */
    public Builder activation(Activation a) {
      activation = Objects.requireNonNull(a, "activation");
      return this;
    }

    /**
     * The tensors' layout: {@link Layout#NHWC} (the default) or {@link Layout#NCHW} (input and
     * output NCHW, kernel OIHW; forward passes of MEC, MEC_FUSED and REFERENCE with the default
     * workspace, see {@link Layout}).
     */
    public Builder layout(Layout l) {
      layout = Objects.requireNonNull(l, "layout");
      return this;
    }

    /**
     * @throws IllegalArgumentException naming the first invalid parameter and its value
     */
    public Conv2d build() {
      return new Conv2d(this);
    }
  }
}
