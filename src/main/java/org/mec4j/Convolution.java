package org.mec4j;

import java.nio.ByteOrder;
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
 * <p>Every argument is checked in Java before the single native call: null arrays or buffers
 * throw {@link NullPointerException}, buffers that are too small (or offsets past their end)
 * throw {@link IndexOutOfBoundsException}, unusable buffers (heap, read-only output, wrong byte
 * order, overlapping the output) throw {@link IllegalArgumentException}. On any exception the
 * output is left untouched.
 *
 * <p>Not thread-safe: a Convolution owns one workspace. Calling {@code forward} from two threads
 * at once throws {@link IllegalStateException} instead of corrupting results; use one
 * Convolution per thread (they are cheap apart from the workspace).
 *
 * <p>float[] arrays are pinned for the duration of the call (a JNI critical region: no copy, but
 * the garbage collector may wait for the call). Direct buffers and FloatPointers are passed
 * without copy or pinning.
 */
public final class Convolution implements AutoCloseable {
  private final Conv2d spec;
  private final Algorithm algorithm;
  private final long workspaceBytes;
  private final Workspace workspace;
  private final boolean ownsWorkspace;
  private final MecNative.Conv2dStruct nativeSpec;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile boolean closed;

  private Convolution(Conv2d spec, Algorithm algorithm, Workspace workspace, boolean owns) {
    this.spec = spec;
    this.algorithm = algorithm;
    this.workspaceBytes = spec.workspaceBytes(algorithm);
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
   * A convolution that owns a workspace of {@code spec.workspaceBytes(algorithm)} bytes.
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
   * A convolution that borrows the caller's workspace (not closed with the convolution).
   *
   * @throws IllegalArgumentException if the workspace is smaller than the algorithm needs
   * @throws IllegalStateException if the workspace is closed
   */
  public static Convolution create(Conv2d spec, Algorithm algorithm, Workspace workspace) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(workspace, "workspace");
    if (workspace.isClosed()) throw new IllegalStateException("mec4j: the Workspace is closed");
    long need = spec.workspaceBytes(algorithm);
    if (workspace.bytes() < need)
      throw new IllegalArgumentException("workspace has " + workspace.bytes() + " bytes, " + algorithm + " on "
          + spec + " needs " + need);
    return new Convolution(spec, algorithm, workspace, false);
  }

  public Conv2d spec() { return spec; }

  /** The algorithm asked for. */
  public Algorithm algorithm() { return algorithm; }

  /**
   * The algorithm that runs: {@link Algorithm#MEC} resolved to one of its variants (the measured
   * one after the first run under {@link Tuning#MEASURE}, see {@link Conv2d#resolution}).
   */
  public Algorithm resolvedAlgorithm() { return spec.resolve(algorithm); }

  /** Bytes of workspace this convolution uses. */
  public long workspaceBytes() { return workspaceBytes; }

  public boolean isClosed() { return closed; }

  /** output = conv(input, kernel), whole arrays from index 0. */
  public void forward(float[] input, float[] kernel, float[] output) {
    forward(input, 0, kernel, 0, null, 0, output, 0);
  }

  /** output = conv(input, kernel) + bias. */
  public void forward(float[] input, float[] kernel, float[] bias, float[] output) {
    Objects.requireNonNull(bias, "bias");
    forward(input, 0, kernel, 0, bias, 0, output, 0);
  }

