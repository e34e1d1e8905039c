// The DANE engine: gathers the DNS facts a decision needs through a
// dns::Resolver, asynchronously and in parallel where the rules allow, and
// applies the policy rules; matches peer chains with a tlsa::DaneMatcher.
#ifndef DANEGATE_SERVICE_ENGINE_DANE_ENGINE_H_
#define DANEGATE_SERVICE_ENGINE_DANE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "service/dns/resolver.h"
#include "service/policy/decision.h"
#include "service/policy/rules.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/matcher.h"

namespace danegate::engine {

using PolicyCallback = absl::AnyInvocable<void(policy::DomainPolicy) &&>;
using VerdictCallback = absl::AnyInvocable<void(policy::PeerVerdict) &&>;

// Whether the caller has given up on a request (its deadline passed, it
// went away). Asked before every DNS lookup the request would start: once
// true, the request starts no more lookups and completes at once, deferred
// with dns_failure ("not resolved: cancelled"). Empty: never. May be called
// on any thread, after the request completes never.
using Cancelled = std::function<bool()>;

// The choices RFC 7672 leaves to the sender.
struct Options {
  policy::InsecureMxPolicy insecure_mx = policy::InsecureMxPolicy::kDane;
};

class DaneEngine {
 public:
  // `resolver` and `matcher` must outlive the engine and every request.
  DaneEngine(dns::Resolver& resolver, const tlsa::DaneMatcher& matcher, Options options = {});

  // Resolves the delivery policy of `domain` (canonical, see
  // dns::CanonicalMailName) for SMTP on `port`. `done` runs exactly once, on
  // whichever thread delivered the last DNS answer (never the resolver's
  // event thread: give the engine a dns::DispatchingResolver), or on this
  // one.
  void ResolvePolicy(std::string domain, uint16_t port, PolicyCallback done,
                     Cancelled cancelled = {});

  // Decides whether a TLS session with `mx_host` that presented `chain`
  // (leaf first, already checked with tlsa::CheckChain) may carry mail for
  // `domain`. Same callback contract as ResolvePolicy.
  void VerifyPeer(std::string domain, std::string mx_host, uint16_t port, tlsa::DerChain chain,
                  VerdictCallback done, Cancelled cancelled = {});

 private:
  dns::Resolver& resolver_;
  const tlsa::DaneMatcher& matcher_;
  const Options options_;
};

// Returns the verdict for `chain` against `records` given as trusted, with no
// DNS: the offline `danegate match`.
policy::PeerVerdict MatchOffline(const tlsa::DaneMatcher& matcher, const std::string& host,
                                 uint16_t port, std::vector<tlsa::TlsaRecord> records,
                                 const tlsa::DerChain& chain);

}  // namespace danegate::engine

#endif  // DANEGATE_SERVICE_ENGINE_DANE_ENGINE_H_
