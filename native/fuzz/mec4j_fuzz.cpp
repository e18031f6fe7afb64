// libFuzzer target over the C API (native/include/mec4j.h). Each input is one call: a layer, an
// algorithm, a pass (forward, backward data, backward weights, or forward with a packed kernel),
// the ISA cap, the BLAS thread count, the tuning mode, how the workspace is passed, optionally an
// allocation made to fail, and small-integer data. It checks that
//   - every call returns a known status and never crashes (ASan + UBSan, no recovery);
//   - statuses agree: a layer that mec4j_conv2d_check refuses is refused with the same status by
//     every call; a pass that the workspace query refuses is refused by the run with that status;
//     a workspace too small, misaligned or missing, or a missing input, gets its own status;
//     mec4j_min_workspace_limit is the limit below which mec4j_conv2d_check refuses the layer's own;
//   - a refused call leaves every output untouched, and so does an injected allocation failure
//     (MEC4J_ERROR_OUT_OF_MEMORY), unless the call absorbs it with an exact result;
//   - an accepted call's outputs equal MEC4J_ALGORITHM_REFERENCE's exactly (small integers: every
//     partial sum is an integer below 2^24, exact in any order), and the reference equals this
//     file's own integer loops;
//   - the workspace query is exact: the run gets exactly the queried bytes, with guard zones
//     before and after (poisoned for ASan: any access is reported) that must stay intact; the
//     outputs and inputs are guarded the same way and the inputs must not change.
// The input format is described at decode() below; make_corpus.py writes seeds in it.
#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "fault_injection.h"
#include "mec4j.h"

#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

namespace {

// What one input runs at most: buffers of 2^16 floats, a 4 MiB workspace and 2^16 multiply-adds
// per pass. Every corner this fuzzer is for (tile and band boundaries, K blocks, edge tiles, size
// arithmetic) is reached by small layers, and small runs keep it at thousands of executions a
// second; larger layers are still checked, planned and refused (with null buffers), and run by
// the ctest suites' random shapes.
constexpr int64_t kMaxElems = int64_t{1} << 16;
constexpr int64_t kMaxWorkspace = int64_t{4} << 20;
constexpr int64_t kMaxMacs = int64_t{1} << 16;

// Pass codes of the input; kPacked: pack the kernel (mec4j_pack_kernel), then
// mec4j_conv2d_forward_packed; kBadDirection: a direction value mec4j does not know.
enum PassCode { kForward = 0, kBackwardData = 1, kBackwardWeights = 2, kPacked = 3, kBadDirection = 4 };

struct Case {
  mec4j_conv2d c;
  mec4j_algorithm alg;
  int pass;
  mec4j_isa isa;
  int threads;
  bool bias, heuristic, null_input, no_grad_bias, repack_isa;
  int ws_mode;      // 0, 1: exact; 2: one float short; 3: misaligned, or null when 0 bytes are needed
  int64_t fail_at;  // allocation to fail, < 0: none
  bool fail_persistent;
  bool fail_other;  // the failing allocation throws another exception than std::bad_alloc
  uint64_t seed;    // of the data
};

struct Reader {
  const uint8_t* p;
  size_t n, i = 0;
  uint8_t byte() { return i < n ? p[i++] : 0; }
  int64_t raw() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= (uint64_t)byte() << (8 * k);
    return (int64_t)v;
  }
  // A size: one byte below 0xF8 is its value; 0xF8..0xFF is followed by a raw 64-bit value.
  int64_t field() {
    const uint8_t b = byte();
    return b >= 0xF8 ? raw() : b;
  }
};

int64_t mul_or(int64_t a, int64_t b, int64_t fallback) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? fallback : r;
}
int64_t add_or(int64_t a, int64_t b, int64_t fallback) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? fallback : r;
}

