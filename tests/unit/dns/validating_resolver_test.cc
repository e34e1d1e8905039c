// The resolver backends' own contract (libunbound and getdns, each test
// run on both), against loopback sockets this test owns: every lookup
// completes exactly once, a silent upstream is a failure within the
// configured timeout (never "no record"), and destruction completes what is
// pending. Answers from real DNSSEC-signed zones are tested in
// tests/integration, on both backends too.
#include "service/dns/validating_resolver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::dns {
namespace {

using ::testing::HasSubstr;

// A UDP socket on 127.0.0.1 that receives queries and never answers.
class SilentUpstream {
 public:
  SilentUpstream() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentUpstream() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::string WriteAnchor(const std::string& content) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/anchor-", getpid(), ".ds");
  std::ofstream(path) << content;
  return path;
}

constexpr char kAnchor[] =
    "example. 3600 IN DS 12345 13 2 "
    "0000000000000000000000000000000000000000000000000000000000000000\n";

class ValidatingResolverTest : public ::testing::TestWithParam<ResolverConfig::Backend> {
 protected:
  ResolverConfig StubConfig(uint16_t port, absl::Duration timeout) const;
};

ResolverConfig ValidatingResolverTest::StubConfig(uint16_t port, absl::Duration timeout) const {
  ResolverConfig config;
  config.backend = GetParam();
  config.mode = ResolverConfig::Mode::kStub;
  config.upstreams.push_back({"127.0.0.1", port, false});
  config.trust_anchor_file = WriteAnchor(kAnchor);
  config.timeout = timeout;
  return config;
}

TEST_P(ValidatingResolverTest, SilentUpstreamIsAFailureNotNoRecord) {
  SilentUpstream upstream;
  auto resolver = MakeValidatingResolver(StubConfig(upstream.port(), absl::Milliseconds(300)));
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  absl::BlockingCounter done(3);
  std::vector<DnsAnswer> answers(3);
  const RrType types[] = {RrType::kMx, RrType::kA, RrType::kTlsa};
  for (int i = 0; i < 3; ++i) {
    resolver->resolver->Lookup("mail.example", types[i], [&, i](DnsAnswer answer) {
      answers[i] = std::move(answer);
      done.DecrementCount();
    });
  }
  const absl::Time start = absl::Now();
  done.Wait();
  // The configured timeout holds: libunbound would otherwise retry for ~15 s.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  for (const DnsAnswer& answer : answers) {
    EXPECT_EQ(answer.status, LookupStatus::kFailure);
    EXPECT_EQ(answer.qname, "mail.example");
    EXPECT_FALSE(answer.error.empty());
  }
}

TEST_P(ValidatingResolverTest, DestructionCompletesPendingLookups) {
  SilentUpstream upstream;
  auto resolver = MakeValidatingResolver(StubConfig(upstream.port(), absl::Seconds(30)));
  ASSERT_TRUE(resolver.ok());
  absl::Notification done;
  DnsAnswer got;
  resolver->resolver->Lookup("mail.example", RrType::kMx, [&](DnsAnswer answer) {
    got = std::move(answer);
    done.Notify();
  });
  resolver->resolver.reset();  // long before the 30 s timeout
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(got.status, LookupStatus::kFailure);
}

TEST_P(ValidatingResolverTest, RefusesBadTrustAnchorsAndConfigs) {
  ResolverConfig config = StubConfig(53, absl::Seconds(1));
  config.trust_anchor_file = "/nonexistent/anchor";
  auto missing = MakeValidatingResolver(config);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("cannot be read"));

  config.trust_anchor_file = WriteAnchor("example. 3600 IN A 192.0.2.1\n");
  auto no_ds = MakeValidatingResolver(config);
  EXPECT_THAT(std::string(no_ds.status().message()), HasSubstr("no DS or DNSKEY"));

  config.trust_anchor_file = WriteAnchor(kAnchor);
  config.upstreams.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(MakeValidatingResolver(config).status()));
}

INSTANTIATE_TEST_SUITE_P(Backends, ValidatingResolverTest,
                         ::testing::Values(ResolverConfig::Backend::kUnbound,
                                           ResolverConfig::Backend::kGetdns),
                         [](const auto& info) {
                           return info.param == ResolverConfig::Backend::kUnbound ? "unbound"
                                                                                  : "getdns";
                         });

}  // namespace
}  // namespace danegate::dns
