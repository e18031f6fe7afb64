// Tests of the direct depthwise convolution (depthwise.h): every ISA's kernel up to the cap (and
// the host's), and AVX-512's tile built for AVX2, against a double-precision direct loop: exactly
// on small-integer data, within a bound on random floats; the same bits for 1 and 2 threads; guard
// zones around the output. `--time` times MobileNet v1's depthwise layers instead.
//
//   depthwise_tests [--max-isa portable|avx2|avx512|best] [--time [--threads T] [--layer I]] [seed [shapes]]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "depthwise.h"
#include "isa.h"
#include "mec4j.h"
#include "test_support.h"

#if defined(MEC4J_HAVE_X86_KERNELS)
MEC4J_DECLARE_F32_DWCONV(f32_dwconv_6x32_on_avx2)
#endif

using mec4j::DwconvConfig;
using mec4j::Shape;

static int64_t runs = 0;

// A depthwise layer: m = output channels per input channel.
struct Layer {
  int64_t n, ih, iw, ic, m, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
  bool clamped = false;  // a fused activation: outputs clamped to kClamp
};
static constexpr float kClamp[2] = {-2.5f, 4.0f};

static std::string describe(const Layer& l) {
  char b[256];
  std::snprintf(b, sizeof b, "n%lld %lldx%lldx%lld m%lld k%lldx%lld s%lld,%lld p%lld,%lld,%lld,%lld d%lld,%lld",
                (long long)l.n, (long long)l.ih, (long long)l.iw, (long long)l.ic, (long long)l.m, (long long)l.kh,
                (long long)l.kw, (long long)l.sh, (long long)l.sw, (long long)l.pt, (long long)l.pb, (long long)l.pl,
                (long long)l.pr, (long long)l.dh, (long long)l.dw);
  return std::string(b) + (l.clamped ? " clamped" : "");
}

// The Shape by hand (make_shape validates a mec4j_conv2d; its fields are in flux). False when the
// output is empty.
static bool shape_of(const Layer& l, Shape* out) {
  Shape s{};
  s.n = l.n;
  s.ih = l.ih;
  s.iw = l.iw;
  s.ic = l.ic;
  s.kh = l.kh;
  s.kw = l.kw;
  s.kc = l.ic * l.m;
  s.sh = l.sh;
  s.sw = l.sw;
  s.pt = l.pt;
  s.pb = l.pb;
  s.pl = l.pl;
  s.pr = l.pr;
  s.g = l.ic;
  s.icg = 1;
  s.kcg = l.m;
  s.dh = l.dh;
  s.dw = l.dw;
  s.ekh = (l.kh - 1) * l.dh + 1;
  s.ekw = (l.kw - 1) * l.dw + 1;
  s.ihp = l.ih + l.pt + l.pb;
  s.iwp = l.iw + l.pl + l.pr;
  if (s.ihp < s.ekh || s.iwp < s.ekw) return false;
  s.oh = (s.ihp - s.ekh) / s.sh + 1;
  s.ow = (s.iwp - s.ekw) / s.sw + 1;
  s.input_elems = s.n * s.ih * s.iw * s.ic;
  s.kernel_elems = s.kh * s.kw * s.kc;
  s.output_elems = s.n * s.oh * s.ow * s.kc;
  s.activated = l.clamped;
  s.act[0] = kClamp[0];
  s.act[1] = kClamp[1];
  *out = s;
  return true;
}

// Straightforward direct loop in double; mag = |bias| + sum |x * w|, the error bound's scale.
static void reference(const Shape& s, const float* in, const float* k, const float* bias, std::vector<double>* out,
                      std::vector<double>* mag) {
  const int64_t m = s.kc / s.ic;
  out->assign(s.output_elems, 0.0);
  mag->assign(s.output_elems, 0.0);
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x)
        for (int64_t o = 0; o < s.kc; ++o) {
          const int64_t c = o / m, j = o % m;
          double acc = bias ? bias[o] : 0.0, a = bias ? std::fabs(bias[o]) : 0.0;
          for (int64_t r = 0; r < s.kh; ++r) {
            const int64_t iy = y * s.sh + r * s.dh - s.pt;
            if (iy < 0 || iy >= s.ih) continue;
            for (int64_t q = 0; q < s.kw; ++q) {
              const int64_t ix = x * s.sw + q * s.dw - s.pl;
              if (ix < 0 || ix >= s.iw) continue;
              const double v =
                  (double)in[((b * s.ih + iy) * s.iw + ix) * s.ic + c] * (double)k[((c * s.kh + r) * s.kw + q) * m + j];
              acc += v;
              a += std::fabs(v);
            }
          }
          const int64_t i = ((b * s.oh + y) * s.ow + x) * s.kc + o;
          (*out)[i] = s.activated ? std::min(std::max(acc, (double)s.act[0]), (double)s.act[1]) : acc;
          (*mag)[i] = a;
        }
}

