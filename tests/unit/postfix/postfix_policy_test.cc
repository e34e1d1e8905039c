#include "plugin/postfix/postfix_policy.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/tlsa/association.h"

namespace danegate::postfix {
namespace {

using ::testing::HasSubstr;

const std::string kD1(32, '\x11'), kD2(32, '\x22'), kD3(32, '\x33');
const std::string kD512(64, '\x44');
// The smallest DER a TLSA Full(0) record may hold: a Certificate (tbs,
// algorithm, signature) and a SubjectPublicKeyInfo (algorithm, key).
const std::string kTaCert("\x30\x0e\x30\x03\x02\x01\x01\x30\x03\x06\x01\x2a\x03\x02\x00\x01", 16);
const std::string kTaKey("\x30\x09\x30\x03\x06\x01\x2a\x03\x02\x00\x02", 11);

v1::TlsaRecord Tlsa(uint32_t u, uint32_t s, uint32_t m, const std::string& data) {
  v1::TlsaRecord r;
  r.set_usage(u);
  r.set_selector(s);
  r.set_matching_type(m);
  r.set_data(data);
  return r;
}

v1::MxHost Host(const std::string& name, v1::TlsMode tls, std::vector<v1::TlsaRecord> tlsa = {},
                const std::string& canonical = "") {
  v1::MxHost h;
  h.set_host(name);
  h.set_tls(tls);
  h.set_tlsa_base_domain(canonical.empty() ? name : canonical);
  h.set_canonical_name(canonical);
  for (v1::TlsaRecord& r : tlsa) *h.add_tlsa() = std::move(r);
  return h;
}

v1::ResolvePolicyResponse Answer(v1::Action action, v1::Reason reason,
                                 std::vector<v1::MxHost> hosts = {}) {
  v1::ResolvePolicyResponse a;
  a.set_domain("example.com");
  a.set_action(action);
  a.set_reason(reason);
  a.set_detail("some detail");
  for (v1::MxHost& h : hosts) *a.add_mx() = std::move(h);
  return a;
}

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }
std::string Sha256(const std::string& bytes) { return *tlsa::MatchingData(bytes, tlsa::kSha256); }

// The translation table of postfix_policy.h, row by row.
TEST(TlsPolicyForTest, Table) {
  using v1::TLS_MODE_DANE, v1::TLS_MODE_MANDATORY, v1::TLS_MODE_OPPORTUNISTIC,
      v1::TLS_MODE_UNREACHABLE;
  const auto deliver = [](std::vector<v1::MxHost> hosts) {
    return Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED, std::move(hosts));
  };
  struct Row {
    std::string name;
    v1::ResolvePolicyResponse answer;
    std::string want_text;    // empty: no policy is wanted
    std::string want_reason;  // then: its reason code
    std::string want_detail;  // and a substring of its detail
  };
  const std::vector<Row> rows = {
      {"defer", Answer(v1::ACTION_DEFER, v1::REASON_DNSSEC_BOGUS), "", "dnssec_bogus",
       "some detail"},
      {"reject", Answer(v1::ACTION_REJECT, v1::REASON_NULL_MX), "", "null_mx",
       "some detail (rejected: bounced by the danegate transport table)"},
      {"unspecified action", Answer(v1::ACTION_UNSPECIFIED, v1::REASON_UNSPECIFIED), "",
       "unspecified"},
      {"no DANE", deliver({Host("mx1", TLS_MODE_OPPORTUNISTIC)}), "may"},
      {"mandatory beats opportunistic",
       deliver({Host("mx1", TLS_MODE_OPPORTUNISTIC), Host("mx2", TLS_MODE_MANDATORY)}), "encrypt"},
      {"3 1 1", deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1)})}),
       "fingerprint match=" + Hex(kD1)},
      {"union of hosts, duplicates once",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1), Tlsa(3, 0, 1, kD2)}),
                Host("mx2", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1), Tlsa(3, 1, 1, kD3)})}),
       "fingerprint match=" + Hex(kD1) + "|" + Hex(kD2) + "|" + Hex(kD3)},
      {"dane beats opportunistic and unreachable hosts",
       deliver({Host("mx0", TLS_MODE_UNREACHABLE), Host("mx1", TLS_MODE_OPPORTUNISTIC),
                Host("mx2", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1)})}),
       "fingerprint match=" + Hex(kD1)},
      {"unusable records are left out",
       deliver({Host("mx1", TLS_MODE_DANE,
                     {Tlsa(1, 1, 1, kD2), Tlsa(3, 1, 1, "short"), Tlsa(3, 1, 1, kD1),
                      Tlsa(3, 1, 7, kD3), Tlsa(300, 1, 1, kD3)})}),
       "fingerprint match=" + Hex(kD1)},
      {"RFC 7671 §9: SHA-512 present, SHA-256 of that selector does not count",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1), Tlsa(3, 1, 2, kD512)})}), "",
       "tlsa_not_expressible"},
      {"SHA-512 of one selector, SHA-256 of the other still counts",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 1, 2, kD512), Tlsa(3, 0, 1, kD2)})}),
       "fingerprint match=" + Hex(kD2)},
      {"full DANE-EE: the SHA-256 of its data, as Postfix computes it",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 0, 0, kTaCert), Tlsa(3, 1, 0, kTaKey)})}),
       "fingerprint match=" + Hex(Sha256(kTaCert)) + "|" + Hex(Sha256(kTaKey))},
      {"full DANE-EE still counts beside a stronger digest",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(3, 1, 0, kTaKey), Tlsa(3, 1, 2, kD512)})}),
       "fingerprint match=" + Hex(Sha256(kTaKey))},
      {"digest-only DANE-TA cannot be expressed",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(2, 1, 1, kD1)})}), "", "tlsa_not_expressible"},
      {"full DANE-TA: hosts with the same anchors share the policy",
       deliver(
           {Host("mx1.example.net", TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert)}, "real.example.net"),
            Host("mx2.example.net", TLS_MODE_DANE,
                 {Tlsa(2, 0, 0, kTaCert), Tlsa(2, 0, 0, kTaCert)})}),
       "secure tafile=/ta.pem match=real.example.net:mx1.example.net:mx2.example.net:example.com"},
      {"full DANE-TA: another host's different anchors are not merged in",
       deliver(
           {Host("mx1.example.net", TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert)}),
            Host("mx2.example.net", TLS_MODE_DANE, {Tlsa(2, 1, 0, kTaKey), Tlsa(2, 0, 0, kTaCert)}),
            Host("mx3.example.net", TLS_MODE_DANE, {Tlsa(2, 1, 0, kTaKey)})}),
       "secure tafile=/ta.pem match=mx1.example.net:example.com"},
      {"the first expressible host sets the kind: EE",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(2, 1, 1, kD2)}),
                Host("mx2", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1)}),
                Host("mx3", TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert)})}),
       "fingerprint match=" + Hex(kD1)},
      {"the first expressible host sets the kind: TA",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert)}),
                Host("mx2", TLS_MODE_DANE, {Tlsa(3, 1, 1, kD1)})}),
       "secure tafile=/ta.pem match=mx1:example.com"},
      {"a host with EE and TA records counts as EE",
       deliver({Host("mx1", TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert), Tlsa(3, 1, 1, kD1)})}),
       "fingerprint match=" + Hex(kD1)},
  };
  for (const Row& row : rows) {
    std::variant<TlsPolicy, NoPolicy> got = TlsPolicyFor(row.answer);
    if (row.want_text.empty()) {
      const NoPolicy* none = std::get_if<NoPolicy>(&got);
      ASSERT_NE(none, nullptr) << row.name;
      EXPECT_EQ(none->reason, row.want_reason) << row.name;
      EXPECT_THAT(none->detail, HasSubstr(row.want_detail)) << row.name;
    } else {
      const TlsPolicy* policy = std::get_if<TlsPolicy>(&got);
      ASSERT_NE(policy, nullptr) << row.name << ": " << std::get<NoPolicy>(got).reason;
      EXPECT_EQ(TlsPolicyText(*policy, "/ta.pem"), row.want_text) << row.name;
    }
  }
}

