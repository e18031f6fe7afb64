package org.mec4j;

import java.nio.FloatBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.mec4j.internal.MecNative;

/**
 * A convolution layer ready to run: a {@link Conv2d}, an {@link Algorithm} and its workspace.
 *
 * <pre>{@code
 * try (Convolution conv = Convolution.create(spec, Algorithm.MEC)) {
 *   conv.forward(input, kernel, output);        // float[]: NHWC, HWIO, NHWC
 * }
 * }</pre>
 *
 * <p>Every argument is checked in Java before the single native call: null arrays or buffers throw
 * {@link NullPointerException}, buffers that are too small (or offsets past their end) throw {@link
 * IndexOutOfBoundsException}, unusable buffers (heap, read-only output, wrong byte order) and
 * outputs that overlap another argument throw {@link IllegalArgumentException}. On any exception
 * the outputs are left untouched.
 *
 * <p>Training: {@link #backwardData} and {@link #backwardWeights} give the gradients with respect
 * to the input and to the kernel and bias, for the algorithms that have backward passes ({@link
 * Direction}). They overwrite their outputs: to accumulate gradients over several mini-batches (as
 * frameworks do), add them to your running sums.
 *
 * <p>Not thread-safe: a Convolution owns one workspace. Calling {@code forward} from two threads at
 * once throws {@link IllegalStateException} instead of corrupting results; use one Convolution per
 * thread (they are cheap apart from the workspace).
 *
 * <p>float[] arrays are pinned for the duration of the call (a JNI critical region: no copy, but
 * the garbage collector may wait for the call). Direct buffers and FloatPointers are passed without
 * copy or pinning.
 */
public final class Convolution implements AutoCloseable {
  private final Conv2d spec;
  private final Algorithm algorithm;
  private long workspaceBytes;
  // Each pass's workspace, or -1 when the algorithm does not run it on this layer.
  private final long forwardBytes, backwardDataBytes, backwardWeightsBytes;
  private Workspace workspace; // an owned one grows on the first backward pass that needs more
  private final boolean ownsWorkspace;
  private final MecNative.Conv2dStruct nativeSpec;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile boolean closed;

  private Convolution(Conv2d spec, Algorithm algorithm, Workspace workspace, boolean owns) {
    this.spec = spec;
    this.algorithm = algorithm;
    // -1: the algorithm does not run that pass on this layer (MEC_ROWS runs grouped layers backward
    // only).
    this.forwardBytes =
        spec.supports(algorithm, Direction.FORWARD) ? spec.workspaceBytes(algorithm) : -1;
    this.backwardDataBytes =
        spec.supports(algorithm, Direction.BACKWARD_DATA)
            ? spec.workspaceBytes(algorithm, Direction.BACKWARD_DATA)
            : -1;
    this.backwardWeightsBytes =
        spec.supports(algorithm, Direction.BACKWARD_WEIGHTS)
            ? spec.workspaceBytes(algorithm, Direction.BACKWARD_WEIGHTS)
            : -1;
    if (forwardBytes < 0 && backwardDataBytes < 0 && backwardWeightsBytes < 0)
      spec.workspaceBytes(algorithm); // throws, with the native library's reason
    // An owned workspace starts at the forward's size (inference never needs more) and grows on
    // the first backward pass that needs more; a borrowed one is checked per pass.
    this.workspaceBytes =
        forwardBytes >= 0 || workspace != null
            ? Math.max(0, forwardBytes)
            : Math.max(backwardDataBytes, backwardWeightsBytes);
    this.nativeSpec = spec.toNative();
    this.ownsWorkspace = owns;
    if (workspace == null && workspaceBytes > 0) {
      try {
        workspace = Workspace.allocate(workspaceBytes);
      } catch (RuntimeException | Error e) {
        nativeSpec.close();
        throw e;
      }
    }
    this.workspace = workspace;
  }

