// One socketmap lookup of danegate-postfix: "MAP KEY" in, a MapReply out.
// Map "tls_policy" answers smtp_tls_policy_maps, map "transport" answers
// transport_maps (see postfix_policy.h for the translation). A dane host
// with only digest DANE-TA records gets its trust anchors from the chain it
// presents (fetched, then remembered for that host for kAnchorLifetime: a
// digest record needs the host to send the anchor, RFC 7671 §5.2.2, so what
// one host sends does not count for another). The question to
// danegated, the chain fetch and the trust-anchor files are passed in, so
// the whole table of answers is testable without a network.
#ifndef DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_
#define DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "danegate/v1/validator.pb.h"
#include "plugin/postfix/postfix_policy.h"
#include "service/tlsa/chain.h"

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
  // Fetches the chain an MX host presents after STARTTLS (with SNI `sni`).
  using FetchChain = std::function<absl::StatusOr<tlsa::DerChain>(const std::string& host,
                                                                  const std::string& sni)>;

  // Hosts whose chains one lookup fetches at most (each can take the probe's
  // timeout); trust anchors remembered at most, and for how long.
  static constexpr int kMaxFetchesPerLookup = 2;
  static constexpr size_t kMaxRememberedAnchors = 10000;
  static constexpr absl::Duration kAnchorLifetime = absl::Hours(1);

  Lookup(AskPolicy ask, StoreAnchors store, FetchChain fetch)
      : ask_(std::move(ask)), store_(std::move(store)), fetch_(std::move(fetch)) {}

  // Answers one socketmap request payload. Every failure to get a verdict is
  // TEMP (never NOTFOUND in the TLS policy map: Postfix would fall back to
  // its global TLS level); malformed requests and keys are PERM.
  MapReply Answer(absl::string_view request) const;

 private:
  MapReply AnswerTlsPolicy(const std::string& domain) const;
  MapReply AnswerTransport(const std::string& domain) const;
  // Adds to `answer` the full form of the digest DANE-TA records of its
  // hosts that need them; returns why some could not be found.
  std::vector<std::string> AddFetchedAnchors(v1::ResolvePolicyResponse& answer) const;

  AskPolicy ask_;
  StoreAnchors store_;
  FetchChain fetch_;
  mutable absl::Mutex mu_;
  // Full association data, and until when, by "HOST U S M hex".
  struct Remembered {
    std::string full_data;
    absl::Time until;
  };
  mutable absl::flat_hash_map<std::string, Remembered> anchors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_
