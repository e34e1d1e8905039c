// dns::Resolver on getdns (--resolver=getdns; libunbound is the default):
// with getdns_message.{h,cc}, the only code in danegate that talks to
// getdns. getdns validates every answer itself (it asks for the DNSKEY/DS
// chain and never trusts an upstream's AD bit); stub or recursive
// resolution. getdns 1.6 aborts when DNSKEY or DS answers are lost or late
// (docs/danegated.md, tests/integration/test_faults.py).
#ifndef DANEGATE_SERVICE_DNS_GETDNS_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_GETDNS_RESOLVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "service/dns/resolver.h"
#include "service/dns/resolver_config.h"

namespace danegate::dns {

// Runs one getdns context on a thread of its own; Lookup may be called from
// any thread and callbacks run on that thread.
class GetdnsResolver : public Resolver {
 public:
  // Creates the resolver and starts its thread. Fails with InvalidArgument
  // for an unreadable trust-anchor file or one holding no DS/DNSKEY record
  // (getdns 1.6 would silently ignore it), and for bad upstreams.
  static absl::StatusOr<std::unique_ptr<GetdnsResolver>> Create(const ResolverConfig& config);

  // Stops the thread; lookups still pending complete with kFailure.
  ~GetdnsResolver() override;

  // Completes every pending lookup with kFailure soon, on the loop thread,
  // and every later one at once; the object stays usable until destroyed.
  void Stop();

  void Lookup(const std::string& name, RrType type, AnswerCallback done) override;

  // Returns the owner name of the first trust anchor ("." for the root): a
  // name whose answers must validate as secure when all is well.
  const std::string& trust_anchor_owner() const { return trust_anchor_owner_; }

  class Loop;

 private:
  GetdnsResolver(std::unique_ptr<Loop> loop, std::string trust_anchor_owner);
  std::unique_ptr<Loop> loop_;
  const std::string trust_anchor_owner_;
};

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_GETDNS_RESOLVER_H_
