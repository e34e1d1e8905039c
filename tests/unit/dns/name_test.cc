#include "service/dns/name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::dns {
namespace {

using ::testing::HasSubstr;

TEST(CanonicalMailNameTest, Table) {
  struct Row {
    std::string in;
    std::string want;        // canonical form when valid
    std::string want_error;  // substring of the error when invalid
  };
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "com";  // 253 octets
  const Row rows[] = {
      {"Example.COM", "example.com", ""},
      {"example.com.", "example.com", ""},
      {"mx-1.xn--bcher-kva.example", "mx-1.xn--bcher-kva.example", ""},
      {label63 + ".example", label63 + ".example", ""},
      {"", "", "empty name"},
      {".", "", "the root"},
      {"com", "", "at least two labels"},
      {"a..example", "", "label 2 is empty"},
      {"example.com..", "", "is empty"},
      {label64 + ".example", "", "label 1 is 64 octets"},
      {long_name + ".x", "", "the limit is 253"},
      {"exa mple.com", "", "contains ' '"},
      {"mx_1.Example.com", "mx_1.example.com", ""},  // DNS allows it; so does Postfix
      {"exa*mple.com", "", "contains '*'"},
      {"example.com/x", "", "contains '/'"},
      {std::string("exa\0mple.com", 12), "", "byte 0x00"},
      {"b\xc3\xbc"
       "cher.example",
       "", "A-label"},
      {"-lead.example", "", "starts or ends with '-'"},
      {"trail-.example", "", "starts or ends with '-'"},
      {"192.0.2.1", "", "numeric"},
      {"[192.0.2.1]", "", "contains '['"},
  };
  for (const Row& row : rows) {
    absl::StatusOr<std::string> got = CanonicalMailName(row.in, "domain");
    if (row.want_error.empty()) {
      ASSERT_TRUE(got.ok()) << row.in << ": " << got.status();
      EXPECT_EQ(*got, row.want);
    } else {
      ASSERT_FALSE(got.ok()) << row.in;
      EXPECT_TRUE(absl::IsInvalidArgument(got.status()));
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want_error)) << row.in;
      EXPECT_THAT(std::string(got.status().message()), HasSubstr("domain: "));
    }
  }
}

TEST(TlsaOwnerNameTest, PrefixesPortAndProtocol) {
  EXPECT_EQ(TlsaOwnerName("mx.example.com", 25), "_25._tcp.mx.example.com");
  EXPECT_EQ(TlsaOwnerName("mx.example.com", 2525), "_2525._tcp.mx.example.com");
}

}  // namespace
}  // namespace danegate::dns
