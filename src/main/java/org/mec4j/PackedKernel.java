package org.mec4j;

import java.util.Objects;
import org.mec4j.internal.MecNative;

/**
 * A layer's kernel packed once into the layout of the {@link Algorithm#MEC_FUSED} micro-kernel that
 * runs now (the inference case, as XNNPACK packs weights when an operator is created), so that
 * {@link Convolution#forward(float[], PackedKernel, float[], float[])} skips the per-call packing.
 * It takes {@link #bytes()} of native memory: about the kernel's own size (output channels rounded
 * up to the micro-kernel's tile width) plus a 64-byte header. It fits the layer it was packed for
 * and the ISA that was in effect ({@link Cpu#effectiveIsa()}): pack again after changing {@link
 * Cpu#setMaxIsa}. Close it to free the memory.
 */
public final class PackedKernel implements AutoCloseable {
  private final Conv2d spec;
  private final Workspace memory;
  private final Cpu.Isa isa;

  private PackedKernel(Conv2d spec, Workspace memory, Cpu.Isa isa) {
    this.spec = spec;
    this.memory = memory;
    this.isa = isa;
  }

  /**
   * Packs kernel[kernelOffset..] (HWIO, {@code spec.kernelSize()} floats). NHWC layers only: an
   * {@link Layout#NCHW} layer's forward takes its OIHW kernel as it is (read in place, or turned
   * into HWIO per call where it runs through NHWC).
   */
  public static PackedKernel pack(Conv2d spec, float[] kernel, int kernelOffset) {
    Objects.requireNonNull(spec, "spec");
    if (spec.layout() != Layout.NHWC)
      throw new IllegalArgumentException(
          "a PackedKernel is for NHWC layers: the NCHW layer "
              + spec
              + " takes its OIHW kernel as it is, with nothing to pack");
    new Arguments().in("kernel", kernel, kernelOffset, spec.kernelSize()).check();
    long[] bytes = new long[1];
    try (MecNative.Conv2dStruct s = spec.toNative()) {
      Native.check(MecNative.mec4j_packed_kernel_size(s, bytes), "packed kernel size for " + spec);
      Workspace memory = Workspace.allocate(bytes[0]);
      try {
        Native.check(
            MecNative.mec4j_pack_kernel_at(s, kernel, kernelOffset, memory.pointer(), bytes[0]),
            "packing the kernel of " + spec);
      } catch (RuntimeException | Error e) {
        memory.close();
        throw e;
      }
      return new PackedKernel(spec, memory, Cpu.effectiveIsa());
    }
  }

  public static PackedKernel pack(Conv2d spec, float[] kernel) {
    return pack(spec, kernel, 0);
  }

  /** The layer it was packed for. */
  public Conv2d spec() {
    return spec;
  }

  /** Native bytes it holds. */
  public long bytes() {
    return memory.bytes();
  }

  /** The ISA whose micro-kernel layout it holds. */
  public Cpu.Isa isa() {
    return isa;
  }

  public boolean isClosed() {
    return memory.isClosed();
  }

  org.bytedeco.javacpp.Pointer pointer() {
    if (memory.isClosed()) throw new IllegalStateException("mec4j: the PackedKernel is closed");
    return memory.pointer();
  }

  @Override
  public void close() {
    memory.close();
  }
}
