// Native tests of the C API: correctness against the reference, workspace formulas, guard zones
// around every buffer the library writes, and status codes for bad input.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "configs/igemm_config.h"
#include "isa.h"
#include "mec4j.h"
#include "test_support.h"

MEC4J_DECLARE_F32_IGEMM(f32_igemm_12x32_on_avx2)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_6x64_on_avx2)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_16x16_on_avx2)

static int64_t ws_bytes(const mec4j_conv2d& c, mec4j_algorithm a) {
  int64_t b = -1;
  mec4j_status st = mec4j_workspace_size(&c, a, &b);
  return st == MEC4J_OK ? b : -1;
}

static void test_paper_example() {
  mec4j_conv2d c = conv(1, 7, 7, 1, 3, 3, 1, 1, 1);
  CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC_B) == 105 * 4, "MEC workspace %lld",
        (long long)ws_bytes(c, MEC4J_ALGORITHM_MEC_B));
  // Unpadded: MEC_FUSED, and so MEC, multiply the windows in the input itself.
  CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC) == 0 && ws_bytes(c, MEC4J_ALGORITHM_MEC_FUSED) == 0, "read in place");
  mec4j_conv2d padded = conv(1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1);  // the same 7x7, padded
  CHECK(ws_bytes(padded, MEC4J_ALGORITHM_MEC) == 105 * 4, "padded MEC workspace %lld",
        (long long)ws_bytes(padded, MEC4J_ALGORITHM_MEC));
  CHECK(ws_bytes(c, MEC4J_ALGORITHM_IM2COL) == 225 * 4, "im2col workspace");
  CHECK(ws_bytes(c, MEC4J_ALGORITHM_REFERENCE) == 0, "reference workspace");
  int64_t oh = 0, ow = 0;
  CHECK(mec4j_output_size(&c, &oh, &ow) == MEC4J_OK && oh == 5 && ow == 5, "output 5x5");
}

static void test_cv_layer_formulas() {
  struct {
    int64_t ih, iw, ic, kh, kw, kc, s;
  } cv[] = {{227, 227, 3, 11, 11, 96, 4}, {231, 231, 3, 11, 11, 96, 4}, {227, 227, 3, 7, 7, 64, 2},
            {224, 224, 64, 7, 7, 64, 2},  {24, 24, 96, 5, 5, 256, 1},   {12, 12, 256, 3, 3, 512, 1},
            {224, 224, 3, 3, 3, 64, 1},   {112, 112, 64, 3, 3, 128, 1}, {56, 56, 64, 3, 3, 64, 1},
            {28, 28, 128, 3, 3, 128, 1},  {14, 14, 256, 3, 3, 256, 1},  {7, 7, 512, 3, 3, 512, 1}};
  for (int64_t n : {1, 32})
    for (auto& l : cv) {
      mec4j_conv2d c = conv(n, l.ih, l.iw, l.ic, l.kh, l.kw, l.kc, l.s, l.s);
      int64_t oh = (l.ih - l.kh) / l.s + 1, ow = (l.iw - l.kw) / l.s + 1;
      const int64_t whole = 4 * n * ow * l.ih * l.kw * l.ic;
      CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC_B) == whole, "MEC's whole lowering");
      mec4j_conv2d uncapped = c;
      uncapped.mec_workspace_limit = -1;
      CHECK(ws_bytes(uncapped, MEC4J_ALGORITHM_MEC_ROWS) == whole, "MEC_ROWS without a cap: the whole lowering");
      // Unpadded: MEC (MEC_FUSED) reads the windows in place, capped or not.
      CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC) == 0 && ws_bytes(uncapped, MEC4J_ALGORITHM_MEC) == 0, "in place");
      // Padded by one: the default is sized from the cache, per hardware thread twice the L2, or
      // one band of output rows where that is larger; never more than the whole lowering.
      const mec4j_conv2d p = conv(n, l.ih - 2, l.iw - 2, l.ic, l.kh, l.kw, l.kc, l.s, l.s, 1, 1, 1, 1);
      const int64_t band_rows = std::max<int64_t>(1, 4 * (l.kh - 1));
      const int64_t band = 4 * (((band_rows - 1) * l.s + l.kh) * ow * l.kw * l.ic + 16);
      const int64_t per_thread = std::max<int64_t>(2 * mec4j::l2_cache_bytes(), band);
      const int64_t ws = ws_bytes(p, MEC4J_ALGORITHM_MEC);
      CHECK(ws > 0 && ws <= whole && ws <= per_thread * mec4j::hardware_threads(),
            "MEC's default workspace %lld (whole %lld)", (long long)ws, (long long)whole);
      mec4j_conv2d p_uncapped = p;
      p_uncapped.mec_workspace_limit = -1;
      CHECK(ws_bytes(p_uncapped, MEC4J_ALGORITHM_MEC) == whole, "padded MEC without a cap: the whole lowering");
      CHECK(ws_bytes(c, MEC4J_ALGORITHM_IM2COL) == 4 * n * oh * ow * l.kh * l.kw * l.ic, "im2col formula");
    }
}

// MEC's whole lowering (no workspace cap), in bytes.
static int64_t whole_mec_bytes(const mec4j_conv2d& c) {
  mec4j_conv2d uncapped = c;
  uncapped.mec_workspace_limit = -1;
  return ws_bytes(uncapped, MEC4J_ALGORITHM_MEC_FUSED);
}

static const char* describe(const mec4j_conv2d& c) {
  static char text[256];
  std::snprintf(text, sizeof text,
                "n%lld ih%lld iw%lld ic%lld k%lldx%lld kc%lld s%lldx%lld pad%lld,%lld,%lld,%lld g%lld d%lldx%lld limit "
                "%lld act%d "
                "[%g,%g]",
                (long long)c.batch, (long long)c.in_height, (long long)c.in_width, (long long)c.in_channels,
                (long long)c.kernel_height, (long long)c.kernel_width, (long long)c.out_channels,
                (long long)c.stride_height, (long long)c.stride_width, (long long)c.pad_top, (long long)c.pad_bottom,
                (long long)c.pad_left, (long long)c.pad_right, (long long)c.groups, (long long)c.dilation_height,
                (long long)c.dilation_width, (long long)c.mec_workspace_limit, (int)c.activation, c.activation_min,
                c.activation_max);
  return text;
}

// Runs one algorithm on a shape and compares with the reference; exact for small integers.
static void run_case(const mec4j_conv2d& c, mec4j_algorithm a, bool integers, std::mt19937_64& rng, bool with_bias) {
  int64_t oh, ow;
  if (mec4j_output_size(&c, &oh, &ow) != MEC4J_OK) {
    CHECK(false, "shape rejected");
    return;
  }
  int64_t in_n = c.batch * c.in_height * c.in_width * c.in_channels;
  const int64_t groups = c.groups > 1 ? c.groups : 1;
  int64_t k_n = c.kernel_height * c.kernel_width * c.in_channels / groups * c.out_channels;
  int64_t out_n = c.batch * oh * ow * c.out_channels;
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  auto fill = [&](std::vector<float>& v) {
    for (auto& x : v) x = integers ? (float)small(rng) : real(rng);
  };
  std::vector<float> in(in_n), k(k_n), bias(c.out_channels), expect(out_n);
  fill(in);
  fill(k);
  fill(bias);
  const float* b = with_bias ? bias.data() : nullptr;
  CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_REFERENCE, in.data(), k.data(), b, expect.data(), nullptr, 0) ==
            MEC4J_OK,
        "reference");

  int64_t wsb = ws_bytes(c, a);
  // Which BLAS variants refuse grouped or row-dilated layers (the implementation list says so).
  const bool one_window = groups == 1 && c.dilation_height <= 1;
  // Solution A also permutes the output through L (|O| <= |L|) and never runs single-image tiles.
  const int64_t ihp = c.in_height + c.pad_top + c.pad_bottom;
  const int64_t image_l = ow * ihp * c.kernel_width * c.in_channels;  // one image's L, floats
  const bool single_image_tiles =
      c.mec_workspace_limit > 0 && c.mec_workspace_limit / 4 < image_l && c.mec_workspace_limit / 4 < image_l * c.batch;
  const bool refused = ((a == MEC4J_ALGORITHM_MEC_B || a == MEC4J_ALGORITHM_MEC_A) && !one_window) ||
                       (a == MEC4J_ALGORITHM_MEC_ROWS && groups > 1) ||
                       (a == MEC4J_ALGORITHM_DEPTHWISE && !(groups > 1 && groups == c.in_channels)) ||
                       (a == MEC4J_ALGORITHM_MEC_A && (out_n > image_l * c.batch || single_image_tiles));
  if (wsb < 0) {
    CHECK(refused, "%s: workspace query failed: %s", mec4j_algorithm_name(a), describe(c));
    return;
  }
  CHECK(!refused, "%s accepted a layer it cannot run: %s", mec4j_algorithm_name(a), describe(c));
  // Workspace: 64-byte aligned, NaN-filled (nothing may read stale data), guarded on both sides.
  int64_t ws_floats = wsb / 4;
  float* raw = static_cast<float*>(std::aligned_alloc(64, ((ws_floats + 2 * 16) * 4 + 63) / 64 * 64));
  for (int64_t i = 0; i < ws_floats + 32; ++i) raw[i] = (i < 16 || i >= ws_floats + 16) ? SENTINEL : NAN;
  Guarded out(out_n);
  mec4j_status st = mec4j_conv2d_forward(&c, a, in.data(), k.data(), b, out.data(), raw + 16, wsb);
  CHECK(st == MEC4J_OK, "%s: %s", mec4j_algorithm_name(a), mec4j_status_string(st));
  CHECK(out.guards_intact(), "%s wrote outside the output", mec4j_algorithm_name(a));
  bool ws_guards = true;
  for (int64_t i = 0; i < 16; ++i) ws_guards &= raw[i] == SENTINEL && raw[ws_floats + 16 + i] == SENTINEL;
  CHECK(ws_guards, "%s wrote outside the workspace (%lld bytes): %s", mec4j_algorithm_name(a), (long long)wsb,
        describe(c));
  std::free(raw);
  int bad = 0;
  for (int64_t i = 0; i < out_n && bad < 3; ++i) {
    float e = expect[i], g = out.data()[i];
    float tol = integers ? 0.f
                         : 1e-4f * (1.f + std::fabs(e)) *
                               std::sqrt((float)(c.kernel_height * c.kernel_width * c.in_channels / groups));
    if (!(std::fabs(e - g) <= tol)) {
      ++bad;
      CHECK(false, "%s %s: [%lld] %g != %g", mec4j_algorithm_name(a), describe(c), (long long)i, g, e);
    }
  }
  if (c.activation != MEC4J_ACTIVATION_NONE) {
    // Fused: the same bits as the unfused run followed by the activation.
    mec4j_conv2d plain = c;
    plain.activation = MEC4J_ACTIVATION_NONE;
    const int64_t plain_bytes = ws_bytes(plain, a);
    float* ws = plain_bytes > 0 ? static_cast<float*>(mec4j_workspace_alloc(plain_bytes)) : nullptr;
    std::vector<float> unfused(out_n);
    st = mec4j_conv2d_forward(&plain, a, in.data(), k.data(), b, unfused.data(), ws, plain_bytes);
    mec4j_workspace_free(ws);
    CHECK(st == MEC4J_OK, "%s unfused: %s", mec4j_algorithm_name(a), mec4j_status_string(st));
    const float lo = c.activation == MEC4J_ACTIVATION_RELU ? 0.f : c.activation_min;
    const float hi = c.activation == MEC4J_ACTIVATION_RELU ? INFINITY : c.activation_max;
    for (int64_t i = 0, mismatches = 0; i < out_n; ++i) {
      const float want = std::min(std::max(unfused[i], lo), hi);
      if (std::memcmp(&want, &out.data()[i], sizeof want) && mismatches++ < 3)
        CHECK(false, "%s fused activation %s: [%lld] %g, unfused then activated %g", mec4j_algorithm_name(a),
              describe(c), (long long)i, out.data()[i], want);
    }
  }
}

