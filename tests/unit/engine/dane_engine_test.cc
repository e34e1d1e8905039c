// The engine's fact gathering: which questions it asks, in which order, and
// that the decisions reach the caller. The rules themselves are tested in
// policy/rules_test.cc; the real resolver in the integration tests.
#include "service/engine/dane_engine.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/fake_resolver.h"

namespace danegate::engine {
namespace {

using dns::DnsAnswer;
using dns::DnssecState;
using dns::LookupStatus;
using dns::RrType;
using policy::Action;
using policy::Reason;
using policy::TlsMode;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

DnsAnswer Secure(LookupStatus status) {
  DnsAnswer a;
  a.status = status;
  a.dnssec = DnssecState::kSecure;
  return a;
}

DnsAnswer MxAnswer(DnssecState state, std::vector<dns::MxRecord> records) {
  DnsAnswer a;
  a.status = LookupStatus::kOk;
  a.dnssec = state;
  a.mx = std::move(records);
  return a;
}

DnsAnswer AddrAnswer(std::string canonical = "") {
  DnsAnswer a = Secure(LookupStatus::kOk);
  a.addresses = {"192.0.2.1"};
  a.canonical_name = std::move(canonical);
  return a;
}

DnsAnswer TlsaAnswer(std::vector<tlsa::TlsaRecord> records) {
  DnsAnswer a = Secure(LookupStatus::kOk);
  a.tlsa = std::move(records);
  return a;
}

class DaneEngineTest : public ::testing::Test {
 protected:
  policy::DomainPolicy Resolve(const std::string& domain) {
    std::optional<policy::DomainPolicy> got;
    engine_.ResolvePolicy(domain, 25, [&](policy::DomainPolicy p) { got = std::move(p); });
    resolver_.Flush();
    EXPECT_TRUE(got.has_value());
    return got.value_or(policy::DomainPolicy{});
  }

  policy::PeerVerdict Verify(const std::string& domain, const std::string& mx,
                             const tlsa::DerChain& chain) {
    std::optional<policy::PeerVerdict> got;
    engine_.VerifyPeer(domain, mx, 25, chain, [&](policy::PeerVerdict v) { got = std::move(v); });
    resolver_.Flush();
    EXPECT_TRUE(got.has_value());
    return got.value_or(policy::PeerVerdict{});
  }

  testing::FakeResolver resolver_;
  std::unique_ptr<tlsa::DaneMatcher> matcher_ = *tlsa::DaneMatcher::Create();
  DaneEngine engine_{resolver_, *matcher_};
};

TEST_F(DaneEngineTest, SecureMxWithTwoHostsResolvesBothInParallel) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.set_deferred(true);
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{20, "mx2.example.com"}, {10, "mx1.example.com"}}));
  for (const char* host : {"mx1.example.com", "mx2.example.com"}) {
    resolver_.Set(host, RrType::kA, AddrAnswer());
    resolver_.Set(host, RrType::kAaaa, Secure(LookupStatus::kNoData));
  }
  resolver_.Set("_25._tcp.mx1.example.com", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  resolver_.Set("_25._tcp.mx2.example.com", RrType::kTlsa, Secure(LookupStatus::kNoData));

  const policy::DomainPolicy got = Resolve("example.com");
  EXPECT_EQ(got.action, Action::kDeliver);
  ASSERT_EQ(got.hosts.size(), 2u);
  EXPECT_EQ(got.hosts[0].host, "mx1.example.com");
  EXPECT_EQ(got.hosts[0].tls, TlsMode::kDane);
  EXPECT_EQ(got.hosts[1].tls, TlsMode::kOpportunistic);
  EXPECT_EQ(got.hosts[1].reason, Reason::kNoTlsa);
}

TEST_F(DaneEngineTest, InsecureMxUnderMayAsksNothingMore) {
  DaneEngine may(resolver_, *matcher_, {.insecure_mx = policy::InsecureMxPolicy::kMay});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kInsecure, {{10, "mx.example.com"}}));
  std::optional<policy::DomainPolicy> got;
  may.ResolvePolicy("example.com", 25, [&](policy::DomainPolicy p) { got = std::move(p); });
  resolver_.Flush();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->action, Action::kDeliver);
  EXPECT_EQ(got->reason, Reason::kInsecureNoDane);
  EXPECT_EQ(got->mx_dnssec, DnssecState::kInsecure);
  EXPECT_THAT(resolver_.asked(), ElementsAre("MX example.com"));
}

