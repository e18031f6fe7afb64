// Native tests of the backward passes (mec4j_conv2d_backward_data / _weights): hand-computed
// answers; the reference against the forward reference through the adjoint identity
// <dO, conv(x, K)> = <backward_data(dO, K), x> = <backward_weights(x, dO), K> (exact on small
// integers: an oracle that shares no code with the backward passes); every algorithm against the
// reference on random shapes (exact on integers) with guard zones around every buffer the library
// writes, an exact workspace and poisoned outputs; and the status of every refusal, with the
// outputs untouched.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "mec4j.h"
#include "test_support.h"

namespace {

struct Sizes {
  int64_t in, kernel, out, bias, oh, ow;
};

Sizes sizes(const mec4j_conv2d& c) {
  Sizes z{};
  mec4j_output_size(&c, &z.oh, &z.ow);
  const int64_t g = c.groups > 1 ? c.groups : 1;
  z.in = c.batch * c.in_height * c.in_width * c.in_channels;
  z.kernel = c.kernel_height * c.kernel_width * (c.in_channels / g) * c.out_channels;
  z.out = c.batch * z.oh * z.ow * c.out_channels;
  z.bias = c.out_channels;
  return z;
}

void fill(std::vector<float>& v, std::mt19937_64& rng, bool integers) {
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  for (float& x : v) x = integers ? (float)small(rng) : real(rng);
}

// Runs one pass with a workspace of exactly the size the query gives (guarded on both sides) and
// outputs poisoned with NaN, so that an element left unwritten cannot pass.
struct PassResult {
  mec4j_status status;
  std::vector<float> grad_in, grad_k, grad_bias;
};

PassResult run(const mec4j_conv2d& c, mec4j_algorithm a, mec4j_direction d, const std::vector<float>& in,
               const std::vector<float>& k, const std::vector<float>& dout, bool with_bias) {
  const Sizes z = sizes(c);
  PassResult r{};
  int64_t bytes = -1;
  r.status = mec4j_workspace_size_for(&c, a, d, &bytes);
  if (r.status != MEC4J_OK) return r;
  CHECK(bytes >= 0 && bytes % 4 == 0, "workspace %lld bytes: %s", (long long)bytes, describe(c));
  // Aligned: the guard before the workspace is GUARD floats (256 bytes) long.
  std::vector<float> ws_all(bytes / 4 + 2 * GUARD + 16, SENTINEL);
  float* base = ws_all.data();
  while ((reinterpret_cast<uintptr_t>(base + GUARD) % MEC4J_WORKSPACE_ALIGNMENT) != 0) ++base;
  float* ws = base + GUARD;
  const float nan = std::nanf("");
  if (d == MEC4J_DIRECTION_BACKWARD_DATA) {
    Guarded gi(z.in);
    std::fill(gi.data(), gi.data() + z.in, nan);
    r.status = mec4j_conv2d_backward_data(&c, a, dout.data(), k.data(), gi.data(), bytes ? ws : nullptr, bytes);
    CHECK(gi.guards_intact(), "%s wrote outside grad_input: %s", mec4j_algorithm_name(a), describe(c));
    r.grad_in.assign(gi.data(), gi.data() + z.in);
  } else {
    Guarded gk(z.kernel), gb(z.bias);
    std::fill(gk.data(), gk.data() + z.kernel, nan);
    std::fill(gb.data(), gb.data() + z.bias, nan);
    r.status = mec4j_conv2d_backward_weights(&c, a, in.data(), dout.data(), gk.data(), with_bias ? gb.data() : nullptr,
                                             bytes ? ws : nullptr, bytes);
    CHECK(gk.guards_intact() && gb.guards_intact(), "%s wrote outside grad_kernel/grad_bias: %s",
          mec4j_algorithm_name(a), describe(c));
    r.grad_k.assign(gk.data(), gk.data() + z.kernel);
    r.grad_bias.assign(gb.data(), gb.data() + z.bias);
    if (!with_bias)
      for (float v : r.grad_bias) CHECK(std::isnan(v), "grad_bias written although null: %s", describe(c));
  }
  for (int64_t i = 0; i < GUARD; ++i)
    CHECK(std::memcmp(&ws[-1 - i], &SENTINEL, 4) == 0 && std::memcmp(&ws[bytes / 4 + i], &SENTINEL, 4) == 0,
          "%s wrote outside its workspace (%lld bytes): %s", mec4j_algorithm_name(a), (long long)bytes, describe(c));
  return r;
}

// Largest |a - b| relative to the tolerance; exact when tol == 0.
bool close(const std::vector<float>& a, const std::vector<float>& b, double tol, int64_t* at) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::fabs((double)a[i] - b[i]);
    if (!(diff <= tol)) {
      *at = (int64_t)i;
      return false;
    }
  }
  return true;
}

