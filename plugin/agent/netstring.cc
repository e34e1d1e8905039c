#include "plugin/agent/netstring.h"

#include "absl/strings/str_cat.h"

namespace danegate::agent {
namespace {

NetstringParse Malformed(std::string why) {
  NetstringParse p;
  p.state = NetstringParse::State::kMalformed;
  p.error = std::move(why);
  return p;
}

}  // namespace

NetstringParse ParseNetstring(absl::string_view buffer, size_t max_payload) {
  size_t length = 0;
  size_t i = 0;
  for (; i < buffer.size() && buffer[i] != ':'; ++i) {
    const char c = buffer[i];
    if (c < '0' || c > '9') return Malformed("netstring length is not a decimal number");
    if (i == 1 && buffer[0] == '0') return Malformed("netstring length has a leading zero");
    length = length * 10 + static_cast<size_t>(c - '0');
    if (length > max_payload) {
      return Malformed(absl::StrCat("netstring longer than ", max_payload, " bytes"));
    }
  }
  if (i == buffer.size()) return NetstringParse{};  // still reading the length
  if (i == 0) return Malformed("netstring without a length");
  const size_t start = i + 1;
  if (buffer.size() - start < length + 1) return NetstringParse{};
  if (buffer[start + length] != ',') return Malformed("netstring does not end with ','");
  NetstringParse p;
  p.state = NetstringParse::State::kComplete;
  p.payload = buffer.substr(start, length);
  p.consumed = start + length + 1;
  return p;
}

std::string EncodeNetstring(absl::string_view payload) {
  return absl::StrCat(payload.size(), ":", payload, ",");
}

}  // namespace danegate::agent