// RFC 7672 §2.2.1 "MAY proceed to use DANE TLS": the default, as Postfix's
// smtp_tls_dane_insecure_mx_policy at the dane level.
TEST_F(DaneEngineTest, InsecureMxHostWithSecureRecordsGetsDaneByDefault) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kInsecure, {{10, "mx.example.net"}}));
  resolver_.Set("mx.example.net", RrType::kA, AddrAnswer());
  resolver_.Set("mx.example.net", RrType::kAaaa, Secure(LookupStatus::kNoData));
  resolver_.Set("_25._tcp.mx.example.net", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  const policy::DomainPolicy got = Resolve("example.com");
  EXPECT_EQ(got.mx_dnssec, DnssecState::kInsecure);
  ASSERT_EQ(got.hosts.size(), 1u);
  EXPECT_EQ(got.hosts[0].tls, TlsMode::kDane);
  EXPECT_THAT(got.hosts[0].detail, ::testing::HasSubstr("MX RRset is insecure"));
}

// RFC 7672 §2.2.2: a secure CNAME into an unsigned zone: the addresses are
// insecure, the alias is not, so TLSA is looked up at the original name.
TEST_F(DaneEngineTest, SecureAliasToAnUnsignedTargetUsesTheOriginalName) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "mx.example.com"}}));
  DnsAnswer insecure = AddrAnswer("mx.unsigned.example");
  insecure.dnssec = DnssecState::kInsecure;
  resolver_.Set("mx.example.com", RrType::kA, insecure);
  resolver_.Set("mx.example.com", RrType::kAaaa, insecure);
  DnsAnswer alias = Secure(LookupStatus::kOk);
  alias.canonical_name = "mx.unsigned.example";
  resolver_.Set("mx.example.com", RrType::kCname, alias);
  resolver_.Set("_25._tcp.mx.example.com", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  const policy::DomainPolicy got = Resolve("example.com");
  ASSERT_EQ(got.hosts.size(), 1u);
  EXPECT_EQ(got.hosts[0].tls, TlsMode::kDane);
  EXPECT_EQ(got.hosts[0].tlsa_base_domain, "mx.example.com");
  EXPECT_EQ(got.hosts[0].canonical_name, "mx.unsigned.example");
  EXPECT_THAT(resolver_.asked(), Not(Contains("TLSA _25._tcp.mx.unsigned.example")));
}

// RFC 7672 §2.2.3: insecure TLSA records at the expanded name send the
// search on to the original name.
TEST_F(DaneEngineTest, InsecureTlsaAtTheExpandedNameTriesTheOriginal) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "alias.example.com"}}));
  resolver_.Set("alias.example.com", RrType::kA, AddrAnswer("real.example.net"));
  resolver_.Set("alias.example.com", RrType::kAaaa, Secure(LookupStatus::kNoData));
  DnsAnswer insecure = TlsaAnswer({cert.Tlsa(3, 1, 1)});
  insecure.dnssec = DnssecState::kInsecure;
  resolver_.Set("_25._tcp.real.example.net", RrType::kTlsa, insecure);
  resolver_.Set("_25._tcp.alias.example.com", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  const policy::DomainPolicy got = Resolve("example.com");
  ASSERT_EQ(got.hosts.size(), 1u);
  EXPECT_EQ(got.hosts[0].tls, TlsMode::kDane);
  EXPECT_EQ(got.hosts[0].tlsa_base_domain, "alias.example.com");
}

TEST_F(DaneEngineTest, InsecureAddressesSkipTlsa) {
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "mx.example.com"}}));
  DnsAnswer insecure = AddrAnswer();
  insecure.dnssec = DnssecState::kInsecure;
  resolver_.Set("mx.example.com", RrType::kA, insecure);
  resolver_.Set("mx.example.com", RrType::kAaaa, insecure);
  const policy::DomainPolicy got = Resolve("example.com");
  EXPECT_EQ(got.hosts.at(0).reason, Reason::kInsecureNoDane);
  EXPECT_THAT(resolver_.asked(), Not(Contains("TLSA _25._tcp.mx.example.com")));
}

