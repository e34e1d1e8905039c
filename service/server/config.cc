#include "service/server/config.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/common/file.h"
#include "service/common/flags.h"
#include "service/common/socket_address.h"
#include "service/dns/resolver_flags.h"

namespace danegate::server {
namespace {

constexpr char kUsage[] =
    "usage: danegated [options]\n"
    "\n"
    "The danegate validation service: DNSSEC-validated TLSA resolution and the\n"
    "RFC 7672 rules for a fleet of MTAs, over gRPC (danegate.v1.Validator, plus\n"
    "grpc.health.v1.Health and server reflection). SIGTERM stops accepting,\n"
    "finishes the RPCs in flight within --grace-period, and exits 0.\n"
    "\n"
    "options:\n";

absl::StatusOr<std::string> ReadPemFile(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> content = common::ReadFileBounded(path, 1 << 20);
  if (!content.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", content.status().message()));
  }
  if (content->find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": not a PEM file"));
  }
  return content;
}

absl::Status ParseDurationFlag(const std::string& flag, const std::string& text,
                               absl::Duration min, absl::Duration max, absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out < min || *out > max) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': want a duration from ",
                                                   absl::FormatDuration(min), " to ",
                                                   absl::FormatDuration(max)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckListenAddress(const std::string& flag, const std::string& listen) {
  return common::ParseListenAddress(flag, listen).status();
}

bool IsLoopbackListen(const std::string& listen) {
  absl::StatusOr<common::SocketAddress> address = common::ParseListenAddress("", listen);
  return address.ok() && address->loopback();
}

