// Allocation failures (test build with MEC4J_FAULT_INJECTION, src/fault_injection.h): for every
// path of the C API (each algorithm and pass, tiles, bands, chunks, 1x1, groups, dilation,
// depthwise, packed weights, the measured MEC choice, 1 and 2 threads, each ISA level), each
// allocation a call makes is made to fail in turn, alone and then with every later one. Each
// call must then return MEC4J_ERROR_OUT_OF_MEMORY with its outputs untouched, or absorb the
// failure (a thread pool that cannot grow runs on fewer threads) with an exact result; and the
// next call, with memory back, must be exact. Leaks: LeakSanitizer at exit under MEC4J_SANITIZE.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "fault_injection.h"
#include "mec4j.h"
#include "test_support.h"

namespace {

struct Layer {
  const char* name;
  mec4j_conv2d c;
};

mec4j_conv2d layer(int64_t n, int64_t ih, int64_t iw, int64_t ic, int64_t kh, int64_t kw, int64_t kc, int64_t s,
                   int64_t pad, int64_t groups = 1, int64_t dil = 1, int64_t limit = 0) {
  mec4j_conv2d c = conv(n, ih, iw, ic, kh, kw, kc, s, s, pad, pad, pad, pad);
  c.groups = groups;
  c.dilation_height = c.dilation_width = dil;
  c.mec_workspace_limit = limit;
  return c;
}

enum class Pass { Forward, BackwardData, BackwardWeights, ForwardPacked };
const char* pass_name(Pass p) {
  switch (p) {
    case Pass::Forward:
      return "forward";
    case Pass::BackwardData:
      return "backward-data";
    case Pass::BackwardWeights:
      return "backward-weights";
    case Pass::ForwardPacked:
      return "forward-packed";
  }
  return "?";
}

// Small integers: every algorithm's sums are exact, so results compare with ==.
std::vector<float> integers(int64_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> d(-3, 3);
  std::vector<float> v(count);
  for (float& x : v) x = (float)d(rng);
  return v;
}

struct Buffers {
  std::vector<float> in, kernel, bias, grad_out;
};

// One pass's outputs: forward and packed write out; backward data grad_in; backward weights
// grad_kernel and grad_bias.
struct Outputs {
  std::vector<float> a, b;
  void poison() {
    std::fill(a.begin(), a.end(), SENTINEL);
    std::fill(b.begin(), b.end(), SENTINEL);
  }
  bool untouched() const {
    for (float x : a)
      if (std::memcmp(&x, &SENTINEL, sizeof x)) return false;
    for (float x : b)
      if (std::memcmp(&x, &SENTINEL, sizeof x)) return false;
    return true;
  }
};

struct Run {
  const mec4j_conv2d& c;
  mec4j_algorithm alg;
  Pass pass;
  const Buffers& buf;
  void* ws;
  int64_t ws_bytes;
  const void* packed;
  // Every call a layer of its own for the automatic MEC's table of measured choices (another
  // mec_threshold, above every o_w here: the same variants), so that every call measures.
  bool measure_every_call;
};

int64_t next_threshold = 1000;

mec4j_status call(const Run& run, Outputs& o) {
  mec4j_conv2d c = run.c;
  if (run.measure_every_call) c.mec_threshold = next_threshold++;
  const Run& r = run;
  switch (r.pass) {
    case Pass::Forward:
      return mec4j_conv2d_forward(&c, r.alg, r.buf.in.data(), r.buf.kernel.data(), r.buf.bias.data(), o.a.data(), r.ws,
                                  r.ws_bytes);
    case Pass::BackwardData:
      return mec4j_conv2d_backward_data(&c, r.alg, r.buf.grad_out.data(), r.buf.kernel.data(), o.a.data(), r.ws,
                                        r.ws_bytes);
    case Pass::BackwardWeights:
      return mec4j_conv2d_backward_weights(&c, r.alg, r.buf.in.data(), r.buf.grad_out.data(), o.a.data(), o.b.data(),
                                           r.ws, r.ws_bytes);
    case Pass::ForwardPacked:
      return mec4j_conv2d_forward_packed(&c, r.buf.in.data(), r.packed, r.buf.bias.data(), o.a.data(), r.ws,
                                         r.ws_bytes);
  }
  return MEC4J_ERROR_INTERNAL;
}

int64_t total_calls = 0, total_failures_injected = 0, total_oom = 0, total_absorbed = 0, total_internal = 0;

// Fails allocation k alone, for k = 0, 1, ..., with an exception other than std::bad_alloc
// where operator new throws (any unexpected exception inside the library): the call returns
// MEC4J_ERROR_INTERNAL with its outputs untouched (MEC4J_ERROR_OUT_OF_MEMORY where the failing
// allocation is one that returns NULL), or absorbs it with an exact result.
void throw_at_each_allocation(const char* what, const Run& r, const Outputs& expected, Outputs& o) {
  mec4j_test_fail_with_other_exception(1);
  for (int64_t k = 0; k <= 10000; ++k) {
    o.poison();
    mec4j_test_fail_allocation(k, 0);
    const mec4j_status st = call(r, o);
    const int64_t failed = mec4j_test_failed_allocations();
    mec4j_test_fail_allocation(-1, 0);
    ++total_calls;
    if (failed == 0) {
      CHECK(st == MEC4J_OK && o.a == expected.a && o.b == expected.b, "%s: no exception injected: status %d", what,
            (int)st);
      break;
    }
    if (st == MEC4J_ERROR_INTERNAL || st == MEC4J_ERROR_OUT_OF_MEMORY) {
      total_internal += st == MEC4J_ERROR_INTERNAL;
      CHECK(o.untouched(), "%s: allocation %lld threw: status %d, but the outputs were written", what, (long long)k,
            (int)st);
    } else {
      CHECK(st == MEC4J_OK && o.a == expected.a && o.b == expected.b, "%s: allocation %lld threw: status %d (%s)", what,
            (long long)k, (int)st, mec4j_status_string(st));
    }
  }
  mec4j_test_fail_with_other_exception(0);
}

// Fails allocation k (alone, then persistently from k on) for k = 0, 1, ... until a call makes
// fewer than k + 1 allocations.
void fail_each_allocation(const char* what, const Run& r, const Outputs& expected, Outputs& o) {
  for (int persistent = 0; persistent <= 1; ++persistent)
    for (int64_t k = 0;; ++k) {
      o.poison();
      mec4j_test_fail_allocation(k, persistent);
      const mec4j_status st = call(r, o);
      const int64_t failed = mec4j_test_failed_allocations();
      mec4j_test_fail_allocation(-1, 0);
      ++total_calls;
      if (failed == 0) {  // the call made k allocations or fewer: every one has had its turn
        CHECK(st == MEC4J_OK && o.a == expected.a && o.b == expected.b, "%s: no failure injected: status %d", what,
              (int)st);
        break;
      }
      total_failures_injected += failed;
      if (st == MEC4J_ERROR_OUT_OF_MEMORY) {
        ++total_oom;
        CHECK(o.untouched(), "%s: allocation %lld failed (%s): out of memory, but the outputs were written", what,
              (long long)k, persistent ? "and all later" : "alone");
      } else {
        ++total_absorbed;
        CHECK(st == MEC4J_OK && o.a == expected.a && o.b == expected.b,
              "%s: allocation %lld failed (%s): status %d (%s), outputs %s", what, (long long)k,
              persistent ? "and all later" : "alone", (int)st, mec4j_status_string(st),
              st == MEC4J_OK  ? "wrong"
              : o.untouched() ? "untouched"
                              : "written");
      }
      // Memory is back: the same call is exact.
      o.poison();
      const mec4j_status again = call(r, o);
      CHECK(again == MEC4J_OK && o.a == expected.a && o.b == expected.b,
            "%s: after allocation %lld failed: status %d, outputs %s", what, (long long)k, (int)again,
            again == MEC4J_OK ? "wrong" : "not written");
      if (k > 10000) {
        CHECK(false, "%s: more than 10000 allocations in one call", what);
        break;
      }
    }
}

void test_layer(const Layer& layer, std::mt19937_64& rng) {
  const mec4j_conv2d& c = layer.c;
  int64_t oh = 0, ow = 0;
  if (mec4j_output_size(&c, &oh, &ow) != MEC4J_OK) {
    CHECK(false, "%s: invalid layer", layer.name);
    return;
  }
  const int64_t g = c.groups > 1 ? c.groups : 1;
  const int64_t in_elems = c.batch * c.in_height * c.in_width * c.in_channels;
  const int64_t k_elems = c.kernel_height * c.kernel_width * (c.in_channels / g) * c.out_channels;
  const int64_t out_elems = c.batch * oh * ow * c.out_channels;
  Buffers buf{integers(in_elems, rng), integers(k_elems, rng), integers(c.out_channels, rng), integers(out_elems, rng)};

  const mec4j_algorithm algs[] = {MEC4J_ALGORITHM_REFERENCE, MEC4J_ALGORITHM_IM2COL,   MEC4J_ALGORITHM_MEC,
                                  MEC4J_ALGORITHM_MEC_A,     MEC4J_ALGORITHM_MEC_B,    MEC4J_ALGORITHM_MEC_ROWS,
                                  MEC4J_ALGORITHM_MEC_FUSED, MEC4J_ALGORITHM_DEPTHWISE};
  for (Pass pass : {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights, Pass::ForwardPacked}) {
    Outputs expected, o;
    const bool weights = pass == Pass::BackwardWeights;
    expected.a.assign(pass == Pass::BackwardData ? in_elems : weights ? k_elems : out_elems, 0.f);
    expected.b.assign(weights ? c.out_channels : 0, 0.f);
    o = expected;
    const mec4j_direction dir = pass == Pass::BackwardData      ? MEC4J_DIRECTION_BACKWARD_DATA
                                : pass == Pass::BackwardWeights ? MEC4J_DIRECTION_BACKWARD_WEIGHTS
                                                                : MEC4J_DIRECTION_FORWARD;
    {
      const Run ref{
          c,    MEC4J_ALGORITHM_REFERENCE, pass == Pass::ForwardPacked ? Pass::Forward : pass, buf, nullptr, 0, nullptr,
          false};
      CHECK(call(ref, expected) == MEC4J_OK, "%s: reference %s", layer.name, pass_name(pass));
    }
    for (mec4j_algorithm alg : algs) {
      if (pass == Pass::ForwardPacked && alg != MEC4J_ALGORITHM_MEC_FUSED) continue;
      int64_t bytes = 0;
      if (mec4j_workspace_size_for(&c, alg, dir, &bytes) != MEC4J_OK) continue;  // refused: nothing to run
      void* ws = bytes > 0 ? mec4j_workspace_alloc(bytes) : nullptr;
      std::vector<unsigned char> packed_storage;
      void* packed = nullptr;
      if (pass == Pass::ForwardPacked) {
        int64_t packed_bytes = 0;
        if (mec4j_packed_kernel_size(&c, &packed_bytes) != MEC4J_OK) {
          mec4j_workspace_free(ws);
          continue;
        }
        packed = mec4j_workspace_alloc(packed_bytes);
        // Packing allocates nothing; a failure of its own would still have to leave it a status.
        mec4j_test_fail_allocation(0, 1);
        const mec4j_status st = mec4j_pack_kernel(&c, buf.kernel.data(), packed, packed_bytes);
        mec4j_test_fail_allocation(-1, 0);
        CHECK(st == MEC4J_OK, "%s: pack_kernel with every allocation failing: %d", layer.name, (int)st);
      }
      char what[160];
      for (int threads : {1, 2}) {
        mec4j_blas_set_threads(threads);
        for (mec4j_isa isa : {MEC4J_ISA_BEST, MEC4J_ISA_PORTABLE}) {
          mec4j_set_max_isa(isa);
          if (pass == Pass::ForwardPacked) {  // the packed layout follows the ISA: pack again
            int64_t packed_bytes = 0;
            mec4j_packed_kernel_size(&c, &packed_bytes);
            mec4j_workspace_free(packed);
            packed = mec4j_workspace_alloc(packed_bytes);
            mec4j_pack_kernel(&c, buf.kernel.data(), packed, packed_bytes);
          }
          for (mec4j_tuning tuning : {MEC4J_TUNING_MEASURE, MEC4J_TUNING_HEURISTIC}) {
            if (tuning == MEC4J_TUNING_HEURISTIC && alg != MEC4J_ALGORITHM_MEC) continue;  // the same run
            mec4j_set_tuning(tuning);
            std::snprintf(what, sizeof what, "%s %s %s, %d thread(s), %s%s", layer.name, mec4j_algorithm_name(alg),
                          pass_name(pass), threads, mec4j_isa_name(isa),
                          tuning == MEC4J_TUNING_HEURISTIC ? ", heuristic" : "");
            const Run run{c,  alg,   pass,   buf,
                          ws, bytes, packed, alg == MEC4J_ALGORITHM_MEC && tuning == MEC4J_TUNING_MEASURE};
            // The packed kernel does not take column tiles: refused before anything allocates.
            if (pass == Pass::ForwardPacked && call(run, o) == MEC4J_ERROR_UNSUPPORTED) continue;
            fail_each_allocation(what, run, expected, o);
            if (threads == 1 && isa == MEC4J_ISA_BEST) throw_at_each_allocation(what, run, expected, o);
          }
        }
      }
      mec4j_set_tuning(MEC4J_TUNING_MEASURE);
      mec4j_set_max_isa(MEC4J_ISA_BEST);
      mec4j_workspace_free(packed);
      mec4j_workspace_free(ws);
    }
  }
}

void test_workspace_alloc() {
  mec4j_test_fail_allocation(0, 0);
  void* p = mec4j_workspace_alloc(4096);
  CHECK(p == nullptr && mec4j_test_failed_allocations() == 1, "mec4j_workspace_alloc with its allocation failing");
  void* q = mec4j_workspace_alloc(4 << 20);  // a huge-page-sized block, after the failure
  CHECK(q != nullptr, "mec4j_workspace_alloc after a failed one");
  mec4j_test_fail_allocation(-1, 0);
  mec4j_workspace_free(q);
}

}  // namespace