TEST(TlsPolicyForTest, TrustAnchorsArePemOfTheRecords) {
  v1::ResolvePolicyResponse answer =
      Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED,
             {Host("mx1", v1::TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert), Tlsa(2, 1, 0, kTaKey)}),
              Host("mx2", v1::TLS_MODE_DANE, {Tlsa(2, 0, 0, kTaCert)})});
  std::variant<TlsPolicy, NoPolicy> got = TlsPolicyFor(answer);
  ASSERT_TRUE(std::holds_alternative<TlsPolicy>(got));
  EXPECT_EQ(std::get<TlsPolicy>(got).trust_anchors_pem,
            "-----BEGIN CERTIFICATE-----\nMA4wAwIBATADBgEqAwIAAQ==\n-----END CERTIFICATE-----\n"
            "-----BEGIN PUBLIC KEY-----\nMAkwAwYBKgMCAAI=\n-----END PUBLIC KEY-----\n");
}

TEST(PemTest, WrapsAt64Columns) {
  const std::string pem = Pem("CERTIFICATE", std::string(100, '\0'));
  EXPECT_EQ(pem, "-----BEGIN CERTIFICATE-----\n" + std::string(64, 'A') + "\n" +
                     std::string(64, 'A') + "\nAAAAAA==\n-----END CERTIFICATE-----\n");
}

