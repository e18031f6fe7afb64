// Times the C API without the JVM: mec4j_bench SHAPE [ALGORITHM[@LIMIT]...] [--reps N] [--threads N]
// SHAPE is benchdnn-style (mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0); ALGORITHM@LIMIT runs MEC
// with its workspace capped at LIMIT bytes; mec-fused-packed runs MEC_FUSED on a kernel packed once. Prints the median,
// min and max milliseconds and GFLOP/s per entry, runs interleaved (A B A B ...) so that all entries share the noise.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mec4j.h"

// The grammar of Conv2d.parse (benchdnn's): mb ih iw ic oc kh kw sh sw ph pw pt pb pl pr g dh dw, each
// at most once, ih ic oc kh required, dh/dw counted from 0 (benchdnn) where mec4j counts from 1.
// Anything else is an error, so that a misspelt key is never a silent default.
static bool parse_shape(const char* text, mec4j_conv2d* c) {
  static const char* const kKeys[] = {"mb", "ih", "iw", "ic", "oc", "kh", "kw", "sh", "sw",
                                      "ph", "pw", "pt", "pb", "pl", "pr", "g",  "dh", "dw"};
  std::map<std::string, int64_t> v;
  for (const char* p = text; *p;) {
    std::string key;
    while (*p >= 'a' && *p <= 'z') key += *p++;
    char* end;
    const long long n = std::strtoll(p, &end, 10);
    if (end == p || n < 0) return false;
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }) == std::end(kKeys)) {
      std::fprintf(stderr, "mec4j_bench: unknown shape key '%s' in %s\n", key.c_str(), text);
      return false;
    }
    if (!v.emplace(key, n).second) {
      std::fprintf(stderr, "mec4j_bench: '%s' given twice in %s\n", key.c_str(), text);
      return false;
    }
    p = end;
  }
  for (const char* k : {"ih", "ic", "oc", "kh"})
    if (!v.count(k)) return false;
  auto get = [&](const char* k, int64_t fallback) { return v.count(k) ? v[k] : fallback; };
  *c = mec4j_conv2d{};
  c->batch = get("mb", 1);
  c->in_height = v["ih"];
  c->in_width = get("iw", v["ih"]);
  c->in_channels = v["ic"];
  c->out_channels = v["oc"];
  c->kernel_height = v["kh"];
  c->kernel_width = get("kw", v["kh"]);
  c->stride_height = get("sh", 1);
  c->stride_width = get("sw", 1);
  c->pad_top = get("pt", get("ph", 0));
  c->pad_bottom = get("pb", get("ph", 0));
  c->pad_left = get("pl", get("pw", 0));
  c->pad_right = get("pr", get("pw", 0));
  c->groups = get("g", 1);
  c->dilation_height = get("dh", 0) + 1;
  c->dilation_width = get("dw", get("dh", 0)) + 1;
  return true;
}

// A float vector whose data is 64-byte aligned.
struct Aligned64 {
  using value_type = float;
  template <class U>
  struct rebind {
    using other = Aligned64;
  };
  Aligned64() = default;
  float* allocate(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
  }
  void deallocate(float* p, size_t) { std::free(p); }
  bool operator==(const Aligned64&) const { return true; }
  bool operator!=(const Aligned64&) const { return false; }
};
using AlignedFloats = std::vector<float, Aligned64>;