static void test_random_shapes(uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  const mec4j_algorithm algos[] = {MEC4J_ALGORITHM_IM2COL,   MEC4J_ALGORITHM_MEC,      MEC4J_ALGORITHM_MEC_A,
                                   MEC4J_ALGORITHM_MEC_B,    MEC4J_ALGORITHM_MEC_ROWS, MEC4J_ALGORITHM_MEC_FUSED,
                                   MEC4J_ALGORITHM_DEPTHWISE};
  for (int i = 0; i < cases; ++i) {
    int64_t kh = r(1, 5), kw = r(1, 5);
    // Padding up to two beyond the kernel (outputs that see only zeros); every fourth case
    // grouped (depthwise among them), every fifth dilated.
    mec4j_conv2d c = conv(r(1, 3), 0, 0, r(1, 5), kh, kw, r(1, 6), r(1, 4), r(1, 4), r(0, kh + 1), r(0, kh + 1),
                          r(0, kw + 1), r(0, kw + 1));
    if (i % 4 == 3) {
      const int64_t g = r(2, 4);
      c.groups = g;
      c.in_channels = g * (i % 8 == 3 ? 1 : r(1, 3));
      c.out_channels = g * r(1, 3);
    }
    if (i % 5 == 2) {
      c.dilation_height = r(1, 3);
      c.dilation_width = r(1, 3);
    }
    const int64_t ekh = (kh - 1) * std::max<int64_t>(1, c.dilation_height) + 1;
    const int64_t ekw = (kw - 1) * std::max<int64_t>(1, c.dilation_width) + 1;
    c.in_height = r(std::max<int64_t>(1, ekh - c.pad_top - c.pad_bottom), 13);
    c.in_width = r(std::max<int64_t>(1, ekw - c.pad_left - c.pad_right), 13);
    c.mec_threshold = r(1, 16);
    bool integers = i % 2 == 0;
    if (i % 3 == 1) {
      c.activation = MEC4J_ACTIVATION_RELU;
    } else if (i % 3 == 2) {  // ReLU6-like bounds inside the outputs' range
      c.activation = MEC4J_ACTIVATION_CLAMP;
      c.activation_min = integers ? -2.5f : -0.5f;
      c.activation_max = integers ? 4.0f : 0.75f;
    }
    if (i % 4 == 1 || i % 7 == 3) {  // a workspace cap between the smallest tile and the whole of L: MEC must tile
      int64_t oh, ow, smallest = 0, b = 0;
      mec4j_output_size(&c, &oh, &ow);
      int64_t full = (c.in_height + c.pad_top + c.pad_bottom) * c.kernel_width * c.in_channels * 4 * ow * c.batch;
      CHECK(mec4j_min_workspace_limit(&c, &smallest) == MEC4J_OK && smallest > 0 && smallest <= full, "%s",
            describe(c));
      // The query is the refusal boundary: a byte less is refused, the minimum accepted.
      c.mec_workspace_limit = smallest - 1;
      CHECK(mec4j_conv2d_check(&c, nullptr) == MEC4J_ERROR_WORKSPACE_LIMIT, "limit %lld below the minimum accepted: %s",
            (long long)c.mec_workspace_limit, describe(c));
      c.mec_workspace_limit = smallest;
      CHECK(
          mec4j_conv2d_check(&c, nullptr) == MEC4J_OK && mec4j_min_workspace_limit(&c, &b) == MEC4J_OK && b == smallest,
          "the minimum refused: %s", describe(c));
      c.mec_workspace_limit =
          smallest + (int64_t)(std::uniform_real_distribution<double>(0, 1)(rng) * (full - smallest));
      CHECK(mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC, &b) == MEC4J_OK && b <= c.mec_workspace_limit,
            "capped workspace %lld over the limit: %s", (long long)b, describe(c));
    }
    for (auto a : algos) run_case(c, a, integers, rng, i % 3 == 0);
  }
}

static mec4j_conv2d grouped_conv(mec4j_conv2d c, int64_t groups, int64_t dilation) {
  c.groups = groups;
  c.dilation_height = c.dilation_width = dilation;
  return c;
}

// Shapes large enough for full 6x16 micro-tiles, several K blocks of MEC_FUSED (K > 256, blocks
// that start inside a row window), both of its thread splits (many rows / many column panels)
// and a partial last column panel.
static void test_large_shapes(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const mec4j_conv2d shapes[] = {
      conv(2, 11, 9, 40, 3, 3, 37, 1, 1, 1, 1, 1, 1),                          // K = 1080, N = 37
      conv(1, 5, 5, 96, 3, 3, 200, 1, 1),                                      // M = 9: split over column panels
      conv(3, 17, 15, 7, 5, 4, 64, 2, 3, 2, 0, 0, 3),                          // strides, asymmetric padding
      conv(1, 30, 30, 3, 11, 11, 16, 4, 4),                                    // K = 363 from 33-float windows
      grouped_conv(conv(2, 14, 13, 128, 3, 3, 128, 1, 1, 1, 1, 1, 1), 32, 1),  // ResNeXt: 32 groups of 4
      grouped_conv(conv(1, 12, 12, 96, 3, 3, 96, 2, 2, 1, 1, 1, 1), 96, 1),    // depthwise, stride 2
      grouped_conv(conv(2, 21, 19, 40, 3, 3, 70, 1, 1, 4, 4, 4, 4), 2, 4),     // dilation 4, 2 groups
      grouped_conv(conv(1, 17, 17, 300, 3, 3, 20, 1, 1, 2, 2, 2, 2), 1, 2),    // dilated, K blocks
      // lowered images beyond twice the L2: MEC_FUSED runs cache bands, one per thread
      conv(2, 70, 66, 24, 3, 3, 20, 1, 1, 1, 1, 1, 1),
      conv(2, 40, 40, 3, 3, 3, 64, 1, 1, 1, 1, 1, 1),  // K = 27: one K block, output streamed (small L2)
      conv(2, 40, 40, 3, 3, 3, 64, 1, 1),              // the same unpadded (Direct)
      grouped_conv(conv(1, 97, 61, 32, 3, 3, 24, 2, 1, 2, 3, 2, 2), 4, 2)};
  const mec4j_algorithm algos[] = {MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_ROWS, MEC4J_ALGORITHM_MEC_FUSED,
                                   MEC4J_ALGORITHM_DEPTHWISE};
  for (const auto& c : shapes)
    for (auto a : algos)
      for (bool integers : {true, false}) {
        run_case(c, a, integers, rng, !integers);
        mec4j_conv2d capped = c;  // row bands / image tiles
        capped.mec_workspace_limit = whole_mec_bytes(c) / 3;
        run_case(capped, a, integers, rng, integers);
      }
  // The default workspace on a CPU with a small L2: chunks of images and cache bands, whatever
  // this machine's L2 is. The workspace query must shrink to match.
  for (int64_t l2 : {int64_t(6) << 10, int64_t(48) << 10}) {
    mec4j::set_l2_cache_bytes_for_testing(l2);
    for (const auto& c : shapes) {
      CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC_FUSED) <= whole_mec_bytes(c),
            "cache-sized workspace no larger than the lowering: %s", describe(c));
      for (auto a : {MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_FUSED})
        for (bool integers : {true, false}) run_case(c, a, integers, rng, integers);
    }
    mec4j::set_l2_cache_bytes_for_testing(0);
  }
}

