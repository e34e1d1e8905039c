#include "service/common/json.h"

#include "gtest/gtest.h"

namespace danegate::common {
namespace {

TEST(JsonStringTest, EscapesEverythingThatIsNotPrintableAscii) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(JsonString(std::string("\x01\x7f", 2)), "\"\\u0001\\u007f\"");
  // Well-formed UTF-8 passes; stray or overlong bytes become U+FFFD.
  EXPECT_EQ(JsonString("RFC 7672 \xc2\xa7"
                       "2.2"),
            "\"RFC 7672 \xc2\xa7"
            "2.2\"");
  EXPECT_EQ(JsonString("\xff\xc0\x80\xe2\x82"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

}  // namespace
}  // namespace danegate::common
