package org.mec4j.onnx;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The float arrays of an executor's intermediate values, reused: the executor releases a value's
 * array once no later step reads it, and the next op asking for an array of that size takes it
 * instead of allocating (and zeroing) a fresh one, within a run and across runs. An array taken
 * from here holds stale values: only ops that write every element take one. Not thread-safe, like
 * the executor that owns it.
 */
final class Buffers {
  private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
  // Arrays handed out and not yet released: only these come back (never a constant, an input or an
  // array an op allocated itself).
  private final Set<float[]> lent = Collections.newSetFromMap(new IdentityHashMap<>());

  /** An array of n floats with any contents (checked against Java's and the heap's limits). */
  float[] floats(int n) {
    ArrayDeque<float[]> q = free.get(n);
    float[] a = q == null ? null : q.poll();
    if (a == null) a = new float[Tensor.checkAllocatable(n)];
    lent.add(a);
    return a;
  }

  /** Takes back an array this pool lent, for reuse; any other array is left alone. */
  void release(float[] a) {
    if (lent.remove(a)) free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
  }

  /**
   * Forgets the arrays still lent (the graph outputs a run returns, now the caller's): they are
   * never handed out again.
   */
  void endRun() {
    lent.clear();
  }
}
