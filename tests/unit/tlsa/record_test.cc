#include "service/tlsa/record.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::tlsa {
namespace {

using ::testing::HasSubstr;

std::string Der(size_t content) {
  // A DER SEQUENCE header for `content` octets followed by that many zeros.
  std::string out = "\x30";
  if (content < 0x80) {
    out += static_cast<char>(content);
  } else if (content < 0x100) {
    out += "\x81";
    out += static_cast<char>(content);
  } else {
    out += "\x82";
    out += static_cast<char>(content >> 8);
    out += static_cast<char>(content & 0xff);
  }
  return out + std::string(content, '\0');
}

TEST(ClassifyTest, Table) {
  struct Row {
    std::string name;
    TlsaRecord record;
    bool want_usable;
    std::string want_why;
  };
  const std::string d32(32, 'x'), d64(64, 'x');
  const Row rows[] = {
      {"3 1 1", {3, 1, 1, d32}, true, ""},
      {"3 0 1", {3, 0, 1, d32}, true, ""},
      {"3 1 2", {3, 1, 2, d64}, true, ""},
      {"2 1 1", {2, 1, 1, d32}, true, ""},
      {"2 0 0 short form DER", {2, 0, 0, Der(100)}, true, ""},
      {"3 1 0 long form DER", {3, 1, 0, Der(300)}, true, ""},
      {"PKIX-TA", {0, 1, 1, d32}, false, "PKIX"},
      {"PKIX-EE", {1, 1, 1, d32}, false, "PKIX"},
      {"unknown usage", {4, 1, 1, d32}, false, "unknown usage 4"},
      {"unknown selector", {3, 2, 1, d32}, false, "unknown selector 2"},
      {"unknown mtype", {3, 1, 3, d32}, false, "unknown matching type 3"},
      {"sha256 too short", {3, 1, 1, std::string(31, 'x')}, false, "31 octets, not 32"},
      {"sha256 with sha512 length", {3, 1, 1, d64}, false, "64 octets, not 32"},
      {"sha512 too short", {3, 1, 2, d32}, false, "not 64"},
      {"empty digest", {3, 1, 1, ""}, false, "0 octets"},
      {"exact not DER", {3, 1, 0, "hello"}, false, "not a DER"},
      {"exact DER trailing", {3, 1, 0, Der(10) + "x"}, false, "not a DER"},
      {"exact DER truncated", {3, 1, 0, Der(10).substr(0, 8)}, false, "not a DER"},
      {"exact DER non-minimal length", {3, 1, 0, "\x30\x81\x05" + std::string(5, '\0')}, false,
       "not a DER"},
  };
  for (const Row& row : rows) {
    const Usability got = Classify(row.record);
    EXPECT_EQ(got.usable, row.want_usable) << row.name;
    EXPECT_THAT(got.why, HasSubstr(row.want_why)) << row.name;
  }
}

TEST(ParseTlsaTextTest, Table) {
  struct Row {
    std::string in;
    bool want_ok;
    TlsaRecord want;
  };
  const Row rows[] = {
      {"3 1 1 00ff", true, {3, 1, 1, std::string("\x00\xff", 2)}},
      {"  3\t1 1 00 FF ", true, {3, 1, 1, std::string("\x00\xff", 2)}},
      {"255 255 255 ab", true, {255, 255, 255, "\xab"}},
      {"3 1 1", false, {}},
      {"256 1 1 00", false, {}},
      {"-1 1 1 00", false, {}},
      {"3 1 1 0", false, {}},
      {"3 1 1 zz", false, {}},
      {"", false, {}},
  };
  for (const Row& row : rows) {
    absl::StatusOr<TlsaRecord> got = ParseTlsaText(row.in);
    ASSERT_EQ(got.ok(), row.want_ok) << row.in << ": " << got.status();
    if (row.want_ok) {
      EXPECT_EQ(*got, row.want) << row.in;
    }
  }
}

TEST(TlsaTextTest, RoundTrips) {
  const TlsaRecord record{3, 1, 1, std::string("\x01\xab", 2)};
  EXPECT_EQ(TlsaText(record), "3 1 1 01ab");
  EXPECT_EQ(*ParseTlsaText(TlsaText(record)), record);
}

}  // namespace
}  // namespace danegate::tlsa
