// The Exim plugin's two tables in danegate-agent, spoken over the same
// socketmap protocol as Postfix's (netstring "MAP KEY", reply "OK value" or
// "TEMP reason: detail"). The agent does all the work; danegate_exim.so only
// relays strings and fails closed.
//
//   exim_policy DOMAIN PORT -> OK "ROUTE|EXEMPT|SNI" for the router's
//       address_data:
//       ROUTE   "" (deliver: route normally), ":defer: danegate defer
//               (REASON): DETAIL" or ":fail: danegate reject (REASON): DETAIL";
//       EXEMPT  the names that may go without TLS, colon-separated: each
//               opportunistic host under its MX name and its CNAME-expanded
//               name, never a name that is also a host with any other mode.
//               The transport compares $host with these inside an expansion
//               (no host-list name items: those do DNS that nobody validates);
//       SNI     "NAME=BASE ..." for dane and mandatory hosts: the TLSA base
//               domain to send as SNI (RFC 7672 §8.1), by MX and expanded name.
//   exim_verify DOMAIN HOST PORT B64 [B64 ...] (the chain, leaf first, DER
//       in base64 as Exim's ${base64:$tls_out_peercert} gives it)
//       -> OK "deliver REASON [TLSA U S M HEX]" (the record that matched), or
//          OK "deny danegate defer (REASON): DETAIL".
//
// A question danegated did not answer is "TEMP validator_unavailable: ...";
// a malformed key is "PERM invalid_argument: ...". The plugin defers on both.
#ifndef DANEGATE_PLUGIN_AGENT_EXIM_LOOKUP_H_
#define DANEGATE_PLUGIN_AGENT_EXIM_LOOKUP_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "danegate/v1/validator.pb.h"
#include "plugin/agent/map_reply.h"

namespace danegate::agent {

inline constexpr absl::string_view kEximPolicyMap = "exim_policy";
inline constexpr absl::string_view kEximVerifyMap = "exim_verify";

// Certificates in one exim_verify key at most (danegated's own limit), and
// the size of one in DER.
inline constexpr int kMaxEximChain = 16;
inline constexpr size_t kMaxEximCertificate = 64 * 1024;

// Returns the exim_policy value for `answer` (see the file comment).
std::string EximPolicyValue(const v1::ResolvePolicyResponse& answer);
// Returns the exim_verify value for `answer`: "deliver ..." only for deliver.
std::string EximVerifyValue(const v1::VerifyPeerResponse& answer);

class EximLookup {
 public:
  using AskPolicy = std::function<absl::StatusOr<v1::ResolvePolicyResponse>(
      const v1::ResolvePolicyRequest& request)>;
  using AskVerify =
      std::function<absl::StatusOr<v1::VerifyPeerResponse>(const v1::VerifyPeerRequest& request)>;

  EximLookup(AskPolicy ask_policy, AskVerify ask_verify)
      : ask_policy_(std::move(ask_policy)), ask_verify_(std::move(ask_verify)) {}

  // Answers one request of map kEximPolicyMap or kEximVerifyMap.
  MapReply Answer(absl::string_view map, absl::string_view key) const;

 private:
  AskPolicy ask_policy_;
  AskVerify ask_verify_;
};

}  // namespace danegate::agent

#endif  // DANEGATE_PLUGIN_AGENT_EXIM_LOOKUP_H_
