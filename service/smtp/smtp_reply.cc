#include "service/smtp/smtp_reply.h"

#include "absl/strings/ascii.h"

namespace danegate::smtp {
namespace {

SmtpReplyParse Malformed(std::string why) {
  SmtpReplyParse p;
  p.state = SmtpReplyParse::State::kMalformed;
  p.error = std::move(why);
  return p;
}

}  // namespace

SmtpReplyParse ParseSmtpReply(absl::string_view buffer) {
  SmtpReplyParse p;
  size_t start = 0;
  for (;;) {
    const size_t eol = buffer.find('\n', start);
    if (eol == absl::string_view::npos) {
      // CR LF may follow a full-length line.
      if (buffer.size() - start > kMaxSmtpLine + 1) return Malformed("reply line too long");
      return SmtpReplyParse{};  // kNeedMore
    }
    absl::string_view line = buffer.substr(start, eol - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxSmtpLine) return Malformed("reply line too long");
    const bool well_formed = line.size() >= 3 && absl::ascii_isdigit(line[0]) &&
                             absl::ascii_isdigit(line[1]) && absl::ascii_isdigit(line[2]) &&
                             (line.size() == 3 || line[3] == ' ' || line[3] == '-');
    if (!well_formed) return Malformed("malformed reply line");
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!p.lines.empty() && code != p.code) return Malformed("reply lines with different codes");
    p.code = code;
    p.lines.emplace_back(line);
    start = eol + 1;
    if (line.size() == 3 || line[3] == ' ') {
      p.state = SmtpReplyParse::State::kComplete;
      p.consumed = start;
      return p;
    }
    if (p.lines.size() >= kMaxSmtpReplyLines) return Malformed("reply has too many lines");
  }
}

}  // namespace danegate::smtp
