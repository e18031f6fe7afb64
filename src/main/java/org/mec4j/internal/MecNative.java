package org.mec4j.internal;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas;

/**
 * The JavaCPP binding of native/include/mec4j.h: thin, one Java method per C function. Not an API:
 * arguments are checked by {@link org.mec4j.Convolution} before they get here.
 *
 * <p>Inheriting the OpenBLAS preset links the JNI library against libopenblas.so.0 and loads it
 * first; the preset's {@code org.bytedeco.openblas.load} property can substitute MKL at run time.
 */
@Properties(
    inherit = openblas.class,
    value =
        @Platform(
            include = {"mec4j.h", "mec4j_jni.h"},
            link = "mec4j_core"))
@NoException
public final class MecNative {
  private MecNative() {}

  /** Loads the BLAS and this binding; call through {@link org.mec4j.Blas}, which sets it up. */
  public static void load() {
    Loader.load();
  }

  /** struct mec4j_conv2d. */
  @Name("mec4j_conv2d")
  @NoException
  public static final class Conv2dStruct extends Pointer {
    static {
      Loader.load();
    }

    public Conv2dStruct() {
      super((Pointer) null);
      allocate();
    }

    private native void allocate();

    public native long batch();

    public native Conv2dStruct batch(long v);

    public native long in_height();

    public native Conv2dStruct in_height(long v);

    public native long in_width();

    public native Conv2dStruct in_width(long v);

    public native long in_channels();

    public native Conv2dStruct in_channels(long v);

    public native long kernel_height();

    public native Conv2dStruct kernel_height(long v);

    public native long kernel_width();

    public native Conv2dStruct kernel_width(long v);

    public native long out_channels();

    public native Conv2dStruct out_channels(long v);

    public native long stride_height();

    public native Conv2dStruct stride_height(long v);

    public native long stride_width();

    public native Conv2dStruct stride_width(long v);

    public native long pad_top();

    public native Conv2dStruct pad_top(long v);

    public native long pad_bottom();

    public native Conv2dStruct pad_bottom(long v);

    public native long pad_left();

    public native Conv2dStruct pad_left(long v);

    public native long pad_right();

    public native Conv2dStruct pad_right(long v);

    public native long mec_threshold();

    public native Conv2dStruct mec_threshold(long v);

    public native long mec_workspace_limit();

    public native Conv2dStruct mec_workspace_limit(long v);

    public native long groups();

    public native Conv2dStruct groups(long v);

    public native long dilation_height();

    public native Conv2dStruct dilation_height(long v);

    public native long dilation_width();

    public native Conv2dStruct dilation_width(long v);

    public native int activation();

    public native Conv2dStruct activation(int v);

    public native float activation_min();

    public native Conv2dStruct activation_min(float v);

    public native float activation_max();

    public native Conv2dStruct activation_max(float v);

    public native int layout();

    public native Conv2dStruct layout(int v);
  }

  /** struct mec4j_blas_info. */
  @Name("mec4j_blas_info")
  @NoException
  public static final class BlasInfoStruct extends Pointer {
    static {
      Loader.load();
    }

    public BlasInfoStruct() {
      super((Pointer) null);
      allocate();
    }

    private native void allocate();

    @MemberGetter
    @Cast("const char*")
    public native BytePointer vendor();

    @MemberGetter
    @Cast("const char*")
    public native BytePointer version();

    @MemberGetter
    @Cast("const char*")
    public native BytePointer library();

    @MemberGetter
    public native int threads();
  }

  public static native int mec4j_workspace_size(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Cast("int64_t*") long[] bytes);

  public static native int mec4j_min_workspace_limit(
      @Const Conv2dStruct conv, @Cast("int64_t*") long[] bytes);

  public static native int mec4j_resolve_algorithm_ex(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Cast("mec4j_algorithm*") int[] resolved,
      @Cast("int32_t*") int[] measured);

  public static native int mec4j_set_max_isa(@Cast("mec4j_isa") int isa);

  public static native int mec4j_get_max_isa(@Cast("mec4j_isa*") int[] isa);

  public static native int mec4j_get_effective_isa(@Cast("mec4j_isa*") int[] isa);

  public static native @Cast("int") int mec4j_get_host_isa();

  public static native @Cast("const char*") BytePointer mec4j_kernel_name();

  public static native @Cast("const char*") BytePointer mec4j_depthwise_kernel_name();