  /**
   * output[outputOffset..] = conv(input[inputOffset..], kernel[kernelOffset..]) + bias[biasOffset..];
   * bias may be null (no bias).
   */
  public void forward(float[] input, int inputOffset, float[] kernel, int kernelOffset, float[] bias,
      int biasOffset, float[] output, int outputOffset) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(output, "output");
    checkRange("input", input.length, inputOffset, spec.inputSize());
    checkRange("kernel", kernel.length, kernelOffset, spec.kernelSize());
    if (bias != null) checkRange("bias", bias.length, biasOffset, spec.biasSize());
    checkRange("output", output.length, outputOffset, spec.outputSize());
    checkNoOverlap("input", input == output, inputOffset, spec.inputSize(), outputOffset, spec.outputSize());
    checkNoOverlap("kernel", kernel == output, kernelOffset, spec.kernelSize(), outputOffset, spec.outputSize());
    if (bias != null) checkNoOverlap("bias", bias == output, biasOffset, spec.biasSize(), outputOffset, spec.outputSize());
    run(ws -> MecNative.mec4j_forward_at(nativeSpec, algorithm.code, input, inputOffset, kernel, kernelOffset,
        bias, biasOffset, output, outputOffset, ws, workspaceBytes));
  }

  /**
   * output = conv(input, kernel packed once) + bias (bias may be null), computed by
   * {@link Algorithm#MEC_FUSED} without packing the kernel again: for a Convolution created with
   * {@link Algorithm#MEC} or {@link Algorithm#MEC_FUSED} (their workspace fits), whole arrays from
   * index 0. The kernel must be packed for this layer under the ISA in effect now.
   */
  public void forward(float[] input, PackedKernel kernel, float[] bias, float[] output) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(output, "output");
    checkPacked(kernel);
    checkRange("input", input.length, 0, spec.inputSize());
    if (bias != null) checkRange("bias", bias.length, 0, spec.biasSize());
    checkRange("output", output.length, 0, spec.outputSize());
    checkNoOverlap("input", input == output, 0, spec.inputSize(), 0, spec.outputSize());
    if (bias != null) checkNoOverlap("bias", bias == output, 0, spec.biasSize(), 0, spec.outputSize());
    run(ws -> MecNative.mec4j_forward_packed_at(nativeSpec, input, 0, kernel.pointer(), bias, 0, output, 0, ws,
        workspaceBytes));
  }

  /** The same on native memory, from each pointer's position up to its limit; bias may be null. */
  public void forward(FloatPointer input, PackedKernel kernel, FloatPointer bias, FloatPointer output) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(output, "output");
    checkPacked(kernel);
    checkPointer("input", input, spec.inputSize());
    if (bias != null) checkPointer("bias", bias, spec.biasSize());
    checkPointer("output", output, spec.outputSize());
    checkNoOverlap("input", address(input), spec.inputSize(), address(output), spec.outputSize());
    if (bias != null) checkNoOverlap("bias", address(bias), spec.biasSize(), address(output), spec.outputSize());
    run(ws -> MecNative.mec4j_forward_packed_at(nativeSpec, input, 0, kernel.pointer(), bias, 0, output, 0, ws,
        workspaceBytes));
  }

  /** A packed kernel runs MEC_FUSED on this layer's kernel, in the layout of the ISA in effect. */
  private void checkPacked(PackedKernel kernel) {
    Objects.requireNonNull(kernel, "kernel");
    if (algorithm != Algorithm.MEC && algorithm != Algorithm.MEC_FUSED)
      throw new IllegalArgumentException("a PackedKernel runs MEC_FUSED: create the Convolution with MEC or MEC_FUSED, not "
          + algorithm);
    if (algorithm == Algorithm.MEC && spec.isDepthwise())
      throw new IllegalArgumentException("MEC runs DEPTHWISE on the depthwise layer " + spec
          + ", which reads the plain kernel: use forward(input, kernel, bias, output)");
    Conv2d k = kernel.spec();
    if (k.kernelHeight() != spec.kernelHeight() || k.kernelWidth() != spec.kernelWidth()
        || k.inputChannels() != spec.inputChannels() || k.outputChannels() != spec.outputChannels()
        || k.groups() != spec.groups())
      throw new IllegalArgumentException("kernel was packed for " + k + ", whose kernel differs from " + spec + "'s");
    Cpu.Isa now = Cpu.effectiveIsa();
    if (kernel.isa() != now)
      throw new IllegalStateException("mec4j: kernel was packed for ISA " + kernel.isa() + ", the effective ISA is now "
          + now + ": pack it again");
  }

  /**
   * Direct buffers, native byte order, read from each buffer's position (positions are not
   * changed); bias may be null.
   */
  public void forward(FloatBuffer input, FloatBuffer kernel, FloatBuffer bias, FloatBuffer output) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(output, "output");
    checkBuffer("input", input, spec.inputSize());
    checkBuffer("kernel", kernel, spec.kernelSize());
    if (bias != null) checkBuffer("bias", bias, spec.biasSize());
    checkBuffer("output", output, spec.outputSize());
    if (output.isReadOnly()) throw new IllegalArgumentException("output must be writable, got a read-only FloatBuffer");
    checkNoOverlaps(address(input), address(kernel), bias == null ? -1 : address(bias), address(output));
    run(ws -> MecNative.mec4j_forward_at(nativeSpec, algorithm.code, input, 0, kernel, 0, bias, 0, output, 0, ws,
        workspaceBytes));
  }

  /**
   * Native memory, from each pointer's position up to its limit (a pointer without a known limit
   * is refused); bias may be null.
   */
  public void forward(FloatPointer input, FloatPointer kernel, FloatPointer bias, FloatPointer output) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(output, "output");
    checkPointer("input", input, spec.inputSize());
    checkPointer("kernel", kernel, spec.kernelSize());
    if (bias != null) checkPointer("bias", bias, spec.biasSize());
    checkPointer("output", output, spec.outputSize());
    checkNoOverlaps(address(input), address(kernel), bias == null ? -1 : address(bias), address(output));
    run(ws -> MecNative.mec4j_forward_at(nativeSpec, algorithm.code, input, 0, kernel, 0, bias, 0, output, 0, ws,
        workspaceBytes));
  }

  /** Runs the one native call of a forward: fails fast if closed or busy, checks its status. */
  private void run(java.util.function.ToIntFunction<Pointer> call) {
    enter();
    try {
      Native.check(call.applyAsInt(workspace == null ? null : workspace.pointer()), "forward");
    } finally {
      busy.set(false);
    }
  }

  /** Byte-address overlap of input, kernel and bias (-1: none) with the output. */
  private void checkNoOverlaps(long input, long kernel, long bias, long output) {
    checkNoOverlap("input", input, spec.inputSize(), output, spec.outputSize());
    checkNoOverlap("kernel", kernel, spec.kernelSize(), output, spec.outputSize());
    if (bias != -1) checkNoOverlap("bias", bias, spec.biasSize(), output, spec.outputSize());
  }

  private void enter() {
    if (closed) throw new IllegalStateException("mec4j: the Convolution is closed");
    if (workspace != null && workspace.isClosed()) throw new IllegalStateException("mec4j: the Workspace is closed");
    if (!busy.compareAndSet(false, true))
      throw new IllegalStateException("mec4j: this Convolution is already running on another thread; "
          + "a Convolution is not thread-safe, create one per thread");
    if (closed) {  // closed between the first check and taking the flag
      busy.set(false);
      throw new IllegalStateException("mec4j: the Convolution is closed");
    }
  }

  private static void checkRange(String name, int length, int offset, long needed) {
    if (offset < 0) throw new IndexOutOfBoundsException(name + "Offset must be >= 0, got " + offset);
    if (offset > length || length - offset < needed)
      throw new IndexOutOfBoundsException(name + " needs " + needed + " floats from offset " + offset
          + ", but its length is " + length);
  }

  private static void checkNoOverlap(String name, boolean sameArray, long offset, long size, long outputOffset,
      long outputSize) {
    if (sameArray && offset < outputOffset + outputSize && outputOffset < offset + size)
      throw new IllegalArgumentException(name + " and output must not overlap (same array, " + name + "Offset "
          + offset + ", outputOffset " + outputOffset + ")");
  }

  private static void checkBuffer(String name, FloatBuffer b, long needed) {
    if (!b.isDirect()) throw new IllegalArgumentException(name + " must be a direct FloatBuffer, got a heap buffer "
        + "(use float[] or ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer())");
    if (b.order() != ByteOrder.nativeOrder())
      throw new IllegalArgumentException(name + " must be in native byte order (" + ByteOrder.nativeOrder() + "), got " + b.order());
    if (b.remaining() < needed)
      throw new IndexOutOfBoundsException(name + " needs " + needed + " floats from position " + b.position()
          + ", but only " + b.remaining() + " remain");
  }

  private static void checkPointer(String name, FloatPointer p, long needed) {
    if (p.isNull()) throw new NullPointerException(name + " is a null FloatPointer");
    if (p.limit() <= 0)
      throw new IllegalArgumentException(name + " has no known limit: set one with limit(n) so that its size can be checked");
    if (p.position() < 0 || p.position() > p.limit() || p.limit() - p.position() < needed)
      throw new IndexOutOfBoundsException(name + " needs " + needed + " floats from position " + p.position()
          + ", but its limit is " + p.limit());
  }

  /** Byte address of the pointer's position. */
  private static long address(FloatPointer p) {
    return p.address() + p.position() * (long) Float.BYTES;
  }

  /** Byte address of the direct buffer's position (a plain Pointer over a buffer starts at element 0). */
  private static long address(FloatBuffer b) {
    return new Pointer(b).address() + b.position() * (long) Float.BYTES;
  }

  private static void checkNoOverlap(String name, long start, long size, long outStart, long outSize) {
    if (start < outStart + outSize * Float.BYTES && outStart < start + size * Float.BYTES)
      throw new IllegalArgumentException(name + " and output must not overlap in memory");
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    while (!busy.compareAndSet(false, true)) Thread.onSpinWait();  // let a running call finish
    nativeSpec.close();
    if (ownsWorkspace && workspace != null) workspace.close();
  }
}
