// dns::Resolver on libunbound (NLnet Labs): the only code in danegate that
// talks to libunbound. libunbound validates every answer itself from the
// trust anchor (it never trusts an upstream's AD bit), forwarding to the
// upstreams (stub mode) or resolving from the root (recursive mode). Its
// answers are read by the same code as getdns's (getdns_message.h).
#ifndef DANEGATE_SERVICE_DNS_UNBOUND_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_UNBOUND_RESOLVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/dns/resolver.h"
#include "service/dns/resolver_config.h"

namespace danegate::dns {

// Runs one libunbound context (with its own worker thread) and one thread
// that processes its results and enforces each lookup's deadline
// (config.timeout: libunbound has no per-query timeout of its own). Lookup
// may be called from any thread; callbacks run on the processing thread.
class UnboundResolver : public Resolver {
 public:
  // Creates the resolver and starts its threads. InvalidArgument for an
  // unreadable or empty trust-anchor file and for bad upstreams.
  static absl::StatusOr<std::unique_ptr<UnboundResolver>> Create(const ResolverConfig& config);

  // Stops the threads; lookups still pending complete with kFailure.
  ~UnboundResolver() override;

  // Completes every pending lookup with kFailure ("resolver stopped") soon,
  // on the processing thread, and every later one at once; the object stays
  // usable until destroyed. For the end of a shutdown's grace period.
  void Stop();

  void Lookup(const std::string& name, RrType type, AnswerCallback done) override;

  // Returns the owner name of the first trust anchor ("." for the root).
  const std::string& trust_anchor_owner() const { return trust_anchor_owner_; }

  class Loop;

 private:
  UnboundResolver(std::unique_ptr<Loop> loop, std::string trust_anchor_owner);
  std::unique_ptr<Loop> loop_;
  const std::string trust_anchor_owner_;
};

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_UNBOUND_RESOLVER_H_
