// One socketmap lookup of danegate-postfix: "MAP KEY" in, a MapReply out.
// Map "tls_policy" answers smtp_tls_policy_maps, map "transport" answers
// transport_maps (see postfix_policy.h for the translation). The question to
// danegated and the trust-anchor files are passed in, so the whole table of
// answers is testable without a network.
#ifndef DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_
#define DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "danegate/v1/validator.pb.h"
#include "plugin/postfix/postfix_policy.h"

namespace danegate::postfix {

inline constexpr absl::string_view kTlsPolicyMap = "tls_policy";
inline constexpr absl::string_view kTransportMap = "transport";

class Lookup {
 public:
  // Asks danegated for the policy of a canonical domain.
  using AskPolicy =
      std::function<absl::StatusOr<v1::ResolvePolicyResponse>(const std::string& domain)>;
  // Stores PEM trust anchors; returns the file's path.
  using StoreAnchors = std::function<absl::StatusOr<std::string>(absl::string_view pem)>;

  Lookup(AskPolicy ask, StoreAnchors store) : ask_(std::move(ask)), store_(std::move(store)) {}

  // Answers one socketmap request payload. Every failure to get a verdict is
  // TEMP (never NOTFOUND in the TLS policy map: Postfix would fall back to
  // its global TLS level); malformed requests and keys are PERM.
  MapReply Answer(absl::string_view request) const;

 private:
  MapReply AnswerTlsPolicy(const std::string& domain) const;
  MapReply AnswerTransport(const std::string& domain) const;

  AskPolicy ask_;
  StoreAnchors store_;
};

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_
