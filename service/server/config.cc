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
  flags.Count("cache-max-entries", &c.cache.max_entries, 0, 100'000'000,
              "DNS answers kept in memory, least recently used evicted (default 100000)");
  flags.Duration("cache-max-ttl", &c.cache.max_ttl, absl::ZeroDuration(), absl::Hours(168),
                 "longest time an answer is kept (default 6h)");
  flags.Duration("cache-max-negative-ttl", &c.cache.max_negative_ttl, absl::ZeroDuration(),
                 absl::Hours(3), "longest time a denial (NODATA, NXDOMAIN) is kept (default 5m)");
  flags.Duration("cache-failure-ttl", &c.cache.failure_ttl, absl::ZeroDuration(), absl::Minutes(5),
                 "time a failed or bogus answer is kept (default 2s)");
  flags.Duration("grace-period", &c.grace_period, absl::ZeroDuration(), absl::Minutes(10),
                 "on SIGTERM, time given to RPCs in flight (default 10s)");
  flags.Duration("health-interval", &c.health_interval, absl::Milliseconds(100), absl::Minutes(10),
                 "interval of the resolver self-check behind the health status (default 5s)");
  flags.Count("max-request-bytes", &c.max_request_bytes, 1024, 4 * 1024 * 1024,
              absl::StrCat("largest request accepted (default ", kDefaultMaxRequestBytes, ")"));
  flags.Count("cert-cache-bytes", &c.cert_cache_bytes, 0, size_t{1} << 40,
              "memory for parsed peer certificates, estimated (default 67108864, 64 MiB)");
  flags.Duration("tls-reload-interval", &c.tls_reload_interval, absl::Seconds(1), absl::Hours(24),
                 "how often --tls-cert, --tls-key and --client-ca are read again; a changed "
                 "certificate (a renewal, a Kubernetes Secret update) serves new "
                 "connections without a restart (default 60s)");
  flags.Count("max-connections", &c.max_connections, 1, 1'000'000,
              "client connections open at once; more are closed as they arrive, and "
              "readiness is off while that happens (default 4096; lowered to what the "
              "descriptor limit allows)");
  flags.Count("max-concurrent-streams", &c.max_concurrent_streams, 1, 10000,
              "HTTP/2 streams (calls) one connection may have open (default 100)");
  flags.Count("memory-quota-bytes", &c.memory_quota_bytes, 16u << 20, size_t{1} << 40,
              "memory gRPC accounts for all connections and calls; beyond it, new calls and "
              "connections are refused (default 67108864, 64 MiB: the process then stays "
              "under about 400 MiB however many streams clients stall)");
  flags.Duration("handshake-timeout", &c.handshake_timeout, absl::Milliseconds(100),
                 absl::Minutes(1),
                 "time a new connection has to finish its TLS and HTTP/2 handshake (default 5s)");
  flags.Duration("max-connection-idle", &c.max_connection_idle, absl::Seconds(1), absl::Hours(24),
                 "a connection without calls for this long is closed (default 5m)");
  flags.Duration("max-connection-age", &c.max_connection_age, absl::Seconds(1), absl::Hours(24),
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
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", positional->front(), "'"));
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
  for (const auto& [flag, path, out] : {std::tuple{"--tls-cert", &tls_cert, &c.tls_cert_file},
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

  return parsed;
}

}  // namespace danegate::server
