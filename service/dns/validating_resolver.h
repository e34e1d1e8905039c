// The validating resolver danegated and `danegate --local` run, built from
// the configuration: UnboundResolver or GetdnsResolver (--resolver), both
// validating every answer themselves from the trust anchor.
#ifndef DANEGATE_SERVICE_DNS_VALIDATING_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_VALIDATING_RESOLVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/dns/resolver.h"
#include "service/dns/resolver_config.h"

namespace danegate::dns {

struct ValidatingResolver {
  std::unique_ptr<Resolver> resolver;
  // The owner of the first trust anchor ("." for the root): a name whose
  // answers validate as secure when all is well (the health self-check).
  std::string trust_anchor_owner;
  // Completes every pending lookup with kFailure soon and every later one
  // at once (the resolver stays valid): for the end of a shutdown's grace.
  std::function<void()> stop;
};

// Creates the resolver config.backend names and starts it; the errors of
// its Create (InvalidArgument for a bad trust anchor or upstream).
absl::StatusOr<ValidatingResolver> MakeValidatingResolver(const ResolverConfig& config);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_VALIDATING_RESOLVER_H_
