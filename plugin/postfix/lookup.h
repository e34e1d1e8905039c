// One socketmap lookup of danegate-agent's Postfix tables: "MAP KEY" in, a MapReply out.
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
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

  // The current time (absl::Now outside tests).
  using Clock = std::function<absl::Time()>;

  // Hosts whose chains one lookup fetches at most (each can take the probe's
  // timeout); what fetches found, remembered at most, and for how long: an
  // anchor for kAnchorLifetime; a failed fetch or an anchor the host did not
  // send for kFailureLifetime, so that a lookup does not connect to the
  // remote host again each time Postfix asks.
  static constexpr int kMaxFetchesPerLookup = 2;
  static constexpr size_t kMaxRemembered = 10000;
  static constexpr absl::Duration kAnchorLifetime = absl::Hours(1);
  static constexpr absl::Duration kFailureLifetime = absl::Minutes(5);

  // `local_domains` (canonical names) are delivered by this Postfix itself:
  // the transport table leaves them to Postfix's own routing (NOTFOUND)
  // without asking danegated, so a local domain that is null-MX or absent
  // in public DNS is not bounced.
  Lookup(AskPolicy ask, StoreAnchors store, FetchChain fetch,
         absl::flat_hash_set<std::string> local_domains = {}, Clock now = absl::Now)
      : ask_(std::move(ask)),
        store_(std::move(store)),
        fetch_(std::move(fetch)),
        local_domains_(std::move(local_domains)),
        now_(std::move(now)) {}

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

  // What a fetch found for a key, and until when it counts: the full
  // association data, or why there is none.
  struct Remembered {
    absl::StatusOr<std::string> full_data;
    absl::Time until;
  };
  // Returns what is remembered for `key` and still valid.
  std::optional<absl::StatusOr<std::string>> Recall(const std::string& key) const;
  void Remember(const std::string& key, absl::StatusOr<std::string> full_data) const;

  AskPolicy ask_;
  StoreAnchors store_;
  FetchChain fetch_;
  const absl::flat_hash_set<std::string> local_domains_;
  Clock now_;
  mutable absl::Mutex mu_;
  // By "HOST U S M hex" (an anchor) or "HOST" (a failed fetch).
  mutable absl::flat_hash_map<std::string, Remembered> remembered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_LOOKUP_H_