// Outputs computed by hand, so that a convention shared by the reference and every algorithm
// (padding, output size, kernel layout per group, dilation) cannot be wrong unnoticed.
static void test_known_answers() {
  struct Case {
    const char* what;
    mec4j_conv2d c;
    std::vector<float> in, k, bias, out;
  };
  mec4j_conv2d padded = conv(1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);  // padding beyond the kernel
  mec4j_conv2d grouped = conv(1, 1, 1, 4, 1, 1, 2, 1, 1);
  grouped.groups = 2;
  mec4j_conv2d dilated = conv(1, 1, 5, 1, 1, 2, 1, 1, 1);
  dilated.dilation_width = 2;
  mec4j_conv2d dilated_rows = conv(1, 5, 1, 1, 2, 1, 1, 2, 1, 1, 0, 0, 0);
  dilated_rows.dilation_height = 3;
  mec4j_conv2d depthwise = conv(1, 1, 2, 2, 1, 2, 4, 1, 1, 0, 0, 1, 0);  // channel multiplier 2
  depthwise.groups = 2;
  const Case cases[] = {
      {"padding 1 around a 1x1 kernel",
       padded,
       {1, 2, 3, 4},
       {2},
       {0.5f},
       {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 2.5f, 4.5f, 0.5f, 0.5f, 6.5f, 8.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}},
      {"2 groups", grouped, {1, 2, 3, 4}, {1, 10, 100, 1000}, {}, {21, 4300}},
      {"dilation 2 across columns", dilated, {1, 2, 3, 4, 5}, {1, 10}, {}, {31, 42, 53}},
      // rows -1 (padding), 0..4; taps at rows y*2 - 1 and y*2 + 2: o_h = (6 - 4) / 2 + 1 = 2
      {"dilation 3 down rows, stride 2", dilated_rows, {1, 2, 3, 4, 5}, {1, 10}, {}, {30, 2 + 50}},
      // output (0, x) for x = 0, 1: taps at columns x - 1 and x; channel c feeds outputs 2c, 2c+1
      {"depthwise, multiplier 2",
       depthwise,
       {1, 2, 3, 4},
       {1, 2, 10, 20, 3, 4, 30, 40},
       {},
       {10, 20, 60, 80, 1 + 30, 2 + 60, 3 * 2 + 4 * 30, 4 * 2 + 4 * 40}},
  };
  size_t count = 0;
  for (const Case& tc : cases)
    for (int a = MEC4J_ALGORITHM_REFERENCE; a <= MEC4J_ALGORITHM_MEC_FUSED + 1; ++a) {
      const mec4j_algorithm alg = (mec4j_algorithm)a;
      int64_t wsb = 0;
      const mec4j_status st = mec4j_workspace_size(&tc.c, alg, &wsb);
      if (st == MEC4J_ERROR_UNKNOWN_ALGORITHM) continue;
      const bool must_run = alg == MEC4J_ALGORITHM_REFERENCE || alg == MEC4J_ALGORITHM_IM2COL ||
                            alg == MEC4J_ALGORITHM_MEC || alg == MEC4J_ALGORITHM_MEC_FUSED;
      CHECK(st == MEC4J_OK || (!must_run && st == MEC4J_ERROR_UNSUPPORTED), "%s, %s: %s", tc.what,
            mec4j_algorithm_name(alg), mec4j_status_string(st));
      if (st != MEC4J_OK) continue;
      void* ws = wsb ? mec4j_workspace_alloc(wsb) : nullptr;
      std::vector<float> out(tc.out.size() + 1, SENTINEL);
      CHECK(mec4j_conv2d_forward(&tc.c, alg, tc.in.data(), tc.k.data(), tc.bias.empty() ? nullptr : tc.bias.data(),
                                 out.data(), ws, wsb) == MEC4J_OK,
            "%s, %s: forward", tc.what, mec4j_algorithm_name(alg));
      mec4j_workspace_free(ws);
      for (size_t i = 0; i < tc.out.size(); ++i)
        CHECK(out[i] == tc.out[i], "%s, %s: [%zu] %g != %g", tc.what, mec4j_algorithm_name(alg), i, out[i], tc.out[i]);
      CHECK(out.back() == SENTINEL, "%s, %s wrote past the output", tc.what, mec4j_algorithm_name(alg));
      ++count;
    }
  CHECK(count >= 20, "known answers: only %zu runs", count);
}

