// The store path's choice (stream_stores.h): a GEMM shaped like the first layer of a VGG (K = 27,
// one K block: the layers whose time the output's write bounds), written with and without
// non-temporal stores, interleaved; streaming wins only when clearly faster. The GEMM has 64 output
// channels (rounded up to whole tiles), and apart from that, for layers no wider than a tile
// narrower than 64, one tile's: on an AMD EPYC Zen 5 the 12x32 tile's streaming took 0.87 of the
// time without it at 96 and 160 output channels but 1.15x at 32 (YOLOv2's first layer, 610x610,
// 3 -> 32: 1.31x with caches left dirty).
#include "stream_stores.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "env.h"
#include "igemm.h"
#include "mec.h"

namespace mec4j {

namespace {

EnvSetting g_stream_stores{
    "MEC4J_STREAM_STORES", [](const char* text) {
      return parse_env_choice(
          text, (int)StreamStores::Auto,
          {{"auto", (int)StreamStores::Auto}, {"on", (int)StreamStores::On}, {"off", (int)StreamStores::Off}});
    }};

std::mutex g_measured_mutex;
struct Measured {
  const IgemmConfig* config;
  int64_t width;  // the probe's output channels
  bool pays;
};
std::vector<Measured> g_measured;  // under g_measured_mutex

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

// Not workspace_alloc: the test builds inject its failures, and the probe must not take one of them.
AlignedFloats aligned_floats(int64_t n) {
  const size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p) std::fill(p, p + bytes / sizeof(float), 0.01f);
  return AlignedFloats(p);
}

int64_t row_offset(const void* y_stride, int64_t r) { return r * *static_cast<const int64_t*>(y_stride); }

// Medians of 5 interleaved runs each way, on an output four times what the caches of every thread
// hold (at most 64 MiB): a few milliseconds in all, once per config and width (n output channels).
bool measure(const IgemmConfig& config, int64_t n) {
  constexpr int64_t kKernel = 3, kChannels = 3, kWidth = 224, kRounds = 5;
  const int64_t ow = kWidth - kKernel + 1;
  const int64_t out_floats = std::min<int64_t>(4 * cache_sized_bound_elems(), int64_t(16) << 20);
  const int64_t oh = std::max<int64_t>(1, out_floats / n / ow);
  int64_t y_stride = kWidth * kChannels;
  AlignedFloats in = aligned_floats((oh + kKernel - 1) * y_stride);
  AlignedFloats kernel = aligned_floats(kKernel * kKernel * kChannels * n);
  AlignedFloats out = aligned_floats(oh * ow * n);
  if (!in || !kernel || !out) return false;  // regular stores: never wrong
  RowWindowGemm g{};
  g.m = oh * ow;
  g.n = g.ldc = n;
  g.piece = kKernel * kChannels;
  g.kernel_rows = kKernel;
  g.pixels = g.m;
  g.width = ow;
  g.y_stride = y_stride;
  g.x_stride = kChannels;
  g.row_offset = row_offset;
  g.row_context = &y_stride;
  g.origin = in.get();
  g.kernel = kernel.get();
  g.out = out.get();
  std::vector<double> seconds[2];
  for (int round = -1; round < kRounds; ++round)  // round -1 warms up
    for (int stream = 0; stream < 2; ++stream) {
      g.stream = stream;
      const auto t0 = std::chrono::steady_clock::now();
      igemm(config, g, 1);
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (round >= 0) seconds[stream].push_back(t);
    }
  for (auto& s : seconds) std::sort(s.begin(), s.end());
  return seconds[1][kRounds / 2] < 0.95 * seconds[0][kRounds / 2];
}

}  // namespace

bool stream_stores_pay(const IgemmConfig& config, int64_t channels) {
  const int mode = g_stream_stores.get();
  if (mode == (int)StreamStores::On) return true;
  if (mode != (int)StreamStores::Auto || config.nr % 16 != 0) return false;  // narrower tiles never stream
  std::lock_guard<std::mutex> lock(g_measured_mutex);
  const int64_t width = channels <= config.nr ? config.nr : (64 + config.nr - 1) / config.nr * config.nr;
  for (const Measured& m : g_measured)
    if (m.config == &config && m.width == width) return m.pays;
  const bool pays = measure(config, width);
  g_measured.push_back({&config, width, pays});
  return pays;
}

mec4j_status stream_stores_status() { return g_stream_stores.misspelt() ? MEC4J_ERROR_BAD_ENVIRONMENT : MEC4J_OK; }

void set_stream_stores_for_testing(StreamStores mode) {
  g_stream_stores.set((int)mode);
  std::lock_guard<std::mutex> lock(g_measured_mutex);
  g_measured.clear();
}

}  // namespace mec4j
