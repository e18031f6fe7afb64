package org.mec4j;

import java.util.Objects;

/**
 * An activation fused into a convolution's forward pass ({@link Conv2d.Builder#activation}): each
 * output value is clamped as it is stored, in the micro-kernels' registers (MEC_FUSED, DEPTHWISE,
 * {@link PackedKernel}) or in the pass that adds the bias (the BLAS variants). The result equals
 * the unfused convolution followed by the activation, bit for bit; NaN stays NaN.
 *
 * <p>Backward passes differentiate the convolution alone: a layer with an activation has none
 * (build the same layer without it for training, and apply the activation's derivative to the
 * output gradient yourself).
 */
public final class Activation {
  /** What an activation computes. */
  public enum Kind {
    /** x. */
    NONE(0),
    /** max(x, 0). */
    RELU(1),
    /** min(max(x, min), max): ReLU6 with 0 and 6. */
    CLAMP(2);

    final int code;

    Kind(int code) {
      this.code = code;
    }
  }

  /** No activation: the default. */
  public static final Activation NONE =
      new Activation(Kind.NONE, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);

  /** max(x, 0). */
  public static final Activation RELU = new Activation(Kind.RELU, 0f, Float.POSITIVE_INFINITY);

  private final Kind kind;
  private final float min, max;

  private Activation(Kind kind, float min, float max) {
    this.kind = kind;
    this.min = min;
    this.max = max;
  }

  /**
   * min(max(x, min), max), as ONNX's Clip; infinite bounds are allowed.
   *
   * @throws IllegalArgumentException if a bound is NaN or min &gt; max
   */
  public static Activation clamp(float min, float max) {
    if (Float.isNaN(min)) throw new IllegalArgumentException("activation min is NaN");
    if (Float.isNaN(max)) throw new IllegalArgumentException("activation max is NaN");
    if (min > max)
      throw new IllegalArgumentException(
          "activation min " + min + " must be <= activation max " + max);
    return new Activation(Kind.CLAMP, min, max);
  }

  /** ReLU6: clamp(0, 6) (MobileNet's activation). */
  public static Activation relu6() {
    return clamp(0f, 6f);
  }

  public Kind kind() {
    return kind;
  }

  /** The lower bound (0 for ReLU, -infinity for none). */
  public float min() {
    return min;
  }

  /** The upper bound (+infinity for ReLU and none). */
  public float max() {
    return max;
  }

  /** The activation of one value, as the fused store computes it. */
  public float apply(float x) {
    if (kind == Kind.NONE) return x;
    float v = x < min ? min : x;
    return max < v ? max : v;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Activation)) return false;
    Activation a = (Activation) o;
    return kind == a.kind && Float.compare(min, a.min) == 0 && Float.compare(max, a.max) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, min, max);
  }

  @Override
  public String toString() {
    switch (kind) {
      case NONE:
        return "none";
      case RELU:
        return "relu";
      default:
        return "clamp(" + min + ", " + max + ")";
    }
  }
}