// Input layout (little-endian):
//   byte 0  algorithm: v % 10; 0..7 the mec4j_algorithm values, 8 and 9 unknown ones (99, -1)
//   byte 1  pass: v % 5 (PassCode)
//   byte 2  ISA cap: v % 4 (mec4j_isa)
//   byte 3  BLAS threads: 1 + v % 3
//   byte 4  flags: 1 bias, 2 heuristic tuning (else measure), 4|8 workspace mode (ws_mode),
//           16 null input, 32 null grad_bias, 64 change the ISA cap between packing and running,
//           128 a failing allocation throws another exception than std::bad_alloc
//   byte 5  allocation failure: v >= 0xC0 fails allocation v & 0x1F (and every later one if
//           v & 0x20) during the call
//   then the layer's fields as sizes (Reader::field): batch, in_height, in_width, in_channels,
//   kernel_height, kernel_width, out_channels, stride_height, stride_width, pad_top,
//   pad_bottom, pad_left, pad_right, mec_threshold, groups, dilation_height, dilation_width;
//   then mec_workspace_limit: a byte 0 (none), 1..0xBF (that many times 16 bytes), 0xC0..0xF7
//   (relative to the layer: unit (v - 0xC0) % 3 = one image's lowering, one lowered row, one
//   output column's strip, in floats; then a byte count and a signed byte delta: 4 * (unit *
//   count + delta) bytes) or 0xF8..0xFF and a raw 64-bit value;
//   then the activation: a byte below 0xC0 none, 0xC0..0xDF RELU, 0xE0..0xFD CLAMP with bounds
//   from two more bytes (min = signed byte / 2, max = min + byte / 2; 0xFC: min NaN, 0xFD: max
//   below min), 0xFE and 0xFF an unknown code from the next bytes;
//   the remaining bytes seed the data (FNV-1a), small integers in [-3, 3].
Case decode(const uint8_t* data, size_t size) {
  Reader r{data, size};
  Case k{};
  const int a = r.byte() % 10;
  k.alg = a < 8 ? (mec4j_algorithm)a : a == 8 ? (mec4j_algorithm)99 : (mec4j_algorithm)-1;
  k.pass = r.byte() % 5;
  k.isa = (mec4j_isa)(r.byte() % 4);
  k.threads = 1 + r.byte() % 3;
  const uint8_t flags = r.byte();
  k.bias = flags & 1;
  k.heuristic = flags & 2;
  k.ws_mode = (flags >> 2) & 3;
  k.null_input = flags & 16;
  k.no_grad_bias = flags & 32;
  k.repack_isa = flags & 64;
  k.fail_other = flags & 128;
  const uint8_t fail = r.byte();
  k.fail_at = fail >= 0xC0 ? fail & 0x1F : -1;
  k.fail_persistent = fail & 0x20;
  mec4j_conv2d& c = k.c;
  int64_t* fields[] = {&c.batch,           &c.in_height,     &c.in_width,      &c.in_channels,   &c.kernel_height,
                       &c.kernel_width,    &c.out_channels,  &c.stride_height, &c.stride_width,  &c.pad_top,
                       &c.pad_bottom,      &c.pad_left,      &c.pad_right,     &c.mec_threshold, &c.groups,
                       &c.dilation_height, &c.dilation_width};
  for (int64_t* f : fields) *f = r.field();
  const uint8_t lb = r.byte();
  if (lb >= 0xF8) {
    c.mec_workspace_limit = r.raw();
  } else if (lb >= 0xC0) {
    // The units of make_shape's tiling, from the fields if they are small enough (else 0).
    int64_t unit = 0;
    bool small = true;
    for (int64_t v : {c.in_height, c.in_width, c.in_channels, c.kernel_width, c.stride_width, c.pad_top, c.pad_bottom,
                      c.pad_left, c.pad_right, c.dilation_width})
      small = small && v >= 0 && v <= (1 << 16);
    if (small) {
      const int64_t dw = c.dilation_width > 1 ? c.dilation_width : 1;
      const int64_t iwp = c.in_width + c.pad_left + c.pad_right, ihp = c.in_height + c.pad_top + c.pad_bottom;
      const int64_t ekw = (c.kernel_width - 1) * dw + 1;
      const int64_t ow = c.stride_width > 0 && iwp >= ekw ? (iwp - ekw) / c.stride_width + 1 : 1;
      const int64_t piece = c.kernel_width * c.in_channels, strip = ihp * piece;
      const int64_t units[] = {strip * ow, ow * piece, strip};
      unit = units[(lb - 0xC0) % 3];
    }
    const int64_t count = r.byte();
    const int64_t delta = (int8_t)r.byte();
    c.mec_workspace_limit = mul_or(add_or(mul_or(unit, count, 0), delta, 0), 4, 0);
  } else {
    c.mec_workspace_limit = lb * 16;
  }
  const uint8_t act = r.byte();
  if (act >= 0xFE) {
    c.activation = (int8_t)r.byte() < 0 ? (int8_t)r.byte() : 3 + r.byte();  // unknown codes
  } else if (act >= 0xE0) {
    c.activation = MEC4J_ACTIVATION_CLAMP;
    c.activation_min = (int8_t)r.byte() / 2.0f;
    c.activation_max = c.activation_min + r.byte() / 2.0f;
    if (act == 0xFC) c.activation_min = NAN;
    if (act == 0xFD) c.activation_max = c.activation_min - 1.0f;
  } else if (act >= 0xC0) {
    c.activation = MEC4J_ACTIVATION_RELU;
  }
  uint64_t h = 1469598103934665603ull;
  for (; r.i < r.n; ++r.i) h = (h ^ r.p[r.i]) * 1099511628211ull;
  k.seed = h;
  return k;
}

void describe(const Case& k, FILE* f) {
  const mec4j_conv2d& c = k.c;
  std::fprintf(f,
               "layer: batch %" PRId64 " in %" PRId64 "x%" PRId64 "x%" PRId64 " kernel %" PRId64 "x%" PRId64
               " out_channels %" PRId64 " stride %" PRId64 ",%" PRId64 " pad %" PRId64 ",%" PRId64 ",%" PRId64
               ",%" PRId64 " threshold %" PRId64 " groups %" PRId64 " dilation %" PRId64 ",%" PRId64 " limit %" PRId64
               " activation %d [%g, %g]\n",
               c.batch, c.in_height, c.in_width, c.in_channels, c.kernel_height, c.kernel_width, c.out_channels,
               c.stride_height, c.stride_width, c.pad_top, c.pad_bottom, c.pad_left, c.pad_right, c.mec_threshold,
               c.groups, c.dilation_height, c.dilation_width, c.mec_workspace_limit, (int)c.activation,
               c.activation_min, c.activation_max);
  static const char* passes[] = {"forward", "backward-data", "backward-weights", "forward-packed", "bad-direction"};
  std::fprintf(f,
               "algorithm %d (%s), %s, isa cap %s, %d thread(s), %s tuning, bias %d, workspace mode %d, null input "
               "%d, null grad_bias %d, repack isa %d, fail allocation %" PRId64 "%s%s\n",
               (int)k.alg, mec4j_algorithm_name(k.alg), passes[k.pass], mec4j_isa_name(k.isa), k.threads,
               k.heuristic ? "heuristic" : "measure", k.bias, k.ws_mode, k.null_input, k.no_grad_bias, k.repack_isa,
               k.fail_at, k.fail_persistent ? " and later" : "", k.fail_other ? " (another exception)" : "");
}

