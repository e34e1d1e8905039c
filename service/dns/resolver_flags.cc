#include "service/dns/resolver_flags.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace danegate::dns {

void AddResolverFlags(common::FlagSet& flags, ResolverFlagValues& values) {
  flags.String("resolver", &values.resolver, "unbound|getdns",
               "the validating resolver library (default unbound; getdns 1.6 can crash "
               "when DNSKEY or DS answers are lost)");
  flags.String("resolution", &values.resolution, "recursive|stub",
               "resolve from the root (default) or through --upstream");
  flags.Repeated("upstream", &values.upstreams, "ADDR:PORT",
                 "stub-mode resolver, e.g. 127.0.0.1:53 or [::1]:53");
  flags.String("trust-anchor", &values.trust_anchor, "FILE",
               "DS/DNSKEY records in zone-file format (default /usr/share/dns/root.key)");
  flags.String("dns-timeout", &values.dns_timeout, "DURATION",
               "timeout of each DNS query (default 5s)");
}

absl::StatusOr<ResolverConfig> ResolverConfigFrom(const ResolverFlagValues& values) {
  ResolverConfig config;
  absl::StatusOr<ResolverConfig::Backend> backend = ParseResolverBackend(values.resolver);
  if (!backend.ok()) return backend.status();
  config.backend = *backend;
  absl::StatusOr<ResolverConfig::Mode> mode = ParseResolutionMode(values.resolution);
  if (!mode.ok()) return mode.status();
  config.mode = *mode;
  for (const std::string& text : values.upstreams) {
    absl::StatusOr<Upstream> upstream = ParseUpstream(text);
    if (!upstream.ok()) return upstream.status();
    config.upstreams.push_back(*upstream);
  }
  config.trust_anchor_file = values.trust_anchor;
  if (!absl::ParseDuration(values.dns_timeout, &config.timeout)) {
    return absl::InvalidArgumentError(absl::StrCat("--dns-timeout '", values.dns_timeout,
                                                   "': want a duration such as 2s or 500ms"));
  }
  if (absl::Status s = CheckResolverConfig(config); !s.ok()) return s;
  return config;
}

}  // namespace danegate::dns
