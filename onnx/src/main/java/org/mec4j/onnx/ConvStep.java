package org.mec4j.onnx;

import java.util.Arrays;
import org.mec4j.Algorithm;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;
import org.mec4j.Cpu;
import org.mec4j.Direction;
import org.mec4j.PackedKernel;

/**
 * One Conv or ConvTranspose node on mec4j: a {@link Convolution} (with the workspace it owns) and
 * the kernel in mec4j's layout, made for the input shape it first sees and made again if a later
 * run has another shape. NHWC values in and out; a ConvTranspose runs as the backward-data pass of
 * its convolution, then adds the bias. An activation that is the convolution's only consumer runs
 * in this step too ({@link #activate}).
 */
final class ConvStep implements AutoCloseable {
  /** A clamp to [min, max] after the convolution: Relu is [0, +inf), Clip (ReLU6) [0, 6]. */
  record Activation(String node, float min, float max) {}

  final ConvLayer layer;
  Activation activation; // set by OnnxExecutor's fusion, null if none
  private int[] shape; // NCHW input shape the convolution below was made for
  private Conv2d spec;
  private Convolution conv;
  private float[] kernel;
  // The kernel packed once for MEC_FUSED, from the second run on (the first run under
  // Tuning.MEASURE chooses the variant): inference skips the per-call packing.
  private PackedKernel packed;
  private boolean packingDecided;

  ConvStep(ConvLayer layer) {
    this.layer = layer;
  }

  /** The output, in an array from buffers for a forward convolution (which writes all of it). */
  Tensor run(Tensor x, Buffers buffers) {
    if (x.type() != Tensor.Type.FLOAT || x.rank() != 4)
      throw new OnnxModelException(
          layer.node() + ": input " + x + " is not a 4-D float (NCHW) tensor");
    prepare(x.shape);
    int n = x.shape[0];
    float[] in = x.toChannelsLast().f;
    float[] out;
    int c, h, w;
    if (!layer.isTransposed()) {
      out = buffers.floats(Tensor.checkAllocatable(spec.outputSize()));
      float[] bias = layer.bias();
      if (packed != null && packed.isa() != Cpu.effectiveIsa()) { // Cpu.setMaxIsa since packing
        packed.close();
        packed = null;
      }
      if (packed != null) conv.forward(in, packed, bias, out);
      else if (bias == null) conv.forward(in, kernel, out);
      else conv.forward(in, kernel, bias, out);
      if (!packingDecided) {
        packingDecided = true;
        if (conv.resolvedAlgorithm() == Algorithm.MEC_FUSED)
          packed = PackedKernel.pack(spec, kernel);
      }
      c = (int) spec.outputChannels();
      h = (int) spec.outputHeight();
      w = (int) spec.outputWidth();
    } else {
      out = new float[Tensor.checkAllocatable(spec.inputSize())];
      conv.backwardData(in, kernel, out);
      c = (int) spec.inputChannels();
      h = (int) spec.inputHeight();
      w = (int) spec.inputWidth();
      float[] bias = layer.bias();
      if (bias != null) for (int i = 0; i < out.length; i++) out[i] += bias[i % c];
    }
    if (layer.isTransposed()) activate(out); // a forward convolution clamps in its own store
    return Tensor.channelsLast(out, n, c, h, w);
  }

  /**
   * The fused activation of a ConvTranspose (a backward-data pass, which takes none), after its
   * bias; a Conv's runs in mec4j's store ({@link Conv2d.Builder#activation}, set in prepare).
   */
  private void activate(float[] out) {
    if (activation != null) Ops.clipInPlace(out, activation.min(), activation.max());
  }

  private void prepare(int[] nchw) {
    if (Arrays.equals(nchw, shape)) return;
    Conv2d s = layer.spec(nchw[0], nchw[1], nchw[2], nchw[3]);
    if (activation != null && !layer.isTransposed())
      s =
          s.toBuilder()
              .activation(
                  activation.min() == 0f && activation.max() == Float.POSITIVE_INFINITY
                      ? org.mec4j.Activation.RELU
                      : org.mec4j.Activation.clamp(activation.min(), activation.max()))
              .build();
    Algorithm algorithm = Algorithm.MEC;
    if (layer.isTransposed() && !s.supports(algorithm, Direction.BACKWARD_DATA))
      algorithm =
          s.supports(Algorithm.IM2COL, Direction.BACKWARD_DATA)
              ? Algorithm.IM2COL
              : Algorithm.REFERENCE;
    float[] k = layer.kernel(s);
    Convolution c = Convolution.create(s, algorithm);
    close();
    spec = s;
    conv = c;
    kernel = k;
    shape = nchw.clone();
  }

  boolean isPacked() {
    return packed != null;
  }

  /** The layer for the last input, or null before the first run. */
  Conv2d spec() {
    return spec;
  }

  @Override
  public void close() {
    if (conv != null) conv.close();
    if (packed != null) packed.close();
    conv = null;
    packed = null;
    packingDecided = false;
    shape = null;
  }
}