  /**
   * A convolution that owns its workspace: {@code spec.workspaceBytes(algorithm)} for the forward
   * from the start; a backward pass that needs more ({@code spec.workspaceBytes(algorithm,
   * direction)}) grows it on its first call, before anything is written, and it keeps that size.
   *
   * @throws IllegalArgumentException if the algorithm cannot run this layer (e.g. MEC_A when the
   *     output is larger than MEC's lowered matrix, or a GEMM dimension beyond 2^31-1)
   * @throws OutOfMemoryError if the workspace cannot be allocated
   */
  public static Convolution create(Conv2d spec, Algorithm algorithm) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(algorithm, "algorithm");
    return new Convolution(spec, algorithm, null, true);
  }

  /**
   * A convolution that borrows the caller's workspace (not closed with the convolution). It must
   * fit the forward pass; a backward pass whose workspace it does not fit throws.
   *
   * @throws IllegalArgumentException if the workspace is smaller than the algorithm needs
   * @throws IllegalStateException if the workspace is closed
   */
  public static Convolution create(Conv2d spec, Algorithm algorithm, Workspace workspace) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(workspace, "workspace");
    if (workspace.isClosed()) throw new IllegalStateException("mec4j: the Workspace is closed");
    long need = spec.supports(algorithm, Direction.FORWARD) ? spec.workspaceBytes(algorithm) : 0;
    if (workspace.bytes() < need)
      throw new IllegalArgumentException(
          "workspace has "
              + workspace.bytes()
              + " bytes, "
              + algorithm
              + " on "
              + spec
              + " needs "
              + need);
    return new Convolution(spec, algorithm, workspace, false);
  }

  public Conv2d spec() {
    return spec;
  }

  /** The algorithm asked for. */
  public Algorithm algorithm() {
    return algorithm;
  }

  /**
   * The algorithm that runs: {@link Algorithm#MEC} resolved to one of its variants (the measured
   * one after the first run under {@link Tuning#MEASURE}, see {@link Conv2d#resolution}).
   */
  public Algorithm resolvedAlgorithm() {
    return spec.resolve(algorithm);
  }

  /**
   * Bytes of workspace this convolution holds now: the forward's, or, once a backward pass that
   * needs more has run, that pass's (borrowing a workspace: the forward's).
   */
  public long workspaceBytes() {
    return workspaceBytes;
  }

  public boolean isClosed() {
    return closed;
  }

  /** output = conv(input, kernel), whole arrays from index 0. */
  public void forward(float[] input, float[] kernel, float[] output) {
    forward(input, 0, kernel, 0, null, 0, output, 0);
  }

  /** output = conv(input, kernel) + bias; bias may be null (no bias), as in every forward form. */
  public void forward(float[] input, float[] kernel, float[] bias, float[] output) {
    forward(input, 0, kernel, 0, bias, 0, output, 0);
  }

  /**
   * output[outputOffset..] = conv(input[inputOffset..], kernel[kernelOffset..]) +
   * bias[biasOffset..]; bias may be null (no bias).
   */
  public void forward(
      float[] input,
      int inputOffset,
      float[] kernel,
      int kernelOffset,
      float[] bias,
      int biasOffset,
      float[] output,
      int outputOffset) {
    checkForward(input, inputOffset, kernel, kernelOffset, bias, biasOffset, output, outputOffset);
    run(
        ws ->
            MecNative.mec4j_forward_at(
                nativeSpec,
                algorithm.code,
                input,
                inputOffset,
                kernel,
                kernelOffset,
                bias,
                biasOffset,
                output,
                outputOffset,
                ws,
                workspaceBytes));
  }

  /**
   * A forward's arrays from their offsets, or buffers or pointers from their positions (offsets 0).
   */
  private void checkForward(
      Object input,
      int inputOffset,
      Object kernel,
      int kernelOffset,
      Object bias,
      int biasOffset,
      Object output,
      int outputOffset) {
    new Arguments()
        .in("input", input, inputOffset, spec.inputSize())
        .in("kernel", kernel, kernelOffset, spec.kernelSize())
        .inOrNull("bias", bias, biasOffset, spec.biasSize())
        .out("output", output, outputOffset, spec.outputSize())
        .check();
  }

  /**
   * output = conv(input, kernel packed once) + bias (bias may be null), computed by {@link
   * Algorithm#MEC_FUSED} without packing the kernel again: for a Convolution created with {@link
   * Algorithm#MEC} or {@link Algorithm#MEC_FUSED} (their workspace fits), whole arrays from index
   * 0. The kernel must be packed for this layer under the ISA in effect now.
   */
  public void forward(float[] input, PackedKernel kernel, float[] bias, float[] output) {
    checkPacked(kernel, input, bias, output);
    run(
        ws ->
            MecNative.mec4j_forward_packed_at(
                nativeSpec, input, 0, kernel.pointer(), bias, 0, output, 0, ws, workspaceBytes));
  }

  /** The same on native memory, from each pointer's position up to its limit; bias may be null. */
  public void forward(
      FloatPointer input, PackedKernel kernel, FloatPointer bias, FloatPointer output) {
    checkPacked(kernel, input, bias, output);
    run(
        ws ->
            MecNative.mec4j_forward_packed_at(
                nativeSpec, input, 0, kernel.pointer(), bias, 0, output, 0, ws, workspaceBytes));
  }

  /**
   * The same on direct buffers in native byte order, from each buffer's position (positions are not
   * changed); bias may be null. No copy: the buffers' memory is passed as it is.
   */
  public void forward(
      FloatBuffer input, PackedKernel kernel, FloatBuffer bias, FloatBuffer output) {
    checkPacked(kernel, input, bias, output);
    run(
        ws ->
            MecNative.mec4j_forward_packed_at(
                nativeSpec, input, 0, kernel.pointer(), bias, 0, output, 0, ws, workspaceBytes));
  }

  /**
   * The arguments of a forward with a packed kernel, which runs MEC_FUSED on this layer's kernel,
   * in the layout of the ISA in effect.
   */
  private void checkPacked(PackedKernel kernel, Object input, Object bias, Object output) {
    Objects.requireNonNull(kernel, "kernel");
    if (algorithm != Algorithm.MEC && algorithm != Algorithm.MEC_FUSED)
      throw new IllegalArgumentException(
          "a PackedKernel runs MEC_FUSED: create the Convolution with MEC or MEC_FUSED, not "
              + algorithm);
    if (algorithm == Algorithm.MEC && spec.isDepthwise())
      throw new IllegalArgumentException(
          "MEC runs DEPTHWISE on the depthwise layer "
              + spec
              + ", which reads the plain kernel: use forward(input, kernel, bias, output)");
    Conv2d k = kernel.spec();
    if (k.kernelHeight() != spec.kernelHeight()
        || k.kernelWidth() != spec.kernelWidth()
        || k.inputChannels() != spec.inputChannels()
        || k.outputChannels() != spec.outputChannels()
        || k.groups() != spec.groups())
      throw new IllegalArgumentException(
          "kernel was packed for " + k + ", whose kernel differs from " + spec + "'s");
    Cpu.Isa now = Cpu.effectiveIsa();
    if (kernel.isa() != now)
      throw new IllegalStateException(
          "mec4j: kernel was packed for ISA "
              + kernel.isa()
              + ", the effective ISA is now "
              + now
              + ": pack it again");
    new Arguments()
        .in("input", input, 0, spec.inputSize())
        .inOrNull("bias", bias, 0, spec.biasSize())
        .out("output", output, 0, spec.outputSize())
        .check();
  }

  /**
   * Direct buffers, native byte order, read from each buffer's position (positions are not
   * changed); bias may be null.
   */
  public void forward(FloatBuffer input, FloatBuffer kernel, FloatBuffer bias, FloatBuffer output) {
    checkForward(input, 0, kernel, 0, bias, 0, output, 0);
    run(
        ws ->
            MecNative.mec4j_forward_at(
                nativeSpec,
                algorithm.code,
                input,
                0,
                kernel,
                0,
                bias,
                0,
                output,
                0,
                ws,
                workspaceBytes));
  }

  /**
   * Native memory, from each pointer's position up to its limit (a pointer without a known limit is
   * refused); bias may be null.
   */
  public void forward(
      FloatPointer input, FloatPointer kernel, FloatPointer bias, FloatPointer output) {
    checkForward(input, 0, kernel, 0, bias, 0, output, 0);
    run(
        ws ->
            MecNative.mec4j_forward_at(
                nativeSpec,
                algorithm.code,
                input,
                0,
                kernel,
                0,
                bias,
                0,
                output,
                0,
                ws,
                workspaceBytes));
  }

  // --- Training ---------------------------------------------------------------------------

  /**
   * gradInput = the gradient of the loss with respect to the input (NHWC, {@code spec.inputSize()}
   * floats, overwritten), from the output's gradient (NHWC, {@code spec.outputSize()}) and the
   * kernel; whole arrays from index 0.
   *
   * @throws IllegalArgumentException if the algorithm has no backward data pass here (MEC_A, MEC_B;
   *     MEC_FUSED on a strided layer; DEPTHWISE on a layer that is not depthwise), or arrays are
   *     shared between an input and the output
   */
  public void backwardData(float[] gradOutput, float[] kernel, float[] gradInput) {
    long need = backwardBytes(Direction.BACKWARD_DATA);
    checkBackwardData(gradOutput, kernel, gradInput);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_data(
                nativeSpec, algorithm.code, gradOutput, kernel, gradInput, ws, need),
        "backward data",
        need);
  }

  /**
   * The same on direct buffers in native byte order, from each buffer's position (positions
   * unchanged).
   */
  public void backwardData(FloatBuffer gradOutput, FloatBuffer kernel, FloatBuffer gradInput) {
    long need = backwardBytes(Direction.BACKWARD_DATA);
    checkBackwardData(gradOutput, kernel, gradInput);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_data(
                nativeSpec, algorithm.code, gradOutput, kernel, gradInput, ws, need),
        "backward data",
        need);
  }

  /** The same on native memory, from each pointer's position up to its limit. */
  public void backwardData(FloatPointer gradOutput, FloatPointer kernel, FloatPointer gradInput) {
    long need = backwardBytes(Direction.BACKWARD_DATA);
    checkBackwardData(gradOutput, kernel, gradInput);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_data(
                nativeSpec, algorithm.code, gradOutput, kernel, gradInput, ws, need),
        "backward data",
        need);
  }

  /**
   * gradKernel = the gradient of the loss with respect to the kernel (the kernel's layout, {@code
   * spec.kernelSize()} floats) and, unless gradBias is null, gradBias = that of the bias ({@code
   * spec.biasSize()} floats), summed over the mini-batch, from the input and the output's gradient;
   * whole arrays from index 0. Both are overwritten, not accumulated.
   *
   * @throws IllegalArgumentException if the algorithm has no backward pass, or arrays are shared
   *     between an input and an output or between the outputs
   */
  public void backwardWeights(
      float[] input, float[] gradOutput, float[] gradKernel, float[] gradBias) {
    long need = backwardBytes(Direction.BACKWARD_WEIGHTS);
    checkBackwardWeights(input, gradOutput, gradKernel, gradBias);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_weights(
                nativeSpec, algorithm.code, input, gradOutput, gradKernel, gradBias, ws, need),
        "backward weights",
        need);
  }

  /**
   * The same on direct buffers in native byte order, from each buffer's position; gradBias may be
   * null.
   */
  public void backwardWeights(
      FloatBuffer input, FloatBuffer gradOutput, FloatBuffer gradKernel, FloatBuffer gradBias) {
    long need = backwardBytes(Direction.BACKWARD_WEIGHTS);
    checkBackwardWeights(input, gradOutput, gradKernel, gradBias);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_weights(
                nativeSpec, algorithm.code, input, gradOutput, gradKernel, gradBias, ws, need),
        "backward weights",
        need);
  }

  /**
   * The same on native memory, from each pointer's position up to its limit; gradBias may be null.
   */
  public void backwardWeights(
      FloatPointer input, FloatPointer gradOutput, FloatPointer gradKernel, FloatPointer gradBias) {
    long need = backwardBytes(Direction.BACKWARD_WEIGHTS);
    checkBackwardWeights(input, gradOutput, gradKernel, gradBias);
    run(
        ws ->
            MecNative.mec4j_conv2d_backward_weights(
                nativeSpec, algorithm.code, input, gradOutput, gradKernel, gradBias, ws, need),
        "backward weights",
        need);
  }

  /**
   * The workspace bytes a backward pass needs; throws first if the algorithm does not run it here.
   */
  private long backwardBytes(Direction direction) {
    long need = direction == Direction.BACKWARD_DATA ? backwardDataBytes : backwardWeightsBytes;
    if (need < 0 && spec.activation().kind() != Activation.Kind.NONE)
      throw new IllegalArgumentException(
          "a layer with a fused activation ("
              + spec.activation()
              + ") has no "
              + direction
              + " pass: the backward passes differentiate the convolution alone (run them on the"
              + " layer without the activation, with its derivative applied to gradOutput)");
    if (need < 0)
      throw new IllegalArgumentException(
          algorithm
              + " has no "
              + direction
              + " pass for "
              + spec
              + " (backward passes: MEC, MEC_ROWS, IM2COL, REFERENCE; MEC_FUSED's backward data at stride 1"
              + " and its backward weights; DEPTHWISE on depthwise layers)");
    long have = workspace == null ? 0 : workspace.bytes();
    if (need > have && !ownsWorkspace)
      throw new IllegalStateException(
          "mec4j: the borrowed workspace has "
              + have
              + " bytes, "
              + direction
              + " of "
              + algorithm
              + " on "
              + spec
              + " needs "
              + need);
    return need;
  }

  private void checkBackwardData(Object gradOutput, Object kernel, Object gradInput) {
    new Arguments()
        .in("gradOutput", gradOutput, 0, spec.outputSize())
        .in("kernel", kernel, 0, spec.kernelSize())
        .out("gradInput", gradInput, 0, spec.inputSize())
        .check();
  }

  /** gradKernel and gradBias must not overlap the inputs, nor each other. */
  private void checkBackwardWeights(
      Object input, Object gradOutput, Object gradKernel, Object gradBias) {
    new Arguments()
        .in("input", input, 0, spec.inputSize())
        .in("gradOutput", gradOutput, 0, spec.outputSize())
        .out("gradKernel", gradKernel, 0, spec.kernelSize())
        .outOrNull("gradBias", gradBias, 0, spec.biasSize())
        .check();
  }

  /** Runs the one native call of a forward: fails fast if closed or busy, checks its status. */
  private void run(java.util.function.ToIntFunction<Pointer> call) {
    if (forwardBytes < 0)
      spec.workspaceBytes(algorithm); // throws: no forward pass (e.g. MEC_ROWS with groups)
    run(call, "forward");
  }

  private void run(java.util.function.ToIntFunction<Pointer> call, String pass) {
    run(call, pass, 0);
  }

  /** The same for a pass that needs `need` bytes: an owned workspace grows to it first. */
  private void run(java.util.function.ToIntFunction<Pointer> call, String pass, long need) {
    enter();
    try {
      if (ownsWorkspace && need > workspaceBytes) {
        Workspace grown = Workspace.allocate(need); // may throw: nothing written yet
        if (workspace != null) workspace.close();
        workspace = grown;
        workspaceBytes = need;
      }
      Native.check(
          call.applyAsInt(workspace == null ? null : workspace.pointer()),
          pass + " of " + algorithm + " on " + spec);
    } finally {
      busy.set(false);
    }
  }

  private void enter() {
    if (closed) throw new IllegalStateException("mec4j: the Convolution is closed");
    if (workspace != null && workspace.isClosed())
      throw new IllegalStateException("mec4j: the Workspace is closed");
    if (!busy.compareAndSet(false, true))
      throw new IllegalStateException(
          "mec4j: this Convolution is already running on another thread; "
              + "a Convolution is not thread-safe, create one per thread");
    if (closed) { // closed between the first check and taking the flag
      busy.set(false);
      throw new IllegalStateException("mec4j: the Convolution is closed");
    }
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    while (!busy.compareAndSet(false, true)) Thread.onSpinWait(); // let a running call finish
    nativeSpec.close();
    if (ownsWorkspace && workspace != null) workspace.close();
  }
}
