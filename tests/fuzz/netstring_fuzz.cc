// Fuzzes the socketmap framing: ParseNetstring on a stream of requests.
// A complete netstring's payload is within the limit and inside the buffer,
// re-encoding it gives back exactly the bytes consumed, and a kNeedMore
// buffer is a prefix of something that can still become valid.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "plugin/agent/netstring.h"

using danegate::agent::EncodeNetstring;
using danegate::agent::NetstringParse;
using danegate::agent::ParseNetstring;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMax = 100;
  absl::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    NetstringParse p = ParseNetstring(rest, kMax);
    if (p.state != NetstringParse::State::kComplete) {
      // Whatever is left cannot need more than the largest netstring.
      if (p.state == NetstringParse::State::kNeedMore && rest.size() > kMax + 5) std::abort();
      return 0;
    }
    if (p.payload.size() > kMax || p.consumed > rest.size() || p.consumed == 0) std::abort();
    if (EncodeNetstring(p.payload) != rest.substr(0, p.consumed)) std::abort();
    rest.remove_prefix(p.consumed);
  }
  return 0;
}
