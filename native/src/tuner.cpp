// The automatic MEC's measured choice: the tuning mode, the table of choices and the measurement.
#include "tuner.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "env.h"

namespace mec4j {

namespace {

EnvSetting g_tuning{"MEC4J_TUNING", [](const char* text) {
                      return parse_env_choice(
                          text, MEC4J_TUNING_MEASURE,
                          {{"measure", MEC4J_TUNING_MEASURE}, {"heuristic", MEC4J_TUNING_HEURISTIC}});
                    }};
int tuning() { return g_tuning.get(); }

// Everything the choice depends on; an array, not a vector: it is built on every MEC call.
using TuningKey = std::array<int64_t, 27>;

// What a choice chooses: the automatic MEC's variant (kVariant), or an option inside one
// (tuned_option_run's `what`).
constexpr int64_t kVariant = -1;

TuningKey tuning_key(const Plan& p, int64_t workspace_elems, int64_t what = kVariant,
                     mec4j_direction direction = MEC4J_DIRECTION_FORWARD) {
  const Shape& s = p.s;
  return {s.n, s.ih, s.iw, s.ic, s.kh, s.kw, s.kc, s.sh, s.sw, s.pt, s.pb, s.pl, s.pr, s.threshold, s.tile_n, s.tile_oh,
          s.tile_w, s.banded, s.g, s.dh, s.dw, p.isa, p.threads, direction,
          // The layout bounds them too (NCHW runs MEC_FUSED alone); a fused activation does not.
          s.nchw,
          // The workspace bounds the candidates (the cache-sized default's depends on the L2).
          direction == MEC4J_DIRECTION_FORWARD ? workspace_elems : 0, what};
}

std::mutex g_choices_mutex;          // guards g_choices (short lookups)
std::map<TuningKey, int> g_choices;  // an algorithm (kVariant), or an option's index
// One measurement at a time: they would disturb each other. Recursive: a variant measured or run
// under it may measure a choice of its own (NCHW's two ways inside MEC_FUSED).
std::recursive_mutex g_measure_mutex;

// The choice made for key, or -1.
int measured(const TuningKey& key) {
  std::lock_guard<std::mutex> lock(g_choices_mutex);
  auto it = g_choices.find(key);
  return it == g_choices.end() ? -1 : it->second;
}

const ConvImpl* measured_choice(const TuningKey& key) {
  const int algorithm = measured(key);
  return algorithm < 0 ? nullptr : find_impl((mec4j_algorithm)algorithm);
}

// Times each candidate kRounds times on the caller's buffers, interleaved with a rotating start
// (no candidate always runs right after the same other one: a BLAS's threads still spinning after
// its call would slow whatever comes next), and compares their best times. Another variant
// replaces the heuristic's pick only when it is faster by more than kMargin, twice: in this
// measurement and in a second one of the two alone (on a shared machine one measurement can be
// disturbed, and a wrong switch would stay for the process's life). The winner runs last, so the
// output is its own.
constexpr int kRounds = 3;
constexpr double kMargin = 0.03;

// Fills best[i] with candidates[i]'s best time. Allocates nothing: runs may have written the
// output already.
template <typename T, typename Run>
void best_times(const std::vector<T>& candidates, Run& run, std::vector<double>& best) {
  const size_t n = candidates.size();
  std::fill(best.begin(), best.end(), 1e300);
  for (int round = 0; round < kRounds; ++round)
    for (size_t j = 0; j < n; ++j) {
      const size_t i = (j + round) % n;
      const auto t0 = std::chrono::steady_clock::now();
      run(candidates[i]);
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (t < best[i]) best[i] = t;
    }
}

template <typename T, typename Run>
T measure(const std::vector<T>& candidates, T preferred, Run run) {
  const size_t n = candidates.size();
  // Everything allocated before the first run.
  std::vector<double> best(n), again(2);
  std::vector<T> pair{preferred, preferred};
  best_times(candidates, run, best);
  size_t pick = n;
  for (size_t i = 0; i < n; ++i)
    if (candidates[i] == preferred) pick = i;
  if (pick == n) {  // the heuristic's pick does not fit: plain fastest
    size_t win = 0;
    for (size_t i = 1; i < n; ++i)
      if (best[i] < best[win]) win = i;
    return candidates[win];
  }
  size_t win = pick;
  for (size_t i = 0; i < n; ++i)
    if (best[i] < best[pick] * (1 - kMargin) && best[i] < best[win]) win = i;
  if (win == pick) return preferred;
  pair[1] = candidates[win];
  best_times(pair, run, again);
  return again[1] < again[0] * (1 - kMargin) ? candidates[win] : preferred;
}

// The choice for key, measured on its first call among options() (called then only: it may
// allocate, before any run writes the output) and kept for the process's life; then run. The
// winner runs last, so the output is its own. encode/decode: the choice as stored in g_choices.
template <typename T, typename Options, typename Run, typename Encode, typename Decode>
void measured_run(const TuningKey& key, T preferred, Options options, Run run, Encode encode, Decode decode) {
  if (const int known = measured(key); known >= 0) {
    run(decode(known));
    return;
  }
  std::lock_guard<std::recursive_mutex> measuring(g_measure_mutex);
  const int known = measured(key);  // another thread may have measured it meanwhile
  T chosen = known >= 0 ? decode(known) : preferred;
  if (known < 0) {
    // Everything this allocates comes before the first run writes the output (the runs allocate
    // nothing): the candidates, their timings and the table entry of the choice, whose node is
    // moved into the table afterwards.
    const std::vector<T> candidates = options();
    std::map<TuningKey, int> entry{{key, 0}};
    chosen = candidates.size() == 1 ? candidates[0] : measure(candidates, preferred, run);
    auto node = entry.extract(entry.begin());
    node.mapped() = encode(chosen);
    std::lock_guard<std::mutex> lock(g_choices_mutex);
    g_choices.insert(std::move(node));
  }
  run(chosen);
}

}  // namespace

mec4j_status tuning_mode(mec4j_tuning* t) {
  const int v = tuning();
  if (v == EnvSetting::kMisspelt) return MEC4J_ERROR_BAD_ENVIRONMENT;
  *t = (mec4j_tuning)v;
  return MEC4J_OK;
}

void set_tuning_mode(mec4j_tuning t) { g_tuning.set(t); }

const ConvImpl* measured_choice(const Plan& p, int64_t workspace_elems) {
  return tuning() == MEC4J_TUNING_MEASURE ? measured_choice(tuning_key(p, workspace_elems)) : nullptr;
}

void tuned_run(const Plan& p, int64_t workspace_elems, const ConvImpl* preferred,
               std::vector<const ConvImpl*> (*candidates)(const Plan&), const ConvBuffers& b) {
  auto run = [&](const ConvImpl* impl) { impl->run(p, b); };
  if (tuning() != MEC4J_TUNING_MEASURE) return run(preferred);
  measured_run(
      tuning_key(p, workspace_elems), preferred, [&] { return candidates(p); }, run,
      [](const ConvImpl* impl) { return (int)impl->algorithm; },
      [](int algorithm) { return find_impl((mec4j_algorithm)algorithm); });
}

void tuned_option_run(const Plan& p, int64_t workspace_elems, int what, int preferred, int options,
                      void (*run_option)(const void* context, int option), const void* context) {
  auto run = [&](int option) { run_option(context, option); };
  if (tuning() != MEC4J_TUNING_MEASURE) return run(preferred);
  auto all = [options] {
    std::vector<int> v(options);
    for (int i = 0; i < options; ++i) v[i] = i;
    return v;
  };
  auto same = [](int option) { return option; };
  measured_run(tuning_key(p, workspace_elems, what), preferred, all, run, same, same);
}

}  // namespace mec4j