absl::StatusOr<ParsedFlags> ParseServerFlags(const std::vector<std::string>& args) {
  ParsedFlags parsed;
  ServerConfig& c = parsed.config;
  std::string tls_cert, tls_key, client_ca;
  std::string grace = "10s", health = "5s", max_ttl = "6h", max_negative_ttl = "5m",
              failure_ttl = "2s", cache_entries = "100000",
              max_request = std::to_string(kDefaultMaxRequestBytes);
  dns::ResolverFlagValues resolver;

  common::FlagSet flags;
  flags.String("listen", &c.listen, "ADDR:PORT",
               absl::StrCat("gRPC address (default ", kDefaultListen, "; port 0 picks one)"));
  flags.String("tls-cert", &tls_cert, "FILE", "server certificate chain (PEM); enables TLS");
  flags.String("tls-key", &tls_key, "FILE", "private key of --tls-cert (PEM)");
  flags.String("client-ca", &client_ca, "FILE",
               "CA (PEM) that client certificates must chain to: mutual TLS");
  flags.Repeated("allow-client", &c.allow_clients, "NAME",
                 "certificate name (SAN DNS or CN) allowed to call; needs --client-ca");
  flags.Bool("unsafe-plaintext-on-network", &c.unsafe_plaintext_on_network,
             "allow plaintext gRPC on a non-loopback address (traffic and verdicts can be "
             "read and forged on the network)");
  flags.String("metrics-listen", &c.metrics_listen, "ADDR:PORT",
               "serve Prometheus metrics at http://ADDR:PORT/metrics (default off)");
  flags.String("health-listen", &c.health_listen, "ADDR:PORT",
               "also serve grpc.health.v1.Health alone, in plaintext, here: for probes that "
               "cannot do TLS, e.g. Kubernetes gRPC probes; service \"\" is readiness, "
               "\"liveness\" is SERVING while the process runs (default off)");
  flags.String("audit-log", &c.audit_log, "FILE",
               "one JSON line per decision: a file, '-' for stdout (default), '' for none");
  dns::AddResolverFlags(flags, resolver);
  std::string insecure_mx = "dane";
  flags.String("insecure-mx-policy", &insecure_mx, "dane|may",
               "hosts behind an insecure MX RRset: DANE from their own secure address and "
               "TLSA records (dane, the default, as Postfix at its dane level), or never "
               "(may) (RFC 7672 section 2.2.1)");
  flags.String("cache-max-entries", &cache_entries, "N",
               "DNS answers kept in memory, least recently used evicted (default 100000)");
  flags.String("cache-max-ttl", &max_ttl, "DURATION", "longest time an answer is kept (default 6h)");
  flags.String("cache-max-negative-ttl", &max_negative_ttl, "DURATION",
               "longest time a denial (NODATA, NXDOMAIN) is kept (default 5m)");
  flags.String("cache-failure-ttl", &failure_ttl, "DURATION",
               "time a failed or bogus answer is kept (default 2s)");
  flags.String("grace-period", &grace, "DURATION",
               "on SIGTERM, time given to RPCs in flight (default 10s)");
  flags.String("health-interval", &health, "DURATION",
               "interval of the resolver self-check behind the health status (default 5s)");
  flags.String("max-request-bytes", &max_request, "N",
               absl::StrCat("largest request accepted (default ", kDefaultMaxRequestBytes, ")"));
  std::string cert_cache = "67108864";
  flags.String("cert-cache-bytes", &cert_cache, "N",
               "memory for parsed peer certificates, estimated (default 67108864, 64 MiB)");
  std::string tls_reload = "60s";
  flags.String("tls-reload-interval", &tls_reload, "DURATION",
               "how often --tls-cert, --tls-key and --client-ca are read again; a changed "
               "certificate (a renewal, a Kubernetes Secret update) serves new "
               "connections without a restart (default 60s)");
  std::string max_connections = "4096";
  flags.String("max-connections", &max_connections, "N",
               "client connections open at once; more are closed as they arrive, and "
               "readiness is off while that happens (default 4096; lowered to what the "
               "descriptor limit allows)");
  std::string max_streams = "100", memory_quota = "67108864", handshake = "5s",
              max_idle = "5m", max_age = "30m";
  flags.String("max-concurrent-streams", &max_streams, "N",
               "HTTP/2 streams (calls) one connection may have open (default 100)");
  flags.String("memory-quota-bytes", &memory_quota, "N",
               "memory gRPC accounts for all connections and calls; beyond it, new calls and "
               "connections are refused (default 67108864, 64 MiB: the process then stays "
               "under about 400 MiB however many streams clients stall)");
  flags.String("handshake-timeout", &handshake, "DURATION",
               "time a new connection has to finish its TLS and HTTP/2 handshake (default 5s)");
  flags.String("max-connection-idle", &max_idle, "DURATION",
               "a connection without calls for this long is closed (default 5m)");
  flags.String("max-connection-age", &max_age, "DURATION",
               "connections are closed (gracefully) after this long, so clients rebalance "
               "over replicas (default 30m)");

  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return positional.status();
  if (flags.version_requested()) {
    parsed.version = true;
    return parsed;
  }
  if (flags.help_requested()) {
    parsed.help = true;
    parsed.help_text = absl::StrCat(kUsage, flags.Help());
    return parsed;
  }
  if (!positional->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", positional->front(), "'"));
  }

  if (absl::Status s = CheckListenAddress("--listen", c.listen); !s.ok()) return s;
  if (!c.metrics_listen.empty()) {
    if (absl::Status s = CheckListenAddress("--metrics-listen", c.metrics_listen); !s.ok()) {
      return s;
    }
  }
  if (!c.health_listen.empty()) {
    if (absl::Status s = CheckListenAddress("--health-listen", c.health_listen); !s.ok()) {
      return s;
    }
  }
  if (tls_cert.empty() != tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!client_ca.empty() && tls_cert.empty()) {
    return absl::InvalidArgumentError("--client-ca needs --tls-cert and --tls-key");
  }
  if (!c.allow_clients.empty() && client_ca.empty()) {
    return absl::InvalidArgumentError("--allow-client needs --client-ca (mutual TLS)");
  }
  if (tls_cert.empty() && !IsLoopbackListen(c.listen) && !c.unsafe_plaintext_on_network) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", c.listen,
        " is not loopback: give --tls-cert/--tls-key (and --client-ca), or accept the risk "
        "with --unsafe-plaintext-on-network"));
  }
  // Read once here so that a bad path fails at start, not at the first
  // handshake; gRPC reads them again on every change.
  for (const auto& [flag, path, out] :
       {std::tuple{"--tls-cert", &tls_cert, &c.tls_cert_file},
        std::tuple{"--tls-key", &tls_key, &c.tls_key_file},
        std::tuple{"--client-ca", &client_ca, &c.client_ca_file}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadPemFile(flag, *path);
    if (!pem.ok()) return pem.status();
    *out = *path;
  }
  absl::StatusOr<policy::InsecureMxPolicy> insecure =
      policy::ParseInsecureMxPolicy("--insecure-mx-policy", insecure_mx);
  if (!insecure.ok()) return insecure.status();
  c.engine.insecure_mx = *insecure;
  absl::StatusOr<dns::ResolverConfig> resolver_config = dns::ResolverConfigFrom(resolver);
  if (!resolver_config.ok()) return resolver_config.status();
  c.resolver = *std::move(resolver_config);

  if (!absl::SimpleAtoi(cache_entries, &c.cache.max_entries) || c.cache.max_entries > 100'000'000) {
    return absl::InvalidArgumentError("--cache-max-entries: want 0..100000000");
  }
  if (!absl::SimpleAtoi(max_request, &c.max_request_bytes) || c.max_request_bytes < 1024 ||
      c.max_request_bytes > 4 * 1024 * 1024) {
    return absl::InvalidArgumentError("--max-request-bytes: want 1024..4194304");
  }
  if (!absl::SimpleAtoi(cert_cache, &c.cert_cache_bytes)) {
    return absl::InvalidArgumentError("--cert-cache-bytes: want a number of bytes");
  }
  if (!absl::SimpleAtoi(max_connections, &c.max_connections) || c.max_connections < 1 ||
      c.max_connections > 1'000'000) {
    return absl::InvalidArgumentError("--max-connections: want 1..1000000");
  }
  if (!absl::SimpleAtoi(max_streams, &c.max_concurrent_streams) ||
      c.max_concurrent_streams < 1 || c.max_concurrent_streams > 10000) {
    return absl::InvalidArgumentError("--max-concurrent-streams: want 1..10000");
  }
  if (!absl::SimpleAtoi(memory_quota, &c.memory_quota_bytes) || c.memory_quota_bytes < (16u << 20)) {
    return absl::InvalidArgumentError("--memory-quota-bytes: want at least 16777216 (16 MiB)");
  }
  for (absl::Status s : {
           ParseDurationFlag("--tls-reload-interval", tls_reload, absl::Seconds(1),
                             absl::Hours(24), &c.tls_reload_interval),
           ParseDurationFlag("--handshake-timeout", handshake, absl::Milliseconds(100),
                             absl::Minutes(1), &c.handshake_timeout),
           ParseDurationFlag("--max-connection-idle", max_idle, absl::Seconds(1),
                             absl::Hours(24), &c.max_connection_idle),
           ParseDurationFlag("--max-connection-age", max_age, absl::Seconds(1), absl::Hours(24),
                             &c.max_connection_age),
           ParseDurationFlag("--cache-max-ttl", max_ttl, absl::ZeroDuration(), absl::Hours(168),
                             &c.cache.max_ttl),
           ParseDurationFlag("--cache-max-negative-ttl", max_negative_ttl, absl::ZeroDuration(),
                             absl::Hours(3), &c.cache.max_negative_ttl),
           ParseDurationFlag("--cache-failure-ttl", failure_ttl, absl::ZeroDuration(),
                             absl::Minutes(5), &c.cache.failure_ttl),
           ParseDurationFlag("--grace-period", grace, absl::ZeroDuration(), absl::Minutes(10),
                             &c.grace_period),
           ParseDurationFlag("--health-interval", health, absl::Milliseconds(100),
                             absl::Minutes(10), &c.health_interval),
       }) {
    if (!s.ok()) return s;
  }
  return parsed;
}

}  // namespace danegate::server
