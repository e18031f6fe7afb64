package org.mec4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The float arguments of one native call, checked together before it (as netlib-java's AbstractBLAS
 * checks a BLAS call's): each is a float[] from an offset, a FloatBuffer or a FloatPointer from its
 * position, of {@code floats} floats. {@link #check} throws, in this order: {@link
 * NullPointerException} for a missing argument, {@link IndexOutOfBoundsException} for one too
 * small, {@link IllegalArgumentException} for an unusable one (a heap or read-only FloatBuffer, the
 * wrong byte order, a FloatPointer without a limit) and for an output that overlaps any other
 * argument, output or not (the same array, or the same memory).
 */
final class Arguments {
  private record Arg(
      String name, Object value, int offset, long floats, boolean optional, boolean output) {}

  private final List<Arg> args = new ArrayList<>(4);

  Arguments in(String name, Object value, int offset, long floats) {
    return add(name, value, offset, floats, false, false);
  }

  /** An input that may be null (none). */
  Arguments inOrNull(String name, Object value, int offset, long floats) {
    return add(name, value, offset, floats, true, false);
  }

  Arguments out(String name, Object value, int offset, long floats) {
    return add(name, value, offset, floats, false, true);
  }

  /** An output that may be null (none). */
  Arguments outOrNull(String name, Object value, int offset, long floats) {
    return add(name, value, offset, floats, true, true);
  }

  private Arguments add(
      String name, Object value, int offset, long floats, boolean optional, boolean output) {
    args.add(new Arg(name, value, offset, floats, optional, output));
    return this;
  }

  void check() {
    for (Arg a : args) if (a.value == null && !a.optional) throw new NullPointerException(a.name);
    for (Arg a : args) if (a.value != null) checkSize(a);
    for (Arg out : args)
      if (out.output && out.value != null)
        for (Arg a : args)
          if (a != out && a.value != null && overlap(a, out))
            throw new IllegalArgumentException(
                a.name
                    + " and "
                    + out.name
                    + " must not overlap"
                    + (a.value instanceof float[]
                        ? " (the same array, "
                            + a.name
                            + " from offset "
                            + a.offset
                            + ", "
                            + out.name
                            + " from offset "
                            + out.offset
                            + ")"
                        : " in memory"));
  }

  private static void checkSize(Arg a) {
    String name = a.name;
    if (a.value instanceof float[] array) {
      if (a.offset < 0)
        throw new IndexOutOfBoundsException(name + "Offset must be >= 0, got " + a.offset);
      if (a.offset > array.length || array.length - a.offset < a.floats)
        throw new IndexOutOfBoundsException(
            name
                + " needs "
                + a.floats
                + " floats from offset "
                + a.offset
                + ", but its length is "
                + array.length);
    } else if (a.value instanceof FloatBuffer b) {
      if (!b.isDirect())
        throw new IllegalArgumentException(
            name
                + " must be a direct FloatBuffer, got a heap buffer "
                + "(use float[] or ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer())");
      if (b.order() != ByteOrder.nativeOrder())
        throw new IllegalArgumentException(
            name
                + " must be in native byte order ("
                + ByteOrder.nativeOrder()
                + "), got "
                + b.order());
      if (b.remaining() < a.floats)
        throw new IndexOutOfBoundsException(
            name
                + " needs "
                + a.floats
                + " floats from position "
                + b.position()
                + ", but only "
                + b.remaining()
                + " remain");
      if (a.output && b.isReadOnly())
        throw new IllegalArgumentException(name + " must be writable, got a read-only FloatBuffer");
    } else {
      FloatPointer p = (FloatPointer) a.value;
      if (p.isNull()) throw new NullPointerException(name + " is a null FloatPointer");
      if (p.limit() <= 0)
        throw new IllegalArgumentException(
            name + " has no known limit: set one with limit(n) so that its size can be checked");
      if (p.position() < 0 || p.position() > p.limit() || p.limit() - p.position() < a.floats)
        throw new IndexOutOfBoundsException(
            name
                + " needs "
                + a.floats
                + " floats from position "
                + p.position()
                + ", but its limit is "
                + p.limit());
    }
  }

  /** Whether two checked arguments share floats: in the same array, or in memory (native ones). */
  private static boolean overlap(Arg a, Arg b) {
    if (a.value instanceof float[] || b.value instanceof float[])
      return a.value == b.value && a.offset < b.offset + b.floats && b.offset < a.offset + a.floats;
    long start = address(a), bStart = address(b);
    return start < bStart + b.floats * Float.BYTES && bStart < start + a.floats * Float.BYTES;
  }

  /**
   * Byte address of a direct buffer's or a pointer's position (a Pointer over a buffer starts at
   * element 0).
   */
  private static long address(Arg a) {
    if (a.value instanceof FloatBuffer b)
      return new Pointer(b).address() + b.position() * (long) Float.BYTES;
    FloatPointer p = (FloatPointer) a.value;
    return p.address() + p.position() * (long) Float.BYTES;
  }
}
