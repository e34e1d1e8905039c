#include "service/policy/rules.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/dns/name.h"

namespace danegate::policy {
namespace {

using dns::DnsAnswer;
using dns::DnssecState;
using dns::LookupStatus;

bool Untrustworthy(const DnsAnswer& answer) {
  return answer.dnssec == DnssecState::kBogus || answer.dnssec == DnssecState::kIndeterminate;
}

// True if `answer` has addresses (records) that validated.
bool Usable(const DnsAnswer& answer) {
  return answer.status == LookupStatus::kOk && !Untrustworthy(answer);
}

std::string Describe(const DnsAnswer& answer) {
  std::string text = absl::StrCat(answer.qname, " ", dns::LookupStatusName(answer.status), " (",
                                  dns::DnssecStateName(answer.dnssec), ")");
  if (!answer.error.empty()) absl::StrAppend(&text, ": ", answer.error);
  return text;
}

HostPolicy MakeHost(const MxCandidate& c, DnssecState dnssec, TlsMode tls, Reason reason,
                    std::string detail) {
  HostPolicy host;
  host.host = c.host;
  host.preference = c.preference;
  host.dnssec = dnssec;
  host.tls = tls;
  host.reason = reason;
  host.detail = std::move(detail);
  return host;
}

DomainPolicy Decided(absl::string_view domain, uint16_t port, Action action, Reason reason,
                     std::string detail) {
  DomainPolicy policy;
  policy.domain = std::string(domain);
  policy.port = port;
  policy.action = action;
  policy.reason = reason;
  policy.detail = std::move(detail);
  return policy;
}

// Applies the security rules shared by address and TLSA answers: a bogus or
// indeterminate answer, or a failed lookup, makes the host unreachable.
// A failed lookup has no meaningful DNSSEC state, so failure is checked first.
std::optional<HostPolicy> UnreachableIfUntrusted(const MxCandidate& c, const DnsAnswer& answer) {
  if (answer.status == LookupStatus::kFailure) {
    return MakeHost(c, answer.dnssec, TlsMode::kUnreachable, Reason::kDnsFailure,
                    absl::StrCat("lookup failed: ", Describe(answer)));
  }
  if (Untrustworthy(answer)) {
    return MakeHost(c, answer.dnssec, TlsMode::kUnreachable, Reason::kDnssecBogus,
                    absl::StrCat("DNSSEC validation failed: ", Describe(answer)));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<InsecureMxPolicy> ParseInsecureMxPolicy(absl::string_view flag,
                                                       absl::string_view text) {
  if (text == "dane") return InsecureMxPolicy::kDane;
  if (text == "may") return InsecureMxPolicy::kMay;
  return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': want dane or may"));
}

MxPlan PlanFromMx(absl::string_view domain, uint16_t port, const DnsAnswer& mx) {
  MxPlan plan;
  plan.mx_dnssec = mx.dnssec;
  if (!mx.canonical_name.empty() && !dns::SameName(mx.canonical_name, domain)) {
    plan.canonical_domain = mx.canonical_name;
  }
  // RFC 7672 §2.2.1: an MX lookup that fails or is bogus defers delivery;
  // it is never read as "no MX".
  if (mx.status == LookupStatus::kFailure) {
    plan.decided = Decided(domain, port, Action::kDefer, Reason::kDnsFailure,
                           absl::StrCat("MX lookup failed: ", Describe(mx)));
    return plan;
  }
  if (Untrustworthy(mx)) {
    plan.decided = Decided(domain, port, Action::kDefer, Reason::kDnssecBogus,
                           absl::StrCat("MX lookup: ", Describe(mx)));
    return plan;
  }
  if (mx.status == LookupStatus::kNxDomain) {
    plan.decided = Decided(
        domain, port, Action::kReject, Reason::kDomainNotFound,
        absl::StrCat("domain does not exist (", dns::DnssecStateName(mx.dnssec), " NXDOMAIN)"));
    return plan;
  }
  if (mx.status == LookupStatus::kNoData) {
    // RFC 5321 §5.1: no MX, the domain itself is the host (preference 0).
    plan.candidates.push_back({std::string(domain), 0});
    return plan;
  }
  // RFC 7505 §3: a null MX ("0 .") says the domain accepts no mail.
  for (const dns::MxRecord& record : mx.mx) {
    if (record.exchange.empty()) {
      plan.decided = Decided(domain, port, Action::kReject, Reason::kNullMx,
                             "the domain publishes a null MX (RFC 7505): it accepts no mail");
      return plan;
    }
  }
  // DNS does not order an RRset: sort by preference, then name, so the
  // answer is the same whichever order the records arrived in.
  std::vector<dns::MxRecord> records = mx.mx;
  std::sort(records.begin(), records.end(), [](const auto& x, const auto& y) {
    return std::tie(x.preference, x.exchange) < std::tie(y.preference, y.exchange);
  });
  size_t dropped = 0;
  for (const dns::MxRecord& record : records) {
    absl::StatusOr<std::string> name = dns::CanonicalMailName(record.exchange, "MX host");
    const std::string host = name.ok() ? *name : record.exchange;
    const bool seen = std::any_of(plan.candidates.begin(), plan.candidates.end(),
                                  [&](const MxCandidate& c) { return c.host == host; }) ||
                      std::any_of(plan.invalid_hosts.begin(), plan.invalid_hosts.end(),
                                  [&](const HostPolicy& h) { return h.host == host; });
    if (seen) continue;
    if (plan.candidates.size() + plan.invalid_hosts.size() == kMaxMxHosts) {
      ++dropped;
      continue;
    }
    if (!name.ok()) {
      plan.invalid_hosts.push_back(MakeHost({host, record.preference}, mx.dnssec,
                                            TlsMode::kUnreachable, Reason::kDnsFailure,
                                            std::string(name.status().message())));
      continue;
    }
    plan.candidates.push_back({host, record.preference});
  }
  if (dropped > 0) {
    plan.note = absl::StrCat(dropped, " MX hosts beyond the first ", kMaxMxHosts, " ignored");
  }
  return plan;
}

bool EvaluateHosts(const MxPlan& plan, InsecureMxPolicy insecure_mx) {
  return !plan.candidates.empty() &&
         (plan.mx_dnssec == DnssecState::kSecure || insecure_mx == InsecureMxPolicy::kDane);
}

HostPolicy NoteInsecureMx(HostPolicy host) {
  if (host.tls == TlsMode::kDane || host.tls == TlsMode::kMandatory) {
    absl::StrAppend(&host.detail,
                    " (the MX RRset is insecure; the host's own address and TLSA records are "
                    "secure: RFC 7672 section 2.2.1, --insecure-mx-policy=dane)");
  }
  return host;
}

HostPolicy HostBehindInsecureMx(const MxCandidate& c) {
  return MakeHost(c, DnssecState::kInsecure, TlsMode::kOpportunistic, Reason::kInsecureNoDane,
                  "the MX RRset is not DNSSEC-signed: no DANE (RFC 7672 section 2.2.1)");
}

std::optional<HostPolicy> DecideFromAddresses(const MxCandidate& c, const DnsAnswer& a,
                                              const DnsAnswer& aaaa) {
  // An address family is usable when it has addresses that validated (not
  // bogus or indeterminate). A family that failed or is bogus is dropped
  // when the other is usable, as Postfix does: the MTA connects to the
  // usable addresses, and TLSA (if any) still binds the host wherever it
  // connects.
  const bool a_has = Usable(a);
  const bool aaaa_has = Usable(aaaa);
  if (!a_has && !aaaa_has) {
    // Nothing to connect to: say why, failures and bogus data first.
    for (const DnsAnswer* answer : {&a, &aaaa}) {
      if (std::optional<HostPolicy> unreachable = UnreachableIfUntrusted(c, *answer)) {
        return unreachable;
      }
    }
    return MakeHost(c, a.dnssec, TlsMode::kUnreachable, Reason::kNoAddress,
                    absl::StrCat(c.host, " has no A or AAAA records"));
  }
  // RFC 7672 §2.2.2: TLSA records are looked up only for hosts whose
  // address records are secure.
  for (const DnsAnswer* answer : {&a, &aaaa}) {
    if (answer->status != LookupStatus::kFailure && !Untrustworthy(*answer) &&
        answer->dnssec == DnssecState::kInsecure) {
      return MakeHost(c, DnssecState::kInsecure, TlsMode::kOpportunistic, Reason::kInsecureNoDane,
                      absl::StrCat("address records of ", c.host,
                                   " are not DNSSEC-signed: no DANE (RFC 7672 section 2.2.2)"));
    }
  }
  return std::nullopt;
}

std::string ExpandedHostName(const MxCandidate& c, const DnsAnswer& a, const DnsAnswer& aaaa) {
  const DnsAnswer& answered = Usable(a) ? a : aaaa;
  absl::StatusOr<std::string> expanded =
      dns::CanonicalMailName(answered.canonical_name, "canonical name");
  return expanded.ok() && *expanded != c.host ? *expanded : "";
}

std::vector<std::string> TlsaBaseDomains(const MxCandidate& c, const DnsAnswer& a,
                                         const DnsAnswer& aaaa) {
  std::vector<std::string> bases;
  if (std::string expanded = ExpandedHostName(c, a, aaaa); !expanded.empty()) {
    bases.push_back(std::move(expanded));
  }
  bases.push_back(c.host);
  return bases;
}

bool NeedsAliasCheck(const MxCandidate& c, const HostPolicy& decided, const DnsAnswer& a,
                     const DnsAnswer& aaaa) {
  return decided.tls == TlsMode::kOpportunistic && decided.reason == Reason::kInsecureNoDane &&
         !ExpandedHostName(c, a, aaaa).empty();
}

std::optional<HostPolicy> DecideFromAlias(const MxCandidate& c, HostPolicy decided,
                                          const DnsAnswer& alias) {
  // A failed or bogus alias answer proves nothing: the host may be a DANE
  // host behind a secure CNAME, so it is not used unauthenticated.
  if (std::optional<HostPolicy> unreachable = UnreachableIfUntrusted(c, alias)) {
    return unreachable;
  }
  // RFC 7672 §2.2.2: "If the initial CNAME response is also 'insecure',
  // DANE TLS does not apply. Otherwise ... a search is performed for a TLSA
  // record with the original input domain as the candidate TLSA base domain."
  if (alias.dnssec == DnssecState::kSecure && alias.status == LookupStatus::kOk) {
    return std::nullopt;
  }
  absl::StrAppend(&decided.detail, "; the CNAME at ", c.host, " is ",
                  dns::DnssecStateName(alias.dnssec), " too");
  return decided;
}

bool TryNextTlsaBase(const DnsAnswer& tlsa) {
  if (tlsa.status == LookupStatus::kFailure || Untrustworthy(tlsa)) return false;
  return tlsa.dnssec == DnssecState::kInsecure || tlsa.status == LookupStatus::kNoData ||
         tlsa.status == LookupStatus::kNxDomain;
}

HostPolicy DecideFromTlsa(const MxCandidate& c, absl::string_view base_domain,
                          const DnsAnswer& tlsa) {
  // RFC 7672 §2.2: bogus or failed TLSA lookups make the host unreachable;
  // never fall back to cleartext or unauthenticated TLS.
  if (std::optional<HostPolicy> unreachable = UnreachableIfUntrusted(c, tlsa)) {
    return *std::move(unreachable);
  }
  if (tlsa.dnssec == DnssecState::kInsecure) {
    return MakeHost(c, DnssecState::kInsecure, TlsMode::kOpportunistic, Reason::kInsecureNoDane,
                    absl::StrCat("TLSA RRset at ", tlsa.qname, " is not DNSSEC-signed: no DANE"));
  }
  if (tlsa.status != LookupStatus::kOk) {
    return MakeHost(c, DnssecState::kSecure, TlsMode::kOpportunistic, Reason::kNoTlsa,
                    absl::StrCat("secure proof of no TLSA records for ", c.host));
  }
  HostPolicy host = HostFromTrustedTlsa(c.host, tlsa.tlsa, tlsa.undecodable_records);
  host.preference = c.preference;
  host.tlsa_base_domain = std::string(base_domain);
  host.tlsa_ttl = tlsa.ttl;
  host.tlsa_signatures_expire = tlsa.valid_until;
  return host;
}

HostPolicy HostFromTrustedTlsa(absl::string_view host_name, std::vector<tlsa::TlsaRecord> records,
                               size_t undecodable) {
  // A canonical order (DNS does not order an RRset) for stable answers.
  std::sort(records.begin(), records.end(), [](const auto& x, const auto& y) {
    return std::tie(x.usage, x.selector, x.matching_type, x.data) <
           std::tie(y.usage, y.selector, y.matching_type, y.data);
  });
  std::vector<std::string> unusable;
  if (undecodable > 0) unusable.push_back(absl::StrCat(undecodable, " that cannot be read"));
  size_t usable = 0;
  for (const tlsa::TlsaRecord& record : records) {
    tlsa::Usability u = tlsa::Classify(record);
    if (u.usable) {
      ++usable;
    } else {
      unusable.push_back(u.why);
    }
  }
  HostPolicy host;
  if (usable > 0) {
    host = MakeHost(
        {std::string(host_name), 0}, DnssecState::kSecure, TlsMode::kDane, Reason::kDaneRequired,
        absl::StrCat(usable, " usable TLSA record(s): TLS and a matching chain required"));
  } else {
    // RFC 7672 §2.2: a secure RRset with no usable record still means the
    // server supports TLS: mandatory, unauthenticated.
    host = MakeHost({std::string(host_name), 0}, DnssecState::kSecure, TlsMode::kMandatory,
                    Reason::kTlsaUnusable,
                    absl::StrCat("no usable TLSA record (", absl::StrJoin(unusable, "; "),
                                 "): TLS mandatory, unauthenticated"));
  }
  host.tlsa = std::move(records);
  host.tlsa_base_domain = std::string(host_name);
  return host;
}

HostPolicy HostNotResolved(const MxCandidate& candidate, absl::string_view why) {
  return MakeHost(candidate, DnssecState::kIndeterminate, TlsMode::kUnreachable,
                  Reason::kDnsFailure, absl::StrCat("not resolved: ", why));
}

DomainPolicy DomainNotResolved(absl::string_view domain, uint16_t port, absl::string_view why) {
  return Decided(domain, port, Action::kDefer, Reason::kDnsFailure,
                 absl::StrCat("not resolved: ", why));
}

DomainPolicy DecideDomain(absl::string_view domain, uint16_t port, std::vector<HostPolicy> hosts,
                          absl::string_view note) {
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const auto& x, const auto& y) { return x.preference < y.preference; });
  const auto usable = std::find_if(hosts.begin(), hosts.end(), [](const HostPolicy& h) {
    return h.tls != TlsMode::kUnreachable;
  });
  DomainPolicy policy;
  if (usable != hosts.end()) {
    const auto reachable = std::count_if(hosts.begin(), hosts.end(), [](const HostPolicy& h) {
      return h.tls != TlsMode::kUnreachable;
    });
    policy = Decided(domain, port, Action::kDeliver, usable->reason,
                     absl::StrCat(reachable, " of ", hosts.size(), " MX host(s) usable; first: ",
                                  usable->host, " (", TlsModeName(usable->tls), ")"));
  } else if (!hosts.empty()) {
    policy = Decided(
        domain, port, Action::kDefer, hosts.front().reason,
        absl::StrCat("no usable MX host; first: ", hosts.front().host, ": ", hosts.front().detail));
  } else {
    policy = Decided(domain, port, Action::kDefer, Reason::kDnsFailure, "no MX host");
  }
  if (!note.empty()) absl::StrAppend(&policy.detail, "; ", note);
  policy.hosts = std::move(hosts);
  return policy;
}

std::vector<std::string> ReferenceNames(const DomainPolicy& policy, const HostPolicy& host) {
  std::vector<std::string> names;
  for (const std::string* name :
       {&host.tlsa_base_domain, &host.host, &policy.domain, &policy.canonical_domain}) {
    if (name->empty()) continue;
    if (std::none_of(names.begin(), names.end(),
                     [&](const std::string& n) { return dns::SameName(n, *name); })) {
      names.push_back(*name);
    }
  }
  return names;
}

const HostPolicy* FindHost(const DomainPolicy& policy, absl::string_view mx_host) {
  for (const HostPolicy& host : policy.hosts) {
    if (dns::SameName(host.host, mx_host)) return &host;
  }
  for (const HostPolicy& host : policy.hosts) {
    if (!host.canonical_name.empty() && dns::SameName(host.canonical_name, mx_host)) return &host;
  }
  return nullptr;
}

bool NeedsMatch(const HostPolicy* host) { return host != nullptr && host->tls == TlsMode::kDane; }

PeerVerdict DecidePeer(const DomainPolicy& policy, absl::string_view mx_host,
                       const tlsa::MatchResult* match) {
  PeerVerdict verdict;
  verdict.domain = policy.domain;
  if (policy.action != Action::kDeliver) {
    verdict.action = policy.action;
    verdict.reason = policy.reason;
    verdict.detail = policy.detail;
    if (const HostPolicy* host = FindHost(policy, mx_host)) verdict.host = *host;
    return verdict;
  }
  const HostPolicy* host = FindHost(policy, mx_host);
  if (host == nullptr) {
    // A host outside a DANE domain's validated MX set cannot be checked
    // against anything: refuse it rather than deliver unauthenticated.
    const bool dane_domain =
        std::any_of(policy.hosts.begin(), policy.hosts.end(), [](const HostPolicy& h) {
          return h.tls == TlsMode::kDane || h.tls == TlsMode::kMandatory;
        });
    if (dane_domain) {
      verdict.action = Action::kDefer;
      verdict.reason = Reason::kHostNotInPolicy;
      verdict.detail = absl::StrCat(mx_host, " is not an MX host of ", policy.domain,
                                    ", whose MX hosts require TLS");
    } else {
      verdict.action = Action::kDeliver;
      verdict.reason = policy.reason;
      verdict.detail = absl::StrCat(mx_host, " is not an MX host of ", policy.domain,
                                    ", which has no DANE MX host: no authentication");
    }
    return verdict;
  }
  verdict.host = *host;
  verdict.reason = host->reason;
  verdict.detail = absl::StrCat(host->host, " (", TlsModeName(host->tls), "): ", host->detail);
  switch (host->tls) {
    case TlsMode::kUnreachable: verdict.action = Action::kDefer; return verdict;
    case TlsMode::kOpportunistic:
    case TlsMode::kMandatory: verdict.action = Action::kDeliver; return verdict;
    case TlsMode::kDane: break;
  }
  if (match != nullptr && match->matched && match->record.has_value()) {
    verdict.action = Action::kDeliver;
    verdict.authenticated = true;
    verdict.reason = Reason::kDaneAuthenticated;
    verdict.matched = match->record;
    verdict.detail = absl::StrCat("chain matched TLSA ", tlsa::TlsaText(*match->record),
                                  " at depth ", match->depth);
    return verdict;
  }
  verdict.action = Action::kDefer;
  verdict.reason = Reason::kDaneMismatch;
  verdict.detail = absl::StrCat("chain matches no usable TLSA record of ", host->tlsa_base_domain,
                                match ? ": " : "", match ? match->detail : "");
  return verdict;
}

}  // namespace danegate::policy
