// Fuzzes the SMTP reply parser of danegate-agent's STARTTLS probe on a
// stream of replies. A complete reply lies inside the buffer, has 1..100
// lines of at most 1000 bytes, each starting with the reply's code; a
// kNeedMore buffer is bounded (so reading more can never grow it without
// limit).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "service/smtp/smtp_reply.h"

using danegate::smtp::kMaxSmtpLine;
using danegate::smtp::kMaxSmtpReplyLines;
using danegate::smtp::ParseSmtpReply;
using danegate::smtp::SmtpReplyParse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    SmtpReplyParse p = ParseSmtpReply(rest);
    if (p.state == SmtpReplyParse::State::kNeedMore) {
      if (rest.size() > kMaxSmtpReplyLines * (kMaxSmtpLine + 2)) std::abort();
      return 0;
    }
    if (p.state == SmtpReplyParse::State::kMalformed) {
      if (p.error.empty()) std::abort();
      return 0;
    }
    if (p.consumed == 0 || p.consumed > rest.size()) std::abort();
    if (p.lines.empty() || p.lines.size() > kMaxSmtpReplyLines) std::abort();
    if (p.code < 0 || p.code > 999) std::abort();
    const std::string code = std::to_string(1000 + p.code).substr(1);
    for (const std::string& line : p.lines) {
      if (line.size() > kMaxSmtpLine || line.compare(0, 3, code) != 0) std::abort();
    }
    rest.remove_prefix(p.consumed);
  }
  return 0;
}
