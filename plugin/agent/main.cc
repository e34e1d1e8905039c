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
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <variant>
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
#include "service/common/log.h"
#include "service/common/metrics_http.h"
#include "service/common/stop_signals.h"
#include "service/common/version.h"
#include "service/dns/name.h"
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

// What the flags say, checked.
struct AgentConfig {
  std::string listen;
  api::RemoteOptions remote;
  std::string ta_dir = "/var/lib/danegate-postfix/ta";
  std::string postfix_chroot;
  std::string metrics_listen;
  size_t ta_files = 1000;
  size_t smtp_port = 25;
  size_t socket_mode = 0666;
  SocketmapOptions socketmap;
  smtp::FetchOptions probe;
  std::vector<std::string> local_domains;
};

// Parses the flags: the configuration, or an exit status (help, version,
// or a usage error, said on stderr).
std::variant<AgentConfig, int> ParseFlags(int argc, char** argv) {
  AgentConfig c;
  c.remote.timeout = absl::Seconds(2);
  c.probe.helo_name = HostName();
  c.socketmap.max_connections = 256;
  // An exim_verify request carries a whole chain in base64.
  c.socketmap.max_request = kMaxEximChain * ((kMaxEximCertificate + 2) / 3 * 4 + 1) + 1024;
  common::FlagSet flags;
  flags.String("listen", &c.listen, "ADDR", "unix:/PATH, 127.0.0.1:PORT or [::1]:PORT (required)");
  flags.String("server", &c.remote.server, "HOST:PORT", "the danegated to ask (required)");
  flags.String("tls-ca", &c.remote.ca_file, "FILE", "CA certificates (PEM) that verify the server");
  flags.String("tls-cert", &c.remote.cert_file, "FILE", "client certificate (PEM), mutual TLS");
  flags.String("tls-key", &c.remote.key_file, "FILE", "private key of --tls-cert (PEM)");
  flags.String("tls-server-name", &c.remote.server_name, "NAME",
               "name expected in the server's certificate");
  flags.Duration("tls-reload-interval", &c.remote.tls_reload_interval, absl::Seconds(1),
                 absl::Hours(24),
                 "how often the --tls-* files are read again; renewed ones are used for new "
                 "connections without a restart (default 60s)");
  flags.Duration("timeout", &c.remote.timeout, absl::Milliseconds(1), absl::Minutes(1),
                 "deadline of each question (default 2s)");
  flags.String("ta-dir", &c.ta_dir, "DIR",
               "where DANE-TA trust-anchor files are written; its ta-* files belong to "
               "danegate-postfix and are removed at start (default /var/lib/danegate-postfix/ta)");
  flags.String("postfix-chroot", &c.postfix_chroot, "DIR",
               "smtp(8) runs chrooted to DIR: --ta-dir must be inside, paths are given relative");
  flags.String("metrics-listen", &c.metrics_listen, "ADDR:PORT",
               "serve Prometheus metrics at http://ADDR:PORT/metrics (default off)");
  flags.Count("ta-files", &c.ta_files, 1, 1000000, "at most N trust-anchor files (default 1000)");
  flags.Count("max-connections", &c.socketmap.max_connections, 1, 10000,
              "concurrent MTA connections (default 256)");
  flags.Count("smtp-port", &c.smtp_port, 1, 65535, "SMTP port of the TLSA lookups (default 25)");
  flags.Count("socket-mode", &c.socket_mode, 0, 0777, "unix socket permissions (default 0666)", 8);
  flags.Duration("probe-timeout", &c.probe.timeout, absl::Milliseconds(1), absl::Minutes(5),
                 "for a dane host with only digest DANE-TA records: deadline of the STARTTLS "
                 "connection that fetches its chain to find the trust anchors (default 10s)");
  flags.String("helo-name", &c.probe.helo_name, "NAME",
               "EHLO name of that connection (default: hostname)");
  flags.Repeated("local-domain", &c.local_domains, "DOMAIN",
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
  if (c.listen.empty()) return Usage("--listen is required");
  if (c.remote.server.empty()) return Usage("--server is required");
  if (absl::Status helo = smtp::CheckHeloName("--helo-name", c.probe.helo_name); !helo.ok()) {
    return Usage(std::string(helo.message()));
  }
  c.socketmap.socket_mode = static_cast<unsigned>(c.socket_mode);
  c.probe.port = static_cast<uint16_t>(c.smtp_port);
  while (c.postfix_chroot.size() > 1 && c.postfix_chroot.back() == '/') c.postfix_chroot.pop_back();
  if (!c.postfix_chroot.empty() && !absl::StartsWith(c.ta_dir, c.postfix_chroot + "/")) {
    return Usage("--ta-dir must be inside --postfix-chroot");
  }
  return c;
}

int Main(int argc, char** argv) {
  sigset_t stop_signals = common::BlockStopSignals();
  std::variant<AgentConfig, int> parsed = ParseFlags(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  AgentConfig& c = std::get<AgentConfig>(parsed);
  const api::RemoteOptions& remote = c.remote;
  const smtp::FetchOptions& probe = c.probe;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = api::ConnectValidator(remote);
  if (!channel.ok()) return Usage(std::string(channel.status().message()));
  AgentMetrics metrics;
  absl::StatusOr<std::unique_ptr<TrustAnchorFiles>> anchors =
      TrustAnchorFiles::Open(c.ta_dir, c.ta_files);
  if (!anchors.ok()) return Usage(std::string(anchors.status().message()));

  absl::flat_hash_set<std::string> local_domains;
  for (const std::string& domain : c.local_domains) {
    absl::StatusOr<std::string> canonical = dns::CanonicalMailName(domain, "--local-domain");
    if (!canonical.ok()) return Usage(std::string(canonical.status().message()));
    local_domains.insert(*std::move(canonical));
  }
  Lookup lookup(
      [&](const std::string& domain) {
        v1::ResolvePolicyRequest request;
        request.set_domain(domain);
        request.set_port(static_cast<uint32_t>(c.smtp_port));
        return api::RemoteResolvePolicy(*channel, remote.timeout, request);
      },
      [&](absl::string_view pem) -> absl::StatusOr<std::string> {
        absl::StatusOr<std::string> path = (*anchors)->Store(pem);
        if (!path.ok()) return path.status();
        return path->substr(c.postfix_chroot.size());  // as smtp(8) sees it
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
    MapReply reply =
        map == kEximPolicyMap || map == kEximVerifyMap
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
      SocketmapServer::Listen(c.listen, c.socketmap, handler);
  if (absl::IsUnavailable(server.status())) {  // the address is in use
    std::cerr << "danegate-agent: cannot listen (another process has the address): "
              << server.status().message() << "\n";
    return kExitUnavailable;
  }
  if (!server.ok()) return Usage(std::string(server.status().message()));

  std::unique_ptr<common::MetricsHttpServer> metrics_http;
  if (!c.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<common::MetricsHttpServer>> started =
        common::MetricsHttpServer::Start(c.metrics_listen, [&] {
          return metrics.Render((*server)->open_connections(), validator_ready);
        });
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