// MEC_FUSED's backward data (a forward convolution of dO with the turned kernel): stride 1,
// padding within the kernel's extent, the default workspace.
bool fused_backward_data(const mec4j_conv2d& c) {
  const int64_t dh = c.dilation_height > 1 ? c.dilation_height : 1, dw = c.dilation_width > 1 ? c.dilation_width : 1;
  const int64_t eh = (c.kernel_height - 1) * dh, ew = (c.kernel_width - 1) * dw;
  return c.stride_height == 1 && c.stride_width == 1 && c.mec_workspace_limit == 0 && c.pad_top <= eh &&
         c.pad_bottom <= eh && c.pad_left <= ew && c.pad_right <= ew;
}

void compare_with_reference(const mec4j_conv2d& c, mec4j_algorithm a, bool integers, std::mt19937_64& rng) {
  const Sizes z = sizes(c);
  std::vector<float> in(z.in), k(z.kernel), dout(z.out);
  fill(in, rng, integers);
  fill(k, rng, integers);
  fill(dout, rng, integers);
  const bool with_bias = rng() % 2 == 0;
  for (mec4j_direction d : {MEC4J_DIRECTION_BACKWARD_DATA, MEC4J_DIRECTION_BACKWARD_WEIGHTS}) {
    const PassResult got = run(c, a, d, in, k, dout, with_bias);
    // Exactly where the implementation list says: DEPTHWISE on depthwise layers only, MEC_FUSED's
    // backward data at stride 1 only.
    const bool refuses =
        (a == MEC4J_ALGORITHM_DEPTHWISE && !(c.groups > 1 && c.groups == c.in_channels)) ||
        (a == MEC4J_ALGORITHM_MEC_FUSED && d == MEC4J_DIRECTION_BACKWARD_DATA && !fused_backward_data(c));
    if (refuses) {
      CHECK(got.status == MEC4J_ERROR_UNSUPPORTED, "%s should refuse: %s", mec4j_algorithm_name(a), describe(c));
      continue;
    }
    CHECK(got.status == MEC4J_OK, "%s %s: status %s: %s", mec4j_algorithm_name(a),
          d == MEC4J_DIRECTION_BACKWARD_DATA ? "backward data" : "backward weights", mec4j_status_string(got.status),
          describe(c));
    if (got.status != MEC4J_OK) continue;
    const PassResult want = run(c, MEC4J_ALGORITHM_REFERENCE, d, in, k, dout, with_bias);
    // Float data: each output sums at most `terms` products of values in [-1, 1].
    const int64_t g = c.groups > 1 ? c.groups : 1;
    const double terms = d == MEC4J_DIRECTION_BACKWARD_DATA
                             ? (double)c.kernel_height * c.kernel_width * c.out_channels / g
                             : (double)c.batch * z.oh * z.ow;
    const double tol = integers ? 0.0 : 1e-5 * terms + 1e-6;
    int64_t at = -1;
    if (d == MEC4J_DIRECTION_BACKWARD_DATA) {
      CHECK(close(got.grad_in, want.grad_in, tol, &at), "%s backward data differs at %lld (%g vs %g): %s",
            mec4j_algorithm_name(a), (long long)at, at >= 0 ? got.grad_in[at] : 0.f, at >= 0 ? want.grad_in[at] : 0.f,
            describe(c));
    } else {
      CHECK(close(got.grad_k, want.grad_k, tol, &at), "%s backward weights differs at %lld (%g vs %g): %s",
            mec4j_algorithm_name(a), (long long)at, at >= 0 ? got.grad_k[at] : 0.f, at >= 0 ? want.grad_k[at] : 0.f,
            describe(c));
      if (with_bias)
        CHECK(close(got.grad_bias, want.grad_bias, integers ? 0.0 : 1e-5 * c.batch * z.oh * z.ow, &at),
              "%s bias gradient differs at %lld: %s", mec4j_algorithm_name(a), (long long)at, describe(c));
    }
  }
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double)a[i] * b[i];
  return s;
}

