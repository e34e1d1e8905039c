#include "plugin/postfix/lookup.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"

namespace danegate::postfix {
namespace {

using ::testing::HasSubstr;
using Status = MapReply::Status;

v1::ResolvePolicyResponse Answer(v1::Action action, v1::Reason reason, v1::TlsMode tls,
                                 std::vector<v1::TlsaRecord> tlsa = {}) {
  v1::ResolvePolicyResponse a;
  a.set_action(action);
  a.set_reason(reason);
  a.set_detail("detail");
  v1::MxHost* host = a.add_mx();
  host->set_host("mx.example.com");
  host->set_tlsa_base_domain("mx.example.com");
  host->set_tls(tls);
  for (v1::TlsaRecord& r : tlsa) *host->add_tlsa() = std::move(r);
  return a;
}

v1::TlsaRecord Tlsa(uint32_t u, uint32_t s, uint32_t m, std::string data) {
  v1::TlsaRecord r;
  r.set_usage(u);
  r.set_selector(s);
  r.set_matching_type(m);
  r.set_data(std::move(data));
  return r;
}

class LookupTest : public ::testing::Test {
 protected:
  LookupTest()
      : lookup_(
            [this](const std::string& domain) -> absl::StatusOr<v1::ResolvePolicyResponse> {
              asked_.push_back(domain);
              auto it = answers_.find(domain);
              if (it == answers_.end()) return absl::UnavailableError("connection refused");
              return it->second;
            },
            [this](absl::string_view pem) -> absl::StatusOr<std::string> {
              if (!store_ok_) return absl::UnavailableError("disk full");
              stored_ = std::string(pem);
              return std::string("/ta/one.pem");
            },
            [this](const std::string& host,
                   const std::string& sni) -> absl::StatusOr<tlsa::DerChain> {
              fetched_.push_back(host + " " + sni);
              auto it = chains_.find(host);
              if (it == chains_.end()) return absl::UnavailableError(host + ": connect: refused");
              return it->second;
            },
            {"local.example"}, [this] { return now_; }) {
    answers_["dane.example"] = Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED,
                                      v1::TLS_MODE_DANE, {Tlsa(3, 1, 1, std::string(32, 'x'))});
    answers_["ta.example"] = Answer(
        v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED, v1::TLS_MODE_DANE,
        {Tlsa(
            2, 0, 0,
            std::string("\x30\x0e\x30\x03\x02\x01\x01\x30\x03\x06\x01\x2a\x03\x02\x00\x01", 16))});
    answers_["plain.example"] =
        Answer(v1::ACTION_DELIVER, v1::REASON_INSECURE_NO_DANE, v1::TLS_MODE_OPPORTUNISTIC);
    answers_["bogus.example"] =
        Answer(v1::ACTION_DEFER, v1::REASON_DNSSEC_BOGUS, v1::TLS_MODE_UNREACHABLE);
    answers_["nullmx.example"] =
        Answer(v1::ACTION_REJECT, v1::REASON_NULL_MX, v1::TLS_MODE_UNREACHABLE);
  }

