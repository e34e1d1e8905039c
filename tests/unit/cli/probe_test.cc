// danegate probe's walk and outcomes, with the network and the validator
// replaced by functions (the real ones: tests/integration/test_cli_probe.py).
#include "service/cli/probe.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::cli {
namespace {

using smtp::Failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

v1::MxHost Host(const std::string& name, v1::TlsMode tls, std::vector<std::string> addresses) {
  v1::MxHost host;
  host.set_host(name);
  host.set_tls(tls);
  for (std::string& a : addresses) host.add_addresses(std::move(a));
  return host;
}

TEST(DecideAddressTest, Table) {
  struct Row {
    v1::TlsMode tls;
    Failure failure;
    std::optional<v1::Action> verdict;  // when the chain was judged
    v1::Action want;
    std::string reason;
  };
  const Row rows[] = {
      {v1::TLS_MODE_DANE, Failure::kNone, v1::ACTION_DELIVER, v1::ACTION_DELIVER,
       "dane_authenticated"},
      {v1::TLS_MODE_DANE, Failure::kNone, v1::ACTION_DEFER, v1::ACTION_DEFER, "dane_mismatch"},
      {v1::TLS_MODE_DANE, Failure::kNone, std::nullopt, v1::ACTION_DEFER, "validator_unavailable"},
      // Never cleartext where TLS is required...
      {v1::TLS_MODE_DANE, Failure::kStartTlsNotOffered, std::nullopt, v1::ACTION_DEFER,
       "starttls_not_offered"},
      {v1::TLS_MODE_MANDATORY, Failure::kStartTlsRefused, std::nullopt, v1::ACTION_DEFER,
       "starttls_refused"},
      {v1::TLS_MODE_DANE, Failure::kTls, std::nullopt, v1::ACTION_DEFER, "tls_failed"},
      // ...where it is opportunistic, an MTA falls back to it.
      {v1::TLS_MODE_OPPORTUNISTIC, Failure::kStartTlsNotOffered, std::nullopt, v1::ACTION_DELIVER,
       "starttls_not_offered"},
      {v1::TLS_MODE_OPPORTUNISTIC, Failure::kTls, std::nullopt, v1::ACTION_DELIVER, "tls_failed"},
      // No SMTP session at all: nobody delivers there.
      {v1::TLS_MODE_OPPORTUNISTIC, Failure::kConnect, std::nullopt, v1::ACTION_DEFER,
       "connect_failed"},
      {v1::TLS_MODE_OPPORTUNISTIC, Failure::kSmtp, std::nullopt, v1::ACTION_DEFER, "smtp_error"},
      {v1::TLS_MODE_DANE, Failure::kTimeout, std::nullopt, v1::ACTION_DEFER, "timed_out"},
  };
  for (const Row& row : rows) {
    AddressProbe probe;
    probe.failure = row.failure;
    if (row.verdict) {
      probe.verdict.emplace();
      probe.verdict->set_action(*row.verdict);
      probe.verdict->set_reason(*row.verdict == v1::ACTION_DELIVER ? v1::REASON_DANE_AUTHENTICATED
                                                                   : v1::REASON_DANE_MISMATCH);
    }
    DecideAddress(Host("mx", row.tls, {}), probe);
    EXPECT_EQ(probe.action, row.want) << row.reason;
    EXPECT_EQ(probe.reason, row.reason);
  }
}

class ProbeDomainTest : public ::testing::Test {
 protected:
  Probe Run(const v1::ResolvePolicyResponse& policy) {
    return ProbeDomain(
        policy, 25, absl::Seconds(20),
        {.start_tls =
             [&](const std::string& address, const std::string& sni, absl::Time deadline) {
               asked_.push_back(address + " " + sni);
               deadlines_.push_back(deadline - now_);
               now_ += absl::Seconds(1);
               auto it = sessions_.find(address);
               return it == sessions_.end()
                          ? smtp::Session{.failure = Failure::kConnect, .error = "refused"}
                          : it->second;
             },
         .verify =
             [&](const v1::VerifyPeerRequest& request) -> absl::StatusOr<v1::VerifyPeerResponse> {
           verified_.push_back(request.mx_host());
           v1::VerifyPeerResponse verdict;
           verdict.set_action(v1::ACTION_DELIVER);
           verdict.set_authenticated(true);
           verdict.set_reason(v1::REASON_DANE_AUTHENTICATED);
           return verdict;
         },
         .now = [&] { return now_; }});
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::map<std::string, smtp::Session> sessions_;
  std::vector<std::string> asked_, verified_;
  std::vector<absl::Duration> deadlines_;
};

v1::ResolvePolicyResponse Policy(std::vector<v1::MxHost> hosts) {
  v1::ResolvePolicyResponse policy;
  policy.set_domain("example.com");
  policy.set_action(v1::ACTION_DELIVER);
  policy.set_reason(v1::REASON_DANE_REQUIRED);
  for (v1::MxHost& h : hosts) *policy.add_mx() = std::move(h);
  return policy;
}

TEST_F(ProbeDomainTest, EveryAddressOfEveryUsableHostInOrderWithTheTlsaBaseAsSni) {
  v1::MxHost first = Host("mx1.example.com", v1::TLS_MODE_DANE, {"192.0.2.1", "2001:db8::1"});
  first.set_tlsa_base_domain("mx1.example.net");
  v1::MxHost bogus = Host("mx2.example.com", v1::TLS_MODE_UNREACHABLE, {"192.0.2.2"});
  bogus.set_reason(v1::REASON_DNSSEC_BOGUS);
  sessions_["192.0.2.1:25"] = smtp::Session{.chain = {"not a certificate"}};
  sessions_["[2001:db8::1]:25"] = smtp::Session{.chain = {"not a certificate"}};
  const Probe got = Run(
      Policy({first, bogus, Host("mx3.example.com", v1::TLS_MODE_OPPORTUNISTIC, {"192.0.2.3"})}));
  EXPECT_THAT(asked_,
              ElementsAre("192.0.2.1:25 mx1.example.net", "[2001:db8::1]:25 mx1.example.net",
                          "192.0.2.3:25 mx3.example.com"));
  EXPECT_THAT(verified_, ElementsAre("mx1.example.com", "mx1.example.com"));
  // The host's 20 s are shared among its addresses as time passes.
  EXPECT_THAT(deadlines_, ElementsAre(absl::Seconds(10), absl::Seconds(19), absl::Seconds(20)));
  ASSERT_EQ(got.hosts.size(), 3u);
  EXPECT_EQ(got.hosts[1].not_probed, "unreachable: dnssec_bogus");
  EXPECT_EQ(got.action, v1::ACTION_DEFER);
  EXPECT_EQ(got.reason, "dnssec_bogus");  // the first host that does not take mail
  EXPECT_EQ(got.delivers_via, "mx1.example.com 192.0.2.1");
}

TEST_F(ProbeDomainTest, DeliversWhenEveryAddressTakesMail) {
  sessions_["192.0.2.1:25"] = smtp::Session{.chain = {"x"}};
  const Probe got = Run(Policy({Host("mx.example.com", v1::TLS_MODE_DANE, {"192.0.2.1"})}));
  EXPECT_EQ(got.action, v1::ACTION_DELIVER);
  EXPECT_EQ(got.reason, "dane_authenticated");
  EXPECT_THAT(ProbeText(got, now_), HasSubstr("result  deliver (dane_authenticated)"));
  EXPECT_THAT(ProbeJson(got, now_), HasSubstr("\"delivers_via\":\"mx.example.com 192.0.2.1\""));
}

TEST_F(ProbeDomainTest, APolicyThatDoesNotDeliverConnectsNowhere) {
  v1::ResolvePolicyResponse policy =
      Policy({Host("mx.example.com", v1::TLS_MODE_UNREACHABLE, {"192.0.2.1"})});
  policy.set_action(v1::ACTION_DEFER);
  policy.set_reason(v1::REASON_DNSSEC_BOGUS);
  const Probe got = Run(policy);
  EXPECT_TRUE(asked_.empty());
  EXPECT_EQ(got.action, v1::ACTION_DEFER);
  EXPECT_EQ(got.reason, "dnssec_bogus");
}

TEST_F(ProbeDomainTest, AHostWithoutAddressesIsNamed) {
  const Probe got = Run(Policy({Host("mx.example.com", v1::TLS_MODE_OPPORTUNISTIC, {})}));
  EXPECT_TRUE(asked_.empty());
  EXPECT_EQ(got.hosts.at(0).not_probed, "no addresses in the policy");
  EXPECT_EQ(got.reason, "no_address");
}

}  // namespace
}  // namespace danegate::cli
