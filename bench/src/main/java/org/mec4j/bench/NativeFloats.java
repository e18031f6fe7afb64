package org.mec4j.bench;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A 64-byte aligned block of native floats (outside the Java heap and outside JavaCPP's memory
 * accounting), freed by {@link #close()}. Used for inputs, kernels and outputs so that mec4j and
 * oneDNN read the very same memory.
 */
final class NativeFloats implements AutoCloseable {
  private static final int CHUNK = 1 << 20;
  private Pointer raw;
  private final FloatPointer ptr;
  private final long size;

  NativeFloats(long size) {
    if (size < 1) throw new IllegalArgumentException("size must be >= 1, got " + size);
    this.size = size;
    long bytes = Math.multiplyExact(size, 4L) + 64;
    raw = Pointer.malloc(bytes);
    if (raw == null || raw.isNull())
      throw new OutOfMemoryError(
          "cannot allocate " + Pointer.formatBytes(bytes) + " of native memory");
    long offset = (64 - raw.address() % 64) % 64;
    BytePointer b = new BytePointer(raw).capacity(bytes).limit(bytes);
    ptr = b.getPointer(FloatPointer.class, offset / 4); // the index counts floats
    ptr.position(0).capacity(size).limit(size);
    if (ptr.address() % 64 != 0) throw new IllegalStateException("alignment failed");
  }

  /** The floats, position 0, limit = size. Do not move its position. */
  FloatPointer pointer() {
    return ptr;
  }

  long size() {
    return size;
  }

  /** Uniform values in [-1, 1), reproducible from the seed. */
  NativeFloats fillRandom(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] chunk = new float[(int) Math.min(CHUNK, size)];
    FloatPointer view = new FloatPointer(ptr);
    for (long i = 0; i < size; i += chunk.length) {
      int n = (int) Math.min(chunk.length, size - i);
      for (int j = 0; j < n; j++) chunk[j] = (float) (r.nextDouble() * 2.0 - 1.0);
      view.position(i).put(chunk, 0, n);
    }
    return this;
  }

  NativeFloats fill(float value) {
    float[] chunk = new float[(int) Math.min(CHUNK, size)];
    java.util.Arrays.fill(chunk, value);
    FloatPointer view = new FloatPointer(ptr);
    for (long i = 0; i < size; i += chunk.length) {
      int n = (int) Math.min(chunk.length, size - i);
      view.position(i).put(chunk, 0, n);
    }
    return this;
  }

  float get(long i) {
    return ptr.get(i);
  }

  void set(long i, float v) {
    ptr.put(i, v);
  }

  /** Reads floats [from, from + n) into dst[0..n). */
  void read(long from, float[] dst, int n) {
    new FloatPointer(ptr).position(from).get(dst, 0, n);
  }

  /** Writes src[0..n) into floats [from, from + n). */
  void write(long from, float[] src, int n) {
    new FloatPointer(ptr).position(from).put(src, 0, n);
  }

  @Override
  public void close() {
    if (raw != null) {
      Pointer.free(raw);
      raw = null;
    }
  }
}