// NCHW (OIHW kernel): the same convolution as NHWC on transposed data, bit for bit on integers,
// for REFERENCE, MEC and MEC_FUSED (pixel panels across rows and images, padded or not, groups,
// dilation, strides, activations, large images); packed kernels, other algorithms, workspace
// limits and backward passes refused.
static void test_nchw(uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::uniform_int_distribution<int> small(-3, 3);
  int64_t runs = 0;
  for (int i = 0; i < cases; ++i) {
    const int64_t kh = r(1, 5), kw = r(1, 5);
    mec4j_conv2d c =
        conv(r(1, 3), 0, 0, r(1, 9), kh, kw, r(1, 40), r(1, 3), r(1, 3), r(0, kh), r(0, kh), r(0, kw), r(0, kw));
    if (i % 4 == 3) {
      const int64_t g = r(2, 3);
      c.groups = g;
      c.in_channels = g * r(1, 3);
      c.out_channels = g * r(1, 8);
    }
    if (i % 5 == 2) c.dilation_height = c.dilation_width = 2;
    const int64_t ekh = (kh - 1) * std::max<int64_t>(1, c.dilation_height) + 1;
    const int64_t ekw = (kw - 1) * std::max<int64_t>(1, c.dilation_width) + 1;
    // Now and then an image larger than the cache bands (several bands per image).
    const int64_t big = i % 9 == 4 ? 200 : 15;
    c.in_height = r(std::max<int64_t>(1, ekh - c.pad_top - c.pad_bottom), big);
    c.in_width = r(std::max<int64_t>(1, ekw - c.pad_left - c.pad_right), big);
    if (i % 9 == 4) c.in_channels = std::min<int64_t>(c.in_channels, 3) * (c.groups > 1 ? c.groups : 1);
    if (i % 3 == 1) c.activation = MEC4J_ACTIVATION_RELU;
    // Large images: many pixel panels.
    if (i == 0) c = conv(1, 700, 700, 3, 3, 3, 4, 1, 1, 1, 1, 1, 1);
    if (i == 1) c = conv(3, 300, 400, 8, 1, 1, 5, 1, 1);
    int64_t oh, ow;
    if (mec4j_output_size(&c, &oh, &ow) != MEC4J_OK) {
      CHECK(false, "shape rejected: %s", describe(c));
      continue;
    }
    const int64_t n = c.batch, ic = c.in_channels, ih = c.in_height, iw = c.in_width, kc = c.out_channels;
    const int64_t fh = c.kernel_height, fw = c.kernel_width;
    const int64_t g = c.groups > 1 ? c.groups : 1, icg = ic / g, kcg = kc / g;
    std::vector<float> in(n * ih * iw * ic), k(fh * fw * icg * kc), bias(kc);
    for (auto* v : {&in, &k, &bias})
      for (auto& x : *v) x = (float)small(rng);
    // NCHW input, OIHW kernel.
    std::vector<float> in_t(in.size()), k_t(k.size());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t y = 0; y < ih; ++y)
        for (int64_t x = 0; x < iw; ++x)
          for (int64_t ch = 0; ch < ic; ++ch)
            in_t[((b * ic + ch) * ih + y) * iw + x] = in[((b * ih + y) * iw + x) * ic + ch];
    for (int64_t grp = 0; grp < g; ++grp)
      for (int64_t t = 0; t < fh * fw; ++t)
        for (int64_t ci = 0; ci < icg; ++ci)
          for (int64_t o = 0; o < kcg; ++o)
            k_t[((grp * kcg + o) * icg + ci) * fh * fw + t] = k[((grp * fh * fw + t) * icg + ci) * kcg + o];
    const int64_t out_n = n * oh * ow * kc;
    std::vector<float> want(out_n), want_t(out_n);
    CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_REFERENCE, in.data(), k.data(), bias.data(), want.data(), nullptr,
                               0) == MEC4J_OK,
          "NHWC reference");
    for (int64_t b = 0; b < n; ++b)
      for (int64_t pix = 0; pix < oh * ow; ++pix)
        for (int64_t ch = 0; ch < kc; ++ch) want_t[(b * kc + ch) * oh * ow + pix] = want[(b * oh * ow + pix) * kc + ch];
    {  // The NHWC layer's automatic MEC first: its measured choice must not carry over to NCHW.
      const int64_t wsb = ws_bytes(c, MEC4J_ALGORITHM_MEC);
      void* ws = wsb > 0 ? mec4j_workspace_alloc(wsb) : nullptr;
      std::vector<float> got(out_n);
      CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC, in.data(), k.data(), bias.data(), got.data(), ws, wsb) ==
                    MEC4J_OK &&
                got == want,
            "NHWC MEC: %s", describe(c));
      mec4j_workspace_free(ws);
    }
    mec4j_conv2d nchw = c;
    nchw.layout = MEC4J_LAYOUT_NCHW;
    for (mec4j_algorithm a : {MEC4J_ALGORITHM_REFERENCE, MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_FUSED}) {
      const int64_t wsb = ws_bytes(nchw, a);
      CHECK(wsb >= 0, "%s refused NCHW: %s", mec4j_algorithm_name(a), describe(nchw));
      if (wsb < 0) continue;
      void* ws = wsb > 0 ? mec4j_workspace_alloc(wsb) : nullptr;
      Guarded out(out_n);
      const mec4j_status st = mec4j_conv2d_forward(&nchw, a, in_t.data(), k_t.data(), bias.data(), out.data(), ws, wsb);
      CHECK(st == MEC4J_OK && out.guards_intact(), "%s NCHW: status %d, guards %d", mec4j_algorithm_name(a), (int)st,
            out.guards_intact());
      int64_t wrong = 0;
      for (int64_t j = 0; j < out_n; ++j) wrong += out.data()[j] != want_t[j];
      CHECK(wrong == 0, "%s NCHW %s: %lld of %lld outputs differ from NHWC's", mec4j_algorithm_name(a), describe(nchw),
            (long long)wrong, (long long)out_n);
      if (a == MEC4J_ALGORITHM_MEC_FUSED) {  // NCHW reads its OIHW kernel as it is: nothing to pack
        int64_t pb = 0;
        CHECK(wsb == 0, "NCHW MEC_FUSED takes a workspace: %lld bytes", (long long)wsb);
        CHECK(mec4j_packed_kernel_size(&nchw, &pb) == MEC4J_ERROR_UNSUPPORTED, "NCHW packed size");
      }
      mec4j_workspace_free(ws);
      ++runs;
    }
    int64_t bytes;
    for (mec4j_algorithm a : {MEC4J_ALGORITHM_IM2COL, MEC4J_ALGORITHM_MEC_A, MEC4J_ALGORITHM_MEC_B,
                              MEC4J_ALGORITHM_MEC_ROWS, MEC4J_ALGORITHM_DEPTHWISE})
      CHECK(mec4j_workspace_size(&nchw, a, &bytes) == MEC4J_ERROR_UNSUPPORTED, "%s accepted NCHW",
            mec4j_algorithm_name(a));
    mec4j_conv2d limited = nchw;
    limited.mec_workspace_limit = -1;
    CHECK(mec4j_workspace_size(&limited, MEC4J_ALGORITHM_MEC, &bytes) == MEC4J_ERROR_UNSUPPORTED,
          "NCHW with a workspace limit");
    CHECK(mec4j_workspace_size_for(&nchw, MEC4J_ALGORITHM_REFERENCE, MEC4J_DIRECTION_BACKWARD_DATA, &bytes) ==
              MEC4J_ERROR_UNSUPPORTED,
          "NCHW backward data");
  }
  mec4j_conv2d bad = conv(1, 5, 5, 2, 3, 3, 2, 1, 1);
  bad.layout = 2;
  const char* field = nullptr;
  CHECK(mec4j_conv2d_check(&bad, &field) == MEC4J_ERROR_INVALID_ARGUMENT && field && !std::strcmp(field, "layout"),
        "layout 2 accepted");
  CHECK(runs == 3 * cases, "NCHW: %lld runs", (long long)runs);
}

static void test_bad_activation() {
  const mec4j_conv2d ok = conv(2, 9, 9, 3, 3, 3, 4, 1, 1);
  struct {
    int32_t activation;
    float lo, hi;
    const char* field;                                      // null: valid
  } cases[] = {{MEC4J_ACTIVATION_RELU, NAN, NAN, nullptr},  // RELU ignores the bounds
               {MEC4J_ACTIVATION_CLAMP, 0.f, 6.f, nullptr},
               {MEC4J_ACTIVATION_CLAMP, 1.f, 1.f, nullptr},
               {MEC4J_ACTIVATION_CLAMP, -INFINITY, INFINITY, nullptr},
               {MEC4J_ACTIVATION_CLAMP, 6.f, 0.f, "activation_max"},
               {MEC4J_ACTIVATION_CLAMP, NAN, 6.f, "activation_min"},
               {MEC4J_ACTIVATION_CLAMP, 0.f, NAN, "activation_max"},
               {3, 0.f, 6.f, "activation"},
               {-1, 0.f, 6.f, "activation"}};
  for (const auto& k : cases) {
    mec4j_conv2d c = ok;
    c.activation = k.activation;
    c.activation_min = k.lo;
    c.activation_max = k.hi;
    const char* field = nullptr;
    const mec4j_status st = mec4j_conv2d_check(&c, &field);
    if (!k.field) {
      CHECK(st == MEC4J_OK, "activation %d [%g, %g] refused", k.activation, k.lo, k.hi);
      continue;
    }
    CHECK(st == MEC4J_ERROR_INVALID_ARGUMENT && field && !std::strcmp(field, k.field),
          "activation %d [%g, %g]: status %d field %s, expected %s", k.activation, k.lo, k.hi, (int)st,
          field ? field : "(none)", k.field);
  }
  // The backward passes differentiate the convolution alone: refused with an activation.
  mec4j_conv2d relu = ok;
  relu.activation = MEC4J_ACTIVATION_RELU;
  std::vector<float> big(4096);
  for (mec4j_algorithm a : {MEC4J_ALGORITHM_REFERENCE, MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_FUSED}) {
    int64_t bytes = -1;
    CHECK(mec4j_workspace_size_for(&relu, a, MEC4J_DIRECTION_BACKWARD_DATA, &bytes) == MEC4J_ERROR_UNSUPPORTED,
          "%s: backward data workspace of an activated layer", mec4j_algorithm_name(a));
    CHECK(
        mec4j_conv2d_backward_data(&relu, a, big.data(), big.data(), big.data(), nullptr, 0) == MEC4J_ERROR_UNSUPPORTED,
        "%s: backward data of an activated layer", mec4j_algorithm_name(a));
    CHECK(mec4j_conv2d_backward_weights(&relu, a, big.data(), big.data(), big.data(), nullptr, nullptr, 0) ==
              MEC4J_ERROR_UNSUPPORTED,
          "%s: backward weights of an activated layer", mec4j_algorithm_name(a));
  }
}