// The reference backward passes are the adjoints of the forward reference (exact on integers).
void test_adjoint_identity(uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < cases; ++i) {
    mec4j_conv2d c = conv(r(1, 2), 0, 0, 0, r(1, 4), r(1, 4), 0, r(1, 3), r(1, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3));
    c.groups = r(1, 3);
    c.in_channels = c.groups * r(1, 3);
    c.out_channels = c.groups * r(1, 3);
    c.dilation_height = r(1, 2);
    c.dilation_width = r(1, 2);
    c.in_height = r(5, 10);
    c.in_width = r(5, 10);
    if (mec4j_conv2d_check(&c, nullptr) != MEC4J_OK) continue;
    const Sizes z = sizes(c);
    std::vector<float> in(z.in), k(z.kernel), dout(z.out), out(z.out), bias(z.bias);
    fill(in, rng, true);
    fill(k, rng, true);
    fill(dout, rng, true);
    fill(bias, rng, true);
    CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_REFERENCE, in.data(), k.data(), bias.data(), out.data(), nullptr,
                               0) == MEC4J_OK,
          "forward: %s", describe(c));
    const PassResult data = run(c, MEC4J_ALGORITHM_REFERENCE, MEC4J_DIRECTION_BACKWARD_DATA, in, k, dout, true);
    const PassResult weights = run(c, MEC4J_ALGORITHM_REFERENCE, MEC4J_DIRECTION_BACKWARD_WEIGHTS, in, k, dout, true);
    // <dO, conv(x, K) + b> = <dX, x> + <b's gradient, b> = <dK, K> + <b's gradient, b>
    const double lhs = dot(dout, out), bias_part = dot(weights.grad_bias, bias);
    CHECK(lhs == dot(data.grad_in, in) + bias_part, "backward data is not the adjoint: %s", describe(c));
    CHECK(lhs == dot(weights.grad_k, k) + bias_part, "backward weights is not the adjoint: %s", describe(c));
  }
}

// 3x3 input 1..9, 2x2 kernel [[1, 2], [3, 4]], gradient of the 2x2 output all ones.
void test_known_answers() {
  const mec4j_conv2d c = conv(1, 3, 3, 1, 2, 2, 1, 1, 1);
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9}, k = {1, 2, 3, 4}, dout = {1, 1, 1, 1};
  const std::vector<float> grad_in = {1, 3, 2, 4, 10, 6, 3, 7, 4}, grad_k = {12, 16, 24, 28}, grad_bias = {4};
  // Stride 2, padding 1 on every side: the 2x2 output reads padded rows/columns {0,1} and {2,3}.
  mec4j_conv2d s2 = conv(1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1);
  const std::vector<float> s2_grad_in = {4, 3, 4, 2, 1, 2, 4, 3, 4};  // each input pixel under one tap
  // Tap (r, q) reads input rows {r - 1, r + 1} and columns {q - 1, q + 1} inside the image.
  const std::vector<float> s2_grad_k = {5, 10, 10, 20};
  for (mec4j_algorithm a :
       {MEC4J_ALGORITHM_REFERENCE, MEC4J_ALGORITHM_IM2COL, MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_ROWS}) {
    PassResult d = run(c, a, MEC4J_DIRECTION_BACKWARD_DATA, in, k, dout, true);
    PassResult w = run(c, a, MEC4J_DIRECTION_BACKWARD_WEIGHTS, in, k, dout, true);
    CHECK(d.status == MEC4J_OK && d.grad_in == grad_in, "%s: known backward data", mec4j_algorithm_name(a));
    CHECK(w.status == MEC4J_OK && w.grad_k == grad_k && w.grad_bias == grad_bias, "%s: known backward weights",
          mec4j_algorithm_name(a));
    PassResult f = run(c, MEC4J_ALGORITHM_MEC_FUSED, MEC4J_DIRECTION_BACKWARD_WEIGHTS, in, k, dout, true);
    CHECK(f.status == MEC4J_OK && f.grad_k == grad_k && f.grad_bias == grad_bias, "mec-fused: known backward weights");
    d = run(s2, a, MEC4J_DIRECTION_BACKWARD_DATA, in, k, dout, true);
    w = run(s2, a, MEC4J_DIRECTION_BACKWARD_WEIGHTS, in, k, dout, true);
    CHECK(d.status == MEC4J_OK && d.grad_in == s2_grad_in, "%s: known strided, padded backward data",
          mec4j_algorithm_name(a));
    CHECK(w.status == MEC4J_OK && w.grad_k == s2_grad_k, "%s: known strided, padded backward weights",
          mec4j_algorithm_name(a));
  }
}

