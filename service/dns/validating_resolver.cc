#include "service/dns/validating_resolver.h"

#include "service/dns/getdns_resolver.h"
#include "service/dns/unbound_resolver.h"

namespace danegate::dns {
namespace {

template <typename Backend>
absl::StatusOr<ValidatingResolver> Make(const ResolverConfig& config) {
  absl::StatusOr<std::unique_ptr<Backend>> created = Backend::Create(config);
  if (!created.ok()) return created.status();
  std::string owner = (*created)->trust_anchor_owner();
  Backend* backend = created->get();
  return ValidatingResolver{*std::move(created), std::move(owner), [backend] { backend->Stop(); }};
}

}  // namespace

absl::StatusOr<ValidatingResolver> MakeValidatingResolver(const ResolverConfig& config) {
  switch (config.backend) {
    case ResolverConfig::Backend::kUnbound: return Make<UnboundResolver>(config);
    case ResolverConfig::Backend::kGetdns: return Make<GetdnsResolver>(config);
  }
  return absl::InvalidArgumentError("unknown resolver backend");
}

}  // namespace danegate::dns