static void test_bad_input() {
  const char* field = nullptr;
  mec4j_conv2d ok = conv(2, 9, 9, 3, 3, 3, 4, 1, 1);
  CHECK(mec4j_conv2d_check(&ok, &field) == MEC4J_OK, "valid shape");
  CHECK(mec4j_conv2d_check(nullptr, &field) == MEC4J_ERROR_NULL_ARGUMENT, "null conv");
  struct {
    int64_t mec4j_conv2d::*member;
    int64_t value;
    const char* name;
    mec4j_status st;
  } cases[] = {
      {&mec4j_conv2d::batch, 0, "batch", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::in_height, -1, "in_height", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::in_width, 0, "in_width", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::in_channels, 0, "in_channels", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::kernel_height, 0, "kernel_height", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::kernel_width, -3, "kernel_width", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::out_channels, 0, "out_channels", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::stride_height, 0, "stride_height", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::stride_width, -1, "stride_width", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::pad_top, -1, "pad_top", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::pad_bottom, -3, "pad_bottom", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::pad_left, -4, "pad_left", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::groups, -1, "groups", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::groups, 2, "groups", MEC4J_ERROR_INVALID_ARGUMENT},  // does not divide i_c = 3
      {&mec4j_conv2d::groups, 3, "groups", MEC4J_ERROR_INVALID_ARGUMENT},  // does not divide k_c = 4
      {&mec4j_conv2d::dilation_height, -1, "dilation_height", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::dilation_width, -2, "dilation_width", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::dilation_height, 5, "kernel_height", MEC4J_ERROR_INVALID_ARGUMENT},  // (3-1)*5+1 > 9
      {&mec4j_conv2d::dilation_width, INT64_MAX / 2 + 1, "dilation_width", MEC4J_ERROR_SIZE_OVERFLOW},
      {&mec4j_conv2d::pad_right, -2, "pad_right", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::kernel_height, 10, "kernel_height", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::kernel_width, 12, "kernel_width", MEC4J_ERROR_INVALID_ARGUMENT},
      {&mec4j_conv2d::batch, INT64_MAX / 2, "conv", MEC4J_ERROR_SIZE_OVERFLOW},
      {&mec4j_conv2d::in_channels, INT64_MAX / 4, "conv", MEC4J_ERROR_SIZE_OVERFLOW},
      {&mec4j_conv2d::out_channels, INT64_MAX / 8, "conv", MEC4J_ERROR_SIZE_OVERFLOW},
      {&mec4j_conv2d::in_width, INT64_MAX, "in_width", MEC4J_ERROR_SIZE_OVERFLOW},
  };
  std::vector<float> in(2 * 9 * 9 * 3, 1.f), k(3 * 3 * 3 * 4, 1.f), out(2 * 7 * 7 * 4, 7.f);
  for (auto& tc : cases) {
    mec4j_conv2d c = ok;
    c.*tc.member = tc.value;
    if (tc.member == &mec4j_conv2d::in_width && tc.value == INT64_MAX) c.pad_left = 1;
    field = nullptr;
    mec4j_status st = mec4j_conv2d_check(&c, &field);
    CHECK(st == tc.st, "%s=%lld: status %d", tc.name, (long long)tc.value, (int)st);
    CHECK(field && std::strcmp(field, tc.name) == 0, "%s=%lld: field %s", tc.name, (long long)tc.value,
          field ? field : "(null)");
    int64_t b = 0;
    CHECK(mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC, &b) == tc.st, "%s: workspace_size status", tc.name);
    CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_REFERENCE, in.data(), k.data(), nullptr, out.data(), nullptr, 0) ==
              tc.st,
          "%s: forward status", tc.name);
  }
  for (float v : out) CHECK(v == 7.f, "output touched on error");

  // MEC_B: a variant that always needs a workspace (MEC reads this unpadded layer in place).
  int64_t wsb = ws_bytes(ok, MEC4J_ALGORITHM_MEC_B);
  void* ws = mec4j_workspace_alloc(wsb);
  CHECK(ws && reinterpret_cast<uintptr_t>(ws) % MEC4J_WORKSPACE_ALIGNMENT == 0, "aligned alloc");
  auto fwd = [&](mec4j_algorithm a, const float* i, const float* kk, float* o, void* w, int64_t wb) {
    return mec4j_conv2d_forward(&ok, a, i, kk, nullptr, o, w, wb);
  };
  CHECK(fwd(MEC4J_ALGORITHM_MEC_B, nullptr, k.data(), out.data(), ws, wsb) == MEC4J_ERROR_NULL_ARGUMENT, "null input");
  CHECK(fwd(MEC4J_ALGORITHM_MEC_B, in.data(), nullptr, out.data(), ws, wsb) == MEC4J_ERROR_NULL_ARGUMENT,
        "null kernel");
  CHECK(fwd(MEC4J_ALGORITHM_MEC_B, in.data(), k.data(), nullptr, ws, wsb) == MEC4J_ERROR_NULL_ARGUMENT, "null output");
  CHECK(fwd(MEC4J_ALGORITHM_MEC_B, in.data(), k.data(), out.data(), nullptr, wsb) == MEC4J_ERROR_NULL_ARGUMENT,
        "null workspace");
  CHECK(fwd(MEC4J_ALGORITHM_MEC_B, in.data(), k.data(), out.data(), ws, wsb - 1) == MEC4J_ERROR_WORKSPACE_TOO_SMALL,
        "small workspace");
  {  // large enough, but 4 bytes off the alignment
    void* roomy = mec4j_workspace_alloc(wsb + 64);
    CHECK(fwd(MEC4J_ALGORITHM_MEC_B, in.data(), k.data(), out.data(), static_cast<char*>(roomy) + 4, wsb) ==
              MEC4J_ERROR_WORKSPACE_MISALIGNED,
          "misaligned");
    mec4j_workspace_free(roomy);
  }
  CHECK(fwd((mec4j_algorithm)42, in.data(), k.data(), out.data(), ws, wsb) == MEC4J_ERROR_UNKNOWN_ALGORITHM,
        "unknown algorithm");
  for (float v : out) CHECK(v == 7.f, "output touched on error");
  mec4j_workspace_free(ws);
  CHECK(mec4j_workspace_alloc(0) == nullptr && mec4j_workspace_alloc(-5) == nullptr, "alloc of <= 0");
  CHECK(mec4j_workspace_alloc(INT64_MAX) == nullptr, "huge alloc fails cleanly");
  // Solution A needs |O| <= |L|: 1x1 kernel with many output channels.
  mec4j_conv2d wide = conv(1, 4, 4, 1, 1, 1, 64, 1, 1);
  int64_t b;
  CHECK(mec4j_workspace_size(&wide, MEC4J_ALGORITHM_MEC_A, &b) == MEC4J_ERROR_UNSUPPORTED, "A with |O|>|L|");
  mec4j_algorithm r;
  // Before a layer has run (or in heuristic mode): unpadded 1x1 layers multiply the input in
  // place with the igemm; padded layers with few output channels (below half the kernel's tile)
  // use the BLAS variants, with K = k_w*i_c = 3 at batch 1: B.
  CHECK(mec4j_resolve_algorithm(&wide, MEC4J_ALGORITHM_MEC, &r) == MEC4J_OK && r == MEC4J_ALGORITHM_MEC_FUSED,
        "auto on a 1x1 kernel, 64 channels");
  mec4j_conv2d narrow = conv(1, 4, 4, 1, 3, 3, 2, 1, 1, 1, 1, 1, 1);
  CHECK(mec4j_resolve_algorithm(&narrow, MEC4J_ALGORITHM_MEC, &r) == MEC4J_OK && r == MEC4J_ALGORITHM_MEC_B,
        "auto on a padded 3x3 kernel, 2 channels picks B");
  CHECK(mec4j_blas_set_threads(0) == MEC4J_ERROR_INVALID_ARGUMENT, "threads 0");
  // A workspace limit below one strip (one output column of one image) cannot be met. (Padded:
  // an unpadded layer's MEC reads the input in place.)
  mec4j_conv2d capped = conv(2, 7, 7, 3, 3, 3, 4, 1, 1, 1, 1, 1, 1);
  capped.mec_workspace_limit = 9 * 3 * 3 * 4 - 1;
  CHECK(mec4j_min_workspace_limit(&capped, &b) == MEC4J_OK && b == 9 * 3 * 3 * 4, "smallest tile: one strip");
  CHECK(mec4j_min_workspace_limit(&capped, nullptr) == MEC4J_ERROR_NULL_ARGUMENT, "min limit: null bytes");
  CHECK(mec4j_min_workspace_limit(nullptr, &b) == MEC4J_ERROR_NULL_ARGUMENT, "min limit: null conv");
  field = nullptr;
  CHECK(mec4j_conv2d_check(&capped, &field) == MEC4J_ERROR_WORKSPACE_LIMIT && field &&
            std::strcmp(field, "mec_workspace_limit") == 0,
        "limit below one strip");
  capped.mec_workspace_limit = 9 * 3 * 3 * 4;  // exactly one strip: column tiles of width 1
  CHECK(mec4j_workspace_size(&capped, MEC4J_ALGORITHM_MEC, &b) == MEC4J_OK && b == 9 * 3 * 3 * 4, "one strip");
  CHECK(mec4j_resolve_algorithm(&capped, MEC4J_ALGORITHM_MEC, &r) == MEC4J_OK && r == MEC4J_ALGORITHM_MEC_B,
        "column tiles use B");
  CHECK(mec4j_workspace_size(&capped, MEC4J_ALGORITHM_MEC_A, &b) == MEC4J_ERROR_UNSUPPORTED, "no A on column tiles");
  CHECK(mec4j_workspace_size(&capped, MEC4J_ALGORITHM_IM2COL, &b) == MEC4J_OK &&
            b == ws_bytes(ok, MEC4J_ALGORITHM_IM2COL),
        "im2col ignores the MEC cap");
  mec4j_blas_info info;
  CHECK(mec4j_blas_query(&info) == MEC4J_OK && std::strlen(info.library) > 0, "blas query");
  // Solution B over a batch runs its GEMMs split with a single-threaded BLAS: the BLAS's thread
  // count must be back where it was afterwards.
  {
    mec4j_conv2d batch = conv(4, 12, 12, 3, 3, 3, 8, 1, 1);
    int64_t bb = ws_bytes(batch, MEC4J_ALGORITHM_MEC_B);
    std::vector<float> bi(4 * 12 * 12 * 3, 1.f), bk(3 * 3 * 3 * 8, 1.f), bo(4 * 10 * 10 * 8);
    void* bw = mec4j_workspace_alloc(bb);
    for (int rep = 0; rep < 20; ++rep)
      mec4j_conv2d_forward(&batch, MEC4J_ALGORITHM_MEC_B, bi.data(), bk.data(), nullptr, bo.data(), bw, bb);
    mec4j_workspace_free(bw);
    mec4j_blas_info after;
    mec4j_blas_query(&after);
    CHECK(after.threads == info.threads, "BLAS threads %d after split GEMMs, %d before", after.threads, info.threads);
  }
  std::printf("BLAS: %s | %s | %s | threads %d\n", info.vendor, info.version, info.library, info.threads);
}

