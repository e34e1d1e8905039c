#include "plugin/agent/exim_lookup.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace danegate::agent {
namespace {

v1::MxHost Host(const std::string& name, v1::TlsMode tls, const std::string& canonical = "",
                const std::string& base = "") {
  v1::MxHost mx;
  mx.set_host(name);
  mx.set_canonical_name(canonical.empty() ? name : canonical);
  mx.set_tls(tls);
  mx.set_tlsa_base_domain(base);
  return mx;
}

v1::ResolvePolicyResponse Policy(v1::Action action, std::vector<v1::MxHost> hosts,
                                 v1::Reason reason = v1::REASON_DANE_REQUIRED,
                                 const std::string& detail = "") {
  v1::ResolvePolicyResponse answer;
  answer.set_domain("example.org");
  answer.set_action(action);
  answer.set_reason(reason);
  answer.set_detail(detail);
  for (v1::MxHost& mx : hosts) *answer.add_mx() = std::move(mx);
  return answer;
}

TEST(EximPolicyValueTest, Table) {
  struct Row {
    const char* name;
    v1::ResolvePolicyResponse answer;
    std::string want;
  };
  const std::vector<Row> rows = {
      {"one dane host: TLS required everywhere, SNI the base domain",
       Policy(v1::ACTION_DELIVER,
              {Host("mx1.example.org", v1::TLS_MODE_DANE, "", "mx1.example.org")}),
       "||mx1.example.org=mx1.example.org"},
      {"opportunistic hosts are exempt under both names",
       Policy(v1::ACTION_DELIVER,
              {Host("mx1.example.org", v1::TLS_MODE_DANE, "", "mx1.example.org"),
               Host("mx2.example.org", v1::TLS_MODE_OPPORTUNISTIC, "real.example.net")}),
       "|mx2.example.org:real.example.net|mx1.example.org=mx1.example.org"},
      {"a name that is also a dane host is never exempt",
       Policy(
           v1::ACTION_DELIVER,
           {Host("mx1.example.org", v1::TLS_MODE_DANE, "shared.example.net", "shared.example.net"),
            Host("mx2.example.org", v1::TLS_MODE_OPPORTUNISTIC, "shared.example.net")}),
       "|mx2.example.org|mx1.example.org=shared.example.net shared.example.net=shared.example.net"},
      {"a name that is also an unreachable host is never exempt",
       Policy(v1::ACTION_DELIVER, {Host("mx1.example.org", v1::TLS_MODE_UNREACHABLE),
                                   Host("mx1.example.org", v1::TLS_MODE_OPPORTUNISTIC)}),
       "||"},
      {"mandatory hosts get SNI and no exemption",
       Policy(v1::ACTION_DELIVER, {Host("mx.example.org", v1::TLS_MODE_MANDATORY, "", "")}),
       "||mx.example.org=mx.example.org"},
      {"names that could break an Exim list are left out",
       Policy(v1::ACTION_DELIVER,
              {Host("a:b", v1::TLS_MODE_OPPORTUNISTIC), Host("c d", v1::TLS_MODE_DANE, "", "c d")}),
       "||"},
      {"defer: route defers, nothing exempt, '|' in the detail cannot split the fields",
       Policy(v1::ACTION_DEFER, {Host("mx.example.org", v1::TLS_MODE_OPPORTUNISTIC)},
              v1::REASON_DNSSEC_BOGUS, "bad|sig\nnext"),
       ":defer: danegate defer (dnssec_bogus): bad/sig next||"},
      {"reject: route fails with the reason",
       Policy(v1::ACTION_REJECT, {}, v1::REASON_NULL_MX, "null MX"),
       ":fail: danegate reject (null_mx): null MX||"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(EximPolicyValue(row.answer), row.want) << row.name;
  }
}

TEST(EximVerifyValueTest, DeliverNamesTheRecordAndDenyTheReason) {
  v1::VerifyPeerResponse ok;
  ok.set_action(v1::ACTION_DELIVER);
  ok.set_authenticated(true);
  ok.set_reason(v1::REASON_DANE_AUTHENTICATED);
  ok.mutable_matched_tlsa()->set_usage(3);
  ok.mutable_matched_tlsa()->set_selector(1);
  ok.mutable_matched_tlsa()->set_matching_type(1);
  ok.mutable_matched_tlsa()->set_data(std::string("\xab\xcd", 2));
  EXPECT_EQ(EximVerifyValue(ok), "deliver dane_authenticated TLSA 3 1 1 abcd");

  v1::VerifyPeerResponse opportunistic;
  opportunistic.set_action(v1::ACTION_DELIVER);
  opportunistic.set_reason(v1::REASON_INSECURE_NO_DANE);
  EXPECT_EQ(EximVerifyValue(opportunistic), "deliver insecure_no_dane");

  v1::VerifyPeerResponse mismatch;
  mismatch.set_action(v1::ACTION_DEFER);
  mismatch.set_reason(v1::REASON_DANE_MISMATCH);
  mismatch.set_detail("no match");
  EXPECT_EQ(EximVerifyValue(mismatch), "deny danegate defer (dane_mismatch): no match");
}

class EximLookupTest : public ::testing::Test {
 protected:
  EximLookup lookup_{
      [this](const v1::ResolvePolicyRequest& request) -> absl::StatusOr<v1::ResolvePolicyResponse> {
        policy_asked_ = request;
        if (!policy_status_.ok()) return policy_status_;
        return Policy(v1::ACTION_DELIVER, {Host("mx.example.org", v1::TLS_MODE_DANE)});
      },
      [this](const v1::VerifyPeerRequest& request) -> absl::StatusOr<v1::VerifyPeerResponse> {
        verify_asked_ = request;
        v1::VerifyPeerResponse answer;
        answer.set_action(v1::ACTION_DELIVER);
        answer.set_reason(v1::REASON_INSECURE_NO_DANE);
        return answer;
      }};
  absl::Status policy_status_;
  v1::ResolvePolicyRequest policy_asked_;
  v1::VerifyPeerRequest verify_asked_;
};

TEST_F(EximLookupTest, PolicyAsksForTheDomainAndPort) {
  MapReply reply = lookup_.Answer(kEximPolicyMap, "example.org 587");
  EXPECT_EQ(reply.status, MapReply::Status::kOk);
  EXPECT_EQ(reply.data, "||mx.example.org=mx.example.org");
  EXPECT_EQ(policy_asked_.domain(), "example.org");
  EXPECT_EQ(policy_asked_.port(), 587u);
}

TEST_F(EximLookupTest, VerifyDecodesTheChainLeafFirst) {
  const std::string key = absl::StrCat("example.org mx.example.org 25 ", absl::Base64Escape("leaf"),
                                       " ", absl::Base64Escape("issuer"));
  MapReply reply = lookup_.Answer(kEximVerifyMap, key);
  EXPECT_EQ(reply.status, MapReply::Status::kOk);
  EXPECT_EQ(reply.data, "deliver insecure_no_dane");
  ASSERT_EQ(verify_asked_.chain_size(), 2);
  EXPECT_EQ(verify_asked_.chain(0), "leaf");
  EXPECT_EQ(verify_asked_.chain(1), "issuer");
  EXPECT_EQ(verify_asked_.mx_host(), "mx.example.org");
  EXPECT_EQ(verify_asked_.port(), 25u);
}

TEST_F(EximLookupTest, ValidatorFailureIsTempWithTheReasonFirst) {
  policy_status_ = absl::UnavailableError("connection refused");
  MapReply reply = lookup_.Answer(kEximPolicyMap, "example.org 25");
  EXPECT_EQ(reply.status, MapReply::Status::kTemp);
  EXPECT_EQ(reply.data, "validator_unavailable: UNAVAILABLE: connection refused");
  policy_status_ = absl::InvalidArgumentError("domain: bad");
  reply = lookup_.Answer(kEximPolicyMap, "example.org 25");
  EXPECT_EQ(reply.status, MapReply::Status::kPerm);
  EXPECT_EQ(reply.reason, "invalid_argument");
}

TEST_F(EximLookupTest, MalformedKeysArePerm) {
  const std::string too_long(kMaxEximCertificate / 3 * 4 + 8, 'A');
  std::string seventeen = "example.org mx.example.org 25";
  for (int i = 0; i < 17; ++i) seventeen += " QUFB";
  struct Row {
    absl::string_view map;
    std::string key;
  };
  const std::vector<Row> rows = {
      {kEximPolicyMap, "example.org"},
      {kEximPolicyMap, "example.org 0"},
      {kEximPolicyMap, "example.org 65536"},
      {kEximPolicyMap, "example.org 25 extra"},
      {kEximVerifyMap, "example.org mx.example.org 25"},
      {kEximVerifyMap, "example.org mx.example.org x QUFB"},
      {kEximVerifyMap, "example.org mx.example.org 25 not*base64"},
      {kEximVerifyMap, "example.org mx.example.org 25 " + too_long},
      {kEximVerifyMap, seventeen},
      {"exim_other", "example.org 25"},
  };
  for (const Row& row : rows) {
    MapReply reply = lookup_.Answer(row.map, row.key);
    EXPECT_EQ(reply.status, MapReply::Status::kPerm) << row.key.substr(0, 80);
    EXPECT_EQ(reply.reason, "invalid_argument");
  }
}

}  // namespace
}  // namespace danegate::agent