  std::map<std::string, absl::StatusOr<v1::ResolvePolicyResponse>> answers_;
  std::vector<std::string> asked_;
  std::string stored_;
  bool store_ok_ = true;
  std::map<std::string, tlsa::DerChain> chains_;  // by MX host
  std::vector<std::string> fetched_;              // "host sni"
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  Lookup lookup_;
};

TEST_F(LookupTest, AnswersTable) {
  answers_["slow.example"] = absl::DeadlineExceededError("Deadline Exceeded");
  answers_["refused.example"] = absl::InvalidArgumentError("domain: bad");
  struct Row {
    std::string request;
    Status status;
    std::string payload;  // substring of the reply payload
    std::string reason;
  };
  const Row rows[] = {
      {"tls_policy dane.example", Status::kOk,
       "OK fingerprint match=7878787878787878787878787878787878787878787878787878787878787878",
       "dane_required"},
      {"tls_policy TA.Example", Status::kOk, "OK secure tafile=/ta/one.pem match=mx.example.com",
       "dane_required"},
      {"tls_policy plain.example", Status::kOk, "OK may", "insecure_no_dane"},
      {"tls_policy bogus.example", Status::kTemp, "TEMP dnssec_bogus: detail", "dnssec_bogus"},
      {"tls_policy nullmx.example", Status::kTemp, "TEMP null_mx: detail", "null_mx"},
      {"tls_policy down.example", Status::kTemp,
       "TEMP validator_unavailable: UNAVAILABLE: connection refused", "validator_unavailable"},
      {"tls_policy slow.example", Status::kTemp, "validator_unavailable: DEADLINE_EXCEEDED",
       "validator_unavailable"},
      {"tls_policy refused.example", Status::kPerm, "PERM invalid_argument: domain: bad",
       "invalid_argument"},
      {"tls_policy [192.0.2.1]:25", Status::kPerm,
       "PERM invalid_argument: danegate answers for mail", "invalid_argument"},
      {"transport nullmx.example", Status::kOk, "OK error:5.1.10 danegate: null_mx: detail",
       "null_mx"},
      {"transport dane.example", Status::kNotFound, "NOTFOUND ", ""},
      {"transport bogus.example", Status::kNotFound, "NOTFOUND ", ""},
      {"transport down.example", Status::kTemp, "TEMP validator_unavailable", ""},
      {"transport user@nullmx.example", Status::kOk, "OK error:5.1.10 danegate: null_mx",
       "null_mx"},
      {"transport *", Status::kNotFound, "NOTFOUND ", ""},
      {"transport .example", Status::kNotFound, "NOTFOUND ", ""},
      {"nospace", Status::kPerm, "PERM invalid_argument: malformed request", "invalid_argument"},
      {"", Status::kPerm, "PERM invalid_argument: malformed request", "invalid_argument"},
      {"other dane.example", Status::kPerm, "PERM invalid_argument: unknown map 'other'",
       "invalid_argument"},
      {std::string("tls_policy dane\0.example", 24), Status::kPerm, "PERM invalid_argument: key",
       "invalid_argument"},
  };
  for (const Row& row : rows) {
    MapReply reply = lookup_.Answer(row.request);
    EXPECT_EQ(reply.status, row.status) << row.request;
    EXPECT_THAT(reply.Payload(), HasSubstr(row.payload)) << row.request;
    if (!row.reason.empty()) {
      EXPECT_EQ(reply.reason, row.reason) << row.request;
    }
  }
  EXPECT_EQ(stored_,
            "-----BEGIN CERTIFICATE-----\nMA4wAwIBATADBgEqAwIAAQ==\n-----END CERTIFICATE-----\n");
}

TEST_F(LookupTest, OnlyMailDomainsAreAsked) {
  lookup_.Answer("transport *");
  lookup_.Answer("transport .dane.example");
  lookup_.Answer("transport user@[192.0.2.1]");
  lookup_.Answer("tls_policy [mx.dane.example]:25");
  EXPECT_TRUE(asked_.empty());
  lookup_.Answer("transport Dane.Example.");
  lookup_.Answer("transport user@Dane.Example");
  EXPECT_EQ(asked_, (std::vector<std::string>{"dane.example", "dane.example"}));
}

TEST_F(LookupTest, LocalDomainsAreLeftToPostfixsRouting) {
  MapReply reply = lookup_.Answer("transport user@Local.Example");
  EXPECT_EQ(reply.status, Status::kNotFound);
  EXPECT_TRUE(asked_.empty()) << "danegated is not asked for a local domain";
  reply = lookup_.Answer("transport user@nullmx.example");
  EXPECT_EQ(reply.status, Status::kOk) << "other domains still are";
}

TEST_F(LookupTest, UnwritableTrustAnchorIsTemp) {
  store_ok_ = false;
  MapReply reply = lookup_.Answer("tls_policy ta.example");
  EXPECT_EQ(reply.status, Status::kTemp);
  EXPECT_THAT(reply.Payload(), HasSubstr("trust_anchor_file: disk full"));
}

// A host with only digest DANE-TA records: the trust anchor is taken from
// the chain the host presents, once, and the policy is "secure".
TEST_F(LookupTest, DigestTrustAnchorsComeFromTheHostsChain) {
  const testing::TestCert root = testing::Issue({"Root CA", {}, true});
  const testing::TestCert inter = testing::Issue({"Intermediate CA", {}, true}, &root);
  const testing::TestCert leaf = testing::Issue({"leaf", {"mx.example.com"}}, &inter);
  const testing::TestCert other = testing::Issue({"Other CA", {}, true});
  auto record = [](const tlsa::TlsaRecord& r) {
    return Tlsa(r.usage, r.selector, r.matching_type, r.data);
  };
  answers_["digest.example"] = Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED,
                                      v1::TLS_MODE_DANE, {record(inter.Tlsa(2, 1, 1))});
  answers_["elsewhere.example"] = Answer(v1::ACTION_DELIVER, v1::REASON_DANE_REQUIRED,
                                         v1::TLS_MODE_DANE, {record(other.Tlsa(2, 0, 1))});
  chains_["mx.example.com"] = testing::Chain({&leaf, &inter});