// Where an MTA (or danegate probe) connects: A then AAAA, from answers that
// are secure or insecure, never from a bogus one.
TEST_F(DaneEngineTest, HostsCarryTheirValidatedAddresses) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "mx1.example.com"}, {20, "mx2.example.com"}}));
  DnsAnswer v6 = AddrAnswer();
  v6.addresses = {"2001:db8::1", "2001:db8::2"};
  resolver_.Set("mx1.example.com", RrType::kA, AddrAnswer());
  resolver_.Set("mx1.example.com", RrType::kAaaa, v6);
  resolver_.Set("_25._tcp.mx1.example.com", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  DnsAnswer bogus = AddrAnswer();
  bogus.dnssec = DnssecState::kBogus;
  resolver_.Set("mx2.example.com", RrType::kA, bogus);
  resolver_.Set("mx2.example.com", RrType::kAaaa, v6);
  const policy::DomainPolicy got = Resolve("example.com");
  ASSERT_EQ(got.hosts.size(), 2u);
  EXPECT_THAT(got.hosts[0].addresses, ElementsAre("192.0.2.1", "2001:db8::1", "2001:db8::2"));
  EXPECT_EQ(got.hosts[1].tls, TlsMode::kUnreachable);
  EXPECT_THAT(got.hosts[1].addresses, ElementsAre("2001:db8::1", "2001:db8::2"));
}

// A call whose client gave up asks nothing more upstream: the lookups in
// flight answer, no new one starts, and the call ends deferred.
TEST_F(DaneEngineTest, ACancelledCallStartsNoFurtherLookups) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.set_deferred(true);
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "mx1.example.com"}, {20, "mx2.example.com"}}));
  for (const char* host : {"mx1.example.com", "mx2.example.com"}) {
    resolver_.Set(host, RrType::kA, AddrAnswer());
    resolver_.Set(host, RrType::kAaaa, Secure(LookupStatus::kNoData));
    resolver_.Set(std::string("_25._tcp.") + host, RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  }
  struct Row {
    std::string name;
    int batches_before_cancel;  // answer batches delivered while the caller waits
    std::vector<std::string> asked;
  };
  const Row rows[] = {
      {"before anything", -1, {}},
      {"after the MX question", 0, {"MX example.com"}},
      {"after the addresses were asked",
       1,
       {"MX example.com", "A mx1.example.com", "AAAA mx1.example.com", "A mx2.example.com",
        "AAAA mx2.example.com"}},
  };
  for (const Row& row : rows) {
    resolver_.clear_asked();
    bool cancelled = row.batches_before_cancel < 0;
    std::optional<policy::DomainPolicy> got;
    engine_.ResolvePolicy(
        "example.com", 25, [&](policy::DomainPolicy p) { got = std::move(p); },
        [&] { return cancelled; });
    for (int i = 0; i < row.batches_before_cancel; ++i) resolver_.FlushBatch();
    cancelled = true;
    resolver_.Flush();
    EXPECT_THAT(resolver_.asked(), ::testing::ElementsAreArray(row.asked)) << row.name;
    ASSERT_TRUE(got.has_value()) << row.name;
    EXPECT_EQ(got->action, Action::kDefer) << row.name;
    EXPECT_EQ(got->reason, Reason::kDnsFailure) << row.name;
    EXPECT_THAT(got->detail, ::testing::HasSubstr("cancelled")) << row.name;
  }
  // Not cancelled: the same call asks the TLSA records too and delivers.
  resolver_.clear_asked();
  const policy::DomainPolicy whole = Resolve("example.com");
  EXPECT_EQ(whole.action, Action::kDeliver);
  EXPECT_THAT(resolver_.asked(), Contains("TLSA _25._tcp.mx2.example.com"));
}

