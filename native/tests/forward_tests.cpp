// Forward passes against the reference (random, large and hand-computed layers, NCHW) and the
// workspace formulas, with guard zones around every buffer the library writes.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "isa.h"
#include "mec.h"
#include "mec4j.h"
#include "mec4j_tests.h"
#include "stream_stores.h"
#include "test_support.h"

void test_forward_paper_example() {
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

void test_workspace_formulas_on_cv_layers() {
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

// Runs one algorithm on a shape and compares with the reference; exact for small integers.
void run_case(const mec4j_conv2d& c, mec4j_algorithm a, bool integers, std::mt19937_64& rng, bool with_bias) {
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

void test_forward_random_shapes(uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  const mec4j_algorithm algos[] = {MEC4J_ALGORITHM_IM2COL,   MEC4J_ALGORITHM_MEC,      MEC4J_ALGORITHM_MEC_A,
                                   MEC4J_ALGORITHM_MEC_B,    MEC4J_ALGORITHM_MEC_ROWS, MEC4J_ALGORITHM_MEC_FUSED,
                                   MEC4J_ALGORITHM_DEPTHWISE};
  for (int i = 0; i < cases; ++i) {
    mec4j_conv2d c = random_conv(r, i);
    const int64_t kh = c.kernel_height, kw = c.kernel_width;
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

// Shapes large enough for full 6x16 micro-tiles, several K blocks of MEC_FUSED (K > 256, blocks
// that start inside a row window), both of its thread splits (many rows / many column panels)
// and a partial last column panel.
void test_forward_large_shapes(uint64_t seed) {
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
  // Outputs then exceed the caches: both store paths, whichever this machine's measurement picks.
  for (int64_t l2 : {int64_t(6) << 10, int64_t(48) << 10})
    for (auto stores : {mec4j::StreamStores::On, mec4j::StreamStores::Off}) {
      mec4j::set_l2_cache_bytes_for_testing(l2);
      mec4j::set_stream_stores_for_testing(stores);
      for (const auto& c : shapes) {
        CHECK(ws_bytes(c, MEC4J_ALGORITHM_MEC_FUSED) <= whole_mec_bytes(c),
              "cache-sized workspace no larger than the lowering: %s", describe(c));
        for (auto a : {MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_FUSED})
          for (bool integers : {true, false}) run_case(c, a, integers, rng, integers);
      }
      mec4j::set_l2_cache_bytes_for_testing(0);
      mec4j::set_stream_stores_for_testing(mec4j::StreamStores::Auto);
    }
}

// Outputs computed by hand, so that a convention shared by the reference and every algorithm
// (padding, output size, kernel layout per group, dilation) cannot be wrong unnoticed.
void test_forward_known_answers() {
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
// for REFERENCE, MEC and MEC_FUSED, both NCHW ways (pixel panels across rows and images, padded
// or not, groups, dilation, strides, activations, large images, kernels in blocks); packed kernels, other algorithms,
// workspace limits and backward passes refused.
void test_forward_nchw_matches_nhwc(uint64_t seed, int cases) {
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
    // A kernel larger than the NHWC way's workspace holds on a CPU with a small L2: converted and
    // multiplied in blocks of output channels.
    const bool small_l2 = i % 10 == 7;
    if (small_l2) c = conv(r(1, 2), r(3, 12), r(3, 12), r(32, 64), 3, 3, r(40, 200), 1, 1, r(0, 1), r(0, 1), 0, 0);
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
    // MEC and MEC_FUSED both ways where both apply (through NHWC, the transposed GEMM), and as
    // the default chooses.
    using mec4j::NchwWay;
    const std::pair<mec4j_algorithm, NchwWay> runs_of[] = {{MEC4J_ALGORITHM_REFERENCE, NchwWay::Auto},
                                                           {MEC4J_ALGORITHM_MEC, NchwWay::Auto},
                                                           {MEC4J_ALGORITHM_MEC_FUSED, NchwWay::Auto},
                                                           {MEC4J_ALGORITHM_MEC, NchwWay::ThroughNhwc},
                                                           {MEC4J_ALGORITHM_MEC_FUSED, NchwWay::TransposedGemm}};
    if (small_l2) mec4j::set_l2_cache_bytes_for_testing(48 << 10);
    for (auto [a, way] : runs_of) {
      mec4j::set_nchw_way_for_testing(way);
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
      if (a == MEC4J_ALGORITHM_MEC_FUSED) {  // no packed kernel; at most the kernel and one cache-sized band
        int64_t pb = 0;
        const int64_t bound = (int64_t)k.size() * (int64_t)sizeof(float) + 2 * mec4j::l2_cache_bytes() + 256;
        CHECK(wsb <= bound, "NCHW MEC_FUSED takes a workspace of %lld bytes, more than %lld", (long long)wsb,
              (long long)bound);
        CHECK(mec4j_packed_kernel_size(&nchw, &pb) == MEC4J_ERROR_UNSUPPORTED, "NCHW packed size");
      }
      mec4j_workspace_free(ws);
      ++runs;
    }
    mec4j::set_nchw_way_for_testing(NchwWay::Auto);
    mec4j::set_l2_cache_bytes_for_testing(0);
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
  CHECK(runs == 5 * cases, "NCHW: %lld runs", (long long)runs);
}

// Unpadded 1x1 layers need no MEC lowering: at stride 1, MEC, MEC_FUSED and MEC_ROWS read the
// input in place (workspace 0); strided, they subsample it densely (i_n*o_h*o_w*i_c floats, less
// than |L|); padding, a larger kernel or Solutions A/B need MEC's lowering.
void test_pointwise_layers_need_no_lowering() {
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