// The max-ISA cap: set, read back, capped at the host, restored; invalid values refused.
static void test_isa_control() {
  mec4j_isa before = MEC4J_ISA_BEST, isa = MEC4J_ISA_BEST;
  CHECK(mec4j_get_max_isa(&before) == MEC4J_OK, "get max isa");
  const mec4j_isa host = mec4j_get_host_isa();
  std::vector<mec4j_isa> caps = mec4j::isa_levels();
  caps.push_back(MEC4J_ISA_BEST);
  for (mec4j_isa cap : caps) {
    CHECK(mec4j_set_max_isa(cap) == MEC4J_OK, "set %s", mec4j_isa_name(cap));
    CHECK(mec4j_get_effective_isa(&isa) == MEC4J_OK && isa == (cap == MEC4J_ISA_BEST || cap > host ? host : cap),
          "effective isa under cap %s: %s", mec4j_isa_name(cap), mec4j_isa_name(isa));
    const char* kernel = mec4j_kernel_name();
    CHECK(std::strstr(kernel, isa == MEC4J_ISA_AVX512 ? "avx512"
                              : isa == MEC4J_ISA_AVX2 ? "avx2"
                              : isa == MEC4J_ISA_NEON ? "neon"
                                                      : "portable"),
          "kernel %s under cap %s", kernel, mec4j_isa_name(cap));
  }
  // Another architecture's ISAs cannot run here: refused, the cap unchanged.
  for (mec4j_isa other : {MEC4J_ISA_AVX2, MEC4J_ISA_AVX512, MEC4J_ISA_NEON})
    if (std::find(caps.begin(), caps.end(), other) == caps.end())
      CHECK(mec4j_set_max_isa(other) == MEC4J_ERROR_INVALID_ARGUMENT, "cap %s on this architecture",
            mec4j_isa_name(other));
  CHECK(mec4j_set_max_isa((mec4j_isa)7) == MEC4J_ERROR_INVALID_ARGUMENT, "cap 7");
  CHECK(mec4j_set_tuning((mec4j_tuning)5) == MEC4J_ERROR_INVALID_ARGUMENT, "tuning 5");
  CHECK(mec4j_get_max_isa(nullptr) == MEC4J_ERROR_NULL_ARGUMENT, "null isa");
  mec4j_set_max_isa(before);
}

// Every micro-kernel this host runs (and AVX-512's tile built for AVX2) against a double-precision
// product: full and edge tiles (rows < MR, cols < NR), first (bias or zero) and accumulating calls,
// and K split into segments that start inside a row window. Exact on small integers.
static void test_ukernels(uint64_t seed) {
  using namespace mec4j;
  struct Kernel {
    const char* name;
    int mr, nr;
    IgemmUkernelFn run;
    IgemmStridedUkernelFn run_strided;
    IgemmStridedUkernelFn run_strided_stream;
    const IgemmUkernelFn* tails;
    PackPanelFn pack;
    IgemmWtUkernelFn run_wt;
  };
  std::vector<Kernel> kernels;
  const mec4j_isa host = mec4j_get_host_isa();
  for (mec4j_isa isa : isa_levels())
    if (isa <= host) {
      for (const IgemmConfig* c : igemm_configs(isa))
        kernels.push_back({c->name, c->mr, c->nr, c->ukernel, c->ukernel_strided, c->ukernel_strided_stream,
                           c->ukernel_tails, c->pack, c->ukernel_wt});
    }
#if defined(MEC4J_HAVE_X86_KERNELS)
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-12x32 (avx512 tile on avx2)", 12, 32, f32_igemm_12x32_on_avx2_ukernel,
                       f32_igemm_12x32_on_avx2_ukernel_strided, f32_igemm_12x32_on_avx2_ukernel_strided_stream,
                       f32_igemm_12x32_on_avx2_ukernel_tails, f32_igemm_12x32_on_avx2_pack,
                       f32_igemm_12x32_on_avx2_ukernel_wt});
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-6x64 (avx512 tile on avx2)", 6, 64, f32_igemm_6x64_on_avx2_ukernel,
                       f32_igemm_6x64_on_avx2_ukernel_strided, f32_igemm_6x64_on_avx2_ukernel_strided_stream,
                       f32_igemm_6x64_on_avx2_ukernel_tails, f32_igemm_6x64_on_avx2_pack,
                       f32_igemm_6x64_on_avx2_ukernel_wt});
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-16x16 (avx512 tile on avx2)", 16, 16, f32_igemm_16x16_on_avx2_ukernel,
                       f32_igemm_16x16_on_avx2_ukernel_strided, f32_igemm_16x16_on_avx2_ukernel_strided_stream,
                       f32_igemm_16x16_on_avx2_ukernel_tails, f32_igemm_16x16_on_avx2_pack,
                       f32_igemm_16x16_on_avx2_ukernel_wt});