void test_random_shapes(uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < cases; ++i) {
    mec4j_conv2d c = random_conv(r, i);
    if (i % 6 == 5) {  // unpadded 1x1, in place (stride 1) or subsampled
      c.kernel_height = c.kernel_width = 1;
      c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 0;
    }
    const int64_t ekh = (c.kernel_height - 1) * std::max<int64_t>(1, c.dilation_height) + 1;
    const int64_t ekw = (c.kernel_width - 1) * std::max<int64_t>(1, c.dilation_width) + 1;
    c.in_height = r((int)std::max<int64_t>(1, ekh - c.pad_top - c.pad_bottom), 13);
    c.in_width = r((int)std::max<int64_t>(1, ekw - c.pad_left - c.pad_right), 13);
    if (i % 4 == 1) {  // a limit that bands one image: MEC's passes run band by band
      int64_t oh, ow;
      mec4j_output_size(&c, &oh, &ow);
      const int64_t band = ekh * ow * c.kernel_width * c.in_channels * 4;
      const int64_t image = (c.in_height + c.pad_top + c.pad_bottom) * ow * c.kernel_width * c.in_channels * 4;
      c.mec_workspace_limit = band + (int64_t)(std::uniform_real_distribution<double>(0, 1)(rng) * (image - band));
    }
    const bool integers = i % 3 != 2;
    for (mec4j_algorithm a : {MEC4J_ALGORITHM_IM2COL, MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_ROWS,
                              MEC4J_ALGORITHM_MEC_FUSED, MEC4J_ALGORITHM_DEPTHWISE})
      compare_with_reference(c, a, integers, rng);
  }
}

// Layers of real size (K blocks, several threads' shares, BLAS edge tiles), floats.
void test_large_shapes(uint64_t seed) {
  std::mt19937_64 rng(seed);
  mec4j_conv2d shapes[] = {
      conv(2, 27, 27, 64, 5, 5, 96, 1, 1, 2, 2, 2, 2),    // cv2-like, batch 2
      conv(1, 57, 57, 3, 11, 11, 32, 4, 4),               // cv1-like
      conv(3, 14, 14, 128, 3, 3, 130, 1, 1, 1, 1, 1, 1),  // odd k_c
      conv(2, 28, 28, 64, 1, 1, 48, 2, 2),                // strided 1x1: subsample
      conv(2, 16, 16, 96, 1, 1, 64, 1, 1),                // 1x1: in place
      conv(1, 40, 33, 16, 3, 3, 16, 1, 1, 1, 1, 1, 1),    // banded below
      conv(2, 20, 20, 64, 3, 3, 64, 2, 2, 1, 1, 1, 1),    // grouped below
      conv(2, 30, 30, 48, 3, 3, 48, 1, 1, 2, 2, 2, 2),    // depthwise, dilated below
      conv(2, 10, 9, 40, 3, 3, 300, 1, 1, 1, 1, 1, 1),    // MEC_FUSED's weights: many panels (packed W^T)
      conv(1, 9, 9, 7, 5, 3, 520, 2, 1, 2, 1, 0, 2),      // the same, a partial last panel and tile
  };
  shapes[5].mec_workspace_limit = 12 * 33 * 3 * 16 * 4;
  shapes[6].groups = 4;
  shapes[7].groups = 48;
  shapes[7].dilation_height = shapes[7].dilation_width = 2;
  for (const mec4j_conv2d& c : shapes)
    for (mec4j_algorithm a : {MEC4J_ALGORITHM_IM2COL, MEC4J_ALGORITHM_MEC, MEC4J_ALGORITHM_MEC_ROWS,
                              MEC4J_ALGORITHM_MEC_FUSED, MEC4J_ALGORITHM_DEPTHWISE})
      compare_with_reference(c, a, false, rng);
}

