// danegated's configuration: every flag, parsed and checked at start, with
// the certificate files read so a bad path fails before serving.
#ifndef DANEGATE_SERVICE_SERVER_CONFIG_H_
#define DANEGATE_SERVICE_SERVER_CONFIG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/dns/caching_resolver.h"
#include "service/dns/resolver_config.h"
#include "service/engine/dane_engine.h"

namespace danegate::server {

inline constexpr char kDefaultListen[] = "127.0.0.1:50051";
// 16 certificates of 64 KiB plus the other fields.
inline constexpr size_t kDefaultMaxRequestBytes = 16 * 64 * 1024 + 16 * 1024;

struct ServerConfig {
  std::string listen = kDefaultListen;
  // PEM files, checked readable at start and re-read every
  // tls_reload_interval (a renewed certificate needs no restart).
  std::string tls_cert_file;  // empty: plaintext
  std::string tls_key_file;
  std::string client_ca_file;  // non-empty: mutual TLS required
  absl::Duration tls_reload_interval = absl::Seconds(60);
  std::vector<std::string> allow_clients;
  bool unsafe_plaintext_on_network = false;
  std::string metrics_listen;  // empty: no metrics endpoint
  std::string health_listen;   // empty: health only on --listen
  std::string audit_log = "-";
  dns::ResolverConfig resolver;
  engine::Options engine;
  dns::CacheLimits cache;
  absl::Duration grace_period = absl::Seconds(10);
  absl::Duration health_interval = absl::Seconds(5);
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  // What one client may hold (HTTP/2 and connection limits): streams per
  // connection, memory for all of gRPC's buffers, the TLS/HTTP/2
  // handshake, idle and total connection lifetime (clients reconnect).
  size_t cert_cache_bytes = 64u << 20;  // tlsa::MatcherOptions
  size_t max_connections = 4096;
  size_t max_concurrent_streams = 100;
  size_t memory_quota_bytes = 64u << 20;
  absl::Duration handshake_timeout = absl::Seconds(5);
  absl::Duration max_connection_idle = absl::Minutes(5);
  absl::Duration max_connection_age = absl::Minutes(30);
};

struct ParsedFlags {
  bool help = false;
  bool version = false;
  std::string help_text;  // set when help
  ServerConfig config;
};

// Parses and checks danegated's arguments (argv without the program name).
// InvalidArgument names the flag and says why.
absl::StatusOr<ParsedFlags> ParseServerFlags(const std::vector<std::string>& args);

// Returns true if "HOST:PORT" listens on loopback only (127.0.0.0/8, ::1,
// localhost).
bool IsLoopbackListen(const std::string& listen);

// Checks "ADDR:PORT", "[V6]:PORT" or "localhost:PORT" (port 0..65535; 0
// picks a free port).
absl::Status CheckListenAddress(const std::string& flag, const std::string& listen);

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_CONFIG_H_
