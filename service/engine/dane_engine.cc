#include "service/engine/dane_engine.h"

#include <atomic>
#include <cassert>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "service/common/thread_pool.h"
#include "service/dns/name.h"
#include "service/policy/rules.h"

namespace danegate::engine {
namespace {

using dns::DnsAnswer;
using dns::RrType;
using policy::HostPolicy;
using policy::MxCandidate;

using HostCallback = absl::AnyInvocable<void(HostPolicy) &&>;

constexpr char kCancelled[] = "cancelled (the caller's deadline passed or it went away)";

// The engine's continuations verify chains with OpenSSL and answer RPCs:
// never on the resolver's event thread (dns::DispatchingResolver). Checked
// in every build with assertions, which the sanitizer builds run all tests
// with.
void AssertNotOnDnsLoop() {
  assert(common::CurrentThreadRole() != common::ThreadRole::kDnsLoop &&
         "engine work on the resolver's event thread: wrap it in a dns::DispatchingResolver");
}

bool IsCancelled(const Cancelled& cancelled) { return cancelled && cancelled(); }

// Evaluates one MX host behind a secure MX RRset: A and AAAA in parallel,
// then TLSA at each base domain in turn (RFC 7672 §2.2.2). Owns itself
// through the shared_ptr held by pending callbacks.
class HostJob : public std::enable_shared_from_this<HostJob> {
 public:
  HostJob(dns::Resolver& resolver, MxCandidate candidate, uint16_t port, Cancelled cancelled,
          HostCallback done)
      : resolver_(resolver),
        candidate_(std::move(candidate)),
        port_(port),
        cancelled_(std::move(cancelled)),
        done_(std::move(done)) {}

  void Start() {
    if (StopIfCancelled()) return;
    auto self = shared_from_this();
    resolver_.Lookup(candidate_.host, RrType::kA,
                     [self](DnsAnswer answer) mutable { self->OnAddress(0, std::move(answer)); });
    resolver_.Lookup(candidate_.host, RrType::kAaaa,
                     [self](DnsAnswer answer) mutable { self->OnAddress(1, std::move(answer)); });
  }

 private:
  void OnAddress(int family, DnsAnswer answer) {
    AssertNotOnDnsLoop();
    addresses_[family] = std::move(answer);
    // Each slot is written by one callback; the last one sees both.
    if (pending_addresses_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    expanded_ = policy::ExpandedHostName(candidate_, addresses_[0], addresses_[1]);
    bases_ = policy::TlsaBaseDomains(candidate_, addresses_[0], addresses_[1]);
    std::optional<HostPolicy> decided =
        policy::DecideFromAddresses(candidate_, addresses_[0], addresses_[1]);
    if (!decided.has_value()) {
      LookupTlsa(0);
      return;
    }
    if (!policy::NeedsAliasCheck(candidate_, *decided, addresses_[0], addresses_[1])) {
      Finish(*std::move(decided));
      return;
    }
    // Insecure addresses behind a CNAME: the alias's own answer decides
    // whether the original name is a TLSA base domain (RFC 7672 §2.2.2).
    if (StopIfCancelled()) return;
    auto self = shared_from_this();
    resolver_.Lookup(candidate_.host, RrType::kCname,
                     [self, decided = *std::move(decided)](DnsAnswer alias) mutable {
                       self->OnAlias(std::move(decided), std::move(alias));
                     });
  }

  void OnAlias(HostPolicy decided, DnsAnswer alias) {
    AssertNotOnDnsLoop();
    if (std::optional<HostPolicy> host =
            policy::DecideFromAlias(candidate_, std::move(decided), alias)) {
      Finish(*std::move(host));
      return;
    }
    bases_ = {candidate_.host};
    LookupTlsa(0);
  }

  void LookupTlsa(size_t index) {
    if (StopIfCancelled()) return;
    auto self = shared_from_this();
    resolver_.Lookup(
        dns::TlsaOwnerName(bases_[index], port_), RrType::kTlsa,
        [self, index](DnsAnswer answer) mutable { self->OnTlsa(index, std::move(answer)); });
  }

  void OnTlsa(size_t index, DnsAnswer answer) {
    AssertNotOnDnsLoop();
    if (policy::TryNextTlsaBase(answer) && index + 1 < bases_.size()) {
      LookupTlsa(index + 1);
      return;
    }
    Finish(policy::DecideFromTlsa(candidate_, bases_[index], answer));
  }

  // Finishes the host unresolved when the caller has given up: no lookup
  // is started for a call nobody waits for.
  bool StopIfCancelled() {
    if (!IsCancelled(cancelled_)) return false;
    std::move(done_)(policy::HostNotResolved(candidate_, kCancelled));
    return true;
  }

  // Records the CNAME-expanded name and the addresses (secure or
  // insecure answers), and hands the
  // host's policy over.
  void Finish(HostPolicy host) {
    host.canonical_name = expanded_;
    for (const DnsAnswer& answer : addresses_) {
      if (answer.status != dns::LookupStatus::kOk ||
          (answer.dnssec != dns::DnssecState::kSecure &&
           answer.dnssec != dns::DnssecState::kInsecure)) {
        continue;
      }
      host.addresses.insert(host.addresses.end(), answer.addresses.begin(), answer.addresses.end());
    }
    std::move(done_)(std::move(host));
  }

  dns::Resolver& resolver_;
  const MxCandidate candidate_;
  const uint16_t port_;
  const Cancelled cancelled_;
  HostCallback done_;
  DnsAnswer addresses_[2];
  std::atomic<int> pending_addresses_{2};
  std::string expanded_;  // the host's CNAME expansion, or ""
  std::vector<std::string> bases_;
};

// Resolves one domain: the MX answer, then every candidate host in parallel.
class PolicyJob : public std::enable_shared_from_this<PolicyJob> {
 public:
  PolicyJob(dns::Resolver& resolver, const Options& options, std::string domain, uint16_t port,
            Cancelled cancelled, PolicyCallback done)
      : resolver_(resolver),
        options_(options),
        domain_(std::move(domain)),
        port_(port),
        cancelled_(std::move(cancelled)),
        done_(std::move(done)) {}