struct Data {
  std::vector<float> in, k, bias;
  bool integers;
};

static Data make_data(const Shape& s, bool integers, std::mt19937_64& rng) {
  Data d;
  d.integers = integers;
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  auto fill = [&](std::vector<float>& v, int64_t count) {
    v.resize(count);
    for (auto& x : v) x = integers ? (float)small(rng) : real(rng);
  };
  fill(d.in, s.input_elems);
  fill(d.k, s.kernel_elems);
  fill(d.bias, s.kc);
  return d;
}

struct Kernel {
  std::string label;
  const DwconvConfig* config;
};

// Runs one kernel and checks it against the reference; returns the output.
static std::vector<float> check_run(const Shape& s, const std::string& what, const Kernel& kern, const Data& d,
                                    bool with_bias, const std::vector<double>& ref, const std::vector<double>& mag,
                                    int threads, int64_t max_taps) {
  Guarded out(s.output_elems);
  mec4j::depthwise_forward(s, *kern.config, d.in.data(), d.k.data(), with_bias ? d.bias.data() : nullptr, out.data(),
                           threads, max_taps);
  ++runs;
  CHECK(out.guards_intact(), "%s: %s wrote outside the output", what.c_str(), kern.label.c_str());
  int64_t bad = 0;
  for (int64_t i = 0; i < s.output_elems; ++i) {
    const double got = out.data()[i];
    const bool ok = d.integers ? got == ref[i] : std::fabs(got - ref[i]) <= 2e-6 * mag[i] + 1e-30;
    if (!ok && bad++ < 3)
      std::fprintf(stderr, "  %s %s threads %d max_taps %lld bias %d: out[%lld] = %.9g, expected %.9g\n", what.c_str(),
                   kern.label.c_str(), threads, (long long)max_taps, (int)with_bias, (long long)i, got, ref[i]);
  }
  CHECK(bad == 0, "%s: %s: %lld wrong of %lld (%s data)", what.c_str(), kern.label.c_str(), (long long)bad,
        (long long)s.output_elems, d.integers ? "integer" : "float");
  return std::vector<float>(out.data(), out.data() + s.output_elems);
}

// Every kernel on one layer, integer and float data, 1 and 2 threads (the same bits).
static void check_layer(const Layer& l, const std::vector<Kernel>& kernels, bool with_bias, int64_t max_taps,
                        std::mt19937_64& rng, bool floats = true) {
  Shape s;
  if (!shape_of(l, &s)) return;
  const std::string what = describe(l);
  std::vector<double> ref, mag;
  for (bool integers : {true, false}) {
    if (!integers && !floats) continue;
    const Data d = make_data(s, integers, rng);
    reference(s, d.in.data(), d.k.data(), with_bias ? d.bias.data() : nullptr, &ref, &mag);
    for (const Kernel& kern : kernels) {
      const std::vector<float> one = check_run(s, what, kern, d, with_bias, ref, mag, 1, max_taps);
      const std::vector<float> two = check_run(s, what, kern, d, with_bias, ref, mag, 2, max_taps);
      CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0, "%s: %s: threads change the bits",
            what.c_str(), kern.label.c_str());
    }
  }
}

