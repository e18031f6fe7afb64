package org.mec4j.bench;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.mec4j.Conv2d;

/**
 * oneDNN's best CPU convolution for a layer, through the C API of the JavaCPP preset: fp32,
 * forward inference, {@code convolution_auto} (oneDNN picks the implementation), source and
 * destination NHWC in the caller's memory (the same buffers mec4j uses), weights given in HWIO
 * (grouped: mec4j's g x HWIO, oneDNN's ghwio) and reordered once, outside any timed region, into the blocked format oneDNN asks for
 * ({@code format_tag any}). The scratchpad is in user mode: allocated once here, its size is what
 * {@link #scratchpadBytes()} reports.
 *
 * <p>oneDNN threads with its own OpenMP runtime: set OMP_NUM_THREADS for the process.
 */
final class OneDnnConv implements AutoCloseable {
  private static dnnl_engine engine;
  private static dnnl_stream stream;

  private final dnnl_memory_desc srcMd = new dnnl_memory_desc(), userWeiMd = new dnnl_memory_desc(),
      anyWeiMd = new dnnl_memory_desc(), dstMd = new dnnl_memory_desc();
  private final dnnl_primitive_attr attr = new dnnl_primitive_attr();
  private final dnnl_primitive_desc pd = new dnnl_primitive_desc();
  private final dnnl_primitive prim = new dnnl_primitive();
  private final dnnl_memory src = new dnnl_memory(), userWei = new dnnl_memory(), dst = new dnnl_memory();
  private dnnl_memory wei, scratch;
  private NativeFloats weiBuffer, scratchBuffer;
  private final dnnl_exec_arg_t args;
  private final String impl;
  private final long scratchpadBytes, reorderedWeightsBytes;
  private final double reorderMs;
  private boolean closed;

  static synchronized void init() {
    if (engine != null) return;
    dnnl_engine e = new dnnl_engine();
    check(dnnl_engine_create(e, dnnl_cpu, 0), "engine_create");
    dnnl_stream s = new dnnl_stream();
    check(dnnl_stream_create(s, e, dnnl_stream_default_flags), "stream_create");
    engine = e;
    stream = s;
  }

  /** "oneDNN 3.11.0 (OpenMP)". */
  static String version() {
    dnnl_version_t v = dnnl_version();
    int rt = v.cpu_runtime();
    String runtime = rt == 1 ? "sequential" : rt == 2 ? "OpenMP" : rt == 4 ? "TBB" : rt == 8 ? "threadpool" : "runtime " + rt;
    return "oneDNN " + v.major() + "." + v.minor() + "." + v.patch() + " (" + runtime + ")";
  }