const Case* g_case;

// What the inputs did, printed at exit: how many ran a convolution and compared it, how many were
// refused (and by which status), how many were valid but too large to run here.
int64_t g_runs = 0, g_too_large = 0, g_refused[16] = {};
void print_stats() {
  int64_t refused = 0;
  for (int64_t r : g_refused) refused += r;
  std::fprintf(stderr,
               "mec4j_fuzz: %" PRId64 " inputs ran a pass and matched the reference, %" PRId64 " were refused (",
               g_runs, refused);
  const char* separator = "";
  for (int st = 1; st < 16; ++st)
    if (g_refused[st]) {
      std::fprintf(stderr, "%s%s: %" PRId64, separator, mec4j_status_string((mec4j_status)st), g_refused[st]);
      separator = ", ";
    }
  std::fprintf(stderr, "), %" PRId64 " were valid but too large to run here\n", g_too_large);
}

[[noreturn]] void fail(const char* cond, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void fail(const char* cond, const char* fmt, ...) {
  std::fprintf(stderr, "\nmec4j_fuzz: CHECK FAILED%s%s%s: ", *cond ? " (" : "", cond, *cond ? ")" : "");
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  if (g_case) describe(*g_case, stderr);
  std::abort();
}
#define REQUIRE(cond, ...)                 \
  do {                                     \
    if (!(cond)) fail(#cond, __VA_ARGS__); \
  } while (0)

bool known_status(mec4j_status st) { return st >= MEC4J_OK && st <= MEC4J_ERROR_BAD_ENVIRONMENT; }

// bytes of memory, 64-byte aligned, with kGuard bytes of a pattern on each side, poisoned for
// ASan: any access to a guard is reported where it happens, and the pattern is checked after.
class Guarded {
 public:
  static constexpr size_t kGuard = 256;
  static constexpr unsigned char kPattern = 0xA5;
  explicit Guarded(int64_t bytes) : bytes_((size_t)bytes) {
    const size_t total = (kGuard + bytes_ + kGuard + 63) / 64 * 64;
    base_ = static_cast<unsigned char*>(std::aligned_alloc(64, total));
    if (!base_) fail("", "harness: no memory for %zu bytes", total);
    std::memset(base_, kPattern, kGuard);
    std::memset(base_ + kGuard + bytes_, kPattern, kGuard);
    ASAN_POISON_MEMORY_REGION(base_, kGuard);
    ASAN_POISON_MEMORY_REGION(base_ + kGuard + bytes_, kGuard);
  }
  ~Guarded() {
    ASAN_UNPOISON_MEMORY_REGION(base_, kGuard);
    ASAN_UNPOISON_MEMORY_REGION(base_ + kGuard + bytes_, kGuard);
    std::free(base_);
  }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
  void* data() { return base_ + kGuard; }
  float* floats() { return reinterpret_cast<float*>(base_ + kGuard); }
  int64_t count() const { return (int64_t)(bytes_ / sizeof(float)); }
  bool guards_intact() {
    ASAN_UNPOISON_MEMORY_REGION(base_, kGuard);
    ASAN_UNPOISON_MEMORY_REGION(base_ + kGuard + bytes_, kGuard);
    bool ok = true;
    for (size_t i = 0; i < kGuard; ++i) ok = ok && base_[i] == kPattern && base_[kGuard + bytes_ + i] == kPattern;
    ASAN_POISON_MEMORY_REGION(base_, kGuard);
    ASAN_POISON_MEMORY_REGION(base_ + kGuard + bytes_, kGuard);
    return ok;
  }

 private:
  size_t bytes_;
  unsigned char* base_;
};

// An output: poisoned with a NaN of its own before each call, so that an element left unwritten
// or written on a refusal shows.
constexpr uint32_t kPoisonBits = 0x7fc0dead;

void poison(Guarded& g) {
  float* f = g.floats();
  for (int64_t i = 0; i < g.count(); ++i) std::memcpy(&f[i], &kPoisonBits, 4);
}
bool untouched(Guarded& g) {
  const float* f = g.floats();
  for (int64_t i = 0; i < g.count(); ++i)
    if (std::memcmp(&f[i], &kPoisonBits, 4)) return false;
  return true;
}

struct Rng {
  uint64_t s;
  float small() {  // xorshift64*: an integer in [-3, 3]
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (float)((int)((s * 2685821657736338717ull) >> 58) % 7 - 3);
  }
};

struct Sizes {
  int64_t n, ih, iw, ic, kh, kw, kc, sh, sw, pt, pl, g, icg, kcg, dh, dw, oh, ow;
  int64_t in, kernel, out;
};

Sizes sizes(const mec4j_conv2d& c, int64_t oh, int64_t ow) {
  Sizes z{};
  z.n = c.batch;
  z.ih = c.in_height;
  z.iw = c.in_width;
  z.ic = c.in_channels;
  z.kh = c.kernel_height;
  z.kw = c.kernel_width;
  z.kc = c.out_channels;
  z.sh = c.stride_height;
  z.sw = c.stride_width;
  z.pt = c.pad_top;
  z.pl = c.pad_left;
  z.g = c.groups > 1 ? c.groups : 1;
  z.dh = c.dilation_height > 1 ? c.dilation_height : 1;
  z.dw = c.dilation_width > 1 ? c.dilation_width : 1;
  z.icg = z.ic / z.g;
  z.kcg = z.kc / z.g;
  z.oh = oh;
  z.ow = ow;
  z.in = z.n * z.ih * z.iw * z.ic;
  z.kernel = z.kh * z.kw * z.icg * z.kc;
  z.out = z.n * oh * ow * z.kc;
  return z;
}

// The oracle: integer loops over the definition in mec4j.h (kernel g x k_h x k_w x i_c/g x k_c/g).
template <typename Visit>
void for_each_tap(const Sizes& z, Visit visit) {
  for (int64_t n = 0; n < z.n; ++n)
    for (int64_t y = 0; y < z.oh; ++y)
      for (int64_t x = 0; x < z.ow; ++x)
        for (int64_t r = 0; r < z.kh; ++r) {
          const int64_t iy = y * z.sh + r * z.dh - z.pt;
          if (iy < 0 || iy >= z.ih) continue;
          for (int64_t q = 0; q < z.kw; ++q) {
            const int64_t ix = x * z.sw + q * z.dw - z.pl;
            if (ix < 0 || ix >= z.iw) continue;
            const int64_t in_pixel = ((n * z.ih + iy) * z.iw + ix) * z.ic,
                          out_pixel = ((n * z.oh + y) * z.ow + x) * z.kc;
            for (int64_t grp = 0; grp < z.g; ++grp)
              for (int64_t ci = 0; ci < z.icg; ++ci)
                for (int64_t o = 0; o < z.kcg; ++o)
                  visit(in_pixel + grp * z.icg + ci, ((grp * z.kh + r) * z.kw + q) * z.icg * z.kcg + ci * z.kcg + o,
                        out_pixel + grp * z.kcg + o);
          }
        }
}

std::vector<float> oracle(const Sizes& z, const mec4j_conv2d& c, int pass, const float* in, const float* kernel,
                          const float* bias, const float* grad_out, std::vector<float>* grad_bias) {
  if (pass == kBackwardData) {
    std::vector<int64_t> acc(z.in, 0);
    for_each_tap(z, [&](int64_t i, int64_t k, int64_t o) { acc[i] += (int64_t)grad_out[o] * (int64_t)kernel[k]; });
    return std::vector<float>(acc.begin(), acc.end());
  }
  if (pass == kBackwardWeights) {
    std::vector<int64_t> acc(z.kernel, 0), bacc(z.kc, 0);
    for_each_tap(z, [&](int64_t i, int64_t k, int64_t o) { acc[k] += (int64_t)in[i] * (int64_t)grad_out[o]; });
    for (int64_t p = 0; p < z.n * z.oh * z.ow; ++p)
      for (int64_t c = 0; c < z.kc; ++c) bacc[c] += (int64_t)grad_out[p * z.kc + c];
    grad_bias->assign(bacc.begin(), bacc.end());
    return std::vector<float>(acc.begin(), acc.end());
  }
  std::vector<int64_t> acc(z.out, 0);
  for (int64_t p = 0; p < z.n * z.oh * z.ow; ++p)
    for (int64_t c = 0; c < z.kc; ++c) acc[p * z.kc + c] = bias ? (int64_t)bias[c] : 0;
  for_each_tap(z, [&](int64_t i, int64_t k, int64_t o) { acc[o] += (int64_t)in[i] * (int64_t)kernel[k]; });
  std::vector<float> out(acc.begin(), acc.end());
  const bool relu = c.activation == MEC4J_ACTIVATION_RELU, clamp = c.activation == MEC4J_ACTIVATION_CLAMP;
  for (float& v : out) {
    if (relu || clamp) v = std::max(v, relu ? 0.0f : c.activation_min);
    if (clamp) v = std::min(v, c.activation_max);
  }
  return out;
}

void require_equal(const float* got, const float* want, int64_t count, const char* what) {
  for (int64_t i = 0; i < count; ++i)
    if (!(got[i] == want[i])) {
      uint32_t bits;
      std::memcpy(&bits, &got[i], 4);
      fail("", "%s: element %" PRId64 " of %" PRId64 " is %g (bits %08x), expected %g", what, i, count, got[i], bits,
           want[i]);
    }
}

mec4j_direction direction_of(int pass) {
  switch (pass) {
    case kBackwardData:
      return MEC4J_DIRECTION_BACKWARD_DATA;
    case kBackwardWeights:
      return MEC4J_DIRECTION_BACKWARD_WEIGHTS;
    case kBadDirection:
      return (mec4j_direction)7;
    default:
      return MEC4J_DIRECTION_FORWARD;
  }
}

// Statuses of the queries: they must agree with mec4j_conv2d_check and with each other.
void check_queries(const Case& k, mec4j_status st_check) {
  const mec4j_conv2d& c = k.c;
  int64_t oh = -1, ow = -1;
  REQUIRE(mec4j_output_size(&c, &oh, &ow) == st_check, "output_size");
  if (st_check == MEC4J_OK) REQUIRE(oh >= 1 && ow >= 1, "output size");
  const bool known_alg = (int)k.alg >= 0 && (int)k.alg <= 7;
  for (int pass : {kForward, kBackwardData, kBackwardWeights, kBadDirection}) {
    int64_t bytes = -1;
    const mec4j_status st = mec4j_workspace_size_for(&c, k.alg, direction_of(pass), &bytes);
    REQUIRE(known_status(st), "workspace_size_for status %d", (int)st);
    if (st_check != MEC4J_OK)
      REQUIRE(st == st_check, "workspace_size_for %d, check %d", (int)st, (int)st_check);
    else if (!known_alg)
      REQUIRE(st == MEC4J_ERROR_UNKNOWN_ALGORITHM, "workspace_size_for %d", (int)st);
    else if (pass == kBadDirection)
      REQUIRE(st == MEC4J_ERROR_INVALID_ARGUMENT, "workspace_size_for %d", (int)st);
    else
      REQUIRE(st == MEC4J_OK || st == MEC4J_ERROR_UNSUPPORTED || st == MEC4J_ERROR_WORKSPACE_LIMIT,
              "workspace_size_for %d", (int)st);
    if (st == MEC4J_OK) REQUIRE(bytes >= 0 && bytes % 4 == 0, "workspace %" PRId64 " bytes", bytes);
    if (st == MEC4J_OK && k.alg == MEC4J_ALGORITHM_REFERENCE) REQUIRE(bytes == 0, "reference workspace");
    if (pass == kForward) {
      int64_t b2 = -1;
      REQUIRE(mec4j_workspace_size(&c, k.alg, &b2) == st && (st != MEC4J_OK || b2 == bytes), "workspace_size");
      mec4j_algorithm resolved;
      int32_t measured = -1;
      const mec4j_status sr = mec4j_resolve_algorithm_ex(&c, k.alg, &resolved, &measured);
      REQUIRE(sr == st, "resolve_algorithm %d, workspace_size %d", (int)sr, (int)st);
      mec4j_algorithm resolved2;
      REQUIRE(mec4j_resolve_algorithm(&c, k.alg, &resolved2) == sr && (sr != MEC4J_OK || resolved2 == resolved),
              "resolve_algorithm and _ex");
      if (sr == MEC4J_OK && k.alg == MEC4J_ALGORITHM_MEC)
        REQUIRE(resolved == MEC4J_ALGORITHM_MEC_A || resolved == MEC4J_ALGORITHM_MEC_B ||
                    resolved == MEC4J_ALGORITHM_MEC_ROWS || resolved == MEC4J_ALGORITHM_MEC_FUSED ||
                    resolved == MEC4J_ALGORITHM_DEPTHWISE,
                "resolved %d", (int)resolved);
      if (sr == MEC4J_OK && k.alg != MEC4J_ALGORITHM_MEC) REQUIRE(resolved == k.alg, "resolved %d", (int)resolved);
    }
    if (pass == kBackwardData || pass == kBackwardWeights) {
      mec4j_algorithm resolved;
      int32_t measured = -1;
      const mec4j_status sr = mec4j_resolve_algorithm_for(&c, k.alg, direction_of(pass), &resolved, &measured);
      REQUIRE(sr == st, "resolve_algorithm_for %d, workspace_size_for %d", (int)sr, (int)st);
      if (sr == MEC4J_OK && k.alg == MEC4J_ALGORITHM_MEC)
        REQUIRE((resolved == MEC4J_ALGORITHM_MEC_ROWS || resolved == MEC4J_ALGORITHM_DEPTHWISE ||
                 resolved == MEC4J_ALGORITHM_MEC_FUSED) &&
                    measured == 0,
                "resolved %d for direction %d, measured %d", (int)resolved, pass, (int)measured);
      if (sr == MEC4J_OK && k.alg != MEC4J_ALGORITHM_MEC) REQUIRE(resolved == k.alg, "resolved %d", (int)resolved);
    }
    // MEC_ROWS's backward passes lower one image (or row band, or a few images with their output
    // gradients) within its forward's lowering (README, Training: the backward passes).
    if (st == MEC4J_OK && k.alg == MEC4J_ALGORITHM_MEC_ROWS && (pass == kBackwardData || pass == kBackwardWeights)) {
      int64_t forward = -1;
      if (mec4j_workspace_size(&c, MEC4J_ALGORITHM_MEC_ROWS, &forward) == MEC4J_OK)
        REQUIRE(bytes <= forward, "backward workspace %" PRId64 " above MEC_ROWS's forward %" PRId64, bytes, forward);
    }
  }
  int64_t packed = -1;
  const mec4j_status sp = mec4j_packed_kernel_size(&c, &packed);
  // A valid layer's packed kernel (N rounded up to the tile's width, at most 64 columns) may
  // alone overflow 64 bits: then, and only then, its size is refused.
  const int64_t g = c.groups > 1 ? c.groups : 1;
  const int64_t kernel_bytes = st_check == MEC4J_OK ? mul_or(mul_or(mul_or(c.kernel_height, c.kernel_width, -1),
                                                                    mul_or(c.in_channels / g, c.out_channels, -1), -1),
                                                             4, -1)
                                                    : 0;
  const bool packed_may_overflow = kernel_bytes < 0 || mul_or(kernel_bytes, 64, -1) < 0;
  REQUIRE(sp == st_check || (st_check == MEC4J_OK && sp == MEC4J_ERROR_SIZE_OVERFLOW && packed_may_overflow),
          "packed_kernel_size %d", (int)sp);
  if (sp == MEC4J_OK) REQUIRE(packed > 0, "packed kernel %" PRId64 " bytes", packed);

  // The smallest workspace limit is the WORKSPACE_LIMIT boundary of the layer's own limit.
  int64_t smallest = -1;
  const mec4j_status sm = mec4j_min_workspace_limit(&c, &smallest);
  if (sm != MEC4J_OK)
    REQUIRE(sm == st_check, "min_workspace_limit %d, check %d", (int)sm, (int)st_check);
  else
    REQUIRE(smallest > 0 && smallest % 4 == 0 &&
                st_check == (c.mec_workspace_limit > 0 && c.mec_workspace_limit < smallest ? MEC4J_ERROR_WORKSPACE_LIMIT
                                                                                           : MEC4J_OK),
            "min_workspace_limit %" PRId64 ", limit %" PRId64 ", check %d", smallest, (int64_t)c.mec_workspace_limit,
            (int)st_check);
}

// Whether MEC's workspace limit makes it tile single output columns (make_shape's rule), which
// forward_packed refuses.
bool column_tiles(const mec4j_conv2d& c, const Sizes& z) {
  if (c.mec_workspace_limit <= 0) return false;
  const int64_t limit = c.mec_workspace_limit / 4;
  const int64_t ihp = z.ih + c.pad_top + c.pad_bottom, ekh = (z.kh - 1) * z.dh + 1;
  const int64_t strip = ihp * z.kw * z.ic, row = z.ow * z.kw * z.ic;
  return z.n * z.ow * strip > limit && z.ow * strip > limit && ekh * row > limit;
}

// A call not run here: a refused one, given a few guarded floats per buffer that it must not
// touch (small), or an accepted one too large to run, given null buffers that it must refuse.
void check_refusal(const Case& k, int run_pass, bool small, mec4j_status want) {
  Guarded a(64), b(64), c(64), d(64), ws(64);
  for (Guarded* g : {&a, &b, &c, &d, &ws}) poison(*g);
  float* in = small ? a.floats() : nullptr;
  float* kernel = small ? b.floats() : nullptr;
  float* out = small ? c.floats() : nullptr;
  float* out2 = small ? d.floats() : nullptr;
  mec4j_status st;
  if (run_pass == kPacked) {
    int64_t need = 0;
    const mec4j_status sp = mec4j_packed_kernel_size(&k.c, &need);
    st = mec4j_pack_kernel(&k.c, kernel, out, 64);
    REQUIRE(st == (want != MEC4J_OK ? want
                   : sp != MEC4J_OK ? sp
                                    : MEC4J_ERROR_NULL_ARGUMENT),
            "pack_kernel %d", (int)st);
    st = mec4j_conv2d_forward_packed(&k.c, in, out, nullptr, out2, ws.data(), 64);
  } else if (run_pass == kBackwardData) {
    st = mec4j_conv2d_backward_data(&k.c, k.alg, in, kernel, out, ws.data(), 64);
  } else if (run_pass == kBackwardWeights) {
    st = mec4j_conv2d_backward_weights(&k.c, k.alg, in, kernel, out, out2, ws.data(), 64);
  } else {
    st = mec4j_conv2d_forward(&k.c, k.alg, in, kernel, nullptr, out, ws.data(), 64);
  }
  REQUIRE(st == (want != MEC4J_OK ? want : MEC4J_ERROR_NULL_ARGUMENT), "run %d, want %d", (int)st, (int)want);
  for (Guarded* g : {&a, &b, &c, &d, &ws})
    REQUIRE(untouched(*g) && g->guards_intact(), "a refused call wrote its buffers (status %d)", (int)st);
}

void run_case(const Case& k) {
  const mec4j_conv2d& c = k.c;
  const char* bad = nullptr;
  const mec4j_status st_check = mec4j_conv2d_check(&c, &bad);
  REQUIRE(known_status(st_check), "check status %d", (int)st_check);
  if (st_check != MEC4J_OK) REQUIRE(bad && *bad, "check names no field");
  check_queries(k, st_check);
  // A bad direction was queried above; the run is a forward one.
  const int pass = k.pass == kBadDirection ? kForward : k.pass;
  const bool packed = pass == kPacked;
  const mec4j_algorithm alg = packed ? MEC4J_ALGORITHM_MEC_FUSED : k.alg;
  const int data_pass = packed ? kForward : pass;
  if (st_check != MEC4J_OK) return ++g_refused[st_check & 15], check_refusal(k, pass, true, st_check);
  int64_t ws_bytes = 0;
  const mec4j_status st_ws = mec4j_workspace_size_for(&c, alg, direction_of(data_pass), &ws_bytes);
  if (st_ws != MEC4J_OK) return ++g_refused[st_ws & 15], check_refusal(k, pass, true, st_ws);

  int64_t oh = 0, ow = 0;
  mec4j_output_size(&c, &oh, &ow);
  // Sizes known to fit 64 bits (make_shape), but maybe far too large to run here.
  const bool fits = c.batch <= kMaxElems && oh <= kMaxElems && ow <= kMaxElems && c.in_height <= kMaxElems &&
                    c.in_width <= kMaxElems && c.in_channels <= kMaxElems && c.out_channels <= kMaxElems &&
                    c.kernel_height <= kMaxElems && c.kernel_width <= kMaxElems;
  const Sizes z = fits ? sizes(c, oh, ow) : Sizes{};
  const double macs = fits ? (double)z.out * (double)z.kh * z.kw * z.icg : 1e300;
  if (!fits || z.in > kMaxElems || z.out > kMaxElems || z.kernel > kMaxElems || macs > kMaxMacs ||
      ws_bytes > kMaxWorkspace)
    return ++g_too_large, check_refusal(k, pass, false, MEC4J_OK);

  // Inputs, filled once and compared afterwards: the library must not write them.
  Rng rng{k.seed | 1};
  Guarded in(z.in * 4), kernel(z.kernel * 4), bias(z.kc * 4), grad_out(z.out * 4);
  for (Guarded* g : {&in, &kernel, &bias, &grad_out})
    for (int64_t i = 0; i < g->count(); ++i) g->floats()[i] = rng.small();
  const std::vector<float> in0(in.floats(), in.floats() + z.in), kernel0(kernel.floats(), kernel.floats() + z.kernel),
      grad_out0(grad_out.floats(), grad_out.floats() + z.out);
  const float* bias_ptr = k.bias ? bias.floats() : nullptr;

  // Outputs: forward out; backward data grad_in; backward weights grad_kernel and grad_bias.
  const int64_t out_count = data_pass == kBackwardData ? z.in : data_pass == kBackwardWeights ? z.kernel : z.out;
  Guarded out(out_count * 4), out2(data_pass == kBackwardWeights ? z.kc * 4 : 0);
  float* grad_bias = data_pass == kBackwardWeights && !k.no_grad_bias ? out2.floats() : nullptr;

  // The expected outputs: the reference through the API (and the oracle when testing it).
  std::vector<float> want, want_bias;
  {
    Guarded r(out_count * 4), r2(z.kc * 4);
    mec4j_status st;
    if (data_pass == kBackwardData)
      st = mec4j_conv2d_backward_data(&c, MEC4J_ALGORITHM_REFERENCE, grad_out.floats(), kernel.floats(), r.floats(),
                                      nullptr, 0);
    else if (data_pass == kBackwardWeights)
      st = mec4j_conv2d_backward_weights(&c, MEC4J_ALGORITHM_REFERENCE, in.floats(), grad_out.floats(), r.floats(),
                                         r2.floats(), nullptr, 0);
    else
      st = mec4j_conv2d_forward(&c, MEC4J_ALGORITHM_REFERENCE, in.floats(), kernel.floats(), bias_ptr, r.floats(),
                                nullptr, 0);
    REQUIRE(st == MEC4J_OK, "reference status %d", (int)st);
    want.assign(r.floats(), r.floats() + out_count);
    if (data_pass == kBackwardWeights) want_bias.assign(r2.floats(), r2.floats() + z.kc);
    if (alg == MEC4J_ALGORITHM_REFERENCE) {
      std::vector<float> o_bias;
      const std::vector<float> o =
          oracle(z, c, data_pass, in.floats(), kernel.floats(), bias_ptr, grad_out.floats(), &o_bias);
      require_equal(want.data(), o.data(), out_count, "reference against the oracle");
      if (data_pass == kBackwardWeights)
        require_equal(want_bias.data(), o_bias.data(), z.kc, "reference bias gradient");
    }
  }

  // The packed kernel, exactly as large as queried.
  int64_t packed_bytes = 0;
  std::unique_ptr<Guarded> pk;
  bool packed_mismatch = false;
  if (packed) {
    REQUIRE(mec4j_packed_kernel_size(&c, &packed_bytes) == MEC4J_OK, "packed_kernel_size");
    pk = std::make_unique<Guarded>(packed_bytes);
    mec4j_isa before;
    mec4j_get_effective_isa(&before);
    const mec4j_status sp = mec4j_pack_kernel(&c, kernel.floats(), pk->data(), packed_bytes);
    REQUIRE(sp == MEC4J_OK && pk->guards_intact(), "pack_kernel %d", (int)sp);
    if (k.repack_isa) {  // run on another ISA's layout: refused unless the layout is the same
      mec4j_set_max_isa(before == MEC4J_ISA_PORTABLE ? MEC4J_ISA_BEST : MEC4J_ISA_PORTABLE);
      mec4j_isa after;
      mec4j_get_effective_isa(&after);
      packed_mismatch = after != before;
    }
  }

  // The workspace: exactly the queried bytes, or passed wrongly on purpose.
  Guarded ws(ws_bytes);
  void* ws_ptr = ws.data();
  int64_t ws_passed = ws_bytes;
  mec4j_status want_status = MEC4J_OK;
  if (k.ws_mode == 2 && ws_bytes >= 4) {
    ws_passed = ws_bytes - 4;
    want_status = MEC4J_ERROR_WORKSPACE_TOO_SMALL;
  } else if (k.ws_mode == 3) {
    if (ws_bytes > 0) {
      ws_ptr = static_cast<char*>(ws_ptr) + 4;
      want_status = MEC4J_ERROR_WORKSPACE_MISALIGNED;
    } else {
      ws_ptr = nullptr;  // none needed: null is fine
    }
  }
  const bool null_input = k.null_input;
  if (null_input) want_status = MEC4J_ERROR_NULL_ARGUMENT;  // checked before the workspace
  if (packed && !null_input) {                              // checked before the workspace, in this order
    if (packed_mismatch)
      want_status = MEC4J_ERROR_INVALID_ARGUMENT;
    else if (column_tiles(c, z))
      want_status = MEC4J_ERROR_UNSUPPORTED;
  }

  poison(out);
  poison(out2);
  if (k.fail_at >= 0) {
    mec4j_test_fail_with_other_exception(k.fail_other);
    mec4j_test_fail_allocation(k.fail_at, k.fail_persistent);
  }
  mec4j_status st;
  if (packed) {
    st = mec4j_conv2d_forward_packed(&c, null_input ? nullptr : in.floats(), pk->data(), bias_ptr, out.floats(), ws_ptr,
                                     ws_passed);
  } else if (data_pass == kBackwardData) {
    st = mec4j_conv2d_backward_data(&c, alg, null_input ? nullptr : grad_out.floats(), kernel.floats(), out.floats(),
                                    ws_ptr, ws_passed);
  } else if (data_pass == kBackwardWeights) {
    st = mec4j_conv2d_backward_weights(&c, alg, null_input ? nullptr : in.floats(), grad_out.floats(), out.floats(),
                                       grad_bias, ws_ptr, ws_passed);
  } else {
    st = mec4j_conv2d_forward(&c, alg, null_input ? nullptr : in.floats(), kernel.floats(), bias_ptr, out.floats(),
                              ws_ptr, ws_passed);
  }
  const int64_t injected = k.fail_at >= 0 ? mec4j_test_failed_allocations() : 0;
  mec4j_test_fail_allocation(-1, 0);
  mec4j_test_fail_with_other_exception(0);

  REQUIRE(known_status(st), "status %d", (int)st);
  REQUIRE(out.guards_intact() && out2.guards_intact(), "output guards (status %d)", (int)st);
  REQUIRE(ws.guards_intact(), "workspace guards: the run used more than the %" PRId64 " bytes queried (status %d)",
          ws_bytes, (int)st);
  if (pk) REQUIRE(pk->guards_intact(), "packed kernel guards");
  require_equal(in.floats(), in0.data(), z.in, "input changed");
  require_equal(kernel.floats(), kernel0.data(), z.kernel, "kernel changed");
  require_equal(grad_out.floats(), grad_out0.data(), z.out, "grad_output changed");

  // An injected failure: out of memory, or an internal error where it threw another exception.
  if (injected > 0 && want_status == MEC4J_OK &&
      (st == MEC4J_ERROR_OUT_OF_MEMORY || (k.fail_other && st == MEC4J_ERROR_INTERNAL)))
    want_status = st;
  REQUIRE(st == want_status, "status %d (%s), expected %d; %" PRId64 " allocation(s) failed", (int)st,
          mec4j_status_string(st), (int)want_status, injected);
  if (st != MEC4J_OK) {
    ++g_refused[st & 15];
    REQUIRE(untouched(out) && untouched(out2), "status %d, but the outputs were written", (int)st);
  } else {
    ++g_runs;
    require_equal(out.floats(), want.data(), out_count, "output against the reference");
    if (grad_bias)
      require_equal(grad_bias, want_bias.data(), z.kc, "bias gradient against the reference");
    else
      REQUIRE(untouched(out2), "grad_bias written while null");
  }
}

}  // namespace

// Before any cap is set, the first call reads MEC4J_MAX_ISA (unset here: best).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(print_stats);
  mec4j_isa cap;
  if (mec4j_get_max_isa(&cap) != MEC4J_OK || cap != MEC4J_ISA_BEST)
    std::fprintf(stderr, "mec4j_fuzz: MEC4J_MAX_ISA is set\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Case k = decode(data, size);
  g_case = &k;
  if (std::getenv("MEC4J_FUZZ_VERBOSE")) describe(k, stderr);
  // Values outside the enums are refused or named "unknown", never undefined.
  REQUIRE(mec4j_set_max_isa((mec4j_isa)(4 + k.threads)) == MEC4J_ERROR_INVALID_ARGUMENT, "set_max_isa");
  REQUIRE(mec4j_set_max_isa((mec4j_isa)-1) == MEC4J_ERROR_INVALID_ARGUMENT, "set_max_isa");
  REQUIRE(mec4j_set_tuning((mec4j_tuning)(1 + k.threads)) == MEC4J_ERROR_INVALID_ARGUMENT, "set_tuning");
  REQUIRE(mec4j_blas_set_threads(1 - k.threads) == MEC4J_ERROR_INVALID_ARGUMENT, "blas_set_threads");
  const char* name = mec4j_algorithm_name(k.alg);
  REQUIRE(name && ((int)k.alg <= 7 || !std::strcmp(name, "unknown")), "algorithm name");
  REQUIRE(!std::strcmp(mec4j_status_string((mec4j_status)(12 + ((int)k.alg & 0xFF))), "unknown status"),
          "status string");
  REQUIRE(!std::strcmp(mec4j_isa_name((mec4j_isa)(4 + k.threads)), "unknown"), "isa name");
  REQUIRE(mec4j_set_max_isa(k.isa) == MEC4J_OK, "set_max_isa");
  REQUIRE(mec4j_blas_set_threads(k.threads) == MEC4J_OK, "blas_set_threads");
  REQUIRE(mec4j_set_tuning(k.heuristic ? MEC4J_TUNING_HEURISTIC : MEC4J_TUNING_MEASURE) == MEC4J_OK, "set_tuning");
  // The rest of the API's state: what was set is what is read back.
  mec4j_isa cap, effective;
  mec4j_tuning tuning;
  REQUIRE(mec4j_get_max_isa(&cap) == MEC4J_OK && cap == k.isa, "get_max_isa");
  REQUIRE(mec4j_get_effective_isa(&effective) == MEC4J_OK && effective <= mec4j_get_host_isa() &&
              (k.isa == MEC4J_ISA_BEST ? effective == mec4j_get_host_isa() : effective <= k.isa),
          "effective isa %d", (int)effective);
  REQUIRE(
      mec4j_get_tuning(&tuning) == MEC4J_OK && tuning == (k.heuristic ? MEC4J_TUNING_HEURISTIC : MEC4J_TUNING_MEASURE),
      "get_tuning");
  REQUIRE(std::strstr(mec4j_kernel_name(), mec4j_isa_name(effective)) &&
              std::strstr(mec4j_depthwise_kernel_name(), mec4j_isa_name(effective)),
          "kernel names %s, %s", mec4j_kernel_name(), mec4j_depthwise_kernel_name());
  mec4j_blas_info info;
  REQUIRE(mec4j_blas_query(&info) == MEC4J_OK && info.threads >= 1, "blas_query: %d threads", info.threads);
  REQUIRE(
      mec4j_get_max_isa(nullptr) == MEC4J_ERROR_NULL_ARGUMENT && mec4j_blas_query(nullptr) == MEC4J_ERROR_NULL_ARGUMENT,
      "null arguments");
  run_case(k);
  g_case = nullptr;
  return 0;
}
