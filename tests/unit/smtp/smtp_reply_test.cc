#include "service/smtp/smtp_reply.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::smtp {
namespace {

using State = SmtpReplyParse::State;

TEST(ParseSmtpReplyTest, Table) {
  struct Row {
    std::string name;
    std::string buffer;
    State state;
    int code = 0;
    std::vector<std::string> lines = {};
    size_t consumed = 0;
    std::string error = "";
  };
  const std::string long_line = "250 " + std::string(kMaxSmtpLine - 4, 'x');
  std::string many;
  for (size_t i = 0; i < kMaxSmtpReplyLines; ++i) many += "250-x\r\n";
  const Row rows[] = {
      {"one line", "220 mx ESMTP\r\n", State::kComplete, 220, {"220 mx ESMTP"}, 14},
      {"bare code", "250\r\n", State::kComplete, 250, {"250"}, 5},
      {"LF only", "220 hi\n", State::kComplete, 220, {"220 hi"}, 7},
      {"multi-line, rest left",
       "250-mx\r\n250 STARTTLS\r\n220 next\r\n",
       State::kComplete,
       250,
       {"250-mx", "250 STARTTLS"},
       22},
      {"longest line",
       long_line + "\r\n",
       State::kComplete,
       250,
       {long_line},
       long_line.size() + 2},
      {"empty", "", State::kNeedMore},
      {"unfinished line", "220 hel", State::kNeedMore},
      {"unfinished reply", "250-mx\r\n250-SIZE", State::kNeedMore},
      {"line too long", long_line + "xx", State::kMalformed, 0, {}, 0, "reply line too long"},
      {"ended line too long",
       long_line + "x\r\n",
       State::kMalformed,
       0,
       {},
       0,
       "reply line too long"},
      {"too many lines", many + "250 end\r\n", State::kMalformed, 0, {}, 0, "too many lines"},
      {"not a code", "HTTP/1.1 400\r\n", State::kMalformed, 0, {}, 0, "malformed reply line"},
      {"two digits", "22\r\n", State::kMalformed, 0, {}, 0, "malformed reply line"},
      {"bad separator", "220_hi\r\n", State::kMalformed, 0, {}, 0, "malformed reply line"},
      {"codes differ", "250-a\r\n220 b\r\n", State::kMalformed, 0, {}, 0, "different codes"},
  };
  for (const Row& row : rows) {
    SmtpReplyParse got = ParseSmtpReply(row.buffer);
    EXPECT_EQ(got.state, row.state) << row.name;
    EXPECT_EQ(got.code, row.code) << row.name;
    EXPECT_EQ(got.lines, row.lines) << row.name;
    EXPECT_EQ(got.consumed, row.consumed) << row.name;
    EXPECT_THAT(got.error, ::testing::HasSubstr(row.error)) << row.name;
  }
}

}  // namespace
}  // namespace danegate::smtp
