// danegate-agent: the one process on an MTA's host that talks to the
// validator pool. It keeps one gRPC channel (TLS or mutual TLS) to danegated
// and answers the MTAs on a unix socket or loopback port, in the socketmap
// protocol: Postfix's smtp_tls_policy_maps and transport_maps (the Postfix
// TLS policy or transport entry that enforces the verdict) and the tables of
// danegate_exim.so (exim_lookup.h). No MTA process runs gRPC. Wires the
// socket server, the lookups and the gRPC channel together. Also installed
// as danegate-postfix, its former name; the flags are the same.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "plugin/agent/agent_metrics.h"
#include "plugin/agent/exim_lookup.h"
#include "plugin/agent/socketmap_server.h"
#include "plugin/postfix/lookup.h"
#include "plugin/postfix/trust_anchor_files.h"
#include "service/api/remote.h"
#include "service/common/flags.h"
#include "service/dns/name.h"
#include "service/common/log.h"
#include "service/common/metrics_http.h"
#include "service/common/stop_signals.h"
#include "service/common/version.h"
#include "service/smtp/starttls_client.h"

namespace danegate::agent {

using postfix::Lookup;
using postfix::TrustAnchorFiles;
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

constexpr char kUsage[] =
    "usage: danegate-agent --listen=unix:/PATH|127.0.0.1:PORT --server=HOST:PORT [flags]\n";

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

int Usage(const std::string& message) {
  std::cerr << "danegate-agent: " << message << "\n" << kUsage;
  return kExitUsage;
}

// Parses all of `text` as an unsigned number in `base` within [min, max]
// (no sign, no spaces).
bool ParseCount(const std::string& text, int base, size_t min, size_t max, size_t* out) {
  size_t value = 0;
  const char* end = text.data() + text.size();
  const std::from_chars_result parsed = std::from_chars(text.data(), end, value, base);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != end) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

int Main(int argc, char** argv) {
  sigset_t stop_signals = common::BlockStopSignals();

  api::RemoteOptions remote;
  std::string listen, timeout = "2s", ta_dir = "/var/lib/danegate-postfix/ta";
  std::string postfix_chroot, metrics_listen, probe_timeout = "10s", helo_name = HostName();
  std::string ta_files = "1000", max_connections = "256", smtp_port = "25", socket_mode = "0666";
  common::FlagSet flags;
  flags.String("listen", &listen, "ADDR", "unix:/PATH, 127.0.0.1:PORT or [::1]:PORT (required)");
  flags.String("server", &remote.server, "HOST:PORT", "the danegated to ask (required)");
  flags.String("tls-ca", &remote.ca_file, "FILE", "CA certificates (PEM) that verify the server");
  flags.String("tls-cert", &remote.cert_file, "FILE", "client certificate (PEM), mutual TLS");
  flags.String("tls-key", &remote.key_file, "FILE", "private key of --tls-cert (PEM)");
  flags.String("tls-server-name", &remote.server_name, "NAME",
               "name expected in the server's certificate");
  std::string tls_reload = "60s";
  flags.String("tls-reload-interval", &tls_reload, "DURATION",
               "how often the --tls-* files are read again; renewed ones are used for new "
               "connections without a restart (default 60s)");
  flags.String("timeout", &timeout, "DURATION", "deadline of each question (default 2s)");
  flags.String("ta-dir", &ta_dir, "DIR",
               "where DANE-TA trust-anchor files are written; its ta-* files belong to "
               "danegate-postfix and are removed at start (default /var/lib/danegate-postfix/ta)");
  flags.String("postfix-chroot", &postfix_chroot, "DIR",
               "smtp(8) runs chrooted to DIR: --ta-dir must be inside, paths are given relative");
  flags.String("metrics-listen", &metrics_listen, "ADDR:PORT",
               "serve Prometheus metrics at http://ADDR:PORT/metrics (default off)");
  flags.String("ta-files", &ta_files, "N", "at most N trust-anchor files (default 1000)");
  flags.String("max-connections", &max_connections, "N",
               "concurrent MTA connections (default 256)");
  flags.String("smtp-port", &smtp_port, "PORT", "SMTP port of the TLSA lookups (default 25)");
  flags.String("socket-mode", &socket_mode, "OCTAL", "unix socket permissions (default 0666)");
  flags.String("probe-timeout", &probe_timeout, "DURATION",
               "for a dane host with only digest DANE-TA records: deadline of the STARTTLS "
               "connection that fetches its chain to find the trust anchors (default 10s)");
  flags.String("helo-name", &helo_name, "NAME", "EHLO name of that connection (default: hostname)");
  std::vector<std::string> local_domain_flags;
  flags.Repeated("local-domain", &local_domain_flags, "DOMAIN",
                 "a domain this Postfix delivers itself (repeatable): the transport table leaves "
                 "it to Postfix's routing without asking danegated");
  absl::StatusOr<std::vector<std::string>> args =
      flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (flags.version_requested()) {
    std::cout << "danegate-agent " << common::kVersion << "\n";
    return 0;
  }
  if (flags.help_requested()) {
    std::cout << kUsage << "\nAnswers socketmap lookups with danegated's verdicts: Postfix's maps '"
              << postfix::kTlsPolicyMap << "' (smtp_tls_policy_maps) and '"
              << postfix::kTransportMap << "' (transport_maps), and danegate_exim.so's '"
              << kEximPolicyMap << "' and '" << kEximVerifyMap << "'.\n\nflags:\n"
              << flags.Help();
    return 0;
  }
  if (!args->empty()) return Usage(absl::StrCat("unexpected argument '", (*args)[0], "'"));
  if (listen.empty()) return Usage("--listen is required");
  if (remote.server.empty()) return Usage("--server is required");
  if (!absl::ParseDuration(timeout, &remote.timeout) || remote.timeout <= absl::ZeroDuration() ||
      remote.timeout > absl::Minutes(1)) {
    return Usage("--timeout must be a duration in (0, 1m], e.g. 2s");
  }
  if (!absl::ParseDuration(tls_reload, &remote.tls_reload_interval) ||
      remote.tls_reload_interval < absl::Seconds(1) ||
      remote.tls_reload_interval > absl::Hours(24)) {
    return Usage("--tls-reload-interval must be a duration in [1s, 24h], e.g. 60s");
  }
  smtp::FetchOptions probe{.helo_name = helo_name};
  if (!absl::ParseDuration(probe_timeout, &probe.timeout) ||
      probe.timeout <= absl::ZeroDuration() || probe.timeout > absl::Minutes(5)) {
    return Usage("--probe-timeout must be a duration in (0, 5m], e.g. 10s");
  }
  if (helo_name.empty() || helo_name.size() > 255 ||
      helo_name.find_first_of(" \t\r\n") != std::string::npos) {
    return Usage("--helo-name must be a host name");
  }
  SocketmapOptions options;
  // An exim_verify request carries a whole chain in base64.
  options.max_request = kMaxEximChain * ((kMaxEximCertificate + 2) / 3 * 4 + 1) + 1024;
  size_t files = 0, port = 0, mode = 0;
  if (!ParseCount(ta_files, 10, 1, 1000000, &files)) return Usage("--ta-files must be 1..1000000");
  if (!ParseCount(max_connections, 10, 1, 10000, &options.max_connections)) {
    return Usage("--max-connections must be 1..10000");
  }
  if (!ParseCount(smtp_port, 10, 1, 65535, &port)) return Usage("--smtp-port must be 1..65535");
  if (!ParseCount(socket_mode, 8, 0, 0777, &mode)) return Usage("--socket-mode must be octal");
  options.socket_mode = static_cast<unsigned>(mode);
  probe.port = static_cast<uint16_t>(port);

  while (postfix_chroot.size() > 1 && postfix_chroot.back() == '/') postfix_chroot.pop_back();
  if (!postfix_chroot.empty() && !absl::StartsWith(ta_dir, postfix_chroot + "/")) {
    return Usage("--ta-dir must be inside --postfix-chroot");
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = api::ConnectValidator(remote);
  if (!channel.ok()) return Usage(std::string(channel.status().message()));
  AgentMetrics metrics;
  absl::StatusOr<std::unique_ptr<TrustAnchorFiles>> anchors =
      TrustAnchorFiles::Open(ta_dir, files);
  if (!anchors.ok()) return Usage(std::string(anchors.status().message()));

  absl::flat_hash_set<std::string> local_domains;
  for (const std::string& domain : local_domain_flags) {
    absl::StatusOr<std::string> canonical = dns::CanonicalMailName(domain, "--local-domain");
    if (!canonical.ok()) return Usage(std::string(canonical.status().message()));
    local_domains.insert(*std::move(canonical));
  }
  Lookup lookup(
      [&](const std::string& domain) {
        v1::ResolvePolicyRequest request;
        request.set_domain(domain);
        request.set_port(static_cast<uint32_t>(port));
        return api::RemoteResolvePolicy(*channel, remote.timeout, request);
      },
      [&](absl::string_view pem) -> absl::StatusOr<std::string> {
        absl::StatusOr<std::string> path = (*anchors)->Store(pem);
        if (!path.ok()) return path.status();
        return path->substr(postfix_chroot.size());  // as smtp(8) sees it
      },
      [&](const std::string& host, const std::string& sni) {
        const absl::Time start = absl::Now();
        absl::StatusOr<tlsa::DerChain> chain = smtp::FetchStartTlsChain(host, sni, probe);
        const absl::Duration latency = absl::Now() - start;
        metrics.RecordChainFetch(chain.ok(), latency);
        common::Log(chain.ok() ? "info" : "warning", "chain fetch",
                    {{"host", host},
                     {"result", chain.ok() ? absl::StrCat(chain->size(), " certificates")
                                           : std::string(chain.status().message())},
                     {"latency_ms", absl::StrCat(absl::ToDoubleMilliseconds(latency))}});
        return chain;
      },
      std::move(local_domains));
  std::atomic<bool> validator_ready{false};
  std::unique_ptr<api::ChannelWatcher> watcher =
      api::ChannelWatcher::Start(*channel, [&](grpc_connectivity_state state) {
        validator_ready = state == GRPC_CHANNEL_READY;
        common::Log(state == GRPC_CHANNEL_TRANSIENT_FAILURE ? "warning" : "info",
                    "validator connection",
                    {{"server", remote.server}, {"state", api::ConnectivityStateName(state)}});
      });
  EximLookup exim(
      [&](const v1::ResolvePolicyRequest& request) {
        return api::RemoteResolvePolicy(*channel, remote.timeout, request);
      },
      [&](const v1::VerifyPeerRequest& request) {
        return api::RemoteVerifyPeer(*channel, remote.timeout, request);
      });
  auto handler = [&lookup, &exim, &metrics](absl::string_view request) {
    const absl::Time start = absl::Now();
    const absl::string_view map = request.substr(0, request.find(' '));
    MapReply reply = map == kEximPolicyMap || map == kEximVerifyMap
                         ? exim.Answer(map, request.substr(std::min(request.size(), map.size() + 1)))
                         : lookup.Answer(request);
    metrics.Record(request, reply, absl::Now() - start);
    std::string payload = reply.Payload();
    common::Log("info", "lookup",
                {{"request", std::string(request.substr(0, 300))},
                 {"reply", payload.substr(0, 300)},
                 {"reason", reply.reason},
                 {"latency_ms", absl::StrCat(absl::ToDoubleMilliseconds(absl::Now() - start))}});
    return payload;
  };
  absl::StatusOr<std::unique_ptr<SocketmapServer>> server =
      SocketmapServer::Listen(listen, options, handler);
  if (absl::IsUnavailable(server.status())) {  // the address is in use
    std::cerr << "danegate-agent: cannot listen (another process has the address): "
              << server.status().message() << "\n";
    return kExitUnavailable;
  }
  if (!server.ok()) return Usage(std::string(server.status().message()));

  std::unique_ptr<common::MetricsHttpServer> metrics_http;
  if (!metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<common::MetricsHttpServer>> started =
        common::MetricsHttpServer::Start(
            metrics_listen, [&] { return metrics.Render((*server)->open_connections(), validator_ready); });
    if (!started.ok()) return Usage(std::string(started.status().message()));
    metrics_http = *std::move(started);
  }

  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    common::Log("info", "stopping", {{"signal", std::to_string(signal_number)}});
    (*server)->Stop();
  });
  common::Log("info", "listening",
              {{"address", (*server)->address()},
               {"server", remote.server},
               {"metrics_port", metrics_http ? std::to_string(metrics_http->port()) : ""}});
  (*server)->Serve();
  stopper.join();
  common::Log("info", "stopped");
  return 0;
}

}  // namespace
}  // namespace danegate::agent

int main(int argc, char** argv) {
  try {
    return danegate::agent::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "danegate-agent: internal error: " << e.what() << "\n";
    return 70;
  }
}