int main() {
  std::mt19937_64 rng(20170706);
  const Layer layers[] = {
      {"3x3 padded, batch 3", layer(3, 9, 8, 5, 3, 3, 7, 1, 1)},
      {"3x3 padded, batch 2, wide patch", layer(2, 6, 6, 64, 3, 3, 4, 1, 1)},  // MEC_ROWS's pick at batch > 1
      // Limits in bytes (4 x floats): two images' lowering (13 x 4 x 5 x 3 floats each), five
      // lowered rows (8 x 3 x 4 each), six lowered rows (5 x 3 x 3 each; stride 2: bands of two
      // output rows), two output columns' strips (10 x 3 x 3 each).
      {"5x5 stride 2, batch 5, image tiles", layer(5, 11, 10, 3, 5, 5, 6, 2, 1, 1, 1, 4 * 2 * 13 * 4 * 5 * 3)},
      {"3x3, batch 2, row bands", layer(2, 17, 8, 4, 3, 3, 5, 1, 1, 1, 1, 4 * 5 * 8 * 3 * 4)},
      {"3x3 stride 2, batch 2, row bands", layer(2, 16, 9, 3, 3, 3, 4, 2, 1, 1, 1, 4 * 6 * 5 * 3 * 3)},
      {"3x3, column tiles", layer(1, 8, 12, 3, 3, 3, 5, 1, 1, 1, 1, 4 * 2 * 10 * 3 * 3)},
      {"1x1 stride 1, batch 2", layer(2, 5, 6, 8, 1, 1, 9, 1, 0)},
      {"1x1 stride 2, batch 2", layer(2, 7, 6, 8, 1, 1, 9, 2, 0)},
      {"3x3 groups 2, dilation 2", layer(2, 9, 9, 6, 3, 3, 4, 1, 2, 2, 2)},
      {"depthwise 3x3", layer(2, 9, 9, 12, 3, 3, 12, 1, 1, 12)},
      {"depthwise 3x3, multiplier 2, stride 2", layer(1, 9, 8, 5, 3, 3, 10, 2, 1, 5)},
      {"small images, batch 8 (backward chunks)", layer(8, 4, 4, 3, 3, 3, 5, 1, 1)},
      // A lowered image above twice the L2 of most CPUs: MEC_FUSED's cache bands.
      {"48x48x40, cache bands", layer(1, 48, 48, 40, 3, 3, 4, 1, 1)},
  };
  test_workspace_alloc();
  for (const Layer& l : layers) test_layer(l, rng);
  CHECK(total_internal > 0, "no injected exception became MEC4J_ERROR_INTERNAL");
  std::printf(
      "%s: %d failure(s); %lld calls, %lld allocation failures injected: %lld became out-of-memory, "
      "%lld were absorbed; %lld exceptions became internal errors\n",
      failures ? "FAILED" : "OK", failures, (long long)total_calls, (long long)total_failures_injected,
      (long long)total_oom, (long long)total_absorbed, (long long)total_internal);
  return failures ? 1 : 0;
}