TEST(TransportForTest, OnlyRejectsBecomeEntries) {
  EXPECT_EQ(TransportFor(Answer(v1::ACTION_REJECT, v1::REASON_NULL_MX)),
            "error:5.1.10 danegate: null_mx: some detail");
  EXPECT_EQ(TransportFor(Answer(v1::ACTION_REJECT, v1::REASON_DOMAIN_NOT_FOUND)),
            "error:5.1.2 danegate: domain_not_found: some detail");
  v1::ResolvePolicyResponse multiline = Answer(v1::ACTION_REJECT, v1::REASON_NULL_MX);
  multiline.set_detail("a\nb\r");
  EXPECT_EQ(TransportFor(multiline), "error:5.1.10 danegate: null_mx: a b ");
  EXPECT_EQ(TransportFor(Answer(v1::ACTION_DEFER, v1::REASON_DNS_FAILURE)), std::nullopt);
  EXPECT_EQ(TransportFor(Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED)), std::nullopt);
}

TEST(KeyTest, Table) {
  struct Row {
    std::string key;
    KeyUse policy, transport;
    std::string domain;
  };
  const Row rows[] = {
      {"Example.COM", KeyUse::kAsk, KeyUse::kAsk, "example.com"},
      {"user@Example.com", KeyUse::kPerm, KeyUse::kAsk, "example.com"},
      {"a@b@example.com", KeyUse::kPerm, KeyUse::kAsk, "example.com"},
      {"user@[192.0.2.1]", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"user@", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {".example.com", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"[192.0.2.1]:25", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"[mx.example.com]", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"mx.example.com:587", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"*", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {"localhost", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {std::string(300, 'a') + ".com", KeyUse::kPerm, KeyUse::kNotFound, ""},
      {std::string("exa\0mple.com", 12), KeyUse::kPerm, KeyUse::kNotFound, ""},
  };
  for (const Row& row : rows) {
    ParsedKey policy = ParsePolicyKey(row.key);
    ParsedKey transport = ParseTransportKey(row.key);
    EXPECT_EQ(policy.use, row.policy) << row.key;
    EXPECT_EQ(transport.use, row.transport) << row.key;
    if (row.transport == KeyUse::kAsk) {
      EXPECT_EQ(transport.domain, row.domain) << row.key;
    }
    if (row.policy == KeyUse::kAsk) {
      EXPECT_EQ(policy.domain, row.domain) << row.key;
    } else {
      EXPECT_FALSE(policy.error.empty()) << row.key;
    }
  }
}

}  // namespace
}  // namespace danegate::postfix
