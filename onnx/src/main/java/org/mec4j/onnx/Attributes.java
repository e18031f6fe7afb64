package org.mec4j.onnx;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mec4j.onnx.proto.Onnx.AttributeProto;
import org.mec4j.onnx.proto.Onnx.NodeProto;

/** A node's attributes by name, with ONNX's defaults and errors naming the node. */
final class Attributes {
  private final Map<String, AttributeProto> byName = new HashMap<>();
  private final String node;

  Attributes(NodeProto n, String node) {
    this.node = node;
    for (AttributeProto a : n.getAttributeList()) byName.put(a.getName(), a);
  }

  boolean has(String name) {
    return byName.containsKey(name);
  }

  long i(String name, long dflt) {
    AttributeProto a = byName.get(name);
    return a == null ? dflt : a.getI();
  }

  float f(String name, float dflt) {
    AttributeProto a = byName.get(name);
    return a == null ? dflt : a.getF();
  }

  String s(String name, String dflt) {
    AttributeProto a = byName.get(name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  /** The ints, or null if absent. */
  long[] ints(String name) {
    AttributeProto a = byName.get(name);
    if (a == null) return null;
    List<Long> v = a.getIntsList();
    long[] r = new long[v.size()];
    for (int k = 0; k < r.length; k++) r[k] = v.get(k);
    return r;
  }

  /** The ints, which must number {@code count} if present, else {@code dflt}. */
  long[] ints(String name, int count, long... dflt) {
    long[] v = ints(name);
    if (v == null) return dflt;
    if (v.length != count)
      throw new OnnxModelException(
          node + ": attribute " + name + " has " + v.length + " values, expected " + count);
    return v;
  }

  AttributeProto get(String name) {
    return byName.get(name);
  }
}