  void Start() {
    if (IsCancelled(cancelled_)) {
      Deliver(policy::DomainNotResolved(domain_, port_, kCancelled));
      return;
    }
    auto self = shared_from_this();
    resolver_.Lookup(domain_, RrType::kMx,
                     [self](DnsAnswer answer) mutable { self->OnMx(std::move(answer)); });
  }

 private:
  void OnMx(DnsAnswer answer) {
    AssertNotOnDnsLoop();
    policy::MxPlan plan = policy::PlanFromMx(domain_, port_, answer);
    mx_dnssec_ = plan.mx_dnssec;
    canonical_domain_ = plan.canonical_domain;
    if (plan.decided.has_value()) {
      Deliver(*std::move(plan.decided));
      return;
    }
    note_ = plan.note;
    hosts_ = std::move(plan.invalid_hosts);
    const size_t first = hosts_.size();
    hosts_.resize(first + plan.candidates.size());
    if (!policy::EvaluateHosts(plan, options_.insecure_mx)) {
      for (size_t i = 0; i < plan.candidates.size(); ++i) {
        hosts_[first + i] = policy::HostBehindInsecureMx(plan.candidates[i]);
      }
      Finish();
      return;
    }
    pending_hosts_.store(static_cast<int>(plan.candidates.size()), std::memory_order_release);
    auto self = shared_from_this();
    for (size_t i = 0; i < plan.candidates.size(); ++i) {
      auto job = std::make_shared<HostJob>(
          resolver_, plan.candidates[i], port_, cancelled_,
          [self, slot = first + i](HostPolicy host) mutable {
            if (self->mx_dnssec_ != dns::DnssecState::kSecure) {
              host = policy::NoteInsecureMx(std::move(host));
            }
            self->hosts_[slot] = std::move(host);
            if (self->pending_hosts_.fetch_sub(1, std::memory_order_acq_rel) == 1) self->Finish();
          });
      job->Start();
    }
  }

  void Finish() { Deliver(policy::DecideDomain(domain_, port_, std::move(hosts_), note_)); }

  void Deliver(policy::DomainPolicy policy) {
    policy.mx_dnssec = mx_dnssec_;
    policy.canonical_domain = canonical_domain_;
    std::move(done_)(std::move(policy));
  }

  dns::Resolver& resolver_;
  const Options& options_;
  const std::string domain_;
  const uint16_t port_;
  const Cancelled cancelled_;
  PolicyCallback done_;
  std::vector<HostPolicy> hosts_;  // one slot per host, each written once
  std::atomic<int> pending_hosts_{0};
  std::string note_;
  dns::DnssecState mx_dnssec_ = dns::DnssecState::kIndeterminate;
  std::string canonical_domain_;
};

policy::PeerVerdict Judge(const tlsa::DaneMatcher& matcher, const policy::DomainPolicy& policy,
                          const std::string& mx_host, const tlsa::DerChain& chain) {
  const HostPolicy* host = policy::FindHost(policy, mx_host);
  if (!policy::NeedsMatch(host)) return policy::DecidePeer(policy, mx_host, nullptr);
  absl::StatusOr<tlsa::MatchResult> match =
      matcher.Match(chain, host->tlsa, policy::ReferenceNames(policy, *host));
  if (!match.ok()) {
    // The chain was checked at the edge; an error here is internal. Fail
    // closed: a DANE host without a match is a mismatch.
    tlsa::MatchResult failed;
    failed.detail = std::string(match.status().message());
    return policy::DecidePeer(policy, mx_host, &failed);
  }
  return policy::DecidePeer(policy, mx_host, &*match);
}

}  // namespace

DaneEngine::DaneEngine(dns::Resolver& resolver, const tlsa::DaneMatcher& matcher, Options options)
    : resolver_(resolver), matcher_(matcher), options_(options) {}

void DaneEngine::ResolvePolicy(std::string domain, uint16_t port, PolicyCallback done,
                               Cancelled cancelled) {
  std::make_shared<PolicyJob>(resolver_, options_, std::move(domain), port, std::move(cancelled),
                              std::move(done))
      ->Start();
}

void DaneEngine::VerifyPeer(std::string domain, std::string mx_host, uint16_t port,
                            tlsa::DerChain chain, VerdictCallback done, Cancelled cancelled) {
  ResolvePolicy(
      std::move(domain), port,
      [this, mx_host = std::move(mx_host), chain = std::move(chain),
       done = std::move(done)](policy::DomainPolicy policy) mutable {
        AssertNotOnDnsLoop();
        std::move(done)(Judge(matcher_, policy, mx_host, chain));
      },
      std::move(cancelled));
}

policy::PeerVerdict MatchOffline(const tlsa::DaneMatcher& matcher, const std::string& host,
                                 uint16_t port, std::vector<tlsa::TlsaRecord> records,
                                 const tlsa::DerChain& chain) {
  std::vector<HostPolicy> hosts;
  hosts.push_back(policy::HostFromTrustedTlsa(host, std::move(records)));
  const policy::DomainPolicy policy = policy::DecideDomain(host, port, std::move(hosts));
  return Judge(matcher, policy, host, chain);
}

}  // namespace danegate::engine
