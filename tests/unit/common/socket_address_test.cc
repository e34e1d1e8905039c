#include "service/common/socket_address.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::common {
namespace {

TEST(ParseSocketAddressTest, Table) {
  struct Row {
    std::string text;
    bool ok;
    int family;
    uint16_t port;
    bool loopback;
  };
  const Row rows[] = {
      {"127.0.0.1:10027", true, AF_INET, 10027, true},
      {"127.1.2.3:0", true, AF_INET, 0, true},
      {"0.0.0.0:50051", true, AF_INET, 50051, false},
      {"192.0.2.1:25", true, AF_INET, 25, false},
      {"[::1]:9464", true, AF_INET6, 9464, true},
      {"[::]:9464", true, AF_INET6, 9464, false},
      {"[2001:db8::1]:1", true, AF_INET6, 1, false},
      {"localhost:25", false, 0, 0, false},  // names are not resolved
      {"127.0.0.1", false, 0, 0, false},
      {"127.0.0.1:65536", false, 0, 0, false},
      {"127.0.0.1:-1", false, 0, 0, false},
      {"::1:25", false, 0, 0, false},  // IPv6 needs brackets
      {"[::1:25", false, 0, 0, false},
      {"", false, 0, 0, false},
  };
  for (const Row& row : rows) {
    absl::StatusOr<SocketAddress> got = ParseSocketAddress("--listen", row.text);
    ASSERT_EQ(got.ok(), row.ok) << row.text;
    if (!row.ok) {
      EXPECT_THAT(std::string(got.status().message()),
                  ::testing::StartsWith("--listen '" + row.text + "':"));
      continue;
    }
    EXPECT_EQ(got->family(), row.family) << row.text;
    EXPECT_EQ(got->port(), row.port) << row.text;
    EXPECT_EQ(got->loopback(), row.loopback) << row.text;
    EXPECT_EQ(got->ToString(), row.text);  // round trip
  }
}

}  // namespace
}  // namespace danegate::common