// MobileNet v1's depthwise layers at mb1 (oneDNN benchdnn's shapes_mobilenet_dw): 3x3, pad 1.
static const Layer kMobileNet[] = {
    {1, 112, 112, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 112, 112, 64, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {1, 56, 56, 128, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  {1, 56, 56, 128, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {1, 28, 28, 256, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  {1, 28, 28, 256, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {1, 14, 14, 512, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  {1, 14, 14, 512, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {1, 7, 7, 1024, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}};
static const char* const kMobileNetNames[] = {"conv2_1/dw", "conv2_2/dw", "conv3_1/dw", "conv3_2/dw", "conv4_1/dw",
                                              "conv4_2/dw", "conv5_1/dw", "conv5_6/dw", "conv6/dw"};

static void test_random(const std::vector<Kernel>& kernels, uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int done = 0, chunked = 0, biased = 0, clamped = 0;
  while (done < count) {
    Layer l;
    l.n = uni(1, 3);
    l.ih = uni(1, 20);
    l.iw = uni(1, 20);
    l.ic = uni(0, 3) == 0 ? uni(1, 5) : uni(1, 70);
    l.m = uni(0, 2) == 0 ? uni(2, 3) : 1;
    l.kh = uni(1, 7);
    l.kw = uni(1, 7);
    l.sh = uni(1, 3);
    l.sw = uni(1, 3);
    l.dh = uni(0, 2) == 0 ? uni(2, 3) : 1;
    l.dw = uni(0, 2) == 0 ? uni(2, 3) : 1;
    const bool wide = uni(0, 4) == 0;  // padding up to 8, often beyond the kernel
    l.pt = uni(0, wide ? 8 : 2);
    l.pb = uni(0, wide ? 8 : 2);
    l.pl = uni(0, wide ? 8 : 2);
    l.pr = uni(0, wide ? 8 : 2);
    Shape s;
    if (!shape_of(l, &s)) continue;
    const bool with_bias = uni(0, 1) == 1;
    l.clamped = uni(0, 2) == 0;
    // Some runs pack few taps at a time: the partial sums go through the output.
    const int64_t taps = l.kh * l.kw;
    const int64_t max_taps = taps > 1 && uni(0, 3) == 0 ? uni(1, taps - 1) : 0;
    check_layer(l, kernels, with_bias, max_taps, rng);
    chunked += max_taps > 0;
    biased += with_bias;
    clamped += l.clamped;
    ++done;
  }
  std::printf("random: %d shapes (%d with bias, %d with taps in chunks, %d with a fused activation)\n", done, biased,
              chunked, clamped);
}

static void test_special(const std::vector<Kernel>& kernels) {
  std::mt19937_64 rng(7);
  const Layer layers[] = {
      // Kernels of more taps than a pack holds (chunks at the default size).
      {1, 20, 20, 17, 1, 13, 13, 1, 1, 6, 6, 6, 6, 1, 1},
      {2, 16, 19, 33, 2, 11, 9, 2, 1, 5, 4, 3, 8, 1, 2},
      {1, 30, 30, 40, 1, 12, 12, 1, 1, 2, 2, 2, 2, 2, 2},
      // Outputs that see only padding (bias or 0).
      {1, 1, 1, 5, 1, 1, 1, 1, 1, 8, 8, 8, 8, 1, 1},
      {2, 2, 3, 19, 3, 2, 2, 3, 2, 8, 7, 6, 8, 3, 1},
      // Kernel wider than the input: no interior columns.
      {1, 3, 3, 24, 1, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1},
      // Larger multipliers, one channel, wide rows.
      {1, 9, 9, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 5, 40, 1, 1, 3, 5, 1, 1, 0, 0, 2, 2, 1, 1},
      {1, 5, 300, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {3, 4, 200, 70, 1, 1, 3, 1, 3, 0, 0, 1, 1, 1, 1},
  };
  for (const Layer& l : layers)
    for (bool with_bias : {false, true}) check_layer(l, kernels, with_bias, 0, rng);
  std::printf("special: %zu shapes\n", sizeof layers / sizeof layers[0]);
}

static void test_mobilenet(const std::vector<Kernel>& kernels) {
  std::mt19937_64 rng(1);
  int count = 0;
  for (const Layer& l : kMobileNet) {
    check_layer(l, kernels, true, 0, rng, false);
    ++count;
  }
  // MobileNet-like: other channel counts and strides at every resolution.
  for (int64_t hw : {112, 56, 28, 14, 7})
    for (int64_t s : {1, 2}) {
      const int64_t ic = std::min<int64_t>(1024, 32 * 112 / hw) + (s == 2 ? 0 : 8);
      check_layer({1, hw, hw, ic, 1, 3, 3, s, s, 1, 1, 1, 1, 1, 1}, kernels, s == 1, 0, rng, false);
      ++count;
    }
  std::printf("mobilenet: %d shapes\n", count);
}

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A 64-byte aligned copy, as frameworks allocate tensors (16-byte aligned vectors cost the AVX2
// kernels a load split across cache lines on every other vector).
struct Aligned {
  std::vector<float> storage;
  float* p;
  explicit Aligned(const std::vector<float>& v) : storage(v.size() + 16) {
    p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63});
    std::copy(v.begin(), v.end(), p);
  }
};

// Best time of each kernel, the kernels taking turns (so that a busy spell on the machine hits
// them all): GFLOP/s of the convolution (2 * outputs * taps) and GB/s of its compulsory traffic
// (input, output, kernel and bias once).
static void time_mobilenet(const std::vector<Kernel>& kernels, int threads, int only) {
  std::mt19937_64 rng(3);
  std::printf("%-11s %-26s %9s %9s %8s\n", "layer", "kernel", "ms", "GFLOP/s", "GB/s");
  for (int i = 0; i < (int)(sizeof kMobileNet / sizeof kMobileNet[0]); ++i) {
    if (only >= 0 && i != only) continue;
    Shape s;
    shape_of(kMobileNet[i], &s);
    const Data d = make_data(s, false, rng);
    Aligned in(d.in), out(std::vector<float>(s.output_elems));
    const double flops = 2.0 * s.output_elems * s.kh * s.kw;
    const double bytes = 4.0 * (s.input_elems + s.output_elems + s.kernel_elems + s.kc);
    std::vector<double> best(kernels.size(), 1e30);
    for (int round = 0; round < 10; ++round)
      for (size_t j = 0; j < kernels.size(); ++j) {
        const double start = now();
        for (int reps = 0; reps < 3 || now() - start < 0.03; ++reps) {
          const double t0 = now();
          mec4j::depthwise_forward(s, *kernels[j].config, in.p, d.k.data(), d.bias.data(), out.p, threads);
          best[j] = std::min(best[j], now() - t0);
        }
      }
    for (size_t j = 0; j < kernels.size(); ++j)
      std::printf("%-11s %-26s %9.4f %9.2f %8.2f\n", kMobileNetNames[i], kernels[j].label.c_str(), best[j] * 1e3,
                  flops / best[j] * 1e-9, bytes / best[j] * 1e-9);
  }
}

int main(int argc, char** argv) {
  mec4j_isa cap = MEC4J_ISA_BEST;
  bool timing = false;
  int threads = 1, layer = -1;
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--max-isa") && i + 1 < argc) {
      const char* name = argv[++i];
      bool known = false;
      std::vector<mec4j_isa> caps = mec4j::isa_levels();
      caps.push_back(MEC4J_ISA_BEST);
      for (mec4j_isa isa : caps)
        if (!std::strcmp(name, mec4j_isa_name(isa))) cap = isa, known = true;
      if (!known) {
        std::fprintf(stderr, "unknown ISA %s\n", name);
        return 2;
      }
    } else if (!std::strcmp(argv[i], "--time")) {
      timing = true;
    } else if (!std::strcmp(argv[i], "--layer") && i + 1 < argc) {
      layer = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (!timing && repeats_the_uncapped_run(cap, "depthwise_tests")) return SKIPPED;
  const uint64_t seed = positional.size() > 0 ? std::strtoull(positional[0], nullptr, 10) : 20240601;
  const int count = positional.size() > 1 ? std::atoi(positional[1]) : 1200;

  const mec4j_isa host = mec4j_get_host_isa();
  const mec4j_isa top = cap == MEC4J_ISA_BEST || cap > host ? host : cap;
  std::vector<Kernel> kernels;
  const std::vector<mec4j_isa>& levels = mec4j::isa_levels();
  for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
    const mec4j_isa isa = *level;
    if (isa > top) continue;
    const DwconvConfig* c = mec4j::dwconv_config(isa);
    CHECK(!std::strcmp(mec4j::depthwise_kernel_name(isa), c->name), "kernel name");
    if (kernels.empty() || kernels.back().config != c) kernels.push_back({c->name, c});
  }
#if defined(MEC4J_HAVE_X86_KERNELS)
  // AVX-512's tile (same template, tiling and channel block) on AVX2, when the host lacks AVX-512.
  static const DwconvConfig emulated = {"f32-dwconv-6x32-on-avx2", MEC4J_ISA_AVX2,
                                        mec4j::dwconv_config(MEC4J_ISA_AVX512)->channels,
                                        mec4j::f32_dwconv_6x32_on_avx2_ukernel};
  if (!timing && top == MEC4J_ISA_AVX2 && (cap == MEC4J_ISA_BEST || cap >= MEC4J_ISA_AVX512))
    kernels.insert(kernels.begin(), {"f32-dwconv-6x32 (avx512 tile on avx2)", &emulated});
#endif
  std::printf("host %s, cap %s, kernels:", mec4j_isa_name(host), mec4j_isa_name(cap));
  for (const Kernel& k : kernels) std::printf(" %s", k.label.c_str());
  std::printf("\n");

  if (timing) {
    time_mobilenet(kernels, threads, layer);
    return 0;
  }
  test_special(kernels);
  test_mobilenet(kernels);
  test_random(kernels, seed, count);
  std::printf("%lld runs, %d failures\n", (long long)runs, failures);
  return failures ? 1 : 0;
}
