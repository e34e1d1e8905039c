// The edge between the danegate.v1 API and the engine: validation of every
// request field (the same checks for the CLI and the service) and the
// translation of decisions into responses.
#ifndef DANEGATE_SERVICE_API_CONVERT_H_
#define DANEGATE_SERVICE_API_CONVERT_H_

#include <cstdint>
#include <functional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "danegate/v1/validator.pb.h"
#include "service/policy/decision.h"
#include "service/tlsa/chain.h"

namespace danegate::api {

namespace v1 = ::danegate::v1;

struct PolicyQuery {
  std::string domain;  // canonical
  uint16_t port = 25;
};

struct PeerQuery {
  std::string domain;   // canonical
  std::string mx_host;  // canonical
  uint16_t port = 25;
  tlsa::DerChain chain;  // checked with tlsa::CheckChain
};

// Returns the validated query, or InvalidArgument naming the field and why.
absl::StatusOr<PolicyQuery> ValidateRequest(const v1::ResolvePolicyRequest& request);
// Checks the chain with `check_chain`: tlsa::CheckChain, or in danegated the
// matcher's DaneMatcher::CheckChain, which parses through its cache (the
// same certificates are matched again and again).
using ChainCheck = std::function<absl::Status(const tlsa::DerChain&)>;
absl::StatusOr<PeerQuery> ValidateRequest(const v1::VerifyPeerRequest& request,
                                          const ChainCheck& check_chain = tlsa::CheckChain);

// Returns the port a request asked for: 0 means 25; 1..65535 is kept.
absl::StatusOr<uint16_t> ValidatePort(uint32_t port);

v1::ResolvePolicyResponse ToProto(const policy::DomainPolicy& policy);
v1::VerifyPeerResponse ToProto(const policy::PeerVerdict& verdict);

v1::Action ToProto(policy::Action action);
v1::TlsMode ToProto(policy::TlsMode mode);
v1::Reason ToProto(policy::Reason reason);
v1::DnssecStatus ToProto(dns::DnssecState state);

// Returns the snake_case token of a proto enum value: its name without
// `prefix` (e.g. "REASON_"), lower-cased. The form logs and JSON use.
std::string EnumToken(absl::string_view value_name, absl::string_view prefix);

// Returns the reason code of `reason`, e.g. "dane_required".
std::string ReasonToken(v1::Reason reason);

}  // namespace danegate::api

#endif  // DANEGATE_SERVICE_API_CONVERT_H_
