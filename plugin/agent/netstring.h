// Netstrings (https://cr.yp.to/proto/netstrings.txt), the framing of
// Postfix's socketmap protocol: "LEN:PAYLOAD,". Pure; every byte is treated
// as hostile: the length is bounded before anything is buffered.
#ifndef DANEGATE_PLUGIN_AGENT_NETSTRING_H_
#define DANEGATE_PLUGIN_AGENT_NETSTRING_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace danegate::agent {

struct NetstringParse {
  enum class State { kNeedMore, kComplete, kMalformed } state = State::kNeedMore;
  absl::string_view payload;  // kComplete: points into the parsed buffer
  size_t consumed = 0;        // kComplete: bytes of the buffer the netstring took
  std::string error;          // kMalformed: why
};

// Parses the netstring at the start of `buffer`, whose payload may be at
// most `max_payload` bytes. kNeedMore means `buffer` is a valid prefix; a
// length over the limit, a non-digit, a leading zero (but for "0:") or a
// missing ',' is kMalformed as soon as it is seen.
NetstringParse ParseNetstring(absl::string_view buffer, size_t max_payload);

// Returns `payload` framed as a netstring.
std::string EncodeNetstring(absl::string_view payload);

}  // namespace danegate::agent

#endif  // DANEGATE_PLUGIN_AGENT_NETSTRING_H_
