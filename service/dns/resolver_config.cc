#include "service/dns/resolver_config.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace danegate::dns {
namespace {

bool IsIpv4(const std::string& text) {
  in_addr addr{};
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool IsIpv6(const std::string& text) {
  in6_addr addr{};
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

}  // namespace

std::string Upstream::ToString() const {
  return ipv6 ? absl::StrCat("[", address, "]:", port) : absl::StrCat(address, ":", port);
}

absl::StatusOr<Upstream> ParseUpstream(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--upstream '", text, "': ", why));
  };
  Upstream upstream;
  absl::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return bad("missing ']'");
    upstream.address = std::string(text.substr(1, close - 1));
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':PORT' after ']'");
      port_text = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    upstream.address = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  } else {
    upstream.address = std::string(text);  // bare IPv4 or IPv6 address
  }
  if (IsIpv4(upstream.address)) {
    upstream.ipv6 = false;
  } else if (IsIpv6(upstream.address)) {
    upstream.ipv6 = true;
  } else {
    return bad("not a numeric IPv4 or IPv6 address (write IPv6 with a port as [::1]:53)");
  }
  if (!port_text.empty() || text.back() == ':') {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
      return bad("port must be 1..65535");
    }
    upstream.port = static_cast<uint16_t>(port);
  }
  return upstream;
}

absl::StatusOr<ResolverConfig::Backend> ParseResolverBackend(absl::string_view text) {
  if (text == "unbound") return ResolverConfig::Backend::kUnbound;
  if (text == "getdns") return ResolverConfig::Backend::kGetdns;
  return absl::InvalidArgumentError(
      absl::StrCat("--resolver '", text, "': want unbound or getdns"));
}

absl::StatusOr<ResolverConfig::Mode> ParseResolutionMode(absl::string_view text) {
  if (text == "recursive") return ResolverConfig::Mode::kRecursive;
  if (text == "stub") return ResolverConfig::Mode::kStub;
  return absl::InvalidArgumentError(
      absl::StrCat("--resolution '", text, "': want 'recursive' or 'stub'"));
}

absl::Status CheckResolverConfig(const ResolverConfig& config) {
  if (config.mode == ResolverConfig::Mode::kStub && config.upstreams.empty()) {
    return absl::InvalidArgumentError("--resolution=stub needs at least one --upstream");
  }
  if (config.mode == ResolverConfig::Mode::kRecursive && !config.upstreams.empty()) {
    return absl::InvalidArgumentError("--upstream needs --resolution=stub");
  }
  if (config.timeout < absl::Milliseconds(10) || config.timeout > absl::Seconds(60)) {
    return absl::InvalidArgumentError("--dns-timeout must be between 10ms and 60s");
  }
  if (config.trust_anchor_file.empty()) {
    return absl::InvalidArgumentError("--trust-anchor: empty file name");
  }
  return absl::OkStatus();
}

}  // namespace danegate::dns
