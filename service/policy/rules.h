// The RFC 7672 rules as pure functions from DNS facts (answers with their
// DNSSEC state) and match results to decisions. No I/O: the engine gathers
// the facts in the order these functions ask for them.
#ifndef DANEGATE_SERVICE_POLICY_RULES_H_
#define DANEGATE_SERVICE_POLICY_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

// What to do with the hosts of an insecure MX RRset (RFC 7672 §2.2.1: an
// SMTP client "MAY proceed to use DANE TLS" with hosts whose own address and
// TLSA records are secure). As Postfix's smtp_tls_dane_insecure_mx_policy,
// whose default at the dane security level is dane.
enum class InsecureMxPolicy { kDane, kMay };

// Parses "dane" or "may"; InvalidArgument naming `flag` otherwise.
absl::StatusOr<InsecureMxPolicy> ParseInsecureMxPolicy(absl::string_view flag,
                                                       absl::string_view text);

// What the MX answer tells: either the domain is decided already, or the
// hosts to evaluate, and whether the MX RRset was secure.
struct MxPlan {
  std::optional<DomainPolicy> decided;
  dns::DnssecState mx_dnssec = dns::DnssecState::kIndeterminate;
  std::string canonical_domain;           // the domain's CNAME expansion, if any
  std::vector<MxCandidate> candidates;    // hosts to evaluate, by preference
  std::vector<HostPolicy> invalid_hosts;  // MX targets that are not host names
  std::string note;                       // e.g. hosts dropped over the limit
};

// Applies the MX rules (RFC 7672 §2.2.1, RFC 7505, RFC 5321 §5.1) to the MX
// answer for `domain`: failure → defer; bogus → defer; NXDOMAIN → reject;
// null MX → reject; no MX → the domain itself at preference 0.
MxPlan PlanFromMx(absl::string_view domain, uint16_t port, const dns::DnsAnswer& mx);

// Returns true if the plan's hosts get their own address and TLSA lookups:
// always behind a secure MX RRset, behind an insecure one under kDane.
bool EvaluateHosts(const MxPlan& plan, InsecureMxPolicy insecure_mx);

// Returns `host`, evaluated behind an insecure MX RRset under kDane, with
// that said in its detail when its own records gave it TLS.
HostPolicy NoteInsecureMx(HostPolicy host);

// Returns the policy of a host reached through an insecure MX RRset under
// kMay: no DANE (RFC 7672 §2.2.1).
HostPolicy HostBehindInsecureMx(const MxCandidate& candidate);

// Returns the host's policy when its A/AAAA answers decide it (failure,
// bogus, no address, insecure → no DANE), or nullopt when they are secure
// and the TLSA records must be looked up (RFC 7672 §2.2.2).
std::optional<HostPolicy> DecideFromAddresses(const MxCandidate& candidate, const dns::DnsAnswer& a,
                                              const dns::DnsAnswer& aaaa);

// Returns the host's CNAME-expanded name from its address answers when it
// differs from the host name, or "".
std::string ExpandedHostName(const MxCandidate& candidate, const dns::DnsAnswer& a,
                             const dns::DnsAnswer& aaaa);

// Returns the TLSA base domains to try, in order (RFC 7672 §2.2.2): the
// CNAME-expanded host name from the address answers first, then the MX host
// name itself when it differs.
std::vector<std::string> TlsaBaseDomains(const MxCandidate& candidate, const dns::DnsAnswer& a,
                                         const dns::DnsAnswer& aaaa);

// RFC 7672 §2.2.2: a host whose addresses are insecure but were reached
// through a CNAME: true when `decided` (from DecideFromAddresses) is that
// case, and the alias's own answer must be looked up, because a secure
// alias makes the original name a TLSA base domain.
bool NeedsAliasCheck(const MxCandidate& candidate, const HostPolicy& decided,
                     const dns::DnsAnswer& a, const dns::DnsAnswer& aaaa);

// Applies the answer to the CNAME question for the host name: nullopt when
// the alias is secure (look up TLSA at the host name itself); otherwise the
// host's policy: `decided` when the alias is insecure too ("DANE TLS does
// not apply"), unreachable when it is bogus or failed.
std::optional<HostPolicy> DecideFromAlias(const MxCandidate& candidate, HostPolicy decided,
                                          const dns::DnsAnswer& alias);

// Returns true if the TLSA answer sends the search to the next base domain
// (RFC 7672 §2.2.3: "If any 'insecure' records are encountered, or the TLSA
// records don't exist, the next candidate TLSA base domain is tried"): a
// secure denial, or an insecure answer. Never after a failure or bogus data.
bool TryNextTlsaBase(const dns::DnsAnswer& tlsa);

// Applies the TLSA rules to the answer for `base_domain`: bogus or failed →
// unreachable; insecure or securely absent → no DANE; secure with usable
// records → dane; secure with none usable → mandatory (RFC 7672 §2.2).
HostPolicy DecideFromTlsa(const MxCandidate& candidate, absl::string_view base_domain,
                          const dns::DnsAnswer& tlsa);

// Returns the policy of a host whose TLSA RRset is given (trusted) rather
// than looked up: the offline `danegate match`.
// `undecodable` counts records of the RRset whose data could not be read
// (unusable, RFC 7671 §9).
HostPolicy HostFromTrustedTlsa(absl::string_view host, std::vector<tlsa::TlsaRecord> records,
                               size_t undecodable = 0);

// A host, or a whole domain, whose lookups stopped because the caller gave
// up (its deadline passed, it went away): unreachable and deferred with
// dns_failure, never decided on facts not gathered.
HostPolicy HostNotResolved(const MxCandidate& candidate, absl::string_view why);
DomainPolicy DomainNotResolved(absl::string_view domain, uint16_t port, absl::string_view why);

// Combines the host policies: deliver if any host is reachable, otherwise
// defer with the first host's reason.
DomainPolicy DecideDomain(absl::string_view domain, uint16_t port, std::vector<HostPolicy> hosts,
                          absl::string_view note = "");

// Returns the names a DANE-TA(2) leaf of `host` may carry (RFC 7672 §3.2.2):
// the TLSA base domain (also the SNI name), the MX host name, and the
// next-hop domain with its CNAME expansion ("MUST be included as a second
// reference identifier"), each once.
std::vector<std::string> ReferenceNames(const DomainPolicy& policy, const HostPolicy& host);

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
