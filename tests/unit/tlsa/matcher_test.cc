#include "service/tlsa/matcher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"

namespace danegate::tlsa {
namespace {

using testing::Chain;
using ::testing::HasSubstr;
using testing::Issue;
using testing::TestCert;

class DaneMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto matcher = DaneMatcher::Create();
    ASSERT_TRUE(matcher.ok());
    matcher_ = *std::move(matcher);
  }
  std::unique_ptr<DaneMatcher> matcher_;
};

TEST_F(DaneMatcherTest, Table) {
  const TestCert ee = Issue({"ee", {"other.example"}});
  const TestCert expired = Issue({"old", {"mx.example"}, false, -60, -30});
  const TestCert root = Issue({"Root CA", {}, true});
  const TestCert inter = Issue({"Intermediate CA", {}, true}, &root);
  const TestCert leaf = Issue({"leaf", {"mx.example"}}, &inter);
  const TestCert wrong_name = Issue({"leaf", {"www.example"}}, &inter);
  const TestCert wildcard = Issue({"leaf", {"*.example.com"}}, &inter);
  const TestCert partial = Issue({"leaf", {"m*.example.com"}}, &inter);
  const TestCert cn_only = Issue({"mx.example", {}}, &inter);
  const TestCert cn_but_san = Issue({"mx.example", {"www.example"}}, &inter);
  const TestCert expired_ta_leaf = Issue({"leaf", {"mx.example"}, false, -60, -30}, &inter);
  const TlsaRecord bad256{3, 1, 1, std::string(32, '\x01')};
  const TlsaRecord bad512{3, 1, 2, std::string(64, '\x01')};

  struct Row {
    std::string name;
    DerChain chain;
    std::vector<TlsaRecord> records;
    std::vector<std::string> names;
    bool want_match;
    int want_depth = -1;
  };
  const std::vector<std::string> mx = {"mx.example"};
  const Row rows[] = {
      {"3 1 1", Chain({&ee}), {ee.Tlsa(3, 1, 1)}, mx, true, 0},
      {"3 0 1", Chain({&ee}), {ee.Tlsa(3, 0, 1)}, mx, true, 0},
      {"3 1 2", Chain({&ee}), {ee.Tlsa(3, 1, 2)}, mx, true, 0},
      {"3 1 0", Chain({&ee}), {ee.Tlsa(3, 1, 0)}, mx, true, 0},
      {"3 0 0", Chain({&ee}), {ee.Tlsa(3, 0, 0)}, mx, true, 0},
      {"3 1 1 ignores name and expiry",
       Chain({&expired}),
       {expired.Tlsa(3, 1, 1)},
       {"unrelated.example"},
       true,
       0},
      {"3 1 1 second record matches", Chain({&ee}), {bad256, ee.Tlsa(3, 1, 1)}, mx, true, 0},
      {"3 1 1 mismatch", Chain({&ee}), {bad256}, mx, false},
      {"3 1 1 of another cert in chain is not EE",
       Chain({&leaf, &inter}),
       {inter.Tlsa(3, 1, 1)},
       mx,
       false},
      {"2 1 1 root in chain", Chain({&leaf, &inter, &root}), {root.Tlsa(2, 1, 1)}, mx, true, 2},
      {"2 0 1 intermediate", Chain({&leaf, &inter}), {inter.Tlsa(2, 0, 1)}, mx, true, 1},
      {"2 1 1 wrong name", Chain({&wrong_name, &inter, &root}), {root.Tlsa(2, 1, 1)}, mx, false},
      {"2 1 1 second reference name",
       Chain({&wrong_name, &inter}),
       {inter.Tlsa(2, 1, 1)},
       {"base.example", "www.example"},
       true,
       1},
      {"2 1 1 wildcard leftmost label",
       Chain({&wildcard, &inter}),
       {inter.Tlsa(2, 1, 1)},
       {"mx.example.com"},
       true,
       1},
      {"2 1 1 wildcard covers one label only",
       Chain({&wildcard, &inter}),
       {inter.Tlsa(2, 1, 1)},
       {"a.mx.example.com"},
       false},
      {"2 1 1 partial wildcard refused",
       Chain({&partial, &inter}),
       {inter.Tlsa(2, 1, 1)},
       {"mx.example.com"},
       false},
      {"2 1 1 CN when no SAN", Chain({&cn_only, &inter}), {inter.Tlsa(2, 1, 1)}, mx, true, 1},
      {"2 1 1 CN ignored when SAN present",
       Chain({&cn_but_san, &inter}),
       {inter.Tlsa(2, 1, 1)},
       mx,
       false},
      {"2 1 1 TA digest not sent", Chain({&leaf, &inter}), {root.Tlsa(2, 1, 1)}, mx, false},
      // A bare TA key is reported at the depth of the certificate it signed.
      {"2 1 0 TA key not sent", Chain({&leaf, &inter}), {root.Tlsa(2, 1, 0)}, mx, true, 1},
      {"2 1 1 expired leaf", Chain({&expired_ta_leaf, &inter}), {inter.Tlsa(2, 1, 1)}, mx, false},
      {"digest agility: weak matches, strong does not",
       Chain({&ee}),
       {ee.Tlsa(3, 1, 1), bad512},
       mx,
       false},
      {"digest agility: strong matches, weak does not",
       Chain({&ee}),
       {bad256, ee.Tlsa(3, 1, 2)},
       mx,
       true,
       0},
      {"digest agility per selector", Chain({&ee}), {ee.Tlsa(3, 0, 1), bad512}, mx, true, 0},
      {"only PKIX records", Chain({&ee}), {ee.Tlsa(1, 1, 1), ee.Tlsa(0, 1, 1)}, mx, false},
      {"no records", Chain({&ee}), {}, mx, false},
  };
  for (const Row& row : rows) {
    absl::StatusOr<MatchResult> got = matcher_->Match(row.chain, row.records, row.names);
    ASSERT_TRUE(got.ok()) << row.name << ": " << got.status();
    EXPECT_EQ(got->matched, row.want_match) << row.name << ": " << got->detail;
    if (row.want_match) {
      ASSERT_TRUE(got->record.has_value()) << row.name;
      EXPECT_EQ(got->depth, row.want_depth) << row.name;
    } else {
      EXPECT_FALSE(got->detail.empty()) << row.name;
    }
  }
}