  public static native int mec4j_set_tuning(@Cast("mec4j_tuning") int tuning);

  public static native int mec4j_get_tuning(@Cast("mec4j_tuning*") int[] tuning);

  /** Arrays: pinned for the call (a JNI critical region, no copy); offsets in floats. */
  @CriticalRegion
  public static native int mec4j_forward_at(
      @Const Conv2dStruct conv,
      int algorithm,
      @Const float[] input,
      long inputOffset,
      @Const float[] kernel,
      long kernelOffset,
      @Const float[] bias,
      long biasOffset,
      float[] output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  /** Direct buffers: zero copy; JavaCPP adds each buffer's position, offsets come on top. */
  public static native int mec4j_forward_at(
      @Const Conv2dStruct conv,
      int algorithm,
      @Const FloatBuffer input,
      long inputOffset,
      @Const FloatBuffer kernel,
      long kernelOffset,
      @Const FloatBuffer bias,
      long biasOffset,
      FloatBuffer output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  /** Native pointers: zero copy; JavaCPP adds each pointer's position. */
  public static native int mec4j_forward_at(
      @Const Conv2dStruct conv,
      int algorithm,
      @Const FloatPointer input,
      long inputOffset,
      @Const FloatPointer kernel,
      long kernelOffset,
      @Const FloatPointer bias,
      long biasOffset,
      FloatPointer output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_resolve_algorithm_for(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Cast("mec4j_direction") int direction,
      @Cast("mec4j_algorithm*") int[] resolved,
      @Cast("int32_t*") int[] measured);

  public static native int mec4j_workspace_size_for(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Cast("mec4j_direction") int direction,
      @Cast("int64_t*") long[] bytes);

  @CriticalRegion
  public static native int mec4j_conv2d_backward_data(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const float[] gradOutput,
      @Const float[] kernel,
      float[] gradInput,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_conv2d_backward_data(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const FloatBuffer gradOutput,
      @Const FloatBuffer kernel,
      FloatBuffer gradInput,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_conv2d_backward_data(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const FloatPointer gradOutput,
      @Const FloatPointer kernel,
      FloatPointer gradInput,
      Pointer workspace,
      long workspaceBytes);

  @CriticalRegion
  public static native int mec4j_conv2d_backward_weights(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const float[] input,
      @Const float[] gradOutput,
      float[] gradKernel,
      float[] gradBias,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_conv2d_backward_weights(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const FloatBuffer input,
      @Const FloatBuffer gradOutput,
      FloatBuffer gradKernel,
      FloatBuffer gradBias,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_conv2d_backward_weights(
      @Const Conv2dStruct conv,
      @Cast("mec4j_algorithm") int algorithm,
      @Const FloatPointer input,
      @Const FloatPointer gradOutput,
      FloatPointer gradKernel,
      FloatPointer gradBias,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_packed_kernel_size(
      @Const Conv2dStruct conv, @Cast("int64_t*") long[] bytes);

  @CriticalRegion
  public static native int mec4j_pack_kernel_at(
      @Const Conv2dStruct conv,
      @Const float[] kernel,
      long kernelOffset,
      Pointer packed,
      long packedBytes);

  @CriticalRegion
  public static native int mec4j_forward_packed_at(
      @Const Conv2dStruct conv,
      @Const float[] input,
      long inputOffset,
      @Const Pointer packed,
      @Const float[] bias,
      long biasOffset,
      float[] output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_forward_packed_at(
      @Const Conv2dStruct conv,
      @Const FloatBuffer input,
      long inputOffset,
      @Const Pointer packed,
      @Const FloatBuffer bias,
      long biasOffset,
      FloatBuffer output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  public static native int mec4j_forward_packed_at(
      @Const Conv2dStruct conv,
      @Const FloatPointer input,
      long inputOffset,
      @Const Pointer packed,
      @Const FloatPointer bias,
      long biasOffset,
      FloatPointer output,
      long outputOffset,
      Pointer workspace,
      long workspaceBytes);

  public static native Pointer mec4j_workspace_alloc(long bytes);

  public static native void mec4j_workspace_free(Pointer workspace);

  public static native @Cast("const char*") BytePointer mec4j_status_string(
      @Cast("mec4j_status") int status);

  public static native int mec4j_blas_query(BlasInfoStruct info);

  public static native int mec4j_blas_set_threads(int threads);
}