// MEC_ROWS's backward workspace: one image's row lowering. MEC's backward data at stride 1
// (MEC_FUSED's): the turned kernel, then padded copies of dO's rows (whole images here).
void test_workspace_formulas() {
  const mec4j_conv2d cv2 = conv(32, 27, 27, 96, 5, 5, 256, 1, 1, 2, 2, 2, 2);
  int64_t rows_data = 0, data = 0, weights = 0, im2col = 0;
  mec4j_workspace_size_for(&cv2, MEC4J_ALGORITHM_MEC_ROWS, MEC4J_DIRECTION_BACKWARD_DATA, &rows_data);
  mec4j_workspace_size_for(&cv2, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_DATA, &data);
  mec4j_workspace_size_for(&cv2, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_WEIGHTS, &weights);
  mec4j_workspace_size_for(&cv2, MEC4J_ALGORITHM_IM2COL, MEC4J_DIRECTION_BACKWARD_DATA, &im2col);
  const int64_t image_lowering = 4LL * 27 * 31 * 5 * 96;  // o_w * padded i_h * k_w * i_c
  CHECK(rows_data == image_lowering && weights == image_lowering, "MEC backward workspace %lld / %lld, expected %lld",
        (long long)rows_data, (long long)weights, (long long)image_lowering);
  const int64_t turned = 5 * 5 * 96 * 256, padded_image = 31 * 31 * 256;  // dO padded by 2
  const int64_t copies = data / 4 - turned;
  CHECK(copies >= padded_image && copies % padded_image == 0 && copies <= 32 * padded_image,
        "MEC backward data workspace %lld: the turned kernel and whole padded images of dO", (long long)data);
  CHECK(im2col == 4LL * 32 * 27 * 27 * 25 * 96, "im2col backward workspace %lld", (long long)im2col);
  const mec4j_conv2d pointwise = conv(2, 8, 8, 16, 1, 1, 32, 1, 1);
  mec4j_workspace_size_for(&pointwise, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_DATA, &data);
  CHECK(data == 0, "1x1 backward data needs no workspace, got %lld", (long long)data);
  mec4j_conv2d depthwise = conv(2, 8, 8, 16, 3, 3, 16, 1, 1, 1, 1, 1, 1);
  depthwise.groups = 16;
  mec4j_workspace_size_for(&depthwise, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_WEIGHTS, &weights);
  CHECK(weights == 4 * 9 * 16, "depthwise backward: a transposed kernel, got %lld", (long long)weights);
}

