// Resolver settings shared by danegated and `danegate --local`, and the
// parsing of their flag values. Pure.
#ifndef DANEGATE_SERVICE_DNS_RESOLVER_CONFIG_H_
#define DANEGATE_SERVICE_DNS_RESOLVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace danegate::dns {

inline constexpr char kSystemRootAnchor[] = "/usr/share/dns/root.key";

struct Upstream {
  std::string address;  // numeric IPv4 or IPv6, no brackets
  uint16_t port = 53;
  bool ipv6 = false;
  std::string ToString() const;  // "ADDR:PORT" or "[ADDR]:PORT"
};

struct ResolverConfig {
  enum class Mode { kRecursive, kStub };
  // Which validating resolver library does the work: both validate every
  // answer themselves from the trust anchor.
  enum class Backend { kUnbound, kGetdns };
  Mode mode = Mode::kRecursive;
  Backend backend = Backend::kUnbound;
  std::vector<Upstream> upstreams;  // stub mode only
  std::string trust_anchor_file = kSystemRootAnchor;
  absl::Duration timeout = absl::Seconds(5);  // per query
};

// Parses "ADDR:PORT", "[V6ADDR]:PORT", or a bare address (port 53).
absl::StatusOr<Upstream> ParseUpstream(absl::string_view text);

// Parses "recursive" or "stub".
absl::StatusOr<ResolverConfig::Mode> ParseResolutionMode(absl::string_view text);

// Parses "unbound" or "getdns".
absl::StatusOr<ResolverConfig::Backend> ParseResolverBackend(absl::string_view text);

// Returns OK if the combination is coherent: stub needs an upstream;
// recursive takes none; the timeout is between 10 ms and 60 s.
absl::Status CheckResolverConfig(const ResolverConfig& config);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_RESOLVER_CONFIG_H_