#endif
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  for (const Kernel& kern : kernels) {
    // Every row count (each has its own tail kernel), and edge columns.
    std::vector<std::array<int, 2>> tiles = {{kern.mr, 1}, {kern.mr - 1, kern.nr - 3}, {2, 5}};
    for (int r = 1; r <= kern.mr; ++r) tiles.push_back({r, kern.nr});
    for (const auto& t : tiles)
      for (int variant = 0; variant < 6; ++variant) {
        const int rows = std::max(1, t[0]), cols = std::max(1, t[1]);
        // Variants 4 and 5: the last K block of a layer with a fused activation, clamped.
        const bool first = variant < 2 || variant >= 4, with_bias = variant % 4 == 0;
        const float clamp_bounds[2] = {-6.f, 9.f};
        const float* clamp = variant >= 4 ? clamp_bounds : nullptr;
        // Row windows of 7 floats, 3 per row: segments (2, 5), (7 + 0, 7), (14 + 1, 3): K = 15.
        const std::vector<Segment> seg = {{2, 5}, {7, 7}, {15, 3}};
        const int64_t k_total = 15, stride = 24, ldc = cols + 3;
        std::vector<float> a_buf((size_t)kern.mr * stride), b((size_t)k_total * cols), bias(kern.nr, 0.f),
            c((size_t)kern.mr * ldc), panel((size_t)k_total * kern.nr + 16);
        for (auto& x : a_buf) x = (float)small(rng);
        for (auto& x : b) x = (float)small(rng);
        for (int j = 0; j < cols; ++j) bias[j] = (float)small(rng);
        for (auto& x : c) x = (float)small(rng);
        std::vector<const float*> a(kern.mr);
        for (int i = 0; i < kern.mr; ++i) a[i] = a_buf.data() + (i < rows ? i : 0) * stride;
        std::vector<double> expect((size_t)rows * cols);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) {
            double acc = first ? (with_bias ? bias[j] : 0.0) : c[(size_t)i * ldc + j];
            int64_t kk = 0;
            for (const Segment& s : seg)
              for (int64_t q = 0; q < s.length; ++q, ++kk) acc += (double)a[i][s.offset + q] * b[kk * cols + j];
            expect[(size_t)i * cols + j] = clamp ? std::min(std::max((float)acc, clamp[0]), clamp[1]) : acc;
          }
        const std::vector<float> before = c;
        kern.pack(b.data(), cols, k_total, cols, panel.data());
        kern.run(a.data(), seg.data(), (int64_t)seg.size(), panel.data(), c.data(), ldc, rows, cols, first,
                 with_bias ? bias.data() : nullptr, clamp);
        int bad = 0;
        for (int i = 0; i < kern.mr; ++i)
          for (int j = 0; j < ldc; ++j) {
            const size_t at = (size_t)i * ldc + j;
            const bool inside = i < rows && j < cols;
            const double want = inside ? expect[(size_t)i * cols + j] : before[at];
            if (c[at] != (float)want && bad++ < 3)
              CHECK(false, "%s tile %dx%d first=%d bias=%d: c[%d][%d] = %g, expected %g", kern.name, rows, cols, first,
                    with_bias, i, j, c[at], want);
          }
        // A full tile's rows at a constant stride: the strided form gives the same bits.
        if (rows == kern.mr) {
          std::vector<float> cs = before;
          kern.run_strided(a_buf.data(), stride, seg.data(), (int64_t)seg.size(), panel.data(), cs.data(), ldc, cols,
                           first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (size_t at = 0; at < cs.size(); ++at)
            if (cs[at] != c[at] && bad++ < 3)
              CHECK(false, "%s strided tile %dx%d first=%d bias=%d: c[%zu] = %g, indirect form %g", kern.name, rows,
                    cols, first, with_bias, at, cs[at], c[at]);
        }
        // The same with non-temporal stores (a full, final tile into 64-byte aligned rows).
        if (rows == kern.mr && cols == kern.nr && first) {
          const int64_t lds = (ldc + 15) / 16 * 16;
          float* cn = static_cast<float*>(mec4j_workspace_alloc(kern.mr * lds * (int64_t)sizeof(float)));
          kern.run_strided_stream(a_buf.data(), stride, seg.data(), (int64_t)seg.size(), panel.data(), cn, lds, cols,
                                  first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (int i = 0; i < kern.mr; ++i)
            for (int j = 0; j < cols; ++j)
              if (cn[i * lds + j] != c[(size_t)i * ldc + j] && bad++ < 3)
                CHECK(false, "%s streamed tile first=%d bias=%d: c[%d][%d] = %g, strided form %g", kern.name, first,
                      with_bias, i, j, cn[i * lds + j], c[(size_t)i * ldc + j]);
          mec4j_workspace_free(cn);
        }
        // Fewer rows than the tile: the tail kernel of exactly that many rows gives the same bits.
        if (rows < kern.mr) {
          std::vector<float> ct = before;
          kern.tails[rows](a.data(), seg.data(), (int64_t)seg.size(), panel.data(), ct.data(), ldc, rows, cols, first,
                           with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (size_t at = 0; at < ct.size(); ++at)
            if (ct[at] != c[at] && bad++ < 3)
              CHECK(false, "%s %d-row tail kernel, %d cols first=%d bias=%d: c[%zu] = %g, full kernel %g", kern.name,
                    rows, cols, first, with_bias, at, ct[at], c[at]);
        }
        // The weight-gradient form: c(i, j) (+)= sum over k of w[k][col[i]] * b(k, j), with K = 15
        // rows of W, 24 floats each, and the tile's columns scattered (as across row windows).
        std::vector<float> w_buf((size_t)k_total * stride);
        for (auto& x : w_buf) x = (float)small(rng);
        std::vector<const float*> w(k_total);
        for (int64_t k = 0; k < k_total; ++k) w[k] = w_buf.data() + k * stride;
        std::vector<int64_t> col(kern.mr);
        for (int i = 0; i < kern.mr; ++i) col[i] = (i < rows ? (i * 7) % 23 : 0);
        std::vector<float> cw = before;
        kern.run_wt(w.data(), col.data(), k_total, panel.data(), cw.data(), ldc, rows, cols, first);
        bad = 0;
        for (int i = 0; i < kern.mr; ++i)
          for (int j = 0; j < ldc; ++j) {
            const size_t at = (size_t)i * ldc + j;
            double want = before[at];
            if (i < rows && j < cols) {
              want = first ? 0.0 : before[at];
              for (int64_t k = 0; k < k_total; ++k) want += (double)w[k][col[i]] * b[k * cols + j];
            }
            if (cw[at] != (float)want && bad++ < 3)
              CHECK(false, "%s weight-gradient tile %dx%d first=%d: c[%d][%d] = %g, expected %g", kern.name, rows, cols,
                    first, i, j, cw[at], want);
          }
      }
  }
}

// Unpadded 1x1 layers need no MEC lowering: at stride 1, MEC, MEC_FUSED and MEC_ROWS read the
// input in place (workspace 0); strided, they subsample it densely (i_n*o_h*o_w*i_c floats, less
// than |L|); padding, a larger kernel or Solutions A/B need MEC's lowering.
static void test_in_place_workspace() {
  const mec4j_conv2d pointwise = conv(2, 6, 5, 8, 1, 1, 24, 1, 1), strided = conv(2, 6, 5, 8, 1, 1, 24, 2, 2),
                     padded = conv(2, 6, 5, 8, 1, 1, 24, 1, 1, 0, 0, 0, 0);
  CHECK(ws_bytes(pointwise, MEC4J_ALGORITHM_MEC) == 0 && ws_bytes(pointwise, MEC4J_ALGORITHM_MEC_FUSED) == 0 &&
            ws_bytes(pointwise, MEC4J_ALGORITHM_MEC_ROWS) == 0,
        "1x1 stride 1 in place");
  const int64_t sub = 4 * 2 * 3 * 3 * 8;  // i_n*o_h*o_w*i_c floats
  CHECK(ws_bytes(strided, MEC4J_ALGORITHM_MEC) == 0 && ws_bytes(strided, MEC4J_ALGORITHM_MEC_FUSED) == 0,
        "1x1 stride 2, the igemm reads the input at the stride: %lld",
        (long long)ws_bytes(strided, MEC4J_ALGORITHM_MEC));
  CHECK(ws_bytes(strided, MEC4J_ALGORITHM_MEC_ROWS) == sub, "1x1 stride 2 subsampled for the BLAS: %lld",
        (long long)ws_bytes(strided, MEC4J_ALGORITHM_MEC_ROWS));
  CHECK(ws_bytes(strided, MEC4J_ALGORITHM_MEC_B) == 4 * 2 * 3 * 6 * 8, "1x1 stride 2, B lowers: %lld",
        (long long)ws_bytes(strided, MEC4J_ALGORITHM_MEC_B));
  CHECK(ws_bytes(padded, MEC4J_ALGORITHM_MEC_B) == 4 * 2 * 5 * 6 * 8, "B always lowers");
  mec4j_conv2d tiled = strided;  // a cap that tiles the layer: MEC's lowering, within the cap
  tiled.mec_workspace_limit = 4 * 3 * 6 * 8;
  int64_t b = -1;
  CHECK(
      mec4j_workspace_size(&tiled, MEC4J_ALGORITHM_MEC_ROWS, &b) == MEC4J_OK && b > 0 && b <= tiled.mec_workspace_limit,
      "1x1 stride 2 under a cap: %lld", (long long)b);
  const mec4j_conv2d three = conv(1, 4, 4, 4, 3, 3, 8, 1, 1, 1, 1, 1, 1);
  CHECK(ws_bytes(three, MEC4J_ALGORITHM_MEC_FUSED) == 4 * 6 * 6 * 4, "padded 3x3: FUSED copies the padded rows");
  CHECK(ws_bytes(three, MEC4J_ALGORITHM_MEC_B) == 4 * 4 * 6 * 3 * 4, "padded 3x3: B lowers");
  CHECK(ws_bytes(conv(1, 6, 6, 4, 3, 3, 8, 1, 1), MEC4J_ALGORITHM_MEC_FUSED) == 0, "unpadded 3x3 in place");
  std::mt19937_64 rng(7);
  for (const auto& c : {pointwise, strided, tiled})
    for (auto a : {MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_FUSED, MEC4J_ALGORITHM_MEC_ROWS})
      for (bool integers : {true, false}) run_case(c, a, integers, rng, integers);
}

// Weights packed once: forward_packed gives MEC_FUSED's bits exactly (same kernel, same order), on
// layers with several K blocks, a partial column panel, batches, padding, 1x1 in place and row
// bands; a packed kernel from another ISA or layer, a short or misaligned buffer are refused.
static void test_packed_kernel(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  mec4j_conv2d banded = conv(2, 11, 9, 40, 3, 3, 37, 1, 1, 1, 1, 1, 1);
  banded.mec_workspace_limit = ws_bytes(banded, MEC4J_ALGORITHM_MEC_B) / 5;
  mec4j_conv2d grouped = conv(2, 9, 8, 64, 3, 3, 96, 1, 1, 1, 1, 1, 1);  // 4 groups of 16 -> 24
  grouped.groups = 4;
  grouped.dilation_height = 2;
  const mec4j_conv2d shapes[] = {conv(2, 11, 9, 40, 3, 3, 37, 1, 1, 1, 1, 1, 1), conv(1, 7, 7, 64, 3, 3, 70, 1, 1),
                                 conv(3, 6, 5, 33, 1, 1, 19, 2, 1), banded, grouped};
  for (const auto& c : shapes) {
    int64_t oh, ow, pb = 0;
    mec4j_output_size(&c, &oh, &ow);
    const int64_t out_n = c.batch * oh * ow * c.out_channels;
    std::vector<float> in(c.batch * c.in_height * c.in_width * c.in_channels),
        k(c.kernel_height * c.kernel_width * c.in_channels / (c.groups > 1 ? c.groups : 1) * c.out_channels),
        bias(c.out_channels), plain(out_n);
    for (auto* v : {&in, &k, &bias})
      for (auto& x : *v) x = real(rng);
    const int64_t wsb = ws_bytes(c, MEC4J_ALGORITHM_MEC_FUSED);
    void* ws = wsb ? mec4j_workspace_alloc(wsb) : nullptr;
    CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC_FUSED, in.data(), k.data(), bias.data(), plain.data(), ws,
                               wsb) == MEC4J_OK,
          "plain fused");
    CHECK(mec4j_packed_kernel_size(&c, &pb) == MEC4J_OK && pb >= (int64_t)(k.size() * 4), "packed size %lld",
          (long long)pb);
    void* packed = mec4j_workspace_alloc(pb + 64);
    CHECK(mec4j_pack_kernel(&c, k.data(), packed, pb - 1) == MEC4J_ERROR_WORKSPACE_TOO_SMALL, "short packed buffer");
    CHECK(mec4j_pack_kernel(&c, k.data(), static_cast<char*>(packed) + 4, pb) == MEC4J_ERROR_WORKSPACE_MISALIGNED,
          "misaligned packed buffer");
    CHECK(mec4j_pack_kernel(&c, k.data(), packed, pb) == MEC4J_OK, "pack");
    Guarded out(out_n);
    CHECK(mec4j_conv2d_forward_packed(&c, in.data(), packed, bias.data(), out.data(), ws, wsb) == MEC4J_OK,
          "packed forward");
    CHECK(out.guards_intact(), "packed forward wrote outside the output");
    CHECK(std::memcmp(out.data(), plain.data(), out_n * sizeof(float)) == 0, "packed forward differs from MEC_FUSED");
    // With a fused activation (the same packed kernel): the plain output, clamped.
    mec4j_conv2d clamped = c;
    clamped.activation = MEC4J_ACTIVATION_CLAMP;
    clamped.activation_min = -0.25f;
    clamped.activation_max = 0.5f;
    Guarded act(out_n);
    CHECK(mec4j_conv2d_forward_packed(&clamped, in.data(), packed, bias.data(), act.data(), ws, wsb) == MEC4J_OK,
          "packed forward with an activation");
    int64_t wrong = 0;
    for (int64_t i = 0; i < out_n; ++i) {
      const float want = std::min(std::max(plain[i], -0.25f), 0.5f);
      wrong += std::memcmp(&want, &act.data()[i], sizeof want) != 0;
    }
    CHECK(wrong == 0 && act.guards_intact(), "packed forward with an activation: %lld values differ", (long long)wrong);
    mec4j_conv2d other = c;
    other.out_channels += 1;
    Guarded untouched(out_n);
    std::fill(untouched.data(), untouched.data() + out_n, 7.f);
    CHECK(mec4j_conv2d_forward_packed(&other, in.data(), packed, bias.data(), untouched.data(), ws, wsb) ==
              MEC4J_ERROR_INVALID_ARGUMENT,
          "packed for another layer");
    mec4j_isa host = mec4j_get_host_isa(), before, effective;
    mec4j_get_max_isa(&before);
    mec4j_get_effective_isa(&effective);
    if (host > MEC4J_ISA_PORTABLE) {  // another kernel layout: portable, or the best when capped at portable
      mec4j_set_max_isa(effective == MEC4J_ISA_PORTABLE ? MEC4J_ISA_BEST : MEC4J_ISA_PORTABLE);
      CHECK(mec4j_conv2d_forward_packed(&c, in.data(), packed, bias.data(), untouched.data(), ws, wsb) ==
                MEC4J_ERROR_INVALID_ARGUMENT,
            "packed for another ISA");
      mec4j_set_max_isa(before);
    }
    CHECK(untouched.data()[0] == 7.f && untouched.data()[out_n - 1] == 7.f, "output untouched on error");
    mec4j_workspace_free(packed);
    mec4j_workspace_free(ws);
  }
  mec4j_conv2d columns = conv(1, 9, 9, 3, 3, 3, 4, 1, 1);
  columns.mec_workspace_limit = 9 * 3 * 3 * 4;  // one strip: column tiles
  int64_t pb = 0;
  mec4j_packed_kernel_size(&columns, &pb);
  void* packed = mec4j_workspace_alloc(pb);
  std::vector<float> in(81 * 3, 1.f), k(3 * 3 * 3 * 4, 1.f), out(49 * 4);
  void* ws = mec4j_workspace_alloc(9 * 3 * 3 * 4);
  CHECK(mec4j_pack_kernel(&columns, k.data(), packed, pb) == MEC4J_OK &&
            mec4j_conv2d_forward_packed(&columns, in.data(), packed, nullptr, out.data(), ws, 9 * 3 * 3 * 4) ==
                MEC4J_ERROR_UNSUPPORTED,
        "column tiles need the plain kernel");
  mec4j_workspace_free(ws);
  mec4j_workspace_free(packed);
}

