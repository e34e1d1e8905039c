// Fuzzes JSON escaping (details may quote hostile bytes): the output is a
// quoted string with no raw control characters and only valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "service/common/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string out =
      danegate::common::JsonString(std::string(reinterpret_cast<const char*>(data), size));
  if (out.size() < 2 || out.front() != '"' || out.back() != '"') std::abort();
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c == 0x7f) std::abort();
    if (c == '"' && out[i - 1] != '\\') std::abort();
  }
  return 0;
}
