// SMTP replies (RFC 5321 §4.2) as the STARTTLS client reads
// them from a server it does not trust. Pure; every byte is hostile: lines
// and lines per reply are bounded before anything more is read.
#ifndef DANEGATE_SERVICE_SMTP_SMTP_REPLY_H_
#define DANEGATE_SERVICE_SMTP_SMTP_REPLY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace danegate::smtp {

inline constexpr size_t kMaxSmtpLine = 1000;       // without CR LF (RFC 5321: 512)
inline constexpr size_t kMaxSmtpReplyLines = 100;  // lines of one reply

struct SmtpReplyParse {
  enum class State { kNeedMore, kComplete, kMalformed } state = State::kNeedMore;
  int code = 0;                    // kComplete: 000..999
  std::vector<std::string> lines;  // kComplete: each line, without CR LF
  size_t consumed = 0;             // kComplete: bytes of the buffer the reply took
  std::string error;               // kMalformed: why
};

// Parses one reply ("CODE-text" lines, then "CODE text" or "CODE") from the
// start of `buffer`. kNeedMore when it may still become a reply: then the
// buffer holds fewer than kMaxSmtpReplyLines lines and its unfinished line
// is at most kMaxSmtpLine + 1 bytes.
SmtpReplyParse ParseSmtpReply(absl::string_view buffer);

}  // namespace danegate::smtp

#endif  // DANEGATE_SERVICE_SMTP_SMTP_REPLY_H_
