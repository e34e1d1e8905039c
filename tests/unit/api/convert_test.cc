#include "service/api/convert.h"
#include "service/policy/rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"

namespace danegate::api {
namespace {

using ::testing::HasSubstr;

TEST(ValidateRequestTest, PolicyRequests) {
  struct Row {
    std::string domain;
    uint32_t port;
    std::string want_error;  // empty: valid
  };
  const Row rows[] = {
      {"Example.COM.", 0, ""},
      {"example.com", 2525, ""},
      {"", 25, "domain: empty name"},
      {"exa mple.com", 25, "domain: label 1 contains ' '"},
      {"example.com", 65536, "port: 65536 is outside 1..65535"},
      {std::string(300, 'a') + ".com", 25, "domain: name is"},
  };
  for (const Row& row : rows) {
    v1::ResolvePolicyRequest request;
    request.set_domain(row.domain);
    request.set_port(row.port);
    absl::StatusOr<PolicyQuery> got = ValidateRequest(request);
    if (row.want_error.empty()) {
      ASSERT_TRUE(got.ok()) << row.domain << ": " << got.status();
      EXPECT_EQ(got->domain, absl::AsciiStrToLower(absl::StripSuffix(row.domain, ".")));
      EXPECT_EQ(got->port, row.port == 0 ? 25 : row.port);
    } else {
      ASSERT_FALSE(got.ok()) << row.domain;
      EXPECT_TRUE(absl::IsInvalidArgument(got.status()));
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want_error));
    }
  }
}

TEST(ValidateRequestTest, PeerRequests) {
  const std::string der = testing::Issue({"mx"}).der();
  struct Row {
    std::string name;
    std::string domain, mx;
    std::vector<std::string> chain;
    std::string want_error;
  };
  const Row rows[] = {
      {"valid", "example.com", "MX.example.com", {der}, ""},
      {"bad mx host", "example.com", "mx..example.com", {der}, "mx_host: label 2 is empty"},
      {"empty chain", "example.com", "mx.example.com", {}, "chain: empty"},
      {"too many", "example.com", "mx.example.com", std::vector<std::string>(17, der),
       "17 certificates"},
      {"not DER", "example.com", "mx.example.com", {"xyz"}, "chain[0]"},
      {"too large", "example.com", "mx.example.com", {std::string(70000, 'x')}, "65536"},
  };
  for (const Row& row : rows) {
    v1::VerifyPeerRequest request;
    request.set_domain(row.domain);
    request.set_mx_host(row.mx);
    for (const std::string& c : row.chain) request.add_chain(c);
    absl::StatusOr<PeerQuery> got = ValidateRequest(request);
    if (row.want_error.empty()) {
      ASSERT_TRUE(got.ok()) << row.name << ": " << got.status();
      EXPECT_EQ(got->mx_host, "mx.example.com");
    } else {
      ASSERT_FALSE(got.ok()) << row.name;
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want_error)) << row.name;
    }
  }
}

TEST(ToProtoTest, EveryReasonMapsToTheProtoValueOfTheSameName) {
  for (int i = 0; i <= static_cast<int>(policy::Reason::kHostNotInPolicy); ++i) {
    const auto reason = static_cast<policy::Reason>(i);
    EXPECT_EQ(EnumToken(v1::Reason_Name(ToProto(reason)), "REASON_"), policy::ReasonName(reason));
  }
  for (auto action : {policy::Action::kDeliver, policy::Action::kDefer, policy::Action::kReject}) {
    EXPECT_EQ(EnumToken(v1::Action_Name(ToProto(action)), "ACTION_"), policy::ActionName(action));
  }
  for (auto mode : {policy::TlsMode::kDane, policy::TlsMode::kMandatory,
                    policy::TlsMode::kOpportunistic, policy::TlsMode::kUnreachable}) {
    EXPECT_EQ(EnumToken(v1::TlsMode_Name(ToProto(mode)), "TLS_MODE_"), policy::TlsModeName(mode));
  }
}

TEST(ToProtoTest, VerdictCarriesHostAndMatchedRecord) {
  policy::PeerVerdict verdict;
  verdict.domain = "example.com";
  verdict.action = policy::Action::kDeliver;
  verdict.authenticated = true;
  verdict.reason = policy::Reason::kDaneAuthenticated;
  verdict.matched = tlsa::TlsaRecord{3, 1, 1, "abc"};
  verdict.host = policy::HostFromTrustedTlsa("mx.example.com", {*verdict.matched});
  const v1::VerifyPeerResponse got = ToProto(verdict);
  EXPECT_EQ(got.action(), v1::ACTION_DELIVER);
  EXPECT_TRUE(got.authenticated());
  EXPECT_EQ(got.matched_tlsa().data(), "abc");
  EXPECT_EQ(got.mx().host(), "mx.example.com");
  EXPECT_EQ(got.mx().tlsa_size(), 1);
}

}  // namespace
}  // namespace danegate::api