TEST_F(DaneMatcherTest, ReportsTheRecordThatMatched) {
  const TestCert ee = Issue({"ee"});
  const TlsaRecord want = ee.Tlsa(3, 1, 1);
  absl::StatusOr<MatchResult> got = matcher_->Match(
      Chain({&ee}), {TlsaRecord{3, 1, 1, std::string(32, 'z')}, want}, {"a.example"});
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->matched);
  EXPECT_EQ(*got->record, want);
}

// The matcher keeps the certificates it parsed, within its own bound: two
// matchers share nothing.
TEST(DaneMatcherCacheTest, EachMatcherOwnsItsBoundedCache) {
  const TestCert ee = Issue({"ee"});
  auto small = *DaneMatcher::Create({.certificate_cache_bytes = 1 << 20});
  auto none = *DaneMatcher::Create({.certificate_cache_bytes = 0});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(small->Match(Chain({&ee}), {ee.Tlsa(3, 1, 1)}, {"a.example"})->matched);
    ASSERT_TRUE(none->Match(Chain({&ee}), {ee.Tlsa(3, 1, 1)}, {"a.example"})->matched);
  }
  EXPECT_EQ(small->CertificateCacheStats().entries, 1u);
  EXPECT_EQ(small->CertificateCacheStats().max_bytes, 1u << 20);
  EXPECT_EQ(none->CertificateCacheStats().entries, 0u);
}

TEST_F(DaneMatcherTest, RejectsBadChainsAndArguments) {
  const TestCert ee = Issue({"ee"});
  EXPECT_TRUE(
      absl::IsInvalidArgument(matcher_->Match({}, {ee.Tlsa(3, 1, 1)}, {"a.example"}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      matcher_->Match({"not der"}, {ee.Tlsa(3, 1, 1)}, {"a.example"}).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(matcher_->Match(Chain({&ee}), {ee.Tlsa(3, 1, 1)}, {}).status()));
}

TEST_F(DaneMatcherTest, ExactRecordThatIsNotAKeyIsUnusable) {
  const TestCert ee = Issue({"ee"});
  // A well-formed DER SEQUENCE that is no SubjectPublicKeyInfo.
  const TlsaRecord junk{3, 1, 0, std::string("\x30\x03\x02\x01\x00", 5)};
  absl::StatusOr<MatchResult> got = matcher_->Match(Chain({&ee}), {junk}, {"a.example"});
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->matched);
  EXPECT_THAT(got->detail, HasSubstr("no usable"));
}

// Classify (pure, what the policy counts) and OpenSSL (what matching uses)
// must agree on which Full(0) records are usable: a record the policy counts
// and OpenSSL drops would defer a host's mail forever as a mismatch.
TEST_F(DaneMatcherTest, ClassifyAgreesWithOpenSslOnExactRecords) {
  const TestCert ee = Issue({"ee", {"a.example"}});
  const std::string cert = ee.der(), spki = ee.spki_der();
  const TlsaRecord rows[] = {
      {3, 0, 0, cert},
      {3, 1, 0, spki},
      {2, 0, 0, cert},
      {3, 1, 0, std::string("\x30\x03\x02\x01\x00", 5)},  // a SEQUENCE, no SPKI
      {3, 0, 0, spki},                                    // an SPKI, no certificate
      {3, 1, 0, cert},                                    // a certificate, no SPKI
      {3, 1, 0, spki.substr(0, spki.size() - 1)},         // truncated
      {3, 0, 0, cert + std::string(1, '\0')},             // trailing octet
  };
  for (const TlsaRecord& record : rows) {
    const bool classified = Classify(record).usable;
    absl::StatusOr<MatchResult> got = matcher_->Match(Chain({&ee}), {record}, {"a.example"});
    ASSERT_TRUE(got.ok()) << got.status();
    const bool openssl_uses = got->detail.find("no usable") == std::string::npos;
    EXPECT_EQ(classified, openssl_uses) << TlsaText(record) << ": " << got->detail;
    // Each usable DANE-EE row names this very certificate: it must match.
    if (classified && record.usage == kDaneEe) {
      EXPECT_TRUE(got->matched) << TlsaText(record);
    }
  }
}

}  // namespace
}  // namespace danegate::tlsa