// Milliseconds of wall time, or with MEC4J_BENCH_CLOCK=cpu of this process's CPU time: on a host
// that others load, one thread's CPU time still compares two builds where wall time does not
// (with N threads it is their sum).
double now_ms() {
  static const bool cpu = [] {
    const char* v = std::getenv("MEC4J_BENCH_CLOCK");
    if (v && std::strcmp(v, "cpu") && std::strcmp(v, "wall")) {
      std::fprintf(stderr, "MEC4J_BENCH_CLOCK must be cpu or wall, got '%s'\n", v);
      std::exit(2);
    }
    return v && !std::strcmp(v, "cpu");
  }();
  if (cpu) {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  mec4j_conv2d c;
  if (argc < 2 || !parse_shape(argv[1], &c)) {
    std::fprintf(stderr,
                 "usage: mec4j_bench SHAPE [im2col|mec|mec-a|mec-b|mec-rows|mec-fused|mec-fused-packed|depthwise ...] "
                 "[--reps N] [--threads N]\n"
                 "                   [--direction fwd|bwd_d|bwd_w] [--activation none|relu|relu6]\n"
                 "                   [--layout nhwc|nchw] [--dirty-caches MIB]\n"
                 "  SHAPE e.g. mb1ih7iw7ic512oc512kh3kw3; mec@4194304 caps MEC's workspace at 4 MiB\n"
                 "  --dirty-caches MIB writes that many MiB before each run (caches full of other work's\n"
                 "  dirty lines, as in a network or the runner; untimed)\n");
    return 2;
  }
  int reps = 9;
  int64_t dirty_mib = 0;
  mec4j_direction direction = MEC4J_DIRECTION_FORWARD;
  std::vector<mec4j_algorithm> algos;
  std::vector<int64_t> limits;
  std::vector<bool> packed_kernel;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
      continue;
    }
    if (!std::strcmp(argv[i], "--dirty-caches") && i + 1 < argc) {
      dirty_mib = std::atoll(argv[++i]);
      if (dirty_mib < 0 || dirty_mib > 65536) {
        std::fprintf(stderr, "--dirty-caches takes 0 to 65536 MiB\n");
        return 2;
      }
      continue;
    }
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      mec4j_blas_set_threads(std::atoi(argv[++i]));
      continue;
    }
    if (!std::strcmp(argv[i], "--direction") && i + 1 < argc) {
      const std::string d = argv[++i];
      if (d != "fwd" && d != "bwd_d" && d != "bwd_w") {
        std::fprintf(stderr, "unknown direction %s\n", d.c_str());
        return 2;
      }
      direction = d == "fwd"     ? MEC4J_DIRECTION_FORWARD
                  : d == "bwd_d" ? MEC4J_DIRECTION_BACKWARD_DATA
                                 : MEC4J_DIRECTION_BACKWARD_WEIGHTS;
      continue;
    }
    if (!std::strcmp(argv[i], "--layout") && i + 1 < argc) {
      const std::string l = argv[++i];
      if (l != "nhwc" && l != "nchw") {
        std::fprintf(stderr, "unknown layout %s\n", l.c_str());
        return 2;
      }
      c.layout = l == "nchw" ? MEC4J_LAYOUT_NCHW : MEC4J_LAYOUT_NHWC;
      continue;
    }
    if (!std::strcmp(argv[i], "--activation") && i + 1 < argc) {
      const std::string a = argv[++i];
      if (a != "none" && a != "relu" && a != "relu6") {
        std::fprintf(stderr, "unknown activation %s\n", a.c_str());
        return 2;
      }
      c.activation = a == "none" ? MEC4J_ACTIVATION_NONE : a == "relu" ? MEC4J_ACTIVATION_RELU : MEC4J_ACTIVATION_CLAMP;
      c.activation_min = 0.0f;
      c.activation_max = 6.0f;
      continue;
    }
    bool found = false;
    std::string name = argv[i];
    const bool packed = name.rfind("mec-fused-packed", 0) == 0;
    if (packed) name.replace(0, 16, "mec-fused");
    int64_t limit = 0;
    if (auto at = name.find('@'); at != std::string::npos) {
      limit = std::strtoll(name.c_str() + at + 1, nullptr, 10);
      name.resize(at);
    }
    for (int a = MEC4J_ALGORITHM_IM2COL; a <= MEC4J_ALGORITHM_DEPTHWISE; ++a)
      if (name == mec4j_algorithm_name((mec4j_algorithm)a)) {
        algos.push_back((mec4j_algorithm)a);
        limits.push_back(limit);
        packed_kernel.push_back(packed);
        found = true;
      }
    if (!found) {
      std::fprintf(stderr, "unknown algorithm %s\n", argv[i]);
      return 2;
    }
  }
  if (algos.empty()) {
    algos = {MEC4J_ALGORITHM_IM2COL, MEC4J_ALGORITHM_MEC};
    limits = {0, 0};
    packed_kernel = {false, false};
  }
  std::vector<mec4j_conv2d> convs(algos.size(), c);
  for (size_t a = 0; a < algos.size(); ++a) convs[a].mec_workspace_limit = limits[a];
  int64_t oh, ow;
  if (mec4j_status st = mec4j_output_size(&c, &oh, &ow)) {
    std::fprintf(stderr, "%s\n", mec4j_status_string(st));
    return 2;
  }
  const int64_t in_n = c.batch * c.in_height * c.in_width * c.in_channels;
  const int64_t k_n =
      c.kernel_height * c.kernel_width * c.in_channels / std::max<int64_t>(1, c.groups) * c.out_channels;
  // 64-byte aligned, as the runner's native buffers (NativeFloats) and mec4j_workspace_alloc's.
  AlignedFloats in(in_n), k(k_n), out(c.batch * oh * ow * c.out_channels), grad_in(in_n), grad_k(k_n),
      grad_bias(c.out_channels);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& x : in) x = u(rng);
  for (auto& x : k) x = u(rng);
  for (auto& x : out) x = u(rng);  // the output's gradient, for the backward passes
  const double flops = 2.0 * c.batch * oh * ow * k_n;
  mec4j_blas_info info;
  mec4j_blas_query(&info);
  std::printf("%s, %s, %s %s, %d thread(s)\n", argv[1],
              direction == MEC4J_DIRECTION_FORWARD         ? "forward"
              : direction == MEC4J_DIRECTION_BACKWARD_DATA ? "backward data"
                                                           : "backward weights",
              info.vendor, info.version, info.threads);

  std::vector<void*> ws(algos.size()), packs(algos.size());
  std::vector<int64_t> bytes(algos.size());
  std::vector<std::vector<double>> ms(algos.size());
  for (size_t a = 0; a < algos.size(); ++a) {
    if (mec4j_status st = mec4j_workspace_size_for(&convs[a], algos[a], direction, &bytes[a])) {
      std::fprintf(stderr, "%s: %s\n", mec4j_algorithm_name(algos[a]), mec4j_status_string(st));
      return 1;
    }
    ws[a] = bytes[a] ? mec4j_workspace_alloc(bytes[a]) : nullptr;
    if (packed_kernel[a]) {
      int64_t pb = 0;
      mec4j_packed_kernel_size(&convs[a], &pb);
      packs[a] = mec4j_workspace_alloc(pb);
      if (mec4j_status st = mec4j_pack_kernel(&convs[a], k.data(), packs[a], pb)) {
        std::fprintf(stderr, "pack: %s\n", mec4j_status_string(st));
        return 1;
      }
    }
  }
  // Before each run, one float of every cache line is updated: every line of the buffer is dirty.
  std::vector<float> dirt(dirty_mib << 18);
  for (int rep = -1; rep < reps; ++rep)  // rep -1 warms up
    for (size_t a = 0; a < algos.size(); ++a) {
      for (size_t i = 0; i < dirt.size(); i += 16) dirt[i] += 1.0f;
      const double t0 = now_ms();
      mec4j_status st =
          direction == MEC4J_DIRECTION_BACKWARD_DATA
              ? mec4j_conv2d_backward_data(&convs[a], algos[a], out.data(), k.data(), grad_in.data(), ws[a], bytes[a])
          : direction == MEC4J_DIRECTION_BACKWARD_WEIGHTS
              ? mec4j_conv2d_backward_weights(&convs[a], algos[a], in.data(), out.data(), grad_k.data(),
                                              grad_bias.data(), ws[a], bytes[a])
          : packs[a]
              ? mec4j_conv2d_forward_packed(&convs[a], in.data(), packs[a], nullptr, out.data(), ws[a], bytes[a])
              : mec4j_conv2d_forward(&convs[a], algos[a], in.data(), k.data(), nullptr, out.data(), ws[a], bytes[a]);
      const double t1 = now_ms();
      if (st) {
        std::fprintf(stderr, "%s\n", mec4j_status_string(st));
        return 1;
      }
      if (rep >= 0) ms[a].push_back(t1 - t0);
    }
  for (size_t a = 0; a < algos.size(); ++a) {
    std::sort(ms[a].begin(), ms[a].end());
    mec4j_algorithm r;
    mec4j_resolve_algorithm_for(&convs[a], algos[a], direction, &r, nullptr);
    double med = ms[a][ms[a].size() / 2];
    std::string label = packs[a] ? "mec-fused-packed" : mec4j_algorithm_name(algos[a]);
    if (limits[a] > 0) label += "@" + std::to_string(limits[a]);
    std::printf("%-14s (%-8s) median %9.3f ms  min %9.3f  max %9.3f  %7.1f GFLOP/s  workspace %lld bytes\n",
                label.c_str(), mec4j_algorithm_name(r), med, ms[a].front(), ms[a].back(), flops / med / 1e6,
                (long long)bytes[a]);
    mec4j_workspace_free(ws[a]);
    mec4j_workspace_free(packs[a]);
  }
  return 0;
}
