package org.mec4j.bench;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.function.IntUnaryOperator;
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
 * oneDNN's best CPU convolution for a layer, through the C API of the JavaCPP preset: fp32, {@code
 * convolution_auto} (oneDNN picks the implementation; {@code convolution_direct} if auto is
 * refused), activations and their gradients NHWC in the caller's memory (the same buffers mec4j
 * uses), weights and weight gradients in HWIO (grouped: mec4j's g x HWIO, oneDNN's ghwio), with
 * {@code format_tag any} for the primitive's own weights layout. The scratchpad is in user mode:
 * allocated once here, its size is what {@link #scratchpadBytes()} reports. No fp32 math mode is
 * set on the primitives: the default one applies (the runner sets
 * ONEDNN_DEFAULT_FPMATH_MODE=STRICT).
 *
 * <ul>
 *   <li>{@link Dir#FWD}: forward inference; the weights are reordered once, here, outside any timed
 *       region, into the layout oneDNN asks for.
 *   <li>{@link Dir#BWD_D}: backward data (diff_src from diff_dst and the weights), with a forward
 *       training primitive as hint; the weights are reordered once, here, like the forward's.
 *   <li>{@link Dir#BWD_W}: backward weights (diff_weights and diff_bias from src and diff_dst),
 *       with a forward training hint. The primitive writes diff_weights in the layout it asks for;
 *       when that is not HWIO, {@link #run()} reorders them back into the caller's HWIO buffer, and
 *       the reorder is part of every timed call (a user needs the gradients in its own layout).
 *       When oneDNN asks for HWIO itself, it writes straight into the caller's buffer. Which of the
 *       two happens is oneDNN's choice per layer ({@link #reordersGradients()}): with oneDNN 3.11
 *       on AVX2 its jit backward-weights kernels ask for blocked layouts (the reorder is timed),
 *       its gemm-based one took HWIO as is on some dilated layers.
 * </ul>
 *
 * <p>oneDNN threads with its own OpenMP runtime: set OMP_NUM_THREADS for the process.
 */
final class OneDnnConv implements AutoCloseable {
  private static dnnl_engine engine;
  private static dnnl_stream stream;

  private final Dir direction;
  private final dnnl_memory_desc srcMd = new dnnl_memory_desc(),
      userWeiMd = new dnnl_memory_desc(),
      anyWeiMd = new dnnl_memory_desc(),
      dstMd = new dnnl_memory_desc(),
      biasMd = new dnnl_memory_desc();
  private final dnnl_primitive_attr attr = new dnnl_primitive_attr();
  private final dnnl_primitive_desc hintPd = new dnnl_primitive_desc(),
      pd = new dnnl_primitive_desc();
  private final dnnl_primitive prim = new dnnl_primitive();

  /**
   * Memories over the caller's buffers (src/dst hold diff_src/diff_dst for the backward passes).
   */
  private final dnnl_memory src = new dnnl_memory(),
      userWei = new dnnl_memory(),
      dst = new dnnl_memory();

  private dnnl_memory wei, bias, scratch;
  private NativeFloats weiBuffer, scratchBuffer;

  /**
   * BWD_W: the reorder of diff_weights from oneDNN's layout into the caller's HWIO, run in {@link
   * #run()}.
   */
  private Reorder toUser;

  private final dnnl_exec_arg_t args;
  private final int nargs;
  private final String impl;
  private final long scratchpadBytes, reorderedWeightsBytes;
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
    String runtime =
        rt == 1
            ? "sequential"
            : rt == 2 ? "OpenMP" : rt == 4 ? "TBB" : rt == 8 ? "threadpool" : "runtime " + rt;
    return "oneDNN " + v.major() + "." + v.minor() + "." + v.patch() + " (" + runtime + ")";
  }

  /** The forward pass: output = conv(input, weights). */
  OneDnnConv(Conv2d c, NativeFloats input, NativeFloats hwioWeights, NativeFloats output) {
    this(Dir.FWD, c, input, hwioWeights, output, null);
  }

  /** The forward pass with a bias (k_c floats): output = conv(input, weights) + bias. */
  OneDnnConv(
      Conv2d c,
      NativeFloats input,
      NativeFloats hwioWeights,
      NativeFloats bias,
      NativeFloats output) {
    this(Dir.FWD, c, input, hwioWeights, output, bias);
  }

  /** Backward data: gradInput (overwritten) from gradOutput and the HWIO weights. */
  static OneDnnConv backwardData(
      Conv2d c, NativeFloats gradOutput, NativeFloats hwioWeights, NativeFloats gradInput) {
    return new OneDnnConv(Dir.BWD_D, c, gradInput, hwioWeights, gradOutput, null);
  }

  /**
   * Backward weights: gradWeights (HWIO) and gradBias (k_c floats), both overwritten, from input
   * and gradOutput.
   */
  static OneDnnConv backwardWeights(
      Conv2d c,
      NativeFloats input,
      NativeFloats gradOutput,
      NativeFloats gradWeights,
      NativeFloats gradBias) {
    return new OneDnnConv(Dir.BWD_W, c, input, gradWeights, gradOutput, gradBias);
  }

  /**
   * @param srcBuf NHWC input (FWD, BWD_W) or gradient of the input (BWD_D)
   * @param weiBuf HWIO weights (FWD, BWD_D) or their gradient (BWD_W)
   * @param dstBuf NHWC output (FWD) or gradient of the output (BWD_D, BWD_W)
   * @param biasBuf BWD_W: gradient of the bias; FWD: the bias or null; BWD_D: null
   */
  private OneDnnConv(
      Dir d,
      Conv2d c,
      NativeFloats srcBuf,
      NativeFloats weiBuf,
      NativeFloats dstBuf,
      NativeFloats biasBuf) {
    init();
    direction = d;
    boolean ok = false;
    try {
      long n = c.batch(), ic = c.inputChannels(), oc = c.outputChannels();
      check(
          dnnl_memory_desc_create_with_tag(
              srcMd, 4, new long[] {n, ic, c.inputHeight(), c.inputWidth()}, dnnl_f32, dnnl_nhwc),
          "src md");
      long g = c.groups();
      if (g == 1) {
        long[] w = {oc, ic, c.kernelHeight(), c.kernelWidth()};
        check(dnnl_memory_desc_create_with_tag(userWeiMd, 4, w, dnnl_f32, dnnl_hwio), "weights md");
        check(
            dnnl_memory_desc_create_with_tag(anyWeiMd, 4, w, dnnl_f32, dnnl_format_tag_any),
            "weights md any");
      } else {
        // oneDNN's grouped weights are {g, oc/g, ic/g, kh, kw}; mec4j's g x kh x kw x icg x kcg
        // (each group's HWIO in turn) is the tag ghwio. Depthwise takes this path too.
        long[] w = {g, oc / g, ic / g, c.kernelHeight(), c.kernelWidth()};
        check(
            dnnl_memory_desc_create_with_tag(userWeiMd, 5, w, dnnl_f32, dnnl_ghwio),
            "grouped weights md");
        check(
            dnnl_memory_desc_create_with_tag(anyWeiMd, 5, w, dnnl_f32, dnnl_format_tag_any),
            "grouped weights md any");
      }
      check(
          dnnl_memory_desc_create_with_tag(
              dstMd, 4, new long[] {n, oc, c.outputHeight(), c.outputWidth()}, dnnl_f32, dnnl_nhwc),
          "dst md");
      if (d == Dir.BWD_W || (d == Dir.FWD && biasBuf != null))
        check(
            dnnl_memory_desc_create_with_tag(biasMd, 1, new long[] {oc}, dnnl_f32, dnnl_x),
            "bias md");
      check(dnnl_primitive_attr_create(attr), "attr");
      check(
          dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
          "scratchpad mode");
      long[] strides = {c.strideHeight(), c.strideWidth()};
      long[] dilates = {
        c.dilationHeight() - 1, c.dilationWidth() - 1
      }; // oneDNN counts dilation from 0
      long[] padL = {c.padTop(), c.padLeft()}, padR = {c.padBottom(), c.padRight()};
      dnnl_memory_desc hintBias = d == Dir.BWD_W ? biasMd : null;
      switch (d) {
        case FWD ->
            withAlgorithm(
                "convolution primitive desc",
                alg ->
                    dnnl_convolution_forward_primitive_desc_create(
                        pd,
                        engine,
                        dnnl_forward_inference,
                        alg,
                        srcMd,
                        anyWeiMd,
                        biasBuf != null ? biasMd : null,
                        dstMd,
                        strides,
                        dilates,
                        padL,
                        padR,
                        attr));
        case BWD_D ->
            withAlgorithm(
                "backward data primitive desc",
                alg -> {
                  int s = hint(alg, hintBias, strides, dilates, padL, padR);
                  return s != dnnl_success
                      ? s
                      : dnnl_convolution_backward_data_primitive_desc_create(
                          pd, engine, alg, srcMd, anyWeiMd, dstMd, strides, dilates, padL, padR,
                          hintPd, attr);
                });
        case BWD_W ->
            withAlgorithm(
                "backward weights primitive desc",
                alg -> {
                  int s = hint(alg, hintBias, strides, dilates, padL, padR);
                  return s != dnnl_success
                      ? s
                      : dnnl_convolution_backward_weights_primitive_desc_create(
                          pd, engine, alg, srcMd, anyWeiMd, biasMd, dstMd, strides, dilates, padL,
                          padR, hintPd, attr);
                });
      }
      PointerPointer<BytePointer> info = new PointerPointer<>(1);
      check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl query");
      impl = info.getString(0);
      dnnl_memory_desc spMd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
      scratchpadBytes = spMd == null || spMd.isNull() ? 0 : dnnl_memory_desc_get_size(spMd);
      check(dnnl_primitive_create(prim, pd), "primitive create");

      check(dnnl_memory_create(src, srcMd, engine, srcBuf.pointer()), "src memory");
      check(dnnl_memory_create(dst, dstMd, engine, dstBuf.pointer()), "dst memory");
      check(dnnl_memory_create(userWei, userWeiMd, engine, weiBuf.pointer()), "weights memory");
      if (biasBuf != null) {
        bias = new dnnl_memory();
        check(dnnl_memory_create(bias, biasMd, engine, biasBuf.pointer()), "bias memory");
      }
      if (scratchpadBytes > 0) {
        scratchBuffer = new NativeFloats((scratchpadBytes + 3) / 4);
        scratch = new dnnl_memory();
        check(
            dnnl_memory_create(scratch, spMd, engine, scratchBuffer.pointer()),
            "scratchpad memory");
      }
      dnnl_memory_desc wantWei =
          dnnl_primitive_desc_query_md(
              pd, d == Dir.BWD_W ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
      if (dnnl_memory_desc_equal(wantWei, userWeiMd) != 0) {
        wei = userWei;
        reorderedWeightsBytes = 0;
      } else {
        reorderedWeightsBytes = dnnl_memory_desc_get_size(wantWei);
        weiBuffer = new NativeFloats((reorderedWeightsBytes + 3) / 4);
        wei = new dnnl_memory();
        check(
            dnnl_memory_create(wei, wantWei, engine, weiBuffer.pointer()),
            "blocked weights memory");
        if (d == Dir.BWD_W) {
          toUser = new Reorder(wei, wantWei, userWei, userWeiMd); // run with every timed call
        } else {
          try (Reorder r =
              new Reorder(userWei, userWeiMd, wei, wantWei)) { // once, outside any timing
            r.run();
          }
        }
      }

      args = new dnnl_exec_arg_t(5);
      int k = 0;
      switch (d) {
        case FWD -> {
          args.position(k++).arg(DNNL_ARG_SRC).memory(src);
          args.position(k++).arg(DNNL_ARG_WEIGHTS).memory(wei);
          if (bias != null) args.position(k++).arg(DNNL_ARG_BIAS).memory(bias);
          args.position(k++).arg(DNNL_ARG_DST).memory(dst);
        }
        case BWD_D -> {
          args.position(k++).arg(DNNL_ARG_DIFF_DST).memory(dst);
          args.position(k++).arg(DNNL_ARG_WEIGHTS).memory(wei);
          args.position(k++).arg(DNNL_ARG_DIFF_SRC).memory(src);
        }
        case BWD_W -> {
          args.position(k++).arg(DNNL_ARG_SRC).memory(src);
          args.position(k++).arg(DNNL_ARG_DIFF_DST).memory(dst);
          args.position(k++).arg(DNNL_ARG_DIFF_WEIGHTS).memory(wei);
          args.position(k++).arg(DNNL_ARG_DIFF_BIAS).memory(bias);
        }
      }
      if (scratch != null) args.position(k++).arg(DNNL_ARG_SCRATCHPAD).memory(scratch);
      args.position(0);
      nargs = k;
      ok = true;
    } finally {
      if (!ok) close();
    }
  }

  /** The forward training primitive desc a backward one needs as hint, into {@link #hintPd}. */
  private int hint(
      int alg,
      dnnl_memory_desc biasDesc,
      long[] strides,
      long[] dilates,
      long[] padL,
      long[] padR) {
    if (!hintPd.isNull()) {
      dnnl_primitive_desc_destroy(hintPd);
      hintPd.setNull();
    }
    return dnnl_convolution_forward_primitive_desc_create(
        hintPd,
        engine,
        dnnl_forward_training,
        alg,
        srcMd,
        anyWeiMd,
        biasDesc,
        dstMd,
        strides,
        dilates,
        padL,
        padR,
        attr);
  }

  /** convolution_auto, else convolution_direct: auto may be refused where direct is not. */
  private static void withAlgorithm(String what, IntUnaryOperator create) {
    int s = create.applyAsInt(dnnl_convolution_auto);
    if (s == dnnl_unimplemented) s = create.applyAsInt(dnnl_convolution_direct);
    check(s, what);
  }

  /** A reorder primitive between two memories, created once. */
  private static final class Reorder implements AutoCloseable {
    private final dnnl_primitive_desc rpd = new dnnl_primitive_desc();
    private final dnnl_primitive r = new dnnl_primitive();
    private final dnnl_exec_arg_t a = new dnnl_exec_arg_t(2);

    Reorder(dnnl_memory from, dnnl_memory_desc fromMd, dnnl_memory to, dnnl_memory_desc toMd) {
      boolean ok = false;
      try {
        check(
            dnnl_reorder_primitive_desc_create(rpd, fromMd, engine, toMd, engine, null),
            "reorder desc");
        check(dnnl_primitive_create(r, rpd), "reorder primitive");
        a.position(0).arg(DNNL_ARG_FROM).memory(from);
        a.position(1).arg(DNNL_ARG_TO).memory(to);
        a.position(0);
        ok = true;
      } finally {
        if (!ok) close();
      }
    }

    /** Queued on the stream; the caller waits. */
    void execute() {
      check(dnnl_primitive_execute(r, stream, 2, a), "reorder execute");
    }

    void run() {
      execute();
      check(dnnl_stream_wait(stream), "stream wait");
    }

    @Override
    public void close() {
      if (!r.isNull()) dnnl_primitive_destroy(r);
      if (!rpd.isNull()) dnnl_primitive_desc_destroy(rpd);
      a.close();
    }
  }

  /**
   * One pass of this direction (BWD_W: with the reorder back to HWIO if any), finished when this
   * returns.
   */
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
      check(dnnl_primitive_execute(prim, stream, nargs, args), "execute");
      if (toUser != null) toUser.execute(); // same in-order stream: after the convolution
      check(dnnl_stream_wait(stream), "stream wait");
    } finally {
      if (verbose) dnnl_set_verbose(0);
    }
  }

  /** Print oneDNN's verbose header at the next execution (set by the child JVM). */
  static volatile boolean announce;

  Dir direction() {
    return direction;
  }

  /** The implementation oneDNN chose, e.g. "brg_conv_fwd:avx2". */
  String impl() {
    return impl;
  }

  long scratchpadBytes() {
    return scratchpadBytes;
  }

  /**
   * Bytes of the weights (BWD_W: weight gradients) in oneDNN's own layout, 0 if it took HWIO: FWD
   * and BWD_D reorder into it once; BWD_W writes there and reorders back to HWIO on every call.
   */
  long reorderedWeightsBytes() {
    return reorderedWeightsBytes;
  }

  /** BWD_W: true if every call reorders the weight gradients from oneDNN's layout into HWIO. */
  boolean reordersGradients() {
    return toUser != null;
  }

  static void check(int status, String what) {
    if (status != dnnl_success)
      throw new IllegalStateException("oneDNN: " + what + " failed with status " + status);
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    if (toUser != null) toUser.close();
    if (wei != null && wei != userWei && !wei.isNull()) dnnl_memory_destroy(wei);
    for (dnnl_memory m : new dnnl_memory[] {src, dst, userWei, bias, scratch})
      if (m != null && !m.isNull()) dnnl_memory_destroy(m);
    if (!prim.isNull()) dnnl_primitive_destroy(prim);
    if (!pd.isNull()) dnnl_primitive_desc_destroy(pd);
    if (!hintPd.isNull()) dnnl_primitive_desc_destroy(hintPd);
    if (!attr.isNull()) dnnl_primitive_attr_destroy(attr);
    for (dnnl_memory_desc md : new dnnl_memory_desc[] {srcMd, userWeiMd, anyWeiMd, dstMd, biasMd})
      if (!md.isNull()) dnnl_memory_desc_destroy(md);
    if (weiBuffer != null) weiBuffer.close();
    if (scratchBuffer != null) scratchBuffer.close();
  }
}