// Under MEC4J_TUNING_MEASURE the first run measures and later runs repeat the winner: the output
// is bit-identical from call to call, and resolve reports the measured choice.
static void test_measured_choice_is_stable(uint64_t seed) {
  mec4j_tuning before;
  mec4j_get_tuning(&before);
  mec4j_set_tuning(MEC4J_TUNING_MEASURE);
  mec4j_conv2d c = conv(2, 13, 11, 19, 3, 3, 21, 1, 1, 1, 1, 1, 1);
  c.mec_threshold = 5 + (int64_t)(seed % 7);  // a layer no other test has measured
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  std::vector<float> in(2 * 13 * 11 * 19), k(3 * 3 * 19 * 21), first(2 * 13 * 11 * 21), again(first.size());
  for (auto& x : in) x = real(rng);
  for (auto& x : k) x = real(rng);
  const int64_t wsb = ws_bytes(c, MEC4J_ALGORITHM_MEC);
  void* ws = mec4j_workspace_alloc(wsb);
  int32_t measured = -1;
  mec4j_algorithm r;
  CHECK(mec4j_resolve_algorithm_ex(&c, MEC4J_ALGORITHM_MEC, &r, &measured) == MEC4J_OK && measured == 0,
        "not measured before the first run");
  CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC, in.data(), k.data(), nullptr, first.data(), ws, wsb) == MEC4J_OK,
        "first run");
  for (int rep = 0; rep < 3; ++rep) {
    CHECK(
        mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC, in.data(), k.data(), nullptr, again.data(), ws, wsb) == MEC4J_OK,
        "later run");
    CHECK(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) == 0, "run %d differs", rep);
  }
  CHECK(mec4j_resolve_algorithm_ex(&c, MEC4J_ALGORITHM_MEC, &r, &measured) == MEC4J_OK && measured == 1,
        "measured after the first run");
  // The winner alone gives the same bits.
  CHECK(mec4j_conv2d_forward(&c, r, in.data(), k.data(), nullptr, again.data(), ws, wsb) == MEC4J_OK &&
            std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) == 0,
        "the measured choice %s gives the automatic MEC's bits", mec4j_algorithm_name(r));
  mec4j_workspace_free(ws);
  mec4j_set_tuning(before);
}

int main(int argc, char** argv) {
  if (argc > 1 && !std::strcmp(argv[1], "--expect-bad-environment")) {
    // Run with a misspelt MEC4J_MAX_ISA, MEC4J_TUNING or MEC4J_GEMM_PARALLEL: every planning call
    // says so, until the API sets a valid value (MEC4J_GEMM_PARALLEL has no setter: for good).
    mec4j_conv2d c = conv(1, 5, 5, 2, 3, 3, 4, 1, 1);
    int64_t b;
    mec4j_isa isa;
    mec4j_tuning t;
    const bool isa_bad = mec4j_get_max_isa(&isa) == MEC4J_ERROR_BAD_ENVIRONMENT;
    const bool tuning_bad = mec4j_get_tuning(&t) == MEC4J_ERROR_BAD_ENVIRONMENT;
    const char* gemm_parallel = std::getenv("MEC4J_GEMM_PARALLEL");
    CHECK(isa_bad || tuning_bad || (gemm_parallel && *gemm_parallel), "a misspelt value is reported");
    CHECK(mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC, &b) == MEC4J_ERROR_BAD_ENVIRONMENT, "workspace query fails");
    std::vector<float> in(5 * 5 * 2), k(3 * 3 * 2 * 4), out(3 * 3 * 4);
    CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC_ROWS, in.data(), k.data(), nullptr, out.data(), nullptr, 0) ==
              MEC4J_ERROR_BAD_ENVIRONMENT,
          "a forward pass fails");
    for (mec4j_isa level : mec4j::isa_levels())
      CHECK(std::strstr(mec4j_status_string(MEC4J_ERROR_BAD_ENVIRONMENT), mec4j_isa_name(level)), "names %s",
            mec4j_isa_name(level));
    for (const char* variable : {"MEC4J_MAX_ISA", "MEC4J_TUNING", "MEC4J_GEMM_PARALLEL"})
      CHECK(std::strstr(mec4j_status_string(MEC4J_ERROR_BAD_ENVIRONMENT), variable), "names %s", variable);
    if (isa_bad)
      mec4j_set_max_isa(MEC4J_ISA_BEST);
    else if (tuning_bad)
      mec4j_set_tuning(MEC4J_TUNING_MEASURE);
    if (isa_bad || tuning_bad)
      CHECK(mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC, &b) == MEC4J_OK, "a valid value set through the API wins");
    std::printf("%s: bad environment handled\n", failures ? "FAILED" : "OK");
    return failures ? 1 : 0;
  }
  if (repeats_the_uncapped_run("mec4j_tests")) return SKIPPED;

  uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20170706;
  int cases = argc > 2 ? std::atoi(argv[2]) : 2000;
  test_paper_example();
  test_cv_layer_formulas();
  test_bad_input();
  test_bad_activation();
  test_nchw(seed, 300);
  test_isa_control();
  test_ukernels(seed);
  test_in_place_workspace();
  test_measured_choice_is_stable(seed);
  test_packed_kernel(seed);
  test_large_shapes(seed);
  test_known_answers();
  test_random_shapes(seed, cases);
  mec4j_isa isa = MEC4J_ISA_BEST;
  mec4j_tuning tuning = MEC4J_TUNING_MEASURE;
  mec4j_get_effective_isa(&isa);
  mec4j_get_tuning(&tuning);
  std::printf("%s: %d failure(s); random shapes: %d (seed %llu); ISA %s (host %s), kernel %s, tuning %s\n",
              failures ? "FAILED" : "OK", failures, cases, (unsigned long long)seed, mec4j_isa_name(isa),
              mec4j_isa_name(mec4j_get_host_isa()), mec4j_kernel_name(),
              tuning == MEC4J_TUNING_MEASURE ? "measure" : "heuristic");
  return failures ? 1 : 0;
}