  OneDnnConv(Conv2d c, NativeFloats input, NativeFloats hwioWeights, NativeFloats output) {
    init();
    boolean ok = false;
    try {
      long n = c.batch(), ic = c.inputChannels(), oc = c.outputChannels();
      check(dnnl_memory_desc_create_with_tag(srcMd, 4, new long[] {n, ic, c.inputHeight(), c.inputWidth()}, dnnl_f32, dnnl_nhwc), "src md");
      long g = c.groups();
      if (g == 1) {
        long[] w = {oc, ic, c.kernelHeight(), c.kernelWidth()};
        check(dnnl_memory_desc_create_with_tag(userWeiMd, 4, w, dnnl_f32, dnnl_hwio), "weights md");
        check(dnnl_memory_desc_create_with_tag(anyWeiMd, 4, w, dnnl_f32, dnnl_format_tag_any), "weights md any");
      } else {
        // oneDNN's grouped weights are {g, oc/g, ic/g, kh, kw}; mec4j's g x kh x kw x icg x kcg
        // (each group's HWIO in turn) is the tag ghwio. Depthwise takes this path too.
        long[] w = {g, oc / g, ic / g, c.kernelHeight(), c.kernelWidth()};
        check(dnnl_memory_desc_create_with_tag(userWeiMd, 5, w, dnnl_f32, dnnl_ghwio), "grouped weights md");
        check(dnnl_memory_desc_create_with_tag(anyWeiMd, 5, w, dnnl_f32, dnnl_format_tag_any), "grouped weights md any");
      }
      check(dnnl_memory_desc_create_with_tag(dstMd, 4, new long[] {n, oc, c.outputHeight(), c.outputWidth()}, dnnl_f32, dnnl_nhwc), "dst md");
      check(dnnl_primitive_attr_create(attr), "attr");
      check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
      check(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_convolution_auto,
          srcMd, anyWeiMd, null, dstMd, new long[] {c.strideHeight(), c.strideWidth()},
          new long[] {c.dilationHeight() - 1, c.dilationWidth() - 1},  // oneDNN counts dilation from 0
          new long[] {c.padTop(), c.padLeft()}, new long[] {c.padBottom(), c.padRight()}, attr), "convolution primitive desc");
      PointerPointer<BytePointer> info = new PointerPointer<>(1);
      check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl query");
      impl = info.getString(0);
      dnnl_memory_desc spMd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
      scratchpadBytes = spMd == null || spMd.isNull() ? 0 : dnnl_memory_desc_get_size(spMd);
      check(dnnl_primitive_create(prim, pd), "primitive create");

      check(dnnl_memory_create(src, srcMd, engine, input.pointer()), "src memory");
      check(dnnl_memory_create(dst, dstMd, engine, output.pointer()), "dst memory");
      check(dnnl_memory_create(userWei, userWeiMd, engine, hwioWeights.pointer()), "weights memory");
      if (scratchpadBytes > 0) {
        scratchBuffer = new NativeFloats((scratchpadBytes + 3) / 4);
        scratch = new dnnl_memory();
        check(dnnl_memory_create(scratch, spMd, engine, scratchBuffer.pointer()), "scratchpad memory");
      }
      dnnl_memory_desc wantWei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
      long t0 = System.nanoTime();
      if (dnnl_memory_desc_equal(wantWei, userWeiMd) != 0) {
        wei = userWei;
        reorderedWeightsBytes = 0;
      } else {
        reorderedWeightsBytes = dnnl_memory_desc_get_size(wantWei);
        weiBuffer = new NativeFloats((reorderedWeightsBytes + 3) / 4);
        wei = new dnnl_memory();
        check(dnnl_memory_create(wei, wantWei, engine, weiBuffer.pointer()), "blocked weights memory");
        reorder(userWei, userWeiMd, wei, wantWei);
      }
      reorderMs = (System.nanoTime() - t0) / 1e6;

      args = new dnnl_exec_arg_t(4);
      args.position(0).arg(DNNL_ARG_SRC).memory(src);
      args.position(1).arg(DNNL_ARG_WEIGHTS).memory(wei);
      args.position(2).arg(DNNL_ARG_DST).memory(dst);
      args.position(3).arg(DNNL_ARG_SCRATCHPAD).memory(scratch);
      args.position(0);
      ok = true;
    } finally {
      if (!ok) close();
    }
  }

  private static void reorder(dnnl_memory from, dnnl_memory_desc fromMd, dnnl_memory to, dnnl_memory_desc toMd) {
    dnnl_primitive_desc rpd = new dnnl_primitive_desc();
    dnnl_primitive r = new dnnl_primitive();
    check(dnnl_reorder_primitive_desc_create(rpd, fromMd, engine, toMd, engine, null), "reorder desc");
    try {
      check(dnnl_primitive_create(r, rpd), "reorder primitive");
      dnnl_exec_arg_t a = new dnnl_exec_arg_t(2);
      a.position(0).arg(DNNL_ARG_FROM).memory(from);
      a.position(1).arg(DNNL_ARG_TO).memory(to);
      a.position(0);
      check(dnnl_primitive_execute(r, stream, 2, a), "reorder execute");
      check(dnnl_stream_wait(stream), "stream wait");
      a.close();
    } finally {
      if (!r.isNull()) dnnl_primitive_destroy(r);
      dnnl_primitive_desc_destroy(rpd);
    }
  }

  /** One forward pass, finished when this returns. */
  void run() {
    if (closed) throw new IllegalStateException("closed");
    boolean verbose = announce;
    if (verbose) {
      // oneDNN's own report of its runtime, thread count and ISA, once per JVM, on stdout
      // ("onednn_verbose,...,runtime:OpenMP,nthr:N"): the parent reads it from the child's output.
      announce = false;
      dnnl_set_verbose(1);
    }
    try {
      check(dnnl_primitive_execute(prim, stream, scratch == null ? 3 : 4, args), "execute");
      check(dnnl_stream_wait(stream), "stream wait");
    } finally {
      if (verbose) dnnl_set_verbose(0);
    }
  }

  /** Print oneDNN's verbose header at the next execution (set by the child JVM). */
  static volatile boolean announce;

  /** The implementation oneDNN chose, e.g. "brg_conv_fwd:avx2". */
  String impl() {
    return impl;
  }

  long scratchpadBytes() {
    return scratchpadBytes;
  }

  /** Bytes of the weights copy in oneDNN's blocked format (0 if HWIO was kept). */
  long reorderedWeightsBytes() {
    return reorderedWeightsBytes;
  }

  /** Time of the one-off weights reorder (not part of any timing). */
  double reorderMs() {
    return reorderMs;
  }

  static void check(int status, String what) {
    if (status != dnnl_success) throw new IllegalStateException("oneDNN: " + what + " failed with status " + status);
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    if (wei != null && wei != userWei && !wei.isNull()) dnnl_memory_destroy(wei);
    for (dnnl_memory m : new dnnl_memory[] {src, dst, userWei, scratch})
      if (m != null && !m.isNull()) dnnl_memory_destroy(m);
    if (!prim.isNull()) dnnl_primitive_destroy(prim);
    if (!pd.isNull()) dnnl_primitive_desc_destroy(pd);
    if (!attr.isNull()) dnnl_primitive_attr_destroy(attr);
    for (dnnl_memory_desc md : new dnnl_memory_desc[] {srcMd, userWeiMd, anyWeiMd, dstMd})
      if (!md.isNull()) dnnl_memory_desc_destroy(md);
    if (weiBuffer != null) weiBuffer.close();
    if (scratchBuffer != null) scratchBuffer.close();
  }
}
