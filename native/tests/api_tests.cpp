// The C API's contract: refused input, the ISA cap, packed kernels, the measured choice's
// stability and a misspelt environment.
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
#include "mec4j.h"
#include "mec4j_tests.h"
#include "test_support.h"

void test_api_refuses_bad_activation() {
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

void test_api_refuses_bad_input() {
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
void test_isa_cap() {
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

// Weights packed once: forward_packed gives MEC_FUSED's bits exactly (same kernel, same order), on
// layers with several K blocks, a partial column panel, batches, padding, 1x1 in place and row
// bands; a packed kernel from another ISA or layer, a short or misaligned buffer are refused.
void test_packed_kernel_matches_mec_fused(uint64_t seed) {
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
void test_measured_choice_is_stable(uint64_t seed) {
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

int test_bad_environment() {
  // Run with a misspelt MEC4J_MAX_ISA, MEC4J_TUNING, MEC4J_GEMM_PARALLEL or MEC4J_STREAM_STORES:
  // every planning call says so, until the API sets a valid value (the last two have no setter:
  // for good).
  mec4j_conv2d c = conv(1, 5, 5, 2, 3, 3, 4, 1, 1);
  int64_t b;
  mec4j_isa isa;
  mec4j_tuning t;
  const bool isa_bad = mec4j_get_max_isa(&isa) == MEC4J_ERROR_BAD_ENVIRONMENT;
  const bool tuning_bad = mec4j_get_tuning(&t) == MEC4J_ERROR_BAD_ENVIRONMENT;
  const char* gemm_parallel = std::getenv("MEC4J_GEMM_PARALLEL");
  const char* stream_stores = std::getenv("MEC4J_STREAM_STORES");
  CHECK(isa_bad || tuning_bad || (gemm_parallel && *gemm_parallel) || (stream_stores && *stream_stores),
        "a misspelt value is reported");
  CHECK(mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC, &b) == MEC4J_ERROR_BAD_ENVIRONMENT, "workspace query fails");
  std::vector<float> in(5 * 5 * 2), k(3 * 3 * 2 * 4), out(3 * 3 * 4);
  CHECK(mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_MEC_ROWS, in.data(), k.data(), nullptr, out.data(), nullptr, 0) ==
            MEC4J_ERROR_BAD_ENVIRONMENT,
        "a forward pass fails");
  for (mec4j_isa level : mec4j::isa_levels())
    CHECK(std::strstr(mec4j_status_string(MEC4J_ERROR_BAD_ENVIRONMENT), mec4j_isa_name(level)), "names %s",
          mec4j_isa_name(level));
  for (const char* variable : {"MEC4J_MAX_ISA", "MEC4J_TUNING", "MEC4J_GEMM_PARALLEL", "MEC4J_STREAM_STORES"})
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
