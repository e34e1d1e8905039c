// The resolver flags shared by danegated and `danegate --local`: one
// definition, so both programs accept and document them identically.
#ifndef DANEGATE_SERVICE_DNS_RESOLVER_FLAGS_H_
#define DANEGATE_SERVICE_DNS_RESOLVER_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/common/flags.h"
#include "service/dns/resolver_config.h"

namespace danegate::dns {

struct ResolverFlagValues {
  std::string resolver = "unbound";
  std::string resolution = "recursive";
  std::vector<std::string> upstreams;
  std::string trust_anchor = kSystemRootAnchor;
  std::string dns_timeout = "5s";
};

// Registers --resolver, --resolution, --upstream, --trust-anchor and
// --dns-timeout.
// `values` must outlive `flags`' Parse.
void AddResolverFlags(common::FlagSet& flags, ResolverFlagValues& values);

// Returns the checked configuration, or InvalidArgument naming the flag.
absl::StatusOr<ResolverConfig> ResolverConfigFrom(const ResolverFlagValues& values);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_RESOLVER_FLAGS_H_
