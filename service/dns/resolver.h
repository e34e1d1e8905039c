// The seam between the DANE engine and DNS: an asynchronous resolver that
// reports each answer with its DNSSEC state. UnboundResolver and
// GetdnsResolver are the real ones (validating_resolver.h picks one);
// unit tests use a fake.
#ifndef DANEGATE_SERVICE_DNS_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_RESOLVER_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "service/dns/answer.h"

namespace danegate::dns {

using AnswerCallback = absl::AnyInvocable<void(DnsAnswer) &&>;

class Resolver {
 public:
  virtual ~Resolver() = default;

  // Starts a lookup of `name` (lower-case, no trailing dot) and `type`.
  // `done` is called exactly once, possibly before Lookup returns and
  // possibly on another thread; it must not block. The resolver must outlive
  // every pending lookup.
  virtual void Lookup(const std::string& name, RrType type, AnswerCallback done) = 0;
};

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_RESOLVER_H_
