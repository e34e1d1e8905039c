// What danegate decides: per-host TLS modes, the domain's action, the
// verdict on a peer, each with a stable reason code. Plain values.
#ifndef DANEGATE_SERVICE_POLICY_DECISION_H_
#define DANEGATE_SERVICE_POLICY_DECISION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/dns/answer.h"
#include "service/tlsa/record.h"

namespace danegate::policy {

enum class Action { kDeliver, kDefer, kReject };

enum class TlsMode { kDane, kMandatory, kOpportunistic, kUnreachable };

// Stable reason codes; ReasonName gives the snake_case form used in logs,
// metrics and JSON. Mirrors danegate.v1.Reason.
enum class Reason {
  kDaneAuthenticated,
  kDaneRequired,
  kDaneMismatch,
  kTlsaUnusable,
  kInsecureNoDane,
  kNoTlsa,
  kDnssecBogus,
  kDnsFailure,
  kNoAddress,
  kNullMx,
  kDomainNotFound,
  kInvalidArgument,
  kHostNotInPolicy,
};

const char* ActionName(Action action);
const char* TlsModeName(TlsMode mode);
const char* ReasonName(Reason reason);

// The policy for one MX host.
struct HostPolicy {
  std::string host;  // canonical MX host name
  uint16_t preference = 0;
  dns::DnssecState dnssec = dns::DnssecState::kIndeterminate;
  TlsMode tls = TlsMode::kUnreachable;
  Reason reason = Reason::kDnsFailure;
  std::string detail;
  std::vector<tlsa::TlsaRecord> tlsa;  // the secure TLSA RRset, as published
  std::string tlsa_base_domain;        // the host name the RRset belongs to
  uint32_t tlsa_ttl = 0;               // the RRset's TTL as answered (0: unknown)
  // The earliest RRSIG expiration over the TLSA answer: past it, the RRset
  // is bogus unless re-signed. InfiniteFuture when unknown.
  absl::Time tlsa_signatures_expire = absl::InfiniteFuture();
  // The host's CNAME-expanded name when it differs from `host` (an MTA may
  // connect under either name); empty otherwise.
  std::string canonical_name;
  // The addresses an MTA connects to: the A then the AAAA records, from
  // secure or insecure answers (empty when not looked up).
  std::vector<std::string> addresses;
};

// The answer to "how do I deliver to this domain?".
struct DomainPolicy {
  std::string domain;
  std::string canonical_domain;  // the domain's CNAME expansion, when it has one
  // Whether the MX RRset was secure: behind an insecure one, hosts get DANE
  // only from their own secure records (InsecureMxPolicy::kDane).
  dns::DnssecState mx_dnssec = dns::DnssecState::kIndeterminate;
  uint16_t port = 25;
  Action action = Action::kDefer;
  Reason reason = Reason::kDnsFailure;
  std::string detail;
  std::vector<HostPolicy> hosts;  // in preference order
};

// The answer to "may I deliver over this TLS session?".
struct PeerVerdict {
  std::string domain;
  Action action = Action::kDefer;
  bool authenticated = false;
  Reason reason = Reason::kDnsFailure;
  std::string detail;
  std::optional<HostPolicy> host;  // the host's policy, when known
  std::optional<tlsa::TlsaRecord> matched;
};

}  // namespace danegate::policy

#endif  // DANEGATE_SERVICE_POLICY_DECISION_H_
