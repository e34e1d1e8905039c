#include "plugin/agent/netstring.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::agent {
namespace {

using State = NetstringParse::State;

TEST(NetstringTest, ParsesTable) {
  struct Row {
    std::string input;
    State state;
    std::string payload;  // kComplete
    size_t consumed;      // kComplete
    std::string error;    // kMalformed: substring
  };
  const Row rows[] = {
      {"0:,", State::kComplete, "", 3, ""},
      {"5:hello,", State::kComplete, "hello", 8, ""},
      {"5:hello,3:abc,", State::kComplete, "hello", 8, ""},  // pipelined
      {std::string("5:a b\0c,", 8), State::kComplete, std::string("a b\0c", 5), 8, ""},
      {"", State::kNeedMore, "", 0, ""},
      {"1", State::kNeedMore, "", 0, ""},
      {"10:", State::kNeedMore, "", 0, ""},
      {"5:hello", State::kNeedMore, "", 0, ""},
      {"5:hellox", State::kMalformed, "", 0, "does not end with ','"},
      {":x,", State::kMalformed, "", 0, "without a length"},
      {"a:x,", State::kMalformed, "", 0, "not a decimal"},
      {"-1:x,", State::kMalformed, "", 0, "not a decimal"},
      {"01:x,", State::kMalformed, "", 0, "leading zero"},
      {"11:", State::kMalformed, "", 0, "longer than 10 bytes"},
      // Overlong lengths are refused while the digits arrive, never buffered.
      {"99999999999999999999999999", State::kMalformed, "", 0, "longer than 10 bytes"},
  };
  for (const Row& row : rows) {
    NetstringParse got = ParseNetstring(row.input, 10);
    EXPECT_EQ(got.state, row.state) << row.input;
    if (row.state == State::kComplete) {
      EXPECT_EQ(got.payload, row.payload) << row.input;
      EXPECT_EQ(got.consumed, row.consumed) << row.input;
    }
    if (row.state == State::kMalformed) {
      EXPECT_THAT(got.error, ::testing::HasSubstr(row.error)) << row.input;
    }
  }
}

TEST(NetstringTest, EncodesWhatItParses) {
  for (const std::string& payload : {std::string(), std::string("OK may"), std::string(10, ',')}) {
    const std::string framed = EncodeNetstring(payload);
    NetstringParse got = ParseNetstring(framed, 100);
    ASSERT_EQ(got.state, State::kComplete) << framed;
    EXPECT_EQ(got.payload, payload);
    EXPECT_EQ(got.consumed, framed.size());
  }
  EXPECT_EQ(EncodeNetstring("OK may"), "6:OK may,");
}

}  // namespace
}  // namespace danegate::agent