TEST_F(DaneEngineTest, CnameExpandedTlsaFirstThenOriginal) {
  const testing::TestCert cert = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "alias.example.com"}}));
  resolver_.Set("alias.example.com", RrType::kA, AddrAnswer("real.example.net"));
  resolver_.Set("alias.example.com", RrType::kAaaa, Secure(LookupStatus::kNoData));
  resolver_.Set("_25._tcp.real.example.net", RrType::kTlsa, Secure(LookupStatus::kNxDomain));
  resolver_.Set("_25._tcp.alias.example.com", RrType::kTlsa, TlsaAnswer({cert.Tlsa(3, 1, 1)}));
  const policy::DomainPolicy got = Resolve("example.com");
  ASSERT_EQ(got.hosts.size(), 1u);
  EXPECT_EQ(got.hosts[0].tls, TlsMode::kDane);
  EXPECT_EQ(got.hosts[0].tlsa_base_domain, "alias.example.com");
  EXPECT_EQ(got.hosts[0].canonical_name, "real.example.net");
  EXPECT_THAT(resolver_.asked(),
              ElementsAre("MX example.com", "A alias.example.com", "AAAA alias.example.com",
                          "TLSA _25._tcp.real.example.net", "TLSA _25._tcp.alias.example.com"));
}

TEST_F(DaneEngineTest, FailedExpandedTlsaDoesNotFallBackToOriginal) {
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "alias.example.com"}}));
  resolver_.Set("alias.example.com", RrType::kA, AddrAnswer("real.example.net"));
  resolver_.Set("alias.example.com", RrType::kAaaa, Secure(LookupStatus::kNoData));
  // _25._tcp.real.example.net is not scripted: the lookup fails.
  const policy::DomainPolicy got = Resolve("example.com");
  EXPECT_EQ(got.action, Action::kDefer);
  EXPECT_EQ(got.reason, Reason::kDnsFailure);
}

TEST_F(DaneEngineTest, MxFailureDefers) {
  const policy::DomainPolicy got = Resolve("unscripted.example");
  EXPECT_EQ(got.action, Action::kDefer);
  EXPECT_EQ(got.reason, Reason::kDnsFailure);
}

TEST_F(DaneEngineTest, VerifyPeerMatchesTheHostsRecords) {
  const testing::TestCert good = testing::Issue({"mx"});
  const testing::TestCert other = testing::Issue({"mx"});
  resolver_.Set("example.com", RrType::kMx,
                MxAnswer(DnssecState::kSecure, {{10, "mx.example.com"}}));
  resolver_.Set("mx.example.com", RrType::kA, AddrAnswer());
  resolver_.Set("mx.example.com", RrType::kAaaa, Secure(LookupStatus::kNoData));
  resolver_.Set("_25._tcp.mx.example.com", RrType::kTlsa, TlsaAnswer({good.Tlsa(3, 1, 1)}));

  const policy::PeerVerdict ok = Verify("example.com", "mx.example.com", {good.der()});
  EXPECT_EQ(ok.action, Action::kDeliver);
  EXPECT_TRUE(ok.authenticated);
  EXPECT_EQ(ok.reason, Reason::kDaneAuthenticated);
  EXPECT_EQ(ok.matched, good.Tlsa(3, 1, 1));

  const policy::PeerVerdict bad = Verify("example.com", "mx.example.com", {other.der()});
  EXPECT_EQ(bad.action, Action::kDefer);
  EXPECT_FALSE(bad.authenticated);
  EXPECT_EQ(bad.reason, Reason::kDaneMismatch);
}

TEST(MatchOfflineTest, UsesTheGivenRecords) {
  auto matcher = *tlsa::DaneMatcher::Create();
  const testing::TestCert cert = testing::Issue({"mx"});
  const policy::PeerVerdict ok =
      MatchOffline(*matcher, "mx.example", 25, {cert.Tlsa(3, 1, 1)}, {cert.der()});
  EXPECT_EQ(ok.action, Action::kDeliver);
  EXPECT_TRUE(ok.authenticated);
  const policy::PeerVerdict unusable =
      MatchOffline(*matcher, "mx.example", 25, {cert.Tlsa(1, 1, 1)}, {cert.der()});
  EXPECT_EQ(unusable.action, Action::kDeliver);
  EXPECT_FALSE(unusable.authenticated);
  EXPECT_EQ(unusable.reason, Reason::kTlsaUnusable);
}

}  // namespace
}  // namespace danegate::engine
