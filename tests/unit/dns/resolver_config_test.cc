#include "service/dns/resolver_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::dns {
namespace {

using ::testing::HasSubstr;

TEST(ParseUpstreamTest, Table) {
  struct Row {
    std::string in;
    std::string want;  // ToString() when valid
    std::string want_error;
  };
  const Row rows[] = {
      {"127.0.0.1:5353", "127.0.0.1:5353", ""},
      {"127.0.0.1", "127.0.0.1:53", ""},
      {"[::1]:5353", "[::1]:5353", ""},
      {"::1", "[::1]:53", ""},
      {"[2001:db8::1]", "[2001:db8::1]:53", ""},
      {"127.0.0.1:0", "", "1..65535"},
      {"127.0.0.1:65536", "", "1..65535"},
      {"127.0.0.1:", "", "1..65535"},
      {"127.0.0.1:x", "", "1..65535"},
      {"resolver.example:53", "", "numeric"},
      {"[::1", "", "missing ']'"},
      {"[::1]5353", "", "expected ':PORT'"},
      {"", "", "numeric"},
  };
  for (const Row& row : rows) {
    absl::StatusOr<Upstream> got = ParseUpstream(row.in);
    if (row.want_error.empty()) {
      ASSERT_TRUE(got.ok()) << row.in << ": " << got.status();
      EXPECT_EQ(got->ToString(), row.want);
    } else {
      ASSERT_FALSE(got.ok()) << row.in;
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want_error)) << row.in;
    }
  }
}

TEST(CheckResolverConfigTest, StubNeedsUpstreamAndRecursiveTakesNone) {
  ResolverConfig config;
  EXPECT_TRUE(CheckResolverConfig(config).ok());
  config.mode = ResolverConfig::Mode::kStub;
  EXPECT_THAT(std::string(CheckResolverConfig(config).message()), HasSubstr("--upstream"));
  config.upstreams.push_back(*ParseUpstream("127.0.0.1"));
  EXPECT_TRUE(CheckResolverConfig(config).ok());
  config.mode = ResolverConfig::Mode::kRecursive;
  EXPECT_FALSE(CheckResolverConfig(config).ok());
  config.upstreams.clear();
  config.timeout = absl::Milliseconds(1);
  EXPECT_THAT(std::string(CheckResolverConfig(config).message()), HasSubstr("--dns-timeout"));
}

TEST(ParseResolutionModeTest, OnlyTwoModes) {
  EXPECT_EQ(*ParseResolutionMode("stub"), ResolverConfig::Mode::kStub);
  EXPECT_EQ(*ParseResolutionMode("recursive"), ResolverConfig::Mode::kRecursive);
  EXPECT_FALSE(ParseResolutionMode("forward").ok());
}

}  // namespace
}  // namespace danegate::dns