  MapReply reply = lookup_.Answer("tls_policy digest.example");
  EXPECT_EQ(reply.Payload(), "OK secure tafile=/ta/one.pem match=mx.example.com");
  EXPECT_THAT(stored_, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  EXPECT_EQ(fetched_, std::vector<std::string>{"mx.example.com mx.example.com"});
  stored_.clear();
  EXPECT_EQ(lookup_.Answer("tls_policy digest.example").Payload(), reply.Payload());
  EXPECT_THAT(stored_, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  EXPECT_EQ(fetched_.size(), 1u) << "the anchor is remembered";

  // The same record at another host that does not send the anchor: what
  // mx.example.com sent does not count there (RFC 7671 §5.2.2).
  v1::ResolvePolicyResponse second = answers_["digest.example"].value();
  second.mutable_mx(0)->set_host("mx2.example.com");
  answers_["second.example"] = second;
  chains_["mx2.example.com"] = testing::Chain({&leaf});
  reply = lookup_.Answer("tls_policy second.example");
  EXPECT_EQ(reply.status, Status::kTemp);
  EXPECT_THAT(reply.Payload(), HasSubstr("trust anchors not found: mx2.example.com"));
  EXPECT_EQ(fetched_.size(), 2u);

  reply = lookup_.Answer("tls_policy elsewhere.example");  // not in the chain
  EXPECT_EQ(reply.status, Status::kTemp);
  EXPECT_EQ(reply.reason, "tlsa_not_expressible");
  EXPECT_THAT(reply.Payload(), HasSubstr("trust anchors not found: mx.example.com: no certificate "
                                         "of the 2-certificate chain matches 2 0 1"));

  // An anchor the host did not send is remembered too: no new connection.
  reply = lookup_.Answer("tls_policy elsewhere.example");
  EXPECT_THAT(reply.Payload(), HasSubstr("no certificate of the 2-certificate chain"));
  EXPECT_EQ(fetched_.size(), 3u) << "the absent anchor is remembered";

  now_ += Lookup::kFailureLifetime;  // forgotten: the host is asked again
  chains_.clear();                   // and cannot be reached
  reply = lookup_.Answer("tls_policy elsewhere.example");
  EXPECT_EQ(reply.status, Status::kTemp);
  EXPECT_THAT(reply.Payload(),
              HasSubstr("trust anchors not found: mx.example.com: connect: refused"));
  EXPECT_EQ(fetched_.size(), 4u);
  reply = lookup_.Answer("tls_policy elsewhere.example");
  EXPECT_THAT(reply.Payload(), HasSubstr("mx.example.com: connect: refused"));
  EXPECT_EQ(fetched_.size(), 4u) << "the failed fetch is remembered";
  now_ += Lookup::kFailureLifetime;
  lookup_.Answer("tls_policy elsewhere.example");
  EXPECT_EQ(fetched_.size(), 5u) << "and forgotten after kFailureLifetime";
}

TEST_F(LookupTest, FailureTextStartsWithTheReasonAndFitsPostfixsLog) {
  answers_["long.example"] =
      Answer(v1::ACTION_DEFER, v1::REASON_DNS_FAILURE, v1::TLS_MODE_UNREACHABLE);
  answers_["long.example"]->set_detail(std::string(500, 'x') + "\nsecond line");
  MapReply reply = lookup_.Answer("tls_policy long.example");
  EXPECT_EQ(reply.Payload().rfind("TEMP dns_failure: xxx", 0), 0u) << reply.Payload();
  EXPECT_EQ(reply.data.size(), MapReply::kMaxFailureText);
}

}  // namespace
}  // namespace danegate::postfix
