// The RFC 7672 rules as pure functions from DNS facts (answers with their
// DNSSEC state) and match results to decisions. No I/O: the engine gathers
// the facts in the order these functions ask for them.
#ifndef DANEGATE_SERVICE_POLICY_RULES_H_
#define DANEGATE_SERVICE_POLICY_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "service/dns/answer.h"
#include "service/policy/decision.h"
#include "service/tlsa/match_result.h"

namespace danegate::policy {

// At most this many MX hosts are considered (hostile DNS must not make
// danegate issue unbounded lookups); the rest are dropped and reported.
inline constexpr size_t kMaxMxHosts = 16;

struct MxCandidate {
  std::string host;  // canonical name; invalid names are decided in PlanFromMx
  uint16_t preference = 0;
};

// What the MX answer tells: either the domain is decided already, or the
// hosts to evaluate, and whether the MX RRset was secure.
struct MxPlan {
  std::optional<DomainPolicy> decided;
  dns::DnssecState mx_dnssec = dns::DnssecState::kIndeterminate;
  std::vector<MxCandidate> candidates;      // hosts to evaluate, by preference
  std::vector<HostPolicy> invalid_hosts;    // MX targets that are not host names
  std::string note;                         // e.g. hosts dropped over the limit
};

// Applies the MX rules (RFC 7672 §2.2.1, RFC 7505, RFC 5321 §5.1) to the MX
// answer for `domain`: failure → defer; bogus → defer; NXDOMAIN → reject;
// null MX → reject; no MX → the domain itself at preference 0.
MxPlan PlanFromMx(absl::string_view domain, uint16_t port, const dns::DnsAnswer& mx);

// Returns the policy of a host reached through an insecure MX RRset: no DANE
// (RFC 7672 §2.2.1).
HostPolicy HostBehindInsecureMx(const MxCandidate& candidate);

// Returns the host's policy when its A/AAAA answers decide it (failure,
// bogus, no address, insecure → no DANE), or nullopt when they are secure
// and the TLSA records must be looked up (RFC 7672 §2.2.2).
std::optional<HostPolicy> DecideFromAddresses(const MxCandidate& candidate,
                                              const dns::DnsAnswer& a,
                                              const dns::DnsAnswer& aaaa);

// Returns the TLSA base domains to try, in order (RFC 7672 §2.2.2): the
// CNAME-expanded host name from the address answers first, then the MX host
// name itself when it differs.
std::vector<std::string> TlsaBaseDomains(const MxCandidate& candidate,
                                         const dns::DnsAnswer& a,
                                         const dns::DnsAnswer& aaaa);

// Returns true if the TLSA answer is a secure proof of no records, so the
// next base domain (if any) should be tried.
bool TryNextTlsaBase(const dns::DnsAnswer& tlsa);

// Applies the TLSA rules to the answer for `base_domain`: bogus or failed →
// unreachable; insecure or securely absent → no DANE; secure with usable
// records → dane; secure with none usable → mandatory (RFC 7672 §2.2).
HostPolicy DecideFromTlsa(const MxCandidate& candidate, absl::string_view base_domain,
                          const dns::DnsAnswer& tlsa);

// Returns the policy of a host whose TLSA RRset is given (trusted) rather
// than looked up: the offline `danegate match`.
HostPolicy HostFromTrustedTlsa(absl::string_view host, std::vector<tlsa::TlsaRecord> records);

// Combines the host policies: deliver if any host is reachable, otherwise
// defer with the first host's reason.
DomainPolicy DecideDomain(absl::string_view domain, uint16_t port, std::vector<HostPolicy> hosts,
                          absl::string_view note = "");

// Returns the host named `mx_host` in `policy`, by its MX name or its
// CNAME-expanded name, or nullptr.
const HostPolicy* FindHost(const DomainPolicy& policy, absl::string_view mx_host);

// Returns true if verifying a peer of `host` needs a chain match.
bool NeedsMatch(const HostPolicy* host);

// Decides whether a TLS session with `mx_host` may carry the message.
// `match` is the chain matched against the host's TLSA records; it is
// required when NeedsMatch(FindHost(policy, mx_host)) and ignored otherwise.
PeerVerdict DecidePeer(const DomainPolicy& policy, absl::string_view mx_host,
                       const tlsa::MatchResult* match);

}  // namespace danegate::policy

#endif  // DANEGATE_SERVICE_POLICY_RULES_H_
