// Parsing the environment variables' values (env.h).
#include "env.h"

#include <strings.h>

namespace mec4j {

int parse_env_choice(const char* text, int unset, std::initializer_list<EnvChoice> choices) {
  if (!text || !*text) return unset;
  for (const EnvChoice& c : choices)
    if (!strcasecmp(text, c.text)) return c.value;
  return EnvSetting::kMisspelt;
}

}  // namespace mec4j
