// Internal: process-wide settings that start from an environment variable (MEC4J_MAX_ISA,
// MEC4J_TUNING, MEC4J_GEMM_PARALLEL, MEC4J_STREAM_STORES), read once, on first use. A value mec4j
// does not know is remembered as misspelt, never ignored: the calls that plan a convolution then fail with
// MEC4J_ERROR_BAD_ENVIRONMENT (until the API sets a valid value, where it has a setter).
#ifndef MEC4J_ENV_H
#define MEC4J_ENV_H

#include <atomic>
#include <cstdlib>
#include <initializer_list>

namespace mec4j {

// One accepted spelling of a variable and the value it stands for (values are >= 0).
struct EnvChoice {
  const char* text;
  int value;
};

// The value `text` names among `choices` (any case); `unset` for a null or empty text; else
// EnvSetting::kMisspelt.
int parse_env_choice(const char* text, int unset, std::initializer_list<EnvChoice> choices);

class EnvSetting {
 public:
  static constexpr int kMisspelt = -2;
  // parse maps the variable's text (null when unset) to a value >= 0, or to kMisspelt.
  constexpr EnvSetting(const char* variable, int (*parse)(const char* text)) : variable_(variable), parse_(parse) {}
  // The value set last, else the variable's (read on the first call), or kMisspelt.
  int get() {
    int v = value_.load(std::memory_order_acquire);
    if (v == kUnread) {
      const int parsed = parse_(std::getenv(variable_));
      // A concurrent set() wins over the environment.
      if (value_.compare_exchange_strong(v, parsed, std::memory_order_acq_rel)) v = parsed;
    }
    return v;
  }
  bool misspelt() { return get() == kMisspelt; }
  void set(int value) { value_.store(value, std::memory_order_release); }

 private:
  static constexpr int kUnread = -1;
  const char* variable_;
  int (*parse_)(const char*);
  std::atomic<int> value_{kUnread};
};

}  // namespace mec4j
#endif