// Each refusal returns its status and leaves every output untouched.
void test_refusals() {
  const mec4j_conv2d c = conv(1, 6, 6, 2, 3, 3, 3, 1, 1);
  const Sizes z = sizes(c);
  std::vector<float> in(z.in, 1.f), k(z.kernel, 1.f), dout(z.out, 1.f);
  std::vector<float> grad_in(z.in, 7.f), grad_k(z.kernel, 7.f), grad_bias(z.bias, 7.f);
  int64_t bytes = 0;
  void* ws = mec4j_workspace_alloc(1 << 20);
  auto untouched = [&] {
    for (float v : grad_in)
      if (v != 7.f) return false;
    for (float v : grad_k)
      if (v != 7.f) return false;
    for (float v : grad_bias)
      if (v != 7.f) return false;
    return true;
  };
  auto both = [&](const mec4j_conv2d& cc, mec4j_algorithm a, const float* go, void* w, int64_t wb, mec4j_status want,
                  const char* what) {
    const mec4j_status d = mec4j_conv2d_backward_data(&cc, a, go, k.data(), grad_in.data(), w, wb);
    const mec4j_status g = mec4j_conv2d_backward_weights(&cc, a, in.data(), go, grad_k.data(), grad_bias.data(), w, wb);
    CHECK(d == want && g == want, "%s: got %d / %d, want %d", what, d, g, want);
    CHECK(untouched(), "%s: outputs written", what);
  };
  for (mec4j_algorithm a : {MEC4J_ALGORITHM_MEC_A, MEC4J_ALGORITHM_MEC_B, MEC4J_ALGORITHM_DEPTHWISE}) {
    both(c, a, dout.data(), ws, 1 << 20, MEC4J_ERROR_UNSUPPORTED, mec4j_algorithm_name(a));
    CHECK(mec4j_workspace_size_for(&c, a, MEC4J_DIRECTION_BACKWARD_DATA, &bytes) == MEC4J_ERROR_UNSUPPORTED,
          "%s: no backward workspace", mec4j_algorithm_name(a));
  }
  // MEC_FUSED: backward data at stride 1 only.
  const mec4j_conv2d strided = conv(1, 6, 6, 2, 3, 3, 3, 2, 2);
  CHECK(mec4j_conv2d_backward_data(&strided, MEC4J_ALGORITHM_MEC_FUSED, dout.data(), k.data(), grad_in.data(), ws,
                                   1 << 20) == MEC4J_ERROR_UNSUPPORTED &&
            untouched(),
        "MEC_FUSED has no strided backward data");
  CHECK(mec4j_workspace_size_for(&c, MEC4J_ALGORITHM_MEC_FUSED, MEC4J_DIRECTION_BACKWARD_WEIGHTS, &bytes) == MEC4J_OK,
        "MEC_FUSED has backward weights");
  both(c, (mec4j_algorithm)42, dout.data(), ws, 1 << 20, MEC4J_ERROR_UNKNOWN_ALGORITHM, "unknown algorithm");
  CHECK(mec4j_workspace_size_for(&c, MEC4J_ALGORITHM_MEC, (mec4j_direction)3, &bytes) == MEC4J_ERROR_INVALID_ARGUMENT,
        "unknown direction");
  CHECK(mec4j_workspace_size_for(&c, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_DATA, nullptr) ==
            MEC4J_ERROR_NULL_ARGUMENT,
        "null bytes");
  both(c, MEC4J_ALGORITHM_MEC, nullptr, ws, 1 << 20, MEC4J_ERROR_NULL_ARGUMENT, "null grad_output");
  CHECK(mec4j_conv2d_backward_data(&c, MEC4J_ALGORITHM_MEC, dout.data(), nullptr, grad_in.data(), ws, 1 << 20) ==
                MEC4J_ERROR_NULL_ARGUMENT &&
            untouched(),
        "null kernel");
  CHECK(mec4j_conv2d_backward_weights(&c, MEC4J_ALGORITHM_MEC, nullptr, dout.data(), grad_k.data(), nullptr, ws,
                                      1 << 20) == MEC4J_ERROR_NULL_ARGUMENT &&
            untouched(),
        "null input");
  mec4j_workspace_size_for(&c, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_DATA, &bytes);
  CHECK(bytes > 0, "this layer needs a workspace");
  both(c, MEC4J_ALGORITHM_MEC, dout.data(), nullptr, 0, MEC4J_ERROR_NULL_ARGUMENT, "null workspace");
  int64_t weight_bytes = 0;  // each pass its own size (at stride 1, backward data is a forward of its own)
  mec4j_workspace_size_for(&c, MEC4J_ALGORITHM_MEC, MEC4J_DIRECTION_BACKWARD_WEIGHTS, &weight_bytes);
  CHECK(mec4j_conv2d_backward_data(&c, MEC4J_ALGORITHM_MEC, dout.data(), k.data(), grad_in.data(), ws, bytes - 4) ==
                MEC4J_ERROR_WORKSPACE_TOO_SMALL &&
            untouched(),
        "backward data: workspace too small");
  CHECK(mec4j_conv2d_backward_weights(&c, MEC4J_ALGORITHM_MEC, in.data(), dout.data(), grad_k.data(), grad_bias.data(),
                                      ws, weight_bytes - 4) == MEC4J_ERROR_WORKSPACE_TOO_SMALL &&
            untouched(),
        "backward weights: workspace too small");
  both(c, MEC4J_ALGORITHM_MEC, dout.data(), static_cast<char*>(ws) + 4, std::max(bytes, weight_bytes),
       MEC4J_ERROR_WORKSPACE_MISALIGNED, "misaligned workspace");
  mec4j_conv2d bad = c;
  bad.stride_width = 0;
  both(bad, MEC4J_ALGORITHM_MEC, dout.data(), ws, 1 << 20, MEC4J_ERROR_INVALID_ARGUMENT, "stride 0");
  mec4j_conv2d columns = c;  // below one output row band: forward tiles columns, backward cannot
  columns.mec_workspace_limit = 6 * 3 * 2 * 4;
  both(columns, MEC4J_ALGORITHM_MEC, dout.data(), ws, 1 << 20, MEC4J_ERROR_WORKSPACE_LIMIT, "column-tile limit");
  mec4j_workspace_free(ws);
}

}  // namespace

int main(int argc, char** argv) {
  if (repeats_the_uncapped_run("backward_tests")) return SKIPPED;
  const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20170706;
  const int cases = argc > 2 ? std::atoi(argv[2]) : 1500;
  test_known_answers();
  test_refusals();
  test_workspace_formulas();
  test_adjoint_identity(seed, 300);
  test_large_shapes(seed);
  test_random_shapes(seed, cases);
  std::printf("%s: %d failure(s); backward passes on %d random shapes (seed %llu)\n", failures ? "FAILED" : "OK",
              failures, cases, (unsigned long long)seed);
  return failures ? 1 : 0;
}
